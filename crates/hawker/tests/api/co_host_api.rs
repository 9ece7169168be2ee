//! A co-host's own disclosure, over HTTP on a real server with a real RTMP publisher: the guest
//! who accepted an invite is on air in the live show, states in their own name having used a
//! pinned product, and every viewer's card carries it beside the host's statement; nobody else
//! may state it for them (not the host, not a viewer); dropped, the guest's line leaves the card
//! and the statement is refused.

use crate::common;

use common::*;
use futures::StreamExt;
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The room's pinned cards once `ok` holds for them (state frames until then).
async fn pinned_until(ws: &mut Ws, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let frame = match tokio::time::timeout(left, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => serde_json::from_str::<Value>(&t).unwrap(),
            Ok(Some(Ok(_))) => continue,
            other => panic!("{what}: the room ended or stayed silent: {other:?}"),
        };
        if frame["t"] == "state" || frame["t"] == "welcome" {
            let pinned = frame["state"]["pinned"].clone();
            if ok(&pinned) {
                return pinned;
            }
        }
    }
}

/// The host invites, the guest accepts the link; the acceptance.
async fn invite_and_accept(
    b: &str,
    slug: &str,
    host: &reqwest::Client,
    guest: &reqwest::Client,
) -> Value {
    let invite = json_ok(
        post(
            host,
            format!("{b}/api/v1/channels/{slug}/co-host"),
            json!({}),
        )
        .await,
    )
    .await;
    let token = invite["join_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap();
    json_ok(
        guest
            .post(format!("{b}/api/v1/co-host-invites/{token}/accept"))
            .send()
            .await
            .unwrap(),
    )
    .await
}

fn problem_code(v: &Value) -> &str {
    v["code"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_co_host_states_their_own_use_and_the_card_carries_it_while_on_air() {
    let s = start().await;
    let b = s.base.clone();
    let (host, ch) = streamer_channel(&b, "duo-shop").await;
    let (_, apron) = org_with_product(
        &host,
        &b,
        json!({"name": "Duo Pantry"}),
        json!({"title": "Linen apron", "category": "home", "return_class": "normal",
               "currency": "EUR", "skus": [{"label": "apron", "price_minor": 2400, "stock": 40}]}),
    )
    .await;
    let apron = apron["id"].as_i64().unwrap();
    let guest = browser();
    sign_up(&guest, &b, "guest@duo.example", "streamer").await;
    let viewer = browser();
    sign_up(&viewer, &b, "viewer@duo.example", "viewer").await;

    let (mut ffmpeg, show) = go_live(&b, "duo-shop", &ch).await;
    let r = host
        .put(format!("{b}/api/v1/shows/{show}/shelf"))
        .json(&json!({"products": [{"product": apron, "host_used": true}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204, "{}", r.text().await.unwrap());
    json_ok(
        post(
            &host,
            format!("{b}/api/v1/shows/{show}/pins"),
            json!({"product": apron}),
        )
        .await,
    )
    .await;
    let url = format!("{}/live/duo-shop/room", b.replace("http://", "ws://"));
    let (mut room, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let card = pinned_until(&mut room, "the pin", |p| p[0]["product_id"] == apron).await;
    assert!(
        card[0]["co_host_attestation"].is_null(),
        "no co-host, no line: {card}"
    );

    let statement = |c: &reqwest::Client, used: bool| {
        c.put(format!("{b}/api/v1/shows/{show}/shelf/{apron}/co-host"))
            .json(&json!({"used": used}))
            .send()
    };
    // Before anyone is on air as co-host, nobody may say it; the host cannot either.
    for c in [&guest, &host] {
        let r = statement(c, true).await.unwrap();
        assert_eq!(r.status(), 403);
        assert_eq!(problem_code(&r.json().await.unwrap()), "forbidden");
    }

    let accepted = invite_and_accept(&b, "duo-shop", &host, &guest).await;
    assert_eq!(accepted["show"], show, "{accepted}");
    let card = pinned_until(&mut room, "the guest on air", |p| {
        p[0]["co_host_attestation"].is_string()
    })
    .await;
    assert_eq!(
        card[0]["co_host_attestation"],
        "The co-host has not stated having used this product"
    );
    assert_eq!(
        card[0]["attestation"],
        "The host states having used this product"
    );

    // Only the guest speaks for the guest.
    for c in [&host, &viewer] {
        assert_eq!(statement(c, true).await.unwrap().status(), 403);
    }
    let said = json_ok(statement(&guest, true).await.unwrap()).await;
    assert_eq!(said["co_host_used"], true, "{said}");
    assert_eq!(
        said["co_host_attestation"],
        "The co-host states having used this product"
    );
    let card = pinned_until(&mut room, "the guest's statement", |p| {
        p[0]["co_host_used"] == true
    })
    .await;
    assert_eq!(card[0]["host_used"], true, "the host's own stays: {card}");
    // A product not on the shelf is not the guest's to speak of; a bad body is a problem.
    let r = guest
        .put(format!("{b}/api/v1/shows/{show}/shelf/999999/co-host"))
        .json(&json!({"used": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = guest
        .put(format!("{b}/api/v1/shows/{show}/shelf/{apron}/co-host"))
        .json(&json!({"used": "very"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    // The shelf (what the guest's page lists) carries the guest's line too.
    let shelf = json_ok(
        reqwest::get(format!("{b}/api/v1/shows/{show}/shelf"))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(shelf[0]["co_host_used"], true, "{shelf}");

    // The host drops the guest: the line leaves the card at once; the guest may no longer say.
    let r = host
        .delete(format!("{b}/api/v1/channels/duo-shop/co-host"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let card = pinned_until(&mut room, "the guest dropped", |p| {
        p[0]["co_host_attestation"].is_null()
    })
    .await;
    assert_eq!(
        card[0]["attestation"],
        "The host states having used this product"
    );
    assert_eq!(statement(&guest, false).await.unwrap().status(), 403);
    let _ = ffmpeg.kill();
    let _ = ffmpeg.wait();
}

/// A guest who accepted before the host went live is on air from the show's start, and until
/// its end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_who_joined_before_the_show_is_on_air_when_it_starts() {
    let s = start().await;
    let b = s.base.clone();
    let (host, ch) = streamer_channel(&b, "early-duo").await;
    let (_, mug) = org_with_product(
        &host,
        &b,
        json!({"name": "Early Pottery"}),
        json!({"title": "Stoneware mug", "category": "home", "return_class": "normal",
               "currency": "EUR", "skus": [{"label": "mug", "price_minor": 1800, "stock": 12}]}),
    )
    .await;
    let mug = mug["id"].as_i64().unwrap();
    let guest = browser();
    sign_up(&guest, &b, "early@duo.example", "streamer").await;
    let accepted = invite_and_accept(&b, "early-duo", &host, &guest).await;
    assert!(accepted["show"].is_null(), "not live yet: {accepted}");

    let (mut ffmpeg, show) = go_live(&b, "early-duo", &ch).await;
    let r = host
        .put(format!("{b}/api/v1/shows/{show}/shelf"))
        .json(&json!({"products": [mug]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204, "{}", r.text().await.unwrap());
    let said = json_ok(
        guest
            .put(format!("{b}/api/v1/shows/{show}/shelf/{mug}/co-host"))
            .json(&json!({"used": true}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        said["co_host_attestation"],
        "The co-host states having used this product"
    );

    // The show's end ends the co-hosting: the link is withdrawn, and the channel's next show
    // has no guest on air (nor may the old one speak in it) until a new invite is accepted.
    let _ = ffmpeg.kill();
    let _ = ffmpeg.wait();
    let channel = format!("{b}/api/v1/channels/early-duo");
    wait_until("the show to end", Duration::from_secs(20), || {
        let url = channel.clone();
        async move {
            let c = poll_json(&reqwest::Client::new(), url).await?;
            (c["live"] == false).then_some(())
        }
    })
    .await;
    let r = host.get(format!("{channel}/co-host")).send().await.unwrap();
    assert_eq!(r.status(), 404, "the invite went with the show");
    let (mut ffmpeg, next) = go_live(&b, "early-duo", &ch).await;
    assert_ne!(next, show);
    let r = host
        .put(format!("{b}/api/v1/shows/{next}/shelf"))
        .json(&json!({"products": [mug]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = guest
        .put(format!("{b}/api/v1/shows/{next}/shelf/{mug}/co-host"))
        .json(&json!({"used": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        403,
        "last show's guest is not on air in this one"
    );
    let shelf = json_ok(
        reqwest::get(format!("{b}/api/v1/shows/{next}/shelf"))
            .await
            .unwrap(),
    )
    .await;
    assert!(shelf[0]["co_host_attestation"].is_null(), "{shelf}");
    let _ = ffmpeg.kill();
    let _ = ffmpeg.wait();
}
