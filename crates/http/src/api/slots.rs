//! Paid slots over HTTP: a brand books a slot in a show, the host, the brand and ops see its
//! report, ops confirm the fee and close it.

use super::common::{csv_response, staff};
use crate::auth::Caller;
use crate::json::ApiJson;
use crate::problem::{ApiError, ApiResult};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use hawker_commerce::org::OrgRole;
use hawker_domain::{Role, UnixMillis};
use serde::Deserialize;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewSlotBody {
    /// The brand (an organisation the caller manages) and its product.
    brand: i64,
    product: i64,
    fee_minor: i64,
    /// Commission for the host on the slot's sales (basis points, 1–8000).
    commission_bps: u32,
    #[serde(default)]
    guaranteed_gmv_minor: Option<i64>,
    #[serde(default)]
    return_cap_bps: Option<u32>,
}

fn slot_json(s: &hawker_storage::slots::Slot) -> serde_json::Value {
    serde_json::json!({
        "id": s.id, "show": s.slot.show.0, "host": s.slot.host.0, "brand": s.slot.brand,
        "product": s.slot.product, "fee_minor": s.slot.fee_minor, "currency": s.slot.currency,
        "commission_bps": s.slot.commission_bps, "guaranteed_gmv_minor": s.slot.guaranteed_gmv_minor,
        "return_cap_bps": s.slot.return_cap_bps, "state": s.state,
    })
}

