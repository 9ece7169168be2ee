//! The shoppable replay: a show's pins with their moments, so the replay page shows each
//! product at the time it was pinned and sells it at today's price and stock.

use super::catalog::{product_view, ProductView};
use crate::problem::{ApiError, ApiResult};
use crate::AppState;
use axum::extract::{Path, State};
use axum::Json;
use hawker_domain::ShowId;
use serde::Serialize;

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct PinView {
    /// Milliseconds into the show when the product was pinned.
    offset_ms: i64,
    /// Milliseconds into the show when it came down (the show's end for a pin left up).
    until_offset_ms: Option<i64>,
    product: ProductView,
}

/// `GET /api/v1/shows/{id}/pins`: public, like the replay itself. Products deleted since are
/// left out; each product is as it is today (price, stock, labels).
#[utoipa::path(
    get,
    path = "/api/v1/shows/{id}/pins",
    tag = "replay",
    summary = "A show's pins with their moments",
    params(("id" = i64, Path, description = "Show id", example = 1)),
    responses((status = 200, description = "Pins", body = Vec<PinView>))
)]
pub(crate) async fn pins(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<PinView>>> {
    let show = state
        .store
        .show(ShowId(id))
        .await?
        .ok_or_else(|| ApiError::not_found("show"))?;
    let start = show.started_at.map_or(0, |t| t.0);
    let mut out = Vec::new();
    for p in state.store.pins(show.id).await? {
        let Some(product) = state.store.product(p.product).await? else {
            continue;
        };
        out.push(PinView {
            offset_ms: p.offset_ms,
            until_offset_ms: p
                .unpinned_at
                .or(show.ended_at)
                .map(|t| (t.0 - start).max(p.offset_ms)),
            product: product_view(&state, &product, None).await?,
        });
    }
    Ok(Json(out))
}
