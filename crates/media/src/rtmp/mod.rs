//! RTMP as publishers speak it (OBS, ffmpeg, phone apps), as sans-IO state machines: bytes in,
//! bytes and events out. [`ServerSession`] accepts a publisher; [`ClientSession`] is a publisher
//! (the demo's built-in encoder loop and the benchmarks use it).
//!
//! Spec: Adobe RTMP 1.0 (2012) with the enhanced-RTMP v1 additions for HEVC/AV1 FourCCs.

mod chunk;
mod client;
mod handshake;
mod server;

pub use chunk::{ChunkDecoder, ChunkEncoder, ChunkLimits, Message, DEFAULT_CHUNK_SIZE};
pub use client::{ClientEvent, ClientSession};
pub use handshake::HANDSHAKE_SIZE;
pub use server::{PublishRejection, ServerConfig, ServerEvent, ServerSession};

use crate::amf0::{self, Amf0Error, Amf0Value};
use bytes::{BufMut, Bytes, BytesMut};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RtmpError {
    #[error("handshake: {0}")]
    Handshake(String),
    #[error("protocol: {0}")]
    Protocol(String),
    #[error("bad AMF0 in {context}: {source}")]
    Amf {
        context: &'static str,
        source: Amf0Error,
    },
}

/// Message type ids (RTMP 1.0 §5.4, §7.1).
pub mod msg_type {
    pub const SET_CHUNK_SIZE: u8 = 1;
    pub const ABORT: u8 = 2;
    pub const ACKNOWLEDGEMENT: u8 = 3;
    pub const USER_CONTROL: u8 = 4;
    pub const WINDOW_ACK_SIZE: u8 = 5;
    pub const SET_PEER_BANDWIDTH: u8 = 6;
    pub const AUDIO: u8 = 8;
    pub const VIDEO: u8 = 9;
    pub const DATA_AMF3: u8 = 15;
    pub const COMMAND_AMF3: u8 = 17;
    pub const DATA_AMF0: u8 = 18;
    pub const COMMAND_AMF0: u8 = 20;
    pub const AGGREGATE: u8 = 22;
}

/// Chunk stream ids we send on. Any id works; these are the conventional ones.
mod csid {
    pub const CONTROL: u32 = 2;
    pub const COMMAND: u32 = 3;
    pub const AUDIO: u32 = 4;
    pub const VIDEO: u32 = 6;
    pub const DATA: u32 = 5;
}

const USER_CONTROL_STREAM_BEGIN: u16 = 0;
const USER_CONTROL_PING_REQUEST: u16 = 6;
const USER_CONTROL_PING_RESPONSE: u16 = 7;

fn control(type_id: u8, payload: Vec<u8>) -> Message {
    Message {
        csid: csid::CONTROL,
        type_id,
        stream_id: 0,
        timestamp: 0,
        payload: Bytes::from(payload),
    }
}

fn u32_message(type_id: u8, v: u32) -> Message {
    control(type_id, v.to_be_bytes().to_vec())
}

fn user_control(event: u16, data: &[u8]) -> Message {
    let mut p = event.to_be_bytes().to_vec();
    p.extend_from_slice(data);
    control(msg_type::USER_CONTROL, p)
}

fn command(stream_id: u32, values: &[Amf0Value]) -> Message {
    Message {
        csid: csid::COMMAND,
        type_id: msg_type::COMMAND_AMF0,
        stream_id,
        timestamp: 0,
        payload: Bytes::from(amf0::encode_all(values)),
    }
}

/// An `onStatus` message, the reply to publish/play and friends.
fn on_status(stream_id: u32, level: &str, code: &str, description: &str) -> Message {
    command(
        stream_id,
        &[
            Amf0Value::string("onStatus"),
            Amf0Value::Number(0.0),
            Amf0Value::Null,
            Amf0Value::object([
                ("level", Amf0Value::string(level)),
                ("code", Amf0Value::string(code)),
                ("description", Amf0Value::string(description)),
            ]),
        ],
    )
}

/// Decodes a command or data message body to AMF0 values. AMF3-typed messages (17, 15) start
/// with a format byte and then carry AMF0 in practice.
fn decode_body(m: &Message, context: &'static str) -> Result<Vec<Amf0Value>, RtmpError> {
    let body = match m.type_id {
        msg_type::COMMAND_AMF3 | msg_type::DATA_AMF3 => m.payload.get(1..).unwrap_or(&[]),
        _ => &m.payload[..],
    };
    amf0::decode_all(body).map_err(|source| RtmpError::Amf { context, source })
}

fn read_u32(payload: &[u8]) -> Result<u32, RtmpError> {
    payload
        .get(..4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| RtmpError::Protocol("control message too short".into()))
}

/// Counts received bytes and says when an Acknowledgement is due.
#[derive(Debug)]
struct AckCounter {
    received: u64,
    last_ack: u64,
    window: u32,
}

impl AckCounter {
    fn new(window: u32) -> Self {
        AckCounter {
            received: 0,
            last_ack: 0,
            window,
        }
    }
    fn on_bytes(&mut self, n: usize) -> Option<Message> {
        self.received += n as u64;
        if self.window > 0 && self.received - self.last_ack >= self.window as u64 {
            self.last_ack = self.received;
            // The sequence number is the byte count so far, modulo 2^32.
            return Some(u32_message(msg_type::ACKNOWLEDGEMENT, self.received as u32));
        }
        None
    }
}

/// Outgoing bytes and the chunk encoder that produces them.
#[derive(Debug, Default)]
struct Outbox {
    enc: ChunkEncoder,
    buf: BytesMut,
}

impl Outbox {
    fn send(&mut self, m: &Message) {
        self.enc.write(m, &mut self.buf);
    }
    fn send_raw(&mut self, bytes: &[u8]) {
        self.buf.put_slice(bytes);
    }
    /// Sends SetChunkSize and switches to it for everything after.
    fn set_chunk_size(&mut self, size: u32) {
        self.send(&u32_message(msg_type::SET_CHUNK_SIZE, size));
        self.enc.set_chunk_size(size);
    }
    fn take(&mut self) -> Option<Bytes> {
        (!self.buf.is_empty()).then(|| self.buf.split().freeze())
    }
}

/// Splits an aggregate message (type 22) into its FLV-tag-shaped sub-messages, re-basing their
/// timestamps on the aggregate's own.
fn split_aggregate(m: &Message) -> Result<Vec<Message>, RtmpError> {
    let p = &m.payload;
    let mut out = Vec::new();
    let mut pos = 0usize;
    let mut first_ts: Option<u32> = None;
    while pos < p.len() {
        let h = p
            .get(pos..pos + 11)
            .ok_or_else(|| RtmpError::Protocol("aggregate sub-message header truncated".into()))?;
        let type_id = h[0];
        let size = ((h[1] as usize) << 16) | ((h[2] as usize) << 8) | h[3] as usize;
        let ts = ((h[7] as u32) << 24) | ((h[4] as u32) << 16) | ((h[5] as u32) << 8) | h[6] as u32;
        let body_start = pos + 11;
        let body_end = body_start
            .checked_add(size)
            .filter(|&e| e <= p.len())
            .ok_or_else(|| RtmpError::Protocol("aggregate sub-message body truncated".into()))?;
        let base = *first_ts.get_or_insert(ts);
        out.push(Message {
            csid: m.csid,
            type_id,
            stream_id: m.stream_id,
            timestamp: m.timestamp.wrapping_add(ts.wrapping_sub(base)),
            payload: m.payload.slice(body_start..body_end),
        });
        // Each sub-message is followed by a 4-byte back pointer.
        pos = body_end + 4;
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
