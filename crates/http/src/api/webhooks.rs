//! Outbound webhooks over HTTP: an organisation's subscriptions, its delivery log and
//! redelivery. Every rule is in `hawker_hooks::Webhooks`; this only translates.

use crate::auth::Caller;
use crate::json::ApiJson;
use crate::problem::{ApiError, ApiResult};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use hawker_domain::UnixMillis;
use hawker_hooks::{DeliveryDetail, WebhookError};
use hawker_storage::webhooks::{Delivery, DeliveryState, Subscription};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

impl From<WebhookError> for ApiError {
    fn from(e: WebhookError) -> Self {
        let msg = e.to_string();
        match e {
            WebhookError::NotFound(what) => ApiError::not_found(what),
            WebhookError::Forbidden(why) => ApiError::forbidden(why),
            WebhookError::Invalid { .. } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                "A field is invalid",
            )
            .detail(msg),
            WebhookError::Storage(e) => e.into(),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewWebhookBody {
    /// Where to POST events: an `https://` address (or `http://`).
    url: String,
    /// Topics to receive (`order.paid`, `show.live`, ...), or `["*"]` for all.
    topics: Vec<String>,
}

/// A subscription as its organisation sees it. The secret appears once, in the answer that
/// creates it.
#[derive(Serialize, ToSchema)]
pub(crate) struct WebhookView {
    id: i64,
    url: String,
    topics: Vec<String>,
    created_at: i64,
    /// Only when just created: sign-checking key (`Hawker-Signature`), shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

fn webhook_view(s: Subscription, with_secret: bool) -> WebhookView {
    WebhookView {
        id: s.id,
        url: s.url,
        topics: s.topics,
        created_at: s.created_at.0,
        secret: with_secret.then_some(s.secret),
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct WebhookList {
    webhooks: Vec<WebhookView>,
    /// Every topic a webhook may ask for.
    topics: Vec<&'static str>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct AttemptView {
    at: i64,
    /// The receiver's HTTP status, when it answered.
    status: Option<i64>,
    error: Option<String>,
    duration_ms: i64,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct DeliveryView {
    id: i64,
    webhook: i64,
    /// `evt_…`: the same for every delivery of one event.
    event: String,
    topic: String,
    /// `pending`, `delivered` or `failed`.
    state: String,
    attempts: i64,
    next_at: Option<i64>,
    last_at: Option<i64>,
    last_status: Option<i64>,
    last_error: Option<String>,
    created_at: i64,
    /// The body sent (only in the single delivery's view).
    #[serde(skip_serializing_if = "Option::is_none")]
    payload: Option<serde_json::Value>,
    /// Every attempt (only in the single delivery's view).
    #[serde(skip_serializing_if = "Option::is_none")]
    attempt_log: Option<Vec<AttemptView>>,
}

fn delivery_view(d: Delivery) -> DeliveryView {
    DeliveryView {
        id: d.id,
        webhook: d.subscription,
        event: format!("evt_{}", d.event),
        topic: d.topic,
        state: d.state.as_str().to_string(),
        attempts: d.attempts,
        next_at: d.next_at.map(|t| t.0),
        last_at: d.last_at.map(|t| t.0),
        last_status: d.last_status,
        last_error: d.last_error,
        created_at: d.created_at.0,
        payload: None,
        attempt_log: None,
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct DeliveryList {
    deliveries: Vec<DeliveryView>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    next_before: Option<i64>,
}

#[derive(Deserialize, utoipa::IntoParams)]
pub(crate) struct DeliveryQuery {
    /// `pending`, `delivered` or `failed`.
    state: Option<String>,
    /// Only deliveries older than this id (paging).
    before: Option<i64>,
    /// Page size, 1–200 (default 50).
    limit: Option<i64>,
}

/// `GET /api/v1/orgs/{id}/webhooks`
#[utoipa::path(
    get,
    path = "/api/v1/orgs/{id}/webhooks",
    tag = "webhooks",
    summary = "An organisation's webhooks",
    params(("id" = i64, Path, description = "Organisation id")),
    responses((status = 200, description = "The webhooks and the known topics", body = WebhookList)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<i64>,
) -> ApiResult<Json<WebhookList>> {
    let me = caller.require()?;
    let subs = state.hooks.subscriptions(me, org).await?;
    Ok(Json(WebhookList {
        webhooks: subs.into_iter().map(|s| webhook_view(s, false)).collect(),
        topics: hawker_hooks::TOPICS.to_vec(),
    }))
}

/// `POST /api/v1/orgs/{id}/webhooks`
#[utoipa::path(
    post,
    path = "/api/v1/orgs/{id}/webhooks",
    tag = "webhooks",
    summary = "Subscribe a URL to events (the answer carries the signing secret, once)",
    params(("id" = i64, Path, description = "Organisation id")),
    request_body = NewWebhookBody,
    responses((status = 201, description = "The webhook with its secret", body = WebhookView)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<i64>,
    ApiJson(b): ApiJson<NewWebhookBody>,
) -> ApiResult<(StatusCode, Json<WebhookView>)> {
    let me = caller.require()?;
    let s = state
        .hooks
        .subscribe(me, org, &b.url, &b.topics, UnixMillis::now())
        .await?;
    Ok((StatusCode::CREATED, Json(webhook_view(s, true))))
}

/// `DELETE /api/v1/orgs/{id}/webhooks/{webhook}`
#[utoipa::path(
    delete,
    path = "/api/v1/orgs/{id}/webhooks/{webhook}",
    tag = "webhooks",
    summary = "Remove a webhook (its pending deliveries stop)",
    params(("id" = i64, Path, description = "Organisation id"), ("webhook" = i64, Path, description = "Webhook id")),
    responses((status = 204, description = "Removed")),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, id)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    let me = caller.require()?;
    state.hooks.unsubscribe(me, org, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/orgs/{id}/webhook-deliveries`
#[utoipa::path(
    get,
    path = "/api/v1/orgs/{id}/webhook-deliveries",
    tag = "webhooks",
    summary = "The delivery log, newest first",
    params(("id" = i64, Path, description = "Organisation id"), DeliveryQuery),
    responses((status = 200, description = "A page of deliveries", body = DeliveryList)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<i64>,
    Query(q): Query<DeliveryQuery>,
) -> ApiResult<Json<DeliveryList>> {
    let me = caller.require()?;
    let st =
        match q.state.as_deref() {
            None | Some("") => None,
            Some(s) => Some(DeliveryState::parse(s).ok_or_else(|| {
                ApiError::bad_request("state must be pending, delivered or failed")
            })?),
        };
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let list = state.hooks.deliveries(me, org, st, q.before, limit).await?;
    let next_before = (list.len() as i64 == limit)
        .then(|| list.last().map(|d| d.id))
        .flatten();
    Ok(Json(DeliveryList {
        deliveries: list.into_iter().map(delivery_view).collect(),
        next_before,
    }))
}

/// `GET /api/v1/orgs/{id}/webhook-deliveries/{delivery}`
#[utoipa::path(
    get,
    path = "/api/v1/orgs/{id}/webhook-deliveries/{delivery}",
    tag = "webhooks",
    summary = "One delivery with its body and every attempt",
    params(("id" = i64, Path, description = "Organisation id"), ("delivery" = i64, Path, description = "Delivery id")),
    responses((status = 200, description = "The delivery", body = DeliveryView)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn delivery(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, id)): Path<(i64, i64)>,
) -> ApiResult<Json<DeliveryView>> {
    let me = caller.require()?;
    let DeliveryDetail { delivery, attempts } = state.hooks.delivery(me, org, id).await?;
    let payload = serde_json::from_str(&delivery.payload).ok();
    let mut v = delivery_view(delivery);
    v.payload = payload;
    v.attempt_log = Some(
        attempts
            .into_iter()
            .map(|a| AttemptView {
                at: a.at.0,
                status: a.status,
                error: a.error,
                duration_ms: a.duration_ms,
            })
            .collect(),
    );
    Ok(Json(v))
}

/// `POST /api/v1/orgs/{id}/webhook-deliveries/{delivery}/redeliver`
#[utoipa::path(
    post,
    path = "/api/v1/orgs/{id}/webhook-deliveries/{delivery}/redeliver",
    tag = "webhooks",
    summary = "Send a delivery again now (a fresh day of retries)",
    params(("id" = i64, Path, description = "Organisation id"), ("delivery" = i64, Path, description = "Delivery id")),
    responses((status = 202, description = "Queued")),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn redeliver(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, id)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    let me = caller.require()?;
    state
        .hooks
        .redeliver(me, org, id, UnixMillis::now())
        .await?;
    Ok(StatusCode::ACCEPTED)
}
