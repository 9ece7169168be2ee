use super::*;
use crate::moderation::KeywordFilter;

fn room(node: NodeId) -> Room {
    Room::new(
        RoomConfig {
            owner: Some(1),
            ..Default::default()
        },
        node,
        format!("epoch{node}"),
        node as u64 * 7919,
        KeywordFilter::new(&["scamlink".into()], &["fake".into()]),
        Sanctions::default(),
        RoomState::default(),
        0,
    )
}

fn member(account: Option<i64>, badges: &[Badge]) -> Member {
    Member {
        account,
        name: format!("user{}", account.unwrap_or(0)),
        badges: badges.to_vec(),
    }
}

fn joiner(account: Option<i64>, badges: &[Badge]) -> Joiner {
    Joiner {
        member: member(account, badges),
        permissions: None,
        ip: format!("10.0.0.{}", account.unwrap_or(0)),
        viewer_key: format!("v{}", account.unwrap_or(0)),
        resume: None,
        playback_token: None,
    }
}

fn drain(r: &mut Room) -> Vec<Output> {
    std::iter::from_fn(|| r.poll_output()).collect()
}

fn sent(outs: &[Output], conn: ConnId) -> Vec<ServerFrame> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Send(c, f) if *c == conn => Some(f.clone()),
            _ => None,
        })
        .collect()
}

fn broadcasts(outs: &[Output], lane: Lane) -> Vec<ServerFrame> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Broadcast(l, json) if *l == lane => Some(serde_json::from_str(json).unwrap()),
            _ => None,
        })
        .collect()
}

fn batch_texts(frames: &[ServerFrame]) -> Vec<String> {
    frames
        .iter()
        .flat_map(|f| match f {
            ServerFrame::Batch { items, .. } => items.clone(),
            _ => vec![],
        })
        .filter_map(|s| match s.item {
            StreamItem::Comment(c) => Some(c.text),
            _ => None,
        })
        .collect()
}

fn say(r: &mut Room, conn: ConnId, text: &str, now: u64) {
    r.client(conn, ClientMsg::Comment { text: text.into() }, now);
}

fn error_codes(outs: &[Output], conn: ConnId) -> Vec<String> {
    sent(outs, conn)
        .into_iter()
        .filter_map(|f| match f {
            ServerFrame::Error { code, .. } => Some(code),
            _ => None,
        })
        .collect()
}

#[test]
fn comments_reach_everyone_in_the_next_batch() {
    let mut r = room(1);
    r.join(10, joiner(Some(2), &[]), 0);
    r.join(11, joiner(None, &[]), 0);
    let outs = drain(&mut r);
    assert!(matches!(
        sent(&outs, 10)[0],
        ServerFrame::Welcome {
            can_comment: true,
            ..
        }
    ));
    assert!(matches!(
        sent(&outs, 11)[0],
        ServerFrame::Welcome {
            can_comment: false,
            ..
        }
    ));
    say(&mut r, 10, "  how much is the jade?  ", 10);
    say(&mut r, 11, "anonymous words", 10);
    let outs = drain(&mut r);
    assert_eq!(error_codes(&outs, 11), vec!["login_required"]);
    assert!(
        broadcasts(&outs, Lane::Stream).is_empty(),
        "batched, not sent at once"
    );
    assert!(
        outs.iter()
            .any(|o| matches!(o, Output::Record(Record::Comment { .. }))),
        "chat is kept"
    );
    r.tick(150);
    let outs = drain(&mut r);
    assert_eq!(
        batch_texts(&broadcasts(&outs, Lane::Stream)),
        vec!["how much is the jade?"]
    );
    assert!(outs
        .iter()
        .any(|o| matches!(o, Output::Publish(BusEvent::Stream { .. }))));
}

