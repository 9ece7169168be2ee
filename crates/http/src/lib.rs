//! Hawker's HTTP edge. Handlers are thin: they authenticate, authorise, validate, call the
//! store or the broadcaster, and shape the response. Errors are problem+json with stable codes.
//!
//! Route map (see ARCHITECTURE.md for the contract of each):
//! - pages: `/`, `/c/{slug}`, `/replay/{show}`, `/studio`, `/login`, `/signup`, `/assets/*`
//! - API: `/api/v1/...` (accounts, sessions, channels, shows)
//! - video: `/live/{slug}/index.m3u8` (LL-HLS), `/live/{slug}/{session}/*` (init, segments,
//!   parts), `/live/{slug}/feed` (WebSocket fMP4 feed for the MSE player), `/vod/{show}/*`
//! - live room: `/live/{slug}/room` (WebSocket, protocol in `hawker-room`),
//!   `/api/v1/notifications` (WebSocket: follow notifications)
//! - operations: `/healthz`, `/readyz`, `/metrics`

mod access;
pub(crate) mod api;
pub mod auth;
mod feed;
mod hls;
mod json;
mod limits;
mod ops;
mod pages;
pub mod paid_labels;
pub mod problem;
mod room;
pub mod shop_events;
pub mod webrtc;
mod ws;

use axum::Router;
use hawker_broadcast::Broadcaster;
use hawker_hub::RoomHub;
use hawker_storage::Store;
use std::path::PathBuf;
use std::sync::Arc;

pub use ops::metrics_handle;

/// Settings the HTTP layer needs from the configuration.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Base URL viewers use, e.g. `http://127.0.0.1:8080`.
    pub public_url: String,
    /// Base RTMP URL encoders use, e.g. `rtmp://127.0.0.1:1935/live`.
    pub rtmp_url: String,
    /// Mark cookies Secure (serve behind HTTPS).
    pub secure_cookies: bool,
    /// Where recordings live, for `/vod/`.
    pub recordings: Option<PathBuf>,
    /// Take the client address from `X-Forwarded-For` (behind a trusted proxy only).
    pub trust_forwarded_for: bool,
    /// JSON API requests per minute per client address; 0 turns the limit off.
    pub api_per_minute: u32,
    /// Where uploaded product images live, for `/media/images/`.
    pub images: Option<PathBuf>,
    /// Where identity documents live: never served except to reviewers.
    pub documents: Option<PathBuf>,
}

/// Answers /readyz: storage reachable, listeners up.
pub type ReadyCheck =
    Arc<dyn Fn() -> futures::future::BoxFuture<'static, Result<(), String>> + Send + Sync>;

/// What every handler shares, behind one `Arc`: axum clones the state for each layer and
/// handler a request passes, and one reference count is cheaper than a dozen (measured under the
/// flash-sale load, the field-by-field clones and drops were ~3% of the machine).
#[derive(Clone)]
pub struct AppState(Arc<AppInner>);

#[derive(Clone)]
pub struct AppInner {
    pub store: Arc<dyn Store>,
    pub live: Broadcaster,
    pub rooms: RoomHub,
    pub settings: Arc<HttpSettings>,
    /// The shop: catalog, checkout, orders, flash sales, coupons, the books.
    pub shop: Arc<hawker_shop::Shop>,
    /// The trust rules (verification, minors, sanctions, risk).
    pub guard: Arc<hawker_shop::guard::Guard>,
    /// Outbound webhooks: subscriptions, the delivery log, redelivery.
    pub hooks: Arc<hawker_hooks::Webhooks>,
    /// WebRTC: WHIP publishing and WHEP playback.
    pub rtc: hawker_rtc::RtcServer,
    /// Co-host invites and the calls behind them.
    pub co_hosts: Arc<hawker_rtc::cohost::CoHosts>,
    pub(crate) sessions: Arc<auth::SessionCache>,
    limits: Arc<limits::Limits>,
    ready: ReadyCheck,
}

impl std::ops::Deref for AppState {
    type Target = AppInner;
    fn deref(&self) -> &AppInner {
        &self.0
    }
}

impl AppState {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: Arc<dyn Store>,
        live: Broadcaster,
        rooms: RoomHub,
        shop: Arc<hawker_shop::Shop>,
        guard: Arc<hawker_shop::guard::Guard>,
        hooks: Arc<hawker_hooks::Webhooks>,
        rtc: hawker_rtc::RtcServer,
        co_hosts: Arc<hawker_rtc::cohost::CoHosts>,
        settings: HttpSettings,
        ready: ReadyCheck,
    ) -> Self {
        AppState(Arc::new(AppInner {
            store,
            live,
            rooms,
            limits: Arc::new(limits::Limits::new(settings.api_per_minute)),
            settings: Arc::new(settings),
            shop,
            guard,
            hooks,
            rtc,
            co_hosts,
            sessions: Arc::new(auth::SessionCache::new()),
            ready,
        }))
    }
}

/// The whole HTTP surface as one router (its own access-log writer).
pub fn router(state: AppState) -> Router {
    let log = access::AccessLog::start(state.clone());
    router_with(state, log)
}

fn router_with(state: AppState, log: access::AccessLog) -> Router {
    Router::new()
        .merge(pages::routes())
        .merge(api::routes(state.clone()))
        .merge(webrtc::routes(state.clone()))
        .merge(hls::routes())
        .merge(feed::routes())
        .merge(room::routes())
        .merge(ops::routes())
        .fallback(ops::not_found)
        // Tracing, counting and the access log, in one layer (see `access::record`).
        .layer(axum::middleware::from_fn_with_state(log, access::record))
        .with_state(state)
}

/// What the server runs: the router, with the flash-sale buy dispatched in front of it.
///
/// That one route carries a sale's whole load (tens of thousands of attempts a second), and
/// through the router each attempt paid ~3 µs of CPU for matching among ~150 routes, cloning
/// the route's boxed layer stack and boxing the middleware's futures (~10% of the server's
/// CPU in `hawker-bench flash`). Here it is recognised by method and path and runs the same
/// handler with the same extractors inside the same edge observation (`access::observe`:
/// span, metrics, access log), so it answers exactly as through the router, which still
/// holds the route for paths this check does not take (an id that is not a number).
#[derive(Clone)]
pub struct Edge {
    router: Router,
    log: access::AccessLog,
    state: AppState,
}

pub fn edge(state: AppState) -> Edge {
    let log = access::AccessLog::start(state.clone());
    Edge {
        router: router_with(state.clone(), log.clone()),
        log,
        state,
    }
}

impl tower::Service<axum::extract::Request> for Edge {
    type Response = axum::response::Response;
    type Error = std::convert::Infallible;
    type Future = futures::future::Either<
        <Router as tower::Service<axum::extract::Request>>::Future,
        futures::future::BoxFuture<'static, Result<axum::response::Response, Self::Error>>,
    >;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: axum::extract::Request) -> Self::Future {
        let Some(sale) = api::sales::flash_buy_target(&req) else {
            return futures::future::Either::Left(self.router.call(req));
        };
        let (log, state) = (self.log.clone(), self.state.clone());
        futures::future::Either::Right(Box::pin(async move {
            Ok(
                access::observe(&log, Some(api::sales::BUY_ROUTE), req, |req| {
                    api::sales::buy_request(state, sale, req)
                })
                .await,
            )
        }))
    }
}
