//! Outbound webhooks against a real receiver on loopback: orders and shows reach a seller's
//! system signed, a failing receiver is retried, every attempt is in the delivery log, a
//! delivery can be sent again, and only the shop's owners and managers see any of it.

use crate::common;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use common::*;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// What the receiver saw: event id, type, signature header, body.
#[derive(Clone, Debug)]
struct Received {
    event_id: String,
    topic: String,
    signature: String,
    body: Vec<u8>,
}

#[derive(Clone)]
struct Receiver {
    seen: Arc<Mutex<Vec<Received>>>,
    /// The first this-many requests are answered 500.
    fail_first: Arc<AtomicUsize>,
}

async fn receive(
    State(r): State<Receiver>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    r.seen.lock().await.push(Received {
        event_id: h("hawker-event-id"),
        topic: h("hawker-event"),
        signature: h("hawker-signature"),
        body: body.to_vec(),
    });
    let failing = r
        .fail_first
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if failing {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::NO_CONTENT
    }
}

async fn start_receiver(fail_first: usize) -> (String, Receiver) {
    let r = Receiver {
        seen: Arc::new(Mutex::new(Vec::new())),
        fail_first: Arc::new(AtomicUsize::new(fail_first)),
    };
    let app = axum::Router::new()
        .route("/hooks", axum::routing::post(receive))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hooks"), r)
}

