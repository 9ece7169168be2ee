//! Hawker's media core, without I/O: everything between the bytes a publisher sends and the
//! bytes a player fetches is a plain function or state machine here, tested without sockets.
//!
//! ```text
//!  TCP bytes ─▶ rtmp::ServerSession ─▶ flv::parse_{video,audio} ─▶ cmaf::Packager ─▶ hls::LiveWindow
//!                (handshake, chunks,     (FLV tag bodies,          (fMP4 init + one     (segments, parts,
//!                 AMF0 commands)          codec configs)            chunk per frame)     LL-HLS playlist)
//! ```

pub mod amf0;
mod bits;
pub mod cmaf;
pub mod codec;
pub mod flv;
pub mod fmp4;
pub mod hls;
pub mod rtmp;
