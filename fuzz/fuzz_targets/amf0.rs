//! AMF0: never panics; whatever decodes re-encodes to bytes that decode to the same bytes again.
#![no_main]
use hawker_media::amf0;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(values) = amf0::decode_all(data) {
        let once = amf0::encode_all(&values);
        let again = amf0::decode_all(&once).expect("our own encoding decodes");
        assert_eq!(amf0::encode_all(&again), once, "encoding is stable");
    }
});
