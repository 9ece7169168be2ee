//! The showcase and its pins over HTTP: the shelf of a show, the products pinned in the room,
//! what each card discloses (sponsored entries, paid slots, the host's statement of use), the
//! paid-promotion label the room hears, and the credential gate for regulated categories.

use super::catalog::{product_view, ProductView};
use super::common::{invalid, may_pin, show_and_channel, staff};
use crate::auth::Caller;
use crate::json::ApiJson;
use crate::problem::{ApiError, ApiResult};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use hawker_commerce::disclosure::{CardDisclosure, DisclosureRules, ShowcaseFacts};
use hawker_commerce::org::OrgRole;
use hawker_domain::{Account, Money, ShowId, ShowState, UnixMillis};
use hawker_room::protocol::PinnedProduct;
use hawker_room::room::StateChange;
use hawker_storage::disclosure::{EntryChange, ShowcaseEntry};
use hawker_storage::shop::Product;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

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
    let (s, c) = show_and_channel(&state, show).await?;
    may_pin(&state, &caller, &c).await?;
    let me = caller.require()?;
    let ids: Vec<i64> = b.products.iter().map(|i| i.product()).collect();
    if ids.len() > 100 {
        return Err(invalid("products: a shelf holds at most 100"));
    }
    let mut seen = std::collections::HashSet::new();
    if !ids.iter().all(|p| seen.insert(*p)) {
        return Err(invalid("products: each product once"));
    }
    let mut products = Vec::with_capacity(ids.len());
    for p in &ids {
        products.push(
            state
                .store
                .product(*p)
                .await?
                .ok_or_else(|| ApiError::not_found("product"))?,
        );
    }
    // Regulated categories need the seller's approved credential; only the host attests.
    require_credentials(&state, &products).await?;
    check_shelf_items(me, &c, &b.products)?;
    state.store.set_shelf(s.id, &ids).await?;
    apply_shelf_items(&state, me, &s, &c, &b.products).await?;
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
    let (s, c) = show_and_channel(&state, show).await?;
    let store = state.store.channel_shop(c.id).await?.map(|(_, st)| st);
    let disclosures = Disclosures::of_show(&state, s.id).await?;
    let mut out = Vec::new();
    for p in state.store.shelf(s.id).await? {
        if let Some(p) = state.store.product(p).await? {
            let view = product_view(&state, &p, store).await?;
            out.push(disclosures.showcase_card(&p, view));
        }
    }
    Ok(Json(out))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PinBody {
    product: i64,
}

pub(crate) async fn pinned_state(
    state: &AppState,
    show: &hawker_domain::Show,
) -> ApiResult<Vec<PinnedProduct>> {
    let disclosures = Disclosures::of_show(state, show.id).await?;
    let mut current: Vec<i64> = Vec::new();
    for p in state.store.pins(show.id).await? {
        if p.unpinned_at.is_none() && !current.contains(&p.product) {
            current.push(p.product);
        }
    }
    let mut out = Vec::new();
    for id in current.iter().rev().take(3) {
        let Some(p) = state.store.product(*id).await? else {
            continue;
        };
        let v = product_view(state, &p, None).await?;
        let low = v.skus.iter().map(|s| s.price_minor).min().unwrap_or(0);
        let card = disclosures.card(&p);
        out.push(PinnedProduct {
            product_id: p.id,
            title: p.title.clone(),
            price: Money::new(low, p.currency).to_string(),
            seller: v.seller.name.clone(),
            image_url: v.images.first().cloned(),
            sponsored: card.paid_promotion,
            paid_promotion: card.paid_promotion,
            label: card.label,
            host_used: card.host_used,
            attestation: card.attestation,
        });
    }
    Ok(out)
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
    let (s, c) = show_and_channel(&state, show).await?;
    may_pin(&state, &caller, &c).await?;
    if !state.store.shelf(s.id).await?.contains(&b.product) {
        return Err(invalid("product: put it on the show's shelf first"));
    }
    let product = state
        .store
        .product(b.product)
        .await?
        .ok_or_else(|| ApiError::not_found("product"))?;
    require_credentials(&state, std::slice::from_ref(&product)).await?;
    let now = UnixMillis::now();
    let offset = s.started_at.map_or(0, |t| now.0 - t.0);
    // At most three highlighted: the oldest pin makes way.
    let live: Vec<i64> = state
        .store
        .pins(s.id)
        .await?
        .into_iter()
        .filter(|p| p.unpinned_at.is_none())
        .map(|p| p.product)
        .collect();
    if live.len() >= 3 {
        state.store.unpin(s.id, live[0], now).await?;
    }
    state.store.pin(s.id, b.product, now, offset).await?;
    let pinned = pinned_state(&state, &s).await?;
    state
        .rooms
        .set_state(&c, StateChange::Pinned(pinned.clone()))
        .await
        .map_err(|_| ApiError::internal())?;
    // Paid promotion: the room hears the label at once, then at the profile's interval.
    announce_if_paid(&state, &s, &c, &product).await?;
    Ok(Json(pinned))
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
    let (s, c) = show_and_channel(&state, show).await?;
    may_pin(&state, &caller, &c).await?;
    if !state.store.unpin(s.id, product, UnixMillis::now()).await? {
        return Err(ApiError::not_found("pin"));
    }
    let pinned = pinned_state(&state, &s).await?;
    state
        .rooms
        .set_state(&c, StateChange::Pinned(pinned.clone()))
        .await
        .map_err(|_| ApiError::internal())?;
    Ok(Json(pinned))
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
    pub(crate) fn product(&self) -> i64 {
        match self {
            ShelfItem::Id(p) => *p,
            ShelfItem::Entry(e) => e.product,
        }
    }
    fn change(&self) -> EntryChange {
        match self {
            ShelfItem::Id(_) => EntryChange::default(),
            ShelfItem::Entry(e) => EntryChange {
                sponsored: e.sponsored,
                host_used: e.host_used,
            },
        }
    }
}

