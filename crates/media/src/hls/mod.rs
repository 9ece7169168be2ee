//! The live window behind an LL-HLS playlist (RFC 8216bis with the low-latency extensions):
//! packaged chunks in, segments and parts out, the playlist rendered on demand.
//!
//! Parts are numbered globally (`part{n}.m4s`) rather than per segment, so the preload hint is
//! right even when the next chunk turns out to start a new segment. All URIs carry a session
//! prefix unique to one packager, so every URI names immutable bytes and a CDN may cache
//! segments and parts for as long as it likes.

pub mod validate;
pub mod vod;

use crate::cmaf::{Boundary, Chunk, Init, PackagerEvent};
use bytes::Bytes;
use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;

#[derive(Debug, Clone, Copy)]
pub struct WindowConfig {
    pub part_target_ms: u32,
    pub segment_target_ms: u32,
    /// Complete segments kept (and listed) behind the live edge.
    pub max_segments: usize,
}

impl Default for WindowConfig {
    fn default() -> Self {
        WindowConfig {
            part_target_ms: 250,
            segment_target_ms: 2000,
            max_segments: 10,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Part {
    /// Global part number: the `n` in `part{n}.m4s`.
    pub number: u64,
    pub start: u64,
    /// Seconds; known once the part is complete.
    pub duration: Option<f64>,
    pub independent: bool,
    pub chunks: Vec<Bytes>,
}

impl Part {
    pub fn is_complete(&self) -> bool {
        self.duration.is_some()
    }
    pub fn len(&self) -> usize {
        self.chunks.iter().map(Bytes::len).sum()
    }
    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }
}

#[derive(Debug, Clone)]
pub struct Segment {
    pub msn: u64,
    pub start: u64,
    pub duration: Option<f64>,
    pub discontinuity: bool,
    pub init_version: u32,
    /// Wall-clock ms when its first frame arrived: EXT-X-PROGRAM-DATE-TIME.
    pub program_date_time_ms: i64,
    pub parts: Vec<Part>,
}

impl Segment {
    pub fn is_complete(&self) -> bool {
        self.duration.is_some()
    }
    /// The segment's bytes: its parts' chunks in order.
    pub fn chunks(&self) -> impl Iterator<Item = &Bytes> {
        self.parts.iter().flat_map(|p| p.chunks.iter())
    }
    pub fn byte_len(&self) -> usize {
        self.parts.iter().map(Part::len).sum()
    }
}

/// What changed in the window after an event; the I/O layer wakes waiters and records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WindowChange {
    Init {
        version: u32,
    },
    /// Bytes were appended to the part in progress.
    Appended {
        part: u64,
    },
    PartCompleted {
        msn: u64,
        part_index: u32,
        number: u64,
    },
    SegmentCompleted {
        msn: u64,
    },
    Ended,
}

/// A position in the playlist: segment `msn`, part index `part` within it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub msn: u64,
    pub part: u32,
}

/// How a blocking playlist request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    Wait,
    /// More than two segments ahead of the live edge: answer 400.
    TooFarAhead,
}

/// What a request for a part finds.
#[derive(Debug, Clone)]
pub enum PartRead {
    /// Chunks from the requested offset on; `complete` says whether more will follow.
    Data { chunks: Vec<Bytes>, complete: bool },
    /// The hinted part has not started yet; wait.
    NotYet,
    /// Never existed here or left the window.
    Unknown,
}

#[derive(Debug)]
pub struct LiveWindow {
    config: WindowConfig,
    session: String,
    inits: BTreeMap<u32, Init>,
    segments: VecDeque<Segment>,
    next_msn: u64,
    next_part: u64,
    /// Discontinuities that have left the window (EXT-X-DISCONTINUITY-SEQUENCE).
    discontinuity_sequence: u64,
    current_init: Option<u32>,
    target_duration: u64,
    ended: bool,
}

impl LiveWindow {
    /// `session` prefixes every URI; make it unique per packager (e.g. a random id).
    pub fn new(config: WindowConfig, session: impl Into<String>) -> Self {
        LiveWindow {
            config,
            session: session.into(),
            inits: BTreeMap::new(),
            segments: VecDeque::new(),
            next_msn: 0,
            next_part: 0,
            discontinuity_sequence: 0,
            current_init: None,
            target_duration: (config.segment_target_ms as u64).div_ceil(1000).max(1),
            ended: false,
        }
    }

