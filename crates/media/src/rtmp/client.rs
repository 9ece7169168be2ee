//! The publisher half of an RTMP connection: what OBS or ffmpeg do when they go live.

use super::*;
use crate::rtmp::handshake::{self, HANDSHAKE_SIZE, RTMP_VERSION};
use std::collections::VecDeque;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// The server accepted the publish; media may be sent now.
    Publishing { stream_id: u32 },
    /// The server refused (`_error` or an error-level onStatus).
    Rejected { code: String, description: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    AwaitS0S1S2,
    AwaitConnectResult,
    AwaitCreateStreamResult,
    AwaitPublishStatus,
    Publishing,
    Rejected,
}

const TXN_CONNECT: f64 = 1.0;
const TXN_CREATE_STREAM: f64 = 4.0;

#[derive(Debug)]
pub struct ClientSession {
    phase: Phase,
    handshake_buf: Vec<u8>,
    decoder: ChunkDecoder,
    out: Outbox,
    acks: AckCounter,
    events: VecDeque<ClientEvent>,
    app: String,
    tc_url: String,
    stream_name: String,
    stream_id: u32,
}

impl ClientSession {
    /// Starts a publish of `stream_name` to `tc_url` (`rtmp://host:port/app`). The handshake's
    /// first bytes are ready in [`Self::take_output`] at once.
    pub fn new(app: &str, tc_url: &str, stream_name: &str, seed: u64) -> Self {
        let mut out = Outbox::default();
        out.send_raw(&[RTMP_VERSION]);
        out.send_raw(&handshake::packet(0, seed));
        ClientSession {
            phase: Phase::AwaitS0S1S2,
            handshake_buf: Vec::with_capacity(1 + 2 * HANDSHAKE_SIZE),
            decoder: ChunkDecoder::new(ChunkLimits::default()),
            out,
            acks: AckCounter::new(0),
            events: VecDeque::new(),
            app: app.to_string(),
            tc_url: tc_url.to_string(),
            stream_name: stream_name.to_string(),
            stream_id: 0,
        }
    }

    pub fn take_output(&mut self) -> Option<Bytes> {
        self.out.take()
    }

    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    pub fn is_publishing(&self) -> bool {
        self.phase == Phase::Publishing
    }

    pub fn handle_input(&mut self, mut data: &[u8]) -> Result<(), RtmpError> {
        if let Some(ack) = self.acks.on_bytes(data.len()) {
            self.out.send(&ack);
        }
        if self.phase == Phase::AwaitS0S1S2 {
            let need = 1 + 2 * HANDSHAKE_SIZE;
            let n = (need - self.handshake_buf.len()).min(data.len());
            self.handshake_buf.extend_from_slice(&data[..n]);
            data = &data[n..];
            if self.handshake_buf.len() < need {
                return Ok(());
            }
            if self.handshake_buf[0] != RTMP_VERSION {
                return Err(RtmpError::Handshake(format!(
                    "server answered with version {}",
                    self.handshake_buf[0]
                )));
            }
            let s1 = self.handshake_buf[1..1 + HANDSHAKE_SIZE].to_vec();
            self.out.send_raw(&s1); // C2 echoes S1
            self.out.set_chunk_size(4096);
            self.out.send(&command(
                0,
                &[
                    Amf0Value::string("connect"),
                    Amf0Value::Number(TXN_CONNECT),
                    Amf0Value::object([
                        ("app", Amf0Value::string(self.app.clone())),
                        ("type", Amf0Value::string("nonprivate")),
                        (
                            "flashVer",
                            Amf0Value::string("FMLE/3.0 (compatible; Hawker)"),
                        ),
                        ("tcUrl", Amf0Value::string(self.tc_url.clone())),
                    ]),
                ],
            ));
            self.phase = Phase::AwaitConnectResult;
        }
        self.decoder.push(data);
        while let Some(m) = self.decoder.next_message()? {
            self.handle_message(m)?;
        }
        Ok(())
    }

    fn handle_message(&mut self, m: Message) -> Result<(), RtmpError> {
        match m.type_id {
            msg_type::SET_CHUNK_SIZE => {
                self.decoder
                    .set_chunk_size(read_u32(&m.payload)? & 0x7FFF_FFFF)?;
            }
            msg_type::WINDOW_ACK_SIZE => self.acks.window = read_u32(&m.payload)?,
            msg_type::USER_CONTROL
                if m.payload.len() >= 2
                    && u16::from_be_bytes([m.payload[0], m.payload[1]])
                        == USER_CONTROL_PING_REQUEST =>
            {
                self.out
                    .send(&user_control(USER_CONTROL_PING_RESPONSE, &m.payload[2..]));
            }
            msg_type::COMMAND_AMF0 | msg_type::COMMAND_AMF3 => {
                let v = decode_body(&m, "command")?;
                self.handle_command(v);
            }
            _ => {}
        }
        Ok(())
    }