/// `POST /api/v1/shows/{id}/slots`: a brand books a slot in a host's show.
#[utoipa::path(
    post,
    path = "/api/v1/shows/{id}/slots",
    tag = "money",
    summary = "Book a paid slot in a show",
    params(("id" = i64, Path, description = "Show id", example = 1)),
    request_body = NewSlotBody,
    responses((status = 201, description = "The slot", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn book_slot(
    State(state): State<AppState>,
    caller: Caller,
    Path(show): Path<i64>,
    ApiJson(b): ApiJson<NewSlotBody>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let me = caller.require()?;
    let slot = state
        .shop
        .book_slot(
            me,
            hawker_domain::ShowId(show),
            hawker_shop::NewSlotRequest {
                brand: b.brand,
                product: b.product,
                fee_minor: b.fee_minor,
                commission_bps: b.commission_bps,
                guaranteed_gmv_minor: b.guaranteed_gmv_minor,
                return_cap_bps: b.return_cap_bps,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(slot_json(&slot))))
}

/// Host, the brand's owner or managers, or a platform admin.
async fn may_see_slot(
    state: &AppState,
    me: &hawker_domain::Account,
    s: &hawker_storage::slots::Slot,
) -> ApiResult<()> {
    if me.id == s.slot.host || me.role == Role::PlatformAdmin {
        return Ok(());
    }
    staff(state, me, s.slot.brand, |r| {
        matches!(r, OrgRole::Owner | OrgRole::Manager)
    })
    .await
    .map(|_| ())
}

/// `GET /api/v1/shows/{id}/slots`: the slots the caller may see.
#[utoipa::path(
    get,
    path = "/api/v1/shows/{id}/slots",
    tag = "money",
    summary = "A show's slots the caller may see",
    params(("id" = i64, Path, description = "Show id", example = 1)),
    responses((status = 200, description = "Slots", body = Vec<Object>)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn show_slots(
    State(state): State<AppState>,
    caller: Caller,
    Path(show): Path<i64>,
) -> ApiResult<Json<Vec<serde_json::Value>>> {
    let me = caller.require()?;
    let mut out = Vec::new();
    for s in state
        .store
        .slots_of_show(hawker_domain::ShowId(show))
        .await?
    {
        if may_see_slot(&state, me, &s).await.is_ok() {
            out.push(slot_json(&s));
        }
    }
    Ok(Json(out))
}

/// `GET /api/v1/orgs/{id}/slots`: the brand's slots with their reports (owner, managers).
#[utoipa::path(
    get,
    path = "/api/v1/orgs/{id}/slots",
    tag = "money",
    summary = "A brand's slots with their reports",
    params(("id" = i64, Path, description = "Organisation id", example = 1)),
    responses((status = 200, description = "Slots with reports", body = Vec<Object>)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn brand_slots(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<i64>,
) -> ApiResult<Json<Vec<serde_json::Value>>> {
    let me = caller.require()?;
    staff(&state, me, org, |r| {
        matches!(r, OrgRole::Owner | OrgRole::Manager)
    })
    .await?;
    let books = state.shop.books();
    let now = UnixMillis::now();
    let mut out = Vec::new();
    for s in state.store.slots_of_brand(org, 200).await? {
        let r = books
            .slot_report(s.id, now)
            .await
            .map_err(hawker_shop::ShopError::from)?;
        let x = &r.result;
        out.push(serde_json::json!({
            "slot": slot_json(&s), "orders": r.orders, "gmv_minor": x.gmv_minor,
            "returned_minor": x.returned_minor, "return_rate_bps": x.return_rate_bps,
            "valid_gmv_minor": x.valid_gmv_minor, "commission_minor": x.commission_minor,
            "fee_refund_minor": x.fee_refund_minor, "clawback_minor": x.clawback_minor,
            "cost_minor": r.cost_minor, "roi_bps": r.roi_bps, "status": r.status,
        }));
    }
    Ok(Json(out))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReportQuery {
    #[serde(default)]
    format: Option<String>,
}

/// `GET /api/v1/slots/{id}/report[?format=csv]`: fee, GMV, valid GMV, returns, commission,
/// refund, claw-back, ROI.
#[utoipa::path(
    get,
    path = "/api/v1/slots/{id}/report",
    tag = "money",
    summary = "A slot's report",
    params(("id" = i64, Path, description = "Slot id", example = 1), ReportQuery),
    responses((status = 200, description = "The report (JSON, or CSV with `format=csv`)", content((Object = "application/json"), (String = "text/csv")))),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn slot_report(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(q): Query<ReportQuery>,
) -> ApiResult<Response> {
    let me = caller.require()?;
    let s = state
        .store
        .slot(id)
        .await?
        .ok_or_else(|| ApiError::not_found("slot"))?;
    may_see_slot(&state, me, &s)
        .await
        .map_err(|_| ApiError::not_found("slot"))?;
    let r = state
        .shop
        .books()
        .slot_report(id, UnixMillis::now())
        .await
        .map_err(hawker_shop::ShopError::from)?;
    let x = &r.result;
    if q.format.as_deref() == Some("csv") {
        let out = format!(
            "slot,show,brand,product,currency,fee_minor,orders,gmv_minor,returned_minor,return_rate_bps,valid_gmv_minor,commission_minor,fee_refund_minor,clawback_minor,cost_minor,roi_bps,status\n\
             {},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            id, s.slot.show.0, s.slot.brand, s.slot.product, s.slot.currency, s.slot.fee_minor,
            r.orders, x.gmv_minor, x.returned_minor, x.return_rate_bps, x.valid_gmv_minor,
            x.commission_minor, x.fee_refund_minor, x.clawback_minor, r.cost_minor, r.roi_bps,
            r.status
        );
        return Ok(csv_response(&format!("slot-{id}.csv"), out));
    }
    Ok(Json(serde_json::json!({
        "slot": slot_json(&r.slot), "orders": r.orders, "pinned_ms": r.pinned_ms,
        "gmv_minor": x.gmv_minor, "returned_minor": x.returned_minor,
        "return_rate_bps": x.return_rate_bps, "valid_gmv_minor": x.valid_gmv_minor,
        "commission_minor": x.commission_minor, "fee_refund_minor": x.fee_refund_minor,
        "clawback_minor": x.clawback_minor, "cost_minor": r.cost_minor, "roi_bps": r.roi_bps,
        "status": r.status,
    }))
    .into_response())
}

/// `POST /api/v1/admin/slots/{id}/fee-received`: ops recorded the brand's transfer.
#[utoipa::path(
    post,
    path = "/api/v1/admin/slots/{id}/fee-received",
    tag = "money",
    summary = "Record a slot's fee as received (admins)",
    params(("id" = i64, Path, description = "Slot id", example = 1)),
    responses((status = 204, description = "Recorded")),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn slot_fee_received(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    caller.require_role(|r| r == Role::PlatformAdmin, "slot fees")?;
    state
        .shop
        .books()
        .slot_fee_received(id, UnixMillis::now())
        .await
        .map_err(hawker_shop::ShopError::from)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/admin/slots/{id}/close`: settles the slot (refund for a missed guarantee,
/// claw-back above the return cap) and returns its final report.
#[utoipa::path(
    post,
    path = "/api/v1/admin/slots/{id}/close",
    tag = "money",
    summary = "Settle a slot (admins)",
    params(("id" = i64, Path, description = "Slot id", example = 1)),
    responses((status = 200, description = "The final figures", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn close_slot(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<serde_json::Value>> {
    caller.require_role(|r| r == Role::PlatformAdmin, "closing slots")?;
    let r = state
        .shop
        .books()
        .close_slot(id, UnixMillis::now())
        .await
        .map_err(hawker_shop::ShopError::from)?;
    Ok(Json(serde_json::json!({
        "slot": id, "valid_gmv_minor": r.result.valid_gmv_minor,
        "fee_refund_minor": r.result.fee_refund_minor, "clawback_minor": r.result.clawback_minor,
    })))
}