    pub fn session(&self) -> &str {
        &self.session
    }

    pub fn config(&self) -> &WindowConfig {
        &self.config
    }

    pub fn is_ended(&self) -> bool {
        self.ended
    }

    pub fn target_duration(&self) -> u64 {
        self.target_duration
    }

    pub fn init(&self, version: u32) -> Option<&Init> {
        self.inits.get(&version)
    }

    pub fn current_init(&self) -> Option<&Init> {
        self.current_init.and_then(|v| self.inits.get(&v))
    }

    pub fn segments(&self) -> impl Iterator<Item = &Segment> {
        self.segments.iter()
    }

    pub fn segment(&self, msn: u64) -> Option<&Segment> {
        let first = self.segments.front()?.msn;
        self.segments.get(msn.checked_sub(first)? as usize)
    }

    fn open_segment(&mut self) -> Option<&mut Segment> {
        self.segments.back_mut().filter(|s| !s.is_complete())
    }

    /// Applies one packager event.
    pub fn apply(&mut self, event: PackagerEvent) -> Vec<WindowChange> {
        let mut changes = Vec::new();
        match event {
            PackagerEvent::Init(init) => {
                let v = init.version;
                self.inits.insert(v, init);
                self.current_init = Some(v);
                changes.push(WindowChange::Init { version: v });
            }
            PackagerEvent::Chunk(chunk) => self.push_chunk(chunk, &mut changes),
            PackagerEvent::End { end_time } => {
                self.close_open(end_time, &mut changes);
            }
        }
        changes
    }

    /// Marks the stream over: the playlist gets EXT-X-ENDLIST and waiters are released.
    pub fn finish(&mut self) -> Vec<WindowChange> {
        let mut changes = Vec::new();
        if let Some(end) = self
            .open_segment()
            .and_then(|s| s.parts.last())
            .map(|p| p.start)
        {
            // Without an End event the best end we know is the last part's start; the
            // packager always sends End first in practice.
            self.close_open(end, &mut changes);
        }
        self.ended = true;
        changes.push(WindowChange::Ended);
        changes
    }

    fn close_open(&mut self, end: u64, changes: &mut Vec<WindowChange>) {
        let max_segments = self.config.max_segments;
        let Some(seg) = self.open_segment() else {
            return;
        };
        let msn = seg.msn;
        let seg_start = seg.start;
        if let Some(last) = seg.parts.last_mut() {
            if !last.is_complete() {
                last.duration = Some(ticks_to_secs(end.saturating_sub(last.start)));
                changes.push(WindowChange::PartCompleted {
                    msn,
                    part_index: (seg.parts.len() - 1) as u32,
                    number: seg.parts[seg.parts.len() - 1].number,
                });
            }
        }
        let seg = self.segments.back_mut().expect("open segment exists");
        let d = ticks_to_secs(end.saturating_sub(seg_start));
        seg.duration = Some(d);
        // Grows only: a segment longer than the target (a long GOP) must still fit it.
        self.target_duration = self.target_duration.max(d.round() as u64);
        changes.push(WindowChange::SegmentCompleted { msn });
        while self.segments.iter().filter(|s| s.is_complete()).count() > max_segments {
            if let Some(old) = self.segments.pop_front() {
                if old.discontinuity {
                    self.discontinuity_sequence += 1;
                }
            }
        }
    }

