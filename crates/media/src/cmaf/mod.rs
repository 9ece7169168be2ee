//! The CMAF packager: FLV frames (RTMP) or access units (WebRTC, through `annexb`) in, fMP4
//! out, without re-encoding.
//!
//! Every video frame becomes its own CMAF chunk (`moof`+`mdat`) the moment it arrives, carrying
//! the audio frames that arrived since the previous one. A chunk that starts a new part or
//! segment says so; parts are cut at frame boundaries to stay within the part target, segments
//! at keyframes once the segment target is reached. Nothing waits for the next frame, so a
//! frame's bytes can leave the server as soon as the encoder's bytes arrive; the price is that a
//! sample's duration is an estimate (the previous frame interval), which `tfdt` corrects at the
//! next chunk.
//!
//! Timestamps: FLV's 32-bit millisecond clock is unwrapped and mapped onto one output timeline
//! (90 kHz video, sample-rate audio) that never goes backwards, also across encoder
//! reconnects and timestamp jumps, so a player's buffer never sees time run back.

use crate::codec::{AudioConfig, VideoConfig};
use crate::fmp4::{
    self, Sample, TrackRun, TrackSet, AUDIO_TRACK_ID, VIDEO_TIMESCALE, VIDEO_TRACK_ID,
};
use bytes::Bytes;
use std::collections::VecDeque;

#[derive(Debug, Clone, Copy)]
pub struct PackagerConfig {
    pub part_target_ms: u32,
    pub segment_target_ms: u32,
}

impl Default for PackagerConfig {
    fn default() -> Self {
        PackagerConfig {
            part_target_ms: 250,
            segment_target_ms: 2000,
        }
    }
}

/// Where a chunk sits in the HLS structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Boundary {
    /// Continues the current part.
    None,
    /// Starts a new part in the current segment.
    Part,
    /// Starts a new segment (and its first part). `discontinuity` after an encoder reconnect
    /// or a change of codec configuration.
    Segment { discontinuity: bool },
}

#[derive(Debug, Clone)]
pub struct Chunk {
    pub bytes: Bytes,
    pub boundary: Boundary,
    /// Begins with a sync sample: a decoder can start here.
    pub independent: bool,
    /// Decode time of the chunk's first sample of the driving track, 90 kHz.
    pub decode_time: u64,
    /// The driving track's estimated end of this chunk, 90 kHz.
    pub end_time: u64,
    /// Wall-clock milliseconds when the frame arrived (passed in by the caller).
    pub arrived_ms: i64,
}

#[derive(Debug, Clone)]
pub struct Init {
    /// Bumped whenever the codec configuration changes.
    pub version: u32,
    pub bytes: Bytes,
    pub tracks: TrackSet,
}

#[derive(Debug, Clone)]
pub enum PackagerEvent {
    Init(Init),
    Chunk(Chunk),
    /// The publisher stopped; the open part and segment end at `end_time` (90 kHz).
    End {
        end_time: u64,
    },
}

/// What the stream's metadata says it carries, if it says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Expectation {
    pub video: Option<bool>,
    pub audio: Option<bool>,
}

const MAX_PENDING_AUDIO_90K: u64 = 200 * 90; // flush audio alone if video stalls this long
const AUDIO_ONLY_AFTER_FRAMES: u32 = 50; // ~1 s of AAC with no video config in sight
const JUMP_BACK_MS: i64 = 500;
const JUMP_FORWARD_MS: i64 = 10_000;

#[derive(Debug)]
pub struct Packager {
    config: PackagerConfig,
    expect: Expectation,
    video_cfg: Option<VideoConfig>,
    audio_cfg: Option<AudioConfig>,
    active: Option<TrackSet>,
    init_version: u32,
    /// Input ms → output 90 kHz: (input ms, output time at that input).
    anchor: Option<(i64, u64)>,
    last_input_ms: Option<i64>,
    last_video_dts: Option<u64>,
    video_frame_90k: u32,
    audio_next: Option<u64>,
    pending_audio: Vec<(u64, Bytes)>,
    audio_frames_waiting: u32,
    /// Start of the open part and segment, 90 kHz; None between sessions.
    part_start: Option<u64>,
    segment_start: Option<u64>,
    /// The next segment is a discontinuity (reconnect or new configuration).
    discontinuity: bool,
    timeline_end: u64,
    sequence: u32,
    events: VecDeque<PackagerEvent>,
}

