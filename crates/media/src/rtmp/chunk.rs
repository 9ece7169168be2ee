//! The RTMP chunk stream: messages cut into chunks, interleaved by chunk-stream id, with headers
//! compressed against the previous chunk of the same chunk stream.

use super::RtmpError;
use bytes::{Buf, BufMut, Bytes, BytesMut};
use std::collections::HashMap;

/// A reassembled RTMP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub csid: u32,
    pub type_id: u8,
    pub stream_id: u32,
    /// Milliseconds, as sent (wraps at 2^32).
    pub timestamp: u32,
    pub payload: Bytes,
}

pub const DEFAULT_CHUNK_SIZE: u32 = 128;
/// RTMP caps chunk size at 0xFFFFFF; it must also be positive.
pub const MAX_CHUNK_SIZE: u32 = 0x00FF_FFFF;

/// Limits that keep a hostile or broken peer from taking more than its share of memory.
#[derive(Debug, Clone, Copy)]
pub struct ChunkLimits {
    /// Largest message accepted (a keyframe of a high-bitrate 4K stream fits comfortably).
    pub max_message_bytes: u32,
    /// Chunk streams that may have a message in progress at once.
    pub max_open_streams: usize,
    /// Bytes held in unfinished messages across all chunk streams.
    pub max_pending_bytes: usize,
}

impl Default for ChunkLimits {
    fn default() -> Self {
        ChunkLimits {
            max_message_bytes: 16 * 1024 * 1024,
            max_open_streams: 64,
            max_pending_bytes: 32 * 1024 * 1024,
        }
    }
}

/// What the last header on a chunk stream said; later headers on it are deltas against this.
#[derive(Debug, Default, Clone, Copy)]
struct Header {
    timestamp: u32,
    timestamp_delta: u32,
    length: u32,
    type_id: u8,
    stream_id: u32,
    /// Whether the last header on this chunk stream carried an extended timestamp; a type-3
    /// chunk then carries one too.
    extended: bool,
    /// At least one header was seen, so type 1–3 chunks have something to refer to.
    initialised: bool,
}

#[derive(Debug, Default)]
struct StreamState {
    header: Header,
    /// Payload of the message in progress; empty between messages.
    partial: BytesMut,
    in_progress: bool,
}

/// Turns received bytes into messages. Feed bytes in, pull messages out.
#[derive(Debug)]
pub struct ChunkDecoder {
    buf: BytesMut,
    chunk_size: u32,
    streams: HashMap<u32, StreamState>,
    limits: ChunkLimits,
    pending_bytes: usize,
}

impl ChunkDecoder {
    pub fn new(limits: ChunkLimits) -> Self {
        ChunkDecoder {
            buf: BytesMut::new(),
            chunk_size: DEFAULT_CHUNK_SIZE,
            streams: HashMap::new(),
            limits,
            pending_bytes: 0,
        }
    }

    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    pub fn set_chunk_size(&mut self, size: u32) -> Result<(), RtmpError> {
        if size == 0 || size > MAX_CHUNK_SIZE {
            return Err(RtmpError::Protocol(format!("invalid chunk size {size}")));
        }
        self.chunk_size = size;
        Ok(())
    }

    /// Discards the message in progress on `csid` (the Abort message).
    pub fn abort(&mut self, csid: u32) {
        if let Some(s) = self.streams.get_mut(&csid) {
            self.pending_bytes -= s.partial.len();
            s.partial.clear();
            s.in_progress = false;
        }
    }

    /// The next complete message, `Ok(None)` when more bytes are needed.
    pub fn next_message(&mut self) -> Result<Option<Message>, RtmpError> {
        loop {
            match self.next_chunk()? {
                ChunkOutcome::NeedMore => return Ok(None),
                ChunkOutcome::Partial => continue,
                ChunkOutcome::Complete(m) => return Ok(Some(m)),
            }
        }
    }

