//! Money over HTTP on a real server with a real ffmpeg publisher: a viewer buys coins through
//! the sandbox provider, sends gifts in a live show within the spending caps, the host's
//! earnings are pending (credited late), ops takes a gift back; the books balance.

use crate::common;

use common::*;
use serde_json::{json, Value};
use std::time::Duration;

async fn problem(r: reqwest::Response, status: u16, code: &str) {
    assert_eq!(r.status().as_u16(), status);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], code, "{v}");
}

async fn wallet(c: &reqwest::Client, b: &str) -> i64 {
    json_ok(c.get(format!("{b}/api/v1/me/wallet")).send().await.unwrap()).await["coins"]
        .as_i64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coins_gifts_and_the_hosts_late_credit() {
    let s = start_with(|cfg| {
        cfg.money.gifts.max_per_gift_minor = Some(1_000); // 100 coins at 10 fen
        cfg.money.gifts.max_per_day_minor = Some(2_000);
        cfg.money.gifts.muted_tips_multiplier = Some(3);
    })
    .await;
    let b = &s.base;
    let (host, ch) = streamer_channel(b, "gift-host").await;
    let viewer = browser();
    sign_up(&viewer, b, "fan@example.com", "viewer").await;

    let kinds = json_ok(
        reqwest::get(format!("{b}/api/v1/gift-kinds"))
            .await
            .unwrap(),
    )
    .await;
    let kind = |name: &str| {
        kinds["kinds"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["name"] == name)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let (heart, rocket) = (kind("Heart"), kind("Rocket"));

    // Not live yet: no gifts.
    let gifts = format!("{b}/api/v1/channels/gift-host/gifts");
    problem(
        post(&viewer, gifts.clone(), json!({"kind": heart})).await,
        409,
        "not_live",
    )
    .await;

    // Coins: through the provider, in the wallet once it confirms.
    problem(
        post(
            &viewer,
            format!("{b}/api/v1/me/coins"),
            json!({"coins": 0, "card": "4242424242424242"}),
        )
        .await,
        422,
        "invalid_field",
    )
    .await;
    let r = post(
        &viewer,
        format!("{b}/api/v1/me/coins"),
        json!({"coins": 150, "card": "4242424242424242"}),
    )
    .await;
    assert_eq!(r.status(), 202);
    let topup: Value = r.json().await.unwrap();
    assert_eq!(
        (topup["amount_minor"].as_i64(), topup["currency"].as_str()),
        (Some(1_500), Some("CNY"))
    );
    wait_until("the coins", Duration::from_secs(15), || {
        let v = viewer.clone();
        async move { (wallet(&v, b).await == 150).then_some(()) }
    })
    .await;

    let mut ffmpeg = ffmpeg_publish(&publish_url(&ch), 30);
    wait_until("the show to go live", Duration::from_secs(20), || {
        let url = format!("{b}/api/v1/channels/gift-host");
        async move {
            let c = poll_json(&reqwest::Client::new(), url).await?;
            (c["live"] == true).then_some(())
        }
    })
    .await;

    // Bad input and the caps.
    problem(
        post(&viewer, gifts.clone(), json!({"kind": heart, "count": 0})).await,
        422,
        "invalid_field",
    )
    .await;
    problem(
        post(&viewer, gifts.clone(), json!({"kind": 9_999})).await,
        404,
        "not_found",
    )
    .await;
    problem(
        post(&host, gifts.clone(), json!({"kind": heart})).await,
        403,
        "forbidden",
    )
    .await;
    problem(
        post(&viewer, gifts.clone(), json!({"kind": rocket})).await,
        409,
        "over_spending_cap",
    )
    .await;
    // Ten hearts: 100 coins, ¥10.00.
    let sent =
        json_ok(post(&viewer, gifts.clone(), json!({"kind": heart, "count": 10})).await).await;
    assert_eq!(sent["wallet_coins"], 50);
    problem(
        post(&viewer, gifts.clone(), json!({"kind": heart, "count": 10})).await,
        409,
        "not_enough_coins",
    )
    .await;
    let second =
        json_ok(post(&viewer, gifts.clone(), json!({"kind": heart, "count": 5})).await).await;
    assert_eq!(second["wallet_coins"], 0);
    // ¥15.00 sent today; a peach basket (¥9.90) would pass the daily cap of ¥20.00.
    post(
        &viewer,
        format!("{b}/api/v1/me/coins"),
        json!({"coins": 100, "card": "4242424242424242"}),
    )
    .await;
    wait_until("more coins", Duration::from_secs(15), || {
        let v = viewer.clone();
        async move { (wallet(&v, b).await == 100).then_some(()) }
    })
    .await;
    problem(
        post(
            &viewer,
            gifts.clone(),
            json!({"kind": kind("Peach basket")}),
        )
        .await,
        409,
        "over_spending_cap",
    )
    .await;

    // The host's 40% of ¥15.00 is pending: credited late, not yet available.
    let earnings = json_ok(
        host.get(format!("{b}/api/v1/me/earnings"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let acct = |e: &Value, purpose: &str| {
        e["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["purpose"] == purpose && a["currency"] == "CNY")
            .map(|a| a["balance_minor"].as_i64().unwrap())
    };
    assert_eq!(acct(&earnings, "pending"), Some(600));
    assert_eq!(acct(&earnings, "available"), None);

    // Ops takes the second gift back: coins return, the host's part goes.
    let admin = std::fs::read_to_string(&s.running.admin_token_file).unwrap();
    let admin = admin.trim();
    let r = reqwest::Client::new()
        .post(format!("{b}/api/v1/admin/gifts/{}/refund", second["gift"]))
        .send()
        .await
        .unwrap();
    problem(r, 401, "unauthenticated").await;
    let done = json_ok(
        reqwest::Client::new()
            .post(format!("{b}/api/v1/admin/gifts/{}/refund", second["gift"]))
            .bearer_auth(admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(done["state"], "refunded");
    assert_eq!(wallet(&viewer, b).await, 150);
    let earnings = json_ok(
        host.get(format!("{b}/api/v1/me/earnings"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(acct(&earnings, "pending"), Some(400));
    let r = reqwest::Client::new()
        .post(format!("{b}/api/v1/admin/gifts/{}/refund", second["gift"]))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "a refunded gift is not refunded twice");

    // The books balance in every currency, coins included.
    let ledger = json_ok(
        reqwest::Client::new()
            .get(format!("{b}/api/v1/admin/ledger"))
            .bearer_auth(admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ledger["totals_minor"]["CNY"], 0, "{ledger}");
    assert_eq!(ledger["totals_minor"]["XHC"], 0, "{ledger}");
    let revenue = json_ok(
        reqwest::Client::new()
            .get(format!(
                "{b}/api/v1/admin/statement?purpose=gift_revenue&currency=CNY"
            ))
            .bearer_auth(admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let kinds: Vec<&str> = revenue["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["gift_sent", "gift_sent", "gift_refunded"],
        "{revenue}"
    );
    // The platform keeps 50% of the ¥10.00 gift that stayed.
    assert_eq!(revenue["net_minor"], 500);
    // A brand books a paid slot in the live show; the brand, the host and ops each see it.
    let show_id = json_ok(
        host.get(format!("{b}/api/v1/channels/gift-host"))
            .send()
            .await
            .unwrap(),
    )
    .await["current_show"]["id"]
        .as_i64()
        .unwrap();
    let brand = browser();
    sign_up(&brand, b, "brand@cosmetics.example", "streamer").await;
    let org = json_ok(
        post(
            &brand,
            format!("{b}/api/v1/orgs"),
            json!({"name": "Glow Cosmetics"}),
        )
        .await,
    )
    .await;
    let org_id = org["id"].as_i64().unwrap();
    let product = json_ok(
        post(
            &brand,
            format!("{b}/api/v1/orgs/{org_id}/products"),
            json!({"title": "Night cream", "category": "cosmetics", "return_class": "normal",
                   "currency": "CNY", "skus": [{"label": "50 ml", "price_minor": 15900, "stock": 100}]}),
        )
        .await,
    )
    .await;
    let slots = format!("{b}/api/v1/shows/{show_id}/slots");
    problem(
        post(&brand, slots.clone(), json!({"brand": org_id, "product": product["id"], "fee_minor": 50000, "commission_bps": 9000})).await,
        422,
        "invalid_field",
    )
    .await;
    problem(
        post(&viewer, slots.clone(), json!({"brand": org_id, "product": product["id"], "fee_minor": 50000, "commission_bps": 2000})).await,
        403,
        "forbidden",
    )
    .await;
    let slot = json_ok(
        post(
            &brand,
            slots.clone(),
            json!({"brand": org_id, "product": product["id"], "fee_minor": 50000, "commission_bps": 2000,
                   "guaranteed_gmv_minor": 1000000, "return_cap_bps": 4000}),
        )
        .await,
    )
    .await;
    let slot_id = slot["id"].as_i64().unwrap();
    let listed = json_ok(host.get(slots.clone()).send().await.unwrap()).await;
    assert_eq!(
        listed.as_array().unwrap().len(),
        1,
        "the host sees the slot in their show"
    );
    let mine = json_ok(
        brand
            .get(format!("{b}/api/v1/orgs/{org_id}/slots"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(mine[0]["orders"], 0);
    let r = viewer
        .get(format!("{b}/api/v1/slots/{slot_id}/report"))
        .send()
        .await
        .unwrap();
    problem(r, 404, "not_found").await;
    let r = reqwest::Client::new()
        .post(format!("{b}/api/v1/admin/slots/{slot_id}/close"))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap();
    problem(r, 422, "invalid_field").await;
    let r = reqwest::Client::new()
        .post(format!("{b}/api/v1/admin/slots/{slot_id}/fee-received"))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let closed = json_ok(
        reqwest::Client::new()
            .post(format!("{b}/api/v1/admin/slots/{slot_id}/close"))
            .bearer_auth(admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    // Nothing sold against a ¥10,000 guarantee: the whole fee goes back.
    assert_eq!(closed["fee_refund_minor"], 50000);
    let csv = brand
        .get(format!("{b}/api/v1/slots/{slot_id}/report?format=csv"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        csv.lines()
            .nth(1)
            .unwrap()
            .starts_with(&format!("{slot_id},{show_id},{org_id},")),
        "{csv}"
    );

    // Ops blocks the host from payouts (a reason is required) and lifts it again.
    let block = |path: &'static str, body: Value| {
        let url = format!("{b}/api/v1/admin/parties/{path}");
        let admin = admin.to_string();
        async move {
            reqwest::Client::new()
                .post(url)
                .bearer_auth(admin)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let host_party = json!({"kind": "account", "id": json_ok(host.get(format!("{b}/api/v1/me")).send().await.unwrap()).await["id"]});
    problem(
        block("block", json!({"party": host_party})).await,
        422,
        "invalid_field",
    )
    .await;
    assert_eq!(
        block(
            "block",
            json!({"party": host_party, "reason": "KYC expired"})
        )
        .await
        .status(),
        204
    );
    assert_eq!(
        block("unblock", json!({"party": host_party}))
            .await
            .status(),
        204
    );

    // Ops mutes the host for ten minutes: no gifts for thirty.
    let host_id = json_ok(host.get(format!("{b}/api/v1/me")).send().await.unwrap()).await["id"]
        .as_i64()
        .unwrap();
    let r = reqwest::Client::new()
        .post(format!("{b}/api/v1/admin/accounts/{host_id}/mute"))
        .bearer_auth(admin)
        .json(&json!({"minutes": 10, "reason": ""}))
        .send()
        .await
        .unwrap();
    problem(r, 422, "invalid_field").await;
    let muted = json_ok(
        reqwest::Client::new()
            .post(format!("{b}/api/v1/admin/accounts/{host_id}/mute"))
            .bearer_auth(admin)
            .json(&json!({"minutes": 10, "reason": "claimed the cream cures acne"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(muted["tips_suspended_until"].as_i64().unwrap() > now_ms() + 29 * 60_000);
    problem(
        post(&viewer, gifts.clone(), json!({"kind": kind("Rose")})).await,
        409,
        "tips_suspended",
    )
    .await;
    let r = viewer
        .post(format!("{b}/api/v1/admin/accounts/{host_id}/mute"))
        .json(&json!({"minutes": 10, "reason": "x"}))
        .send()
        .await
        .unwrap();
    problem(r, 403, "forbidden").await;

    let _ = ffmpeg.kill();
    let _ = ffmpeg.wait();
    s.running.shutdown().await;
}