    fn push_chunk(&mut self, c: Chunk, changes: &mut Vec<WindowChange>) {
        self.ended = false;
        let Some(init_version) = self.current_init else {
            return;
        };
        // A chunk that continues a part needs an open part to continue.
        let boundary = match (c.boundary, self.open_segment().is_some()) {
            (Boundary::None | Boundary::Part, false) if !c.independent => return,
            (Boundary::None | Boundary::Part, false) => Boundary::Segment {
                discontinuity: true,
            },
            (b, _) => b,
        };
        match boundary {
            Boundary::Segment { discontinuity } => {
                self.close_open(c.decode_time, changes);
                let msn = self.next_msn;
                self.next_msn += 1;
                let number = self.next_part;
                self.next_part += 1;
                self.segments.push_back(Segment {
                    msn,
                    start: c.decode_time,
                    duration: None,
                    discontinuity,
                    init_version,
                    program_date_time_ms: c.arrived_ms,
                    parts: vec![Part {
                        number,
                        start: c.decode_time,
                        duration: None,
                        independent: c.independent,
                        chunks: vec![c.bytes],
                    }],
                });
                changes.push(WindowChange::Appended { part: number });
            }
            Boundary::Part => {
                let number = self.next_part;
                self.next_part += 1;
                let seg = self.open_segment().expect("checked above");
                let msn = seg.msn;
                let index = seg.parts.len() - 1;
                let last = &mut seg.parts[index];
                last.duration = Some(ticks_to_secs(c.decode_time.saturating_sub(last.start)));
                changes.push(WindowChange::PartCompleted {
                    msn,
                    part_index: index as u32,
                    number: last.number,
                });
                seg.parts.push(Part {
                    number,
                    start: c.decode_time,
                    duration: None,
                    independent: c.independent,
                    chunks: vec![c.bytes],
                });
                changes.push(WindowChange::Appended { part: number });
            }
            Boundary::None => {
                let seg = self.open_segment().expect("checked above");
                let part = seg.parts.last_mut().expect("segments start with a part");
                part.chunks.push(c.bytes);
                changes.push(WindowChange::Appended { part: part.number });
            }
        }
    }

    /// The newest complete part's position.
    pub fn latest_complete(&self) -> Option<Position> {
        self.segments.iter().rev().find_map(|s| {
            s.parts
                .iter()
                .rposition(Part::is_complete)
                .map(|i| Position {
                    msn: s.msn,
                    part: i as u32,
                })
        })
    }

    fn last_complete_msn(&self) -> Option<u64> {
        self.segments
            .iter()
            .rev()
            .find(|s| s.is_complete())
            .map(|s| s.msn)
    }

    /// Whether a blocking playlist request for `_HLS_msn=msn` (and `_HLS_part=part`) can be
    /// answered now.
    pub fn readiness(&self, msn: u64, part: Option<u32>) -> Readiness {
        let edge = self.last_complete_msn();
        let horizon = edge.map_or(2, |e| e + 2);
        if msn > horizon && !self.ended {
            return Readiness::TooFarAhead;
        }
        if self.ended {
            return Readiness::Ready;
        }
        let ready = match part {
            None => edge.is_some_and(|e| e >= msn),
            Some(p) => self
                .latest_complete()
                .is_some_and(|l| l.msn > msn || (l.msn == msn && l.part >= p)),
        };
        if ready {
            Readiness::Ready
        } else {
            Readiness::Wait
        }
    }

    /// The part with global number `number`, from chunk `offset` on.
    pub fn read_part(&self, number: u64, offset: usize) -> PartRead {
        if number >= self.next_part {
            // Only the very next part may be waited for: that is what the hint names.
            return if number == self.next_part && !self.ended {
                PartRead::NotYet
            } else {
                PartRead::Unknown
            };
        }
        let found = self
            .segments
            .iter()
            .rev()
            .flat_map(|s| s.parts.iter().rev())
            .find(|p| p.number == number);
        match found {
            Some(p) => PartRead::Data {
                chunks: p.chunks.get(offset..).unwrap_or(&[]).to_vec(),
                complete: p.is_complete() || self.ended,
            },
            None => PartRead::Unknown,
        }
    }

    /// The part a preload hint names: the one being written, or the next to start.
    pub fn hinted_part(&self) -> u64 {
        self.segments
            .back()
            .and_then(|s| s.parts.last())
            .filter(|p| !p.is_complete())
            .map_or(self.next_part, |p| p.number)
    }

