use super::*;
use crate::codec::{tests_support, VideoCodecKind};

fn packager() -> Packager {
    let mut p = Packager::new(PackagerConfig::default());
    p.video_config(tests_support::avc_320x240());
    p.audio_config(tests_support::aac_44100());
    p
}

/// Feeds `secs` of 30 fps video (keyframe every `gop` frames) and 44.1 kHz AAC, interleaved as
/// ffmpeg's FLV muxer does, starting at input time `t0` ms.
fn feed(p: &mut Packager, t0: u32, secs: u32, gop: u32) -> Vec<PackagerEvent> {
    let mut out = Vec::new();
    let frames = secs * 30;
    let mut audio_t = 0f64;
    for i in 0..frames {
        let vt = t0 + i * 1000 / 30;
        while (t0 as f64 + audio_t) <= vt as f64 {
            p.push_audio(
                (t0 as f64 + audio_t) as u32,
                Bytes::from_static(&[0x21; 10]),
                0,
            );
            audio_t += 1024.0 * 1000.0 / 44100.0;
        }
        p.push_video(vt, 0, i % gop == 0, Bytes::from(vec![0u8; 100]), vt as i64);
        while let Some(e) = p.poll_event() {
            out.push(e);
        }
    }
    out
}

fn chunks(ev: &[PackagerEvent]) -> Vec<&Chunk> {
    ev.iter()
        .filter_map(|e| match e {
            PackagerEvent::Chunk(c) => Some(c),
            _ => None,
        })
        .collect()
}

#[test]
fn segments_start_at_keyframes_and_parts_stay_within_target() {
    let mut p = packager();
    let ev = feed(&mut p, 1000, 10, 60);
    assert!(matches!(
        ev[0],
        PackagerEvent::Init(Init { version: 0, .. })
    ));
    let cs = chunks(&ev);
    let mut seg_starts = vec![];
    let mut part_starts = vec![];
    for c in &cs {
        match c.boundary {
            Boundary::Segment { discontinuity } => {
                assert!(!discontinuity);
                assert!(c.independent, "segment must start with a keyframe");
                seg_starts.push(c.decode_time);
                part_starts.push(c.decode_time);
            }
            Boundary::Part => part_starts.push(c.decode_time),
            Boundary::None => {}
        }
    }
    assert_eq!(seg_starts.len(), 5);
    for w in seg_starts.windows(2) {
        let d = w[1] - w[0];
        assert!((179_000..=181_000).contains(&d), "segment of {d}");
    }
    for w in part_starts.windows(2) {
        let d = w[1] - w[0];
        assert!(d <= 250 * 90, "part of {d} exceeds the target");
        assert!(d >= 200 * 90 || seg_starts.contains(&w[1]), "part of {d}");
    }
    // The output timeline starts at zero whatever the input clock says.
    assert_eq!(cs[0].decode_time, 0);
}

#[test]
fn nothing_is_packaged_before_the_first_keyframe() {
    let mut p = packager();
    p.push_video(0, 0, false, Bytes::from_static(&[1]), 0);
    assert!(p.poll_event().is_none());
}

#[test]
fn reconnect_continues_the_timeline_after_a_discontinuity() {
    let mut p = packager();
    let first = feed(&mut p, 5000, 4, 60);
    let end_of_first = chunks(&first).last().unwrap().end_time;
    p.end(0);
    assert!(matches!(
        p.poll_event(),
        Some(PackagerEvent::Chunk(_)) | Some(PackagerEvent::End { .. })
    ));
    while p.poll_event().is_some() {}
    // The new encoder starts its clock at 0 again and sends its configuration again.
    p.video_config(tests_support::avc_320x240());
    p.audio_config(tests_support::aac_44100());
    let second = feed(&mut p, 0, 2, 60);
    assert!(
        !second.iter().any(|e| matches!(e, PackagerEvent::Init(_))),
        "same configuration: same init segment"
    );
    let c = chunks(&second)[0];
    assert_eq!(
        c.boundary,
        Boundary::Segment {
            discontinuity: true
        }
    );
    assert!(c.decode_time >= end_of_first);
}

