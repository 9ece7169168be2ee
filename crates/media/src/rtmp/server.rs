//! The server half of an RTMP connection, for publishers.

use super::*;
use crate::rtmp::handshake::{self, HANDSHAKE_SIZE};
use std::collections::VecDeque;

#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Application names a publisher may connect to (`rtmp://host/{app}/{key}`).
    pub apps: Vec<String>,
    /// How many bytes the peer may send before it should expect our acknowledgement.
    pub window_ack_size: u32,
    /// Chunk size we send with; large chunks cost fewer headers.
    pub out_chunk_size: u32,
    pub limits: ChunkLimits,
    /// Seed for handshake filler; pass something different per connection.
    pub seed: u64,
    /// Milliseconds since the server started, for the handshake's time field.
    pub epoch_ms: u32,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            apps: vec!["live".to_string()],
            window_ack_size: 2_500_000,
            out_chunk_size: 4096,
            limits: ChunkLimits::default(),
            seed: 0x9E37_79B9_7F4A_7C15,
            epoch_ms: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ServerEvent {
    Connected {
        app: String,
        tc_url: Option<String>,
        /// Enhanced-RTMP codecs the client announced (`fourCcList`), if any.
        four_cc_list: Vec<String>,
    },
    /// The publisher wants to publish `name` (the stream key, query string removed). Answer
    /// with [`ServerSession::accept_publish`] or [`ServerSession::reject_publish`]; no further
    /// input is processed until then.
    PublishRequested {
        stream_id: u32,
        app: String,
        name: String,
    },
    Metadata {
        stream_id: u32,
        metadata: Amf0Value,
    },
    Audio {
        stream_id: u32,
        timestamp: u32,
        data: Bytes,
    },
    Video {
        stream_id: u32,
        timestamp: u32,
        data: Bytes,
    },
    /// The publisher stopped (deleteStream, FCUnpublish or closeStream).
    Unpublished {
        stream_id: u32,
    },
}

/// Why a publish was refused; sent to the client as an error-level onStatus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishRejection {
    /// An RTMP status code such as `NetStream.Publish.BadName`.
    pub code: &'static str,
    pub description: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    AwaitC0C1,
    AwaitC2,
    Messages,
    /// A reply was sent that ends the connection; input is ignored.
    Closing,
}

#[derive(Debug)]
pub struct ServerSession {
    config: ServerConfig,
    phase: Phase,
    handshake_buf: Vec<u8>,
    decoder: ChunkDecoder,
    out: Outbox,
    acks: AckCounter,
    events: VecDeque<ServerEvent>,
    app: Option<String>,
    next_stream_id: u32,
    /// A PublishRequested event awaits the owner's decision.
    pending_publish: Option<u32>,
    publishing: Option<u32>,
    /// Messages split off an aggregate, waiting to be handled.
    queued: VecDeque<Message>,
}

impl ServerSession {
    pub fn new(config: ServerConfig) -> Self {
        let acks = AckCounter::new(config.window_ack_size);
        let decoder = ChunkDecoder::new(config.limits);
        ServerSession {
            config,
            phase: Phase::AwaitC0C1,
            handshake_buf: Vec::with_capacity(1 + HANDSHAKE_SIZE),
            decoder,
            out: Outbox::default(),
            acks,
            events: VecDeque::new(),
            app: None,
            next_stream_id: 1,
            pending_publish: None,
            publishing: None,
            queued: VecDeque::new(),
        }
    }

    /// Bytes to write to the peer, if any.
    pub fn take_output(&mut self) -> Option<Bytes> {
        self.out.take()
    }

    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    /// The connection should be closed once the output has been written.
    pub fn is_closing(&self) -> bool {
        self.phase == Phase::Closing
    }

    pub fn publishing_stream(&self) -> Option<u32> {
        self.publishing
    }

