//! Trust over HTTP on a real server with a real ffmpeg publisher: an unverified streamer is
//! refused at ingest with a reason; ops reviews the real-name check (document to reviewers
//! only, ID number never in full); the course gates the first broadcast; a minor cannot buy
//! coins or gift; a guardian claim takes a gift back; an upheld complaint climbs the sanctions
//! ladder; a stream cut drops the live encoder and refuses the next one; every ops action is
//! in the audit log. Then the demo's honest and brushed shows, told apart by the risk engine.

use crate::common;

use common::*;
use serde_json::{json, Value};
use std::time::Duration;

async fn problem(r: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(r.status().as_u16(), status);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], code, "{v}");
    v
}

async fn live(b: &str, slug: &str) -> bool {
    poll_json(
        &reqwest::Client::new(),
        format!("{b}/api/v1/channels/{slug}"),
    )
    .await
    .is_some_and(|c| c["live"] == true)
}

async fn wallet(c: &reqwest::Client, b: &str) -> i64 {
    json_ok(c.get(format!("{b}/api/v1/me/wallet")).send().await.unwrap()).await["coins"]
        .as_i64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_training_minors_claims_complaints_and_sanctions() {
    let s = start_with(|cfg| cfg.trust.gate_broadcasts = true).await;
    let b = &s.base;
    let admin_token = std::fs::read_to_string(&s.running.admin_token_file).unwrap();
    let admin_token = admin_token.trim().to_string();
    let ops = |r: reqwest::RequestBuilder| r.bearer_auth(&admin_token);
    let anon = reqwest::Client::new();
    let (host, ch) = streamer_channel(b, "trusty-farm").await;

    // Unverified: the key is refused at ingest, and the studio says why.
    let mut refused = ffmpeg_publish(&publish_url(&ch), 4);
    let status = tokio::task::spawn_blocking(move || refused.wait().unwrap())
        .await
        .unwrap();
    assert!(!status.success(), "ffmpeg must be refused");
    assert!(!live(b, "trusty-farm").await);
    let me = json_ok(
        host.get(format!("{b}/api/v1/me/trust"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(me["status"]["blocked_by"], "verification_required", "{me}");

    // The real-name check: the document first, then the details.
    let r = host
        .post(format!("{b}/api/v1/me/identity/document"))
        .header("content-type", "image/png")
        .body(b"not a png".to_vec())
        .send()
        .await
        .unwrap();
    problem(r, 422, "invalid_field").await;
    let mut png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    png.extend_from_slice(&[7u8; 64]);
    let doc = json_ok(
        host.post(format!("{b}/api/v1/me/identity/document"))
            .header("content-type", "image/png")
            .body(png.clone())
            .send()
            .await
            .unwrap(),
    )
    .await;
    problem(
        post(
            &host,
            format!("{b}/api/v1/me/identity"),
            json!({"legal_name": "Li Wei", "id_number": "12", "birth_date": "1987-03-15"}),
        )
        .await,
        422,
        "invalid_field",
    )
    .await;
    problem(
        post(&host, format!("{b}/api/v1/me/identity"), json!({"legal_name": "Li Wei", "id_number": "330283198703150017", "birth_date": "1987-02-30"})).await,
        422,
        "invalid_field",
    )
    .await;
    problem(
        post(&host, format!("{b}/api/v1/me/identity"), json!({"legal_name": "Li Wei", "id_number": "330283198703150017", "birth_date": "1987-03-15", "document": "1-../../etc/passwd"})).await,
        422,
        "invalid_field",
    )
    .await;
    let check = json_ok(
        post(
            &host,
            format!("{b}/api/v1/me/identity"),
            json!({"legal_name": "Li Wei", "id_number": "330283198703150017", "birth_date": "1987-03-15",
                   "document": doc["document"], "document_type": "national_id"}),
        )
        .await,
    )
    .await;
    assert_eq!(check["id_number"], "••••••••0017");
    assert!(!check.to_string().contains("19870315"), "{check}");
    let me = json_ok(
        host.get(format!("{b}/api/v1/me/trust"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(me["status"]["blocked_by"], "verification_pending");

    // Only ops sees the queue and the document.
    problem(
        host.get(format!("{b}/api/v1/admin/trust/identity"))
            .send()
            .await
            .unwrap(),
        403,
        "forbidden",
    )
    .await;
    problem(
        anon.get(format!(
            "{b}/api/v1/admin/trust/identity/{}/document",
            check["id"]
        ))
        .send()
        .await
        .unwrap(),
        401,
        "unauthenticated",
    )
    .await;
    let queue = json_ok(
        ops(anon.get(format!("{b}/api/v1/admin/trust/identity")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let item = queue["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == check["id"])
        .unwrap()
        .clone();
    assert_eq!(item["age"].as_i64().map(|a| a >= 39), Some(true), "{item}");
    assert_eq!(item["email"], "trusty-farm@streamers.example");
    let served = ops(anon.get(format!(
        "{b}/api/v1/admin/trust/identity/{}/document",
        check["id"]
    )))
    .send()
    .await
    .unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(served.bytes().await.unwrap().to_vec(), png);
    problem(
        post(
            &reqwest::Client::new(),
            format!("{b}/api/v1/admin/trust/identity/{}/review", check["id"]),
            json!({"approve": true}),
        )
        .await,
        401,
        "unauthenticated",
    )
    .await;
    problem(
        ops(anon
            .post(format!(
                "{b}/api/v1/admin/trust/identity/{}/review",
                check["id"]
            ))
            .json(&json!({"approve": false})))
        .send()
        .await
        .unwrap(),
        422,
        "invalid_field",
    )
    .await;
    let r = ops(anon
        .post(format!(
            "{b}/api/v1/admin/trust/identity/{}/review",
            check["id"]
        ))
        .json(&json!({"approve": true})))
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 204);
    problem(
        ops(anon
            .post(format!(
                "{b}/api/v1/admin/trust/identity/{}/review",
                check["id"]
            ))
            .json(&json!({"approve": true})))
        .send()
        .await
        .unwrap(),
        409,
        "conflict",
    )
    .await;

    // The course: the quiz comes without answers; failing changes nothing.
    let course = json_ok(
        anon.get(format!("{b}/api/v1/training"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let n = course["quiz"].as_array().unwrap().len();
    assert!(n >= 5 && !course.to_string().contains("\"answer\""));
    let me = json_ok(
        host.get(format!("{b}/api/v1/me/trust"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(me["status"]["blocked_by"], "training_required");
    let failed = json_ok(
        post(
            &host,
            format!("{b}/api/v1/me/training"),
            json!({"answers": vec![2; n]}),
        )
        .await,
    )
    .await;
    assert_eq!(failed["passed"], false);
    let passed = json_ok(
        post(
            &host,
            format!("{b}/api/v1/me/training"),
            json!({"answers": [1, 1, 1, 0, 1]}),
        )
        .await,
    )
    .await;
    assert_eq!(passed["passed"], true, "{passed}");
    let me = json_ok(
        host.get(format!("{b}/api/v1/me/trust"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(me["status"]["blocked_by"], Value::Null, "{me}");

    // Now the same key goes live.
    let mut ffmpeg = ffmpeg_publish(&publish_url(&ch), 40);
    wait_until("the show to go live", Duration::from_secs(20), || async {
        live(b, "trusty-farm").await.then_some(())
    })
    .await;

    // A verified 15-year-old buys no coins and sends no gifts.
    let kid = browser();
    sign_up(&kid, b, "kid@school.example", "viewer").await;
    let kc = json_ok(post(&kid, format!("{b}/api/v1/me/identity"), json!({"legal_name": "Kid Lee", "id_number": "330283201101010011", "birth_date": "2011-01-01"})).await).await;
    let r = ops(anon
        .post(format!(
            "{b}/api/v1/admin/trust/identity/{}/review",
            kc["id"]
        ))
        .json(&json!({"approve": true})))
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 204);
    problem(
        post(
            &kid,
            format!("{b}/api/v1/me/coins"),
            json!({"coins": 100, "card": "4242424242424242"}),
        )
        .await,
        403,
        "minor_spending",
    )
    .await;
    let kinds = json_ok(
        anon.get(format!("{b}/api/v1/gift-kinds"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let heart = kinds["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "Heart")
        .unwrap()["id"]
        .clone();
    let gifts = format!("{b}/api/v1/channels/trusty-farm/gifts");
    problem(
        post(&kid, gifts.clone(), json!({"kind": heart})).await,
        403,
        "minor_spending",
    )
    .await;
    // Minor mode cannot be switched off by a minor.
    problem(
        kid.put(format!("{b}/api/v1/me/minor-mode"))
            .json(&json!({"on": false}))
            .send()
            .await
            .unwrap(),
        403,
        "adult_verification_required",
    )
    .await;

    // An unverified teenager on a parent's card: gifts go through (eu), then the parent's
    // claim takes them back and puts the account in minor mode.
    let teen = browser();
    sign_up(&teen, b, "teen@home.example", "viewer").await;
    let r = post(
        &teen,
        format!("{b}/api/v1/me/coins"),
        json!({"coins": 100, "card": "4242424242424242"}),
    )
    .await;
    assert_eq!(r.status(), 202);
    wait_until("the coins", Duration::from_secs(15), || {
        let t = teen.clone();
        async move { (wallet(&t, b).await == 100).then_some(()) }
    })
    .await;
    let sent = json_ok(post(&teen, gifts.clone(), json!({"kind": heart, "count": 3})).await).await;
    assert_eq!(sent["wallet_coins"], 70);
    let parent = browser();
    sign_up(&parent, b, "parent@home.example", "viewer").await;
    problem(
        post(
            &parent,
            format!("{b}/api/v1/guardian-claims"),
            json!({"minor_email": "teen@home.example", "evidence": "x"}),
        )
        .await,
        422,
        "invalid_field",
    )
    .await;
    let claim = json_ok(
        post(&parent, format!("{b}/api/v1/guardian-claims"), json!({"minor_email": "teen@home.example", "evidence": "Bank statement: 100 coins bought on my card by my 14-year-old"})).await,
    )
    .await;
    let claims = json_ok(
        ops(anon.get(format!("{b}/api/v1/admin/trust/guardian-claims")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let listed = claims["claims"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == claim["id"])
        .unwrap()
        .clone();
    assert_eq!(listed["gifts"].as_array().unwrap().len(), 1, "{listed}");
    let decided = json_ok(
        ops(anon
            .post(format!(
                "{b}/api/v1/admin/trust/guardian-claims/{}/decide",
                claim["id"]
            ))
            .json(&json!({"approve": true})))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(decided["refunded_coins"], 30);
    assert_eq!(wallet(&teen, b).await, 100);
    problem(
        post(&teen, gifts.clone(), json!({"kind": heart})).await,
        403,
        "minor_spending",
    )
    .await;

    // A complaint upheld: the host gets a warning, and the next one climbs a rung.
    let show = json_ok(
        anon.get(format!("{b}/api/v1/channels/trusty-farm"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let show_id = show["current_show"]["id"].as_i64().expect("live show id");
    problem(
        post(
            &parent,
            format!("{b}/api/v1/complaints"),
            json!({"target": "show", "target_id": show_id, "reason": "meh"}),
        )
        .await,
        422,
        "invalid_field",
    )
    .await;
    let c1 = json_ok(post(&parent, format!("{b}/api/v1/complaints"), json!({"target": "show", "target_id": show_id, "reason": "misleading_claim", "details": "said the peaches cure colds"})).await).await;
    assert!(c1["deadline_at"].as_i64().unwrap() > c1["created_at"].as_i64().unwrap());
    let open = json_ok(
        ops(anon.get(format!("{b}/api/v1/admin/trust/complaints")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(open["complaints"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["id"] == c1["id"]));
    let r1 = json_ok(
        ops(anon
            .post(format!(
                "{b}/api/v1/admin/trust/complaints/{}/resolve",
                c1["id"]
            ))
            .json(&json!({"uphold": true, "outcome": "medical claim on a fruit"})))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(r1["sanction"], "warning");
    let host_id =
        json_ok(host.get(format!("{b}/api/v1/me")).send().await.unwrap()).await["id"].clone();
    let acct = json_ok(
        ops(anon.get(format!("{b}/api/v1/admin/trust/accounts/{host_id}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(acct["status"]["sanction"], "warning", "{acct}");

    // Stream cut: the live encoder is dropped and the next publish refused.
    let cut = ops(anon
        .post(format!(
            "{b}/api/v1/admin/trust/accounts/{host_id}/sanctions"
        ))
        .json(&json!({"level": "stream_cut", "reason": "repeated medical claims", "days": 1})))
    .send()
    .await
    .unwrap();
    assert_eq!(cut.status(), 201);
    let st = tokio::task::spawn_blocking(move || ffmpeg.wait().unwrap())
        .await
        .unwrap();
    assert!(!st.success(), "the cut encoder fails");
    let mut again = ffmpeg_publish(&publish_url(&ch), 4);
    let st = tokio::task::spawn_blocking(move || again.wait().unwrap())
        .await
        .unwrap();
    assert!(!st.success(), "a publish under a stream cut is refused");
    let me = json_ok(
        host.get(format!("{b}/api/v1/me/trust"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(me["status"]["blocked_by"], "sanctioned");

    // Every decision is in the audit log.
    let audit = json_ok(
        ops(anon.get(format!("{b}/api/v1/admin/trust/audit")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "identity_approved",
        "document_viewed",
        "guardian_claim_approved",
        "complaint_upheld",
        "sanction",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    assert!(!audit.to_string().contains("330283198703150017"));
    // Every admin route that changed something is audited too, with its actor.
    let generic = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "POST /api/v1/admin/trust/guardian-claims/{id}/decide")
        .unwrap_or_else(|| panic!("no generic audit entry: {audit}"));
    assert!(generic["actor"].is_i64(), "{generic}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_brushing_ring_is_held_and_the_honest_show_is_not() {
    let s = start().await;
    let b = &s.base;
    hawker::demo::seed(s.running.store.as_ref()).await.unwrap();
    hawker::demo::trust_world(&s.running).await.unwrap();
    let admin_token = std::fs::read_to_string(&s.running.admin_token_file).unwrap();
    let risk = json_ok(
        reqwest::Client::new()
            .get(format!("{b}/api/v1/admin/trust/risk"))
            .bearer_auth(admin_token.trim())
            .send()
            .await
            .unwrap(),
    )
    .await;
    let shows = risk["shows"].as_array().unwrap();
    let by = |t: &str| {
        shows
            .iter()
            .find(|s| s["title"].as_str().unwrap().contains(t))
            .unwrap()
            .clone()
    };
    let ring = by("brushing ring");
    let honest = by("honest evening");
    assert_eq!(ring["hold"], true, "{ring}");
    assert_eq!(honest["hold"], false, "{honest}");
    assert!(
        ring["score"].as_f64().unwrap() > 0.8 && honest["score"].as_f64().unwrap() < 0.3,
        "{risk}"
    );
    assert_eq!(ring["flagged_orders"], 36);
    let sig = ring["signals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "dense_buyer_ring")
        .unwrap()
        .clone();
    assert!(
        sig["evidence"].as_str().unwrap().contains("6 buyers"),
        "{sig}"
    );
    // The ring paid for its orders; the ones it kept settled into `held`, the honest show's
    // into `available`.
    use hawker_money::{AccountRef, Party, Purpose};
    let books = s.running.shop.books();
    let farm_org = {
        use hawker_storage::prelude::*;
        use hawker_storage::ShowStore;
        let show = s
            .running
            .store
            .show(hawker_domain::ShowId(ring["show"].as_i64().unwrap()))
            .await
            .unwrap()
            .unwrap();
        let (org, _) = s
            .running
            .store
            .channel_shop(show.channel)
            .await
            .unwrap()
            .unwrap();
        org
    };
    let cny = |p| AccountRef::new(Party::Org(farm_org), p, hawker_domain::Currency::CNY);
    assert!(
        books.balance(&cny(Purpose::Held)).await > 0,
        "ring earnings held"
    );
    assert!(
        books.balance(&cny(Purpose::Available)).await > 0,
        "honest earnings available"
    );
}

/// What each rung takes away, over HTTP: a traffic limit hides the host's show from
/// discovery; a feature limit refuses paid slots; a suspension stops the seller's sales and
/// payouts until lifted; a closure blacklists the identity, the device and the card.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sanctions_ladder_takes_away_what_it_says() {
    let s = start().await;
    let b = &s.base;
    let admin = std::fs::read_to_string(&s.running.admin_token_file).unwrap();
    let admin = admin.trim().to_string();
    let anon = reqwest::Client::new();
    let ops_post = |path: String, body: Value| {
        anon.post(format!("{b}{path}"))
            .bearer_auth(&admin)
            .json(&body)
            .send()
    };
    let (host, ch) = streamer_channel(b, "ladder-farm").await;
    let host_id =
        json_ok(host.get(format!("{b}/api/v1/me")).send().await.unwrap()).await["id"].clone();
    let (org, p) = org_with_product(
        &host,
        b,
        json!({"name": "Ladder Farm"}),
        json!({"title": "Walnuts", "category": "other", "return_class": "normal", "currency": "CNY",
                   "skus": [{"label": "1 kg", "price_minor": 3000, "stock": 50}]}),
    )
    .await;
    let sku = p["skus"][0]["id"].clone();
    let address = json!({"name": "Mei", "line1": "8 West Lake Road", "city": "Hangzhou"});
    let buyer = browser();
    sign_up(&buyer, b, "walnut-fan@example.com", "viewer").await;
    let checkout = |c: reqwest::Client| {
        let (sku, address) = (sku.clone(), address.clone());
        async move {
            post(
                &c,
                format!("{b}/api/v1/orders"),
                json!({"items": [{"sku": sku, "quantity": 1}], "address": address}),
            )
            .await
        }
    };
    let first = json_ok(checkout(buyer.clone()).await).await;
    pay_and_wait(b, &buyer, first["id"].as_i64().unwrap()).await;
    // A complaint about that order, upheld with a refund: the order is cancelled and paid
    // back, and the seller's owner gets a warning.
    let cpl = json_ok(
        post(&buyer, format!("{b}/api/v1/complaints"), json!({"target": "seller", "target_id": org["id"], "reason": "not_delivered", "order": first["id"], "details": "nothing came"})).await,
    )
    .await;
    let decided = json_ok(
        ops_post(
            format!("/api/v1/admin/trust/complaints/{}/resolve", cpl["id"]),
            json!({"uphold": true, "outcome": "seller could not show a shipment", "refund": true}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(
        (decided["sanction"].as_str(), decided["refunded"].as_bool()),
        (Some("warning"), Some(true)),
        "{decided}"
    );
    let o = json_ok(
        buyer
            .get(format!("{b}/api/v1/orders/{}", first["id"]))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(o["state"], "cancelled", "{o}");

    // Traffic limit: the live show leaves the discovery list, and comes back when lifted.
    let mut ffmpeg = ffmpeg_publish(&publish_url(&ch), 30);
    wait_until("live", Duration::from_secs(20), || async {
        live(b, "ladder-farm").await.then_some(())
    })
    .await;
    let listed = || async {
        json_ok(anon.get(format!("{b}/api/v1/shows")).send().await.unwrap())
            .await
            .as_array()
            .unwrap()
            .iter()
            .any(|s| {
                s["channel"] == "ladder-farm"
                    || s["channel_slug"] == "ladder-farm"
                    || s.to_string().contains("ladder-farm")
            })
    };
    assert!(listed().await);
    let t = json_ok(
        ops_post(
            format!("/api/v1/admin/trust/accounts/{host_id}/sanctions"),
            json!({"level": "traffic_limit", "reason": "misleading thumbnails"}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert!(!listed().await, "hidden from discovery");
    assert!(
        live(b, "ladder-farm").await,
        "a traffic limit does not cut the stream"
    );
    assert_eq!(
        ops_post(
            format!("/api/v1/admin/trust/sanctions/{}/lift", t["id"]),
            json!({})
        )
        .await
        .unwrap()
        .status(),
        204
    );
    assert!(listed().await);

    // Feature limit: no paid slots.
    let f = json_ok(
        ops_post(
            format!("/api/v1/admin/trust/accounts/{host_id}/sanctions"),
            json!({"level": "feature_limit", "reason": "undisclosed ads"}),
        )
        .await
        .unwrap(),
    )
    .await;
    let show = json_ok(
        anon.get(format!("{b}/api/v1/channels/ladder-farm"))
            .send()
            .await
            .unwrap(),
    )
    .await["current_show"]["id"]
        .clone();
    let slot = post(
        &host,
        format!("{b}/api/v1/shows/{show}/slots"),
        json!({"brand": org["id"], "product": p["id"], "fee_minor": 0, "commission_bps": 1000}),
    )
    .await;
    problem(slot, 403, "sanctioned").await;
    assert_eq!(
        ops_post(
            format!("/api/v1/admin/trust/sanctions/{}/lift", f["id"]),
            json!({})
        )
        .await
        .unwrap()
        .status(),
        204
    );
    let _ = ffmpeg.kill();
    let _ = ffmpeg.wait();

    // Suspension: the seller sells nothing and is not paid out; lifting restores both.
    let sus = json_ok(
        ops_post(
            format!("/api/v1/admin/trust/accounts/{host_id}/sanctions"),
            json!({"level": "suspension", "reason": "counterfeit walnuts", "days": 7}),
        )
        .await
        .unwrap(),
    )
    .await;
    problem(checkout(buyer.clone()).await, 403, "seller_suspended").await;
    let party = hawker_money::Party::Account(host_id.as_i64().unwrap());
    assert!(
        s.running.shop.books().is_blocked(party).await,
        "payouts stop"
    );
    assert_eq!(
        ops_post(
            format!("/api/v1/admin/trust/sanctions/{}/lift", sus["id"]),
            json!({})
        )
        .await
        .unwrap()
        .status(),
        204
    );
    assert!(
        !s.running.shop.books().is_blocked(party).await,
        "payouts resume"
    );
    assert_eq!(checkout(buyer.clone()).await.status(), 201);

    // Closure: the identity, device and card of the closed account open nothing new.
    let crook = browser();
    let r = crook
        .post(format!("{b}/api/v1/accounts"))
        .header("x-hawker-device", "crook-phone-1")
        .json(&json!({"email": "crook@example.com", "password": "correct horse battery", "display_name": "Crook"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let crook_id =
        json_ok(crook.get(format!("{b}/api/v1/me")).send().await.unwrap()).await["id"].clone();
    let ck = json_ok(post(&crook, format!("{b}/api/v1/me/identity"), json!({"legal_name": "Crook Ko", "id_number": "330283199001010055", "birth_date": "1990-01-01"})).await).await;
    assert_eq!(
        ops_post(
            format!("/api/v1/admin/trust/identity/{}/review", ck["id"]),
            json!({"approve": true})
        )
        .await
        .unwrap()
        .status(),
        204
    );
    let o = json_ok(checkout(crook.clone()).await).await;
    let r = post(
        &crook,
        format!("{b}/api/v1/orders/{}/pay", o["id"]),
        // A card of their own: the sandbox's documented test cards are everyone's, so they
        // link and blacklist nobody.
        json!({"card": "4000 0566 5566 5556"}),
    )
    .await;
    assert!(r.status().is_success());
    // The signals are recorded off the request path.
    wait_until("the card on record", Duration::from_secs(5), || {
        let store = s.running.store.clone();
        let id = crook_id.as_i64().unwrap();
        async move {
            use hawker_storage::prelude::*;
            use hawker_trust::risk::LinkKind;
            let sig = store
                .signals_of(&[hawker_domain::AccountId(id)])
                .await
                .unwrap();
            (sig.iter()
                .any(|(_, k, _)| *k == LinkKind::PaymentInstrument)
                && sig.iter().any(|(_, k, _)| *k == LinkKind::Device))
            .then_some(())
        }
    })
    .await;
    let c = ops_post(
        format!("/api/v1/admin/trust/accounts/{crook_id}/sanctions"),
        json!({"level": "closure", "reason": "card testing ring"}),
    )
    .await
    .unwrap();
    assert_eq!(c.status(), 201);
    assert_eq!(
        ops_post(
            format!(
                "/api/v1/admin/trust/sanctions/{}/lift",
                json_ok(c).await["id"]
            ),
            json!({})
        )
        .await
        .unwrap()
        .status(),
        409
    );
    let again = browser();
    let r = again
        .post(format!("{b}/api/v1/accounts"))
        .header("x-hawker-device", "crook-phone-1")
        .json(&json!({"email": "crook2@example.com", "password": "correct horse battery", "display_name": "Crook"}))
        .send()
        .await
        .unwrap();
    problem(r, 403, "blacklisted").await;
    sign_up(&again, b, "crook3@example.com", "viewer").await;
    problem(
        post(&again, format!("{b}/api/v1/me/identity"), json!({"legal_name": "Crook Ko", "id_number": "330283-1990-0101-0055", "birth_date": "1990-01-01"})).await,
        403,
        "blacklisted",
    )
    .await;
    let o = json_ok(checkout(again.clone()).await).await;
    problem(
        post(
            &again,
            format!("{b}/api/v1/orders/{}/pay", o["id"]),
            json!({"card": "4000056655665556"}),
        )
        .await,
        403,
        "blacklisted",
    )
    .await;
}

/// Under cn a verified, trained streamer still needs the re-check before each broadcast; and a
/// business seller files KYB data that ops reviews.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cn_recheck_before_broadcast_and_kyb() {
    let s = start_with(|cfg| {
        cfg.trust.gate_broadcasts = true;
        cfg.commerce.law_profile = "cn".into();
        // KYB from the first sale, no grace: the test sees sales stop and resume.
        cfg.trust.kyb_sales_count = Some(1);
        cfg.trust.kyb_sales_minor = Some(1);
        cfg.trust.kyb_grace_days = Some(0);
        cfg.trust.kyb_recheck_seconds = Some(0);
    })
    .await;
    let b = &s.base;
    let admin = std::fs::read_to_string(&s.running.admin_token_file).unwrap();
    let admin = admin.trim().to_string();
    let anon = reqwest::Client::new();
    let (host, ch) = streamer_channel(b, "cn-farm").await;
    pass_streamer_gate(b, &host, &admin).await;
    let me = json_ok(
        host.get(format!("{b}/api/v1/me/trust"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(me["status"]["blocked_by"], "recheck_required", "{me}");
    let mut refused = ffmpeg_publish(&publish_url(&ch), 3);
    let st = tokio::task::spawn_blocking(move || refused.wait().unwrap())
        .await
        .unwrap();
    assert!(!st.success(), "no re-check, no broadcast");
    problem(
        post(
            &host,
            format!("{b}/api/v1/me/broadcast-check"),
            json!({"id_number": "330283198703150099"}),
        )
        .await,
        422,
        "recheck_failed",
    )
    .await;
    let ok = json_ok(
        post(
            &host,
            format!("{b}/api/v1/me/broadcast-check"),
            json!({"id_number": "330283 19870315 0017"}),
        )
        .await,
    )
    .await;
    assert!(ok["valid_until"].as_i64().unwrap() > now_ms());
    let mut ffmpeg = ffmpeg_publish(&publish_url(&ch), 20);
    wait_until(
        "live after the re-check",
        Duration::from_secs(20),
        || async { live(b, "cn-farm").await.then_some(()) },
    )
    .await;
    let _ = ffmpeg.kill();
    let _ = ffmpeg.wait();

    // KYB: the owner files; outsiders see no disclosure below the threshold; ops approves.
    let (org, p) = org_with_product(
        &host,
        b,
        json!({"name": "Li Wei Orchard Co."}),
        json!({"title": "Peaches", "category": "other", "return_class": "normal", "currency": "CNY",
                   "skus": [{"label": "5 kg", "price_minor": 5000, "stock": 50}]}),
    )
    .await;
    let buyer = browser();
    sign_up(&buyer, b, "kyb-buyer@example.com", "viewer").await;
    let order = |c: reqwest::Client| {
        let sku = p["skus"][0]["id"].clone();
        async move {
            post(
                &c,
                format!("{b}/api/v1/orders"),
                json!({"items": [{"sku": sku, "quantity": 1}],
                "address": {"name": "Mei", "line1": "8 West Lake Road", "city": "Hangzhou"}}),
            )
            .await
        }
    };
    let first = json_ok(order(buyer.clone()).await).await;
    pay_and_wait(b, &buyer, first["id"].as_i64().unwrap()).await;
    // Past the thresholds, without approved KYB data and no grace left: no more sales.
    problem(order(buyer.clone()).await, 403, "kyb_required").await;
    let biz = format!("{b}/api/v1/orgs/{}/business", org["id"]);
    problem(host.put(&biz).json(&json!({"legal_name": "L", "registration_number": "91330283MA2", "address": "Fenghua", "contact": "li@farm.example", "payout_account": "6222020000000001"})).send().await.unwrap(), 422, "invalid_field").await;
    let r = host.put(&biz).json(&json!({"legal_name": "Fenghua Li Wei Orchard Co., Ltd.", "registration_number": "91330283MA2H0000X1", "address": "1 Orchard Road, Fenghua", "contact": "li@farm.example", "payout_account": "6222020000000001"})).send().await.unwrap();
    assert_eq!(r.status(), 204);
    let mine = json_ok(host.get(&biz).send().await.unwrap()).await;
    assert_eq!(
        (mine["duty"].as_str(), mine["profile"]["state"].as_str()),
        (Some("verify"), Some("submitted")),
        "{mine}"
    );
    assert_eq!(mine["profile"]["payout_account_last4"], "0001");
    assert!(!mine.to_string().contains("6222020000000001"));
    let outsider = json_ok(anon.get(&biz).send().await.unwrap()).await;
    assert_eq!(outsider["disclosure"], Value::Null);
    let queue = json_ok(
        anon.get(format!("{b}/api/v1/admin/trust/business"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(queue["profiles"][0]["org"], org["id"]);
    let r = anon
        .post(format!(
            "{b}/api/v1/admin/trust/business/{}/review",
            org["id"]
        ))
        .bearer_auth(&admin)
        .json(&json!({"approve": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let mine = json_ok(host.get(&biz).send().await.unwrap()).await;
    assert_eq!(mine["profile"]["state"], "approved");
    assert_eq!(
        order(buyer.clone()).await.status(),
        201,
        "sales resume once approved"
    );
}

/// Pays an order with the sandbox card and waits for the webhook to mark it paid.
async fn pay_and_wait(b: &str, buyer: &reqwest::Client, order: i64) {
    let r = post(
        buyer,
        format!("{b}/api/v1/orders/{order}/pay"),
        json!({"card": "4242424242424242"}),
    )
    .await;
    assert!(r.status().is_success());
    wait_until("paid", Duration::from_secs(15), || {
        let (c, url) = (buyer.clone(), format!("{b}/api/v1/orders/{order}"));
        async move { (poll_json(&c, url).await?["state"] == "paid").then_some(()) }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_verifies_an_account_and_the_audit_log_says_so() {
    let s = start_with(|cfg| cfg.trust.gate_broadcasts = true).await;
    let b = &s.base;
    let admin_token = std::fs::read_to_string(&s.running.admin_token_file).unwrap();
    let ops = |r: reqwest::RequestBuilder| r.bearer_auth(admin_token.trim());
    let anon = reqwest::Client::new();
    let verify = |email: &str, born: &str| {
        ops(anon.post(format!("{b}/api/v1/admin/trust/verify")))
            .json(&json!({"email": email, "legal_name": "Known Person",
                "birth_date": born, "id_number": "KNOWN12345"}))
            .send()
    };
    let known = "operator-known@streamers.example";
    let (host, _) = streamer_channel(b, "operator-known").await;

    // Only ops may vouch for someone.
    let r = host
        .post(format!("{b}/api/v1/admin/trust/verify"))
        .json(&json!({"email": known, "legal_name": "Known Person",
            "birth_date": "1985-04-02", "id_number": "KNOWN12345"}))
        .send()
        .await
        .unwrap();
    problem(r, 403, "forbidden").await;
    // Bad details are refused like a submission's.
    problem(
        verify(known, "yesterday").await.unwrap(),
        422,
        "invalid_field",
    )
    .await;
    problem(
        verify("nobody@streamers.example", "1985-04-02")
            .await
            .unwrap(),
        404,
        "not_found",
    )
    .await;

    let v = json_ok(verify(known, "1985-04-02").await.unwrap()).await;
    assert!(v["status"]["blocked_by"].is_null(), "{v}");
    let me = json_ok(
        host.get(format!("{b}/api/v1/me/trust"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(me["status"]["blocked_by"].is_null(), "{me}");
    assert_eq!(me["status"]["training_passed"], true, "{me}");
    // A second check of an approved account is a conflict, not a silent overwrite.
    problem(verify(known, "1985-04-02").await.unwrap(), 409, "conflict").await;

    let audit = json_ok(
        ops(anon.get(format!("{b}/api/v1/admin/trust/audit")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let entries = audit["entries"].as_array().unwrap();
    for action in ["identity_approved", "training_attested_by_operator"] {
        let e = entries
            .iter()
            .find(|e| e["action"] == action)
            .unwrap_or_else(|| panic!("{action} missing: {audit}"));
        assert!(e["actor"].is_i64(), "{e}");
    }
    assert!(!audit.to_string().contains("KNOWN12345"));
}

/// Until the engine has assessed a show, its risk reads "pending", not 404; a show that does
/// not exist is still not found.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_risk_of_a_show_not_assessed_yet_is_pending() {
    let s = start().await;
    let b = &s.base;
    let admin_token = std::fs::read_to_string(&s.running.admin_token_file).unwrap();
    let ops = |r: reqwest::RequestBuilder| r.bearer_auth(admin_token.trim());
    let anon = reqwest::Client::new();
    let (host, _) = streamer_channel(b, "pending-risk").await;
    let show = json_ok(
        post(
            &host,
            format!("{b}/api/v1/channels/pending-risk/shows"),
            json!({"title": "Tomorrow", "scheduled_at": hawker_domain::UnixMillis::now().0 + 86_400_000}),
        )
        .await,
    )
    .await;
    let id = show["id"].as_i64().unwrap();
    let v = json_ok(
        ops(anon.get(format!("{b}/api/v1/admin/trust/risk/{id}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(v["state"], "pending", "{v}");
    assert_eq!(v["hold"], false, "{v}");
    let r = ops(anon.get(format!("{b}/api/v1/admin/trust/risk/{}", id + 1000)))
        .send()
        .await
        .unwrap();
    problem(r, 404, "not_found").await;
}
