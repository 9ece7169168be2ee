//! WebSocket framing (RFC 6455) for the server side, without I/O: client frames in (masked,
//! possibly fragmented), server frame headers out. Total: any bytes give a message, "need
//! more", or an error with the close code to send; never a panic.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    Text(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Pong,
    Close(Option<u16>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WsError {
    #[error("message larger than {0} bytes")]
    TooLarge(usize),
    #[error("protocol violation: {0}")]
    Protocol(&'static str),
    #[error("text is not UTF-8")]
    InvalidUtf8,
}

impl WsError {
    /// The close code RFC 6455 prescribes.
    pub fn close_code(&self) -> u16 {
        match self {
            WsError::TooLarge(_) => 1009,
            WsError::Protocol(_) => 1002,
            WsError::InvalidUtf8 => 1007,
        }
    }
}

pub const OP_CONTINUATION: u8 = 0x0;
pub const OP_TEXT: u8 = 0x1;
pub const OP_BINARY: u8 = 0x2;
pub const OP_CLOSE: u8 = 0x8;
pub const OP_PING: u8 = 0x9;
pub const OP_PONG: u8 = 0xA;

/// Reassembles client messages.
#[derive(Debug)]
pub struct Decoder {
    max_message: usize,
    /// A fragmented message in progress: its opcode and the payload so far.
    partial: Option<(u8, Vec<u8>)>,
}

impl Decoder {
    pub fn new(max_message: usize) -> Self {
        Decoder {
            max_message,
            partial: None,
        }
    }

    /// Decodes one frame from the front of `buf` and removes it. `Ok(None)`: more bytes
    /// needed (or a non-final fragment was absorbed).
    pub fn decode(&mut self, buf: &mut Vec<u8>) -> Result<Option<Incoming>, WsError> {
        if buf.len() < 2 {
            return Ok(None);
        }
        let (b0, b1) = (buf[0], buf[1]);
        let fin = b0 & 0x80 != 0;
        if b0 & 0x70 != 0 {
            return Err(WsError::Protocol("reserved bits set without an extension"));
        }
        let opcode = b0 & 0x0F;
        if b1 & 0x80 == 0 {
            return Err(WsError::Protocol("client frames must be masked"));
        }
        let (len, mut pos) = match b1 & 0x7F {
            126 => match buf.get(2..4) {
                Some(l) => (u16::from_be_bytes([l[0], l[1]]) as u64, 4),
                None => return Ok(None),
            },
            127 => match buf.get(2..10) {
                Some(l) => {
                    let mut a = [0u8; 8];
                    a.copy_from_slice(l);
                    let n = u64::from_be_bytes(a);
                    if n >> 63 != 0 {
                        return Err(WsError::Protocol("64-bit length with the top bit set"));
                    }
                    (n, 10)
                }
                None => return Ok(None),
            },
            n => (n as u64, 2),
        };
        let control = opcode & 0x8 != 0;
        if control && (!fin || len > 125) {
            return Err(WsError::Protocol(
                "control frames are short and unfragmented",
            ));
        }
        let so_far = self.partial.as_ref().map_or(0, |(_, p)| p.len()) as u64;
        if !control && len.saturating_add(so_far) > self.max_message as u64 {
            return Err(WsError::TooLarge(self.max_message));
        }
        let Some(mask) = buf.get(pos..pos + 4).map(|m| [m[0], m[1], m[2], m[3]]) else {
            return Ok(None);
        };
        pos += 4;
        let end = pos + len as usize;
        if buf.len() < end {
            return Ok(None);
        }
        let mut payload: Vec<u8> = buf[pos..end].to_vec();
        for (i, b) in payload.iter_mut().enumerate() {
            *b ^= mask[i % 4];
        }
        buf.drain(..end);
        match opcode {
            OP_PING => Ok(Some(Incoming::Ping(payload))),
            OP_PONG => Ok(Some(Incoming::Pong)),
            OP_CLOSE => {
                let code =
                    (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]));
                Ok(Some(Incoming::Close(code)))
            }
            OP_TEXT | OP_BINARY => {
                if self.partial.is_some() {
                    return Err(WsError::Protocol("a new message inside a fragmented one"));
                }
                if fin {
                    finish(opcode, payload).map(Some)
                } else {
                    self.partial = Some((opcode, payload));
                    Ok(None)
                }
            }
            OP_CONTINUATION => {
                let Some((op, mut so_far)) = self.partial.take() else {
                    return Err(WsError::Protocol("continuation without a message"));
                };
                so_far.extend_from_slice(&payload);
                if fin {
                    finish(op, so_far).map(Some)
                } else {
                    self.partial = Some((op, so_far));
                    Ok(None)
                }
            }
            _ => Err(WsError::Protocol("unknown opcode")),
        }
    }
}

fn finish(opcode: u8, payload: Vec<u8>) -> Result<Incoming, WsError> {
    if opcode == OP_TEXT {
        String::from_utf8(payload)
            .map(Incoming::Text)
            .map_err(|_| WsError::InvalidUtf8)
    } else {
        Ok(Incoming::Binary(payload))
    }
}