    /// Feeds received bytes (or nothing, to resume after a publish decision).
    pub fn handle_input(&mut self, mut data: &[u8]) -> Result<(), RtmpError> {
        if self.phase == Phase::Closing {
            return Ok(());
        }
        if let Some(ack) = self.acks.on_bytes(data.len()) {
            self.out.send(&ack);
        }
        while matches!(self.phase, Phase::AwaitC0C1 | Phase::AwaitC2) && !data.is_empty() {
            let need = match self.phase {
                Phase::AwaitC0C1 => 1 + HANDSHAKE_SIZE,
                _ => HANDSHAKE_SIZE,
            };
            let n = (need - self.handshake_buf.len()).min(data.len());
            self.handshake_buf.extend_from_slice(&data[..n]);
            data = &data[n..];
            if self.handshake_buf.len() == need {
                if self.phase == Phase::AwaitC0C1 {
                    let reply = handshake::server_reply(
                        &self.handshake_buf,
                        self.config.epoch_ms,
                        self.config.seed,
                    )?;
                    self.out.send_raw(&reply);
                    self.phase = Phase::AwaitC2;
                } else {
                    // C2 echoes S1; nothing in it needs checking for a plain handshake.
                    self.phase = Phase::Messages;
                }
                self.handshake_buf.clear();
            }
        }
        if self.phase != Phase::Messages {
            return Ok(());
        }
        self.decoder.push(data);
        self.drain()
    }

    fn drain(&mut self) -> Result<(), RtmpError> {
        while self.pending_publish.is_none() && self.phase == Phase::Messages {
            let m = match self.queued.pop_front() {
                Some(m) => m,
                None => match self.decoder.next_message()? {
                    Some(m) => m,
                    None => break,
                },
            };
            self.handle_message(m)?;
        }
        Ok(())
    }

    pub fn accept_publish(&mut self, stream_id: u32) -> Result<(), RtmpError> {
        if self.pending_publish != Some(stream_id) {
            return Err(RtmpError::Protocol(format!(
                "no publish pending on stream {stream_id}"
            )));
        }
        self.pending_publish = None;
        self.publishing = Some(stream_id);
        self.out.send(&user_control(
            USER_CONTROL_STREAM_BEGIN,
            &stream_id.to_be_bytes(),
        ));
        self.out.send(&on_status(
            stream_id,
            "status",
            "NetStream.Publish.Start",
            "Publishing started.",
        ));
        self.drain()
    }

    /// Refuses the publish; the connection is closed after the reply is written.
    pub fn reject_publish(&mut self, stream_id: u32, why: &PublishRejection) {
        self.pending_publish = None;
        self.out
            .send(&on_status(stream_id, "error", why.code, &why.description));
        self.phase = Phase::Closing;
    }

    /// Ends an accepted publish from our side (unsupported codec, stream cut by ops): an
    /// error-level onStatus, then the connection closes.
    pub fn abort_publish(&mut self, why: &PublishRejection) {
        let stream_id = self.publishing.take().unwrap_or(1);
        self.out
            .send(&on_status(stream_id, "error", why.code, &why.description));
        self.phase = Phase::Closing;
    }

