//! One channel's live stream: the packager and LL-HLS window of its current show, the readers
//! waiting on it, and the feed of the low-latency web player.

use crate::recorder::RecorderHandle;
use crate::stats::{IngestStats, StatsMeter};
use bytes::Bytes;
use hawker_domain::{ChannelId, ShowId};
use hawker_media::cmaf::{Packager, PackagerEvent};
use hawker_media::codec::{AudioConfig, VideoConfig};
use hawker_media::hls::{LiveWindow, PartRead, PlaylistQuery, Readiness, WindowChange};
use parking_lot::{Mutex, RwLock};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, watch};

/// What the web player's feed carries, in order.
#[derive(Debug, Clone)]
pub enum FeedItem {
    /// A new init segment: (re)create the SourceBuffer for `codecs`.
    Init { bytes: Bytes, codecs: String },
    /// One CMAF chunk; `arrived_ms` is when its frame reached the server (0 if unknown).
    Chunk {
        bytes: Bytes,
        independent: bool,
        decode_time: u64,
        arrived_ms: i64,
    },
    /// The show ended.
    Ended,
}

/// Where a new feed subscriber starts: the init segment and the chunks since the last
/// keyframe, then live items from `rx`, with no gap and no repeat between the two.
pub struct FeedStart {
    pub init: Option<FeedItem>,
    pub backlog: Vec<FeedItem>,
    pub rx: broadcast::Receiver<FeedItem>,
    pub ended: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaylistError {
    /// `_HLS_msn` more than two segments ahead: 400.
    TooFarAhead,
    /// Not satisfiable within three target durations: 503.
    Timeout,
}

/// Public state of the stream for pages and APIs.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StreamStatus {
    pub slug: String,
    pub show: ShowId,
    /// An encoder is connected right now (false during the grace period).
    pub publishing: bool,
    pub ended: bool,
    pub codecs: Option<String>,
    pub session: String,
    pub uptime_s: u64,
}

const FEED_CAPACITY: usize = 1024;

pub struct LiveStream {
    pub channel: ChannelId,
    pub slug: String,
    pub show: ShowId,
    started: Instant,
    packager: Mutex<Packager>,
    window: RwLock<LiveWindow>,
    stats: Mutex<StatsMeter>,
    feed: broadcast::Sender<FeedItem>,
    /// Bumped when a part completes or the stream ends: wakes blocked playlist requests.
    parts_done: watch::Sender<u64>,
    /// Bumped on every appended chunk: wakes readers of the part in progress.
    appended: watch::Sender<u64>,
    pub(crate) publishing: AtomicBool,
    /// Incremented by every publish and unpublish, so a grace timer knows if it is stale.
    pub(crate) generation: AtomicU64,
    recorder: Option<RecorderHandle>,
    /// Counts stream cuts by ops: the publishing connection compares it after every read
    /// and drops itself when it moved (an encoder sends every few milliseconds, so that is at
    /// once, without a waiter registered per read).
    pub(crate) cuts: AtomicU64,
}

impl LiveStream {
    pub(crate) fn new(
        channel: ChannelId,
        slug: String,
        show: ShowId,
        packager: Packager,
        window: LiveWindow,
        recorder: Option<RecorderHandle>,
    ) -> Self {
        LiveStream {
            channel,
            slug,
            show,
            started: Instant::now(),
            packager: Mutex::new(packager),
            window: RwLock::new(window),
            stats: Mutex::new(StatsMeter::new()),
            feed: broadcast::channel(FEED_CAPACITY).0,
            parts_done: watch::channel(0).0,
            appended: watch::channel(0).0,
            publishing: AtomicBool::new(true),
            generation: AtomicU64::new(0),
            recorder,
            cuts: AtomicU64::new(0),
        }
    }

    pub fn session(&self) -> String {
        self.window.read().session().to_string()
    }

    pub fn status(&self) -> StreamStatus {
        let w = self.window.read();
        StreamStatus {
            slug: self.slug.clone(),
            show: self.show,
            publishing: self.publishing.load(Ordering::Acquire),
            ended: w.is_ended(),
            codecs: w.current_init().map(|i| i.tracks.codecs()),
            session: w.session().to_string(),
            uptime_s: self.started.elapsed().as_secs(),
        }
    }

    pub fn ingest_stats(&self) -> IngestStats {
        let target = self.window.read().config().segment_target_ms as f64 / 1000.0;
        self.stats.lock().snapshot(Instant::now(), target)
    }

