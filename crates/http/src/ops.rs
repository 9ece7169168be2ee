//! Liveness, readiness, Prometheus metrics, request accounting, and the 404 fallback.

use crate::problem::ApiError;
use crate::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
}

/// The process-wide Prometheus recorder, installed on first use.
pub fn metrics_handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed (tests embedding several servers); the
        // handle then renders an empty registry rather than failing the server.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

async fn readyz(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    (state.ready)().await.map_err(ApiError::unavailable)?;
    Ok("ready")
}

async fn metrics_text() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        metrics_handle().render(),
    )
}

pub(crate) async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "Not found")
        .detail("no such page or resource")
}

/// Counts a request and its latency by route template (not raw path: bounded label sets).
/// Called by the edge middleware (`access::record`).
pub(crate) fn count_request(route: &str, method: &axum::http::Method, status: u16, start: Instant) {
    let (count, seconds) = request_metrics(route, method, status);
    count.increment(1);
    seconds.record(start.elapsed().as_secs_f64());
}

/// A route's metric handles, registered once: building the labelled key and finding it in the
/// registry on every request (three strings, a hash of each) was ~3 µs of a flash-sale buy.
/// Bounded: routes are templates, methods and statuses few.
fn request_metrics(
    route: &str,
    method: &axum::http::Method,
    status: u16,
) -> (metrics::Counter, metrics::Histogram) {
    type ByStatus = Vec<(axum::http::Method, u16, metrics::Counter)>;
    type ByRoute = std::collections::HashMap<Box<str>, (metrics::Histogram, ByStatus)>;
    static ROUTES: OnceLock<parking_lot::RwLock<ByRoute>> = OnceLock::new();
    let routes = ROUTES.get_or_init(Default::default);
    if let Some((h, by)) = routes.read().get(route) {
        if let Some((_, _, c)) = by.iter().find(|(m, s, _)| m == method && *s == status) {
            return (c.clone(), h.clone());
        }
    }
    // Handles bind to the recorder in place when they are made: install it first.
    metrics_handle();
    let mut map = routes.write();
    let (h, by) = map.entry(route.into()).or_insert_with(|| {
        (
            metrics::histogram!("hawker_http_request_seconds", "route" => route.to_string()),
            Vec::new(),
        )
    });
    let c = match by.iter().find(|(m, s, _)| m == method && *s == status) {
        Some((_, _, c)) => c.clone(),
        None => {
            let c = metrics::counter!("hawker_http_requests_total",
                "route" => route.to_string(), "method" => method.to_string(), "status" => status.to_string());
            by.push((method.clone(), status, c.clone()));
            c
        }
    };
    (c, h.clone())
}