    fn handle_message(&mut self, m: Message) -> Result<(), RtmpError> {
        match m.type_id {
            msg_type::SET_CHUNK_SIZE => {
                let size = read_u32(&m.payload)? & 0x7FFF_FFFF;
                self.decoder.set_chunk_size(size)?;
            }
            msg_type::ABORT => self.decoder.abort(read_u32(&m.payload)?),
            msg_type::ACKNOWLEDGEMENT | msg_type::SET_PEER_BANDWIDTH => {}
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
                let values = decode_body(&m, "command")?;
                self.handle_command(m.stream_id, values)?;
            }
            msg_type::DATA_AMF0 | msg_type::DATA_AMF3 if self.publishing == Some(m.stream_id) => {
                let values = decode_body(&m, "data message")?;
                if let Some(metadata) = metadata_of(values) {
                    self.events.push_back(ServerEvent::Metadata {
                        stream_id: m.stream_id,
                        metadata,
                    });
                }
            }
            // Media on a stream that is not publishing is dropped below, like any server does
            // with stray packets after an unpublish.
            msg_type::AUDIO | msg_type::VIDEO
                if self.publishing == Some(m.stream_id) && !m.payload.is_empty() =>
            {
                let ev = if m.type_id == msg_type::AUDIO {
                    ServerEvent::Audio {
                        stream_id: m.stream_id,
                        timestamp: m.timestamp,
                        data: m.payload,
                    }
                } else {
                    ServerEvent::Video {
                        stream_id: m.stream_id,
                        timestamp: m.timestamp,
                        data: m.payload,
                    }
                };
                self.events.push_back(ev);
            }
            msg_type::AGGREGATE => {
                let parts = split_aggregate(&m)?;
                for (i, p) in parts.into_iter().enumerate() {
                    self.queued.insert(i, p);
                }
            }
            _ => {} // Unknown types are skipped; the chunk layer already bounded their size.
        }
        Ok(())
    }

    fn handle_command(&mut self, stream_id: u32, values: Vec<Amf0Value>) -> Result<(), RtmpError> {
        let name = values.first().and_then(|v| v.as_str()).unwrap_or("");
        let txn = values.get(1).and_then(|v| v.as_number()).unwrap_or(0.0);
        let arg = |i: usize| values.get(i);
        match name {
            "connect" => {
                let obj = arg(2);
                let prop = |k: &str| {
                    obj.and_then(|o| o.get(k))
                        .and_then(|v| v.as_str())
                        .map(str::to_string)
                };
                // Some clients append the key or a query to the app: `live?token=..`.
                let app = prop("app")
                    .unwrap_or_default()
                    .split(['?', '/'])
                    .next()
                    .unwrap_or_default()
                    .to_string();
                if !self.config.apps.iter().any(|a| a == &app) {
                    self.out.send(&command(
                        0,
                        &[
                            Amf0Value::string("_error"),
                            Amf0Value::Number(txn),
                            Amf0Value::Null,
                            Amf0Value::object([
                                ("level", Amf0Value::string("error")),
                                ("code", Amf0Value::string("NetConnection.Connect.Rejected")),
                                (
                                    "description",
                                    Amf0Value::string(format!(
                                        "unknown application {app:?}; publish to rtmp://HOST/{}/STREAM_KEY",
                                        self.config.apps.first().map(String::as_str).unwrap_or("live")
                                    )),
                                ),
                            ]),
                        ],
                    ));
                    self.phase = Phase::Closing;
                    return Ok(());
                }
                let four_cc_list = match obj.and_then(|o| o.get("fourCcList")) {
                    Some(Amf0Value::StrictArray(items)) => items
                        .iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect(),
                    _ => Vec::new(),
                };
                self.out.send(&u32_message(
                    msg_type::WINDOW_ACK_SIZE,
                    self.config.window_ack_size,
                ));
                let mut bw = self.config.window_ack_size.to_be_bytes().to_vec();
                bw.push(2); // dynamic
                self.out.send(&control(msg_type::SET_PEER_BANDWIDTH, bw));
                self.out.set_chunk_size(self.config.out_chunk_size);
                let mut props = vec![
                    ("fmsVer".to_string(), Amf0Value::string("FMS/3,0,1,123")),
                    ("capabilities".to_string(), Amf0Value::Number(31.0)),
                ];
                if !four_cc_list.is_empty() {
                    // Enhanced RTMP: answer with the codecs we ingest.
                    props.push((
                        "fourCcList".to_string(),
                        Amf0Value::StrictArray(vec![
                            Amf0Value::string("avc1"),
                            Amf0Value::string("hvc1"),
                        ]),
                    ));
                }
                self.out.send(&command(
                    0,
                    &[
                        Amf0Value::string("_result"),
                        Amf0Value::Number(txn),
                        Amf0Value::Object(props),
                        Amf0Value::object([
                            ("level", Amf0Value::string("status")),
                            ("code", Amf0Value::string("NetConnection.Connect.Success")),
                            ("description", Amf0Value::string("Connection succeeded.")),
                            ("objectEncoding", Amf0Value::Number(0.0)),
                        ]),
                    ],
                ));
                self.events.push_back(ServerEvent::Connected {
                    app: app.clone(),
                    tc_url: prop("tcUrl"),
                    four_cc_list,
                });
                self.app = Some(app);
            }
            "releaseStream" | "FCPublish" | "getStreamLength" | "_checkbw" => {
                if name == "FCPublish" {
                    let stream = arg(3).and_then(|v| v.as_str()).unwrap_or("");
                    self.out.send(&command(
                        0,
                        &[
                            Amf0Value::string("onFCPublish"),
                            Amf0Value::Number(0.0),
                            Amf0Value::Null,
                            Amf0Value::object([
                                ("code", Amf0Value::string("NetStream.Publish.Start")),
                                ("description", Amf0Value::string(strip_query(stream))),
                            ]),
                        ],
                    ));
                }
                if txn != 0.0 {
                    self.out.send(&command(
                        0,
                        &[
                            Amf0Value::string("_result"),
                            Amf0Value::Number(txn),
                            Amf0Value::Null,
                            Amf0Value::Undefined,
                        ],
                    ));
                }
            }
            "createStream" => {
                let id = self.next_stream_id;
                self.next_stream_id = self.next_stream_id.saturating_add(1);
                self.out.send(&command(
                    0,
                    &[
                        Amf0Value::string("_result"),
                        Amf0Value::Number(txn),
                        Amf0Value::Null,
                        Amf0Value::Number(id as f64),
                    ],
                ));
            }
            "publish" => {
                let Some(app) = self.app.clone() else {
                    return Err(RtmpError::Protocol("publish before connect".into()));
                };
                let raw = arg(3).and_then(|v| v.as_str()).unwrap_or("");
                let key = strip_query(raw).to_string();
                if self.publishing.is_some() {
                    self.reject_publish(
                        stream_id,
                        &PublishRejection {
                            code: "NetStream.Publish.BadConnection",
                            description: "this connection is already publishing".into(),
                        },
                    );
                    return Ok(());
                }
                self.pending_publish = Some(stream_id);
                self.events.push_back(ServerEvent::PublishRequested {
                    stream_id,
                    app,
                    name: key,
                });
            }
            "FCUnpublish" | "deleteStream" | "closeStream" => {
                let target = if name == "deleteStream" {
                    arg(3).and_then(|v| v.as_number()).map(|n| n as u32)
                } else {
                    Some(stream_id).filter(|&s| s != 0).or(self.publishing)
                };
                if let (Some(p), Some(t)) = (self.publishing, target) {
                    if p == t || name == "FCUnpublish" {
                        self.publishing = None;
                        self.events
                            .push_back(ServerEvent::Unpublished { stream_id: p });
                    }
                }
            }
            "play" | "play2" => {
                self.out.send(&on_status(
                    stream_id,
                    "error",
                    "NetStream.Play.Failed",
                    "playback over RTMP is not offered; play the HLS URL",
                ));
                self.phase = Phase::Closing;
            }
            _ => {}
        }
        Ok(())
    }
}

fn strip_query(name: &str) -> &str {
    name.split('?').next().unwrap_or_default()
}

/// `@setDataFrame("onMetaData", {...})` or `onMetaData({...})` → the metadata object.
fn metadata_of(values: Vec<Amf0Value>) -> Option<Amf0Value> {
    let mut it = values.into_iter().peekable();
    if it.peek().and_then(|v| v.as_str()) == Some("@setDataFrame") {
        it.next();
    }
    if it.next()?.as_str()? != "onMetaData" {
        return None;
    }
    it.find(|v| matches!(v, Amf0Value::Object(_) | Amf0Value::EcmaArray(_)))
}