#[test]
fn busy_rooms_are_sampled_but_staff_always_get_through() {
    let mut r = room(1);
    r.join(1, joiner(Some(1), &[Badge::Host]), 0);
    for a in 2..502 {
        r.join(a as u64, joiner(Some(a), &[]), 0);
    }
    drain(&mut r);
    for a in 2..502u64 {
        say(&mut r, a, &format!("comment {a}"), 10);
    }
    say(&mut r, 1, "host speaking", 10);
    r.tick(150);
    let outs = drain(&mut r);
    let frames = broadcasts(&outs, Lane::Stream);
    match &frames[0] {
        ServerFrame::Batch { items, sampled_out } => {
            assert_eq!(items.len(), 40);
            assert_eq!(*sampled_out, 461);
            let texts = batch_texts(&frames);
            assert!(texts.contains(&"host speaking".to_string()));
            let seqs: Vec<u64> = items.iter().map(|i| i.seq).collect();
            assert_eq!(
                seqs,
                (1..=40).collect::<Vec<_>>(),
                "sequence numbers without gaps"
            );
        }
        other => panic!("{other:?}"),
    }
    // Every accepted comment still goes to the other nodes, which sample for themselves.
    let published = outs.iter().find_map(|o| match o {
        Output::Publish(BusEvent::Stream { items, .. }) => Some(items.len()),
        _ => None,
    });
    assert_eq!(published, Some(501));
}

#[test]
fn resume_continues_without_gaps_or_says_what_was_skipped() {
    let mut r = room(1);
    r.join(1, joiner(Some(2), &[Badge::Host]), 0);
    drain(&mut r);
    for i in 0..30u64 {
        say(&mut r, 1, &format!("c{i}"), i * 200);
        r.tick(i * 200 + 150);
    }
    drain(&mut r);
    let mut j = joiner(Some(3), &[]);
    j.resume = Some(("epoch1".into(), 25));
    r.join(2, j, 10_000);
    match &sent(&drain(&mut r), 2)[0] {
        ServerFrame::Welcome {
            history,
            resumed,
            skipped,
            seq,
            ..
        } => {
            assert!(resumed);
            assert_eq!(*skipped, None);
            assert_eq!(
                history.iter().map(|h| h.seq).collect::<Vec<_>>(),
                vec![26, 27, 28, 29, 30]
            );
            assert_eq!(*seq, 30);
        }
        f => panic!("{f:?}"),
    }
    // Another node's sequence numbers mean nothing here: a fresh start.
    let mut j = joiner(Some(4), &[]);
    j.resume = Some(("epoch9".into(), 25));
    r.join(3, j, 10_000);
    assert!(matches!(
        &sent(&drain(&mut r), 3)[0],
        ServerFrame::Welcome { resumed: false, .. }
    ));
    // Too far back for the resume buffer.
    let mut small = Room::new(
        RoomConfig {
            resume_len: 5,
            ..Default::default()
        },
        1,
        "e".into(),
        3,
        KeywordFilter::default(),
        Sanctions::default(),
        RoomState::default(),
        0,
    );
    small.join(1, joiner(Some(2), &[Badge::Host]), 0);
    for i in 0..20u64 {
        say(&mut small, 1, &format!("c{i}"), i * 200);
        small.tick(i * 200 + 150);
    }
    let mut j = joiner(Some(3), &[]);
    j.resume = Some(("e".into(), 3));
    small.join(2, j, 10_000);
    match &sent(&drain(&mut small), 2)[0] {
        ServerFrame::Welcome {
            resumed, skipped, ..
        } => {
            assert!(!resumed);
            assert_eq!(*skipped, Some(12), "items 4..=15 are gone");
        }
        f => panic!("{f:?}"),
    }
}

