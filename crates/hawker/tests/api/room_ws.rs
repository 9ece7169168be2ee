//! The live room over real WebSockets: identity, comments between sockets, bad input,
//! moderation and its audit, keyword lists, follows and go-live notifications.

use crate::common;

use common::*;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn login_cookie(base: &str, email: &str, role: &str) -> String {
    let c = reqwest::Client::new();
    let r = c
        .post(format!("{base}/api/v1/accounts"))
        .json(&json!({"email": email, "password": "correct horse battery", "display_name": email.split('@').next().unwrap(), "role": role}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let set = r.headers()["set-cookie"].to_str().unwrap();
    set.split(';').next().unwrap().to_string()
}

async fn connect(base: &str, path: &str, cookie: Option<&str>) -> Ws {
    connect_from(base, path, cookie, None).await
}

/// `from`: the client address a trusted proxy reports.
async fn connect_from(base: &str, path: &str, cookie: Option<&str>, from: Option<&str>) -> Ws {
    let url = format!("{}{path}", base.replace("http://", "ws://"));
    let mut req = url.into_client_request().unwrap();
    if let Some(c) = cookie {
        req.headers_mut().insert("cookie", c.parse().unwrap());
    }
    if let Some(ip) = from {
        req.headers_mut()
            .insert("x-forwarded-for", ip.parse().unwrap());
    }
    tokio_tungstenite::connect_async(req)
        .await
        .expect("websocket connects")
        .0
}

/// The next text frame, as JSON.
async fn frame(ws: &mut Ws) -> Value {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a frame within 10 s")
        {
            Some(Ok(Message::Text(t))) => return serde_json::from_str(&t).unwrap(),
            Some(Ok(Message::Close(c))) => panic!("closed: {c:?}"),
            Some(Ok(_)) => continue,
            other => panic!("socket ended: {other:?}"),
        }
    }
}

async fn frame_of(ws: &mut Ws, t: &str) -> Value {
    loop {
        let f = frame(ws).await;
        if f["t"] == t {
            return f;
        }
    }
}

/// Waits for a batch carrying a comment with `text`.
async fn comment(ws: &mut Ws, text: &str) -> Value {
    loop {
        let f = frame_of(ws, "batch").await;
        if let Some(c) = f["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["k"] == "comment" && i["text"] == text)
        {
            return c.clone();
        }
    }
}

async fn closed_with(ws: &mut Ws) -> u16 {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("closes within 10 s")
        {
            Some(Ok(Message::Close(Some(c)))) => return c.code.into(),
            Some(Ok(_)) => continue,
            other => panic!("ended without a close frame: {other:?}"),
        }
    }
}

async fn say(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string().into())).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_over_websockets() {
    let s = start().await;
    let b = &s.base;
    let (host_http, ch) = streamer_channel(b, "anna-jewellery").await;
    let host = host_http
        .get(format!("{b}/api/v1/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(host.status(), 200);
    let fan = login_cookie(b, "fan@example.com", "viewer").await;
    let troll = login_cookie(b, "troll@example.com", "viewer").await;

    // Anonymous viewers watch and read, but cannot write.
    let mut anon = connect(b, "/live/anna-jewellery/room?anon=abcdef123456", None).await;
    let w = frame_of(&mut anon, "welcome").await;
    assert_eq!(w["can_comment"], false);
    assert_eq!(w["v"], 1);
    say(&mut anon, json!({"t": "comment", "text": "hi"})).await;
    assert_eq!(frame_of(&mut anon, "error").await["code"], "login_required");

    // A signed-in viewer's comment reaches everyone, with name and badges.
    let mut fan_ws = connect(b, "/live/anna-jewellery/room", Some(&fan)).await;
    let w = frame_of(&mut fan_ws, "welcome").await;
    assert_eq!(w["can_comment"], true);
    let epoch = w["epoch"].as_str().unwrap().to_string();
    say(
        &mut fan_ws,
        json!({"t": "comment", "text": "Is the jade certified?"}),
    )
    .await;
    let c = comment(&mut anon, "Is the jade certified?").await;
    assert_eq!(c["author"]["name"], "fan");
    let seq = c["seq"].as_u64().unwrap();

    // Bad input: an error frame, the socket stays; then limits close it with a reason.
    say(&mut fan_ws, json!({"t": "dance"})).await;
    assert_eq!(frame_of(&mut fan_ws, "error").await["code"], "malformed");
    fan_ws
        .send(Message::Text("{not json".into()))
        .await
        .unwrap();
    assert_eq!(frame_of(&mut fan_ws, "error").await["code"], "malformed");
    say(
        &mut fan_ws,
        json!({"t": "comment", "text": "x".repeat(300)}),
    )
    .await;
    assert_eq!(
        frame_of(&mut fan_ws, "error").await["code"],
        "invalid_field"
    );
    fan_ws
        .send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .unwrap();
    assert_eq!(closed_with(&mut fan_ws).await, 1008);
    let mut big = connect(b, "/live/anna-jewellery/room", Some(&fan)).await;
    frame_of(&mut big, "welcome").await;
    big.send(Message::Text("x".repeat(10_000).into()))
        .await
        .unwrap();
    assert_eq!(closed_with(&mut big).await, 1009);

    // Resume after a disconnect: exactly what came after the last sequence number seen.
    let mut again = connect(
        b,
        &format!("/live/anna-jewellery/room?since={epoch}:{}", seq - 1),
        Some(&fan),
    )
    .await;
    let w = frame_of(&mut again, "welcome").await;
    assert_eq!(w["resumed"], true);
    assert_eq!(w["history"][0]["text"], "Is the jade certified?");

    // The host's room: keywords, moderators, moderation, and the audit log.
    let r = host_http
        .post(format!("{b}/api/v1/channels/anna-jewellery/keywords"))
        .json(&json!({"words": ["counterfeit", "假货"]}))
        .send()
        .await
        .unwrap();
    let added: Value = r.json().await.unwrap();
    assert_eq!(added["added"], 2, "{added}");
    let r = host_http
        .post(format!("{b}/api/v1/channels/anna-jewellery/moderators"))
        .json(&json!({"email": "fan@example.com", "rights": {"pin": false, "mute": true, "ban": false, "delete": true, "announce": false}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let mut troll_ws = connect(b, "/live/anna-jewellery/room", Some(&troll)).await;
    let troll_id = frame_of(&mut troll_ws, "welcome").await["you"]["account"]
        .as_i64()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await; // keyword reload reaches the room
    say(
        &mut troll_ws,
        json!({"t": "comment", "text": "COUNTERFEIT stuff"}),
    )
    .await;
    assert_eq!(
        frame_of(&mut troll_ws, "error").await["code"],
        "blocked_keyword"
    );
    say(
        &mut troll_ws,
        json!({"t": "comment", "text": "this bracelet broke after a day"}),
    )
    .await;
    let negative = comment(&mut again, "this bracelet broke after a day").await;
    // The moderator (fan, re-joined to get the badge) mutes the troll and removes a comment
    // for a stated rule violation.
    let mut moderator = connect(b, "/live/anna-jewellery/room", Some(&fan)).await;
    let w = frame_of(&mut moderator, "welcome").await;
    assert_eq!(w["permissions"]["mute"], true);
    assert!(w["you"]["badges"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x == "moderator"));
    say(
        &mut moderator,
        json!({"t": "ban", "account": troll_id, "reason": "spam"}),
    )
    .await;
    assert_eq!(
        frame_of(&mut moderator, "error").await["code"],
        "forbidden",
        "no ban right"
    );
    say(
        &mut moderator,
        json!({"t": "delete", "id": negative["id"], "reason": "spam", "note": "test"}),
    )
    .await;
    say(
        &mut moderator,
        json!({"t": "mute", "account": troll_id, "seconds": 60, "reason": "abuse"}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    say(
        &mut troll_ws,
        json!({"t": "comment", "text": "let me speak"}),
    )
    .await;
    assert_eq!(frame_of(&mut troll_ws, "error").await["code"], "muted");
    tokio::time::sleep(Duration::from_millis(500)).await; // the record writer batches
    let log: Value = host_http
        .get(format!("{b}/api/v1/channels/anna-jewellery/moderation-log"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in ["mute", "delete", "filtered"] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    let del = log
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "delete")
        .unwrap();
    assert_eq!(del["reason"], "spam");
    assert_eq!(del["actor_name"], "fan");
    // Viewers cannot read the log; the troll cannot list keywords.
    let troll_http = reqwest::Client::new();
    let r = troll_http
        .get(format!("{b}/api/v1/channels/anna-jewellery/moderation-log"))
        .header("cookie", &troll)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = troll_http
        .get(format!("{b}/api/v1/channels/anna-jewellery/keywords"))
        .header("cookie", &troll)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = troll_http
        .get(format!("{b}/api/v1/keywords"))
        .header("cookie", &troll)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "the platform list is for admins");

    // Follow, then go live: the follower's notification socket hears of it.
    let r = troll_http
        .put(format!("{b}/api/v1/channels/anna-jewellery/follow"))
        .header("cookie", &fan)
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["following"], true);
    // Everyone in the room sees the follow.
    loop {
        let f = frame_of(&mut anon, "batch").await;
        if f["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["k"] == "event" && i["kind"] == "follow" && i["by"] == "fan")
        {
            break;
        }
    }
    let mut notes = connect(b, "/api/v1/notifications", Some(&fan)).await;
    let mut ffmpeg = ffmpeg_publish(&publish_url(&ch), 4);
    let n = frame_of(&mut notes, "notify").await;
    assert_eq!(n["channel"], "anna-jewellery");
    // The room's state says the show is live.
    let st = frame_of(&mut anon, "state").await;
    assert_eq!(st["state"]["phase"], "live");
    let _ = ffmpeg.wait();
    s.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flooding_closes_the_socket_and_spares_the_others() {
    // Behind a proxy that reports client addresses: the spammer and the reader differ.
    let s = start_with(|c| c.server.trust_forwarded_for = true).await;
    let b = &s.base;
    streamer_channel(b, "flood-room").await;
    let spammer = login_cookie(b, "spam@example.com", "viewer").await;
    let reader = login_cookie(b, "reader@example.com", "viewer").await;
    let mut bad = connect_from(
        b,
        "/live/flood-room/room",
        Some(&spammer),
        Some("203.0.113.7"),
    )
    .await;
    let mut good = connect_from(
        b,
        "/live/flood-room/room",
        Some(&reader),
        Some("198.51.100.2"),
    )
    .await;
    frame_of(&mut bad, "welcome").await;
    frame_of(&mut good, "welcome").await;
    for i in 0..80 {
        let _ = bad
            .send(Message::Text(
                json!({"t": "comment", "text": format!("spam {i}")})
                    .to_string()
                    .into(),
            ))
            .await;
    }
    assert_eq!(closed_with(&mut bad).await, 4029);
    say(&mut good, json!({"t": "comment", "text": "still here"})).await;
    comment(&mut good, "still here").await;
    s.running.shutdown().await;
}

/// The newest counters an observer sees within `wait` (counters frames come only when they
/// change): `last`, updated.
async fn counters_after(ws: &mut Ws, wait: Duration, last: &mut Value) -> Value {
    let until = tokio::time::Instant::now() + wait;
    while let Ok(Some(Ok(m))) = tokio::time::timeout_at(until, ws.next()).await {
        if let Message::Text(t) = m {
            let v: Value = serde_json::from_str(&t).unwrap();
            if v["t"] == "counters" {
                *last = v;
            }
        }
    }
    last.clone()
}

/// The viewbot attack of issue 22: 60 anonymous sockets from one address sending heartbeats
/// whose position advances a second a second, none fetching a playlist or a part, are no
/// viewers; players that fetch the live playlist with their playback token are, at most the
/// address's cap of them from one address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewbots_are_not_viewers_and_one_address_counts_its_cap() {
    let s = start_with(|c| c.server.trust_forwarded_for = true).await;
    let b = &s.base;
    let (_, ch) = streamer_channel(b, "bot-target").await;
    let mut ffmpeg = ffmpeg_publish(&publish_url(&ch), 60);
    let http = reqwest::Client::new();
    let playlist = format!("{b}/live/bot-target/index.m3u8");
    wait_until("the show is live", Duration::from_secs(20), || {
        let (http, playlist) = (http.clone(), playlist.clone());
        async move {
            let r = http.get(&playlist).send().await.ok()?;
            (r.status() == 200).then_some(())
        }
    })
    .await;
    let mut observer = connect_from(b, "/live/bot-target/room", None, Some("192.0.2.200")).await;
    let mut seen = frame_of(&mut observer, "welcome").await["counters"].clone();

    let mut bots = Vec::new();
    for _ in 0..60 {
        let mut ws = connect_from(b, "/live/bot-target/room", None, Some("203.0.113.50")).await;
        let w = frame_of(&mut ws, "welcome").await;
        assert!(w["playback_token"].is_string(), "{w}");
        bots.push(ws);
    }
    for second in 0..6 {
        for ws in &mut bots {
            say(
                ws,
                json!({"t": "heartbeat", "playing": true, "position": second as f64}),
            )
            .await;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let c = counters_after(&mut observer, Duration::from_secs(2), &mut seen).await;
    assert_eq!(
        (
            c["viewers"].as_u64(),
            c["peak_viewers"].as_u64(),
            c["unique_viewers"].as_u64()
        ),
        (Some(0), Some(0), Some(0)),
        "heartbeats without media count for nothing: {c}"
    );

    // 50 real players behind one address: each fetches the live playlist with its token.
    let mut players = Vec::new();
    for _ in 0..50 {
        let mut ws = connect_from(b, "/live/bot-target/room", None, Some("198.51.100.9")).await;
        let w = frame_of(&mut ws, "welcome").await;
        let token = w["playback_token"].as_str().unwrap().to_string();
        players.push((ws, token));
    }
    // And one elsewhere.
    let mut lone = connect_from(b, "/live/bot-target/room", None, Some("192.0.2.7")).await;
    let lone_token = frame_of(&mut lone, "welcome").await["playback_token"]
        .as_str()
        .unwrap()
        .to_string();
    let tokens: Vec<String> = players
        .iter()
        .map(|(_, t)| t.clone())
        .chain([lone_token])
        .collect();
    for _ in 0..3 {
        for t in &tokens {
            let r = http.get(format!("{playlist}?pt={t}")).send().await.unwrap();
            assert_eq!(r.status(), 200);
        }
        tokio::time::sleep(Duration::from_millis(1_100)).await;
    }
    let cap = hawker_room::audience::AudienceRules::default().max_per_address;
    let c = counters_after(&mut observer, Duration::from_secs(2), &mut seen).await;
    assert_eq!(c["viewers"].as_u64(), Some(cap + 1), "{c}");
    assert_eq!(c["unique_viewers"].as_u64(), Some(cap + 1), "{c}");
    // A token that belongs to no connection, or garbage, changes nothing.
    for t in ["0123456789abcdef0123456789abcdef", "%00", ""] {
        let r = http.get(format!("{playlist}?pt={t}")).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    // Deliveries stop: after the window the players are viewers no more.
    let c = counters_after(&mut observer, Duration::from_secs(12), &mut seen).await;
    assert_eq!(c["viewers"].as_u64(), Some(0), "{c}");
    assert_eq!(c["peak_viewers"].as_u64(), Some(cap + 1), "{c}");
    drop(bots);
    drop(players);
    let _ = ffmpeg.kill();
    let _ = ffmpeg.wait();
    s.running.shutdown().await;
}
