//! The API access log (PRODUCT.md §3: kept `[retention] access_days`, ≥ 60 days): one line
//! per `/api/` request with the time, the account if the request authenticated, the client
//! address, the method, the route template and the status. Never the path as sent, the query
//! string, a header, a token or a body.
//!
//! Requests never wait on the disk: the middleware hands each line to a bounded channel
//! (`try_send`; a full queue drops the line and counts it in
//! `hawker_access_log_dropped_total`) and one writer task appends what has gathered in one
//! transaction, then pauses briefly unless the batch was full, so the log costs a few commits a
//! second until lines arrive faster than 4,096 per pause, and then batches of 4,096. When the router is dropped the channel closes and the
//! writer drains what is left.

use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use hawker_domain::{AccountId, UnixMillis};
use hawker_storage::retention::AccessLine;
use hawker_storage::Store;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::mpsc;
use tracing::Instrument;

/// Lines waiting for the writer; beyond this they are dropped rather than slowing requests.
const QUEUE: usize = 16_384;
/// Lines per write.
const MAX_BATCH: usize = 4_096;
/// After each write the writer lets lines gather for this long.
const PAUSE: Duration = Duration::from_millis(250);

/// The middleware's state: the app (for the client address) and the writer's queue.
#[derive(Clone)]
pub(crate) struct AccessLog {
    app: AppState,
    tx: Option<mpsc::Sender<AccessLine>>,
}

/// Put in a request's extensions by the middleware; `Caller` fills it in when the request
/// authenticates, so the line names the account without a second lookup.
#[derive(Clone, Default)]
pub(crate) struct AccessAccount(Arc<OnceLock<AccountId>>);

impl AccessAccount {
    pub(crate) fn set(&self, id: AccountId) {
        let _ = self.0.set(id);
    }
}

impl AccessLog {
    /// Starts the writer on the current runtime (without one, nothing is logged).
    pub(crate) fn start(app: AppState) -> AccessLog {
        let tx = tokio::runtime::Handle::try_current().ok().map(|rt| {
            let (tx, rx) = mpsc::channel(QUEUE);
            rt.spawn(writer(app.store.clone(), rx));
            tx
        });
        AccessLog { app, tx }
    }
}

async fn writer(store: Arc<dyn Store>, mut rx: mpsc::Receiver<AccessLine>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        if let Err(e) = store.append_access_log(&batch).await {
            tracing::warn!(error = %e, lines = batch.len(), "access log write failed");
            metrics::counter!("hawker_access_log_dropped_total").increment(batch.len() as u64);
        }
        let full = batch.len() == MAX_BATCH;
        batch.clear();
        // A full batch means lines are arriving faster than that: write on at once.
        if !full {
            tokio::time::sleep(PAUSE).await;
        }
    }
}

/// The edge middleware: every request is traced (a debug span; server errors logged) and
/// counted (`ops::count_request`), and `/api/` requests (matched or not) are logged. One layer
/// for all three: axum clones a route's whole layer stack for each layer a request passes, so
/// three layers cost far more than three times one (measured under the flash-sale load: ~10 µs
/// of server CPU per request for the three layers this one replaced).
pub(crate) async fn record(State(log): State<AccessLog>, req: Request, next: Next) -> Response {
    let matched = req.extensions().get::<MatchedPath>().cloned();
    observe(&log, matched.as_ref().map(|p| p.as_str()), req, |req| {
        next.run(req)
    })
    .await
}

/// What [`record`] does around `run`, for a request whose route is `template` (`None`: no route
/// matched). The edge's hot route calls it directly (see `crate::Edge`).
pub(crate) async fn observe<F, Fut>(
    log: &AccessLog,
    template: Option<&str>,
    req: Request,
    run: F,
) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    let http_method = req.method().clone();
    let start = std::time::Instant::now();
    let matched = template.is_some();
    let template = template.unwrap_or("unmatched");
    // Off unless debug tracing is on; then it names the route template, never the raw path.
    let span = if tracing::enabled!(tracing::Level::DEBUG) {
        tracing::debug_span!("http", method = %http_method, route = template)
    } else {
        tracing::Span::none()
    };
    // An `/api/` request, matched or not: access-logged, and its errors are problem documents.
    let api = if matched {
        template.starts_with("/api/")
    } else {
        req.uri().path().starts_with("/api/")
    };
    let mut resp = logged(log, req, run, template, api)
        .instrument(span.clone())
        .await;
    if api && (resp.status().is_client_error() || resp.status().is_server_error()) {
        resp = crate::problem::as_problem(resp).await;
    }
    let status = resp.status();
    let _entered = span.enter();
    if status.is_server_error() {
        tracing::error!(
            route = template,
            status = status.as_u16(),
            latency_ms = start.elapsed().as_millis() as u64,
            "request failed"
        );
    } else {
        tracing::debug!(
            status = status.as_u16(),
            latency_us = start.elapsed().as_micros() as u64,
            "finished processing request"
        );
    }
    crate::ops::count_request(template, &http_method, status.as_u16(), start);
    secure(&mut resp);
    resp
}

/// Scripts only from our own files (no inline script, no eval), media and sockets from our
/// own origin, and no framing by any site: a *Buy* button must not sit under another site's
/// transparent frame. Inline `style` attributes stay allowed (layout only, no script).
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self' ws: wss:; \
object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// The security headers of every answer: `nosniff` and the referrer policy on all, the content
/// security policy (with `frame-ancestors 'none'`) and `X-Frame-Options` on pages.
fn secure(resp: &mut Response) {
    use axum::http::{header, HeaderValue};
    let html = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    let h = resp.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    if html {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
}

/// Runs the request; writes its access-log line if it is an `/api/` request (`template` is
/// "unmatched" for one no route took).
async fn logged<F, Fut>(
    log: &AccessLog,
    mut req: Request,
    run: F,
    template: &str,
    api: bool,
) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    let (Some(tx), true) = (&log.tx, api) else {
        return run(req).await;
    };
    let route = template.to_string();
    let ip = crate::limits::client_ip(&log.app, &req).to_string();
    // Standard methods are short; an extension method is cut, never stored at any length
    // (method names are ASCII tokens, so the cut is on a character boundary).
    let m = req.method().as_str();
    let method = m.get(..16).unwrap_or(m).to_string();
    let who = AccessAccount::default();
    req.extensions_mut().insert(who.clone());
    // Every ops action that changed something is in the audit log, whatever the route; the
    // trust routes add their own entries with the decision's details.
    let audited = route.starts_with("/api/v1/admin/") && method != "GET" && method != "HEAD";
    let path = audited.then(|| req.uri().path().to_string());
    let resp = run(req).await;
    if let (Some(path), true) = (path, resp.status().is_success()) {
        if let Err(e) = log
            .app
            .store
            .audit(
                who.0.get().copied(),
                &format!("{method} {route}"),
                &path,
                resp.status().as_str(),
                UnixMillis::now(),
            )
            .await
        {
            tracing::error!(error = %e, route, "an ops action could not be audited");
        }
    }
    let line = AccessLine {
        at: UnixMillis::now(),
        account: who.0.get().copied(),
        ip,
        method,
        route,
        status: resp.status().as_u16(),
    };
    if tx.try_send(line).is_err() {
        metrics::counter!("hawker_access_log_dropped_total").increment(1);
    }
    resp
}
