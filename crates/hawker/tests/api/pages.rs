//! Accounts, sessions, roles and channel ownership through the HTTP API; every error a
//! problem document with a stable code.

use crate::common;

use common::*;
use serde_json::{json, Value};

async fn problem(r: reqwest::Response, status: u16, code: &str) {
    assert_eq!(r.status().as_u16(), status);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], code, "{v}");
    assert_eq!(v["status"], status);
    assert!(v["type"].as_str().unwrap().ends_with(code));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_sessions_and_channel_ownership() {
    let s = start().await;
    let b = &s.base;
    let anon = reqwest::Client::new();

    // A viewer signs up (and is logged in by the cookie), but may not create channels.
    let viewer = browser();
    let me = sign_up(&viewer, b, "Viewer@Example.com", "viewer").await;
    assert_eq!(me["email"], "viewer@example.com");
    assert_eq!(me["role"], "viewer");
    let r = viewer.get(format!("{b}/api/v1/me")).send().await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["role"], "viewer");
    let r = viewer
        .get(format!("{b}/api/v1/session"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap()["account"]["email"],
        "viewer@example.com"
    );
    let r = viewer
        .post(format!("{b}/api/v1/channels"))
        .json(&json!({"slug": "v-shop", "title": "x"}))
        .send()
        .await
        .unwrap();
    problem(r, 403, "forbidden").await;

    // The session cookie is HttpOnly and SameSite; the password is stored as argon2id.
    let r = anon
        .post(format!("{b}/api/v1/sessions"))
        .json(&json!({"email": "viewer@example.com", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    use hawker_storage::AccountStore;
    let stored = s
        .running
        .store
        .account_by_email(&hawker_domain::Email::parse("viewer@example.com").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(stored.password.as_phc().starts_with("$argon2id$"));

    // Streamers create channels; slugs are unique; keys are the owner's alone.
    let (owner, ch) = streamer_channel(b, "li-wei-farm").await;
    for k in ["slug", "stream_key", "rtmp_url", "hls_url", "watch_url"] {
        assert!(ch[k].is_string(), "{k} in {ch}");
    }
    assert!(ch["stream_key"].as_str().unwrap().starts_with("live_"));
    let r = owner
        .post(format!("{b}/api/v1/channels"))
        .json(&json!({"slug": "li-wei-farm", "title": "again"}))
        .send()
        .await
        .unwrap();
    problem(r, 409, "slug_taken").await;
    let r = owner
        .post(format!("{b}/api/v1/channels"))
        .json(&json!({"slug": "Bad Slug", "title": "x"}))
        .send()
        .await
        .unwrap();
    problem(r, 422, "invalid_field").await;
    let (other, _) = streamer_channel(b, "someone-else").await;
    let r = other
        .get(format!("{b}/api/v1/channels/li-wei-farm/stream-key"))
        .send()
        .await
        .unwrap();
    problem(r, 403, "forbidden").await;
    let r = other
        .post(format!("{b}/api/v1/channels/li-wei-farm/stream-key/rotate"))
        .send()
        .await
        .unwrap();
    problem(r, 403, "forbidden").await;
    let r = anon
        .get(format!("{b}/api/v1/channels/li-wei-farm/ingest"))
        .send()
        .await
        .unwrap();
    problem(r, 401, "unauthenticated").await;
    let r = owner
        .post(format!("{b}/api/v1/channels/li-wei-farm/stream-key/rotate"))
        .send()
        .await
        .unwrap();
    let rotated: Value = r.json().await.unwrap();
    assert_ne!(rotated["stream_key"], ch["stream_key"]);
    let mine: Value = owner
        .get(format!("{b}/api/v1/me/channels"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mine[0]["stream_key"], rotated["stream_key"]);
    // The public view has no key.
    let public: Value = anon
        .get(format!("{b}/api/v1/channels/li-wei-farm"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(public.get("stream_key").is_none());
    assert_eq!(public["live"], false);

    // Scheduling.
    let at = hawker_domain::UnixMillis::now().0 + 3_600_000;
    let r = owner
        .post(format!("{b}/api/v1/channels/li-wei-farm/shows"))
        .json(&json!({"title": "Peach day", "scheduled_at": at}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let upcoming: Value = anon
        .get(format!("{b}/api/v1/shows?state=scheduled"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(upcoming[0]["title"], "Peach day");
    let r = anon
        .get(format!("{b}/api/v1/shows?state=soon"))
        .send()
        .await
        .unwrap();
    problem(r, 400, "bad_request").await;

    // Malformed bodies.
    let r = owner
        .post(format!("{b}/api/v1/channels"))
        .header("content-type", "application/json")
        .body("{\"slug\": ")
        .send()
        .await
        .unwrap();
    problem(r, 400, "invalid_json").await;
    let r = owner
        .post(format!("{b}/api/v1/channels"))
        .body("slug=x")
        .send()
        .await
        .unwrap();
    problem(r, 415, "unsupported_media_type").await;
    let r = owner
        .post(format!("{b}/api/v1/channels"))
        .json(&json!({"slug": "x-y", "title": "t", "color": "red"}))
        .send()
        .await
        .unwrap();
    problem(r, 422, "invalid_json").await;
    let r = anon
        .post(format!("{b}/api/v1/accounts"))
        .json(&json!({"email": "a@b.example", "password": "short", "display_name": "A"}))
        .send()
        .await
        .unwrap();
    problem(r, 422, "invalid_field").await;
    let r = anon.post(format!("{b}/api/v1/accounts")).json(&json!({"email": "x@b.example", "password": "long enough pass", "display_name": "A", "role": "platform_admin"})).send().await.unwrap();
    problem(r, 422, "invalid_field").await;
    let r = anon
        .get(format!("{b}/api/v1/nothing-here"))
        .send()
        .await
        .unwrap();
    problem(r, 404, "not_found").await;
    let r = anon
        .get(format!("{b}/api/v1/me"))
        .header("authorization", "Bearer hk_forged")
        .send()
        .await
        .unwrap();
    problem(r, 401, "invalid_token").await;

    // Log out ends the session.
    let r = viewer
        .delete(format!("{b}/api/v1/sessions/current"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = viewer.get(format!("{b}/api/v1/me")).send().await.unwrap();
    problem(r, 401, "unauthenticated").await;
    // Pages ask who is signed in without an error status for visitors.
    let r = viewer
        .get(format!("{b}/api/v1/session"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"account": null}));

    // Pages: real pages for real channels, a 404 page otherwise.
    assert_eq!(
        anon.get(format!("{b}/c/li-wei-farm"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        anon.get(format!("{b}/c/no-such-channel"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    for p in [
        "/",
        "/studio",
        "/login",
        "/signup",
        "/assets/player.js",
        "/assets/style.css",
    ] {
        assert_eq!(
            anon.get(format!("{b}{p}")).send().await.unwrap().status(),
            200,
            "{p}"
        );
    }
    s.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credential_guessing_is_rate_limited() {
    let s = start().await;
    let c = reqwest::Client::new();
    let mut statuses = Vec::new();
    for _ in 0..14 {
        let r = c
            .post(format!("{}/api/v1/sessions", s.base))
            .json(&json!({"email": "nobody@example.com", "password": "guess guess guess"}))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
        if r.status() == 429 {
            problem(r, 429, "rate_limited").await;
            break;
        }
    }
    assert_eq!(
        &statuses[..10],
        &[401; 10],
        "wrong passwords are 401 invalid_credentials"
    );
    assert_eq!(*statuses.last().unwrap(), 429, "{statuses:?}");
    s.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_endpoints() {
    let s = start().await;
    let c = reqwest::Client::new();
    assert_eq!(
        c.get(format!("{}/healthz", s.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "ok"
    );
    assert_eq!(
        c.get(format!("{}/readyz", s.base))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    c.get(format!("{}/api/v1/shows", s.base))
        .send()
        .await
        .unwrap();
    let m = c
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(m.contains("hawker_http_requests_total"), "{m}");
    s.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_send_security_headers_and_https_cookies_are_secure() {
    let s = start().await;
    let b = &s.base;
    let anon = reqwest::Client::new();
    for path in [
        "/",
        "/c/nobody",
        "/studio",
        "/shop",
        "/orders",
        "/ops",
        "/earnings",
        "/login",
    ] {
        let r = anon.get(format!("{b}{path}")).send().await.unwrap();
        let h = r.headers();
        let csp = h
            .get("content-security-policy")
            .unwrap_or_else(|| panic!("{path}: no CSP"))
            .to_str()
            .unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-eval"), "{path}: {csp}");
        let script = csp
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap();
        assert!(!script.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert!(h.contains_key("referrer-policy"), "{path}");
        // No inline script in the page itself: the CSP would block it.
        let html = r.text().await.unwrap();
        for tag in html.split("<script").skip(1) {
            let open = tag.split('>').next().unwrap();
            assert!(open.contains("src="), "{path}: an inline script");
        }
        assert!(!html.contains(" onclick="), "{path}: an inline handler");
    }
    let r = anon
        .get(format!("{b}/api/v1/channels"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");

    // Served over HTTPS (by its public URL), the session cookie is Secure; over HTTP it is not.
    let plain = anon
        .post(format!("{b}/api/v1/accounts"))
        .json(
            &json!({"email": "plain@example.com", "password": "correct horse battery",
            "display_name": "Plain", "role": "viewer"}),
        )
        .send()
        .await
        .unwrap();
    let cookie = plain.headers()["set-cookie"].to_str().unwrap();
    assert!(!cookie.contains("Secure"), "{cookie}");
    let tls = start_with(|cfg| cfg.server.public_url = "https://shop.example".into()).await;
    let r = anon
        .post(format!("http://{}/api/v1/accounts", tls.running.http))
        .json(
            &json!({"email": "tls@example.com", "password": "correct horse battery",
            "display_name": "Tls", "role": "viewer"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
}