#[test]
fn only_sessions_the_origin_delivers_media_to_are_viewers() {
    let mut r = room(1);
    for c in 1..=3u64 {
        r.join(c, joiner(Some(c as i64 + 10), &[]), 0);
    }
    r.join(4, joiner(None, &[]), 0);
    assert_eq!(r.counters(100).viewers, 0, "connected is not watching");
    // Every socket claims to play, with positions advancing in step with the clock: a
    // viewbot's heartbeats. Not one fetched media, so none counts.
    for k in 0..=6u64 {
        for c in 1..=4u64 {
            heartbeat(&mut r, c, k as f64, 1_000 + k * 1_000);
        }
    }
    assert_eq!(r.counters(7_000).viewers, 0, "heartbeats alone never count");
    assert_eq!(r.counters(7_000).unique_viewers, 0);
    // The origin delivers media to 1 and 2.
    r.media(1, 7_000);
    r.media(2, 7_500);
    assert_eq!(r.counters(8_000).viewers, 2);
    assert_eq!(r.counters(8_000).unique_viewers, 2);
    r.tick(8_000);
    // A player that says it paused is not counted while media still reaches it.
    r.client(
        2,
        ClientMsg::Heartbeat {
            playing: false,
            position: 7.0,
        },
        8_000,
    );
    r.media(2, 8_500);
    assert_eq!(r.counters(9_000).viewers, 1);
    // Deliveries stop: no longer counted after the window; peak and unique remain.
    r.tick(9_000);
    assert_eq!(r.counters(17_000).viewers, 1);
    assert_eq!(r.counters(17_001).viewers, 0);
    assert_eq!(r.counters(17_001).peak_viewers, 2);
    assert_eq!(r.counters(17_001).unique_viewers, 2);
}

#[test]
fn one_address_counts_at_most_its_cap() {
    let mut r = room(1);
    // 50 real players behind one address, and 2 elsewhere.
    for c in 1..=50u64 {
        let mut j = joiner(None, &[]);
        j.ip = "203.0.113.9".into();
        j.viewer_key = format!("anon:{c}");
        r.join(c, j, 0);
        r.media(c, 1_000);
    }
    r.join(51, joiner(Some(51), &[]), 0);
    r.join(52, joiner(Some(52), &[]), 0);
    r.media(51, 1_000);
    r.media(52, 1_000);
    let cap = RoomConfig::default().audience.max_per_address;
    assert_eq!(r.counters(2_000).viewers, cap + 2);
    assert_eq!(
        r.counters(2_000).unique_viewers,
        cap + 2,
        "unique viewers are capped alike"
    );
}

#[test]
fn sessions_record_the_bot_signals() {
    let mut r = room(1);
    go_live(&mut r, 7, ShowPhase::Live, 0);
    r.join(1, joiner(Some(11), &[]), 0);
    // A script: a heartbeat every 5,000 ms exactly, never a media request.
    for k in 0..10u64 {
        heartbeat(&mut r, 1, k as f64 * 5.0, 1_000 + k * 5_000);
    }
    r.leave(1, 60_000);
    let rec = drain(&mut r)
        .into_iter()
        .find_map(|o| match o {
            Output::Record(Record::Session {
                network,
                media_deliveries,
                heartbeats,
                cadence_jitter_ms,
                counted,
                ..
            }) => Some((
                network,
                media_deliveries,
                heartbeats,
                cadence_jitter_ms,
                counted,
            )),
            _ => None,
        })
        .expect("a session record");
    assert_eq!(rec, ("10.0.0.0/24".to_string(), 0, 10, Some(0), false));
}

