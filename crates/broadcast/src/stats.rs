//! What the studio page shows about an incoming stream: bitrate, frame rate, keyframe
//! interval, codecs; with warnings for settings that hurt latency or players.

use serde::Serialize;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IngestStats {
    pub bitrate_kbps: f64,
    pub fps: f64,
    /// Seconds between the last two keyframes.
    pub keyframe_interval_s: Option<f64>,
    pub video_codec: Option<String>,
    pub audio_codec: Option<String>,
    pub width: u32,
    pub height: u32,
    pub audio_sample_rate: u32,
    /// Plain-language advice ("set the keyframe interval to 2 s").
    pub warnings: Vec<String>,
}

#[derive(Debug)]
pub(crate) struct StatsMeter {
    bytes: VecDeque<(Instant, usize)>,
    frames: VecDeque<Instant>,
    last_keyframe: Option<u64>,
    keyframe_interval_s: Option<f64>,
    pub(crate) snapshot_codecs: (Option<String>, Option<String>, u32, u32, u32),
}

impl StatsMeter {
    pub(crate) fn new() -> Self {
        StatsMeter {
            bytes: VecDeque::new(),
            frames: VecDeque::new(),
            last_keyframe: None,
            keyframe_interval_s: None,
            snapshot_codecs: (None, None, 0, 0, 0),
        }
    }

    fn trim(&mut self, now: Instant) {
        while self
            .bytes
            .front()
            .is_some_and(|(t, _)| now.duration_since(*t) > WINDOW)
        {
            self.bytes.pop_front();
        }
        while self
            .frames
            .front()
            .is_some_and(|t| now.duration_since(*t) > WINDOW)
        {
            self.frames.pop_front();
        }
    }

    pub(crate) fn on_bytes(&mut self, now: Instant, n: usize) {
        self.bytes.push_back((now, n));
        self.trim(now);
    }

    /// `decode_time` in 90 kHz units.
    pub(crate) fn on_video_frame(&mut self, now: Instant, keyframe: bool, decode_time: u64) {
        self.frames.push_back(now);
        if keyframe {
            if let Some(prev) = self.last_keyframe {
                if decode_time > prev {
                    self.keyframe_interval_s = Some((decode_time - prev) as f64 / 90_000.0);
                }
            }
            self.last_keyframe = Some(decode_time);
        }
        self.trim(now);
    }

    pub(crate) fn snapshot(&mut self, now: Instant, segment_target_s: f64) -> IngestStats {
        self.trim(now);
        let span = WINDOW.as_secs_f64();
        let bytes: usize = self.bytes.iter().map(|(_, n)| n).sum();
        let (video_codec, audio_codec, width, height, rate) = self.snapshot_codecs.clone();
        let fps = self.frames.len() as f64 / span;
        let mut warnings = Vec::new();
        if let Some(k) = self.keyframe_interval_s {
            if k > segment_target_s + 0.5 {
                warnings.push(format!(
                    "Keyframes arrive every {k:.1} s: set the encoder's keyframe interval to {segment_target_s:.0} s (OBS: Output → Keyframe Interval) so viewers can join and catch up quickly."
                ));
            }
        }
        if video_codec.is_some() && fps > 0.0 && fps < 20.0 {
            warnings.push(format!(
                "Only {fps:.0} frames per second arrive: the encoder may be overloaded or the upload too slow."
            ));
        }
        if video_codec.is_none() {
            warnings.push("No video yet.".to_string());
        }
        if audio_codec.is_none() {
            warnings.push("No audio: viewers will not hear you.".to_string());
        }
        IngestStats {
            bitrate_kbps: bytes as f64 * 8.0 / 1000.0 / span,
            fps,
            keyframe_interval_s: self.keyframe_interval_s,
            video_codec,
            audio_codec,
            width,
            height,
            audio_sample_rate: rate,
            warnings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_gop_is_flagged() {
        let mut m = StatsMeter::new();
        let t = Instant::now();
        m.snapshot_codecs = (
            Some("avc1.64001F".into()),
            Some("mp4a.40.2".into()),
            1280,
            720,
            48000,
        );
        for i in 0..150u64 {
            m.on_bytes(t, 1000);
            m.on_video_frame(t, i % 120 == 0, i * 3000);
        }
        let s = m.snapshot(t, 2.0);
        assert_eq!(s.keyframe_interval_s, Some(4.0));
        assert!(s.warnings.iter().any(|w| w.contains("Keyframe")));
        assert!((s.bitrate_kbps - 240.0).abs() < 1e-9);
    }
}
