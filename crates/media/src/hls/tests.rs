use super::validate::validate;
use super::*;
use crate::cmaf::{Packager, PackagerConfig};
use crate::codec::tests_support;

struct Live {
    p: Packager,
    w: LiveWindow,
    frame: u32,
}

impl Live {
    fn new() -> Self {
        let mut p = Packager::new(PackagerConfig::default());
        p.video_config(tests_support::avc_320x240());
        p.audio_config(tests_support::aac_44100());
        Live {
            p,
            w: LiveWindow::new(WindowConfig::default(), "s1"),
            frame: 0,
        }
    }

    /// One 30 fps video frame (keyframe every 2 s) and the audio before it.
    fn step(&mut self) -> Vec<WindowChange> {
        let t = self.frame * 1000 / 30;
        self.p.push_audio(t, Bytes::from_static(&[1; 8]), 0);
        self.p.push_video(
            t,
            0,
            self.frame.is_multiple_of(60),
            Bytes::from(vec![2; 50]),
            1_700_000_000_000 + t as i64,
        );
        self.frame += 1;
        let mut changes = vec![];
        while let Some(e) = self.p.poll_event() {
            changes.extend(self.w.apply(e));
        }
        changes
    }

    fn run(&mut self, frames: u32) {
        for _ in 0..frames {
            self.step();
        }
    }
}

#[test]
fn live_playlist_is_valid_at_every_step() {
    let mut l = Live::new();
    for _ in 0..30 * 30 {
        l.step();
        if l.w.latest_complete().is_some() {
            let text = l.w.render(false);
            if let Err(e) = validate(&text) {
                panic!("{e:?}\n{text}");
            }
        }
    }
    let pl = validate(&l.w.render(false)).unwrap();
    assert_eq!(pl.segments.len(), 10, "window keeps max_segments");
    assert_eq!(pl.target_duration, 2);
    assert!(
        pl.parts.len() >= 3 * 2 * 4,
        "parts of the last three target durations"
    );
    let hint = pl.preload_hint.unwrap();
    assert_eq!(hint, format!("s1/part{}.m4s", l.w.hinted_part()));
}

#[test]
fn delta_update_skips_old_segments() {
    let mut l = Live::new();
    l.run(30 * 30);
    let full = validate(&l.w.render(false)).unwrap();
    let delta = validate(&l.w.render(true)).unwrap();
    assert!(delta.skipped > 0);
    assert_eq!(
        delta.skipped as usize + delta.segments.len(),
        full.segments.len()
    );
    assert_eq!(delta.segments.last(), full.segments.last());
}

#[test]
fn blocking_readiness_follows_parts() {
    let mut l = Live::new();
    assert_eq!(l.w.readiness(0, Some(0)), Readiness::Wait);
    assert_eq!(l.w.readiness(5, None), Readiness::TooFarAhead);
    // Until the first part completes, (0, 0) is not ready.
    while l.w.latest_complete().is_none() {
        assert_eq!(l.w.readiness(0, Some(0)), Readiness::Wait);
        l.step();
    }
    assert_eq!(l.w.readiness(0, Some(0)), Readiness::Ready);
    assert_eq!(l.w.readiness(0, Some(1)), Readiness::Wait);
    l.run(61);
    // Segment 0 is complete: asking for a part index past its last means the next segment.
    assert_eq!(l.w.readiness(0, None), Readiness::Ready);
    assert_eq!(l.w.readiness(0, Some(99)), Readiness::Ready);
    let pl = validate(&l.w.render(false)).unwrap();
    let (m, p) = pl.next_position();
    assert_eq!(l.w.readiness(m, Some(p)), Readiness::Wait);
    assert!(!pl.has_position(m, Some(p)));
}