#[test]
fn moderation_rules() {
    let mut r = room(1);
    r.join(1, joiner(Some(1), &[Badge::Host]), 0);
    let mut m = joiner(Some(2), &[Badge::Moderator]);
    m.permissions = Some(Permissions {
        mute: true,
        delete: true,
        ..Default::default()
    });
    r.join(2, m, 0);
    r.join(3, joiner(Some(3), &[]), 0);
    r.join(4, joiner(Some(4), &[]), 0);
    r.join(5, joiner(Some(4), &[]), 0); // account 4's second tab
    drain(&mut r);

    say(&mut r, 3, "is this f a k e?", 10);
    say(&mut r, 3, "go to SCAMLINK", 10);
    let outs = drain(&mut r);
    assert_eq!(
        error_codes(&outs, 3),
        vec!["blocked_keyword", "blocked_keyword"]
    );

    // A viewer cannot moderate; a moderator cannot ban without the right; nobody sanctions the host.
    r.client(
        3,
        ClientMsg::Ban {
            account: 4,
            reason: RuleViolation::Spam,
        },
        20,
    );
    r.client(
        2,
        ClientMsg::Ban {
            account: 4,
            reason: RuleViolation::Spam,
        },
        20,
    );
    r.client(
        2,
        ClientMsg::Mute {
            account: 1,
            seconds: 60,
            reason: RuleViolation::Abuse,
        },
        20,
    );
    let outs = drain(&mut r);
    assert_eq!(error_codes(&outs, 3), vec!["forbidden"]);
    assert_eq!(error_codes(&outs, 2), vec!["forbidden", "forbidden"]);

    // Mute, audited and published.
    r.client(
        2,
        ClientMsg::Mute {
            account: 3,
            seconds: 60,
            reason: RuleViolation::Abuse,
        },
        30,
    );
    let outs = drain(&mut r);
    assert!(outs.iter().any(|o| matches!(
        o,
        Output::Record(Record::Moderation {
            action: "mute",
            actor: 2,
            ..
        })
    )));
    assert!(outs
        .iter()
        .any(|o| matches!(o, Output::Publish(BusEvent::Sanction { .. }))));
    say(&mut r, 3, "hello?", 40);
    assert_eq!(error_codes(&drain(&mut r), 3), vec!["muted"]);
    say(&mut r, 3, "hello again", 61_000);
    assert!(
        error_codes(&drain(&mut r), 3).is_empty(),
        "the mute expired"
    );

    // Shadow ban: the author sees their comment (in every tab), nobody else does.
    r.client(
        1,
        ClientMsg::ShadowBan {
            account: 4,
            reason: RuleViolation::Spam,
        },
        61_000,
    );
    say(&mut r, 4, "buy followers here", 61_100);
    r.tick(61_200);
    let outs = drain(&mut r);
    assert!(matches!(sent(&outs, 4)[..], [ServerFrame::Echo { .. }]));
    assert!(matches!(sent(&outs, 5)[..], [ServerFrame::Echo { .. }]));
    assert!(!batch_texts(&broadcasts(&outs, Lane::Stream)).contains(&"buy followers here".into()));

    // Delete: only for a rule violation, audited, and removed from history.
    let id = match broadcasts(&outs, Lane::Stream)
        .iter()
        .flat_map(|f| match f {
            ServerFrame::Batch { items, .. } => items.clone(),
            _ => vec![],
        })
        .next()
        .map(|s| s.item)
    {
        Some(StreamItem::Comment(c)) => c.id,
        other => panic!("{other:?}"),
    };
    r.client(
        2,
        ClientMsg::Delete {
            id,
            reason: RuleViolation::Spam,
            note: "link spam".into(),
        },
        61_300,
    );
    r.tick(61_400);
    let outs = drain(&mut r);
    assert!(broadcasts(&outs, Lane::Stream).iter().any(|f| matches!(f, ServerFrame::Batch { items, .. } if matches!(items[0].item, StreamItem::Deleted { .. }))));
    r.join(9, joiner(Some(9), &[]), 62_000);
    match &sent(&drain(&mut r), 9)[0] {
        ServerFrame::Welcome { history, .. } => assert!(history
            .iter()
            .all(|h| !matches!(&h.item, StreamItem::Comment(c) if c.id == id))),
        f => panic!("{f:?}"),
    }

    // Ban closes every connection of the account and keeps it out.
    r.client(
        1,
        ClientMsg::Ban {
            account: 4,
            reason: RuleViolation::Scam,
        },
        63_000,
    );
    let outs = drain(&mut r);
    let closed: Vec<ConnId> = outs
        .iter()
        .filter_map(|o| match o {
            Output::Close(c, code, _) if *code == close::BANNED => Some(*c),
            _ => None,
        })
        .collect();
    assert_eq!(closed.len(), 2);
    r.join(6, joiner(Some(4), &[]), 64_000);
    assert!(matches!(
        drain(&mut r)[..],
        [Output::Close(6, close::BANNED, _)]
    ));

    // Slow mode is state everyone sees and applies to viewers, not staff.
    r.client(1, ClientMsg::SlowMode { seconds: 10 }, 65_000);
    let outs = drain(&mut r);
    assert!(broadcasts(&outs, Lane::State)
        .iter()
        .any(|f| matches!(f, ServerFrame::State { state, .. } if state.slow_mode_s == 10)));
    say(&mut r, 9, "one", 66_000);
    say(&mut r, 9, "two", 67_000);
    say(&mut r, 1, "host one", 66_000);
    say(&mut r, 1, "host two", 67_000);
    let outs = drain(&mut r);
    assert_eq!(error_codes(&outs, 9), vec!["slow_mode"]);
    assert!(error_codes(&outs, 1).is_empty());
}

