//! Defect claims over HTTP: the buyer files one with photos, the seller's staff answer, the
//! platform decides disputes. Every rule is in `hawker_shop` (`Shop::claim_defect` and the
//! steps after it); this only translates.

use super::common::{accept_upload, IMAGE_TYPES, MAX_IMAGE};
use crate::auth::Caller;
use crate::json::ApiJson;
use crate::problem::{ApiError, ApiResult};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hawker_commerce::defect::{ClaimAction, ClaimState, Remedy};
use hawker_domain::UnixMillis;
use hawker_storage::defects::{ClaimFilter, DefectClaim};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewClaimBody {
    /// What is wrong, 10–2000 characters.
    description: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AnswerBody {
    /// `accept` or `dispute`.
    action: String,
    /// With `accept`: `refund_without_return` or `refund_with_return`.
    #[serde(default)]
    remedy: Option<String>,
    /// Required to dispute: why.
    #[serde(default)]
    note: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DecisionBody {
    /// `uphold` (for the buyer) or `reject` (for the seller).
    decision: String,
    /// With `uphold`: `refund_without_return` or `refund_with_return`.
    #[serde(default)]
    remedy: Option<String>,
    /// The decision's reason (required).
    note: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ClaimView {
    id: i64,
    /// The order number, as a string (it passes 2^53).
    order: String,
    description: String,
    /// `open`, `accepted`, `disputed`, `upheld` or `rejected`.
    state: &'static str,
    /// `refund_without_return` or `refund_with_return`, once accepted or upheld.
    remedy: Option<&'static str>,
    seller_note: Option<String>,
    platform_note: Option<String>,
    /// The law profile's deadline the claim was filed under.
    deadline: i64,
    created_at: i64,
    updated_at: i64,
    /// Photo addresses (visible to the buyer, the seller's staff and the platform).
    photos: Vec<String>,
}

fn view(c: DefectClaim) -> ClaimView {
    ClaimView {
        photos: c
            .photos
            .iter()
            .map(|p| format!("/api/v1/defect-claims/{}/photos/{}", c.id, p.id))
            .collect(),
        id: c.id,
        order: c.order.to_string(),
        description: c.description,
        state: c.state.as_str(),
        remedy: c.remedy.map(Remedy::as_str),
        seller_note: c.seller_note,
        platform_note: c.platform_note,
        deadline: c.deadline.0,
        created_at: c.created_at.0,
        updated_at: c.updated_at.0,
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ClaimList {
    claims: Vec<ClaimView>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct PhotoAdded {
    id: i64,
    url: String,
}

#[derive(Deserialize, IntoParams)]
pub(crate) struct StateQuery {
    /// Only claims in this state (`open`, `accepted`, `disputed`, `upheld`, `rejected`).
    state: Option<String>,
}

fn state_filter(q: &StateQuery) -> ApiResult<Option<ClaimState>> {
    match q.state.as_deref() {
        None | Some("") => Ok(None),
        Some(s) => ClaimState::parse(s)
            .map(Some)
            .ok_or_else(|| ApiError::bad_request("unknown claim state")),
    }
}

fn remedy(r: Option<&str>) -> ApiResult<Remedy> {
    r.and_then(Remedy::parse).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "A field is invalid",
        )
        .detail("remedy: refund_without_return or refund_with_return")
    })
}

fn bad_action(detail: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        "A field is invalid",
    )
    .detail(detail.to_string())
}

/// `POST /api/v1/orders/{id}/defect-claims`
#[utoipa::path(
    post,
    path = "/api/v1/orders/{id}/defect-claims",
    tag = "orders",
    summary = "Claim a defect on a delivered order (perishables too, within the law profile's days)",
    params(("id" = i64, Path, description = "Order number")),
    request_body = NewClaimBody,
    responses((status = 201, description = "The claim; add photos next", body = ClaimView)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn file(
    State(state): State<AppState>,
    caller: Caller,
    Path(order): Path<i64>,
    ApiJson(b): ApiJson<NewClaimBody>,
) -> ApiResult<(StatusCode, Json<ClaimView>)> {
    let me = caller.require()?;
    let c = state
        .shop
        .claim_defect(me, order, &b.description, UnixMillis::now())
        .await?;
    Ok((StatusCode::CREATED, Json(view(c))))
}

/// `POST /api/v1/defect-claims/{id}/photos`
#[utoipa::path(
    post,
    path = "/api/v1/defect-claims/{id}/photos",
    tag = "orders",
    summary = "Add a photo to your claim (the raw bytes)",
    params(("id" = i64, Path, description = "Claim id")),
    request_body(description = "A JPEG, PNG or WebP image, at most 5 MiB", content(("image/jpeg"), ("image/png"), ("image/webp"))),
    responses((status = 201, description = "The photo", body = PhotoAdded)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn add_photo(
    State(state): State<AppState>,
    caller: Caller,
    Path(claim): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<PhotoAdded>)> {
    let me = caller.require()?;
    let (ct, _) = accept_upload(&headers, &body, IMAGE_TYPES, MAX_IMAGE, "photo")?;
    let id = state
        .shop
        .add_defect_photo(me, claim, ct, &body, UnixMillis::now())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(PhotoAdded {
            id,
            url: format!("/api/v1/defect-claims/{claim}/photos/{id}"),
        }),
    ))
}

/// `GET /api/v1/defect-claims/{id}/photos/{photo}`
#[utoipa::path(
    get,
    path = "/api/v1/defect-claims/{id}/photos/{photo}",
    tag = "orders",
    summary = "A claim's photo (the buyer, the seller's staff and the platform only)",
    params(("id" = i64, Path, description = "Claim id"), ("photo" = i64, Path, description = "Photo id")),
    responses((status = 200, description = "The image", content_type = "image/*")),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn photo(
    State(state): State<AppState>,
    caller: Caller,
    Path((claim, photo)): Path<(i64, i64)>,
) -> ApiResult<Response> {
    let me = caller.require()?;
    let (ct, bytes) = state.shop.defect_photo(me, claim, photo).await?;
    Ok((
        [
            (header::CONTENT_TYPE, ct),
            // Evidence about a person's order: never in a shared cache.
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        bytes,
    )
        .into_response())
}

/// `GET /api/v1/defect-claims/{id}`
#[utoipa::path(
    get,
    path = "/api/v1/defect-claims/{id}",
    tag = "orders",
    summary = "One claim",
    params(("id" = i64, Path, description = "Claim id")),
    responses((status = 200, description = "The claim", body = ClaimView)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(claim): Path<i64>,
) -> ApiResult<Json<ClaimView>> {
    let me = caller.require()?;
    Ok(Json(view(state.shop.defect_claim(me, claim).await?)))
}

/// `POST /api/v1/defect-claims/{id}/answer`
#[utoipa::path(
    post,
    path = "/api/v1/defect-claims/{id}/answer",
    tag = "orders",
    summary = "The seller accepts (with a remedy) or disputes a claim",
    params(("id" = i64, Path, description = "Claim id")),
    request_body = AnswerBody,
    responses((status = 200, description = "The claim after the answer", body = ClaimView)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn answer(
    State(state): State<AppState>,
    caller: Caller,
    Path(claim): Path<i64>,
    ApiJson(b): ApiJson<AnswerBody>,
) -> ApiResult<Json<ClaimView>> {
    let me = caller.require()?;
    let action = match b.action.as_str() {
        "accept" => ClaimAction::Accept(remedy(b.remedy.as_deref())?),
        "dispute" => ClaimAction::Dispute,
        _ => return Err(bad_action("action: accept or dispute")),
    };
    let c = state
        .shop
        .answer_defect_claim(me, claim, action, &b.note, UnixMillis::now())
        .await?;
    Ok(Json(view(c)))
}

/// `POST /api/v1/admin/defect-claims/{id}/decide`
#[utoipa::path(
    post,
    path = "/api/v1/admin/defect-claims/{id}/decide",
    tag = "admin",
    summary = "The platform decides a disputed or unanswered claim",
    params(("id" = i64, Path, description = "Claim id")),
    request_body = DecisionBody,
    responses((status = 200, description = "The claim after the decision", body = ClaimView)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    Path(claim): Path<i64>,
    ApiJson(b): ApiJson<DecisionBody>,
) -> ApiResult<Json<ClaimView>> {
    let me = caller.require()?;
    let action = match b.decision.as_str() {
        "uphold" => ClaimAction::Uphold(remedy(b.remedy.as_deref())?),
        "reject" => ClaimAction::Reject,
        _ => return Err(bad_action("decision: uphold or reject")),
    };
    let c = state
        .shop
        .decide_defect_claim(me, claim, action, &b.note, UnixMillis::now())
        .await?;
    Ok(Json(view(c)))
}

async fn list(state: &AppState, caller: Caller, filter: ClaimFilter) -> ApiResult<Json<ClaimList>> {
    let me = caller.require()?;
    let claims = state.shop.defect_claims(me, filter).await?;
    Ok(Json(ClaimList {
        claims: claims.into_iter().map(view).collect(),
    }))
}

/// `GET /api/v1/me/defect-claims`
#[utoipa::path(
    get,
    path = "/api/v1/me/defect-claims",
    tag = "orders",
    summary = "Your claims, newest first",
    params(StateQuery),
    responses((status = 200, description = "Your claims", body = ClaimList)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn mine(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<StateQuery>,
) -> ApiResult<Json<ClaimList>> {
    let buyer = caller.require()?.id;
    let filter = ClaimFilter {
        buyer: Some(buyer),
        state: state_filter(&q)?,
        ..Default::default()
    };
    list(&state, caller, filter).await
}

/// `GET /api/v1/orgs/{id}/defect-claims`
#[utoipa::path(
    get,
    path = "/api/v1/orgs/{id}/defect-claims",
    tag = "orders",
    summary = "Claims on an organisation's orders, newest first",
    params(("id" = i64, Path, description = "Organisation id"), StateQuery),
    responses((status = 200, description = "The claims", body = ClaimList)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn of_org(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<i64>,
    Query(q): Query<StateQuery>,
) -> ApiResult<Json<ClaimList>> {
    let filter = ClaimFilter {
        org: Some(org),
        state: state_filter(&q)?,
        ..Default::default()
    };
    list(&state, caller, filter).await
}

/// `GET /api/v1/admin/defect-claims`
#[utoipa::path(
    get,
    path = "/api/v1/admin/defect-claims",
    tag = "admin",
    summary = "Every claim (the platform's queue: `?state=disputed`)",
    params(StateQuery),
    responses((status = 200, description = "The claims", body = ClaimList)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn queue(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<StateQuery>,
) -> ApiResult<Json<ClaimList>> {
    let me = caller.require()?;
    let claims = state.shop.defect_queue(me, state_filter(&q)?).await?;
    Ok(Json(ClaimList {
        claims: claims.into_iter().map(view).collect(),
    }))
}