#[test]
fn hinted_part_streams_as_it_is_written() {
    let mut l = Live::new();
    l.run(70);
    let n = l.w.hinted_part();
    let PartRead::Data { chunks, complete } = l.w.read_part(n, 0) else {
        panic!("hinted part is being written")
    };
    assert!(!complete);
    let seen = chunks.len();
    assert!(matches!(l.w.read_part(n + 1, 0), PartRead::NotYet));
    assert!(matches!(l.w.read_part(n + 2, 0), PartRead::Unknown));
    // Another frame appends to it (or completes it and starts the next).
    let changes = l.step();
    assert!(!changes.is_empty());
    match l.w.read_part(n, seen) {
        PartRead::Data { chunks, .. } => assert!(chunks.len() <= 1),
        other => panic!("{other:?}"),
    }
}

#[test]
fn ended_stream_gets_endlist_and_no_hint() {
    let mut l = Live::new();
    l.run(200);
    l.p.end(0);
    while let Some(e) = l.p.poll_event() {
        l.w.apply(e);
    }
    l.w.finish();
    let text = l.w.render(false);
    let pl = validate(&text).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    assert!(pl.ended);
    assert!(pl.preload_hint.is_none());
    let total: f64 = pl.segments.iter().map(|s| s.duration).sum();
    assert!((total - 200.0 / 30.0).abs() < 0.1, "{total}");
    assert_eq!(l.w.readiness(999, Some(0)), Readiness::Ready);
}

#[test]
fn validator_rejects_broken_playlists() {
    let good = "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:2\n#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.75\n#EXT-X-PART-INF:PART-TARGET=0.25\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-MAP:URI=\"i.mp4\"\n#EXT-X-PART:DURATION=0.25,URI=\"p0.m4s\",INDEPENDENT=YES\n#EXT-X-PART:DURATION=0.25,URI=\"p1.m4s\"\n#EXTINF:0.5,\ns0.m4s\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"p2.m4s\"\n";
    validate(good).unwrap();
    let cases = [
        (
            good.replace("DURATION=0.25,URI=\"p1", "DURATION=0.3,URI=\"p1"),
            "over PART-TARGET",
        ),
        (
            good.replace("#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"p2.m4s\"\n", ""),
            "preload hint",
        ),
        (good.replace("p2.m4s", "p1.m4s"), "already listed"),
        (
            good.replace("PART-HOLD-BACK=0.75", "PART-HOLD-BACK=0.3"),
            "PART-HOLD-BACK",
        ),
        (good.replace("#EXTINF:0.5", "#EXTINF:0.9"), "sum to"),
        (good.replace("#EXTINF:0.5", "#EXTINF:2.6"), "TARGETDURATION"),
        (good.replace("#EXT-X-MAP:URI=\"i.mp4\"\n", ""), "EXT-X-MAP"),
        (good.replace(",INDEPENDENT=YES", ""), "INDEPENDENT"),
        (
            good.replace("CAN-BLOCK-RELOAD=YES,", ""),
            "CAN-BLOCK-RELOAD",
        ),
    ];
    for (text, needle) in cases {
        let errs = validate(&text).expect_err(needle);
        assert!(
            errs.iter().any(|e| e.contains(needle)),
            "{needle}: {errs:?}"
        );
    }
}

#[test]
fn query_parsing() {
    assert_eq!(
        PlaylistQuery::parse("_HLS_msn=12&_HLS_part=3&_HLS_skip=YES").unwrap(),
        PlaylistQuery {
            msn: Some(12),
            part: Some(3),
            skip: true
        }
    );
    assert_eq!(
        PlaylistQuery::parse("_HLS_part=3"),
        Err(QueryError::PartWithoutMsn)
    );
    assert!(PlaylistQuery::parse("_HLS_msn=x").is_err());
    assert_eq!(PlaylistQuery::parse("").unwrap(), PlaylistQuery::default());
}

#[test]
fn dates() {
    assert_eq!(rfc3339_millis(0), "1970-01-01T00:00:00.000Z");
    assert_eq!(
        rfc3339_millis(1_795_520_858_123),
        "2026-11-24T11:47:38.123Z"
    );
    assert_eq!(rfc3339_millis(951_782_400_000), "2000-02-29T00:00:00.000Z");
}