#[test]
fn floods_are_rate_limited_then_disconnected() {
    let mut r = room(1);
    r.join(1, joiner(Some(5), &[]), 0);
    drain(&mut r);
    for i in 0..60 {
        say(&mut r, 1, &format!("spam {i}"), 100);
    }
    let outs = drain(&mut r);
    let codes = error_codes(&outs, 1);
    assert_eq!(
        codes.iter().filter(|c| *c == "rate_limited").count(),
        55,
        "5 in the burst, then refused"
    );
    assert!(outs
        .iter()
        .any(|o| matches!(o, Output::Close(1, close::FLOODING, _))));
}

#[test]
fn nodes_share_a_room_through_bus_events() {
    let (mut a, mut b) = (room(1), room(2));
    a.join(1, joiner(Some(2), &[]), 0);
    b.join(1, joiner(Some(3), &[]), 0);
    a.client(
        1,
        ClientMsg::Heartbeat {
            playing: true,
            position: 0.0,
        },
        0,
    );
    b.client(
        1,
        ClientMsg::Heartbeat {
            playing: true,
            position: 0.0,
        },
        0,
    );
    a.client(
        1,
        ClientMsg::Heartbeat {
            playing: true,
            position: 5.0,
        },
        5_000,
    );
    b.client(
        1,
        ClientMsg::Heartbeat {
            playing: true,
            position: 5.0,
        },
        5_000,
    );
    a.media(1, 5_000);
    b.media(1, 5_000);
    drain(&mut a);
    drain(&mut b);
    say(&mut a, 1, "from node a", 5_100);
    a.client(1, ClientMsg::Like { n: 3 }, 5_100);
    a.set_state(
        StateChange::Pinned(vec![PinnedProduct {
            product_id: 7,
            title: "Jade bracelet".into(),
            price: "¥880.00".into(),
            seller: "Intime".into(),
            image_url: None,
            sponsored: false,
            ..Default::default()
        }]),
        5_100,
    );
    a.tick(5_200);
    b.tick(5_200);
    // Deliver a's bus events to b, and b's to a.
    let from_a: Vec<BusEvent> = drain(&mut a)
        .into_iter()
        .filter_map(|o| match o {
            Output::Publish(e) => Some(e),
            _ => None,
        })
        .collect();
    let from_b: Vec<BusEvent> = drain(&mut b)
        .into_iter()
        .filter_map(|o| match o {
            Output::Publish(e) => Some(e),
            _ => None,
        })
        .collect();
    for e in from_a {
        let wire = serde_json::to_string(&e).unwrap();
        b.remote(serde_json::from_str(&wire).unwrap(), 5_250);
    }
    for e in from_b {
        a.remote(e, 5_250);
    }
    b.tick(5_400);
    let outs = drain(&mut b);
    assert_eq!(
        batch_texts(&broadcasts(&outs, Lane::Stream)),
        vec!["from node a"]
    );
    assert!(broadcasts(&outs, Lane::State)
        .iter()
        .any(|f| matches!(f, ServerFrame::State { state, .. } if state.pinned.len() == 1)));
    let c = b.counters(5_400);
    assert_eq!((c.viewers, c.unique_viewers, c.likes), (2, 2, 3));
    let c = a.counters(5_400);
    assert_eq!((c.viewers, c.unique_viewers), (2, 2));
}

#[test]
fn platform_notices_reach_the_stream_but_leave_the_hosts_announcement() {
    let mut r = room(1);
    r.join(10, joiner(Some(2), &[]), 0);
    drain(&mut r);
    r.notice("Ad · paid partnership: Night cream".into(), "Hawker".into());
    r.tick(150);
    let outs = drain(&mut r);
    let items: Vec<StreamItem> = broadcasts(&outs, Lane::Stream)
        .into_iter()
        .flat_map(|f| match f {
            ServerFrame::Batch { items, .. } => items,
            _ => vec![],
        })
        .map(|s| s.item)
        .collect();
    assert_eq!(
        items,
        vec![StreamItem::Announcement {
            text: "Ad · paid partnership: Night cream".into(),
            by: "Hawker".into()
        }]
    );
    assert!(
        outs.iter()
            .any(|o| matches!(o, Output::Publish(BusEvent::Stream { .. }))),
        "other nodes hear it"
    );
    assert!(
        broadcasts(&outs, Lane::State).is_empty(),
        "the state (and the host's announcement) is untouched"
    );
}

