//! The plain RTMP handshake (C0/C1/C2, S0/S1/S2). Publishers do not require the digest variant
//! that Flash Player used for playback, so neither side here computes one.

use super::RtmpError;
use bytes::{BufMut, BytesMut};

pub const HANDSHAKE_SIZE: usize = 1536;
pub const RTMP_VERSION: u8 = 3;

/// A 1536-byte handshake packet: time, zero (or version), then filler that the peer echoes.
pub fn packet(time: u32, seed: u64) -> Vec<u8> {
    let mut p = Vec::with_capacity(HANDSHAKE_SIZE);
    p.put_u32(time);
    p.put_u32(0);
    // Cheap pseudo-random filler: its only job is to be echoed back.
    let mut x = seed | 1;
    while p.len() < HANDSHAKE_SIZE {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p.put_u8(x as u8);
    }
    p
}

/// Server side: C0+C1 in, S0+S1+S2 out.
pub fn server_reply(c0c1: &[u8], time: u32, seed: u64) -> Result<BytesMut, RtmpError> {
    let version = c0c1[0];
    if version != RTMP_VERSION {
        return Err(RtmpError::Handshake(format!(
            "client asked for version {version}; only plain RTMP (3) is offered"
        )));
    }
    let c1 = &c0c1[1..1 + HANDSHAKE_SIZE];
    let mut out = BytesMut::with_capacity(1 + 2 * HANDSHAKE_SIZE);
    out.put_u8(RTMP_VERSION);
    out.put_slice(&packet(time, seed));
    out.put_slice(c1); // S2 echoes C1
    Ok(out)
}