    fn next_chunk(&mut self) -> Result<ChunkOutcome, RtmpError> {
        let b = &self.buf[..];
        let Some(&b0) = b.first() else {
            return Ok(ChunkOutcome::NeedMore);
        };
        let fmt = b0 >> 6;
        let (csid, mut pos) = match b0 & 0x3f {
            0 => match b.get(1) {
                Some(&x) => (64 + x as u32, 2),
                None => return Ok(ChunkOutcome::NeedMore),
            },
            1 => match (b.get(1), b.get(2)) {
                (Some(&x), Some(&y)) => (64 + x as u32 + ((y as u32) << 8), 3),
                _ => return Ok(ChunkOutcome::NeedMore),
            },
            n => (n as u32, 1),
        };
        let header_len = [11usize, 7, 3, 0][fmt as usize];
        if b.len() < pos + header_len {
            return Ok(ChunkOutcome::NeedMore);
        }
        if !self.streams.contains_key(&csid) && self.streams.len() >= self.limits.max_open_streams {
            // Forget idle chunk streams before refusing: a peer may legitimately cycle csids.
            self.streams.retain(|_, s| s.in_progress);
            if self.streams.len() >= self.limits.max_open_streams {
                return Err(RtmpError::Protocol("too many chunk streams".into()));
            }
        }
        let (prev, in_progress, have) = match self.streams.get(&csid) {
            Some(s) => (s.header, s.in_progress, s.partial.len() as u32),
            None => (Header::default(), false, 0),
        };
        if fmt != 0 && !prev.initialised {
            return Err(RtmpError::Protocol(format!(
                "chunk stream {csid} starts with a type-{fmt} header"
            )));
        }
        let u24 = |s: &[u8]| ((s[0] as u32) << 16) | ((s[1] as u32) << 8) | s[2] as u32;
        let h = &b[pos..pos + header_len];
        let mut st = prev;
        let ts_field = match fmt {
            0 => {
                st.length = u24(&h[3..6]);
                st.type_id = h[6];
                st.stream_id = u32::from_le_bytes([h[7], h[8], h[9], h[10]]);
                Some(u24(&h[0..3]))
            }
            1 => {
                st.length = u24(&h[3..6]);
                st.type_id = h[6];
                Some(u24(&h[0..3]))
            }
            2 => Some(u24(&h[0..3])),
            _ => None,
        };
        pos += header_len;
        let extended = match ts_field {
            Some(f) => f == 0x00FF_FFFF,
            None => prev.extended,
        };
        let ext_value = if extended {
            match b.get(pos..pos + 4) {
                Some(e) => {
                    pos += 4;
                    Some(u32::from_be_bytes([e[0], e[1], e[2], e[3]]))
                }
                None => return Ok(ChunkOutcome::NeedMore),
            }
        } else {
            None
        };
        let starts_message = !in_progress;
        if fmt != 3 && in_progress {
            return Err(RtmpError::Protocol(format!(
                "type-{fmt} header on chunk stream {csid} interrupts an unfinished message"
            )));
        }
        if starts_message {
            let field = ext_value.or(ts_field);
            match fmt {
                0 => {
                    st.timestamp = field.unwrap_or(0);
                    st.timestamp_delta = 0;
                }
                1 | 2 => {
                    let d = field.unwrap_or(0);
                    st.timestamp_delta = d;
                    st.timestamp = prev.timestamp.wrapping_add(d);
                }
                _ => {
                    // A new message with a type-3 header repeats the previous delta.
                    st.timestamp = prev.timestamp.wrapping_add(prev.timestamp_delta);
                }
            }
            if st.length > self.limits.max_message_bytes {
                return Err(RtmpError::Protocol(format!(
                    "message of {} bytes exceeds the limit of {}",
                    st.length, self.limits.max_message_bytes
                )));
            }
        }
        st.extended = extended;
        let want = (st.length - have).min(self.chunk_size) as usize;
        if b.len() < pos + want {
            return Ok(ChunkOutcome::NeedMore);
        }
        let completes = have as usize + want == st.length as usize;
        if !completes && self.pending_bytes + want > self.limits.max_pending_bytes {
            return Err(RtmpError::Protocol(
                "too many bytes in unfinished messages".into(),
            ));
        }
        // The chunk is complete: consume it.
        self.buf.advance(pos);
        let data = self.buf.split_to(want);
        st.initialised = true;
        let state = self.streams.entry(csid).or_default();
        state.header = st;
        let payload = if completes && state.partial.is_empty() {
            // The whole message in one chunk: no copy.
            data.freeze()
        } else {
            if state.partial.is_empty() {
                state.partial.reserve((st.length as usize).min(64 * 1024));
            }
            state.partial.extend_from_slice(&data);
            if !completes {
                self.pending_bytes += want;
                state.in_progress = true;
                return Ok(ChunkOutcome::Partial);
            }
            self.pending_bytes -= have as usize;
            std::mem::take(&mut state.partial).freeze()
        };
        state.in_progress = false;
        Ok(ChunkOutcome::Complete(Message {
            csid,
            type_id: st.type_id,
            stream_id: st.stream_id,
            timestamp: st.timestamp,
            payload,
        }))
    }
}

enum ChunkOutcome {
    NeedMore,
    Partial,
    Complete(Message),
}

/// Cuts outgoing messages into chunks. Always uses a type-0 header for a message's first chunk
/// and type 3 for the rest: simple, and every peer accepts it; header compression saves little
/// on the few messages a server sends.
#[derive(Debug)]
pub struct ChunkEncoder {
    chunk_size: u32,
}

impl Default for ChunkEncoder {
    fn default() -> Self {
        ChunkEncoder {
            chunk_size: DEFAULT_CHUNK_SIZE,
        }
    }
}

