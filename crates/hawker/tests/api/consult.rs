//! 1:1 video consults: a product opened to consults, a viewer's request with consent, the
//! staff's answer, the call, the outcome on the lead; who may do what. Then in Chromium with
//! fake cameras: the viewer taps *Talk to the seller* on a live show's pinned car, the dealer
//! accepts in the merchant console, video flows both ways, the outcome stays on the lead.

use crate::common;

use common::*;
use serde_json::{json, Value};
use std::time::Duration;

async fn status_and_code(r: reqwest::Response) -> (u16, String) {
    let st = r.status().as_u16();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    (st, v["code"].as_str().unwrap_or_default().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_consults_a_dealer_and_the_outcome_stays_on_the_lead() {
    let s = start().await;
    let b = s.base.clone();
    let (dealer, ch) = streamer_channel(&b, "car-dealer").await;
    let (org, car) = org_with_product(
        &dealer,
        &b,
        json!({"name": "Hangzhou Motors"}),
        json!({"title": "Estate car, 2019", "category": "vehicles", "return_class": "normal",
               "currency": "CNY", "skus": [{"label": "car", "price_minor": 9_800_000, "stock": 1}]}),
    )
    .await;
    let car_id = car["id"].as_i64().unwrap();
    let viewer = browser();
    sign_up(&viewer, &b, "viewer@cars.example", "viewer").await;
    let other = browser();
    sign_up(&other, &b, "other@cars.example", "viewer").await;

    // Not open to consults yet.
    let ask = |c: &reqwest::Client, consent: bool| {
        c.post(format!("{b}/api/v1/products/{car_id}/consults"))
            .json(&json!({"consent": consent, "channel": "car-dealer"}))
            .send()
    };
    assert_eq!(
        status_and_code(ask(&viewer, true).await.unwrap()).await,
        (409, "not_consultable".into())
    );
    // Only the seller's staff open it.
    let open = |c: &reqwest::Client| {
        c.put(format!("{b}/api/v1/products/{car_id}/consultable"))
            .json(&json!({"consultable": true}))
            .send()
    };
    assert_eq!(open(&viewer).await.unwrap().status(), 404);
    assert_eq!(open(&dealer).await.unwrap().status(), 204);
    let p: Value = json_ok(
        viewer
            .get(format!("{b}/api/v1/products/{car_id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(p["consultable"], true);
    // The notice must be agreed to.
    assert_eq!(
        status_and_code(ask(&viewer, false).await.unwrap()).await,
        (422, "consent_required".into())
    );
    let r = ask(&viewer, true).await.unwrap();
    assert_eq!(r.status(), 201);
    let lead: Value = r.json().await.unwrap();
    assert_eq!(lead["state"], "requested");
    assert!(
        lead["call_url"].is_null(),
        "no call before the seller answers: {lead}"
    );
    // Asking again returns the same open request.
    let again: Value = ask(&viewer, true).await.unwrap().json().await.unwrap();
    assert_eq!(again["id"], lead["id"]);
    let id = lead["id"].as_i64().unwrap();
    // Strangers see nothing; the viewer cannot answer their own request.
    assert_eq!(
        other
            .get(format!("{b}/api/v1/leads/{id}"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let accept = |c: &reqwest::Client| {
        c.post(format!("{b}/api/v1/leads/{id}/accept"))
            .json(&json!({}))
            .send()
    };
    assert_eq!(accept(&viewer).await.unwrap().status(), 404);
    let leads: Value = json_ok(
        dealer
            .get(format!(
                "{b}/api/v1/orgs/{}/leads?state=requested",
                org["id"]
            ))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(leads[0]["id"], id);
    assert_eq!(leads[0]["product_title"], "Estate car, 2019");
    // The call is closed to others before and after the answer.
    let offer = "v=0\r\n";
    let call_post = |c: &reqwest::Client, url: String| {
        c.post(url)
            .header("content-type", "application/sdp")
            .body(offer)
            .send()
    };
    let accepted: Value = json_ok(accept(&dealer).await.unwrap()).await;
    assert_eq!(accepted["state"], "accepted");
    let call = accepted["call_url"].as_str().unwrap().to_string();
    assert_eq!(
        status_and_code(call_post(&other, call.clone()).await.unwrap())
            .await
            .0,
        404
    );
    // A second answer finds it taken.
    assert_eq!(accept(&dealer).await.unwrap().status(), 409);
    // The viewer cannot write the outcome; the dealer ends with one.
    let end = |c: &reqwest::Client, body: Value| {
        c.post(format!("{b}/api/v1/leads/{id}/end"))
            .json(&body)
            .send()
    };
    assert_eq!(
        end(&viewer, json!({"outcome": "great"}))
            .await
            .unwrap()
            .status(),
        403
    );
    let ended: Value = json_ok(
        end(&dealer, json!({"outcome": "Test drive on Saturday"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ended["state"], "ended");
    assert_eq!(ended["outcome"], "Test drive on Saturday");
    assert!(ended["call_url"].is_null());
    assert_eq!(
        status_and_code(call_post(&viewer, call).await.unwrap()).await,
        (409, "consult_not_accepted".into())
    );
    let mine: Value = json_ok(
        viewer
            .get(format!("{b}/api/v1/me/leads"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(mine[0]["outcome"], "Test drive on Saturday");

    // In Chromium: the pinned car on a live show, Talk to the seller, the call, the outcome.
    let mut ffmpeg = ffmpeg_publish(&publish_url(&ch), 120);
    let show = wait_until("live show", Duration::from_secs(20), || {
        let (c, url) = (dealer.clone(), format!("{b}/api/v1/channels/car-dealer"));
        async move { poll_json(&c, url).await?["current_show"]["id"].as_i64() }
    })
    .await;
    let r = dealer
        .put(format!("{b}/api/v1/shows/{show}/shelf"))
        .json(&json!({"products": [car_id]}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    json_ok(
        post(
            &dealer,
            format!("{b}/api/v1/shows/{show}/pins"),
            json!({"product": car_id}),
        )
        .await,
    )
    .await;
    let watch = ch["watch_url"].as_str().unwrap().to_string();
    let base = b.clone();
    let out = tokio::task::spawn_blocking(move || {
        let out = std::process::Command::new("node")
            .args([
                "consult.mjs",
                &base,
                &watch,
                "other@cars.example",
                "car-dealer@streamers.example",
                "correct horse battery",
                "Wants the blue one; calls back Monday",
            ])
            .current_dir(workspace_root().join("e2e"))
            .output()
            .expect("node must be installed");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap();
    let _ = ffmpeg.kill();
    let _ = ffmpeg.wait();
    assert!(out.0, "consult.mjs:\n{}\n{}", out.1, out.2);
    let theirs: Value = json_ok(
        other
            .get(format!("{b}/api/v1/me/leads"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(theirs[0]["state"], "ended", "{theirs}");
    assert_eq!(
        theirs[0]["outcome"],
        "Wants the blue one; calls back Monday"
    );
    assert!(
        theirs[0]["channel"].is_i64(),
        "the lead remembers the show's channel: {theirs}"
    );
}
