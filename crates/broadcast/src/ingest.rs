//! Going live through a transport other than the RTMP listener (WebRTC's WHIP, in `hawker-rtc`):
//! the same key check, the same one-publisher rule and grace period, the same packager. The
//! handle ends the publish when dropped, as a closed RTMP connection does.

use crate::authority::{PublishGrant, Refusal};
use crate::live::LiveStream;
use crate::registry::Broadcaster;
use bytes::Bytes;
use hawker_domain::{ShowId, UnixMillis};
use hawker_media::codec::{AudioConfig, VideoConfig};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// A publisher's hold on its live stream. Frames pushed here become the show's LL-HLS,
/// recording and feed, exactly as RTMP frames do.
pub struct Ingest {
    broadcaster: Broadcaster,
    stream: Arc<LiveStream>,
    cuts_before: u64,
}

impl Broadcaster {
    /// Checks `key` (presented by `peer`) as the RTMP listener does, without claiming anything
    /// yet: a transport can refuse a bad key before it spends work on the session.
    pub async fn authorize(&self, key: &str, peer: SocketAddr) -> Result<PublishGrant, Refusal> {
        self.inner.authority.authorize(key, peer).await
    }

    /// Claims the granted channel: the show in its grace period continues, or a new one opens.
    pub async fn start_ingest(&self, grant: &PublishGrant) -> Result<Ingest, Refusal> {
        let stream = self.begin_publish(grant).await?;
        let cuts_before = stream.cuts.load(Ordering::Acquire);
        Ok(Ingest {
            broadcaster: self.clone(),
            stream,
            cuts_before,
        })
    }
}

impl Ingest {
    pub fn slug(&self) -> &str {
        &self.stream.slug
    }

    pub fn show(&self) -> ShowId {
        self.stream.show
    }

    pub fn stream(&self) -> &Arc<LiveStream> {
        &self.stream
    }

    /// The platform cut this stream since the publish began (a sanction): drop the publisher.
    pub fn is_cut(&self) -> bool {
        self.stream.cuts.load(Ordering::Acquire) != self.cuts_before
    }

    pub fn video_config(&self, cfg: VideoConfig) {
        self.stream.set_video_config(cfg);
    }

    pub fn audio_config(&self, cfg: AudioConfig) {
        self.stream.set_audio_config(cfg);
    }

    /// One access unit, lengths-prefixed as the configuration says; `ts_ms` on the publisher's
    /// clock (32-bit milliseconds, wrapping as FLV's does). `wire_bytes` counts towards the
    /// ingest bitrate.
    pub fn push_video(&self, ts_ms: u32, keyframe: bool, data: Bytes, wire_bytes: usize) {
        self.stream.on_bytes(wire_bytes);
        self.stream.on_video_frame(keyframe, ts_ms);
        let arrived = UnixMillis::now().0;
        self.stream
            .ingest(|p| p.push_video(ts_ms, 0, keyframe, data, arrived));
    }

    pub fn push_audio(&self, ts_ms: u32, data: Bytes) {
        self.stream.on_bytes(data.len());
        let arrived = UnixMillis::now().0;
        self.stream.ingest(|p| p.push_audio(ts_ms, data, arrived));
    }
}

impl Drop for Ingest {
    fn drop(&mut self) {
        tracing::info!(show = %self.stream.show, channel = %self.stream.slug, "publisher left");
        self.broadcaster.end_publish(self.stream.clone());
    }
}
