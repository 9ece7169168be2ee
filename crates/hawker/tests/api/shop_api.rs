//! The shop over HTTP on a real server: a seller opens a shop, lists products, stocks a show's
//! shelf and pins; buyers check out with idempotency keys and pay through the sandbox provider
//! (its webhooks arriving once, twice, late or never); the merchant ships, the law's return
//! rules hold; every bad input is a problem document and leaves nothing half-written.

use crate::common;

use common::*;
use serde_json::{json, Value};
use std::time::Duration;

async fn problem(r: reqwest::Response, status: u16, code: &str) -> Value {
    let st = r.status().as_u16();
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    let v: Value = r.json().await.unwrap();
    assert_eq!(st, status, "{v}");
    assert_eq!(ct, "application/problem+json");
    assert_eq!(v["code"], code, "{v}");
    v
}

const ADDRESS: &str =
    r#"{"name":"Mei Lin","line1":"12 West Lake Road","city":"Hangzhou","postcode":"310000"}"#;

fn address() -> Value {
    serde_json::from_str(ADDRESS).unwrap()
}

async fn order_state(c: &reqwest::Client, b: &str, id: i64) -> String {
    let o = json_ok(
        c.get(format!("{b}/api/v1/orders/{id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    o["state"].as_str().unwrap().to_string()
}

async fn wait_state(c: &reqwest::Client, b: &str, id: i64, want: &str) {
    let (c, b) = (c.clone(), b.to_string());
    let want = want.to_string();
    wait_until(
        &format!("order {id} {want}"),
        Duration::from_secs(15),
        || {
            let (c, b, want) = (c.clone(), b.clone(), want.clone());
            async move { (order_state(&c, &b, id).await == want).then_some(()) }
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shop_from_catalog_to_return() {
    let s = start().await;
    let b = &s.base;

    // The farmer opens a one-person shop; the channel sells for it from then on.
    let (farmer, _ch) = streamer_channel(b, "li-wei-farm").await;
    let org = json_ok(
        post(
            &farmer,
            format!("{b}/api/v1/orgs"),
            json!({"name": "Li Wei's Orchard", "individual": true, "city": "Fenghua"}),
        )
        .await,
    )
    .await;
    let org_id = org["id"].as_i64().unwrap();
    assert_eq!(org["kind"], "individual");
    let store_id = org["stores"][0]["id"].as_i64().unwrap();

    // Catalog: bad input first.
    let r = post(
        &farmer,
        format!("{b}/api/v1/orgs/{org_id}/products"),
        json!({"title": "Peaches", "category": "food", "return_class": "perishable",
               "currency": "CNY", "skus": [{"label": "5 kg", "price_minor": -5, "stock": 3}]}),
    )
    .await;
    problem(r, 422, "invalid_field").await;
    let r = post(
        &farmer,
        format!("{b}/api/v1/orgs/{org_id}/products"),
        json!({"title": "Peaches", "category": "food", "return_class": "perishable",
               "currency": "CNY", "skus": [], "price": 3}),
    )
    .await;
    problem(r, 422, "invalid_json").await;
    // An absolute or medical claim is refused, in English or Chinese, however it is spelled.
    for (title, description) in [
        ("The BEST peaches", ""),
        ("Juicy peaches", "They cure colds"),
        ("全网最佳水蜜桃", ""),
        ("Peaches, N0. 1 in Fenghua", ""),
    ] {
        let r = post(
            &farmer,
            format!("{b}/api/v1/orgs/{org_id}/products"),
            json!({"title": title, "description": description, "category": "food", "return_class": "perishable",
                   "currency": "CNY", "skus": [{"label": "5 kg", "price_minor": 12800, "stock": 3}]}),
        )
        .await;
        problem(r, 422, "banned_claim").await;
    }
    let peaches = json_ok(
        post(
            &farmer,
            format!("{b}/api/v1/orgs/{org_id}/products"),
            json!({"title": "Juicy peaches", "category": "food", "return_class": "perishable",
               "currency": "CNY", "skus": [{"label": "5 kg", "price_minor": 12800, "stock": 50}]}),
        )
        .await,
    )
    .await;
    assert_eq!(peaches["regulated"], true, "food is a regulated category");
    assert!(peaches["return_notice"].is_string());
    assert_eq!(peaches["seller"]["name"], "Li Wei's Orchard");
    let honey = json_ok(
        post(
            &farmer,
            format!("{b}/api/v1/orgs/{org_id}/products"),
            json!({"title": "Wild flower honey", "category": "food", "return_class": "normal",
               "currency": "CNY", "skus": [{"label": "500 g", "price_minor": 6800, "stock": 10}]}),
        )
        .await,
    )
    .await;
    let peach_sku = peaches["skus"][0]["id"].as_i64().unwrap();
    let honey_sku = honey["skus"][0]["id"].as_i64().unwrap();

    // An image: checked against its declared type, served back.
    let png = [0x89u8, b'P', b'N', b'G', 13, 10, 26, 10, 0, 0];
    let r = farmer
        .post(format!("{b}/api/v1/products/{}/images", peaches["id"]))
        .header("content-type", "image/png")
        .body(b"GIF89a".to_vec())
        .send()
        .await
        .unwrap();
    problem(r, 422, "invalid_field").await;
    let img = json_ok(
        farmer
            .post(format!("{b}/api/v1/products/{}/images", peaches["id"]))
            .header("content-type", "image/png")
            .body(png.to_vec())
            .send()
            .await
            .unwrap(),
    )
    .await;
    let r = reqwest::get(format!("{b}{}", img["url"].as_str().unwrap()))
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.bytes().await.unwrap().as_ref(), &png);

    // Someone else cannot touch this shop's catalog.
    let stranger = browser();
    sign_up(&stranger, b, "stranger@example.com", "streamer").await;
    let r = stranger
        .put(format!("{b}/api/v1/skus/{peach_sku}/price"))
        .json(&json!({"price_minor": 1}))
        .send()
        .await
        .unwrap();
    problem(r, 403, "forbidden").await;

    // The showcase: a shelf on a show, pins (at most three highlighted), each recorded.
    let tomorrow = now_ms() + 86_400_000;
    let show = json_ok(
        post(
            &farmer,
            format!("{b}/api/v1/channels/li-wei-farm/shows"),
            json!({"title": "Harvest day", "scheduled_at": tomorrow}),
        )
        .await,
    )
    .await;
    let show_id = show["id"].as_i64().unwrap();
    let r = farmer
        .put(format!("{b}/api/v1/shows/{show_id}/shelf"))
        .json(&json!({"products": [peaches["id"], peaches["id"]]}))
        .send()
        .await
        .unwrap();
    problem(r, 422, "invalid_field").await;
    let r = stranger
        .put(format!("{b}/api/v1/shows/{show_id}/shelf"))
        .json(&json!({"products": [peaches["id"]]}))
        .send()
        .await
        .unwrap();
    problem(r, 403, "forbidden").await;
    // Food is regulated: no showcase before ops approve the seller's food licence.
    let r = farmer
        .put(format!("{b}/api/v1/shows/{show_id}/shelf"))
        .json(&json!({"products": [peaches["id"], honey["id"]]}))
        .send()
        .await
        .unwrap();
    problem(r, 422, "credential_required").await;
    let licence = json_ok(
        farmer
            .post(format!(
                "{b}/api/v1/orgs/{org_id}/credentials?category=food"
            ))
            .header("content-type", "image/png")
            .body(png.to_vec())
            .send()
            .await
            .unwrap(),
    )
    .await;
    let admin = std::fs::read_to_string(&s.running.admin_token_file).unwrap();
    json_ok(
        reqwest::Client::new()
            .post(format!(
                "{b}/api/v1/admin/credentials/{}/review",
                licence["id"]
            ))
            .bearer_auth(admin.trim())
            .json(&json!({"decision": "approve"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    json_ok(
        farmer
            .put(format!("{b}/api/v1/shows/{show_id}/shelf"))
            .json(&json!({"products": [peaches["id"], honey["id"]]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let pinned = json_ok(
        post(
            &farmer,
            format!("{b}/api/v1/shows/{show_id}/pins"),
            json!({"product": peaches["id"]}),
        )
        .await,
    )
    .await;
    assert_eq!(pinned[0]["seller"], "Li Wei's Orchard");
    // Not paid promotion: no label; the host has said nothing about using it.
    assert_eq!(pinned[0]["paid_promotion"], false);
    assert!(pinned[0].get("label").is_none());
    assert_eq!(
        pinned[0]["attestation"],
        "The host has not stated having used this product"
    );
    let shelf = json_ok(
        reqwest::get(format!("{b}/api/v1/shows/{show_id}/shelf"))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(shelf.as_array().unwrap().len(), 2);

    // A buyer checks out. Bad input first: nothing is written by any of these.
    let buyer = browser();
    sign_up(&buyer, b, "mei@example.com", "viewer").await;
    let orders = format!("{b}/api/v1/orders");
    let r = post(
        &buyer,
        orders.clone(),
        json!({"items": [{"sku": honey_sku, "quantity": -2}], "address": address()}),
    )
    .await;
    problem(r, 422, "invalid_field").await;
    let r = post(
        &buyer,
        orders.clone(),
        json!({"items": [{"sku": 999_999, "quantity": 1}], "address": address()}),
    )
    .await;
    problem(r, 404, "not_found").await;
    let r = post(
        &buyer,
        orders.clone(),
        json!({"items": [{"sku": peach_sku, "quantity": 1}], "address": address()}),
    )
    .await;
    let p = problem(r, 422, "invalid_field").await;
    assert!(p["detail"].as_str().unwrap().contains("acknowledge"));
    let r = post(
        &buyer,
        orders.clone(),
        json!({"items": [{"sku": honey_sku, "quantity": 1}], "address": {"name": ""}}),
    )
    .await;
    problem(r, 422, "invalid_field").await;
    let r = buyer
        .post(orders.clone())
        .header("content-type", "application/json")
        .body("{\"items\": [")
        .send()
        .await
        .unwrap();
    problem(r, 400, "invalid_json").await;
    // An expired coupon.
    let now = now_ms();
    json_ok(post(
        &farmer,
        format!("{b}/api/v1/orgs/{org_id}/coupons"),
        json!({"code": "SUMMER", "discount": {"kind": "percent", "basis_points": 1000}, "currency": "CNY",
               "budget_minor": 100000, "scope": "store",
               "valid_from": now - 10 * 86_400_000, "valid_to": now - 86_400_000}),
    )
    .await)
    .await;
    let r = post(
        &buyer,
        orders.clone(),
        json!({"items": [{"sku": honey_sku, "quantity": 1}], "address": address(), "coupon": "SUMMER"}),
    )
    .await;
    problem(r, 422, "coupon_not_applicable").await;
    assert_eq!(
        json_ok(
            buyer
                .get(format!("{b}/api/v1/me/orders"))
                .send()
                .await
                .unwrap()
        )
        .await,
        json!([]),
        "no bad request left an order behind"
    );
    let honey_now = json_ok(
        reqwest::get(format!(
            "{b}/api/v1/products/{}?store={store_id}",
            honey["id"]
        ))
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(honey_now["skus"][0]["stock"], 10, "nor took stock");

    // A valid coupon; the price is the server's, whatever the client thinks.
    json_ok(post(
        &farmer,
        format!("{b}/api/v1/orgs/{org_id}/coupons"),
        json!({"code": "HARVEST", "discount": {"kind": "fixed", "minor": 500}, "currency": "CNY",
               "min_spend_minor": 5000, "budget_minor": 100000, "scope": "store",
               "valid_from": now - 1000, "valid_to": now + 86_400_000}),
    )
    .await)
    .await;
    let body = json!({"items": [{"sku": honey_sku, "quantity": 2}], "address": address(), "coupon": "harvest"});
    let first = json_ok(
        buyer
            .post(orders.clone())
            .header("idempotency-key", "tap-1")
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(first["state"], "created");
    assert_eq!(first["total_minor"], 2 * 6800 - 500);
    assert_eq!(first["seller"]["name"], "Li Wei's Orchard");
    // The same key again: the first order, not a second one.
    let again = json_ok(
        buyer
            .post(orders.clone())
            .header("idempotency-key", "tap-1")
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(again["id"], first["id"]);
    assert_eq!(
        json_ok(
            buyer
                .get(format!("{b}/api/v1/me/orders"))
                .send()
                .await
                .unwrap()
        )
        .await
        .as_array()
        .unwrap()
        .len(),
        1
    );
    let order = first["id"].as_i64().unwrap();

    // Someone else's order does not exist for them.
    let other = browser();
    sign_up(&other, b, "other@example.com", "viewer").await;
    let r = other
        .get(format!("{b}/api/v1/orders/{order}"))
        .send()
        .await
        .unwrap();
    problem(r, 404, "not_found").await;
    let r = post(
        &other,
        format!("{b}/api/v1/orders/{order}/pay"),
        json!({"card": "4242424242424242"}),
    )
    .await;
    problem(r, 404, "not_found").await;

    // A declined card: the order stays payable; then a good card, confirmed by webhook.
    json_ok(
        post(
            &buyer,
            format!("{b}/api/v1/orders/{order}/pay"),
            json!({"card": "4000000000000002"}),
        )
        .await,
    )
    .await;
    {
        let (buyer, b) = (buyer.clone(), b.to_string());
        wait_until("decline arrives", Duration::from_secs(10), || {
            let (buyer, b) = (buyer.clone(), b.clone());
            async move {
                let o = json_ok(
                    buyer
                        .get(format!("{b}/api/v1/orders/{order}"))
                        .send()
                        .await
                        .unwrap(),
                )
                .await;
                (o["payment"] == "failed").then_some(())
            }
        })
        .await;
    }
    assert_eq!(order_state(&buyer, b, order).await, "created");
    json_ok(
        post(
            &buyer,
            format!("{b}/api/v1/orders/{order}/pay"),
            json!({"card": "4242 4242 4242 4242"}),
        )
        .await,
    )
    .await;
    wait_state(&buyer, b, order, "paid").await;

    // A forged webhook is refused and changes nothing.
    let r = reqwest::Client::new()
        .post(format!("{b}/api/v1/payments/sandbox/webhook"))
        .header("hawker-signature", "t=1,v1=00")
        .body(r#"{"id":"evt_forged","payment":"x","status":"refunded","order":1}"#)
        .send()
        .await
        .unwrap();
    problem(r, 400, "bad_signature").await;
    let r = reqwest::Client::new()
        .post(format!("{b}/api/v1/payments/sandbox/webhook"))
        .body("{}")
        .send()
        .await
        .unwrap();
    problem(r, 400, "bad_signature").await;
    assert_eq!(order_state(&buyer, b, order).await, "paid");

    // The merchant's list, filtered and as CSV; a buyer may not read it.
    let list = json_ok(
        farmer
            .get(format!("{b}/api/v1/orgs/{org_id}/orders?state=paid"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let csv = farmer
        .get(format!("{b}/api/v1/orgs/{org_id}/orders?format=csv"))
        .send()
        .await
        .unwrap();
    assert!(csv.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = csv.text().await.unwrap();
    assert!(csv.starts_with("order,created_at,state"), "{csv}");
    assert!(csv.contains(&order.to_string()));
    let r = buyer
        .get(format!("{b}/api/v1/orgs/{org_id}/orders"))
        .send()
        .await
        .unwrap();
    problem(r, 403, "forbidden").await;

    // Fulfilment: shipping needs a carrier and tracking number; then delivery, a return
    // within the law's window, and the refund.
    let ful = format!("{b}/api/v1/orders/{order}/fulfilment");
    let r = post(
        &farmer,
        ful.clone(),
        json!({"action": "ship", "carrier": "", "tracking": ""}),
    )
    .await;
    problem(r, 422, "invalid_field").await;
    let r = post(&buyer, ful.clone(), json!({"action": "deliver"})).await;
    problem(r, 403, "forbidden").await;
    let shipped = json_ok(
        post(
            &farmer,
            ful.clone(),
            json!({"action": "ship", "carrier": "SF Express", "tracking": "SF1234567890"}),
        )
        .await,
    )
    .await;
    assert_eq!(shipped["state"], "shipped");
    assert_eq!(shipped["tracking"], "SF1234567890");
    let r = post(
        &buyer,
        format!("{b}/api/v1/orders/{order}/actions"),
        json!({"action": "cancel"}),
    )
    .await;
    problem(r, 409, "transition_not_allowed").await;
    json_ok(
        post(
            &buyer,
            format!("{b}/api/v1/orders/{order}/actions"),
            json!({"action": "confirm_delivery"}),
        )
        .await,
    )
    .await;
    json_ok(
        post(
            &buyer,
            format!("{b}/api/v1/orders/{order}/actions"),
            json!({"action": "request_return", "reason": "changed my mind"}),
        )
        .await,
    )
    .await;
    for a in ["approve_return", "receive_return", "refund"] {
        json_ok(post(&farmer, ful.clone(), json!({ "action": a })).await).await;
    }
    let done = json_ok(
        buyer
            .get(format!("{b}/api/v1/orders/{order}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(done["state"], "refunded");
    let trail: Vec<&str> = done["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["to"].as_str().unwrap())
        .collect();
    assert_eq!(
        trail,
        [
            "created",
            "paid",
            "shipped",
            "delivered",
            "return_requested",
            "return_approved",
            "return_received",
            "refunded"
        ]
    );

    // Perishable goods cannot be returned without a defect, however recent.
    let peach_order = json_ok(
        post(
            &buyer,
            orders.clone(),
            json!({"items": [{"sku": peach_sku, "quantity": 1}], "address": address(),
               "acknowledge_exceptions": true}),
        )
        .await,
    )
    .await;
    let po = peach_order["id"].as_i64().unwrap();
    json_ok(
        post(
            &buyer,
            format!("{b}/api/v1/orders/{po}/pay"),
            json!({"card": "4242424242424242"}),
        )
        .await,
    )
    .await;
    wait_state(&buyer, b, po, "paid").await;
    json_ok(
        post(
            &farmer,
            format!("{b}/api/v1/orders/{po}/fulfilment"),
            json!({"action": "ship", "carrier": "SF Express", "tracking": "SF2"}),
        )
        .await,
    )
    .await;
    json_ok(
        post(
            &farmer,
            format!("{b}/api/v1/orders/{po}/fulfilment"),
            json!({"action": "deliver"}),
        )
        .await,
    )
    .await;
    let r = post(
        &buyer,
        format!("{b}/api/v1/orders/{po}/actions"),
        json!({"action": "request_return", "reason": "changed my mind"}),
    )
    .await;
    problem(r, 409, "return_not_allowed").await;

    // The books followed: the refunded order's money went back, the peaches' is pending for
    // the seller (the farmer hosts their own shop: no commission; the platform's 5% fee).
    let earnings = wait_until(
        "the ledger to book the orders",
        Duration::from_secs(15),
        || {
            let (farmer, url) = (farmer.clone(), format!("{b}/api/v1/orgs/{org_id}/earnings"));
            async move {
                let e = poll_json(&farmer, url).await?;
                let pending = e["accounts"]
                    .as_array()?
                    .iter()
                    .find(|a| a["purpose"] == "pending")?["balance_minor"]
                    .as_i64()?;
                (pending == 12_800 - 640).then_some(e)
            }
        },
    )
    .await;
    assert!(
        earnings["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["purpose"] != "available"),
        "nothing settles inside the return window"
    );
    let csv = farmer
        .get(format!(
            "{b}/api/v1/orgs/{org_id}/statement?purpose=pending&format=csv"
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut kinds: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap())
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        ["order_paid", "order_paid", "order_refunded"],
        "{csv}"
    );
    // Someone else's earnings are not theirs to see; the platform's books balance.
    let r = stranger
        .get(format!("{b}/api/v1/orgs/{org_id}/earnings"))
        .send()
        .await
        .unwrap();
    problem(r, 403, "forbidden").await;
    let token = std::fs::read_to_string(&s.running.admin_token_file).unwrap();
    let ledger = json_ok(
        reqwest::Client::new()
            .get(format!("{b}/api/v1/admin/ledger"))
            .bearer_auth(token.trim())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ledger["totals_minor"]["CNY"], 0, "{ledger}");
    let fees = ledger["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["purpose"] == "fees")
        .unwrap()["balance_minor"]
        .as_i64();
    assert_eq!(fees, Some(640));
    // The earnings page and its script are served.
    let page = farmer.get(format!("{b}/earnings")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("/assets/earnings.js"));
    let js = reqwest::get(format!("{b}/assets/earnings.js"))
        .await
        .unwrap();
    assert_eq!(js.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_twice_late_or_never_leave_orders_consistent() {
    let s = start().await;
    let b = &s.base;
    let (farmer, _) = streamer_channel(b, "honey-farm").await;
    let (_org, p) = org_with_product(
        &farmer,
        b,
        json!({"name": "Honey Farm", "individual": true}),
        json!({"title": "Honey", "category": "food", "return_class": "normal",
               "currency": "EUR", "skus": [{"label": "jar", "price_minor": 900, "stock": 100}]}),
    )
    .await;
    let sku = p["skus"][0]["id"].as_i64().unwrap();
    let buyer = browser();
    sign_up(&buyer, b, "payer@example.com", "viewer").await;
    let mut ids = Vec::new();
    for card in ["4000000000000077", "4000000000000259", "4000000000000119"] {
        let o = json_ok(
            post(
                &buyer,
                format!("{b}/api/v1/orders"),
                json!({"items": [{"sku": sku, "quantity": 1}], "address": address()}),
            )
            .await,
        )
        .await;
        let id = o["id"].as_i64().unwrap();
        json_ok(
            post(
                &buyer,
                format!("{b}/api/v1/orders/{id}/pay"),
                json!({ "card": card }),
            )
            .await,
        )
        .await;
        ids.push(id);
    }
    // Twice: paid once, one payment, one `paid` step in the history.
    wait_state(&buyer, b, ids[0], "paid").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let o = json_ok(
        buyer
            .get(format!("{b}/api/v1/orders/{}", ids[0]))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let paid_steps = o["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["to"] == "paid")
        .count();
    assert_eq!(paid_steps, 1, "{o}");
    // Late: it still lands.
    wait_state(&buyer, b, ids[1], "paid").await;
    // Never: the order waits, until reconciliation asks the provider.
    assert_eq!(order_state(&buyer, b, ids[2]).await, "created");
    let fixed = s.running.shop.reconcile(Duration::ZERO).await.unwrap();
    assert!(fixed >= 1);
    assert_eq!(order_state(&buyer, b, ids[2]).await, "paid");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flash_sale_over_http() {
    let s = start().await;
    let b = &s.base;
    let (host, _) = streamer_channel(b, "flash-host").await;
    let (_org, p) = org_with_product(
        &host,
        b,
        json!({"name": "Flash Shop"}),
        json!({"title": "Pearl earrings", "category": "jewellery", "return_class": "normal",
               "currency": "CNY", "skus": [{"label": "pair", "price_minor": 19900, "stock": 20}]}),
    )
    .await;
    let sku = p["skus"][0]["id"].as_i64().unwrap();
    let sales = format!("{b}/api/v1/flash-sales");
    let r = post(
        &host,
        sales.clone(),
        json!({"channel": "flash-host", "sku": sku, "price_minor": 9900, "stock": 5,
               "per_buyer_limit": 2, "duration_s": 60, "countdown_s": 3}),
    )
    .await;
    problem(r, 422, "invalid_field").await;
    let r = post(
        &host,
        sales.clone(),
        json!({"channel": "flash-host", "sku": sku, "price_minor": 9900, "stock": 500,
               "per_buyer_limit": 2, "duration_s": 60, "countdown_s": 10}),
    )
    .await;
    problem(r, 409, "out_of_stock").await;
    let sale = json_ok(
        post(
            &host,
            sales.clone(),
            json!({"channel": "flash-host", "sku": sku, "price_minor": 9900, "stock": 5,
               "per_buyer_limit": 2, "duration_s": 60, "countdown_s": 10}),
        )
        .await,
    )
    .await;
    let id = sale["id"].as_i64().unwrap();
    assert_eq!(sale["remaining"], 5);
    let buy = format!("{b}/api/v1/flash-sales/{id}/orders");
    let buyer = browser();
    sign_up(&buyer, b, "fast@example.com", "viewer").await;
    let r = post(&buyer, buy.clone(), json!({"address": address()})).await;
    problem(r, 409, "sale_not_started").await;
    let r = post(
        &reqwest::Client::new(),
        buy.clone(),
        json!({"address": address()}),
    )
    .await;
    problem(r, 401, "unauthenticated").await;
    // The buy route is dispatched in front of the router (`hawker_http::Edge`); bad bodies,
    // methods and ids get the router's problems all the same.
    let raw = |body: &'static str, ct: &'static str| {
        buyer
            .post(buy.clone())
            .header("content-type", ct)
            .body(body)
            .send()
    };
    problem(
        raw("{\"address\":", "application/json").await.unwrap(),
        400,
        "invalid_json",
    )
    .await;
    problem(
        raw("{}", "application/json").await.unwrap(),
        422,
        "invalid_json",
    )
    .await;
    problem(
        raw("{}", "text/plain").await.unwrap(),
        415,
        "unsupported_media_type",
    )
    .await;
    let r = buyer
        .post(format!("{b}/api/v1/flash-sales/abc/orders"))
        .json(&json!({"address": address()}))
        .send()
        .await
        .unwrap();
    problem(r, 400, "bad_request").await;
    let r = buyer.get(buy.clone()).send().await.unwrap();
    assert_eq!(r.headers()["allow"], "POST");
    problem(r, 405, "method_not_allowed").await;

    let starts = sale["starts_at"].as_i64().unwrap();
    loop {
        let now = now_ms();
        if now >= starts {
            break;
        }
        tokio::time::sleep(Duration::from_millis((starts - now).clamp(10, 500) as u64)).await;
    }
    let r = post(
        &buyer,
        buy.clone(),
        json!({"quantity": 0, "address": address()}),
    )
    .await;
    problem(r, 422, "invalid_field").await;
    let first = json_ok(
        buyer
            .post(buy.clone())
            .header("idempotency-key", "k1")
            .json(&json!({"address": address()}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let again = json_ok(
        buyer
            .post(buy.clone())
            .header("idempotency-key", "k1")
            .json(&json!({"address": address()}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(first["order"], again["order"]);
    json_ok(post(&buyer, buy.clone(), json!({"address": address()})).await).await;
    let r = post(&buyer, buy.clone(), json!({"address": address()})).await;
    problem(r, 409, "over_buyer_limit").await;
    let now = json_ok(
        reqwest::get(format!("{b}/api/v1/flash-sales/{id}"))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(now["remaining"], 3);
    // The order is real: the buyer reads it and pays it.
    let order = first["order"].as_i64().unwrap();
    let o = json_ok(
        buyer
            .get(format!("{b}/api/v1/orders/{order}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(o["total_minor"], 9900);
    assert_eq!(o["flash_sale"], id);
    json_ok(
        post(
            &buyer,
            format!("{b}/api/v1/orders/{order}/pay"),
            json!({"card": "4242424242424242"}),
        )
        .await,
    )
    .await;
    wait_state(&buyer, b, order, "paid").await;
}

/// A coupon's budget and the buyer's use come back when an unpaid order is cancelled or
/// expires; its issuer lists, pauses, resumes and ends it; another seller's coupon is refused
/// as another seller's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coupons_come_back_from_orders_that_fall_through_and_their_issuers_run_them() {
    let s = start().await;
    let b = &s.base;
    let (farmer, _) = streamer_channel(b, "coupon-farm").await;
    let (org, product) = org_with_product(
        &farmer,
        b,
        json!({"name": "Coupon Orchard", "individual": true, "city": "Fenghua"}),
        json!({"title": "Plums", "category": "food", "return_class": "normal", "currency": "CNY",
               "skus": [{"label": "1 kg", "price_minor": 5000, "stock": 100}]}),
    )
    .await;
    let org_id = org["id"].as_i64().unwrap();
    let sku = product["skus"][0]["id"].as_i64().unwrap();
    let now = hawker_domain::UnixMillis::now().0;
    let coupons = format!("{b}/api/v1/orgs/{org_id}/coupons");
    // Budget for exactly one use, one use per buyer.
    let created = json_ok(
        post(
            &farmer,
            coupons.clone(),
            json!({"code": "ONCE", "discount": {"kind": "fixed", "minor": 1000}, "currency": "CNY",
                   "budget_minor": 1000, "scope": "store",
                   "valid_from": now - 1000, "valid_to": now + 86_400_000}),
        )
        .await,
    )
    .await;
    let coupon_id = created["id"].as_i64().unwrap();
    let buyer = browser();
    sign_up(&buyer, b, "coupon-buyer@example.com", "viewer").await;
    let order = |key: &str| {
        buyer
            .post(format!("{b}/api/v1/orders"))
            .header("idempotency-key", key.to_string())
            .json(&json!({"items": [{"sku": sku, "quantity": 1}], "address": address(), "coupon": "once"}))
            .send()
    };
    let first = json_ok(order("c-1").await.unwrap()).await;
    assert_eq!(first["total_minor"], 4000);
    // Spent: a second buyer is told so.
    let other = browser();
    sign_up(&other, b, "coupon-other@example.com", "viewer").await;
    let r = other
        .post(format!("{b}/api/v1/orders"))
        .json(&json!({"items": [{"sku": sku, "quantity": 1}], "address": address(), "coupon": "ONCE"}))
        .send()
        .await
        .unwrap();
    problem(r, 422, "coupon_not_applicable").await;
    // The buyer cancels the unpaid order: budget and use come back, and they use it again.
    json_ok(
        post(
            &buyer,
            format!("{b}/api/v1/orders/{}/actions", first["id"]),
            json!({"action": "cancel"}),
        )
        .await,
    )
    .await;
    let listed = json_ok(farmer.get(&coupons).send().await.unwrap()).await;
    let c = &listed["coupons"][0];
    assert_eq!(c["id"], coupon_id, "{listed}");
    assert_eq!(c["spent_minor"], 0, "{listed}");
    assert_eq!(c["redemptions"], 0, "{listed}");
    assert_eq!(c["status"], "active");
    let second = json_ok(order("c-2").await.unwrap()).await;
    assert_eq!(second["total_minor"], 4000);
    let listed = json_ok(farmer.get(&coupons).send().await.unwrap()).await;
    assert_eq!(listed["coupons"][0]["spent_minor"], 1000, "{listed}");
    assert_eq!(listed["coupons"][0]["status"], "spent", "{listed}");
    json_ok(
        post(
            &buyer,
            format!("{b}/api/v1/orders/{}/actions", second["id"]),
            json!({"action": "cancel"}),
        )
        .await,
    )
    .await;

    // Paused: refused as paused; resumed: works; ended: never again.
    let act = |a: &str| post(&farmer, format!("{coupons}/{coupon_id}/{a}"), json!({}));
    let paused = json_ok(act("pause").await).await;
    assert_eq!(paused["status"], "paused");
    let r = order("c-3").await.unwrap();
    let v = problem(r, 422, "coupon_not_applicable").await;
    assert!(v["detail"].as_str().unwrap().contains("paused"), "{v}");
    assert_eq!(json_ok(act("resume").await).await["status"], "active");
    assert_eq!(json_ok(act("end").await).await["status"], "ended");
    let r = order("c-4").await.unwrap();
    problem(r, 422, "coupon_not_applicable").await;
    problem(act("resume").await, 422, "invalid_field").await;
    problem(act("explode").await, 404, "not_found").await;

    // Only the seller's catalog managers see or change its coupons.
    problem(buyer.get(&coupons).send().await.unwrap(), 403, "forbidden").await;
    problem(
        post(&buyer, format!("{coupons}/{coupon_id}/pause"), json!({})).await,
        403,
        "forbidden",
    )
    .await;

    // Another seller's coupon, in another currency: refused as another seller's.
    let (rival, _) = streamer_channel(b, "coupon-rival").await;
    let (rival_org, _) = org_with_product(
        &rival,
        b,
        json!({"name": "Rival Plums", "individual": true, "city": "Ningbo"}),
        json!({"title": "Plums", "category": "food", "return_class": "normal", "currency": "EUR",
               "skus": [{"label": "1 kg", "price_minor": 900, "stock": 5}]}),
    )
    .await;
    json_ok(
        post(
            &rival,
            format!("{b}/api/v1/orgs/{}/coupons", rival_org["id"]),
            json!({"code": "RIVAL", "discount": {"kind": "fixed", "minor": 100}, "currency": "EUR",
                   "budget_minor": 10000, "scope": "store",
                   "valid_from": now - 1000, "valid_to": now + 86_400_000}),
        )
        .await,
    )
    .await;
    let r = buyer
        .post(format!("{b}/api/v1/orders"))
        .json(&json!({"items": [{"sku": sku, "quantity": 1}], "address": address(), "coupon": "RIVAL"}))
        .send()
        .await
        .unwrap();
    let v = problem(r, 422, "coupon_not_applicable").await;
    assert!(
        v["detail"].as_str().unwrap().contains("another seller"),
        "{v}"
    );
}
