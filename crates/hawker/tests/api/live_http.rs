//! Live video end to end over HTTP: ffmpeg publishes over RTMP; LL-HLS is fetched, validated
//! and decoded; blocking reloads and the streamed preload-hint part are timed; the recording
//! plays back after the show ends.

use crate::common;

use common::*;
use hawker_media::hls::validate::{validate, Playlist};
use std::time::{Duration, Instant};

async fn get_playlist(
    http: &reqwest::Client,
    url: &str,
) -> (String, Playlist, reqwest::header::HeaderMap) {
    let r = http.get(url).send().await.unwrap();
    assert_eq!(r.status(), 200, "{url}");
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    let pl =
        validate(&text).unwrap_or_else(|e| panic!("invalid playlist from {url}: {e:?}\n{text}"));
    (text, pl, headers)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ll_hls_from_ffmpeg_to_player_and_recording() {
    let s = start().await;
    let (_, ch) = streamer_channel(&s.base, "farm-live").await;
    let mut ffmpeg = ffmpeg_publish(&publish_url(&ch), 9);
    let http = reqwest::Client::new();
    let playlist_url = ch["hls_url"].as_str().unwrap().to_string();
    let base = playlist_url.trim_end_matches("index.m3u8").to_string();

    // The first request waits for the first part instead of serving an empty playlist.
    let (_, mut pl, headers) = wait_until("the stream to appear", Duration::from_secs(15), || {
        let http = http.clone();
        let url = playlist_url.clone();
        async move {
            let r = http.get(&url).send().await.ok()?;
            (r.status() == 200).then_some(())?;
            let h = r.headers().clone();
            let t = r.text().await.ok()?;
            let p = validate(&t).ok()?;
            Some((t, p, h))
        }
    })
    .await;
    assert_eq!(headers["content-type"], "application/vnd.apple.mpegurl");
    assert_eq!(headers["cache-control"], "public, max-age=1");
    assert!(pl.can_block_reload && pl.part_target.is_some());

    // Follow the live edge with blocking reloads: each answer contains what was asked for,
    // and arrives only once it exists.
    let mut waits = Vec::new();
    for _ in 0..12 {
        let (msn, part) = pl.next_position();
        let url = format!("{playlist_url}?_HLS_msn={msn}&_HLS_part={part}");
        let t0 = Instant::now();
        let (_, next, h) = get_playlist(&http, &url).await;
        waits.push(t0.elapsed());
        assert!(
            next.has_position(msn, Some(part)),
            "blocking reload for {msn}.{part} returned early"
        );
        assert_eq!(
            h["cache-control"], "public, max-age=2",
            "blocking responses are cacheable"
        );
        pl = next;
    }
    // Parts take ~233 ms to complete: most blocked requests waited for theirs.
    assert!(
        waits
            .iter()
            .filter(|w| **w > Duration::from_millis(50))
            .count()
            >= 6,
        "{waits:?}"
    );

    // The preload-hinted part is requested as soon as it starts (right after the blocking
    // reload for the previous part returns) and streams frame by frame.
    let (msn, part) = pl.next_position();
    let (_, pl, _) = get_playlist(
        &http,
        &format!("{playlist_url}?_HLS_msn={msn}&_HLS_part={part}"),
    )
    .await;
    let hint = pl
        .preload_hint
        .clone()
        .expect("live playlist hints the next part");
    let t0 = Instant::now();
    let mut resp = http.get(format!("{base}{hint}")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["cache-control"],
        "public, max-age=86400, immutable"
    );
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
    let mut arrivals = Vec::new();
    let mut hinted = Vec::new();
    while let Some(chunk) = resp.chunk().await.unwrap() {
        arrivals.push(t0.elapsed());
        hinted.extend_from_slice(&chunk);
    }
    assert!(
        arrivals.len() >= 4,
        "a ~7-frame part arrives in pieces: {arrivals:?}"
    );
    assert!(
        *arrivals.last().unwrap() - arrivals[0] >= Duration::from_millis(100),
        "pieces arrive as frames are encoded: {arrivals:?}"
    );
    // The hinted part, once complete, is exactly the part the playlist then lists.
    let (_, later, _) = get_playlist(
        &http,
        &format!(
            "{playlist_url}?_HLS_msn={}&_HLS_part=0",
            pl.next_position().0 + 1
        ),
    )
    .await;
    assert!(later.parts.iter().any(|p| p.uri == hint));
    let again = http
        .get(format!("{base}{hint}"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(again.to_vec(), hinted);

    // Errors are problem documents with stable codes.
    let too_far = http
        .get(format!(
            "{playlist_url}?_HLS_msn={}&_HLS_part=0",
            later.next_position().0 + 50
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(too_far.status(), 400);
    assert_eq!(
        too_far.headers()["content-type"],
        "application/problem+json"
    );
    let body: serde_json::Value = too_far.json().await.unwrap();
    assert_eq!(body["code"], "hls_msn_too_far");
    let stale = http
        .get(format!("{base}deadbeef/part1.m4s"))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 404);

    // Delta update.
    let (_, delta, _) = get_playlist(&http, &format!("{playlist_url}?_HLS_skip=YES")).await;
    assert!(delta.segments.len() <= later.segments.len());

    // Init + listed segments, fetched over HTTP, decode.
    let (_, pl, _) = get_playlist(&http, &playlist_url).await;
    let init_uri = pl.segments[0].map_uri.clone().unwrap();
    let mut file = http
        .get(format!("{base}{init_uri}"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec();
    for seg in &pl.segments {
        let r = http.get(format!("{base}{}", seg.uri)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        file.extend_from_slice(&r.bytes().await.unwrap());
    }
    let path = s.data.path().join("live.mp4");
    std::fs::write(&path, &file).unwrap();
    let (v, a) = ffprobe_frames(path.to_str().unwrap());
    let listed: f64 = pl.segments.iter().map(|s| s.duration).sum();
    assert!(
        v as f64 >= listed * 30.0 - 2.0 && a > 0,
        "{v} video frames for {listed} s of segments"
    );

    // Parts of one segment also decode on their own (init + parts).
    let seg_parts: Vec<_> = pl
        .parts
        .iter()
        .filter(|p| p.msn == pl.parts[0].msn)
        .collect();
    let mut parts_file = http
        .get(format!("{base}{init_uri}"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec();
    for p in &seg_parts {
        parts_file.extend_from_slice(
            &http
                .get(format!("{base}{}", p.uri))
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap(),
        );
    }
    let ppath = s.data.path().join("parts.mp4");
    std::fs::write(&ppath, &parts_file).unwrap();
    let (pv, _) = ffprobe_frames(ppath.to_str().unwrap());
    let pdur: f64 = seg_parts.iter().map(|p| p.duration).sum();
    assert!(
        (pv as f64 - pdur * 30.0).abs() <= 2.0,
        "{pv} frames in {pdur} s of parts"
    );

    // A plain HLS client (ffmpeg's demuxer knows nothing of parts) plays the same playlist.
    let plain = std::process::Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-i",
            &playlist_url,
            "-t",
            "2",
            "-f",
            "null",
            "-",
        ])
        .output()
        .unwrap();
    assert!(
        plain.status.success(),
        "plain HLS: {}",
        String::from_utf8_lossy(&plain.stderr)
    );

    // The show ends after the grace period; its recording plays as VOD.
    assert!(ffmpeg.wait().unwrap().success());
    let show = wait_until("the show to end", Duration::from_secs(10), || {
        let http = http.clone();
        let base = s.base.clone();
        async move {
            let shows: serde_json::Value = http
                .get(format!("{base}/api/v1/shows?state=ended"))
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            shows.as_array()?.first().cloned()
        }
    })
    .await;
    assert_eq!(show["channel"], "farm-live");
    let replay = show["replay_url"].as_str().expect("a replay");
    let page = http.get(replay).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let vod_url = format!("{}/vod/{}/index.m3u8", s.base, show["id"]);
    let (_, vod, h) = get_playlist(&http, &vod_url).await;
    assert!(vod.ended);
    assert_eq!(h["cache-control"], "public, max-age=3600");
    let total: f64 = vod.segments.iter().map(|s| s.duration).sum();
    assert!(
        (8.0..9.6).contains(&total),
        "recorded {total} s of a 9 s publish"
    );
    let (v, a) = ffprobe_frames(&vod_url);
    assert!(
        v as f64 >= total * 30.0 - 3.0 && a > 0,
        "VOD decodes: {v} frames for {total} s"
    );
    let master = http
        .get(format!("{}/vod/{}/master.m3u8", s.base, show["id"]))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(master.contains("CODECS=\"avc1."), "{master}");
    // After the show, the live URL says so.
    let gone = http.get(&playlist_url).send().await.unwrap();
    assert_eq!(gone.status(), 404);
    assert_eq!(
        gone.json::<serde_json::Value>().await.unwrap()["code"],
        "not_live"
    );
    s.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_writes_the_segment_in_flight() {
    let s = start().await;
    let (_, ch) = streamer_channel(&s.base, "clerk-anna").await;
    let mut ffmpeg = ffmpeg_publish(&publish_url(&ch), 30);
    let http = reqwest::Client::new();
    let url = ch["hls_url"].as_str().unwrap().to_string();
    wait_until("two segments", Duration::from_secs(15), || {
        let http = http.clone();
        let url = url.clone();
        async move {
            let t = http.get(&url).send().await.ok()?.text().await.ok()?;
            (validate(&t).ok()?.segments.len() >= 2).then_some(())
        }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(700)).await; // into the third segment
    let store = s.running.store.clone();
    let started = Instant::now();
    s.running.shutdown().await;
    let _ = ffmpeg.kill();
    let _ = ffmpeg.wait();
    use hawker_storage::ShowStore;
    let ended = store
        .shows_in_state(hawker_domain::ShowState::Ended, 10)
        .await
        .unwrap();
    assert_eq!(ended.len(), 1, "shutdown ends the live show");
    let rec = store
        .recording(ended[0].id)
        .await
        .unwrap()
        .expect("recording row");
    assert!(rec.complete);
    let text = std::fs::read_to_string(std::path::Path::new(&rec.dir).join("index.m3u8")).unwrap();
    let vod = validate(&text).unwrap();
    assert!(vod.ended);
    let last = vod.segments.last().unwrap().duration;
    assert!(
        vod.segments.len() >= 3 && last < 1.9,
        "the partial segment in flight was written: {text}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "shutdown is prompt"
    );
}