    pub(crate) fn on_bytes(&self, n: usize) {
        self.stats.lock().on_bytes(Instant::now(), n);
    }

    /// `timestamp_ms` is the encoder's (FLV) timestamp.
    pub(crate) fn on_video_frame(&self, keyframe: bool, timestamp_ms: u32) {
        self.stats
            .lock()
            .on_video_frame(Instant::now(), keyframe, timestamp_ms as u64 * 90);
    }

    pub(crate) fn set_video_config(&self, cfg: VideoConfig) {
        {
            let mut s = self.stats.lock();
            s.snapshot_codecs.0 = Some(cfg.codec_string.clone());
            s.snapshot_codecs.2 = cfg.width;
            s.snapshot_codecs.3 = cfg.height;
        }
        self.packager.lock().video_config(cfg);
    }

    pub(crate) fn set_audio_config(&self, cfg: AudioConfig) {
        {
            let mut s = self.stats.lock();
            s.snapshot_codecs.1 = Some(cfg.codec_string.clone());
            s.snapshot_codecs.4 = cfg.sample_rate;
        }
        self.packager.lock().audio_config(cfg);
    }

    /// Runs `f` on the packager and publishes what it produced.
    pub(crate) fn ingest(&self, f: impl FnOnce(&mut Packager)) {
        let mut p = self.packager.lock();
        f(&mut p);
        while let Some(ev) = p.poll_event() {
            self.publish_event(ev);
        }
    }

    fn publish_event(&self, ev: PackagerEvent) {
        let feed_item = match &ev {
            PackagerEvent::Init(i) => Some(FeedItem::Init {
                bytes: i.bytes.clone(),
                codecs: i.tracks.codecs(),
            }),
            PackagerEvent::Chunk(c) => Some(FeedItem::Chunk {
                bytes: c.bytes.clone(),
                independent: c.independent,
                decode_time: c.decode_time,
                arrived_ms: c.arrived_ms,
            }),
            PackagerEvent::End { .. } => None,
        };
        if let (Some(rec), PackagerEvent::Init(i)) = (&self.recorder, &ev) {
            rec.init(i.version, i.bytes.clone(), i.tracks.codecs());
        }
        // Window and feed change under the same lock, so a feed subscriber that snapshots
        // under it sees every chunk exactly once.
        let mut w = self.window.write();
        let changes = w.apply(ev);
        if let Some(item) = feed_item {
            let _ = self.feed.send(item);
        }
        self.after_changes(&w, &changes);
    }

    fn after_changes(&self, w: &LiveWindow, changes: &[WindowChange]) {
        let mut part_done = false;
        for c in changes {
            match c {
                WindowChange::PartCompleted { .. } | WindowChange::Ended => part_done = true,
                WindowChange::SegmentCompleted { msn } => {
                    if let (Some(rec), Some(seg)) = (&self.recorder, w.segment(*msn)) {
                        rec.segment(seg);
                    }
                }
                _ => {}
            }
        }
        if part_done {
            self.parts_done.send_modify(|v| *v += 1);
        }
        if !changes.is_empty() {
            self.appended.send_modify(|v| *v += 1);
        }
    }

    /// The encoder disconnected: close the open part and segment now, so the last seconds
    /// are playable and recorded during the grace period.
    pub(crate) fn publisher_left(&self, now_ms: i64) {
        self.publishing.store(false, Ordering::Release);
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.ingest(|p| p.end(now_ms));
        metrics::gauge!("hawker_publishers").decrement(1.0);
    }

    /// A publisher claimed the stream again (its `publishing` flag is already set).
    pub(crate) fn publisher_returned(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        metrics::gauge!("hawker_publishers").increment(1.0);
    }

    /// The show is over: ENDLIST, waiters released, recording finalised.
    pub(crate) async fn finish(&self) -> Option<crate::RecordingSummary> {
        {
            let mut w = self.window.write();
            let changes = w.finish();
            let _ = self.feed.send(FeedItem::Ended);
            self.after_changes(&w, &changes);
        }
        match &self.recorder {
            Some(r) => r.finish().await,
            None => None,
        }
    }

    pub fn is_ended(&self) -> bool {
        self.window.read().is_ended()
    }

    pub fn target_duration(&self) -> Duration {
        Duration::from_secs(self.window.read().target_duration())
    }