/// Header of an unmasked, final server frame: returns the bytes and their length.
pub fn header(opcode: u8, len: usize) -> ([u8; 10], usize) {
    let mut h = [0u8; 10];
    h[0] = 0x80 | opcode;
    if len < 126 {
        h[1] = len as u8;
        (h, 2)
    } else if len <= u16::MAX as usize {
        h[1] = 126;
        h[2..4].copy_from_slice(&(len as u16).to_be_bytes());
        (h, 4)
    } else {
        h[1] = 127;
        h[2..10].copy_from_slice(&(len as u64).to_be_bytes());
        (h, 10)
    }
}

/// A whole close frame: code and a reason cut to fit a control frame.
pub fn close_frame(code: u16, reason: &str) -> Vec<u8> {
    let mut r = reason.as_bytes();
    if r.len() > 123 {
        r = &r[..123];
        while std::str::from_utf8(r).is_err() {
            r = &r[..r.len() - 1];
        }
    }
    let (h, n) = header(OP_CLOSE, 2 + r.len());
    let mut out = h[..n].to_vec();
    out.extend_from_slice(&code.to_be_bytes());
    out.extend_from_slice(r);
    out
}

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`.
pub fn accept_key(key: &str) -> String {
    use base64::Engine;
    use sha1::{Digest, Sha1};
    let mut h = Sha1::new();
    h.update(key.trim().as_bytes());
    h.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    base64::engine::general_purpose::STANDARD.encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A client frame as a browser would send it.
    fn client_frame(fin: bool, opcode: u8, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
        let mut f = vec![(if fin { 0x80 } else { 0 }) | opcode];
        let n = payload.len();
        if n < 126 {
            f.push(0x80 | n as u8);
        } else if n <= 65535 {
            f.push(0x80 | 126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        } else {
            f.push(0x80 | 127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
        f.extend_from_slice(&mask);
        f.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        f
    }

    #[test]
    fn rfc_example_accept_key() {
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn decodes_masked_fragmented_text() {
        let mut d = Decoder::new(4096);
        let mut buf = client_frame(false, OP_TEXT, b"hel", [1, 2, 3, 4]);
        buf.extend(client_frame(true, OP_PING, b"p", [9, 9, 9, 9]));
        buf.extend(client_frame(true, OP_CONTINUATION, b"lo", [5, 6, 7, 8]));
        assert_eq!(d.decode(&mut buf), Ok(None));
        assert_eq!(d.decode(&mut buf), Ok(Some(Incoming::Ping(b"p".to_vec()))));
        assert_eq!(d.decode(&mut buf), Ok(Some(Incoming::Text("hello".into()))));
        assert!(buf.is_empty());
    }

    #[test]
    fn refuses_what_rfc_6455_forbids() {
        let cases: Vec<(Vec<u8>, u16)> = vec![
            (vec![0x81, 0x02, b'h', b'i'], 1002),               // unmasked
            (client_frame(true, 0x3, b"x", [0; 4]), 1002),      // unknown opcode
            (client_frame(false, OP_PING, b"x", [0; 4]), 1002), // fragmented control
            (client_frame(true, OP_TEXT, &[0xff, 0xfe], [1; 4]), 1007), // bad UTF-8
            (client_frame(true, OP_TEXT, &vec![b'a'; 5000], [1; 4]), 1009), // too large
            (client_frame(true, OP_CONTINUATION, b"x", [0; 4]), 1002), // stray continuation
            (
                {
                    let mut f = client_frame(true, OP_TEXT, b"x", [0; 4]);
                    f[0] |= 0x40;
                    f
                },
                1002,
            ),
        ];
        for (mut buf, code) in cases {
            let e = Decoder::new(4096).decode(&mut buf).unwrap_err();
            assert_eq!(e.close_code(), code, "{e}");
        }
    }

    #[test]
    fn a_huge_declared_length_is_refused_before_it_arrives() {
        let mut buf = vec![0x81, 0xFF, 0, 0, 0, 1, 0, 0, 0, 0];
        assert_eq!(
            Decoder::new(4096).decode(&mut buf),
            Err(WsError::TooLarge(4096))
        );
    }

    #[test]
    fn headers() {
        assert_eq!(header(OP_TEXT, 5).0[..2], [0x81, 5]);
        assert_eq!(header(OP_TEXT, 300).0[..4], [0x81, 126, 1, 44]);
        assert_eq!(header(OP_BINARY, 70_000).1, 10);
        let c = close_frame(4008, &"é".repeat(100));
        assert!(c.len() <= 2 + 125);
        assert_eq!(&c[2..4], &4008u16.to_be_bytes());
    }

    proptest! {
        #[test]
        fn any_bytes_in_any_pieces(bytes in prop::collection::vec(any::<u8>(), 0..600), cut in 1usize..64) {
            let mut d = Decoder::new(256);
            let mut buf = Vec::new();
            for piece in bytes.chunks(cut) {
                buf.extend_from_slice(piece);
                while let Ok(Some(_)) = d.decode(&mut buf) {}
            }
        }

        #[test]
        fn round_trips_split_anywhere(text in "\\PC{0,300}", mask in any::<[u8; 4]>(), cut in 1usize..50) {
            let frame = client_frame(true, OP_TEXT, text.as_bytes(), mask);
            let mut d = Decoder::new(4096);
            let mut buf = Vec::new();
            let mut got = None;
            for piece in frame.chunks(cut) {
                buf.extend_from_slice(piece);
                if let Some(m) = d.decode(&mut buf).unwrap() {
                    got = Some(m);
                }
            }
            prop_assert_eq!(got, Some(Incoming::Text(text)));
        }
    }
}
