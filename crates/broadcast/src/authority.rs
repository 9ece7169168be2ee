//! What the broadcast layer asks of the application: may this key publish, and what to do
//! when a show starts and ends. Implemented by the binary over storage; tests implement it
//! in memory.

use hawker_domain::{ChannelId, ShowId};
use std::net::SocketAddr;

/// Permission to publish on a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishGrant {
    pub channel: ChannelId,
    pub slug: String,
}

/// Why a publish is refused. Each maps to an RTMP status code and a log line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("unknown stream key")]
    UnknownKey,
    #[error("the channel is already live from another encoder")]
    AlreadyLive,
    #[error("not allowed to broadcast: {0}")]
    NotAllowed(String),
    #[error("server is shutting down")]
    ShuttingDown,
    #[error("internal error: {0}")]
    Internal(String),
}

impl Refusal {
    pub fn rtmp_code(&self) -> &'static str {
        match self {
            Refusal::UnknownKey | Refusal::AlreadyLive => "NetStream.Publish.BadName",
            Refusal::NotAllowed(_) => "NetStream.Publish.Denied",
            Refusal::ShuttingDown | Refusal::Internal(_) => "NetStream.Publish.Failed",
        }
    }
    pub fn metric_label(&self) -> &'static str {
        match self {
            Refusal::UnknownKey => "unknown_key",
            Refusal::AlreadyLive => "already_live",
            Refusal::NotAllowed(_) => "not_allowed",
            Refusal::ShuttingDown => "shutting_down",
            Refusal::Internal(_) => "internal",
        }
    }
}

/// How a show ended, for the application to persist.
#[derive(Debug, Clone)]
pub struct ShowEnd {
    pub channel: ChannelId,
    pub show: ShowId,
    pub recording: Option<crate::RecordingSummary>,
}

#[async_trait::async_trait]
pub trait PublishAuthority: Send + Sync + 'static {
    /// Checks a stream key presented by `peer`.
    async fn authorize(&self, key: &str, peer: SocketAddr) -> Result<PublishGrant, Refusal>;
    /// The first frame of a new show is about to be accepted: open the show (a scheduled one
    /// of the channel, or a new one) and return its id.
    async fn start_show(&self, grant: &PublishGrant) -> Result<ShowId, Refusal>;
    /// The grace period passed without a publisher, or the server is shutting down.
    async fn end_show(&self, end: ShowEnd);
}