#[test]
fn new_configuration_gets_a_new_init_at_the_next_keyframe() {
    let mut p = packager();
    feed(&mut p, 0, 2, 30);
    let mut other = tests_support::avc_320x240();
    other.width = 640;
    p.video_config(other);
    p.push_video(2100, 0, false, Bytes::from_static(&[1]), 0);
    assert!(p.poll_event().is_none(), "waits for a keyframe");
    p.push_video(2133, 0, true, Bytes::from_static(&[1]), 0);
    assert!(matches!(
        p.poll_event(),
        Some(PackagerEvent::Init(Init { version: 1, .. }))
    ));
    match p.poll_event() {
        Some(PackagerEvent::Chunk(c)) => {
            assert_eq!(
                c.boundary,
                Boundary::Segment {
                    discontinuity: true
                }
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn timestamp_wrap_keeps_time_moving_forward() {
    let mut p = packager();
    let start = u32::MAX - 1000;
    let mut last = 0;
    for i in 0..90u32 {
        p.push_video(
            start.wrapping_add(i * 33),
            0,
            i % 30 == 0,
            Bytes::from_static(&[1]),
            0,
        );
        while let Some(e) = p.poll_event() {
            if let PackagerEvent::Chunk(c) = e {
                assert!(c.decode_time >= last);
                last = c.decode_time;
            }
        }
    }
    assert!(last >= 89 * 33 * 90 - 90);
}

#[test]
fn audio_only_streams_are_packaged() {
    let mut p = Packager::new(PackagerConfig::default());
    p.audio_config(tests_support::aac_44100());
    p.set_expectation(
        Expectation {
            video: Some(false),
            audio: Some(true),
        },
        None,
    );
    for i in 0..200u32 {
        p.push_audio(i * 1024 * 1000 / 44100, Bytes::from_static(&[1, 2]), 0);
    }
    let ev: Vec<_> = std::iter::from_fn(|| p.poll_event()).collect();
    match &ev[0] {
        PackagerEvent::Init(i) => {
            assert!(i.tracks.video.is_none());
            assert_eq!(i.tracks.codecs(), "mp4a.40.2");
        }
        other => panic!("{other:?}"),
    }
    let segs = chunks(&ev)
        .iter()
        .filter(|c| matches!(c.boundary, Boundary::Segment { .. }))
        .count();
    assert_eq!(segs, 3);
    let _ = VideoCodecKind::Avc;
}

/// WebRTC's Opus: an `Opus`/`dOps` sample entry, the codec string `opus`, and each sample as
/// long as its TOC byte says (here 20 ms packets, 960 samples at 48 kHz).
#[test]
fn opus_audio_from_webrtc() {
    let mut p = Packager::new(PackagerConfig::default());
    p.video_config(tests_support::avc_320x240());
    p.audio_config(crate::codec::AudioConfig::opus(2));
    let mut out = Vec::new();
    for i in 0..90u32 {
        let t = i * 1000 / 30;
        for a in (i * 50 / 30)..((i + 1) * 50 / 30) {
            p.push_audio(a * 20, Bytes::from_static(&[0xfc, 1, 2]), 0);
        }
        p.push_video(t, 0, i % 30 == 0, Bytes::from(vec![0u8; 50]), 0);
        while let Some(e) = p.poll_event() {
            out.push(e);
        }
    }
    let init = out
        .iter()
        .find_map(|e| match e {
            PackagerEvent::Init(i) => Some(i),
            _ => None,
        })
        .unwrap();
    assert_eq!(init.tracks.codecs(), "avc1.64000D,opus");
    let has = |needle: &[u8]| init.bytes.windows(4).any(|w| w == needle);
    assert!(has(b"Opus") && has(b"dOps") && !has(b"esds"));
    // trun sample durations of the audio track: all 960.
    let c = chunks(&out);
    let audio_run = c.iter().find(|c| c.bytes.len() > 200).unwrap();
    assert!(audio_run
        .bytes
        .windows(4)
        .any(|w| w == 960u32.to_be_bytes()));
}
