//! Packager + LL-HLS window under any sequence of frames, timestamps and reconnects: never
//! panics, and every playlist it renders can be rendered and queried.
#![no_main]
use bytes::Bytes;
use hawker_media::cmaf::{Packager, PackagerConfig};
use hawker_media::codec::{AudioConfig, VideoCodecKind, VideoConfig};
use hawker_media::hls::{LiveWindow, WindowConfig};
use libfuzzer_sys::fuzz_target;

const AVCC: &[u8] = include_bytes!("../../crates/media/testdata/avcc_320x240.bin");

fuzz_target!(|data: &[u8]| {
    let mut p = Packager::new(PackagerConfig::default());
    let mut w = LiveWindow::new(WindowConfig { max_segments: 4, ..Default::default() }, "f");
    let video = VideoConfig::parse(VideoCodecKind::Avc, Bytes::from_static(AVCC)).unwrap();
    let audio = AudioConfig::parse_aac(Bytes::from_static(&[0x12, 0x10])).unwrap();
    let mut ts: u32 = 0;
    for op in data.chunks(4) {
        let [kind, a, b, c] = [op[0], *op.get(1).unwrap_or(&0), *op.get(2).unwrap_or(&0), *op.get(3).unwrap_or(&0)];
        let step = u16::from_be_bytes([a, b]) as u32;
        match kind % 8 {
            0 => p.video_config(video.clone()),
            1 => p.audio_config(audio.clone()),
            2 | 3 => {
                ts = ts.wrapping_add(step % 200);
                p.push_video(ts, (c as i8) as i32, c & 1 == 1, Bytes::from(vec![0u8; (c % 16) as usize + 1]), ts as i64);
            }
            4 | 5 => {
                ts = ts.wrapping_add(step % 50);
                p.push_audio(ts, Bytes::from_static(&[1, 2, 3]), ts as i64);
            }
            6 => ts = ts.wrapping_add(step.wrapping_mul(c as u32 * 1000)), // jumps, wraps
            _ => p.end(ts as i64),
        }
        while let Some(ev) = p.poll_event() {
            w.apply(ev);
        }
        let _ = w.render(false);
        let _ = w.render(true);
        let _ = w.readiness(a as u64, Some(b as u32));
        let _ = w.read_part(c as u64, (a % 4) as usize);
    }
    w.finish();
    let _ = w.render(false);
});
