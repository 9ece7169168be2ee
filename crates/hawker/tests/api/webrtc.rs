//! WebRTC: WHIP publishing and WHEP playback. The signalling is attacked with a real WebRTC
//! client (str0m's, the library the server uses on its side): missing and wrong keys, another
//! channel's key, malformed SDP, wrong content types, stale and missing entity tags, an ICE
//! restart, garbage on the UDP port. Then real Chromium goes live from the studio page over
//! WHIP with its fake camera, a second page plays over WHEP, and ffprobe decodes the LL-HLS
//! output with H.264 video and Opus audio.

use crate::common;

use common::*;
use reqwest::StatusCode;
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use str0m::media::{Direction, MediaKind};
use str0m::Rtc;

/// A publisher's offer (audio and video, send only), as a WHIP client makes one.
fn offer(direction: Direction) -> String {
    let mut rtc = Rtc::builder().build(Instant::now());
    let mut sdp = rtc.sdp_api();
    sdp.add_media(MediaKind::Audio, direction, None, None, None);
    sdp.add_media(MediaKind::Video, direction, None, None, None);
    let (offer, _pending) = sdp.apply().expect("an offer");
    offer.to_sdp_string()
}

async fn post_sdp(url: &str, key: Option<&str>, body: &str) -> reqwest::Response {
    let mut r = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/sdp")
        .body(body.to_string());
    if let Some(k) = key {
        r = r.bearer_auth(k);
    }
    r.send().await.unwrap()
}

async fn problem(r: reqwest::Response, status: StatusCode, code: &str) {
    assert_eq!(r.status(), status);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["code"], code, "{p}");
}