/// Only the host may state having used a product: it is their own word.
fn check_attestation(
    me: &Account,
    c: &hawker_domain::Channel,
    change: &EntryChange,
) -> ApiResult<()> {
    if change.host_used.is_some() && me.id != c.owner {
        return Err(ApiError::forbidden(
            "only the host may state having used a product",
        ));
    }
    Ok(())
}

/// Before a shelf is written: may the caller set what its items say?
pub(crate) fn check_shelf_items(
    me: &Account,
    c: &hawker_domain::Channel,
    items: &[ShelfItem],
) -> ApiResult<()> {
    for i in items {
        check_attestation(me, c, &i.change())?;
    }
    Ok(())
}

/// After a shelf is written: the items' disclosure, and the room's card if any is pinned.
pub(crate) async fn apply_shelf_items(
    state: &AppState,
    me: &Account,
    show: &hawker_domain::Show,
    c: &hawker_domain::Channel,
    items: &[ShelfItem],
) -> ApiResult<()> {
    let now = UnixMillis::now();
    let mut changed = false;
    for i in items {
        let ch = i.change();
        if ch != EntryChange::default() {
            state
                .store
                .set_showcase_entry(show.id, i.product(), ch, me.id, now)
                .await?;
            changed = true;
        }
    }
    if changed {
        refresh_pins(state, show, c).await?;
    }
    Ok(())
}

/// What the cards of one show disclose.
pub(crate) struct Disclosures {
    rules: DisclosureRules,
    entries: HashMap<i64, ShowcaseEntry>,
    slots: HashSet<i64>,
}

impl Disclosures {
    pub(crate) async fn of_show(state: &AppState, show: ShowId) -> ApiResult<Disclosures> {
        Ok(Disclosures {
            rules: state.shop.law().disclosure.clone(),
            entries: state
                .store
                .showcase_entries(show)
                .await?
                .into_iter()
                .map(|e| (e.product, e))
                .collect(),
            slots: state
                .store
                .paid_slot_products(show)
                .await?
                .into_iter()
                .collect(),
        })
    }

    pub(crate) fn card(&self, p: &Product) -> CardDisclosure {
        let e = self.entries.get(&p.id);
        self.rules.card(&ShowcaseFacts {
            paid_slot: self.slots.contains(&p.id),
            sponsored_entry: e.is_some_and(|e| e.sponsored),
            sponsored_product: p.sponsored,
            host_used: e.is_some_and(|e| e.host_used),
        })
    }

