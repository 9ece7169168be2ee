//! The RTMP server session from the first byte: handshake, chunks, commands, in pieces of a
//! fuzzer-chosen size, accepting every publish so media paths are reached.
#![no_main]
use hawker_media::rtmp::{ServerConfig, ServerEvent, ServerSession};
use libfuzzer_sys::fuzz_target;

pub fn drive(s: &mut ServerSession, data: &[u8], split: usize) {
    for piece in data.chunks(split.max(1)) {
        if s.handle_input(piece).is_err() {
            return;
        }
        while let Some(ev) = s.poll_event() {
            if let ServerEvent::PublishRequested { stream_id, .. } = ev {
                let _ = s.accept_publish(stream_id);
            }
        }
        let _ = s.take_output();
        if s.is_closing() {
            return;
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else { return };
    let mut s = ServerSession::new(ServerConfig::default());
    drive(&mut s, rest, split as usize * 8 + 1);
});
