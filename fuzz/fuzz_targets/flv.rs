//! FLV audio/video tag bodies (legacy and enhanced RTMP) and FLV files.
#![no_main]
use bytes::Bytes;
use hawker_media::flv;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let b = Bytes::copy_from_slice(data);
    let _ = flv::parse_video(&b);
    let _ = flv::parse_audio(&b);
    let mut file = b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00".to_vec();
    file.extend_from_slice(data);
    let _ = flv::read_file(&Bytes::from(file));
});