    /// Renders the media playlist; `skip` asks for a delta update (`_HLS_skip=YES`).
    pub fn render(&self, skip: bool) -> String {
        let td = self.target_duration;
        let pt = self.config.part_target_ms as f64 / 1000.0;
        let mut o = String::with_capacity(4096);
        let _ = writeln!(o, "#EXTM3U");
        let _ = writeln!(o, "#EXT-X-VERSION:9");
        let _ = writeln!(o, "#EXT-X-TARGETDURATION:{td}");
        let can_skip_until = 6 * td;
        let _ = writeln!(
            o,
            "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL={can_skip_until:.1},PART-HOLD-BACK={:.3}",
            3.0 * pt
        );
        let _ = writeln!(o, "#EXT-X-PART-INF:PART-TARGET={pt:.3}");
        let first_msn = self.segments.front().map_or(self.next_msn, |s| s.msn);
        let _ = writeln!(o, "#EXT-X-MEDIA-SEQUENCE:{first_msn}");
        let _ = writeln!(
            o,
            "#EXT-X-DISCONTINUITY-SEQUENCE:{}",
            self.discontinuity_sequence
        );
        let live_end = self
            .segments
            .back()
            .map(|s| s.start + secs_to_ticks(s.duration.unwrap_or(0.0)))
            .unwrap_or(0);
        let complete: Vec<&Segment> = self.segments.iter().filter(|s| s.is_complete()).collect();
        // Delta update: skip complete segments that end more than CAN-SKIP-UNTIL before the edge.
        let skipped = if skip {
            let horizon = live_end.saturating_sub(secs_to_ticks(can_skip_until as f64));
            complete
                .iter()
                .take_while(|s| s.start + secs_to_ticks(s.duration.unwrap_or(0.0)) < horizon)
                .count()
        } else {
            0
        };
        if skipped > 0 {
            let _ = writeln!(o, "#EXT-X-SKIP:SKIPPED-SEGMENTS={skipped}");
        }
        // Parts are listed for the last three target durations only.
        let parts_from = live_end.saturating_sub(3 * td * 90_000);
        let mut map_version = None;
        for s in self.segments.iter().skip(skipped) {
            if s.discontinuity && map_version.is_some() {
                let _ = writeln!(o, "#EXT-X-DISCONTINUITY");
            }
            if map_version != Some(s.init_version) {
                let _ = writeln!(
                    o,
                    "#EXT-X-MAP:URI=\"{}/init{}.mp4\"",
                    self.session, s.init_version
                );
                map_version = Some(s.init_version);
            }
            let _ = writeln!(
                o,
                "#EXT-X-PROGRAM-DATE-TIME:{}",
                rfc3339_millis(s.program_date_time_ms)
            );
            let recent = s
                .duration
                .is_none_or(|d| s.start + secs_to_ticks(d) >= parts_from);
            if recent {
                for p in s.parts.iter().filter(|p| p.is_complete()) {
                    let _ = writeln!(
                        o,
                        "#EXT-X-PART:DURATION={:.5},URI=\"{}/part{}.m4s\"{}",
                        p.duration.unwrap_or(0.0),
                        self.session,
                        p.number,
                        if p.independent {
                            ",INDEPENDENT=YES"
                        } else {
                            ""
                        }
                    );
                }
            }
            if let Some(d) = s.duration {
                let _ = writeln!(o, "#EXTINF:{d:.5},");
                let _ = writeln!(o, "{}/seg{}.m4s", self.session, s.msn);
            }
        }
        if self.ended {
            let _ = writeln!(o, "#EXT-X-ENDLIST");
        } else if self.current_init.is_some() {
            let _ = writeln!(
                o,
                "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"{}/part{}.m4s\"",
                self.session,
                self.hinted_part()
            );
        }
        o
    }
}

pub fn ticks_to_secs(ticks: u64) -> f64 {
    ticks as f64 / 90_000.0
}

fn secs_to_ticks(s: f64) -> u64 {
    (s * 90_000.0) as u64
}

/// `2026-11-24T11:47:38.123Z` without pulling in a date crate: civil-from-days (H. Hinnant).
pub fn rfc3339_millis(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        tod / 3600,
        (tod / 60) % 60,
        tod % 60
    )
}

/// The query of a playlist request: `_HLS_msn`, `_HLS_part`, `_HLS_skip`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PlaylistQuery {
    pub msn: Option<u64>,
    pub part: Option<u32>,
    pub skip: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("_HLS_part requires _HLS_msn")]
    PartWithoutMsn,
    #[error("{0} is not a number")]
    NotANumber(&'static str),
}

impl PlaylistQuery {
    pub fn parse(query: &str) -> Result<Self, QueryError> {
        let mut q = PlaylistQuery::default();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match k {
                "_HLS_msn" => {
                    q.msn = Some(v.parse().map_err(|_| QueryError::NotANumber("_HLS_msn"))?)
                }
                "_HLS_part" => {
                    q.part = Some(v.parse().map_err(|_| QueryError::NotANumber("_HLS_part"))?)
                }
                "_HLS_skip" => q.skip = v == "YES" || v == "v2",
                _ => {}
            }
        }
        if q.part.is_some() && q.msn.is_none() {
            return Err(QueryError::PartWithoutMsn);
        }
        Ok(q)
    }
}

#[cfg(test)]
mod tests;