    fn handle_command(&mut self, v: Vec<Amf0Value>) {
        let name = v.first().and_then(|x| x.as_str()).unwrap_or("");
        let txn = v.get(1).and_then(|x| x.as_number()).unwrap_or(0.0);
        let info = v.get(3);
        let info_str = |k: &str| {
            info.and_then(|i| i.get(k))
                .and_then(|x| x.as_str())
                .unwrap_or("")
                .to_string()
        };
        match (name, self.phase) {
            ("_result", Phase::AwaitConnectResult) if txn == TXN_CONNECT => {
                let s = Amf0Value::string(self.stream_name.clone());
                for (i, cmd) in ["releaseStream", "FCPublish"].iter().enumerate() {
                    self.out.send(&command(
                        0,
                        &[
                            Amf0Value::string(*cmd),
                            Amf0Value::Number(2.0 + i as f64),
                            Amf0Value::Null,
                            s.clone(),
                        ],
                    ));
                }
                self.out.send(&command(
                    0,
                    &[
                        Amf0Value::string("createStream"),
                        Amf0Value::Number(TXN_CREATE_STREAM),
                        Amf0Value::Null,
                    ],
                ));
                self.phase = Phase::AwaitCreateStreamResult;
            }
            ("_result", Phase::AwaitCreateStreamResult) if txn == TXN_CREATE_STREAM => {
                self.stream_id = v.get(3).and_then(|x| x.as_number()).unwrap_or(1.0) as u32;
                self.out.send(&command(
                    self.stream_id,
                    &[
                        Amf0Value::string("publish"),
                        Amf0Value::Number(5.0),
                        Amf0Value::Null,
                        Amf0Value::string(self.stream_name.clone()),
                        Amf0Value::string("live"),
                    ],
                ));
                self.phase = Phase::AwaitPublishStatus;
            }
            ("onStatus", _) if info_str("level") == "error" => self.reject(info),
            ("onStatus", Phase::AwaitPublishStatus)
                if info_str("code") == "NetStream.Publish.Start" =>
            {
                self.phase = Phase::Publishing;
                self.events.push_back(ClientEvent::Publishing {
                    stream_id: self.stream_id,
                });
            }
            ("_error", _) => self.reject(info),
            _ => {}
        }
    }

    fn reject(&mut self, info: Option<&Amf0Value>) {
        let s = |k: &str| {
            info.and_then(|i| i.get(k))
                .and_then(|x| x.as_str())
                .unwrap_or("")
                .to_string()
        };
        self.phase = Phase::Rejected;
        self.events.push_back(ClientEvent::Rejected {
            code: s("code"),
            description: s("description"),
        });
    }

    fn media(&mut self, type_id: u8, csid: u32, timestamp: u32, payload: Bytes) {
        self.out.send(&Message {
            csid,
            type_id,
            stream_id: self.stream_id,
            timestamp,
            payload,
        });
    }

    /// `@setDataFrame("onMetaData", metadata)`.
    pub fn send_metadata(&mut self, metadata: Amf0Value) {
        let body = amf0::encode_all(&[
            Amf0Value::string("@setDataFrame"),
            Amf0Value::string("onMetaData"),
            metadata,
        ]);
        self.media(msg_type::DATA_AMF0, csid::DATA, 0, Bytes::from(body));
    }

    /// An FLV audio tag body.
    pub fn send_audio(&mut self, timestamp: u32, body: Bytes) {
        self.media(msg_type::AUDIO, csid::AUDIO, timestamp, body);
    }

    /// An FLV video tag body.
    pub fn send_video(&mut self, timestamp: u32, body: Bytes) {
        self.media(msg_type::VIDEO, csid::VIDEO, timestamp, body);
    }

    /// Tells the server the publish is over (what OBS sends on "Stop Streaming").
    pub fn unpublish(&mut self) {
        let s = Amf0Value::string(self.stream_name.clone());
        self.out.send(&command(
            0,
            &[
                Amf0Value::string("FCUnpublish"),
                Amf0Value::Number(6.0),
                Amf0Value::Null,
                s,
            ],
        ));
        self.out.send(&command(
            0,
            &[
                Amf0Value::string("deleteStream"),
                Amf0Value::Number(7.0),
                Amf0Value::Null,
                Amf0Value::Number(self.stream_id as f64),
            ],
        ));
    }
}
