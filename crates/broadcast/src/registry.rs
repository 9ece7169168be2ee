//! The registry of live streams, the publish/unpublish life cycle with its grace period, and
//! graceful shutdown.

use crate::authority::{PublishAuthority, PublishGrant, Refusal, ShowEnd};
use crate::live::LiveStream;
use crate::recorder::RecorderHandle;

use hawker_domain::{ChannelId, UnixMillis};
use hawker_media::cmaf::{Packager, PackagerConfig};
use hawker_media::hls::{LiveWindow, WindowConfig};
use parking_lot::{Mutex, RwLock};
use rand::Rng;
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

#[derive(Debug, Clone)]
pub struct BroadcastConfig {
    pub rtmp: SocketAddr,
    pub packager: PackagerConfig,
    pub window: WindowConfig,
    /// How long a show waits for its encoder to come back before it ends.
    pub grace: Duration,
    /// Where shows are recorded; None turns recording off.
    pub recordings: Option<PathBuf>,
    pub max_connections: usize,
    /// A publisher that sends nothing for this long is disconnected.
    pub idle_timeout: Duration,
    /// Threads that run the RTMP connections, each a single-threaded runtime of its own
    /// (connections are dealt out in turn), as nginx runs worker processes. One by default.
    pub ingest_threads: usize,
}

impl Default for BroadcastConfig {
    fn default() -> Self {
        BroadcastConfig {
            rtmp: SocketAddr::from(([127, 0, 0, 1], 1935)),
            packager: PackagerConfig::default(),
            window: WindowConfig::default(),
            grace: Duration::from_secs(30),
            recordings: None,
            max_connections: 1000,
            idle_timeout: Duration::from_secs(30),
            ingest_threads: 1,
        }
    }
}

pub(crate) struct Inner {
    pub(crate) config: BroadcastConfig,
    pub(crate) authority: Arc<dyn PublishAuthority>,
    streams: RwLock<HashMap<String, Arc<LiveStream>>>,
    /// Channels whose show is being opened right now (between authorisation and the stream's
    /// existence), so two encoders racing for one channel cannot both win.
    claiming: Mutex<HashSet<ChannelId>>,
    pub(crate) shutdown: CancellationToken,
    pub(crate) connections: TaskTracker,
    /// The runtime `listen` ran on: show timers and recorders live there, so they outlast
    /// an ingest thread and finish a show's recording at shutdown.
    pub(crate) main: std::sync::OnceLock<tokio::runtime::Handle>,
    /// The ingest threads' runtimes, and whose turn is next.
    pub(crate) ingest: std::sync::OnceLock<Vec<tokio::runtime::Handle>>,
    next_ingest: std::sync::atomic::AtomicUsize,
}

/// Live video's front door. Cheap to clone.
#[derive(Clone)]
pub struct Broadcaster {
    pub(crate) inner: Arc<Inner>,
}

impl Broadcaster {
    pub fn new(config: BroadcastConfig, authority: Arc<dyn PublishAuthority>) -> Self {
        Broadcaster {
            inner: Arc::new(Inner {
                config,
                authority,
                streams: RwLock::new(HashMap::new()),
                claiming: Mutex::new(HashSet::new()),
                shutdown: CancellationToken::new(),
                connections: TaskTracker::new(),
                main: std::sync::OnceLock::new(),
                ingest: std::sync::OnceLock::new(),
                next_ingest: std::sync::atomic::AtomicUsize::new(0),
            }),
        }
    }

    pub fn config(&self) -> &BroadcastConfig {
        &self.inner.config
    }

    /// The ingest runtime for the next connection (the current one before `listen`).
    pub(crate) fn ingest_runtime(&self) -> tokio::runtime::Handle {
        match self.inner.ingest.get() {
            Some(h) if !h.is_empty() => {
                let i = self
                    .inner
                    .next_ingest
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                h[i % h.len()].clone()
            }
            _ => tokio::runtime::Handle::current(),
        }
    }

    /// The runtime `listen` ran on (the current one before it).
    pub(crate) fn main_runtime(&self) -> tokio::runtime::Handle {
        self.inner
            .main
            .get()
            .cloned()
            .unwrap_or_else(tokio::runtime::Handle::current)
    }

    pub fn stream(&self, slug: &str) -> Option<Arc<LiveStream>> {
        self.inner.streams.read().get(slug).cloned()
    }

    /// Drops the publisher of a live stream now (a stream cut or a suspension); the show then
    /// ends after its grace period unless the publisher is allowed back.
    pub fn cut(&self, slug: &str) -> bool {
        match self.stream(slug) {
            Some(s) => {
                s.cuts.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
                tracing::warn!(slug, "live stream cut");
                true
            }
            None => false,
        }
    }