impl Packager {
    pub fn new(config: PackagerConfig) -> Self {
        Packager {
            config,
            expect: Expectation::default(),
            video_cfg: None,
            audio_cfg: None,
            active: None,
            init_version: 0,
            anchor: None,
            last_input_ms: None,
            last_video_dts: None,
            video_frame_90k: 3000,
            audio_next: None,
            pending_audio: Vec::new(),
            audio_frames_waiting: 0,
            part_start: None,
            segment_start: None,
            discontinuity: false,
            timeline_end: 0,
            sequence: 0,
            events: VecDeque::new(),
        }
    }

    pub fn poll_event(&mut self) -> Option<PackagerEvent> {
        self.events.pop_front()
    }

    /// The track set in use, once the first keyframe has arrived.
    pub fn tracks(&self) -> Option<&TrackSet> {
        self.active.as_ref()
    }

    /// From onMetaData: which tracks to wait for, and the frame rate for the first estimate.
    pub fn set_expectation(&mut self, expect: Expectation, framerate: Option<f64>) {
        self.expect = expect;
        if let Some(fps) = framerate.filter(|f| (1.0..=240.0).contains(f)) {
            self.video_frame_90k = (VIDEO_TIMESCALE as f64 / fps).round() as u32;
        }
    }

    pub fn video_config(&mut self, cfg: VideoConfig) {
        self.video_cfg = Some(cfg);
    }

    pub fn audio_config(&mut self, cfg: AudioConfig) {
        self.audio_cfg = Some(cfg);
    }

    fn wanted_tracks(&self) -> TrackSet {
        TrackSet {
            video: self.video_cfg.clone(),
            audio: self.audio_cfg.clone(),
        }
    }

    /// Maps an input timestamp onto the output timeline (90 kHz), re-anchoring on wraps,
    /// jumps and new sessions.
    fn map_time(&mut self, ts: u32) -> u64 {
        let ms = match self.last_input_ms {
            // The 32-bit clock wraps every 49.7 days: pick the value nearest the last one.
            Some(last) => {
                let base = last - (last.rem_euclid(1 << 32));
                [base - (1 << 32), base, base + (1 << 32)]
                    .into_iter()
                    .map(|b| b + ts as i64)
                    .min_by_key(|v| (v - last).abs())
                    .unwrap_or(ts as i64)
            }
            None => ts as i64,
        };
        let jumped = match self.last_input_ms {
            Some(last) => ms < last - JUMP_BACK_MS || ms > last + JUMP_FORWARD_MS,
            None => false,
        };
        if self.anchor.is_none() || jumped {
            self.anchor = Some((ms, self.timeline_end));
            self.audio_next = None;
        }
        // Audio and video interleave slightly out of order: keep the furthest time seen.
        self.last_input_ms = Some(match self.last_input_ms {
            Some(last) if !jumped => last.max(ms),
            _ => ms,
        });
        let (in0, out0) = self.anchor.unwrap_or((ms, 0));
        let delta = (ms - in0).max(-((out0 / 90) as i64));
        (out0 as i64 + delta * 90) as u64
    }

    /// Begins using the tracks configured now; emits an init segment if they differ from the
    /// ones in use.
    fn activate(&mut self, tracks: TrackSet) {
        if self.active.as_ref() != Some(&tracks) {
            if self.active.is_some() {
                self.init_version += 1;
                self.discontinuity = true;
            }
            self.events.push_back(PackagerEvent::Init(Init {
                version: self.init_version,
                bytes: fmp4::init_segment(&tracks),
                tracks: tracks.clone(),
            }));
            self.active = Some(tracks);
        }
    }