async fn wait_for(r: &Receiver, topic: &str, count: usize) -> Vec<Received> {
    let r = r.clone();
    let topic = topic.to_string();
    wait_until(
        &format!("{count} × {topic} at the receiver"),
        Duration::from_secs(30),
        || {
            let (r, topic) = (r.clone(), topic.clone());
            async move {
                let seen: Vec<Received> = r
                    .seen
                    .lock()
                    .await
                    .iter()
                    .filter(|x| x.topic == topic)
                    .cloned()
                    .collect();
                (seen.len() >= count).then_some(seen)
            }
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_and_shows_reach_the_sellers_system_signed_and_retried() {
    let s = start_with(|c| {
        c.webhooks.allow_private_targets = true;
        c.webhooks.first_retry_ms = 300;
    })
    .await;
    let b = s.base.clone();
    let (url, receiver) = start_receiver(1).await;
    let (host, ch) = streamer_channel(&b, "hook-shop").await;
    let (org, product) = org_with_product(
        &host,
        &b,
        json!({"name": "Hook Pearls"}),
        json!({"title": "Pearl studs", "category": "jewellery", "return_class": "normal",
               "currency": "CNY", "skus": [{"label": "pair", "price_minor": 19900, "stock": 10}]}),
    )
    .await;
    let org_id = org["id"].as_i64().unwrap();
    let hooks = format!("{b}/api/v1/orgs/{org_id}/webhooks");

    // Bad subscriptions are refused with the field named.
    for bad in [
        json!({"url": "ftp://example.com/x", "topics": ["*"]}),
        json!({"url": url, "topics": ["order.exploded"]}),
        json!({"url": url, "topics": []}),
    ] {
        let r = post(&host, hooks.clone(), bad).await;
        assert_eq!(r.status(), 422);
        let p: Value = r.json().await.unwrap();
        assert_eq!(p["code"], "invalid_field");
    }
    // Someone outside the shop can neither subscribe nor read the log.
    let outsider = browser();
    sign_up(&outsider, &b, "outsider@example.com", "viewer").await;
    let r = post(
        &outsider,
        hooks.clone(),
        json!({"url": url, "topics": ["*"]}),
    )
    .await;
    assert_eq!(r.status(), 403);
    let r = outsider
        .get(format!("{b}/api/v1/orgs/{org_id}/webhook-deliveries"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    let created =
        json_ok(post(&host, hooks.clone(), json!({"url": url, "topics": ["*"]})).await).await;
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{created}");
    let hook_id = created["id"].as_i64().unwrap();
    let listed = json_ok(host.get(hooks.clone()).send().await.unwrap()).await;
    assert_eq!(listed["webhooks"][0]["id"], hook_id);
    assert!(
        listed["webhooks"][0].get("secret").is_none(),
        "the secret is shown once: {listed}"
    );

    // A buyer orders and pays; the seller ships.
    let buyer = browser();
    sign_up(&buyer, &b, "hook-buyer@example.com", "viewer").await;
    let sku = product["skus"][0]["id"].as_i64().unwrap();
    let order = json_ok(
        post(
            &buyer,
            format!("{b}/api/v1/orders"),
            json!({"items": [{"sku": sku, "quantity": 1}],
                   "address": {"name": "Mei", "line1": "1 Lake Rd", "city": "Hangzhou", "postcode": "310000"}}),
        )
        .await,
    )
    .await;
    let order_id = order["id"].as_i64().unwrap();

    // The receiver failed the first delivery: it is tried again and arrives twice, signed.
    let seen = wait_for(&receiver, "order.created", 2).await;
    assert_eq!(seen[0].event_id, seen[1].event_id, "one event, retried");
    let now_s = now_ms() / 1000;
    for r in &seen {
        hawker_hooks::signing::verify(&secret, &r.signature, &r.body, now_s, 300)
            .expect("a valid signature");
        assert!(
            hawker_hooks::signing::verify("whsec_wrong", &r.signature, &r.body, now_s, 300)
                .is_err()
        );
    }
    let event: Value = serde_json::from_slice(&seen[0].body).unwrap();
    assert_eq!(event["type"], "order.created");
    assert_eq!(event["data"]["order"]["id"], order_id.to_string());
    assert_eq!(event["data"]["order"]["total_minor"], 19900);
    assert_eq!(event["data"]["order"]["items"][0]["quantity"], 1);

    json_ok(
        post(
            &buyer,
            format!("{b}/api/v1/orders/{order_id}/pay"),
            json!({"card": "4242424242424242"}),
        )
        .await,
    )
    .await;
    let paid = wait_for(&receiver, "order.paid", 1).await;
    let paid: Value = serde_json::from_slice(&paid[0].body).unwrap();
    assert_eq!(paid["data"]["order"]["previous_state"], "created");
    json_ok(
        post(
            &host,
            format!("{b}/api/v1/orders/{order_id}/fulfilment"),
            json!({"action": "ship", "carrier": "SF Express", "tracking": "SF1"}),
        )
        .await,
    )
    .await;
    let shipped = wait_for(&receiver, "order.shipped", 1).await;
    let shipped: Value = serde_json::from_slice(&shipped[0].body).unwrap();
    assert_eq!(shipped["data"]["order"]["tracking"], "SF1");

    // The show goes live and ends.
    let mut ffmpeg = ffmpeg_publish(&publish_url(&ch), 4);
    let live = wait_for(&receiver, "show.live", 1).await;
    let live: Value = serde_json::from_slice(&live[0].body).unwrap();
    assert_eq!(live["data"]["show"]["channel"], "hook-shop");
    assert!(live["data"]["show"]["watch_url"]
        .as_str()
        .unwrap()
        .ends_with("/c/hook-shop"));
    tokio::task::spawn_blocking(move || ffmpeg.wait())
        .await
        .unwrap()
        .unwrap();
    wait_for(&receiver, "show.ended", 1).await;

    // The delivery log: the retried one with both attempts, newest first.
    let log = json_ok(
        host.get(format!("{b}/api/v1/orgs/{org_id}/webhook-deliveries"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let list = log["deliveries"].as_array().unwrap();
    assert!(list.len() >= 5, "{log}");
    assert!(list
        .windows(2)
        .all(|w| w[0]["id"].as_i64() > w[1]["id"].as_i64()));
    let first = list
        .iter()
        .find(|d| d["topic"] == "order.created")
        .unwrap()
        .clone();
    assert_eq!(first["state"], "delivered");
    assert_eq!(first["attempts"], 2);
    let detail = json_ok(
        host.get(format!(
            "{b}/api/v1/orgs/{org_id}/webhook-deliveries/{}",
            first["id"]
        ))
        .send()
        .await
        .unwrap(),
    )
    .await;
    let attempts = detail["attempt_log"].as_array().unwrap();
    assert_eq!(attempts[0]["status"], 500);
    assert_eq!(attempts[1]["status"], 204);
    assert_eq!(detail["payload"]["type"], "order.created");
    let failed_only = json_ok(
        host.get(format!(
            "{b}/api/v1/orgs/{org_id}/webhook-deliveries?state=failed"
        ))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(failed_only["deliveries"].as_array().unwrap().len(), 0);

    // Sent again on request: the same event once more.
    let r = host
        .post(format!(
            "{b}/api/v1/orgs/{org_id}/webhook-deliveries/{}/redeliver",
            first["id"]
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let again = wait_for(&receiver, "order.created", 3).await;
    assert_eq!(again[2].event_id, again[0].event_id);

    // Removed: later events are not sent.
    let r = host
        .delete(format!("{hooks}/{hook_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let before = receiver.seen.lock().await.len();
    json_ok(
        post(
            &host,
            format!("{b}/api/v1/orders/{order_id}/fulfilment"),
            json!({"action": "deliver"}),
        )
        .await,
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(receiver.seen.lock().await.len(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_addresses_are_refused_unless_the_operator_allows_them() {
    let s = start().await;
    let b = s.base.clone();
    let (host, _ch) = streamer_channel(&b, "ssrf-shop").await;
    let (org, _) = org_with_product(
        &host,
        &b,
        json!({"name": "SSRF Shop"}),
        json!({"title": "Tea", "category": "home", "return_class": "normal",
               "currency": "EUR", "skus": [{"label": "tin", "price_minor": 900, "stock": 5}]}),
    )
    .await;
    for url in [
        "http://127.0.0.1:9/hooks",
        "http://localhost:9/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:9/",
        "http://10.0.0.1/",
    ] {
        let r = post(
            &host,
            format!("{b}/api/v1/orgs/{}/webhooks", org["id"]),
            json!({"url": url, "topics": ["*"]}),
        )
        .await;
        assert_eq!(r.status(), 422, "{url}");
        let p: Value = r.json().await.unwrap();
        assert!(
            p["detail"]
                .as_str()
                .unwrap()
                .contains("allow_private_targets"),
            "{url}: {p}"
        );
    }
}