    /// The media playlist, blocking per `_HLS_msn`/`_HLS_part` for up to three target
    /// durations.
    pub async fn playlist(&self, q: PlaylistQuery) -> Result<String, PlaylistError> {
        // An empty live playlist helps no player: the first request waits for the first part.
        let (msn, part) = match q.msn {
            Some(m) => (m, q.part),
            None => {
                let w = self.window.read();
                if w.latest_complete().is_some() || w.is_ended() {
                    return Ok(w.render(q.skip));
                }
                let first = w.segments().next().map_or(0, |s| s.msn);
                (first, Some(0))
            }
        };
        let deadline = tokio::time::Instant::now() + 3 * self.target_duration();
        let mut rx = self.parts_done.subscribe();
        loop {
            {
                let w = self.window.read();
                match w.readiness(msn, part) {
                    Readiness::Ready => return Ok(w.render(q.skip)),
                    Readiness::TooFarAhead => return Err(PlaylistError::TooFarAhead),
                    Readiness::Wait => {}
                }
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => {}
                _ => return Err(PlaylistError::Timeout),
            }
        }
    }

    pub fn init_segment(&self, version: u32) -> Option<Bytes> {
        self.window.read().init(version).map(|i| i.bytes.clone())
    }

    /// A complete segment's chunks.
    pub fn segment(&self, msn: u64) -> Option<Vec<Bytes>> {
        let w = self.window.read();
        w.segment(msn)
            .filter(|s| s.is_complete())
            .map(|s| s.chunks().cloned().collect())
    }

    /// Whether part `number` exists or is the hinted one; None means 404.
    pub fn part_exists(&self, number: u64) -> bool {
        !matches!(self.window.read().read_part(number, 0), PartRead::Unknown)
    }

    /// The bytes of part `number` as they are written: complete parts at once, the part in
    /// progress chunk by chunk, the hinted part once it starts. Ends when the part is
    /// complete, or after three target durations without progress.
    pub fn part_stream(
        self: Arc<Self>,
        number: u64,
    ) -> impl futures::Stream<Item = Result<Bytes, std::convert::Infallible>> + Send + 'static {
        let cursor = PartCursor {
            rx: self.appended.subscribe(),
            me: self,
            number,
            offset: 0,
            queue: VecDeque::new(),
            complete: false,
        };
        futures::stream::unfold(cursor, |mut c| async move {
            loop {
                if let Some(b) = c.queue.pop_front() {
                    return Some((Ok(b), c));
                }
                if c.complete {
                    return None;
                }
                // Mark the current version seen before reading, so no append is missed.
                c.rx.borrow_and_update();
                let read = c.me.window.read().read_part(c.number, c.offset);
                match read {
                    PartRead::Data { chunks, complete } => {
                        c.offset += chunks.len();
                        c.queue.extend(chunks);
                        c.complete = complete;
                        if !c.queue.is_empty() || complete {
                            continue;
                        }
                    }
                    PartRead::NotYet => {}
                    PartRead::Unknown => return None,
                }
                let wait = 3 * c.me.target_duration();
                match tokio::time::timeout(wait, c.rx.changed()).await {
                    Ok(Ok(())) => {}
                    _ => return None,
                }
            }
        })
    }

    /// Starts a feed for the web player.
    pub fn subscribe_feed(&self) -> FeedStart {
        let w = self.window.read();
        let rx = self.feed.subscribe();
        let init = w.current_init().map(|i| FeedItem::Init {
            bytes: i.bytes.clone(),
            codecs: i.tracks.codecs(),
        });
        // From the newest independent part on: the decoder needs a keyframe to start.
        let mut backlog = Vec::new();
        if let Some(seg) = w.segments().last() {
            let from = seg.parts.iter().rposition(|p| p.independent).unwrap_or(0);
            for (i, p) in seg.parts[from..].iter().enumerate() {
                for (j, c) in p.chunks.iter().enumerate() {
                    backlog.push(FeedItem::Chunk {
                        bytes: c.clone(),
                        independent: i == 0 && j == 0,
                        decode_time: p.start,
                        arrived_ms: 0,
                    });
                }
            }
        }
        FeedStart {
            init,
            backlog,
            rx,
            ended: w.is_ended(),
        }
    }
}

struct PartCursor {
    me: Arc<LiveStream>,
    number: u64,
    offset: usize,
    queue: VecDeque<Bytes>,
    complete: bool,
    rx: watch::Receiver<u64>,
}
