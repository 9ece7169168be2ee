//! Honesty of what is shown, over HTTP on a real server: paid promotion labelled on the card
//! and the pin, repeated in the live room while pinned (eu) or kept on the card (cn); the
//! host's statement of use or its absence; virtual hosts labelled; credentials for regulated
//! categories uploaded, reviewed by ops and required before a showcase or a pin, their
//! documents shown only to their organisation and admins; prize draws capped (cn), with a free
//! entry route that never asks for an order (us), entered by keyword or the free route, drawn
//! with a seed anyone can check.

use crate::common;

use common::*;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn problem(r: reqwest::Response, status: u16, code: &str) -> Value {
    let st = r.status().as_u16();
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    let v: Value = r.json().await.unwrap();
    assert_eq!(st, status, "{v}");
    assert_eq!(ct, "application/problem+json");
    assert_eq!(v["code"], code, "{v}");
    v
}

const PNG: [u8; 10] = [0x89, b'P', b'N', b'G', 13, 10, 26, 10, 0, 0];

fn admin_token(s: &TestServer) -> String {
    std::fs::read_to_string(&s.running.admin_token_file)
        .unwrap()
        .trim()
        .to_string()
}

async fn as_admin(s: &TestServer, path: &str, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}{path}", s.base))
        .bearer_auth(admin_token(s))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn upload_credential(c: &reqwest::Client, b: &str, org: i64, category: &str) -> Value {
    json_ok(
        c.post(format!(
            "{b}/api/v1/orgs/{org}/credentials?category={category}"
        ))
        .header("content-type", "image/png")
        .body(PNG.to_vec())
        .send()
        .await
        .unwrap(),
    )
    .await
}

async fn open_shop(c: &reqwest::Client, b: &str, name: &str) -> i64 {
    json_ok(post(c, format!("{b}/api/v1/orgs"), json!({ "name": name })).await).await["id"]
        .as_i64()
        .unwrap()
}

async fn product(c: &reqwest::Client, b: &str, org: i64, title: &str, category: &str) -> i64 {
    json_ok(
        post(
            c,
            format!("{b}/api/v1/orgs/{org}/products"),
            json!({"title": title, "category": category, "return_class": "normal", "currency": "CNY",
                   "skus": [{"label": "one", "price_minor": 15900, "stock": 100}]}),
        )
        .await,
    )
    .await["id"]
        .as_i64()
        .unwrap()
}