    pub fn push_video(
        &mut self,
        ts: u32,
        composition_offset_ms: i32,
        keyframe: bool,
        data: Bytes,
        arrived_ms: i64,
    ) {
        let wanted = self.wanted_tracks();
        let Some(_) = wanted.video else { return };
        let needs_switch = self.active.as_ref() != Some(&wanted) || self.segment_start.is_none();
        if needs_switch && !keyframe {
            return; // a decoder needs a keyframe to start or to take a new configuration
        }
        let dts = self.map_time(ts);
        if let Some(last) = self.last_video_dts {
            let d = dts.saturating_sub(last);
            if (1..=VIDEO_TIMESCALE as u64).contains(&d) {
                self.video_frame_90k = d as u32;
            }
        }
        self.last_video_dts = Some(dts);
        let est = self.video_frame_90k as u64;
        let boundary = self.place(dts, est, keyframe, needs_switch.then_some(wanted));
        let has_audio = self.active.as_ref().is_some_and(|t| t.audio.is_some());
        let audio = if has_audio {
            std::mem::take(&mut self.pending_audio)
        } else {
            Vec::new()
        };
        let sample = Sample {
            duration: est as u32,
            size: data.len() as u32,
            flags: if keyframe {
                fmp4::FLAGS_SYNC
            } else {
                fmp4::FLAGS_NON_SYNC
            },
            composition_offset: composition_offset_ms.saturating_mul(90),
        };
        let video = [data];
        let bytes = self.fragment(Some((dts, sample, &video)), &audio);
        self.emit(bytes, boundary, keyframe, dts, dts + est, arrived_ms);
    }

    pub fn push_audio(&mut self, ts: u32, data: Bytes, arrived_ms: i64) {
        let Some(cfg) = self.audio_cfg.clone() else {
            return;
        };
        let rate = cfg.sample_rate as u64;
        let frame = cfg.frame_samples(&data) as u64;
        let active_has_audio = self.active.as_ref().is_some_and(|t| t.audio.is_some());
        let audio_only = self.video_cfg.is_none()
            && (self.expect.video == Some(false)
                || self.audio_frames_waiting >= AUDIO_ONLY_AFTER_FRAMES);
        if !active_has_audio && !audio_only {
            // Waiting for the first keyframe; audio before it is not playable anyway.
            self.audio_frames_waiting = self.audio_frames_waiting.saturating_add(1);
            return;
        }
        let t90 = self.map_time(ts);
        let ideal = t90 * rate / VIDEO_TIMESCALE as u64;
        let dt = match self.audio_next {
            Some(next) if next.abs_diff(ideal) <= 2 * frame => next,
            _ => ideal,
        };
        self.audio_next = Some(dt + frame);
        let end90 = (dt + frame) * VIDEO_TIMESCALE as u64 / rate;
        if self.video_cfg.is_some() {
            // Muxed: ride along with the next video chunk, unless video stalls.
            self.pending_audio.push((dt, data));
            let first90 = self.pending_audio[0].0 * VIDEO_TIMESCALE as u64 / rate;
            if end90.saturating_sub(first90) > MAX_PENDING_AUDIO_90K {
                self.flush_audio(arrived_ms);
            }
            return;
        }
        // Audio only: audio drives parts and segments; every AAC frame is a sync sample.
        let start90 = dt * VIDEO_TIMESCALE as u64 / rate;
        let wanted = self.wanted_tracks();
        let switch = self.active.as_ref() != Some(&wanted) || self.segment_start.is_none();
        let boundary = self.place(start90, end90 - start90, true, switch.then_some(wanted));
        let bytes = self.fragment(None, &[(dt, data)]);
        self.emit(bytes, boundary, true, start90, end90, arrived_ms);
    }

