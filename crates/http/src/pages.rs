//! The pages: static HTML shells and ES modules embedded in the binary, no build step.
//! Data comes from the JSON API; unknown channels and shows get a real 404.

use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use hawker_domain::{ShowId, Slug};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { page(HOME) }))
        .route("/c/{slug}", get(watch))
        .route("/replay/{show}", get(replay))
        .route("/studio", get(|| async { page(STUDIO) }))
        .route("/studio/co-host/{token}", get(|| async { page(COHOST) }))
        .route("/orders", get(|| async { page(ORDERS) }))
        .route("/earnings", get(|| async { page(EARNINGS) }))
        .route("/ops", get(|| async { page(OPS) }))
        .route("/shop", get(|| async { page(MERCHANT) }))
        .route("/login", get(|| async { page(AUTH) }))
        .route("/signup", get(|| async { page(AUTH) }))
        // The API reference, rendered from `/api/openapi.json`.
        .route("/api/docs", get(|| async { page(API_DOCS) }))
        .route("/assets/{file}", get(asset))
}

const HOME: &str = include_str!("../assets/home.html");
const WATCH: &str = include_str!("../assets/watch.html");
const REPLAY: &str = include_str!("../assets/replay.html");
const STUDIO: &str = include_str!("../assets/studio.html");
const COHOST: &str = include_str!("../assets/cohost.html");
const AUTH: &str = include_str!("../assets/auth.html");
const ORDERS: &str = include_str!("../assets/orders.html");
const EARNINGS: &str = include_str!("../assets/earnings.html");
const OPS: &str = include_str!("../assets/ops.html");
const MERCHANT: &str = include_str!("../assets/merchant.html");
const API_DOCS: &str = include_str!("../assets/api-docs.html");

const NOT_FOUND: &str = r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Not found — Hawker</title><link rel="icon" href="/assets/icon.svg" type="image/svg+xml"><link rel="stylesheet" href="/assets/style.css"></head><body><header><a class="logo" href="/">Hawk<span>er</span></a></header><main><h1>Not found</h1><p class="empty">There is nothing here. <a href="/">See who is live</a>.</p></main></body></html>"#;

fn page(html: &'static str) -> Response {
    let mut r = Html(html).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

fn not_found_page() -> Response {
    (StatusCode::NOT_FOUND, Html(NOT_FOUND)).into_response()
}

async fn watch(State(state): State<AppState>, Path(slug): Path<String>) -> Response {
    let exists = match Slug::parse(&slug) {
        Ok(s) => state
            .store
            .channel_by_slug(&s)
            .await
            .ok()
            .flatten()
            .is_some(),
        Err(_) => false,
    };
    if exists {
        page(WATCH)
    } else {
        not_found_page()
    }
}

async fn replay(State(state): State<AppState>, Path(show): Path<i64>) -> Response {
    match state.store.recording(ShowId(show)).await {
        Ok(Some(_)) => page(REPLAY),
        _ => not_found_page(),
    }
}

/// An embedded asset: (name, content type, body).
macro_rules! asset {
    ($name:literal, $type:literal) => {
        ($name, $type, include_str!(concat!("../assets/", $name)))
    };
}

const ASSETS: &[(&str, &str, &str)] = &[
    asset!("style.css", "text/css; charset=utf-8"),
    asset!("app.js", "text/javascript; charset=utf-8"),
    asset!("player.js", "text/javascript; charset=utf-8"),
    asset!("room.js", "text/javascript; charset=utf-8"),
    asset!("webrtc.js", "text/javascript; charset=utf-8"),
    asset!("cohost.js", "text/javascript; charset=utf-8"),
    asset!("leads.js", "text/javascript; charset=utf-8"),
    asset!("vod.js", "text/javascript; charset=utf-8"),
    asset!("home.js", "text/javascript; charset=utf-8"),
    asset!("watch.js", "text/javascript; charset=utf-8"),
    asset!("replay.js", "text/javascript; charset=utf-8"),
    asset!("studio.js", "text/javascript; charset=utf-8"),
    asset!("auth.js", "text/javascript; charset=utf-8"),
    asset!("shop.js", "text/javascript; charset=utf-8"),
    asset!("orders.js", "text/javascript; charset=utf-8"),
    asset!("earnings.js", "text/javascript; charset=utf-8"),
    asset!("ops.js", "text/javascript; charset=utf-8"),
    asset!("merchant.js", "text/javascript; charset=utf-8"),
    asset!("webhooks.js", "text/javascript; charset=utf-8"),
    asset!("claims.js", "text/javascript; charset=utf-8"),
    asset!("api-docs.js", "text/javascript; charset=utf-8"),
    asset!("icon.svg", "image/svg+xml"),
];

async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, body)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                // Unversioned names: revalidate quickly so an upgrade shows at once.
                (header::CACHE_CONTROL, "public, max-age=60"),
            ],
            *body,
        )
            .into_response(),
        None => not_found_page(),
    }
}
