//! 1:1 video consults and the leads they leave: a product opened to consults, a viewer's
//! request, the staff's answer, the end of the call with its outcome. The workflow is
//! `Shop` (`service/leads.rs`); the call itself is `/call/{call}` (WebRTC).

use crate::auth::Caller;
use crate::json::ApiJson;
use crate::problem::ApiResult;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use hawker_commerce::lead::LeadState;
use hawker_domain::{Slug, UnixMillis};
use hawker_storage::Lead;
use serde::{Deserialize, Serialize};

/// A lead as its buyer and the seller's staff see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct LeadView {
    id: i64,
    /// requested, accepted, ended, declined, cancelled, missed
    state: &'static str,
    organisation: i64,
    product: i64,
    product_title: String,
    buyer: i64,
    buyer_name: String,
    staff: Option<i64>,
    channel: Option<i64>,
    /// What came of the call, in the staff member's words.
    outcome: Option<String>,
    /// Calls are not recorded unless both agreed; this version records none.
    buyer_consents_recording: bool,
    staff_consents_recording: bool,
    /// Where the two parties POST their call offers while the consult is accepted.
    call_url: Option<String>,
    created_at: i64,
    answered_at: Option<i64>,
    ended_at: Option<i64>,
}

async fn view(state: &AppState, l: Lead) -> ApiResult<LeadView> {
    let product_title = state
        .store
        .product(l.product)
        .await?
        .map(|p| p.title)
        .unwrap_or_default();
    let buyer_name = state
        .store
        .account(l.buyer)
        .await?
        .map(|a| a.display_name.as_str().to_string())
        .unwrap_or_default();
    Ok(LeadView {
        id: l.id,
        state: l.state.as_str(),
        organisation: l.org,
        product: l.product,
        product_title,
        buyer: l.buyer.0,
        buyer_name,
        staff: l.staff.map(|a| a.0),
        channel: l.channel.map(|c| c.0),
        call_url: l
            .state
            .in_call()
            .then(|| format!("{}/call/{}", state.settings.public_url, l.call())),
        outcome: l.outcome,
        buyer_consents_recording: l.buyer_consents_recording,
        staff_consents_recording: l.staff_consents_recording,
        created_at: l.created_at.0,
        answered_at: l.answered_at.map(|t| t.0),
        ended_at: l.ended_at.map(|t| t.0),
    })
}

