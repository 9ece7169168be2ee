//! What WebRTC hands the packager: H.264 access units in Annex B (parameter sets in band) and
//! Opus packets (their TOC byte says how long they are).
#![no_main]
use hawker_media::annexb::{nal_units, AvcAssembler};
use hawker_media::codec::opus_packet_samples;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let total: usize = nal_units(data).iter().map(|u| u.len()).sum();
    assert!(total <= data.len());
    let mut a = AvcAssembler::new();
    // The same bytes twice: a second access unit with the parameter sets of the first.
    for _ in 0..2 {
        if let Ok(Some(f)) = a.push(data) {
            assert!(a.config().is_some());
            assert!(f.data.len() >= 4);
        }
    }
    if let Some(n) = opus_packet_samples(data) {
        assert!(n > 0 && n <= 5760);
    }
});
