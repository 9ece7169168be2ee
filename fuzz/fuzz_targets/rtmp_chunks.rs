//! The RTMP chunk, control and AMF command layers, past a valid handshake so every input
//! reaches them.
#![no_main]
use hawker_media::rtmp::{ServerConfig, ServerEvent, ServerSession, HANDSHAKE_SIZE};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else { return };
    let mut s = ServerSession::new(ServerConfig::default());
    let mut handshake = vec![3u8];
    handshake.extend(std::iter::repeat_n(7u8, 2 * HANDSHAKE_SIZE));
    s.handle_input(&handshake).expect("valid handshake");
    for piece in rest.chunks(split as usize * 4 + 1) {
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
});
