//! Per-client rate limits on public endpoints, keyed by IP address. Generous for normal use,
//! tight for credential guessing.

use crate::problem::ApiError;
use crate::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;

pub(crate) struct Limits {
    /// Log-in and sign-up attempts.
    credentials: DefaultKeyedRateLimiter<IpAddr>,
    /// Everything else under /api; None when configured off.
    api: Option<DefaultKeyedRateLimiter<IpAddr>>,
    /// Flash-sale buy attempts, per account: a person taps, a script hammers.
    pub(crate) buys: DefaultKeyedRateLimiter<i64>,
    /// Room sockets opened.
    pub(crate) sockets: DefaultKeyedRateLimiter<IpAddr>,
}

fn per_minute(n: u32, burst: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n).expect("positive"))
        .allow_burst(NonZeroU32::new(burst).expect("positive"))
}

impl Limits {
    pub(crate) fn new(api_per_minute: u32) -> Self {
        Limits {
            credentials: RateLimiter::keyed(per_minute(10, 10)),
            api: (api_per_minute > 0)
                .then(|| RateLimiter::keyed(per_minute(api_per_minute, api_per_minute / 5 + 1))),
            buys: RateLimiter::keyed(per_minute(600, 20)),
            sockets: RateLimiter::keyed(per_minute(120, 60)),
        }
    }
}

pub(crate) fn client_ip(state: &AppState, req: &Request) -> IpAddr {
    client_ip_of(
        state,
        req.headers(),
        req.extensions().get::<ConnectInfo<SocketAddr>>(),
    )
}

pub(crate) fn client_ip_of(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    connect: Option<&ConnectInfo<SocketAddr>>,
) -> IpAddr {
    if state.settings.trust_forwarded_for {
        if let Some(ip) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok())
        {
            return ip;
        }
    }
    connect
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

pub(crate) async fn api_limit(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let ip = client_ip(&state, &req);
    if state
        .limits
        .api
        .as_ref()
        .is_some_and(|l| l.check_key(&ip).is_err())
    {
        metrics::counter!("hawker_rate_limited_total", "limit" => "api").increment(1);
        return Err(ApiError::rate_limited());
    }
    Ok(next.run(req).await)
}

pub(crate) async fn credentials_limit(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let ip = client_ip(&state, &req);
    if state.limits.credentials.check_key(&ip).is_err() {
        metrics::counter!("hawker_rate_limited_total", "limit" => "credentials").increment(1);
        return Err(ApiError::rate_limited());
    }
    Ok(next.run(req).await)
}
