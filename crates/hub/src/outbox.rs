//! A connection's outgoing frames, by lane, so one slow viewer never holds up a room:
//! the room task only ever pushes (never waits); the connection's writer drains.
//!
//! - direct frames (welcome, errors, echoes): in order, bounded;
//! - state and counters: latest wins, an older snapshot is replaced, never queued;
//! - stream batches: bounded, the oldest dropped first; a client that keeps dropping is
//!   closed as too slow (4008).

use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

pub use hawker_room::room::Lane;

const STREAM_BOUND: usize = 64;
const DIRECT_BOUND: usize = 256;
/// Dropping this many batches within `LAG_WINDOW` makes a connection a chronic laggard.
const LAG_LIMIT: usize = 64;
const LAG_WINDOW: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    Frame(Arc<str>),
    Close(u16, String),
}

#[derive(Default)]
struct Lanes {
    direct: VecDeque<Arc<str>>,
    state: Option<Arc<str>>,
    stream: VecDeque<Arc<str>>,
    counters: Option<Arc<str>>,
    close: Option<(u16, String)>,
    drops: VecDeque<Instant>,
    dropped_total: u64,
}

#[derive(Default)]
pub struct Outbox {
    lanes: Mutex<Lanes>,
    ready: Notify,
}

impl Outbox {
    pub fn new() -> Arc<Outbox> {
        Arc::new(Outbox::default())
    }

    pub fn push(&self, lane: Lane, frame: Arc<str>) {
        let mut l = self.lanes.lock();
        if l.close.is_some() {
            return;
        }
        match lane {
            Lane::State => l.state = Some(frame),
            Lane::Counters => l.counters = Some(frame),
            Lane::Stream => {
                if l.stream.len() >= STREAM_BOUND {
                    l.stream.pop_front();
                    l.dropped_total += 1;
                    let now = Instant::now();
                    l.drops.push_back(now);
                    while l
                        .drops
                        .front()
                        .is_some_and(|t| now.duration_since(*t) > LAG_WINDOW)
                    {
                        l.drops.pop_front();
                    }
                    if l.drops.len() >= LAG_LIMIT {
                        l.close = Some((
                            hawker_room::protocol::close::TOO_SLOW,
                            "too slow to keep up with the room".into(),
                        ));
                        metrics::counter!("hawker_room_laggards_closed_total").increment(1);
                    }
                }
                l.stream.push_back(frame);
            }
        }
        drop(l);
        self.ready.notify_one();
    }

    pub fn send(&self, frame: Arc<str>) {
        let mut l = self.lanes.lock();
        if l.close.is_some() {
            return;
        }
        if l.direct.len() >= DIRECT_BOUND {
            l.close = Some((
                hawker_room::protocol::close::TOO_SLOW,
                "too slow to keep up with the room".into(),
            ));
        } else {
            l.direct.push_back(frame);
        }
        drop(l);
        self.ready.notify_one();
    }

    pub fn close(&self, code: u16, reason: &str) {
        let mut l = self.lanes.lock();
        if l.close.is_none() {
            l.close = Some((code, reason.to_string()));
        }
        drop(l);
        self.ready.notify_one();
    }

    pub fn is_closed(&self) -> bool {
        self.lanes.lock().close.is_some()
    }

    pub fn dropped(&self) -> u64 {
        self.lanes.lock().dropped_total
    }

    fn take(&self) -> Option<Next> {
        let mut l = self.lanes.lock();
        if let Some((code, reason)) = l.close.clone() {
            // Frames already queued still go out first, except when closing for slowness.
            if code == hawker_room::protocol::close::TOO_SLOW
                || (l.direct.is_empty() && l.state.is_none() && l.stream.is_empty())
            {
                return Some(Next::Close(code, reason));
            }
        }
        if let Some(f) = l.direct.pop_front() {
            return Some(Next::Frame(f));
        }
        if let Some(f) = l.state.take() {
            return Some(Next::Frame(f));
        }
        if let Some(f) = l.stream.pop_front() {
            return Some(Next::Frame(f));
        }
        l.counters.take().map(Next::Frame)
    }

    /// The next frame to write, waiting until there is one.
    pub async fn next(&self) -> Next {
        loop {
            let notified = self.ready.notified();
            if let Some(n) = self.take() {
                return n;
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> Arc<str> {
        Arc::from(s)
    }

    #[tokio::test]
    async fn lanes_drain_in_priority_and_latest_state_wins() {
        let o = Outbox::new();
        o.push(Lane::Counters, f("c1"));
        o.push(Lane::Stream, f("b1"));
        o.push(Lane::State, f("s1"));
        o.push(Lane::State, f("s2"));
        o.push(Lane::Counters, f("c2"));
        o.send(f("welcome"));
        let mut got = Vec::new();
        for _ in 0..4 {
            match o.next().await {
                Next::Frame(x) => got.push(x.to_string()),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(got, vec!["welcome", "s2", "b1", "c2"]);
        assert!(o.take().is_none());
    }

    #[tokio::test]
    async fn a_chronic_laggard_is_closed_but_the_room_never_waits() {
        let o = Outbox::new();
        for i in 0..(STREAM_BOUND + LAG_LIMIT) {
            o.push(Lane::Stream, f(&format!("b{i}")));
        }
        assert_eq!(o.dropped(), LAG_LIMIT as u64);
        assert_eq!(
            o.next().await,
            Next::Close(4008, "too slow to keep up with the room".into())
        );
    }

    #[tokio::test]
    async fn queued_frames_go_before_an_ordinary_close() {
        let o = Outbox::new();
        o.send(f("error"));
        o.close(4003, "banned from this room");
        assert_eq!(o.next().await, Next::Frame(f("error")));
        assert_eq!(
            o.next().await,
            Next::Close(4003, "banned from this room".into())
        );
    }
}