#[test]
fn a_hosts_announcement_with_a_banned_claim_is_refused() {
    let mut r = Room::new(
        RoomConfig {
            owner: Some(1),
            banned_claims: vec!["cures".into(), "最佳".into()],
            ..Default::default()
        },
        1,
        "epoch".into(),
        7,
        KeywordFilter::new(&[], &[]),
        Sanctions::default(),
        RoomState::default(),
        0,
    );
    r.join(10, joiner(Some(1), &[Badge::Host]), 0);
    drain(&mut r);
    for text in ["These peaches CURES colds", "今天最佳桃子"] {
        r.client(10, ClientMsg::Announce { text: text.into() }, 10);
        let outs = drain(&mut r);
        assert_eq!(error_codes(&outs, 10), vec!["banned_claim"], "{text}");
        assert!(
            !outs.iter().any(|o| matches!(o, Output::Record(_))),
            "{text}"
        );
    }
    r.client(
        10,
        ClientMsg::Announce {
            text: "Peaches ship Monday".into(),
        },
        20,
    );
    let outs = drain(&mut r);
    assert!(error_codes(&outs, 10).is_empty());
    assert!(outs.iter().any(|o| matches!(o, Output::Record(_))));
}

fn heartbeat(r: &mut Room, conn: ConnId, position: f64, now: u64) {
    r.client(
        conn,
        ClientMsg::Heartbeat {
            playing: true,
            position,
        },
        now,
    );
}

/// A real player: it says where it is, and the origin delivers it media.
fn plays(r: &mut Room, conn: ConnId, position: f64, now: u64) {
    heartbeat(r, conn, position, now);
    r.media(conn, now);
}

fn go_live(r: &mut Room, show: i64, phase: ShowPhase, now: u64) {
    r.set_state(
        StateChange::Show {
            show_id: Some(show),
            phase: Some(phase),
            title: "Harvest".into(),
        },
        now,
    );
}