    pub fn streams(&self) -> Vec<Arc<LiveStream>> {
        self.inner.streams.read().values().cloned().collect()
    }

    /// Authorised publisher wants to go live: resume the show in its grace period, or open a
    /// new one.
    pub(crate) async fn begin_publish(
        &self,
        grant: &PublishGrant,
    ) -> Result<Arc<LiveStream>, Refusal> {
        if self.inner.shutdown.is_cancelled() {
            return Err(Refusal::ShuttingDown);
        }
        if let Some(s) = self.stream(&grant.slug) {
            if s.publishing.swap(true, Ordering::AcqRel) {
                return Err(Refusal::AlreadyLive);
            }
            if !s.is_ended() {
                s.publisher_returned();
                return Ok(s);
            }
            // Finished between the lookup and now: open a new show.
            s.publishing.store(false, Ordering::Release);
        }
        if !self.inner.claiming.lock().insert(grant.channel) {
            return Err(Refusal::AlreadyLive);
        }
        let result = self.open_stream(grant).await;
        self.inner.claiming.lock().remove(&grant.channel);
        result
    }

    async fn open_stream(&self, grant: &PublishGrant) -> Result<Arc<LiveStream>, Refusal> {
        let show = self.inner.authority.start_show(grant).await?;
        let cfg = &self.inner.config;
        let recorder = match &cfg.recordings {
            Some(root) => {
                match RecorderHandle::start(root.join(show.0.to_string()), &self.main_runtime()) {
                    Ok(r) => Some(r),
                    Err(e) => {
                        tracing::error!(error = %e, "cannot create the recording directory; streaming without recording");
                        None
                    }
                }
            }
            None => None,
        };
        let session = format!("{:x}", rand::thread_rng().gen::<u64>());
        let stream = Arc::new(LiveStream::new(
            grant.channel,
            grant.slug.clone(),
            show,
            Packager::new(cfg.packager),
            LiveWindow::new(cfg.window, session),
            recorder,
        ));
        metrics::gauge!("hawker_publishers").increment(1.0);
        metrics::gauge!("hawker_live_streams").increment(1.0);
        let previous = self
            .inner
            .streams
            .write()
            .insert(grant.slug.clone(), stream.clone());
        if let Some(old) = previous {
            // An ended stream still listed; its show was already closed by its grace timer.
            debug_assert!(old.is_ended());
        }
        Ok(stream)
    }

    /// The publisher left: flush, then end the show unless it comes back within the grace
    /// period.
    pub(crate) fn end_publish(&self, stream: Arc<LiveStream>) {
        stream.publisher_left(UnixMillis::now().0);
        if self.inner.shutdown.is_cancelled() {
            return; // shutdown() finishes every stream itself
        }
        let generation = stream.generation.load(Ordering::Acquire);
        let me = self.clone();
        let grace = self.inner.config.grace;
        self.main_runtime().spawn(async move {
            tokio::select! {
                _ = tokio::time::sleep(grace) => {}
                _ = me.inner.shutdown.cancelled() => return,
            }
            if stream.generation.load(Ordering::Acquire) == generation
                && !stream.publishing.load(Ordering::Acquire)
            {
                me.finish_stream(&stream).await;
            }
        });
    }

    async fn finish_stream(&self, stream: &Arc<LiveStream>) {
        {
            let mut map = self.inner.streams.write();
            if map
                .get(&stream.slug)
                .is_some_and(|s| Arc::ptr_eq(s, stream))
            {
                map.remove(&stream.slug);
            }
        }
        let recording = stream.finish().await;
        metrics::gauge!("hawker_live_streams").decrement(1.0);
        tracing::info!(channel = %stream.slug, show = %stream.show, "show ended");
        self.inner
            .authority
            .end_show(ShowEnd {
                channel: stream.channel,
                show: stream.show,
                recording,
            })
            .await;
    }

    /// Ends `slug`'s show now, without waiting out the grace period, once its publisher has
    /// left (within two seconds); false when it is not live or its publisher stays.
    pub async fn end_now(&self, slug: &str) -> bool {
        let Some(stream) = self.stream(slug) else {
            return false;
        };
        for _ in 0..40 {
            if !stream.publishing.load(Ordering::Acquire) {
                // The grace timer finds a newer generation and leaves the show alone.
                stream.generation.fetch_add(1, Ordering::AcqRel);
                self.finish_stream(&stream).await;
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    /// Stops taking publishers, closes the segments in flight, finalises every recording and
    /// ends every show. Returns when all of that is on disk and reported.
    pub async fn shutdown(&self) {
        self.inner.shutdown.cancel();
        self.inner.connections.close();
        self.inner.connections.wait().await;
        for s in self.streams() {
            self.finish_stream(&s).await;
        }
    }
}
