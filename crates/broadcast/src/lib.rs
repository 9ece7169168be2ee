//! Live video at the edge: sockets, tasks, timers and files around the sans-IO core in
//! `hawker-media`.
//!
//! ```text
//!  RTMP socket ─▶ rtmp_server (one task per publisher)
//!  WHIP (hawker-rtc) ─▶ Ingest (the same key check and life cycle, frames pushed in)
//!                    │ authorise key ─▶ PublishAuthority (the app: storage, shows)
//!                    ▼
//!               LiveStream (per channel) ── Packager ─▶ LiveWindow ─▶ LL-HLS readers (HTTP)
//!                    │                                  └──────────▶ feed subscribers (WebSocket)
//!                    └─▶ Recorder (a writer task per show: init, segments, VOD playlist)
//! ```
//!
//! A channel has at most one publisher at a time. When the publisher leaves, the stream waits
//! out a grace period; a publisher that comes back within it continues the same show (after an
//! EXT-X-DISCONTINUITY), otherwise the show ends and its recording is finalised.

mod authority;
mod ingest;
mod live;
pub mod publisher;
mod recorder;
mod registry;
mod rtmp_server;
mod stats;

pub use authority::{PublishAuthority, PublishGrant, Refusal, ShowEnd};
pub use ingest::Ingest;
pub use live::{FeedItem, FeedStart, LiveStream, PlaylistError, StreamStatus};
pub use recorder::{finalize_abandoned_recording, RecordingSummary};
pub use registry::{BroadcastConfig, Broadcaster};
pub use stats::IngestStats;

#[derive(Debug, thiserror::Error)]
pub enum BroadcastError {
    #[error("cannot listen for RTMP on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("recording: {0}")]
    Recording(#[from] std::io::Error),
}