    /// Where a sample starting at `start` and lasting `dur` (90 kHz) falls: a sync sample opens
    /// a new segment once the open one has reached its target; a sample that would overflow
    /// the open part opens a new part; `switch` first changes to new tracks (a new segment
    /// after a discontinuity).
    fn place(&mut self, start: u64, dur: u64, sync: bool, switch: Option<TrackSet>) -> Boundary {
        let boundary = if let Some(tracks) = switch {
            self.activate(tracks);
            Boundary::Segment {
                discontinuity: std::mem::take(&mut self.discontinuity),
            }
        } else {
            let seg = self.segment_start.unwrap_or(start);
            let part = self.part_start.unwrap_or(start);
            if sync
                && start.saturating_sub(seg) + dur / 2 >= self.config.segment_target_ms as u64 * 90
            {
                Boundary::Segment {
                    discontinuity: false,
                }
            } else if start > part && start + dur - part > self.config.part_target_ms as u64 * 90 {
                Boundary::Part
            } else {
                Boundary::None
            }
        };
        match boundary {
            Boundary::Segment { .. } => {
                self.segment_start = Some(start);
                self.part_start = Some(start);
            }
            Boundary::Part => self.part_start = Some(start),
            Boundary::None => {}
        }
        boundary
    }

    fn emit(
        &mut self,
        bytes: Bytes,
        boundary: Boundary,
        independent: bool,
        start: u64,
        end: u64,
        arrived_ms: i64,
    ) {
        self.timeline_end = self.timeline_end.max(end);
        self.events.push_back(PackagerEvent::Chunk(Chunk {
            bytes,
            boundary,
            independent,
            decode_time: start,
            end_time: end,
            arrived_ms,
        }));
    }

    /// Sends the audio waiting for a video frame on its own.
    fn flush_audio(&mut self, arrived_ms: i64) {
        if self.pending_audio.is_empty() {
            return;
        }
        let audio = std::mem::take(&mut self.pending_audio);
        let (last_dt, last) = &audio[audio.len() - 1];
        let (rate, frame) = self.audio_cfg.as_ref().map_or((48_000, 1024), |c| {
            (c.sample_rate as u64, c.frame_samples(last) as u64)
        });
        let first90 = audio[0].0 * VIDEO_TIMESCALE as u64 / rate;
        let end90 = (last_dt + frame) * VIDEO_TIMESCALE as u64 / rate;
        let bytes = self.fragment(None, &audio);
        self.emit(bytes, Boundary::None, false, first90, end90, arrived_ms);
    }

    fn fragment(
        &mut self,
        video: Option<(u64, Sample, &[Bytes])>,
        audio: &[(u64, Bytes)],
    ) -> Bytes {
        self.sequence = self.sequence.wrapping_add(1);
        let cfg = self.audio_cfg.as_ref();
        let audio_samples: Vec<Sample> = audio
            .iter()
            .map(|(_, d)| Sample {
                duration: cfg.map_or(1024, |c| c.frame_samples(d)),
                size: d.len() as u32,
                flags: fmp4::FLAGS_SYNC,
                composition_offset: 0,
            })
            .collect();
        let audio_data: Vec<Bytes> = audio.iter().map(|(_, d)| d.clone()).collect();
        let video_samples;
        let mut runs = Vec::with_capacity(2);
        if let Some((dts, sample, data)) = video {
            video_samples = [sample];
            runs.push(TrackRun {
                track_id: VIDEO_TRACK_ID,
                base_decode_time: dts,
                samples: &video_samples,
                data,
            });
        }
        if let Some((first, _)) = audio.first() {
            runs.push(TrackRun {
                track_id: AUDIO_TRACK_ID,
                base_decode_time: *first,
                samples: &audio_samples,
                data: &audio_data,
            });
        }
        fmp4::fragment(self.sequence, &runs)
    }

    /// The publisher went away: flush what is pending and close the open part and segment.
    /// The next publish continues the same timeline after a discontinuity.
    pub fn end(&mut self, arrived_ms: i64) {
        self.flush_audio(arrived_ms);
        if self.segment_start.is_some() {
            self.events.push_back(PackagerEvent::End {
                end_time: self.timeline_end,
            });
        }
        self.segment_start = None;
        self.part_start = None;
        self.anchor = None;
        self.last_input_ms = None;
        self.last_video_dts = None;
        self.audio_next = None;
        self.audio_frames_waiting = 0;
        self.discontinuity = true;
        // A new publisher sends its own configuration; until it does, nothing is packaged.
        self.video_cfg = None;
        self.audio_cfg = None;
        self.expect = Expectation::default();
    }
}

#[cfg(test)]
mod tests;
