//! Defect claims on excepted goods: cut flowers arrive wilted; no plain return is allowed
//! (perishable), but a defect claim with photos is; the seller disputes it, the platform
//! upholds it with a refund without return, and the refund is in the seller's ledger. A
//! second claim is accepted with the goods sent back through the return steps.

use crate::common;

use common::*;
use serde_json::{json, Value};
use std::time::Duration;

const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

async fn code(r: reqwest::Response) -> (u16, String) {
    let status = r.status().as_u16();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    (status, v["code"].as_str().unwrap_or("").to_string())
}

/// An order of `sku` by `buyer`, paid, shipped by `seller` and confirmed delivered.
async fn delivered_order(
    b: &str,
    buyer: &reqwest::Client,
    seller: &reqwest::Client,
    sku: i64,
) -> i64 {
    let order = json_ok(
        post(
            buyer,
            format!("{b}/api/v1/orders"),
            json!({"items": [{"sku": sku, "quantity": 1}], "acknowledge_exceptions": true,
                   "address": {"name": "Ann", "line1": "1 Canal St", "city": "Utrecht", "postcode": "3511"}}),
        )
        .await,
    )
    .await;
    let id = order["id"].as_i64().unwrap();
    json_ok(
        post(
            buyer,
            format!("{b}/api/v1/orders/{id}/pay"),
            json!({"card": "4242424242424242"}),
        )
        .await,
    )
    .await;
    wait_until("paid", Duration::from_secs(10), || {
        let (c, url) = (buyer.clone(), format!("{b}/api/v1/orders/{id}"));
        async move { (poll_json(&c, url).await?["state"] == "paid").then_some(()) }
    })
    .await;
    json_ok(
        post(
            seller,
            format!("{b}/api/v1/orders/{id}/fulfilment"),
            json!({"action": "ship", "carrier": "PostNL", "tracking": "3S123"}),
        )
        .await,
    )
    .await;
    json_ok(
        post(
            buyer,
            format!("{b}/api/v1/orders/{id}/actions"),
            json!({"action": "confirm_delivery"}),
        )
        .await,
    )
    .await;
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_defect_in_perishables_is_claimed_disputed_and_refunded_in_the_ledger() {
    let s = start().await;
    let b = s.base.clone();
    let admin = std::fs::read_to_string(&s.running.admin_token_file).unwrap();
    let admin = admin.trim().to_string();
    let ops = reqwest::Client::new();
    let (florist, _ch) = streamer_channel(&b, "tulip-stall").await;
    let (org, product) = org_with_product(
        &florist,
        &b,
        json!({"name": "Tulip Stall", "individual": true}),
        json!({"title": "Cut tulips", "category": "home", "return_class": "perishable",
               "currency": "EUR", "skus": [{"label": "bunch", "price_minor": 1200, "stock": 50}]}),
    )
    .await;
    let org_id = org["id"].as_i64().unwrap();
    let sku = product["skus"][0]["id"].as_i64().unwrap();
    let buyer = browser();
    sign_up(&buyer, &b, "ann@example.com", "viewer").await;
    let order = delivered_order(&b, &buyer, &florist, sku).await;

    // The order says by when a defect may be claimed: EU, perishables, 3 days.
    let o = json_ok(
        buyer
            .get(format!("{b}/api/v1/orders/{order}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let by = o["defect_claim_deadline"]
        .as_i64()
        .expect("a delivered order's claim deadline");
    assert!((by - now_ms() - 3 * 86_400_000).abs() < 120_000, "{o}");
    // No reason-free return for perishables...
    let r = post(
        &buyer,
        format!("{b}/api/v1/orders/{order}/actions"),
        json!({"action": "request_return", "reason": "wilted"}),
    )
    .await;
    assert_eq!(code(r).await, (409, "return_not_allowed".into()));
    // ...but a defect claim, described.
    let claims = format!("{b}/api/v1/orders/{order}/defect-claims");
    let r = post(&buyer, claims.clone(), json!({"description": "bad"})).await;
    assert_eq!(code(r).await, (422, "invalid_field".into()));
    let stranger = browser();
    sign_up(&stranger, &b, "stranger@example.com", "viewer").await;
    let r = post(
        &stranger,
        claims.clone(),
        json!({"description": "Not my order but I claim anyway"}),
    )
    .await;
    assert_eq!(code(r).await.0, 404);
    let claim = json_ok(
        post(
            &buyer,
            claims.clone(),
            json!({"description": "The tulips arrived wilted and brown."}),
        )
        .await,
    )
    .await;
    let claim_id = claim["id"].as_i64().unwrap();
    assert_eq!(claim["state"], "open");
    assert!(
        claim["deadline"].as_i64().unwrap() <= now_ms() + 3 * 86_400_000 + 60_000,
        "EU: 3 days for perishables: {claim}"
    );
    let r = post(
        &buyer,
        claims.clone(),
        json!({"description": "Claiming the same thing twice."}),
    )
    .await;
    assert_eq!(code(r).await, (409, "claim_not_allowed".into()));
    let o = json_ok(
        buyer
            .get(format!("{b}/api/v1/orders/{order}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(o["state"], "return_requested", "held out of completion");

    // Photos: images only, and private to the buyer, the seller and the platform.
    let photos = format!("{b}/api/v1/defect-claims/{claim_id}/photos");
    let r = buyer
        .post(&photos)
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(code(r).await, (415, "unsupported_media_type".into()));
    let r = buyer
        .post(&photos)
        .header("content-type", "image/jpeg")
        .body(PNG)
        .send()
        .await
        .unwrap();
    assert_eq!(code(r).await.0, 422, "bytes that are not the type said");
    let photo = json_ok(
        buyer
            .post(&photos)
            .header("content-type", "image/png")
            .body(PNG)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let photo_url = format!("{b}{}", photo["url"].as_str().unwrap());
    let r = stranger.get(&photo_url).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let r = florist.get(&photo_url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "private, no-store");
    assert_eq!(r.bytes().await.unwrap().as_ref(), PNG);
    let r = stranger
        .get(format!("{b}/api/v1/defect-claims/{claim_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // The seller cannot side-step the claim with the plain return steps, nor dispute without a reason.
    let r = post(
        &florist,
        format!("{b}/api/v1/orders/{order}/fulfilment"),
        json!({"action": "reject_return", "reason": "no"}),
    )
    .await;
    assert_eq!(code(r).await, (422, "invalid_field".into()));
    let answer = format!("{b}/api/v1/defect-claims/{claim_id}/answer");
    let r = post(&florist, answer.clone(), json!({"action": "dispute"})).await;
    assert_eq!(code(r).await, (422, "invalid_field".into()));
    let r = post(
        &buyer,
        answer.clone(),
        json!({"action": "accept", "remedy": "refund_without_return"}),
    )
    .await;
    assert_eq!(code(r).await.0, 403);
    let listed = json_ok(
        florist
            .get(format!("{b}/api/v1/orgs/{org_id}/defect-claims?state=open"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(listed["claims"][0]["id"], claim_id);
    assert_eq!(listed["claims"][0]["photos"].as_array().unwrap().len(), 1);
    let disputed = json_ok(
        post(
            &florist,
            answer.clone(),
            json!({"action": "dispute", "note": "They were fresh when they left."}),
        )
        .await,
    )
    .await;
    assert_eq!(disputed["state"], "disputed");
    let r = post(
        &florist,
        answer.clone(),
        json!({"action": "accept", "remedy": "refund_without_return"}),
    )
    .await;
    assert_eq!(code(r).await, (409, "claim_not_allowed".into()));

    // The platform decides.
    let r = post(
        &buyer,
        format!("{b}/api/v1/admin/defect-claims/{claim_id}/decide"),
        json!({"decision": "uphold", "remedy": "refund_without_return", "note": "x"}),
    )
    .await;
    assert_eq!(r.status(), 403);
    let queue = json_ok(
        ops.get(format!("{b}/api/v1/admin/defect-claims?state=disputed"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(queue["claims"][0]["id"], claim_id);
    let upheld = json_ok(
        ops.post(format!("{b}/api/v1/admin/defect-claims/{claim_id}/decide"))
            .bearer_auth(&admin)
            .json(&json!({"decision": "uphold", "remedy": "refund_without_return", "note": "Photos show wilted flowers on arrival."}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(upheld["state"], "upheld");
    assert_eq!(upheld["remedy"], "refund_without_return");
    let o = json_ok(
        buyer
            .get(format!("{b}/api/v1/orders/{order}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(o["state"], "refunded", "{o}");
    assert_eq!(o["payment"], "refunded", "{o}");
    // The ledger: the sale's pending earnings, then their reversal.
    wait_until(
        "the refund in the seller's ledger",
        Duration::from_secs(20),
        || {
            let (c, url) = (
                florist.clone(),
                format!("{b}/api/v1/orgs/{org_id}/statement?purpose=pending&currency=EUR"),
            );
            async move {
                let v = poll_json(&c, url).await?;
                let kinds: Vec<String> = v["lines"]
                    .as_array()?
                    .iter()
                    .filter_map(|l| l["kind"].as_str().map(str::to_string))
                    .collect();
                (kinds.contains(&"order_paid".to_string())
                    && kinds.contains(&"order_refunded".to_string()))
                .then_some(())
            }
        },
    )
    .await;

    // A second claim, accepted with the goods sent back: the return steps, then the refund.
    let second = delivered_order(&b, &buyer, &florist, sku).await;
    let c2 = json_ok(
        post(
            &buyer,
            format!("{b}/api/v1/orders/{second}/defect-claims"),
            json!({"description": "The vase that came with them is cracked."}),
        )
        .await,
    )
    .await;
    let accepted = json_ok(
        post(
            &florist,
            format!("{b}/api/v1/defect-claims/{}/answer", c2["id"]),
            json!({"action": "accept", "remedy": "refund_with_return"}),
        )
        .await,
    )
    .await;
    assert_eq!(accepted["state"], "accepted");
    let ful = format!("{b}/api/v1/orders/{second}/fulfilment");
    let o = json_ok(post(&florist, ful.clone(), json!({"action": "receive_return"})).await).await;
    assert_eq!(o["state"], "return_received");
    let o = json_ok(post(&florist, ful.clone(), json!({"action": "refund"})).await).await;
    assert_eq!(o["state"], "refunded");
    let mine = json_ok(
        buyer
            .get(format!("{b}/api/v1/me/defect-claims"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(mine["claims"].as_array().unwrap().len(), 2);
}
