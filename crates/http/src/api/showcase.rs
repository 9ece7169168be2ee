//! The showcase and its pins over HTTP: a show's shelf with what each card discloses, pins,
//! and one entry's disclosure. The rules (who may, the credential gate, the host's statement,
//! three pins at most, the paid label) are the shop's (`service/showcase.rs`); here bodies are
//! parsed and the shop's cards become JSON.

use super::catalog::{product_view, ProductView};
use crate::auth::Caller;
use crate::json::ApiJson;
use crate::problem::ApiResult;
use crate::shop_events::pinned_product;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use hawker_commerce::disclosure::CardDisclosure;
use hawker_domain::ShowId;
use hawker_room::protocol::PinnedProduct;
use hawker_shop::{PinnedCard, ShelfEntry};
use hawker_storage::disclosure::EntryChange;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ShelfBody {
    /// Product ids, or `{product, sponsored?, host_used?}` with the entry's disclosure.
    products: Vec<ShelfItem>,
}

#[utoipa::path(
    put,
    path = "/api/v1/shows/{id}/shelf",
    tag = "shop",
    summary = "Set a show's showcase",
    params(("id" = i64, Path, description = "Show id", example = 1)),
    request_body = ShelfBody,
    responses((status = 204, description = "Set")),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn set_shelf(
    State(state): State<AppState>,
    caller: Caller,
    Path(show): Path<i64>,
    ApiJson(b): ApiJson<ShelfBody>,
) -> ApiResult<StatusCode> {
    let me = caller.require()?;
    let items: Vec<ShelfEntry> = b.products.iter().map(ShelfItem::entry).collect();
    state.shop.set_shelf(me, ShowId(show), &items).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = "/api/v1/shows/{id}/shelf",
    tag = "shop",
    summary = "A show's showcase, each card with its disclosure",
    params(("id" = i64, Path, description = "Show id", example = 1)),
    responses((status = 200, description = "Products with their disclosure", body = Vec<Object>))
)]
pub(crate) async fn shelf(
    State(state): State<AppState>,
    Path(show): Path<i64>,
) -> ApiResult<Json<Vec<ShowcaseCard<ProductView>>>> {
    let shelf = state.shop.shelf(ShowId(show)).await?;
    let mut out = Vec::with_capacity(shelf.cards.len());
    for c in shelf.cards {
        out.push(ShowcaseCard {
            product: product_view(&state, &c.product, shelf.store).await?,
            disclosure: c.disclosure,
            showcase_sponsored: c.showcase_sponsored,
        });
    }
    Ok(Json(out))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PinBody {
    product: i64,
}

fn pinned_json(cards: &[PinnedCard]) -> Json<Vec<PinnedProduct>> {
    Json(cards.iter().map(pinned_product).collect())
}

/// Pins a product: recorded with its time in the show, and shown to every viewer at once.
#[utoipa::path(
    post,
    path = "/api/v1/shows/{id}/pins",
    tag = "shop",
    summary = "Pin a product",
    params(("id" = i64, Path, description = "Show id", example = 1)),
    request_body = PinBody,
    responses((status = 200, description = "The products pinned now", body = Vec<Object>)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn pin(
    State(state): State<AppState>,
    caller: Caller,
    Path(show): Path<i64>,
    ApiJson(b): ApiJson<PinBody>,
) -> ApiResult<Json<Vec<PinnedProduct>>> {
    let me = caller.require()?;
    let cards = state.shop.pin(me, ShowId(show), b.product).await?;
    Ok(pinned_json(&cards))
}

#[utoipa::path(
    delete,
    path = "/api/v1/shows/{id}/pins/{product}",
    tag = "shop",
    summary = "Unpin a product",
    params(("id" = i64, Path, description = "Show id", example = 1), ("product" = i64, Path, description = "Product id", example = 1)),
    responses((status = 200, description = "The products pinned now", body = Vec<Object>)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn unpin(
    State(state): State<AppState>,
    caller: Caller,
    Path((show, product)): Path<(i64, i64)>,
) -> ApiResult<Json<Vec<PinnedProduct>>> {
    let me = caller.require()?;
    let cards = state.shop.unpin(me, ShowId(show), product).await?;
    Ok(pinned_json(&cards))
}

/// A showcase item of `PUT /shows/{id}/shelf`: a product id, or the product with its
/// disclosure (`sponsored`, and `host_used` — the host's own statement).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub(crate) enum ShelfItem {
    Id(i64),
    Entry(ShelfEntryBody),
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ShelfEntryBody {
    product: i64,
    #[serde(default)]
    sponsored: Option<bool>,
    #[serde(default)]
    host_used: Option<bool>,
}

impl ShelfItem {
    fn entry(&self) -> ShelfEntry {
        match self {
            ShelfItem::Id(p) => ShelfEntry {
                product: *p,
                change: EntryChange::default(),
            },
            ShelfItem::Entry(e) => ShelfEntry {
                product: e.product,
                change: EntryChange {
                    sponsored: e.sponsored,
                    host_used: e.host_used,
                },
            },
        }
    }
}

/// A showcase product with what its card discloses.
#[derive(Serialize)]
pub(crate) struct ShowcaseCard<T: Serialize> {
    #[serde(flatten)]
    pub product: T,
    #[serde(flatten)]
    pub disclosure: CardDisclosure,
    /// The showcase entry itself is marked sponsored (one of the reasons for paid promotion).
    pub showcase_sponsored: bool,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EntryBody {
    #[serde(default)]
    sponsored: Option<bool>,
    #[serde(default)]
    host_used: Option<bool>,
}

#[derive(Serialize)]
pub(crate) struct EntryView {
    show: i64,
    product: i64,
    showcase_sponsored: bool,
    #[serde(flatten)]
    disclosure: CardDisclosure,
    attested_at: Option<i64>,
}

/// Changes one showcase entry's disclosure: `sponsored` by the host, a moderator with the pin
/// right, an admin or the seller's catalog managers; `host_used` by the host alone.
#[utoipa::path(
    put,
    path = "/api/v1/shows/{id}/shelf/{product}",
    tag = "disclosure",
    summary = "A showcase entry's disclosure",
    params(("id" = i64, Path, description = "Show id", example = 1), ("product" = i64, Path, description = "Product id", example = 1)),
    request_body = EntryBody,
    responses((status = 200, description = "The entry with its card disclosure", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn set_showcase_entry(
    State(state): State<AppState>,
    caller: Caller,
    Path((show, product)): Path<(i64, i64)>,
    ApiJson(b): ApiJson<EntryBody>,
) -> ApiResult<Json<EntryView>> {
    let me = caller.require()?;
    let change = EntryChange {
        sponsored: b.sponsored,
        host_used: b.host_used,
    };
    let e = state
        .shop
        .set_showcase_entry(me, ShowId(show), product, change)
        .await?;
    Ok(Json(EntryView {
        show: e.entry.show.0,
        product: e.entry.product,
        showcase_sponsored: e.entry.sponsored,
        disclosure: e.disclosure,
        attested_at: e.entry.attested_at.map(|t| t.0),
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CoHostStatementBody {
    /// I, the co-host, have used this product (false withdraws the statement).
    used: bool,
}

/// The co-host on air states (or withdraws), in their own name, having used a product of the
/// show's shelf; the cards carry it beside the host's statement while they are on air.
#[utoipa::path(
    put,
    path = "/api/v1/shows/{id}/shelf/{product}/co-host",
    tag = "disclosure",
    summary = "The co-host's own statement of use",
    params(("id" = i64, Path, description = "Show id", example = 1), ("product" = i64, Path, description = "Product id", example = 1)),
    request_body = CoHostStatementBody,
    responses((status = 200, description = "The card's disclosure now", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn set_co_host_statement(
    State(state): State<AppState>,
    caller: Caller,
    Path((show, product)): Path<(i64, i64)>,
    ApiJson(b): ApiJson<CoHostStatementBody>,
) -> ApiResult<Json<CardDisclosure>> {
    let me = caller.require()?;
    let card = state
        .shop
        .set_co_host_statement(me, ShowId(show), product, b.used)
        .await?;
    Ok(Json(card))
}
