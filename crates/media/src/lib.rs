//! Hawker's media core, without I/O: everything between the bytes a publisher sends and the
//! bytes a player fetches is a plain function or state machine here, tested without sockets.
//!
//! ```text
//!  TCP bytes ─▶ rtmp::ServerSession ─▶ flv::parse_{video,audio} ─▶ cmaf::Packager ─▶ hls::LiveWindow
//!                (handshake, chunks,     (FLV tag bodies,          (fMP4 init + one     (segments, parts,
//!                 AMF0 commands)          codec configs)            chunk per frame)     LL-HLS playlist)
//!  WebRTC frames ─▶ annexb::AvcAssembler (H.264 Annex B → avcC + lengths; Opus as is) ─▶ cmaf::Packager
//! ```

pub mod amf0;
pub mod annexb;
mod bits;
pub mod cmaf;
pub mod codec;
pub mod flv;
pub mod fmp4;
pub mod hls;
pub mod rtmp;
