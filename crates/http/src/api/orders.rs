//! Checkout and orders over HTTP: placing an order (live, from a replay or a cart), reading
//! orders, paying, the payment provider's webhook, the buyer's and the seller's actions, and an
//! organisation's order list (JSON or CSV).

use super::catalog::SellerView;
use super::channels::find;
use super::common::{csv_field, csv_response, idempotency, staff, IdempotencyKey};
use crate::auth::Caller;
use crate::json::ApiJson;
use crate::problem::{ApiError, ApiResult};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hawker_commerce::catalog::ReturnClass;
use hawker_commerce::order::OrderState;
use hawker_domain::{Currency, Money, ShowId, UnixMillis};
use hawker_shop::{BuyerAction, CheckoutItem, CheckoutRequest, MerchantAction};
use hawker_storage::shop::{Order, OrderFilter};
use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------------------- checkout and orders

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ItemBody {
    sku: i64,
    quantity: i64,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckoutBody {
    items: Vec<ItemBody>,
    #[serde(default)]
    coupon: Option<String>,
    /// As sent: checked without building a tree (see `Shop::checkout`).
    #[schema(value_type = Object)]
    address: Box<serde_json::value::RawValue>,
    #[serde(default)]
    idempotency_key: Option<String>,
    /// The channel whose show the buyer is in.
    #[serde(default)]
    channel: Option<String>,
    /// The show's replay the buyer is watching (a shoppable replay): the order is the show's.
    #[serde(default)]
    replay_of: Option<i64>,
    #[serde(default)]
    acknowledge_exceptions: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct OrderView {
    id: i64,
    #[schema(value_type = String)]
    state: OrderState,
    seller: SellerView,
    #[schema(value_type = String)]
    currency: Currency,
    subtotal: String,
    discount: String,
    total: String,
    total_minor: i64,
    items: Vec<ItemView>,
    address: serde_json::Value,
    created_at: i64,
    expires_at: Option<i64>,
    carrier: Option<String>,
    tracking: Option<String>,
    delivered_at: Option<i64>,
    return_reason: Option<String>,
    flash_sale: Option<i64>,
    show: Option<i64>,
    payment: Option<String>,
    /// While delivered: until when a defect may be claimed (the law profile's days; perishables
    /// are the shortest).
    defect_claim_deadline: Option<i64>,
    /// Who did what, when.
    history: Vec<EventView>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ItemView {
    sku: i64,
    product: i64,
    title: String,
    quantity: i64,
    unit_price: String,
    #[schema(value_type = String)]
    return_class: ReturnClass,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct EventView {
    #[schema(value_type = Option<String>)]
    from: Option<OrderState>,
    #[schema(value_type = String)]
    to: OrderState,
    #[schema(value_type = String)]
    by: hawker_commerce::order::ActorKind,
    note: String,
    at: i64,
}

async fn order_view(state: &AppState, o: &Order) -> ApiResult<OrderView> {
    let m = |v| Money::new(v, o.currency).to_string();
    let org = state
        .store
        .org(o.org)
        .await?
        .ok_or_else(|| ApiError::not_found("seller"))?;
    let raw_items = state.store.order_items(o.id).await?;
    let defect_claim_deadline = state.shop.defect_claim_deadline(o, &raw_items).map(|t| t.0);
    let items = raw_items
        .into_iter()
        .map(|i| ItemView {
            sku: i.sku,
            product: i.product,
            title: i.title,
            quantity: i.quantity,
            unit_price: m(i.unit_price_minor),
            return_class: i.return_class,
        })
        .collect();
    let history = state
        .store
        .order_events(o.id)
        .await?
        .into_iter()
        .map(|e| EventView {
            from: e.from,
            to: e.to,
            by: e.actor_kind,
            note: e.note,
            at: e.at.0,
        })
        .collect();
    let payment = state
        .store
        .payments_of_order(o.id)
        .await?
        .last()
        .map(|p| p.state.clone());
    Ok(OrderView {
        id: o.id,
        state: o.state,
        seller: SellerView {
            org: org.id,
            name: org.name,
        },
        currency: o.currency,
        subtotal: m(o.subtotal_minor),
        discount: m(o.discount_minor),
        total: m(o.total_minor),
        total_minor: o.total_minor,
        items,
        address: serde_json::from_str(&o.address).unwrap_or(serde_json::Value::Null),
        created_at: o.created_at.0,
        expires_at: o.expires_at.map(|t| t.0),
        carrier: o.carrier.clone(),
        tracking: o.tracking.clone(),
        delivered_at: o.delivered_at.map(|t| t.0),
        return_reason: o.return_reason.clone(),
        flash_sale: o.flash_sale,
        show: o.show.map(|s| s.0),
        payment,
        defect_claim_deadline,
        history,
    })
}

#[utoipa::path(
    post,
    path = "/api/v1/orders",
    tag = "shop",
    summary = "Check out",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry answer the first attempt's result")),
    request_body = CheckoutBody,
    responses((status = 201, description = "The order", body = OrderView)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn checkout(
    State(state): State<AppState>,
    caller: Caller,
    origin: super::common::Origin,
    key_header: IdempotencyKey,
    ApiJson(b): ApiJson<CheckoutBody>,
) -> ApiResult<(StatusCode, Json<OrderView>)> {
    let me = caller.require()?;
    let (channel, show) = match (&b.channel, b.replay_of) {
        // From a replay: attributed to that show, at today's price and stock (the paid slot's
        // pin window has passed, so no slot takes it).
        (_, Some(id)) => {
            let s = state
                .store
                .show(ShowId(id))
                .await?
                .ok_or_else(|| ApiError::not_found("show"))?;
            (Some(s.channel), Some(s.id))
        }
        (Some(slug), None) => {
            let c = find(&state, slug).await?;
            let show = state.store.live_show_of_channel(c.id).await?.map(|s| s.id);
            (Some(c.id), show)
        }
        (None, None) => (None, None),
    };
    let key = idempotency(key_header, b.idempotency_key);
    let o = state
        .shop
        .checkout(
            me,
            CheckoutRequest {
                items: b
                    .items
                    .iter()
                    .map(|i| CheckoutItem {
                        sku: i.sku,
                        quantity: i.quantity,
                    })
                    .collect(),
                coupon: b.coupon,
                address: b.address,
                idempotency_key: key,
                channel,
                show,
                acknowledge_exceptions: b.acknowledge_exceptions,
            },
        )
        .await?;
    // Where the buyer ordered from and ships to link accounts for the risk engine.
    origin.remember(
        &state,
        me.id,
        &super::common::address_key(&o.address)
            .map(|a| vec![(hawker_trust::risk::LinkKind::ShippingAddress, a)])
            .unwrap_or_default(),
    );
    Ok((StatusCode::CREATED, Json(order_view(&state, &o).await?)))
}

/// The buyer, or staff of the seller, may read an order; to anyone else it does not exist.
#[utoipa::path(
    get,
    path = "/api/v1/orders/{id}",
    tag = "shop",
    summary = "One order (buyer or seller staff)",
    params(("id" = i64, Path, description = "Order id", example = 1)),
    responses((status = 200, description = "The order", body = OrderView)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn get_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<OrderView>> {
    let me = caller.require()?;
    let o = state
        .store
        .order(id)
        .await?
        .ok_or_else(|| ApiError::not_found("order"))?;
    if o.buyer != me.id && state.shop.staff(me, o.org, |_| true).await.is_err() {
        return Err(ApiError::not_found("order"));
    }
    Ok(Json(order_view(&state, &o).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/me/orders",
    tag = "shop",
    summary = "The caller's orders",
    responses((status = 200, description = "Orders, newest first", body = Vec<OrderView>)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn my_orders(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<OrderView>>> {
    let me = caller.require()?;
    let mut out = Vec::new();
    for o in state.store.orders_of_buyer(me.id, 100).await? {
        out.push(order_view(&state, &o).await?);
    }
    Ok(Json(out))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PayBody {
    card: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/orders/{id}/pay",
    tag = "shop",
    summary = "Pay an order",
    params(("id" = i64, Path, description = "Order id", example = 1)),
    request_body = PayBody,
    responses((status = 200, description = "`{payment, state}`", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn pay(
    State(state): State<AppState>,
    caller: Caller,
    origin: super::common::Origin,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<PayBody>,
) -> ApiResult<Json<serde_json::Value>> {
    let me = caller.require()?;
    let shop = &state.shop;
    let p = shop.pay(me, id, &b.card).await?;
    // The card, the address and where the buyer pays from link accounts for the risk engine;
    // a card everyone uses (a test card, a pooled wallet token) links nobody.
    let mut extra = Vec::new();
    if !shop.shared_instrument(&b.card) {
        let card_digits: String = b.card.chars().filter(char::is_ascii_digit).collect();
        extra.push((hawker_trust::risk::LinkKind::PaymentInstrument, card_digits));
    }
    if let Some(o) = state.store.order(id).await? {
        if let Some(a) = super::common::address_key(&o.address) {
            extra.push((hawker_trust::risk::LinkKind::ShippingAddress, a));
        }
    }
    origin.remember(&state, me.id, &extra);
    Ok(Json(
        serde_json::json!({ "payment": p.provider_ref, "state": p.state }),
    ))
}

#[utoipa::path(
    post,
    path = "/api/v1/payments/sandbox/webhook",
    tag = "shop",
    summary = "The sandbox payment provider's webhook (signed)",
    params(("hawker-signature" = Option<String>, Header, description = "The provider's signature of the body")),
    request_body(content = Object, description = "The provider's event, as it signed it"),
    responses((status = 204, description = "Taken"))
)]
pub(crate) async fn webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let sig = headers
        .get("hawker-signature")
        .and_then(|v| v.to_str().ok());
    state.shop.webhook(sig, &body).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum BuyerActionBody {
    Cancel,
    ConfirmDelivery,
    RequestReturn {
        #[serde(default)]
        reason: String,
    },
}

#[utoipa::path(
    post,
    path = "/api/v1/orders/{id}/actions",
    tag = "shop",
    summary = "The buyer's actions on an order",
    params(("id" = i64, Path, description = "Order id", example = 1)),
    request_body = BuyerActionBody,
    responses((status = 200, description = "The order", body = OrderView)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn buyer_action(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<BuyerActionBody>,
) -> ApiResult<Json<OrderView>> {
    let me = caller.require()?;
    let action = match b {
        BuyerActionBody::Cancel => BuyerAction::Cancel,
        BuyerActionBody::ConfirmDelivery => BuyerAction::ConfirmDelivery,
        BuyerActionBody::RequestReturn { reason } => BuyerAction::RequestReturn { reason },
    };
    let o = state.shop.buyer(me, id, action).await?;
    Ok(Json(order_view(&state, &o).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum MerchantActionBody {
    Ship {
        carrier: String,
        tracking: String,
    },
    Deliver,
    Cancel {
        #[serde(default)]
        reason: String,
    },
    ApproveReturn,
    RejectReturn {
        #[serde(default)]
        reason: String,
    },
    ReceiveReturn,
    Refund,
}

#[utoipa::path(
    post,
    path = "/api/v1/orders/{id}/fulfilment",
    tag = "shop",
    summary = "The seller's fulfilment actions on an order",
    params(("id" = i64, Path, description = "Order id", example = 1)),
    request_body = MerchantActionBody,
    responses((status = 200, description = "The order", body = OrderView)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn merchant_action(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<MerchantActionBody>,
) -> ApiResult<Json<OrderView>> {
    let me = caller.require()?;
    let action = match b {
        MerchantActionBody::Ship { carrier, tracking } => {
            MerchantAction::Ship { carrier, tracking }
        }
        MerchantActionBody::Deliver => MerchantAction::Deliver,
        MerchantActionBody::Cancel { reason } => MerchantAction::Cancel { reason },
        MerchantActionBody::ApproveReturn => MerchantAction::ApproveReturn,
        MerchantActionBody::RejectReturn { reason } => MerchantAction::RejectReturn { reason },
        MerchantActionBody::ReceiveReturn => MerchantAction::ReceiveReturn,
        MerchantActionBody::Refund => MerchantAction::Refund,
    };
    let o = state.shop.merchant(me, id, action).await?;
    Ok(Json(order_view(&state, &o).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct OrderQuery {
    state: Option<String>,
    show: Option<i64>,
    from: Option<i64>,
    to: Option<i64>,
    /// An order id or part of the buyer's e-mail address.
    q: Option<String>,
    #[serde(default = "hundred")]
    limit: i64,
    #[serde(default)]
    offset: i64,
    /// `csv` for a spreadsheet.
    format: Option<String>,
}

fn hundred() -> i64 {
    100
}

#[utoipa::path(
    get,
    path = "/api/v1/orgs/{id}/orders",
    tag = "shop",
    summary = "An organisation's orders",
    params(("id" = i64, Path, description = "Organisation id", example = 1), OrderQuery),
    responses((status = 200, description = "Orders (JSON, or CSV with `format=csv`)", content((Vec<OrderView> = "application/json"), (String = "text/csv")))),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn org_orders(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<i64>,
    Query(q): Query<OrderQuery>,
) -> ApiResult<Response> {
    let me = caller.require()?;
    staff(&state, me, org, |r| r.fulfils() || r.manages_catalog()).await?;
    let filter = OrderFilter {
        state: match &q.state {
            Some(s) => Some(
                OrderState::parse(s)
                    .ok_or_else(|| ApiError::bad_request(format!("unknown state {s:?}")))?,
            ),
            None => None,
        },
        show: q.show.map(ShowId),
        from: q.from.map(UnixMillis),
        to: q.to.map(UnixMillis),
        search: q.q.clone(),
    };
    let csv = q.format.as_deref() == Some("csv");
    let limit = if csv { 100_000 } else { q.limit.clamp(1, 500) };
    let orders = state
        .store
        .orders_of_org(org, &filter, limit, q.offset.max(0))
        .await?;
    if csv {
        let mut out = String::from("order,created_at,state,buyer,items,currency,subtotal_minor,discount_minor,total_minor,show,flash_sale,carrier,tracking\n");
        for o in &orders {
            let items = state
                .store
                .order_items(o.id)
                .await?
                .iter()
                .map(|i| format!("{} x{}", i.title, i.quantity))
                .collect::<Vec<_>>()
                .join("; ");
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
                o.id,
                hawker_media::hls::rfc3339_millis(o.created_at.0),
                o.state.as_str(),
                o.buyer,
                csv_field(&items),
                o.currency,
                o.subtotal_minor,
                o.discount_minor,
                o.total_minor,
                o.show.map(|s| s.0.to_string()).unwrap_or_default(),
                o.flash_sale.map(|s| s.to_string()).unwrap_or_default(),
                csv_field(o.carrier.as_deref().unwrap_or("")),
                csv_field(o.tracking.as_deref().unwrap_or("")),
            ));
        }
        return Ok(csv_response("orders.csv", out));
    }
    let mut out = Vec::new();
    for o in &orders {
        out.push(order_view(&state, o).await?);
    }
    Ok(Json(out).into_response())
}