async fn patch(url: &str, if_match: Option<&str>, body: &str) -> reqwest::Response {
    let mut r = reqwest::Client::new()
        .patch(url)
        .header("content-type", "application/trickle-ice-sdpfrag")
        .body(body.to_string());
    if let Some(m) = if_match {
        r = r.header("if-match", m);
    }
    r.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whip_and_whep_signalling_refuses_bad_input_and_follows_rfc_9725() {
    let s = start().await;
    let (_, ch) = streamer_channel(&s.base, "rtc-signals").await;
    let (_, other) = streamer_channel(&s.base, "rtc-other").await;
    let whip = ch["whip_url"].as_str().unwrap().to_string();
    let key = ch["stream_key"].as_str().unwrap().to_string();
    assert_eq!(whip, format!("{}/whip/rtc-signals", s.base));
    assert_eq!(ch["whep_url"], format!("{}/whep/rtc-signals", s.base));
    let good = offer(Direction::SendOnly);

    problem(
        post_sdp(&whip, None, &good).await,
        StatusCode::UNAUTHORIZED,
        "stream_key_required",
    )
    .await;
    problem(
        post_sdp(&whip, Some("live_nope"), &good).await,
        StatusCode::UNAUTHORIZED,
        "stream_key_invalid",
    )
    .await;
    problem(
        post_sdp(&whip, Some(other["stream_key"].as_str().unwrap()), &good).await,
        StatusCode::FORBIDDEN,
        "wrong_channel",
    )
    .await;
    let json = reqwest::Client::new()
        .post(&whip)
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    problem(
        json,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    for bad in [
        "hello",
        "v=0\r\n",
        &good.replace("a=ice-ufrag", "a=x"),
        &offer(Direction::RecvOnly),
    ] {
        problem(
            post_sdp(&whip, Some(&key), bad).await,
            StatusCode::BAD_REQUEST,
            "bad_offer",
        )
        .await;
    }
    // A refused offer opened no show.
    let c: Value = json_ok(
        reqwest::get(format!("{}/api/v1/channels/rtc-signals", s.base))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(c["live"], false, "{c}");
    assert_eq!(c["webrtc"], false);
    problem(
        post_sdp(
            ch["whep_url"].as_str().unwrap(),
            None,
            &offer(Direction::RecvOnly),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_live",
    )
    .await;

    // A session: 201, the answer, Location, ETag, trickle PATCH.
    let r = post_sdp(&whip, Some(&key), &good).await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "application/sdp");
    let location = h["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/whip/rtc-signals/"), "{location}");
    let etag = h["etag"].to_str().unwrap().to_string();
    let answer = r.text().await.unwrap();
    assert!(
        answer.contains("a=ice-lite") && answer.contains("typ host"),
        "{answer}"
    );
    assert!(
        answer.to_ascii_lowercase().contains("h264") && answer.contains("opus"),
        "{answer}"
    );
    let resource = format!("{}{location}", s.base);
    let candidate = "a=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host\r\n";
    problem(
        patch(&resource, None, candidate).await,
        StatusCode::PRECONDITION_REQUIRED,
        "etag_required",
    )
    .await;
    problem(
        patch(&resource, Some("\"stale\""), candidate).await,
        StatusCode::PRECONDITION_FAILED,
        "stale_etag",
    )
    .await;
    problem(
        patch(&resource, Some(&etag), "not a fragment").await,
        StatusCode::BAD_REQUEST,
        "bad_fragment",
    )
    .await;
    assert_eq!(
        patch(&resource, Some(&etag), candidate).await.status(),
        StatusCode::NO_CONTENT
    );
    // An ICE restart: new credentials, If-Match: *, 200 with the server's new ones and a new ETag.
    let restart = "a=ice-ufrag:Rst1\r\na=ice-pwd:0123456789abcdefghijklmn\r\n";
    let r = patch(&resource, Some("*"), restart).await;
    assert_eq!(r.status(), StatusCode::OK);
    let new_etag = r.headers()["etag"].to_str().unwrap().to_string();
    assert_ne!(new_etag, etag);
    let frag = r.text().await.unwrap();
    assert!(
        frag.contains("a=ice-ufrag:") && frag.contains("a=ice-pwd:"),
        "{frag}"
    );
    problem(
        patch(&resource, Some(&etag), candidate).await,
        StatusCode::PRECONDITION_FAILED,
        "stale_etag",
    )
    .await;

    // Garbage on the UDP port: dropped, nothing falls over.
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = s.running.rtc.local_addr().port();
    for i in 0..2000u32 {
        let junk: Vec<u8> = (0..(i % 1400))
            .map(|j| (i.wrapping_mul(31) ^ j) as u8)
            .collect();
        let _ = udp.send_to(&junk, ("127.0.0.1", port));
    }
    let ready = reqwest::get(format!("{}/readyz", s.base)).await.unwrap();
    assert!(ready.status().is_success());

    // The same key again while the first (silent) publisher holds the channel: it takes over.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let again = post_sdp(&whip, Some(&key), &good).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    // The first session is gone; DELETE of the second ends it, once.
    let gone = reqwest::Client::new()
        .delete(&resource)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    let second = format!(
        "{}{}",
        s.base,
        again.headers()["location"].to_str().unwrap()
    );
    let del = reqwest::Client::new().delete(&second).send().await.unwrap();
    assert_eq!(del.status(), StatusCode::OK);
    let del = reqwest::Client::new().delete(&second).send().await.unwrap();
    assert_eq!(del.status(), StatusCode::NOT_FOUND);
}

/// The studio page goes live over WHIP from a phone-sized Chromium with the fake camera; a
/// desktop page plays it over WHEP; LL-HLS carries H.264 and Opus that ffprobe decodes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_goes_live_over_whip_plays_over_whep_and_ll_hls_carries_opus() {
    let s = start().await;
    let (_, ch) = streamer_channel(&s.base, "rtc-live").await;
    let node = LiveScript::start(
        "webrtc.mjs",
        &[
            &s.base,
            "rtc-live@streamers.example",
            "correct horse battery",
            "rtc-live",
        ],
    );
    let streams = probe_live(ch["hls_url"].as_str().unwrap().to_string()).await;
    let seen = node.finish();
    println!("webrtc.mjs: {seen:?}; LL-HLS streams {streams:?}");
    // 4 s of 30 fps video and 50 Opus packets a second, give or take the edges.
    assert!(
        frames(&streams, "h264") > 30 && frames(&streams, "opus") > 50,
        "{streams}"
    );

    // The show ends after its grace period; its recording (the replay's source) carries both.
    let b = s.base.clone();
    let show = wait_until(
        "the WebRTC show ended with its recording",
        Duration::from_secs(30),
        || {
            let url = format!("{b}/api/v1/channels/rtc-live/shows");
            async move {
                let v = poll_json(&reqwest::Client::new(), url).await?;
                let s = v.as_array()?.first()?.clone();
                (s["state"] == "ended" && s["replay_url"].is_string()).then_some(s)
            }
        },
    )
    .await;
    let vod = format!("{}/vod/{}/index.m3u8", s.base, show["id"]);
    let (video, audio) = tokio::task::spawn_blocking(move || ffprobe_frames(&vod))
        .await
        .unwrap();
    assert!(
        video > 30 && audio > 50,
        "recording frames: video {video}, audio {audio}"
    );
}

fn frames(probe: &str, codec: &str) -> u64 {
    probe
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{codec},")))
        .and_then(|n| n.split(',').next_back()?.trim().parse::<u64>().ok())
        .unwrap_or(0)
}

/// A browser script that goes live, prints `live`, and waits for a line on stdin to finish.
struct LiveScript {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    seen: Vec<String>,
    script: &'static str,
}

impl LiveScript {
    fn start(script: &'static str, args: &[&str]) -> Self {
        let mut child = Command::new("node")
            .arg(script)
            .args(args)
            .current_dir(workspace_root().join("e2e"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("node must be installed");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut me = LiveScript {
            child,
            lines,
            seen: Vec::new(),
            script,
        };
        loop {
            match me.lines.recv_timeout(Duration::from_secs(120)) {
                Ok(l) if l == "live" => return me,
                Ok(l) => me.seen.push(l),
                Err(_) => {
                    let out = me.child.wait_with_output().unwrap();
                    panic!(
                        "{script} never went live: {:?}\n{}",
                        me.seen,
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
            }
        }
    }

    /// Lets the script finish; its printed lines.
    fn finish(mut self) -> Vec<String> {
        self.child
            .stdin
            .take()
            .unwrap()
            .write_all(b"stop\n")
            .unwrap();
        let out = self.child.wait_with_output().unwrap();
        self.seen.extend(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(String::from),
        );
        assert!(
            out.status.success(),
            "{}: {:?}\n{}",
            self.script,
            self.seen,
            String::from_utf8_lossy(&out.stderr)
        );
        self.seen
    }
}

/// Four seconds of a live playlist, every frame decoded (a live playlist has no end):
/// `codec,width,frames` per stream.
async fn probe_live(hls: String) -> String {
    tokio::task::spawn_blocking(move || {
        let out = Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-read_intervals",
                "%+4",
                "-count_frames",
                "-show_entries",
                "stream=codec_name,width,nb_read_frames",
                "-of",
                "csv=p=0",
                &hls,
            ])
            .output()
            .expect("ffprobe must be installed");
        String::from_utf8_lossy(&out.stdout).into_owned()
    })
    .await
    .unwrap()
}

/// A host goes live from the studio, invites a co-host who joins from another browser; both
/// see each other; LL-HLS carries the host's 1280×720 composite of both, with sound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_co_host_joins_by_link_and_the_show_carries_both() {
    let s = start().await;
    let (host, ch) = streamer_channel(&s.base, "rtc-duo").await;
    let guest = browser();
    sign_up(&guest, &s.base, "guest@streamers.example", "streamer").await;
    let node = LiveScript::start(
        "cohost.mjs",
        &[
            &s.base,
            "rtc-duo@streamers.example",
            "guest@streamers.example",
            "correct horse battery",
            "rtc-duo",
        ],
    );
    let streams = probe_live(ch["hls_url"].as_str().unwrap().to_string()).await;
    // The host's view of the invite: the guest accepted and is in the call.
    let invite: Value = json_ok(
        host.get(format!("{}/api/v1/channels/rtc-duo/co-host", s.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(invite["guest_connected"], true, "{invite}");
    assert_eq!(invite["guest"]["display_name"], "Test Person", "{invite}");
    let seen = node.finish();
    println!("cohost.mjs: {seen:?}; LL-HLS {streams:?}");
    assert!(
        streams.contains("h264,1280,"),
        "the composite goes out: {streams}"
    );
    assert!(
        frames(&streams, "h264") > 30 && frames(&streams, "opus") > 50,
        "{streams}"
    );
}

/// Where UDP is blocked: the server advertises only its TCP candidate (RFC 6544), and Chromium
/// publishes over WHIP and plays over WHEP through it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_publishes_and_plays_over_ice_tcp() {
    let s = start_with(|cfg| cfg.webrtc.advertise_udp = false).await;
    let (_, ch) = streamer_channel(&s.base, "rtc-tcp").await;
    assert!(s.running.rtc.candidates().udp.is_empty());
    assert_eq!(s.running.rtc.candidates().tcp.len(), 1);
    let node = LiveScript::start(
        "webrtc.mjs",
        &[
            &s.base,
            "rtc-tcp@streamers.example",
            "correct horse battery",
            "rtc-tcp",
        ],
    );
    let streams = probe_live(ch["hls_url"].as_str().unwrap().to_string()).await;
    let seen = node.finish();
    println!("webrtc.mjs over TCP: {seen:?}; LL-HLS {streams:?}");
    assert!(
        frames(&streams, "h264") > 30 && frames(&streams, "opus") > 50,
        "{streams}"
    );
}
