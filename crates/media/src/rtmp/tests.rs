use super::*;
use proptest::prelude::*;

/// Shuttles bytes between a client and a server until neither has anything to say, feeding the
/// server in pieces of `split` bytes.
fn pump(c: &mut ClientSession, s: &mut ServerSession, split: usize) -> Vec<ServerEvent> {
    let mut events = Vec::new();
    for _ in 0..64 {
        let mut moved = false;
        while let Some(b) = c.take_output() {
            moved = true;
            for piece in b.chunks(split.max(1)) {
                s.handle_input(piece).unwrap();
            }
        }
        while let Some(e) = s.poll_event() {
            if let ServerEvent::PublishRequested {
                stream_id, name, ..
            } = &e
            {
                if name == "good-key" {
                    s.accept_publish(*stream_id).unwrap();
                } else {
                    s.reject_publish(
                        *stream_id,
                        &PublishRejection {
                            code: "NetStream.Publish.BadName",
                            description: "unknown stream key".into(),
                        },
                    );
                }
            }
            events.push(e);
        }
        while let Some(b) = s.take_output() {
            moved = true;
            c.handle_input(&b).unwrap();
        }
        if !moved {
            break;
        }
    }
    events
}

#[test]
fn publisher_goes_live_and_media_arrives() {
    let mut c = ClientSession::new("live", "rtmp://127.0.0.1/live", "good-key", 7);
    let mut s = ServerSession::new(ServerConfig::default());
    let ev = pump(&mut c, &mut s, 1000);
    assert!(matches!(ev[0], ServerEvent::Connected { ref app, .. } if app == "live"));
    assert!(matches!(ev[1], ServerEvent::PublishRequested { ref name, .. } if name == "good-key"));
    assert_eq!(
        c.poll_event(),
        Some(ClientEvent::Publishing { stream_id: 1 })
    );

    c.send_metadata(Amf0Value::EcmaArray(vec![(
        "width".into(),
        Amf0Value::Number(640.0),
    )]));
    let frame = Bytes::from(vec![0x17u8; 10_000]);
    c.send_video(40, frame.clone());
    c.send_audio(41, Bytes::from_static(&[0xAF, 1, 2, 3]));
    c.unpublish();
    let ev = pump(&mut c, &mut s, 333);
    assert!(matches!(ev[0], ServerEvent::Metadata { .. }));
    assert_eq!(
        ev[1],
        ServerEvent::Video {
            stream_id: 1,
            timestamp: 40,
            data: frame
        }
    );
    assert!(matches!(ev[2], ServerEvent::Audio { timestamp: 41, .. }));
    assert_eq!(ev[3], ServerEvent::Unpublished { stream_id: 1 });
}

#[test]
fn unknown_key_is_rejected_with_status() {
    let mut c = ClientSession::new("live", "rtmp://127.0.0.1/live", "bad-key", 7);
    let mut s = ServerSession::new(ServerConfig::default());
    pump(&mut c, &mut s, 4096);
    assert!(s.is_closing());
    assert_eq!(
        c.poll_event(),
        Some(ClientEvent::Rejected {
            code: "NetStream.Publish.BadName".into(),
            description: "unknown stream key".into()
        })
    );
}

#[test]
fn unknown_app_is_rejected_at_connect() {
    let mut c = ClientSession::new("vod", "rtmp://127.0.0.1/vod", "good-key", 7);
    let mut s = ServerSession::new(ServerConfig::default());
    pump(&mut c, &mut s, 4096);
    assert!(s.is_closing());
    assert!(
        matches!(c.poll_event(), Some(ClientEvent::Rejected { code, .. }) if code == "NetConnection.Connect.Rejected")
    );
}

#[test]
fn wrong_version_fails_handshake() {
    let mut s = ServerSession::new(ServerConfig::default());
    let mut c0c1 = vec![6u8];
    c0c1.extend(std::iter::repeat_n(0u8, HANDSHAKE_SIZE));
    assert!(matches!(
        s.handle_input(&c0c1),
        Err(RtmpError::Handshake(_))
    ));
}

#[test]
fn aggregate_messages_are_split() {
    let mut body = Vec::new();
    for (ts, byte) in [(100u32, 0x17u8), (133, 0x27)] {
        body.extend_from_slice(&[msg_type::VIDEO, 0, 0, 2]);
        body.extend_from_slice(&[(ts >> 16) as u8, (ts >> 8) as u8, ts as u8, 0]);
        body.extend_from_slice(&[0, 0, 0, byte, 1, 0, 0, 0, 13]);
    }
    let m = Message {
        csid: 6,
        type_id: msg_type::AGGREGATE,
        stream_id: 1,
        timestamp: 5000,
        payload: Bytes::from(body),
    };
    let parts = split_aggregate(&m).unwrap();
    assert_eq!(
        parts.iter().map(|p| p.timestamp).collect::<Vec<_>>(),
        vec![5000, 5033]
    );
    assert_eq!(&parts[1].payload[..], &[0x27, 1]);
}

proptest! {
    /// Whatever a publisher sends after the handshake, the session answers with an error or
    /// keeps going; it never panics.
    #[test]
    fn hostile_input_never_panics(garbage in prop::collection::vec(any::<u8>(), 0..4096), split in 1usize..512) {
        let mut c = ClientSession::new("live", "rtmp://h/live", "good-key", 1);
        let mut s = ServerSession::new(ServerConfig { limits: ChunkLimits { max_message_bytes: 65536, max_open_streams: 8, max_pending_bytes: 1 << 20 }, ..Default::default() });
        pump(&mut c, &mut s, 4096);
        for piece in garbage.chunks(split) {
            if s.handle_input(piece).is_err() { break; }
            while s.poll_event().is_some() {}
            let _ = s.take_output();
        }
    }

    /// Handshake bytes themselves, cut anywhere.
    #[test]
    fn arbitrary_bytes_from_the_start(bytes in prop::collection::vec(any::<u8>(), 0..8192)) {
        let mut s = ServerSession::new(ServerConfig::default());
        let _ = s.handle_input(&bytes);
        while s.poll_event().is_some() {}
    }
}
