//! A regulator's export over HTTP on a real server: a show with chat, a moderation action, a
//! pin, an order and a recording is exported by a platform admin as one tar.gz; every file in
//! it says what happened. Anyone else is refused with a problem document. The export is
//! audited, and the API's access log names who called which route without query strings.

use crate::common;

use common::*;
use hawker_domain::{AccountId, ShowId, ShowState, Slug, UnixMillis};
use hawker_storage::prelude::*;
use hawker_storage::{ModerationEntry, Recording, StoredComment};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Read;
use std::time::Duration;

async fn problem(r: reqwest::Response, status: u16, code: &str) {
    let st = r.status().as_u16();
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    let v: Value = r.json().await.unwrap();
    assert_eq!(st, status, "{v}");
    assert_eq!(ct, "application/problem+json");
    assert_eq!(v["code"], code, "{v}");
}

fn lines(file: &[u8]) -> Vec<Value> {
    std::str::from_utf8(file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_show_is_exported_for_a_regulator() {
    let s = start().await;
    let b = &s.base;
    let store = s.running.store.clone();

    // A seller with a product, a show that goes live, a pin and an order in it.
    let (seller, _) = streamer_channel(b, "basket-farm").await;
    let channel = store
        .channel_by_slug(&Slug::parse("basket-farm").unwrap())
        .await
        .unwrap()
        .unwrap()
        .id;
    let (_org, basket) = org_with_product(&seller, b, json!({"name": "Bamboo Baskets", "individual": true, "city": "Anji"}), json!({"title": "Bamboo basket", "category": "home", "return_class": "normal",
                   "currency": "CNY", "skus": [{"label": "large", "price_minor": 4500, "stock": 20}]})).await;
    let show = json_ok(
        post(
            &seller,
            format!("{b}/api/v1/channels/basket-farm/shows"),
            json!({"title": "Weaving live", "scheduled_at": now_ms() + 60_000}),
        )
        .await,
    )
    .await;
    let show_id = ShowId(show["id"].as_i64().unwrap());
    let started = UnixMillis(now_ms() - 60_000);
    let mut live = store.show(show_id).await.unwrap().unwrap();
    live.go_live(started).unwrap();
    store.save_show(&live, ShowState::Scheduled).await.unwrap();
    json_ok(
        seller
            .put(format!("{b}/api/v1/shows/{show_id}/shelf"))
            .json(&json!({"products": [basket["id"]]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    json_ok(
        post(
            &seller,
            format!("{b}/api/v1/shows/{show_id}/pins"),
            json!({"product": basket["id"]}),
        )
        .await,
    )
    .await;
    let buyer = browser();
    let buyer_id = sign_up(&buyer, b, "mei@example.com", "viewer").await["id"]
        .as_i64()
        .unwrap();
    let order = json_ok(
        post(
            &buyer,
            format!("{b}/api/v1/orders"),
            json!({"items": [{"sku": basket["skus"][0]["id"], "quantity": 2}],
                   "address": {"name": "Mei Lin", "line1": "12 West Lake Road", "city": "Hangzhou", "postcode": "310000"},
                   "channel": "basket-farm"}),
        )
        .await,
    )
    .await;

    // Chat as the room stores it (one comment deleted by a moderator), and the log of that.
    let owner = AccountId(
        json_ok(seller.get(format!("{b}/api/v1/me")).send().await.unwrap()).await["id"]
            .as_i64()
            .unwrap(),
    );
    let comment = |id: i64, text: &str, deleted: Option<&str>| StoredComment {
        id,
        channel,
        show: Some(show_id),
        account: AccountId(buyer_id),
        author_name: "Mei".into(),
        text: text.into(),
        at: started.plus_ms(id * 1000),
        shadow: false,
        deleted_reason: deleted.map(str::to_string),
    };
    store
        .save_comments(&[
            comment(1, "How big is the large one?", None),
            comment(2, "buy followers at spam.example", Some("spam")),
        ])
        .await
        .unwrap();
    store
        .log_moderation(&ModerationEntry {
            channel,
            show: Some(show_id),
            actor: owner,
            action: "delete".into(),
            target_account: Some(AccountId(buyer_id)),
            comment_id: Some(2),
            reason: Some("spam".into()),
            detail: String::new(),
            at: started.plus_ms(3000),
        })
        .await
        .unwrap();
    // The recording, where the recorder keeps it.
    let dir = s.data.path().join("recordings").join(show_id.0.to_string());
    std::fs::create_dir_all(&dir).unwrap();
    let segment: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(dir.join("init0.mp4"), b"init-bytes").unwrap();
    std::fs::write(dir.join("seg0.m4s"), &segment).unwrap();
    std::fs::write(dir.join("index.m3u8"), "#EXTM3U\n#EXT-X-ENDLIST\n").unwrap();
    std::fs::write(dir.join("seg1.tmp"), b"half-written").unwrap();
    store
        .upsert_recording(&Recording {
            show: show_id,
            dir: dir.to_string_lossy().into_owned(),
            bytes: segment.len() as i64,
            duration_ms: 2000,
            segments: 1,
            complete: true,
            updated_at: UnixMillis(now_ms()),
        })
        .await
        .unwrap();
    let mut ended = store.show(show_id).await.unwrap().unwrap();
    ended.end(UnixMillis(now_ms())).unwrap();
    store.save_show(&ended, ShowState::Live).await.unwrap();

    // Nobody but a platform admin.
    let url = format!("{b}/api/v1/admin/shows/{show_id}/export");
    problem(
        reqwest::get(url.clone()).await.unwrap(),
        401,
        "unauthenticated",
    )
    .await;
    problem(
        seller.get(url.clone()).send().await.unwrap(),
        403,
        "forbidden",
    )
    .await;
    problem(
        buyer.get(url.clone()).send().await.unwrap(),
        403,
        "forbidden",
    )
    .await;
    let admin = std::fs::read_to_string(&s.running.admin_token_file).unwrap();
    let admin = admin.trim();
    let r = reqwest::Client::new()
        .get(format!("{b}/api/v1/admin/shows/999999/export"))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap();
    problem(r, 404, "not_found").await;

    let r = reqwest::Client::new()
        .get(url.clone())
        .bearer_auth(admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/gzip");
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains(&format!("show-{show_id}.tar.gz")));
    let archive = r.bytes().await.unwrap();
    let mut files = BTreeMap::new();
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(archive.as_ref()));
    for e in tar.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        files.insert(name, data);
    }
    let p = format!("show-{show_id}");
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            format!("{p}/chat.jsonl"),
            format!("{p}/moderation.jsonl"),
            format!("{p}/orders.jsonl"),
            format!("{p}/pins.jsonl"),
            format!("{p}/recording/index.m3u8"),
            format!("{p}/recording/init0.mp4"),
            format!("{p}/recording/seg0.m4s"),
            format!("{p}/show.json"),
        ],
        "no half-written file"
    );

    let meta: Value = serde_json::from_slice(&files[&format!("{p}/show.json")]).unwrap();
    assert_eq!(meta["id"], show_id.0);
    assert_eq!(meta["title"], "Weaving live");
    assert_eq!(meta["state"], "ended");
    assert_eq!(meta["started_at"], started.0);
    assert_eq!(meta["channel"]["slug"], "basket-farm");
    assert_eq!(meta["recording"]["segments"], 1);

    let chat = lines(&files[&format!("{p}/chat.jsonl")]);
    assert_eq!(chat.len(), 2, "deleted comments are kept for the regulator");
    assert_eq!(chat[0]["text"], "How big is the large one?");
    assert_eq!(chat[0]["at_in_show_ms"], 1000);
    assert_eq!(chat[0]["account"], buyer_id);
    assert_eq!(chat[1]["deleted_reason"], "spam");

    let moderation = lines(&files[&format!("{p}/moderation.jsonl")]);
    assert_eq!(moderation.len(), 1);
    assert_eq!(moderation[0]["action"], "delete");
    assert_eq!(moderation[0]["comment_id"], 2);
    assert_eq!(moderation[0]["at_in_show_ms"], 3000);

    let pins = lines(&files[&format!("{p}/pins.jsonl")]);
    assert_eq!(pins.len(), 1);
    assert_eq!(pins[0]["product"], basket["id"]);
    assert_eq!(pins[0]["title"], "Bamboo basket");
    assert_eq!(pins[0]["seller"], "Bamboo Baskets");
    let at = pins[0]["pinned_in_show_ms"].as_i64().unwrap();
    assert!(
        (60_000..120_000).contains(&at),
        "pinned a minute into the show: {at}"
    );

    let orders = lines(&files[&format!("{p}/orders.jsonl")]);
    assert_eq!(orders.len(), 1);
    let o = &orders[0];
    assert_eq!(o["id"], order["id"]);
    assert_eq!(o["buyer"], buyer_id);
    assert_eq!(o["show"], show_id.0);
    assert_eq!(o["state"], "created");
    assert_eq!(o["total_minor"], 9000);
    assert_eq!(o["address"]["city"], "Hangzhou");
    assert_eq!(o["items"][0]["title"], "Bamboo basket — large");
    assert_eq!(o["items"][0]["quantity"], 2);
    assert_eq!(o["events"][0]["to"], "created");
    assert_eq!(o["events"][0]["actor_kind"], "buyer");

    assert_eq!(
        files[&format!("{p}/recording/seg0.m4s")],
        segment,
        "the recording byte for byte"
    );
    assert_eq!(files[&format!("{p}/recording/init0.mp4")], b"init-bytes");

    // Audited: who exported which show.
    let audit = store.audit_log(20).await.unwrap();
    let entry = audit
        .iter()
        .find(|a| a.action == "show_exported")
        .expect("the export is audited");
    assert_eq!(entry.subject, format!("show:{show_id}"));
    let admin_id = json_ok(
        reqwest::Client::new()
            .get(format!("{b}/api/v1/me"))
            .bearer_auth(admin)
            .send()
            .await
            .unwrap(),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    assert_eq!(entry.actor, Some(AccountId(admin_id)));
    assert_eq!(
        audit.iter().filter(|a| a.action == "show_exported").count(),
        1,
        "refused attempts export nothing"
    );

    // The access log: route templates and accounts, never a query string.
    let r = buyer
        .get(format!("{b}/api/v1/shows?state=ended&token=s3cret"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    reqwest::get(format!("{b}/api/v1/no-such-thing?key=s3cret"))
        .await
        .unwrap();
    reqwest::get(format!("{b}/healthz")).await.unwrap();
    let log = wait_until("the access log", Duration::from_secs(10), || {
        let store = store.clone();
        async move {
            let log = store.access_log(1000).await.unwrap();
            log.iter().any(|l| l.route == "unmatched").then_some(log)
        }
    })
    .await;
    let export = log
        .iter()
        .find(|l| l.route == "/api/v1/admin/shows/{id}/export" && l.status == 200)
        .expect("the export is in the access log");
    assert_eq!(export.account, Some(AccountId(admin_id)));
    assert_eq!(export.method, "GET");
    assert_eq!(export.ip, "127.0.0.1");
    assert!(log
        .iter()
        .any(|l| l.route == "/api/v1/admin/shows/{id}/export"
            && l.status == 403
            && l.account == Some(AccountId(buyer_id))));
    assert!(log.iter().any(|l| l.route == "/api/v1/orders"
        && l.method == "POST"
        && l.account == Some(AccountId(buyer_id))));
    // A public route that never asks who is calling logs no account.
    assert!(log
        .iter()
        .any(|l| l.route == "/api/v1/shows" && l.status == 200 && l.account.is_none()));
    assert!(log
        .iter()
        .any(|l| l.route == "unmatched" && l.status == 404));
    assert!(!log.iter().any(|l| l.route.contains("healthz")));
    for l in &log {
        assert!(
            l.route.starts_with("/api/") || l.route == "unmatched",
            "{l:?}"
        );
        assert!(
            !l.route.contains("s3cret") && !l.route.contains('?'),
            "{l:?}"
        );
    }

    s.running.shutdown().await;
}
