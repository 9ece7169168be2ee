//! The shoppable replay: a show's pins with their moments (public), closed when the show ends,
//! and in Chromium the replay's product card at each pin's moment, bought from the replay and
//! attributed to the show.

use crate::common;

use common::*;
use serde_json::{json, Value};
use std::process::Command;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_shows_and_sells_what_was_pinned_when() {
    let s = start().await;
    let b = s.base.clone();
    let (host, ch) = streamer_channel(&b, "replay-shop").await;
    let (org, pearls) = org_with_product(
        &host,
        &b,
        json!({"name": "Replay Pearls"}),
        json!({"title": "Pearl studs", "category": "jewellery", "return_class": "normal",
               "currency": "CNY", "skus": [{"label": "pair", "price_minor": 19900, "stock": 10}]}),
    )
    .await;
    let jade = json_ok(
        post(
            &host,
            format!("{b}/api/v1/orgs/{}/products", org["id"]),
            json!({"title": "Jade bangle", "category": "jewellery", "return_class": "normal",
                   "currency": "CNY", "skus": [{"label": "58 mm", "price_minor": 88000, "stock": 3}]}),
        )
        .await,
    )
    .await;
    let mut ffmpeg = ffmpeg_publish(&publish_url(&ch), 10);
    let show = wait_until("live show", Duration::from_secs(20), || {
        let (host, url) = (host.clone(), format!("{b}/api/v1/channels/replay-shop"));
        async move { poll_json(&host, url).await?["current_show"]["id"].as_i64() }
    })
    .await;
    let r = host
        .put(format!("{b}/api/v1/shows/{show}/shelf"))
        .json(&json!({"products": [pearls["id"], jade["id"]]}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    tokio::time::sleep(Duration::from_secs(2)).await;
    json_ok(
        post(
            &host,
            format!("{b}/api/v1/shows/{show}/pins"),
            json!({"product": pearls["id"]}),
        )
        .await,
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    json_ok(
        post(
            &host,
            format!("{b}/api/v1/shows/{show}/pins"),
            json!({"product": jade["id"]}),
        )
        .await,
    )
    .await;
    // The jade stays pinned when the encoder stops: the show's end takes it down.
    tokio::task::spawn_blocking(move || ffmpeg.wait())
        .await
        .unwrap()
        .unwrap();
    let anon = reqwest::Client::new();
    wait_until(
        "the show ended with its recording",
        Duration::from_secs(30),
        || {
            let (anon, url) = (anon.clone(), format!("{b}/api/v1/shows/{show}"));
            async move {
                let v = poll_json(&anon, url).await?;
                (v["state"] == "ended" && v["replay_url"].is_string()).then_some(())
            }
        },
    )
    .await;
    let pins: Value = json_ok(
        anon.get(format!("{b}/api/v1/shows/{show}/pins"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let pins = pins.as_array().unwrap();
    assert_eq!(pins.len(), 2, "{pins:?}");
    assert_eq!(pins[0]["product"]["id"], pearls["id"]);
    assert_eq!(pins[1]["product"]["id"], jade["id"]);
    let (a, b_at) = (
        pins[0]["offset_ms"].as_i64().unwrap(),
        pins[1]["offset_ms"].as_i64().unwrap(),
    );
    assert!(a >= 1_000 && b_at >= a + 2_000, "{pins:?}");
    for p in pins {
        assert!(p["until_offset_ms"].is_i64(), "every pin is closed: {p}");
    }
    // Both were still up when the encoder stopped: the show's end took them down together.
    assert_eq!(pins[0]["until_offset_ms"], pins[1]["until_offset_ms"]);
    assert!(pins[1]["until_offset_ms"].as_i64().unwrap() > b_at);
    let r = anon
        .get(format!("{b}/api/v1/shows/{}/pins", show + 999))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // In Chromium: the card at each moment, bought from the replay.
    let replay = format!("{b}/replay/{show}");
    let e2e = workspace_root().join("e2e");
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .args(["replay.mjs", &replay])
            .current_dir(&e2e)
            .output()
            .expect("node must be installed")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "replay.mjs: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    let order = v["order"].as_i64().unwrap();
    // The order is the show's.
    use hawker_storage::prelude::*;
    let o = s.running.store.order(order).await.unwrap().unwrap();
    assert_eq!(o.show.map(|x| x.0), Some(show), "attributed to the show");
    s.running.shutdown().await;
}
