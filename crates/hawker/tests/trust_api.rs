//! Trust over HTTP on a real server with a real ffmpeg publisher: an unverified streamer is
//! refused at ingest with a reason; ops reviews the real-name check (document to reviewers
//! only, ID number never in full); the course gates the first broadcast; a minor cannot buy
//! coins or gift; a guardian claim takes a gift back; an upheld complaint climbs the sanctions
//! ladder; a stream cut drops the live encoder and refuses the next one; every ops action is
//! in the audit log. Then the demo's honest and brushed shows, told apart by the risk engine.

mod common;

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
}