impl ChunkEncoder {
    pub fn chunk_size(&self) -> u32 {
        self.chunk_size
    }

    /// Takes effect for messages written after the SetChunkSize message itself.
    pub fn set_chunk_size(&mut self, size: u32) {
        self.chunk_size = size.clamp(1, MAX_CHUNK_SIZE);
    }

    pub fn write(&self, m: &Message, out: &mut BytesMut) {
        let extended = m.timestamp >= 0x00FF_FFFF;
        let ts_field = if extended { 0x00FF_FFFF } else { m.timestamp };
        let write_basic = |fmt: u8, out: &mut BytesMut| match m.csid {
            2..=63 => out.put_u8((fmt << 6) | m.csid as u8),
            64..=319 => {
                out.put_u8(fmt << 6);
                out.put_u8((m.csid - 64) as u8);
            }
            _ => {
                out.put_u8((fmt << 6) | 1);
                out.put_u16_le((m.csid - 64) as u16);
            }
        };
        write_basic(0, out);
        out.put_uint(ts_field as u64, 3);
        out.put_uint(m.payload.len() as u64, 3);
        out.put_u8(m.type_id);
        out.put_u32_le(m.stream_id);
        if extended {
            out.put_u32(m.timestamp);
        }
        let mut rest = &m.payload[..];
        let mut first = true;
        while first || !rest.is_empty() {
            if !first {
                write_basic(3, out);
                if extended {
                    out.put_u32(m.timestamp);
                }
            }
            first = false;
            let n = rest.len().min(self.chunk_size as usize);
            out.put_slice(&rest[..n]);
            rest = &rest[n..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn msg(csid: u32, ts: u32, len: usize) -> Message {
        Message {
            csid,
            type_id: 9,
            stream_id: 1,
            timestamp: ts,
            payload: Bytes::from((0..len).map(|i| i as u8).collect::<Vec<_>>()),
        }
    }

    proptest! {
        #[test]
        fn encoder_and_decoder_agree(
            lens in prop::collection::vec(0usize..5000, 1..8),
            chunk in 1u32..5000,
            csid in prop_oneof![2u32..64, 64u32..320, 320u32..65599],
            big_ts in any::<bool>(),
            split in 1usize..700,
        ) {
            let mut enc = ChunkEncoder::default();
            enc.set_chunk_size(chunk);
            let mut dec = ChunkDecoder::new(ChunkLimits::default());
            dec.set_chunk_size(chunk).unwrap();
            let msgs: Vec<_> = lens.iter().enumerate()
                .map(|(i, &l)| msg(csid, if big_ts { 0x0100_0000 + i as u32 } else { i as u32 * 33 }, l))
                .collect();
            let mut wire = BytesMut::new();
            for m in &msgs { enc.write(m, &mut wire); }
            let mut got = Vec::new();
            for piece in wire.chunks(split) {
                dec.push(piece);
                while let Some(m) = dec.next_message().unwrap() { got.push(m); }
            }
            prop_assert_eq!(got, msgs);
        }

        #[test]
        fn garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..2048), chunk in 1u32..300) {
            let mut dec = ChunkDecoder::new(ChunkLimits { max_message_bytes: 4096, max_open_streams: 4, max_pending_bytes: 8192 });
            dec.set_chunk_size(chunk).unwrap();
            dec.push(&bytes);
            while let Ok(Some(_)) = dec.next_message() {}
        }
    }

    #[test]
    fn compressed_headers_carry_timestamp_deltas() {
        // fmt0 at ts 1000, then fmt2 delta 40, then fmt3 new message (repeats delta 40).
        let mut wire = vec![0x04, 0x00, 0x03, 0xE8, 0, 0, 2, 9, 1, 0, 0, 0, 0xAA, 0xBB];
        wire.extend_from_slice(&[0x84, 0x00, 0x00, 0x28, 0xCC, 0xDD]);
        wire.extend_from_slice(&[0xC4, 0xEE, 0xFF]);
        let mut dec = ChunkDecoder::new(ChunkLimits::default());
        dec.push(&wire);
        let ts: Vec<u32> = std::iter::from_fn(|| dec.next_message().unwrap())
            .map(|m| m.timestamp)
            .collect();
        assert_eq!(ts, vec![1000, 1040, 1080]);
    }

    #[test]
    fn oversized_message_is_refused() {
        let mut dec = ChunkDecoder::new(ChunkLimits {
            max_message_bytes: 100,
            ..Default::default()
        });
        dec.push(&[0x04, 0, 0, 0, 0, 0x10, 0, 9, 1, 0, 0, 0]);
        assert!(dec.next_message().is_err());
    }

    #[test]
    fn type3_first_is_refused() {
        let mut dec = ChunkDecoder::new(ChunkLimits::default());
        dec.push(&[0xC5, 1, 2, 3]);
        assert!(dec.next_message().is_err());
    }
}
