//! Flash sales and coupons over HTTP: creating and starting a sale, the hot buy path (also
//! dispatched without the router, see `crate::Edge`), a channel's sales; seller and platform
//! coupons and their campaigns.

use super::channels::find;
use super::common::{idempotency, IdempotencyKey};
use crate::auth::Caller;
use crate::json::ApiJson;
use crate::problem::{ApiError, ApiResult};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use hawker_commerce::coupon::{CouponScope, Discount};
use hawker_domain::{Currency, Money, UnixMillis};
use hawker_shop::flash::BuyResult;
use hawker_shop::NewSaleRequest;
use hawker_shop::{CouponAction, NewCoupon};
use hawker_storage::shop::CouponRow;
use hawker_storage::shop::FlashSale;
use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------------------- flash sales

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewSaleBody {
    channel: String,
    sku: i64,
    price_minor: i64,
    #[serde(default)]
    reference_minor: Option<i64>,
    stock: i64,
    per_buyer_limit: i64,
    duration_s: i64,
    #[serde(default)]
    countdown_s: Option<i64>,
    /// A scheduled opening, Unix milliseconds.
    #[serde(default)]
    starts_at: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct SaleView {
    id: i64,
    channel: i64,
    sku: i64,
    price_minor: i64,
    price: String,
    reference_price: Option<String>,
    total_stock: i64,
    remaining: Option<i64>,
    per_buyer_limit: i64,
    starts_at: Option<i64>,
    ends_at: Option<i64>,
}

async fn sale_view(state: &AppState, s: &FlashSale) -> ApiResult<SaleView> {
    let remaining = state.shop.engine().remaining(s.id).await;
    Ok(SaleView {
        id: s.id,
        channel: s.channel.0,
        sku: s.sku,
        price_minor: s.price_minor,
        price: Money::new(s.price_minor, s.currency).to_string(),
        reference_price: s
            .reference_minor
            .map(|r| Money::new(r, s.currency).to_string()),
        total_stock: s.total_stock,
        remaining,
        per_buyer_limit: s.per_buyer_limit,
        starts_at: s.starts_at.map(|t| t.0),
        ends_at: s.ends_at.map(|t| t.0),
    })
}

#[utoipa::path(
    post,
    path = "/api/v1/flash-sales",
    tag = "shop",
    summary = "Create a flash sale",
    request_body = NewSaleBody,
    responses((status = 201, description = "Created", body = SaleView)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn create_sale(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<NewSaleBody>,
) -> ApiResult<(StatusCode, Json<SaleView>)> {
    let me = caller.require()?;
    let c = find(&state, &b.channel).await?;
    let show = state.store.live_show_of_channel(c.id).await?.map(|s| s.id);
    let sale = state
        .shop
        .create_sale(
            me,
            NewSaleRequest {
                channel: c.id,
                show,
                sku: b.sku,
                price_minor: b.price_minor,
                reference_minor: b.reference_minor,
                stock: b.stock,
                per_buyer_limit: b.per_buyer_limit,
                duration_s: b.duration_s,
                countdown_s: b.countdown_s,
                starts_at: b.starts_at.map(UnixMillis),
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(sale_view(&state, &sale).await?)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StartBody {
    countdown_s: i64,
}

#[utoipa::path(
    post,
    path = "/api/v1/flash-sales/{id}/start",
    tag = "shop",
    summary = "Start a flash sale after a countdown",
    params(("id" = i64, Path, description = "Flash sale id", example = 1)),
    request_body = StartBody,
    responses((status = 200, description = "The sale", body = SaleView)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn start_sale(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<StartBody>,
) -> ApiResult<Json<SaleView>> {
    let me = caller.require()?;
    let s = state.shop.start_sale(me, id, b.countdown_s).await?;
    Ok(Json(sale_view(&state, &s).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/flash-sales/{id}",
    tag = "shop",
    summary = "One flash sale",
    params(("id" = i64, Path, description = "Flash sale id", example = 1)),
    responses((status = 200, description = "The sale", body = SaleView))
)]
pub(crate) async fn get_sale(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<Json<SaleView>> {
    let s = state
        .store
        .flash_sale(id)
        .await?
        .ok_or_else(|| ApiError::not_found("flash sale"))?;
    Ok(Json(sale_view(&state, &s).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BuyBody {
    #[serde(default = "super::common::one")]
    quantity: i64,
    #[serde(default)]
    idempotency_key: Option<String>,
    /// As sent: checked without building a tree (see `Shop::buy`).
    #[schema(value_type = Object)]
    address: Box<serde_json::value::RawValue>,
}

/// A buy that reserved stock: the order to pay before `expires_at`.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct BuyReserved {
    order: i64,
    /// Always `created`.
    state: &'static str,
    expires_at: i64,
}

/// The same buy again (same idempotency key): the order it made.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct BuyRepeat {
    order: i64,
    repeat: bool,
}

/// The buy route's template, as the router knows it.
pub(crate) const BUY_ROUTE: &str = "/api/v1/flash-sales/{id}/orders";

/// The sale a request buys from, if it is `POST /api/v1/flash-sales/{id}/orders` with a
/// numeric id: what `crate::Edge` dispatches without the router.
pub(crate) fn flash_buy_target(req: &axum::extract::Request) -> Option<i64> {
    if req.method() != axum::http::Method::POST {
        return None;
    }
    req.uri()
        .path()
        .strip_prefix("/api/v1/flash-sales/")?
        .strip_suffix("/orders")?
        .parse()
        .ok()
}

/// [`buy`] with its extractors run by hand, in the order the router runs them.
pub(crate) async fn buy_request(
    state: AppState,
    sale: i64,
    req: axum::extract::Request,
) -> Response {
    use axum::extract::{FromRequest, FromRequestParts};
    let (mut parts, body) = req.into_parts();
    let caller = match Caller::from_request_parts(&mut parts, &state).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let Ok(key) = IdempotencyKey::from_request_parts(&mut parts, &state).await;
    let body = match ApiJson::<BuyBody>::from_request(
        axum::extract::Request::from_parts(parts, body),
        &state,
    )
    .await
    {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    buy(State(state), caller, Path(sale), key, body)
        .await
        .into_response()
}

/// The hot path: one attempt to buy from a flash sale. 201 with the order once it is durable.
#[utoipa::path(
    post,
    path = "/api/v1/flash-sales/{id}/orders",
    tag = "shop",
    summary = "Buy from a flash sale",
    params(("id" = i64, Path, description = "Flash sale id", example = 1), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry answer the first attempt's result")),
    request_body = BuyBody,
    responses((status = 201, description = "Reserved: an order to pay before it expires", body = BuyReserved), (status = 200, description = "The same request again: the order it made", body = BuyRepeat)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn buy(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    key_header: IdempotencyKey,
    ApiJson(b): ApiJson<BuyBody>,
) -> ApiResult<Response> {
    let me = caller.require()?;
    if state.limits.buys.check_key(&me.id.0).is_err() {
        metrics::counter!("hawker_rate_limited_total", "limit" => "buy").increment(1);
        return Err(ApiError::rate_limited());
    }
    let key = idempotency(key_header, b.idempotency_key);
    let r = state.shop.buy(me, id, b.quantity, key, &b.address).await?;
    // Typed answers: serialised straight to bytes, no JSON tree on the hot path.
    Ok(match r {
        BuyResult::Reserved { order, expires_at } => (
            StatusCode::CREATED,
            Json(BuyReserved {
                order,
                state: "created",
                expires_at: expires_at.0,
            }),
        )
            .into_response(),
        BuyResult::Repeat { order } => (
            StatusCode::OK,
            Json(BuyRepeat {
                order,
                repeat: true,
            }),
        )
            .into_response(),
        _ => return Err(ApiError::internal()),
    })
}

// ---------------------------------------------------------------------------- coupons

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewCouponBody {
    code: String,
    #[schema(value_type = Object)]
    discount: Discount,
    #[schema(value_type = String)]
    currency: Currency,
    #[serde(default)]
    min_spend_minor: i64,
    #[serde(default = "super::common::one")]
    per_user_limit: i64,
    budget_minor: i64,
    #[schema(value_type = String)]
    scope: CouponScope,
    /// For stream coupons: the channel whose shows they work in.
    #[serde(default)]
    channel: Option<String>,
    valid_from: i64,
    valid_to: i64,
}

async fn create_coupon_for(
    state: &AppState,
    caller: Caller,
    org: Option<i64>,
    b: NewCouponBody,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let me = caller.require()?;
    let channel = match &b.channel {
        Some(slug) => Some(find(state, slug).await?.id.0),
        None => None,
    };
    let c = state
        .shop
        .create_coupon(
            me,
            org,
            NewCoupon {
                code: b.code,
                discount: b.discount,
                currency: b.currency,
                min_spend_minor: b.min_spend_minor,
                per_user_limit: b.per_user_limit,
                budget_minor: b.budget_minor,
                scope: b.scope,
                channel,
                valid_from_ms: b.valid_from,
                valid_to_ms: b.valid_to,
            },
            UnixMillis::now(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(coupon_json(&c, None))))
}

/// A coupon as its issuer sees it.
fn coupon_json(c: &CouponRow, redemptions: Option<i64>) -> serde_json::Value {
    let k = &c.coupon;
    let now = UnixMillis::now().0;
    let status = if now >= k.valid_to_ms {
        "ended"
    } else if k.paused {
        "paused"
    } else if now < k.valid_from_ms {
        "scheduled"
    } else if k.spent_minor >= k.budget_minor {
        "spent"
    } else {
        "active"
    };
    serde_json::json!({
        "id": c.id, "code": k.code, "discount": k.discount, "currency": k.currency,
        "min_spend_minor": k.min_spend_minor, "per_user_limit": k.per_user_limit,
        "budget_minor": k.budget_minor, "spent_minor": k.spent_minor, "scope": k.scope,
        "channel": k.channel, "valid_from": k.valid_from_ms, "valid_to": k.valid_to_ms,
        "paused": k.paused, "status": status, "redemptions": redemptions,
    })
}

#[utoipa::path(
    post,
    path = "/api/v1/orgs/{id}/coupons",
    tag = "shop",
    summary = "Create a seller coupon",
    params(("id" = i64, Path, description = "Organisation id", example = 1)),
    request_body = NewCouponBody,
    responses((status = 201, description = "The coupon", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn create_org_coupon(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<i64>,
    ApiJson(b): ApiJson<NewCouponBody>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    create_coupon_for(&state, caller, Some(org), b).await
}

#[utoipa::path(
    post,
    path = "/api/v1/coupons",
    tag = "shop",
    summary = "Create a platform coupon (admins)",
    request_body = NewCouponBody,
    responses((status = 201, description = "The coupon", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn create_platform_coupon(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<NewCouponBody>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    create_coupon_for(&state, caller, None, b).await
}

/// `GET /api/v1/orgs/{id}/coupons`: the organisation's campaigns, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/orgs/{id}/coupons",
    tag = "shop",
    summary = "An organisation's coupons",
    params(("id" = i64, Path, description = "Organisation id", example = 1)),
    responses((status = 200, description = "`{coupons}`", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn org_coupons(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<i64>,
) -> ApiResult<Json<serde_json::Value>> {
    let me = caller.require()?;
    let list = state.shop.coupons(me, org).await?;
    Ok(Json(serde_json::json!({
        "coupons": list.iter().map(|l| coupon_json(&l.row, Some(l.redemptions))).collect::<Vec<_>>()
    })))
}

/// `POST /api/v1/orgs/{id}/coupons/{coupon}/{pause|resume|end}`
#[utoipa::path(
    post,
    path = "/api/v1/orgs/{id}/coupons/{coupon}/{action}",
    tag = "shop",
    summary = "Pause, resume or end a coupon",
    params(("id" = i64, Path, description = "Organisation id", example = 1), ("coupon" = i64, Path, description = "Coupon id", example = 1), ("action" = String, Path, description = "`pause`, `resume` or `end`")),
    responses((status = 200, description = "The coupon", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn change_coupon(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, coupon, action)): Path<(i64, i64, String)>,
) -> ApiResult<Json<serde_json::Value>> {
    let me = caller.require()?;
    let action = match action.as_str() {
        "pause" => CouponAction::Pause,
        "resume" => CouponAction::Resume,
        "end" => CouponAction::End,
        _ => return Err(ApiError::not_found("coupon action")),
    };
    let c = state
        .shop
        .change_coupon(me, org, coupon, action, UnixMillis::now())
        .await?;
    Ok(Json(coupon_json(&c, None)))
}

#[utoipa::path(
    get,
    path = "/api/v1/channels/{slug}/sales",
    tag = "shop",
    summary = "A channel's flash sales",
    params(("slug" = String, Path, description = "The channel's slug", example = "li-wei-farm")),
    responses((status = 200, description = "Sales", body = Vec<SaleView>))
)]
pub(crate) async fn channel_sales(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> ApiResult<Json<Vec<SaleView>>> {
    let c = find(&state, &slug).await?;
    let mut out = Vec::new();
    for s in state.store.flash_sales_of_channel(c.id, 20).await? {
        out.push(sale_view(&state, &s).await?);
    }
    Ok(Json(out))
}