    fn entry_sponsored(&self, product: i64) -> bool {
        self.entries.get(&product).is_some_and(|e| e.sponsored)
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

impl Disclosures {
    pub(crate) fn showcase_card<T: Serialize>(&self, p: &Product, view: T) -> ShowcaseCard<T> {
        ShowcaseCard {
            product: view,
            disclosure: self.card(p),
            showcase_sponsored: self.entry_sponsored(p.id),
        }
    }
}

/// The room hears the pinned cards again (after a disclosure changed).
async fn refresh_pins(
    state: &AppState,
    show: &hawker_domain::Show,
    c: &hawker_domain::Channel,
) -> ApiResult<()> {
    if state
        .store
        .pins(show.id)
        .await?
        .iter()
        .any(|p| p.unpinned_at.is_none())
    {
        let pinned = pinned_state(state, show).await?;
        state
            .rooms
            .set_state(c, StateChange::Pinned(pinned))
            .await
            .map_err(|_| ApiError::internal())?;
    }
    Ok(())
}

/// When a paid product has just been pinned (or become paid while pinned): the room hears the
/// label at once, where the profile repeats it.
pub(crate) async fn announce_if_paid(
    state: &AppState,
    show: &hawker_domain::Show,
    c: &hawker_domain::Channel,
    p: &Product,
) -> ApiResult<()> {
    let d = Disclosures::of_show(state, show.id).await?;
    if !d.card(p).paid_promotion || !d.rules.repeats() || show.state != ShowState::Live {
        return Ok(());
    }
    let seller = state
        .store
        .org(p.org)
        .await?
        .map(|o| o.name)
        .unwrap_or_default();
    let now = UnixMillis::now();
    if state
        .store
        .claim_label_repeat(show.id, p.id, now, now)
        .await?
    {
        crate::paid_labels::announce(&state.rooms, c, &d.rules, &p.title, &seller).await;
    }
    Ok(())
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
    let (s, c) = show_and_channel(&state, show).await?;
    let p = state
        .store
        .product(product)
        .await?
        .ok_or_else(|| ApiError::not_found("product"))?;
    if !state.store.shelf(s.id).await?.contains(&p.id) {
        return Err(ApiError::not_found("showcase entry"));
    }
    let change = EntryChange {
        sponsored: b.sponsored,
        host_used: b.host_used,
    };
    check_attestation(me, &c, &change)?;
    if change.sponsored.is_some()
        && may_pin(&state, &caller, &c).await.is_err()
        && staff(&state, me, p.org, OrgRole::manages_catalog)
            .await
            .is_err()
    {
        return Err(ApiError::forbidden(
            "the host, moderators with the pin right and the seller's catalog managers mark paid promotion",
        ));
    }
    let e = state
        .store
        .set_showcase_entry(s.id, p.id, change, me.id, UnixMillis::now())
        .await?;
    refresh_pins(&state, &s, &c).await?;
    if change.sponsored == Some(true) {
        let pinned_now = state
            .store
            .pins(s.id)
            .await?
            .iter()
            .any(|x| x.product == p.id && x.unpinned_at.is_none());
        if pinned_now {
            announce_if_paid(&state, &s, &c, &p).await?;
        }
    }
    let d = Disclosures::of_show(&state, s.id).await?;
    Ok(Json(EntryView {
        show: s.id.0,
        product: p.id,
        showcase_sponsored: e.sponsored,
        disclosure: d.card(&p),
        attested_at: e.attested_at.map(|t| t.0),
    }))
}

pub(crate) fn credential_required(p: &Product, seller: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "credential_required",
        "An approved credential is required",
    )
    .detail(format!(
        "\"{}\" is in the regulated category {}: {seller} needs an approved {} credential before it can be shown or pinned",
        p.title,
        p.category.as_str(),
        p.category.as_str()
    ))
}

/// The gate before a showcase or a pin: every product in a regulated category needs an
/// approved, unexpired credential of its organisation for that category.
pub(crate) async fn require_credentials(state: &AppState, products: &[Product]) -> ApiResult<()> {
    let now = UnixMillis::now();
    for p in products {
        if p.category.regulated()
            && !state
                .store
                .has_approved_credential(p.org, p.category, now)
                .await?
        {
            let seller = state
                .store
                .org(p.org)
                .await?
                .map(|o| o.name)
                .unwrap_or_else(|| "the seller".into());
            return Err(credential_required(p, &seller));
        }
    }
    Ok(())
}
