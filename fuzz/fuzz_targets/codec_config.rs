//! Decoder configuration records: avcC (with its SPS), hvcC (with its SPS), AAC
//! AudioSpecificConfig.
#![no_main]
use bytes::Bytes;
use hawker_media::codec::{AudioConfig, VideoCodecKind, VideoConfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let b = Bytes::copy_from_slice(data);
    for kind in [VideoCodecKind::Avc, VideoCodecKind::Hevc] {
        if let Ok(c) = VideoConfig::parse(kind, b.clone()) {
            assert!(c.width > 0 && c.height > 0);
        }
    }
    let _ = AudioConfig::parse_aac(b);
});