async fn views(state: &AppState, leads: Vec<Lead>) -> ApiResult<Vec<LeadView>> {
    let mut out = Vec::with_capacity(leads.len());
    for l in leads {
        out.push(view(state, l).await?);
    }
    Ok(out)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SetConsultable {
    consultable: bool,
}

#[utoipa::path(
    put,
    path = "/api/v1/products/{id}/consultable",
    tag = "shop",
    summary = "Open a product to 1:1 video consults (or close it)",
    params(("id" = i64, Path, description = "Product")),
    request_body = SetConsultable,
    responses((status = 204, description = "Set")),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn set_consultable(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<SetConsultable>,
) -> ApiResult<StatusCode> {
    let me = caller.require()?;
    state.shop.set_consultable(me, id, b.consultable).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RequestConsult {
    /// The channel being watched (its slug), if any.
    #[serde(default)]
    channel: Option<String>,
    /// The viewer saw the consent notice and agrees to the call.
    consent: bool,
    /// Whether the viewer would allow a recording (only if the seller's staff agree too).
    #[serde(default)]
    consents_recording: bool,
}

#[utoipa::path(
    post,
    path = "/api/v1/products/{id}/consults",
    tag = "shop",
    summary = "Ask to talk to the seller about a product (a 1:1 video consult)",
    params(("id" = i64, Path, description = "Product")),
    request_body = RequestConsult,
    responses((status = 201, description = "The lead, requested", body = LeadView)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn request(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<RequestConsult>,
) -> ApiResult<(StatusCode, Json<LeadView>)> {
    let me = caller.require()?;
    if !b.consent {
        return Err(crate::problem::ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "consent_required",
            "Consent is required",
        )
        .detail("agree to the consult's notice (a video call with the seller's staff) first"));
    }
    let channel = match b.channel.as_deref().map(Slug::parse).transpose()? {
        Some(slug) => state.store.channel_by_slug(&slug).await?.map(|c| c.id),
        None => None,
    };
    let l = state
        .shop
        .request_consult(me, id, channel, b.consents_recording, UnixMillis::now())
        .await?;
    Ok((StatusCode::CREATED, Json(view(&state, l).await?)))
}

#[utoipa::path(
    get,
    path = "/api/v1/leads/{id}",
    tag = "shop",
    summary = "A lead (its buyer or the seller's staff)",
    params(("id" = i64, Path, description = "Lead")),
    responses((status = 200, description = "The lead", body = LeadView)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<LeadView>> {
    let me = caller.require()?;
    let l = state.shop.lead(me, id).await?;
    Ok(Json(view(&state, l).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct LeadQuery {
    /// requested, accepted, ended, declined, cancelled or missed
    #[serde(default)]
    state: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/orgs/{id}/leads",
    tag = "shop",
    summary = "An organisation's leads, newest first (its staff)",
    params(("id" = i64, Path, description = "Organisation"), LeadQuery),
    responses((status = 200, description = "Leads", body = Vec<LeadView>)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn of_org(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<i64>,
    Query(q): Query<LeadQuery>,
) -> ApiResult<Json<Vec<LeadView>>> {
    let me = caller.require()?;
    let filter = match q.state.as_deref() {
        None | Some("") => None,
        Some(s) => Some(LeadState::parse(s).ok_or_else(|| {
            super::common::invalid(
                "state: requested, accepted, ended, declined, cancelled or missed",
            )
        })?),
    };
    let leads = state.shop.leads_of_org(me, org, filter).await?;
    Ok(Json(views(&state, leads).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/me/leads",
    tag = "shop",
    summary = "Your consult requests, newest first",
    responses((status = 200, description = "Leads", body = Vec<LeadView>)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn mine(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<LeadView>>> {
    let me = caller.require()?;
    let leads = state.shop.my_leads(me).await?;
    Ok(Json(views(&state, leads).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Accept {
    /// Whether the staff member would allow a recording (only if the buyer agreed too).
    #[serde(default)]
    consents_recording: bool,
}

#[utoipa::path(
    post,
    path = "/api/v1/leads/{id}/accept",
    tag = "shop",
    summary = "Take a consult request (the first staff member to accept has it)",
    params(("id" = i64, Path, description = "Lead")),
    request_body = Accept,
    responses((status = 200, description = "Accepted, with its call", body = LeadView)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn accept(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<Accept>,
) -> ApiResult<Json<LeadView>> {
    let me = caller.require()?;
    let l = state
        .shop
        .accept_consult(me, id, b.consents_recording, UnixMillis::now())
        .await?;
    Ok(Json(view(&state, l).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/leads/{id}/decline",
    tag = "shop",
    summary = "Decline a consult request",
    params(("id" = i64, Path, description = "Lead")),
    responses((status = 200, description = "Declined", body = LeadView)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn decline(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<LeadView>> {
    let me = caller.require()?;
    let l = state
        .shop
        .decline_consult(me, id, UnixMillis::now())
        .await?;
    Ok(Json(view(&state, l).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct End {
    /// What came of it (staff only).
    #[serde(default)]
    outcome: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/leads/{id}/end",
    tag = "shop",
    summary = "Hang up (or withdraw a request not yet answered); staff note the outcome",
    params(("id" = i64, Path, description = "Lead")),
    request_body = End,
    responses((status = 200, description = "Ended", body = LeadView)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn end(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<End>,
) -> ApiResult<Json<LeadView>> {
    let me = caller.require()?;
    let l = state
        .shop
        .end_consult(me, id, b.outcome.as_deref(), UnixMillis::now())
        .await?;
    Ok(Json(view(&state, l).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Outcome {
    outcome: String,
}

#[utoipa::path(
    put,
    path = "/api/v1/leads/{id}/outcome",
    tag = "shop",
    summary = "Note what came of an ended consult (staff)",
    params(("id" = i64, Path, description = "Lead")),
    request_body = Outcome,
    responses((status = 200, description = "Noted", body = LeadView)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn note_outcome(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<Outcome>,
) -> ApiResult<Json<LeadView>> {
    let me = caller.require()?;
    let l = state
        .shop
        .note_outcome(me, id, &b.outcome, UnixMillis::now())
        .await?;
    Ok(Json(view(&state, l).await?))
}