/// The session records among `outs`: (show, account, joined, left, played, counted).
fn sessions(outs: &[Output]) -> Vec<(i64, Option<i64>, u64, u64, u64, bool)> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Record(Record::Session {
                show_id,
                account,
                joined_at_ms,
                left_at_ms,
                played_ms,
                counted,
                ..
            }) => Some((
                *show_id,
                *account,
                *joined_at_ms,
                *left_at_ms,
                *played_ms,
                *counted,
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn a_session_that_never_plays_is_recorded_uncounted_and_a_player_with_its_dwell() {
    let mut r = room(1);
    go_live(&mut r, 7, ShowPhase::Live, 0);
    r.join(1, joiner(Some(11), &[]), 1_000); // a real player
    r.join(2, joiner(None, &[]), 1_000); // a socket that never plays
    r.join(3, joiner(Some(13), &[]), 1_000); // says it plays, never advances
    r.join(4, joiner(Some(14), &[]), 1_000); // claims an impossible jump
    drain(&mut r);
    for k in 0..=12u64 {
        plays(&mut r, 1, k as f64 * 5.0, 2_000 + k * 5_000);
        heartbeat(&mut r, 3, 0.0, 2_000 + k * 5_000);
    }
    heartbeat(&mut r, 4, 0.0, 2_000);
    heartbeat(&mut r, 4, 900.0, 7_000);
    r.client(
        2,
        ClientMsg::Heartbeat {
            playing: false,
            position: 0.0,
        },
        2_000,
    );
    r.leave(2, 4_000);
    let outs = drain(&mut r);
    assert_eq!(sessions(&outs), vec![(7, None, 1_000, 4_000, 0, false)]);
    assert_eq!(outs.len(), 1, "leaving sends nothing on the wire: {outs:?}");
    r.leave(1, 63_000);
    r.leave(3, 63_000);
    r.leave(4, 63_000);
    let outs = drain(&mut r);
    assert_eq!(
        sessions(&outs),
        vec![
            (7, Some(11), 1_000, 63_000, 60_000, true),
            (7, Some(13), 1_000, 63_000, 0, false),
            (7, Some(14), 1_000, 63_000, 0, false),
        ]
    );
    r.leave(1, 64_000);
    assert!(drain(&mut r).is_empty(), "a connection leaves once");
}

#[test]
fn played_time_is_what_the_player_advanced_within_the_time_that_passed() {
    let mut r = room(1);
    go_live(&mut r, 7, ShowPhase::Live, 0);
    r.join(1, joiner(Some(11), &[]), 0);
    plays(&mut r, 1, 10.0, 1_000);
    heartbeat(&mut r, 1, 12.0, 6_000); // buffering: 2 s played in 5 s
    heartbeat(&mut r, 1, 24.0, 11_000); // catching up: 12 s in 5 s counts 5 s
    heartbeat(&mut r, 1, 84.0, 91_000); // silent for 80 s: at most the viewer timeout
    r.client(
        1,
        ClientMsg::Heartbeat {
            playing: false,
            position: 84.0,
        },
        92_000,
    );
    heartbeat(&mut r, 1, 90.0, 97_000); // paused, then playing again: a fresh start
    r.leave(1, 100_000);
    let outs = drain(&mut r);
    assert_eq!(
        sessions(&outs),
        vec![(7, Some(11), 0, 100_000, 2_000 + 5_000 + 20_000, true)]
    );
}

#[test]
fn sessions_belong_to_the_live_show_and_end_with_it_or_with_the_room() {
    let mut r = room(1);
    go_live(&mut r, 7, ShowPhase::Scheduled, 0);
    r.join(1, joiner(Some(11), &[]), 0);
    r.join(2, joiner(Some(12), &[]), 0);
    r.join(3, joiner(None, &[]), 0);
    r.leave(3, 5_000);
    assert!(
        sessions(&drain(&mut r)).is_empty(),
        "nothing is recorded while no show is live"
    );
    // The show goes live: the waiting viewers' sessions start now.
    go_live(&mut r, 7, ShowPhase::Live, 10_000);
    for k in 0..=4u64 {
        plays(&mut r, 1, k as f64 * 5.0, 10_000 + k * 5_000);
    }
    // The show ends: every open session is recorded at the end.
    go_live(&mut r, 7, ShowPhase::Ended, 40_000);
    let outs = drain(&mut r);
    assert_eq!(
        sessions(&outs),
        vec![
            (7, Some(11), 10_000, 40_000, 20_000, true),
            (7, Some(12), 10_000, 40_000, 0, false),
        ]
    );
    assert!(
        outs.iter()
            .any(|o| matches!(o, Output::Broadcast(Lane::State, _))),
        "the state change still goes out"
    );
    r.leave(2, 45_000);
    assert!(sessions(&drain(&mut r)).is_empty());

    // The next show, ended by another node: the same, from the bus event.
    go_live(&mut r, 8, ShowPhase::Live, 50_000);
    let mut other = room(2);
    other.set_state(
        StateChange::Show {
            show_id: Some(8),
            phase: Some(ShowPhase::Ended),
            title: "Harvest".into(),
        },
        60_000,
    );
    for o in drain(&mut other) {
        if let Output::Publish(ev @ BusEvent::State { .. }) = o {
            r.remote(ev, 60_000);
        }
    }
    assert_eq!(
        sessions(&drain(&mut r)),
        vec![(8, Some(11), 50_000, 60_000, 0, true)]
    );

    // A third show; the room stops while a viewer is still there.
    go_live(&mut r, 9, ShowPhase::Live, 70_000);
    r.join(4, joiner(Some(14), &[]), 71_000);
    drain(&mut r);
    r.stop(80_000);
    assert_eq!(
        sessions(&drain(&mut r)),
        vec![
            (9, Some(11), 70_000, 80_000, 0, true),
            (9, Some(14), 71_000, 80_000, 0, false),
        ]
    );
    assert_eq!(r.connections(), 0);
}