async fn login_cookie(c: &reqwest::Client, b: &str, email: &str) -> String {
    let r = c
        .post(format!("{b}/api/v1/sessions"))
        .json(&json!({"email": email, "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

async fn room(b: &str, slug: &str, cookie: Option<&str>) -> Ws {
    let url = format!("{}/live/{slug}/room", b.replace("http://", "ws://"));
    let mut req = url.into_client_request().unwrap();
    if let Some(c) = cookie {
        req.headers_mut().insert("cookie", c.parse().unwrap());
    }
    tokio_tungstenite::connect_async(req).await.unwrap().0
}

/// The next JSON text frame within `wait`, or None.
async fn next_frame(ws: &mut Ws, wait: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, ws.next()).await {
            Err(_) => return None,
            Ok(Some(Ok(Message::Text(t)))) => return Some(serde_json::from_str(&t).unwrap()),
            Ok(Some(Ok(Message::Close(c)))) => panic!("closed: {c:?}"),
            Ok(Some(Ok(_))) => continue,
            Ok(other) => panic!("socket ended: {other:?}"),
        }
    }
}

/// Announcements (stream items of kind `announcement`) seen within `wait`, with their seq.
async fn announcements(ws: &mut Ws, wait: Duration) -> Vec<(u64, String)> {
    let deadline = tokio::time::Instant::now() + wait;
    let mut out = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let Some(f) = next_frame(ws, left).await else {
            return out;
        };
        if f["t"] == "batch" {
            for i in f["items"].as_array().unwrap() {
                if i["k"] == "announcement" {
                    out.push((
                        i["seq"].as_u64().unwrap(),
                        i["text"].as_str().unwrap().to_string(),
                    ));
                }
            }
        }
    }
}

/// The next state frame's state.
async fn next_state(ws: &mut Ws) -> Value {
    loop {
        let f = next_frame(ws, Duration::from_secs(10))
            .await
            .expect("a state frame");
        if f["t"] == "state" {
            return f["state"].clone();
        }
        if f["t"] == "welcome" {
            return f["state"].clone();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paid_promotion_is_labelled_and_repeated_while_pinned() {
    // eu, with the repeat shortened to a second so the test sees two.
    let s = start_with(|c| c.commerce.paid_label_repeat_s = Some(1)).await;
    let b = &s.base;
    let (host, ch) = streamer_channel(b, "glow-live").await;
    let host_org = open_shop(&host, b, "Glow Host Shop").await;
    let scarf = product(&host, b, host_org, "Silk scarf", "fashion").await;
    let brand = browser();
    sign_up(&brand, b, "brand@glow.example", "streamer").await;
    let brand_org = open_shop(&brand, b, "Glow Cosmetics").await;
    let cream = product(&brand, b, brand_org, "Night cream", "cosmetics").await;
    let stranger = browser();
    sign_up(&stranger, b, "stranger@example.com", "viewer").await;

    let (mut ffmpeg, show) = go_live(b, "glow-live", &ch).await;
    let shelf_url = format!("{b}/api/v1/shows/{show}/shelf");

    // Cosmetics are regulated: refused until the brand's licence is approved.
    let r = host
        .put(&shelf_url)
        .json(&json!({"products": [scarf, cream]}))
        .send()
        .await
        .unwrap();
    let p = problem(r, 422, "credential_required").await;
    assert!(p["detail"].as_str().unwrap().contains("Glow Cosmetics"));
    assert_eq!(
        json_ok(host.get(&shelf_url).send().await.unwrap())
            .await
            .as_array()
            .unwrap()
            .len(),
        0,
        "a refused shelf writes nothing"
    );
    // Only the seller's catalog managers upload, only for regulated categories.
    let r = stranger
        .post(format!(
            "{b}/api/v1/orgs/{brand_org}/credentials?category=cosmetics"
        ))
        .header("content-type", "image/png")
        .body(PNG.to_vec())
        .send()
        .await
        .unwrap();
    problem(r, 403, "forbidden").await;
    let r = brand
        .post(format!(
            "{b}/api/v1/orgs/{brand_org}/credentials?category=fashion"
        ))
        .header("content-type", "image/png")
        .body(PNG.to_vec())
        .send()
        .await
        .unwrap();
    problem(r, 422, "invalid_field").await;
    let r = brand
        .post(format!(
            "{b}/api/v1/orgs/{brand_org}/credentials?category=cosmetics"
        ))
        .header("content-type", "image/png")
        .body(b"GIF89a".to_vec())
        .send()
        .await
        .unwrap();
    problem(r, 422, "invalid_field").await;
    let first = upload_credential(&brand, b, brand_org, "cosmetics").await;
    assert_eq!(first["state"], "pending");
    let second = upload_credential(&brand, b, brand_org, "cosmetics").await;

    // The document: the brand and admins see it; nobody else learns it exists.
    let doc = format!("{b}{}", first["document_url"].as_str().unwrap());
    let r = brand.get(&doc).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "private, no-store");
    assert_eq!(r.bytes().await.unwrap().as_ref(), &PNG);
    problem(stranger.get(&doc).send().await.unwrap(), 404, "not_found").await;
    problem(host.get(&doc).send().await.unwrap(), 404, "not_found").await;
    problem(reqwest::get(&doc).await.unwrap(), 401, "unauthenticated").await;
    let r = reqwest::Client::new()
        .get(&doc)
        .bearer_auth(admin_token(&s))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Ops: the queue, a rejection needs a reason, one decision per credential.
    let r = reqwest::Client::new()
        .get(format!("{b}/api/v1/admin/credentials"))
        .bearer_auth(admin_token(&s))
        .send()
        .await
        .unwrap();
    let queue = json_ok(r).await;
    assert_eq!(queue.as_array().unwrap().len(), 2);
    assert_eq!(queue[0]["org_name"], "Glow Cosmetics");
    problem(
        stranger
            .get(format!("{b}/api/v1/admin/credentials"))
            .send()
            .await
            .unwrap(),
        403,
        "forbidden",
    )
    .await;
    let review = |id: &Value| format!("/api/v1/admin/credentials/{id}/review");
    problem(
        as_admin(&s, &review(&second["id"]), json!({"decision": "reject"})).await,
        422,
        "invalid_field",
    )
    .await;
    let rejected = json_ok(
        as_admin(
            &s,
            &review(&second["id"]),
            json!({"decision": "reject", "reason": "the licence number is unreadable"}),
        )
        .await,
    )
    .await;
    assert_eq!(rejected["state"], "rejected");
    problem(
        as_admin(&s, &review(&second["id"]), json!({"decision": "approve"})).await,
        409,
        "already_reviewed",
    )
    .await;
    let r = host
        .put(&shelf_url)
        .json(&json!({"products": [scarf, cream]}))
        .send()
        .await
        .unwrap();
    problem(r, 422, "credential_required").await;
    json_ok(as_admin(&s, &review(&first["id"]), json!({"decision": "approve"})).await).await;
    let mine = json_ok(
        brand
            .get(format!("{b}/api/v1/orgs/{brand_org}/credentials"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let states: Vec<&str> = mine
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, vec!["rejected", "approved"]);

    // The showcase: the host marks the scarf sponsored; only the host may attest.
    let r = host
        .put(&shelf_url)
        .json(&json!({"products": [{"product": scarf, "sponsored": true}, cream]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204, "{}", r.text().await.unwrap());
    let entry = |p: i64| format!("{b}/api/v1/shows/{show}/shelf/{p}");
    problem(
        brand
            .put(entry(cream))
            .json(&json!({"host_used": true}))
            .send()
            .await
            .unwrap(),
        403,
        "forbidden",
    )
    .await;
    problem(
        stranger
            .put(entry(cream))
            .json(&json!({"sponsored": false}))
            .send()
            .await
            .unwrap(),
        403,
        "forbidden",
    )
    .await;
    // The brand (the seller, not the host) may mark its own product's entry sponsored.
    let e = json_ok(
        brand
            .put(entry(cream))
            .json(&json!({"sponsored": true}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(e["paid_promotion"], true);
    json_ok(
        brand
            .put(entry(cream))
            .json(&json!({"sponsored": false}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let e = json_ok(
        host.put(entry(scarf))
            .json(&json!({"host_used": true}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(e["attestation"], "The host states having used this product");
    assert!(e["attested_at"].is_i64());
    // A paid slot makes the cream paid promotion without any flag.
    json_ok(
        post(
            &brand,
            format!("{b}/api/v1/shows/{show}/slots"),
            json!({"brand": brand_org, "product": cream, "fee_minor": 50000, "commission_bps": 2000}),
        )
        .await,
    )
    .await;
    let shelf = json_ok(reqwest::get(&shelf_url).await.unwrap()).await;
    let card = |id: i64| {
        shelf
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .unwrap()
            .clone()
    };
    let (sc, cr) = (card(scarf), card(cream));
    assert_eq!(sc["paid_promotion"], true);
    assert_eq!(sc["showcase_sponsored"], true);
    assert_eq!(sc["label"], "Ad · paid partnership");
    assert_eq!(sc["host_used"], true);
    assert_eq!(sc["seller"]["name"], "Glow Host Shop", "seller of record");
    assert_eq!(cr["paid_promotion"], true, "the paid slot");
    assert_eq!(cr["showcase_sponsored"], false);
    assert_eq!(cr["seller"]["name"], "Glow Cosmetics", "seller of record");
    assert_eq!(
        cr["attestation"],
        "The host has not stated having used this product"
    );

    // A viewer in the room sees the labelled card and hears the label, again and again.
    let viewer = browser();
    sign_up(&viewer, b, "viewer@glow.example", "viewer").await;
    let cookie = login_cookie(&viewer, b, "viewer@glow.example").await;
    let mut ws = room(b, "glow-live", Some(&cookie)).await;
    next_state(&mut ws).await;
    let pinned = json_ok(
        post(
            &host,
            format!("{b}/api/v1/shows/{show}/pins"),
            json!({"product": cream}),
        )
        .await,
    )
    .await;
    assert_eq!(pinned[0]["paid_promotion"], true);
    assert_eq!(pinned[0]["label"], "Ad · paid partnership");
    assert_eq!(pinned[0]["seller"], "Glow Cosmetics");
    let st = loop {
        let st = next_state(&mut ws).await;
        if st["pinned"][0]["product_id"] == cream {
            break st;
        }
    };
    assert_eq!(st["pinned"][0]["label"], "Ad · paid partnership");
    assert_eq!(
        st["pinned"][0]["attestation"],
        "The host has not stated having used this product"
    );
    let heard = announcements(&mut ws, Duration::from_millis(3_500)).await;
    assert!(
        heard.len() >= 2,
        "the label is announced at once and repeated: {heard:?}"
    );
    assert!(heard
        .iter()
        .all(|(_, t)| t.starts_with("Ad · paid partnership: Night cream")));
    assert!(heard.len() <= 5, "about once a second, not more: {heard:?}");
    // Unpinned: the repeats stop.
    json_ok(
        host.delete(format!("{b}/api/v1/shows/{show}/pins/{cream}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    // Whatever was already on its way arrives within a batch or two.
    announcements(&mut ws, Duration::from_millis(1_200)).await;
    let after = announcements(&mut ws, Duration::from_millis(2_500)).await;
    assert!(after.is_empty(), "no label once unpinned: {after:?}");

    // A revoked licence: the cream can no longer be pinned.
    json_ok(
        as_admin(
            &s,
            &review(&first["id"]),
            json!({"decision": "revoke", "reason": "licence withdrawn by the authority"}),
        )
        .await,
    )
    .await;
    let r = post(
        &host,
        format!("{b}/api/v1/shows/{show}/pins"),
        json!({"product": cream}),
    )
    .await;
    problem(r, 422, "credential_required").await;
    // Unregulated products need nothing.
    json_ok(
        post(
            &host,
            format!("{b}/api/v1/shows/{show}/pins"),
            json!({"product": scarf}),
        )
        .await,
    )
    .await;

    // Virtual host: only the owner labels the channel; the page and the room show it.
    let vh = format!("{b}/api/v1/channels/glow-live/virtual-host");
    problem(
        stranger
            .put(&vh)
            .json(&json!({"virtual_host": true}))
            .send()
            .await
            .unwrap(),
        403,
        "forbidden",
    )
    .await;
    let c = json_ok(
        reqwest::get(format!("{b}/api/v1/channels/glow-live"))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(c["virtual_host"], false);
    assert!(c["host_label"].is_null());
    json_ok(
        host.put(&vh)
            .json(&json!({"virtual_host": true}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let c = json_ok(
        reqwest::get(format!("{b}/api/v1/channels/glow-live"))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(c["virtual_host"], true);
    assert_eq!(c["host_label"], "Virtual host (AI)");
    let st = loop {
        let st = next_state(&mut ws).await;
        if st["hosts"][0]["virtual_host"] == true {
            break st;
        }
    };
    assert_eq!(st["hosts"].as_array().unwrap().len(), 1);
    let page = reqwest::get(format!("{b}/c/glow-live"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"virtual-host\""));

    // Prize draws in the live show: keyword entries from the chat; buyers-only is allowed
    // under eu and then asks for an order.
    let draws = format!("{b}/api/v1/shows/{show}/draws");
    let only_buyers = json_ok(
        post(
            &host,
            draws.clone(),
            json!({"prize_description": "A jar of cream", "prize_minor": 15900, "currency": "CNY",
                   "free_entry": true, "buyers_only": true}),
        )
        .await,
    )
    .await;
    problem(
        post(
            &viewer,
            format!("{b}/api/v1/draws/{}/entries", only_buyers["id"]),
            json!({}),
        )
        .await,
        422,
        "purchase_required",
    )
    .await;
    let kw = json_ok(
        post(
            &host,
            draws.clone(),
            json!({"prize_description": "A silk scarf", "prize_minor": 59000, "currency": "CNY",
                   "keyword": "scarf please"}),
        )
        .await,
    )
    .await;
    problem(
        post(
            &viewer,
            format!("{b}/api/v1/draws/{}/entries", kw["id"]),
            json!({}),
        )
        .await,
        422,
        "entry_route_closed",
    )
    .await;
    ws.send(Message::Text(
        json!({"t": "comment", "text": "SCARF PLEASE, I love it"})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    wait_until("the comment stored", Duration::from_secs(10), || {
        let (h, url) = (host.clone(), format!("{b}/api/v1/shows/{show}/chat"));
        async move {
            let chat = poll_json(&h, url).await?;
            chat.as_array()?
                .iter()
                .any(|c| c["text"] == "SCARF PLEASE, I love it")
                .then_some(())
        }
    })
    .await;
    problem(
        post(
            &viewer,
            format!("{b}/api/v1/draws/{}/draw", kw["id"]),
            json!({}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    let drawn = json_ok(
        post(
            &host,
            format!("{b}/api/v1/draws/{}/draw", kw["id"]),
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(drawn["state"], "drawn");
    assert_eq!(drawn["entrants"], 1);
    assert_eq!(drawn["drawn"][0]["name"], "Test Person");
    assert_eq!(
        drawn["drawn"][0]["account"],
        json_ok(viewer.get(format!("{b}/api/v1/me")).send().await.unwrap()).await["id"]
    );
    let you = json_ok(
        viewer
            .get(format!("{b}/api/v1/draws/{}", kw["id"]))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(you["your_entry"], "keyword");

    let _ = ffmpeg.kill();
    let _ = ffmpeg.wait();
    s.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cn_labels_stay_on_the_card_and_cap_the_top_prize() {
    let s = start_with(|c| c.commerce.law_profile = "cn".into()).await;
    let b = &s.base;
    let (host, _) = streamer_channel(b, "cn-host").await;
    let org = open_shop(&host, b, "Li Wei's Orchard").await;
    let scarf = product(&host, b, org, "Silk scarf", "fashion").await;
    let show = json_ok(
        post(
            &host,
            format!("{b}/api/v1/channels/cn-host/shows"),
            json!({"title": "Tomorrow", "scheduled_at": now_ms() + 86_400_000}),
        )
        .await,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    json_ok(
        host.put(format!("{b}/api/v1/shows/{show}/shelf"))
            .json(&json!({"products": [{"product": scarf, "sponsored": true}]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let shelf = json_ok(
        reqwest::get(format!("{b}/api/v1/shows/{show}/shelf"))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(shelf[0]["label"], "广告");
    assert_eq!(
        shelf[0]["label_repeats"], false,
        "kept on the card under cn"
    );

    let draws = format!("{b}/api/v1/shows/{show}/draws");
    let over = post(
        &host,
        draws.clone(),
        json!({"prize_description": "A car", "prize_minor": 5_000_001, "currency": "CNY", "free_entry": true}),
    )
    .await;
    let p = problem(over, 422, "prize_over_cap").await;
    assert!(p["detail"].as_str().unwrap().contains("50000.00"), "{p}");
    problem(
        post(
            &host,
            draws.clone(),
            json!({"prize_description": "A car", "prize_minor": 100, "currency": "EUR", "free_entry": true}),
        )
        .await,
        422,
        "prize_currency_not_capped",
    )
    .await;
    problem(
        post(
            &host,
            draws.clone(),
            json!({"prize_description": "A car", "prize_minor": 100, "currency": "CNY"}),
        )
        .await,
        422,
        "no_entry_route",
    )
    .await;
    let ok = json_ok(
        post(
            &host,
            draws.clone(),
            json!({"prize_description": "A year of peaches", "prize_minor": 5_000_000, "currency": "CNY", "keyword": "桃子"}),
        )
        .await,
    )
    .await;
    assert_eq!(ok["law"], "cn");
    assert_eq!(ok["state"], "open");
    s.running.shutdown().await;
}

/// Under us: no draw without a free entry route, and entering never asks for an order; the
/// seed revealed after the draw matches the commitment and re-runs to the same winners. On
/// both backends.
async fn us_free_entry(s: TestServer) {
    let b = &s.base;
    let (host, _) = streamer_channel(b, "us-host").await;
    let show = json_ok(
        post(
            &host,
            format!("{b}/api/v1/channels/us-host/shows"),
            json!({"title": "Giveaway night", "scheduled_at": now_ms() + 86_400_000}),
        )
        .await,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let draws = format!("{b}/api/v1/shows/{show}/draws");
    for body in [
        json!({"prize_description": "A TV", "prize_minor": 49_900, "currency": "USD", "keyword": "tv"}),
        json!({"prize_description": "A TV", "prize_minor": 49_900, "currency": "USD", "free_entry": true, "buyers_only": true}),
    ] {
        problem(
            post(&host, draws.clone(), body).await,
            422,
            "free_entry_required",
        )
        .await;
    }
    let viewer = browser();
    sign_up(&viewer, b, "fan@us.example", "viewer").await;
    problem(
        post(
            &viewer,
            draws.clone(),
            json!({"prize_description": "A TV", "prize_minor": 49_900, "currency": "USD", "free_entry": true}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    let d = json_ok(
        post(
            &host,
            draws.clone(),
            json!({"prize_description": "A TV", "prize_minor": 49_900, "currency": "USD", "free_entry": true, "winners": 2}),
        )
        .await,
    )
    .await;
    assert_eq!(d["no_purchase_necessary"], true);
    assert!(d["seed"].is_null(), "the seed stays secret until the draw");
    let commitment = d["seed_commitment"].as_str().unwrap().to_string();
    let id = d["id"].as_i64().unwrap();
    let enter = format!("{b}/api/v1/draws/{id}/entries");
    // No orders anywhere: entering still works, once per account.
    let r = post(&viewer, enter.clone(), json!({})).await;
    assert_eq!(r.status(), 201);
    let r = post(&viewer, enter.clone(), json!({})).await;
    assert_eq!(json_ok(r).await["already"], true);
    problem(
        reqwest::Client::new()
            .post(&enter)
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
        401,
        "unauthenticated",
    )
    .await;
    let second = browser();
    sign_up(&second, b, "fan2@us.example", "viewer").await;
    assert_eq!(post(&second, enter.clone(), json!({})).await.status(), 201);
    let third = browser();
    sign_up(&third, b, "fan3@us.example", "viewer").await;
    assert_eq!(post(&third, enter.clone(), json!({})).await.status(), 201);
    let open = json_ok(
        reqwest::get(format!("{b}/api/v1/draws/{id}"))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(open["entrants"], 3);

    let drawn = json_ok(post(&host, format!("{b}/api/v1/draws/{id}/draw"), json!({})).await).await;
    assert_eq!(drawn["state"], "drawn");
    assert_eq!(drawn["entrants"], 3);
    assert_eq!(drawn["algorithm"], hawker_commerce::draw::ALGORITHM);
    let seed = hawker_commerce::draw::seed_from_hex(drawn["seed"].as_str().unwrap()).unwrap();
    assert_eq!(hawker_commerce::draw::commitment(&seed), commitment);
    let winners: Vec<i64> = drawn["drawn"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["account"].as_i64().unwrap())
        .collect();
    assert_eq!(winners.len(), 2);
    let me = |c: reqwest::Client| async move {
        json_ok(c.get(format!("{b}/api/v1/me")).send().await.unwrap()).await["id"]
            .as_i64()
            .unwrap()
    };
    let entrants = vec![
        me(viewer.clone()).await,
        me(second.clone()).await,
        me(third.clone()).await,
    ];
    assert_eq!(
        hawker_commerce::draw::pick_winners(&seed, &entrants, 2),
        winners,
        "anyone can re-run the draw"
    );
    assert_eq!(
        drawn["entrants_digest"],
        hawker_commerce::draw::entrants_digest(&entrants)
    );
    problem(
        post(&host, format!("{b}/api/v1/draws/{id}/draw"), json!({})).await,
        409,
        "already_drawn",
    )
    .await;
    let late = browser();
    sign_up(&late, b, "late@us.example", "viewer").await;
    problem(post(&late, enter, json!({})).await, 409, "draw_closed").await;
    let listed = json_ok(reqwest::get(&draws).await.unwrap()).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    s.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn us_draws_have_a_free_entry_route_sqlite() {
    us_free_entry(start_with(|c| c.commerce.law_profile = "us".into()).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn us_draws_have_a_free_entry_route_postgres() {
    let url = hawker_storage::testing::postgres_url().await;
    us_free_entry(
        start_with(move |c| {
            c.commerce.law_profile = "us".into();
            c.storage.url = url;
        })
        .await,
    )
    .await;
}
