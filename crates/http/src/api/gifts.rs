//! Coins and gifts over HTTP: the gift catalogue, the wallet, top-ups, sending and refunding.

use super::common::invalid;
use crate::auth::Caller;
use crate::json::ApiJson;
use crate::problem::{ApiError, ApiResult};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use hawker_domain::{Role, UnixMillis};
use serde::Deserialize;

/// `GET /api/v1/gift-kinds`: the catalogue (price in coins, animation name) and the coin price.
#[utoipa::path(
    get,
    path = "/api/v1/gift-kinds",
    tag = "money",
    summary = "The gift catalogue and the coin price",
    responses((status = 200, description = "`{kinds, coin_price_minor, currency}`", body = Object))
)]
pub(crate) async fn gift_kinds(
    State(state): State<AppState>,
) -> ApiResult<Json<serde_json::Value>> {
    let g = &state.shop.books().config().gifts;
    let kinds: Vec<_> = state
        .store
        .gift_kinds()
        .await?
        .iter()
        .map(|k| serde_json::json!({ "id": k.id, "name": k.name, "animation": k.animation, "coins": k.coins }))
        .collect();
    Ok(Json(serde_json::json!({
        "kinds": kinds, "coin_price_minor": g.coin_price_minor, "currency": g.currency,
    })))
}

/// `GET /api/v1/me/wallet`: coins, from the ledger.
#[utoipa::path(
    get,
    path = "/api/v1/me/wallet",
    tag = "money",
    summary = "The caller's coins",
    responses((status = 200, description = "`{coins}`", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn my_wallet(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<serde_json::Value>> {
    let me = caller.require()?;
    let coins = state.shop.books().coins(me.id).await;
    Ok(Json(serde_json::json!({ "coins": coins })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TopUpBody {
    coins: i64,
    card: String,
}

/// `POST /api/v1/me/coins`: buys coins through the payment provider; 202 until it confirms.
#[utoipa::path(
    post,
    path = "/api/v1/me/coins",
    tag = "money",
    summary = "Buy coins",
    request_body = TopUpBody,
    responses((status = 202, description = "Accepted until the provider confirms", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn top_up(
    State(state): State<AppState>,
    caller: Caller,
    origin: super::common::Origin,
    ApiJson(b): ApiJson<TopUpBody>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let me = caller.require()?;
    // Minors never buy coins; unverified accounts only where the law profile allows.
    let g = &state.guard;
    g.may_spend_coins(me.id, UnixMillis::now()).await?;
    let card: String = b.card.chars().filter(char::is_ascii_digit).collect();
    if g.blacklisted(&[(hawker_trust::risk::LinkKind::PaymentInstrument, &card)])
        .await?
    {
        return Err(hawker_shop::guard::TrustRefusal::Blacklisted.into());
    }
    let t = state.shop.top_up(me, b.coins, &b.card).await?;
    origin.remember(
        &state,
        me.id,
        &[(hawker_trust::risk::LinkKind::PaymentInstrument, card)],
    );
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({
            "topup": t.id, "coins": t.coins, "amount_minor": t.amount_minor,
            "currency": t.currency, "state": t.state,
        })),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GiftBody {
    kind: i64,
    #[serde(default = "super::common::one")]
    count: i64,
}

/// `POST /api/v1/channels/{slug}/gifts`: sends a gift in the live room.
#[utoipa::path(
    post,
    path = "/api/v1/channels/{slug}/gifts",
    tag = "money",
    summary = "Send a gift in the live room",
    params(("slug" = String, Path, description = "The channel's slug", example = "li-wei-farm")),
    request_body = GiftBody,
    responses((status = 201, description = "Sent", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn send_gift(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    ApiJson(b): ApiJson<GiftBody>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let me = caller.require()?;
    if !(1..=99).contains(&b.count) {
        return Err(invalid("count: 1 to 99"));
    }
    let c = super::channels::find(&state, &slug).await?;
    if c.owner == me.id {
        return Err(ApiError::forbidden(
            "a host cannot send gifts to their own show",
        ));
    }
    let kind = state
        .store
        .gift_kind(b.kind)
        .await?
        .ok_or_else(|| ApiError::not_found("gift kind"))?;
    let show = state
        .store
        .live_show_of_channel(c.id)
        .await?
        .ok_or_else(|| ApiError::conflict("not_live", "gifts are sent during a live show"))?;
    // Minors never gift; a host under a feature limit receives none.
    let g = &state.guard;
    g.may_spend_coins(me.id, UnixMillis::now()).await?;
    g.may_receive_gifts(c.owner, UnixMillis::now()).await?;
    let books = state.shop.books();
    let row = books
        .send_gift(
            me.id,
            c.owner,
            c.id.0,
            Some(show.id.0),
            kind.id,
            kind.coins * b.count,
            UnixMillis::now(),
        )
        .await
        .map_err(hawker_shop::ShopError::from)?;
    let detail = if b.count > 1 {
        format!("{} ×{}", kind.name, b.count)
    } else {
        kind.name.clone()
    };
    let _ = state
        .rooms
        .event(&c, "gift", me.display_name.as_str(), &detail)
        .await;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({
            "gift": row.id, "kind": kind.name, "animation": kind.animation, "coins": row.gift.coins,
            "wallet_coins": books.coins(me.id).await,
        })),
    ))
}

/// `POST /api/v1/admin/gifts/{id}/refund`: takes back a gift still pending (ops).
#[utoipa::path(
    post,
    path = "/api/v1/admin/gifts/{id}/refund",
    tag = "money",
    summary = "Refund a pending gift (admins)",
    params(("id" = i64, Path, description = "Gift id", example = 1)),
    responses((status = 200, description = "`{gift, state}`", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn refund_gift(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<serde_json::Value>> {
    caller.require_role(|r| r == Role::PlatformAdmin, "gift refunds")?;
    let row = state
        .shop
        .books()
        .refund_gift(id, UnixMillis::now())
        .await
        .map_err(hawker_shop::ShopError::from)?;
    Ok(Json(
        serde_json::json!({ "gift": row.id, "state": row.state }),
    ))
}
