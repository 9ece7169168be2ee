//! The shop over HTTP: organisations and staff, catalog, showcases and pins, flash sales,
//! coupons, checkout, orders, fulfilment, payments and the provider's webhook.

use super::channels::find;
use crate::auth::Caller;
use crate::json::ApiJson;
use crate::problem::{ApiError, ApiResult};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hawker_commerce::catalog::{Category, ReturnClass};
use hawker_commerce::coupon::{CouponScope, Discount};
use hawker_commerce::order::OrderState;
use hawker_commerce::org::{OrgKind, OrgRole};
use hawker_domain::{Account, Currency, Email, Money, Role, ShowId, UnixMillis};
use hawker_room::protocol::PinnedProduct;
use hawker_room::room::StateChange;
use hawker_shop::flash::BuyResult;
use hawker_shop::{
    BuyerAction, CheckoutItem, CheckoutRequest, MerchantAction, NewSaleRequest, ShopError,
};
use hawker_shop::{CouponAction, NewCoupon};
use hawker_storage::shop::CouponRow;
use hawker_storage::shop::{FlashSale, NewProduct, Order, OrderFilter, Product};
use serde::{Deserialize, Serialize};

impl From<ShopError> for ApiError {
    fn from(e: ShopError) -> Self {
        let msg = e.to_string();
        match e {
            ShopError::NotFound(what) => ApiError::not_found(what),
            ShopError::Forbidden(why) => ApiError::forbidden(why),
            ShopError::Invalid { .. } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                "A field is invalid",
            )
            .detail(msg),
            ShopError::OutOfStock => ApiError::conflict("out_of_stock", msg),
            ShopError::Coupon(_) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "coupon_not_applicable",
                "The coupon cannot be used",
            )
            .detail(msg),
            ShopError::Sale(r) => ApiError::conflict(r.code(), msg),
            ShopError::Engine(hawker_shop::flash::EngineError::Busy) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "Too many buyers at once",
            )
            .detail("try again in a moment"),
            ShopError::Engine(hawker_shop::flash::EngineError::KeyReused) => {
                ApiError::conflict("idempotency_key_reused", msg)
            }
            ShopError::Engine(_) => ApiError::unavailable(msg),
            ShopError::Order(_) => ApiError::conflict("transition_not_allowed", msg),
            ShopError::Return(_) => ApiError::conflict("return_not_allowed", msg),
            ShopError::Reference(_) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "misleading_reference_price",
                "The reference price is not allowed",
            )
            .detail(msg),
            ShopError::Payment(hawker_shop::payments::PaymentError::BadSignature) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_signature",
                "The webhook signature is not valid",
            ),
            ShopError::Payment(hawker_shop::payments::PaymentError::Malformed(_)) => {
                ApiError::bad_request(msg)
            }
            ShopError::Payment(_) => ApiError::new(
                StatusCode::PAYMENT_REQUIRED,
                "payment_failed",
                "The payment did not go through",
            )
            .detail(msg),
            ShopError::Conflict => ApiError::conflict("changed", msg),
            ShopError::Taken(_) => ApiError::conflict("code_taken", msg),
            ShopError::Claim(_) => ApiError::conflict("claim_not_allowed", msg),
            ShopError::DefectWindowClosed { .. } => {
                ApiError::conflict("defect_claim_window_closed", msg)
            }
            ShopError::Storage(e) => e.into(),
            ShopError::Books(hawker_shop::books::BooksError::Ledger(l)) => {
                ApiError::conflict(l.code(), msg)
            }
            ShopError::Books(hawker_shop::books::BooksError::Invalid(_)) => invalid(msg),
            ShopError::Books(hawker_shop::books::BooksError::Storage(e)) => e.into(),
            ShopError::Books(hawker_shop::books::BooksError::Split(_)) => invalid(msg),
            ShopError::Books(hawker_shop::books::BooksError::OverCap { .. }) => {
                ApiError::conflict("over_spending_cap", msg)
            }
            ShopError::Books(hawker_shop::books::BooksError::NotEnoughCoins) => {
                ApiError::conflict("not_enough_coins", msg)
            }
            ShopError::Books(hawker_shop::books::BooksError::UnderReview) => {
                ApiError::conflict("held_under_review", msg)
            }
            ShopError::Books(hawker_shop::books::BooksError::TipsSuspended { .. }) => {
                ApiError::conflict("tips_suspended", msg)
            }
        }
    }
}

pub(crate) fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        "A field is invalid",
    )
    .detail(detail)
}

// ---------------------------------------------------------------------------- organisations

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewOrg {
    name: String,
    #[serde(default)]
    individual: bool,
    /// The first store (location); "Main store" if absent.
    #[serde(default)]
    store_name: Option<String>,
    #[serde(default)]
    city: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct OrgView {
    id: i64,
    name: String,
    #[schema(value_type = String)]
    kind: OrgKind,
    #[schema(value_type = String)]
    role: OrgRole,
    store: Option<i64>,
    stores: Vec<StoreView>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct StoreView {
    id: i64,
    name: String,
    city: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/orgs",
    tag = "shop",
    summary = "Open a shop (an organisation with its first store)",
    request_body = NewOrg,
    responses((status = 201, description = "Created", body = OrgView)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn create_org(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<NewOrg>,
) -> ApiResult<(StatusCode, Json<OrgView>)> {
    let me = caller.require_role(Role::may_broadcast, "opening a shop")?;
    let name = b.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(invalid("name: 1 to 100 characters"));
    }
    let kind = if b.individual {
        OrgKind::Individual
    } else {
        OrgKind::Business
    };
    let now = UnixMillis::now();
    let org = state.store.create_org(name, kind, me.id, now).await?;
    let st = state
        .store
        .create_store(
            org.id,
            b.store_name.as_deref().unwrap_or("Main store"),
            b.city.as_deref().unwrap_or(""),
            now,
        )
        .await?;
    // The owner's channels sell from the new shop until told otherwise.
    for c in state.store.channels_owned_by(me.id).await? {
        if state.store.channel_shop(c.id).await?.is_none() {
            state.store.set_channel_shop(c.id, org.id, st.id).await?;
        }
    }
    Ok((
        StatusCode::CREATED,
        Json(OrgView {
            id: org.id,
            name: org.name,
            kind,
            role: OrgRole::Owner,
            store: None,
            stores: vec![StoreView {
                id: st.id,
                name: st.name,
                city: st.city,
            }],
        }),
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/me/orgs",
    tag = "shop",
    summary = "The caller's organisations",
    responses((status = 200, description = "Organisations", body = Vec<OrgView>)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn my_orgs(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<OrgView>>> {
    let me = caller.require()?;
    let mut out = Vec::new();
    for m in state.store.memberships(me.id).await? {
        let stores = state
            .store
            .stores(m.org.id)
            .await?
            .into_iter()
            .map(|s| StoreView {
                id: s.id,
                name: s.name,
                city: s.city,
            })
            .collect();
        out.push(OrgView {
            id: m.org.id,
            name: m.org.name,
            kind: m.org.kind,
            role: m.role,
            store: m.store,
            stores,
        });
    }
    Ok(Json(out))
}

pub(crate) async fn staff(
    state: &AppState,
    who: &Account,
    org: i64,
    pred: impl Fn(OrgRole) -> bool,
) -> ApiResult<OrgRole> {
    Ok(state.shop.staff(who, org, pred).await?)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewStore {
    name: String,
    #[serde(default)]
    city: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/orgs/{id}/stores",
    tag = "shop",
    summary = "Add a store",
    params(("id" = i64, Path, description = "Organisation id", example = 1)),
    request_body = NewStore,
    responses((status = 201, description = "Created", body = StoreView)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn create_store(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<i64>,
    ApiJson(b): ApiJson<NewStore>,
) -> ApiResult<(StatusCode, Json<StoreView>)> {
    let me = caller.require()?;
    staff(&state, me, org, OrgRole::manages_catalog).await?;
    if b.name.trim().is_empty() || b.name.len() > 100 {
        return Err(invalid("name: 1 to 100 characters"));
    }
    let s = state
        .store
        .create_store(org, b.name.trim(), b.city.trim(), UnixMillis::now())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(StoreView {
            id: s.id,
            name: s.name,
            city: s.city,
        }),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewMember {
    email: String,
    #[schema(value_type = String)]
    role: OrgRole,
    #[serde(default)]
    store: Option<i64>,
}

#[utoipa::path(
    post,
    path = "/api/v1/orgs/{id}/members",
    tag = "shop",
    summary = "Add a staff member",
    params(("id" = i64, Path, description = "Organisation id", example = 1)),
    request_body = NewMember,
    responses((status = 204, description = "Added")),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn add_member(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<i64>,
    ApiJson(b): ApiJson<NewMember>,
) -> ApiResult<StatusCode> {
    let me = caller.require()?;
    staff(&state, me, org, OrgRole::manages_staff).await?;
    if b.role == OrgRole::Owner {
        return Err(invalid("role: an organisation has one owner"));
    }
    let who = state
        .store
        .account_by_email(&Email::parse(&b.email)?)
        .await?
        .ok_or_else(|| ApiError::not_found("account"))?;
    if let Some(s) = b.store {
        if state.store.store(s).await?.is_none_or(|s| s.org != org) {
            return Err(invalid("store: not one of this organisation's stores"));
        }
    }
    state
        .store
        .add_member(org, who.id, b.role, b.store, UnixMillis::now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChannelShop {
    org: i64,
    store: i64,
}

/// Which shop a channel sells for: its owner must sell for that organisation.
#[utoipa::path(
    put,
    path = "/api/v1/channels/{slug}/shop",
    tag = "shop",
    summary = "Which shop a channel sells for",
    params(("slug" = String, Path, description = "The channel's slug", example = "li-wei-farm")),
    request_body = ChannelShop,
    responses((status = 204, description = "Set")),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn set_channel_shop(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    ApiJson(b): ApiJson<ChannelShop>,
) -> ApiResult<StatusCode> {
    let c = find(&state, &slug).await?;
    let me = caller.require_channel_owner(&c)?;
    staff(&state, me, b.org, OrgRole::sells).await?;
    if state
        .store
        .store(b.store)
        .await?
        .is_none_or(|s| s.org != b.org)
    {
        return Err(invalid("store: not one of this organisation's stores"));
    }
    state.store.set_channel_shop(c.id, b.org, b.store).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------- catalog

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewSku {
    label: String,
    price_minor: i64,
    #[serde(default)]
    stock: i64,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewProductBody {
    title: String,
    #[serde(default)]
    description: String,
    #[schema(value_type = String)]
    category: Category,
    #[schema(value_type = String)]
    return_class: ReturnClass,
    #[schema(value_type = String)]
    currency: Currency,
    #[serde(default)]
    sponsored: bool,
    skus: Vec<NewSku>,
    /// Where the initial stock is; the organisation's first store if absent.
    #[serde(default)]
    store: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct SkuView {
    id: i64,
    label: String,
    price_minor: i64,
    price: String,
    /// In the store the view was asked for.
    stock: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ProductView {
    id: i64,
    title: String,
    description: String,
    #[schema(value_type = String)]
    category: Category,
    regulated: bool,
    #[schema(value_type = String)]
    return_class: ReturnClass,
    /// Shown on the card and confirmed at checkout for non-returnable classes.
    return_notice: Option<&'static str>,
    #[schema(value_type = String)]
    currency: Currency,
    sponsored: bool,
    /// The seller of record: who actually sells this, whoever hosts the show.
    seller: SellerView,
    skus: Vec<SkuView>,
    images: Vec<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct SellerView {
    org: i64,
    name: String,
}

pub(crate) async fn product_view(
    state: &AppState,
    p: &Product,
    store: Option<i64>,
) -> ApiResult<ProductView> {
    let org = state
        .store
        .org(p.org)
        .await?
        .ok_or_else(|| ApiError::not_found("seller"))?;
    let mut skus = Vec::new();
    for s in state.store.skus_of_product(p.id).await? {
        let stock = match store {
            Some(st) => Some(state.store.stock(s.id, st).await?),
            None => None,
        };
        skus.push(SkuView {
            id: s.id,
            label: s.label,
            price_minor: s.price_minor,
            price: Money::new(s.price_minor, p.currency).to_string(),
            stock,
        });
    }
    let images = state
        .store
        .images(p.id)
        .await?
        .into_iter()
        .map(|(id, _, _)| format!("/media/images/{id}"))
        .collect();
    Ok(ProductView {
        id: p.id,
        title: p.title.clone(),
        description: p.description.clone(),
        category: p.category,
        regulated: p.category.regulated(),
        return_class: p.return_class,
        return_notice: p.return_class.buyer_notice(),
        currency: p.currency,
        sponsored: p.sponsored,
        seller: SellerView {
            org: org.id,
            name: org.name,
        },
        skus,
        images,
    })
}

#[utoipa::path(
    post,
    path = "/api/v1/orgs/{id}/products",
    tag = "shop",
    summary = "Create a product with its SKUs",
    params(("id" = i64, Path, description = "Organisation id", example = 1)),
    request_body = NewProductBody,
    responses((status = 201, description = "Created", body = ProductView)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn create_product(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<i64>,
    ApiJson(b): ApiJson<NewProductBody>,
) -> ApiResult<(StatusCode, Json<ProductView>)> {
    let me = caller.require()?;
    staff(&state, me, org, OrgRole::manages_catalog).await?;
    let title = b.title.trim();
    if title.is_empty() || title.chars().count() > 200 || b.description.chars().count() > 5_000 {
        return Err(invalid(
            "title: 1 to 200 characters; description: at most 5000",
        ));
    }
    // Absolute or medical claims are refused before anything is stored.
    let hits = state
        .shop
        .claims()
        .check(&[("title", title), ("description", &b.description)]);
    if let Some(h) = hits.first() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "banned_claim",
            "The text makes a claim that may not be made",
        )
        .detail(format!(
            "{}: \"{}\" is not allowed (absolute or medical claim)",
            h.field, h.claim
        )));
    }
    if b.skus.is_empty() || b.skus.len() > 100 {
        return Err(invalid("skus: 1 to 100 variants"));
    }
    for s in &b.skus {
        if s.label.trim().is_empty() || s.label.len() > 100 || s.price_minor <= 0 || s.stock < 0 {
            return Err(invalid(
                "skus: a label, a price above zero and no negative stock",
            ));
        }
    }
    let store = match b.store {
        Some(s) if state.store.store(s).await?.is_some_and(|x| x.org == org) => s,
        Some(_) => return Err(invalid("store: not one of this organisation's stores")),
        None => state
            .store
            .stores(org)
            .await?
            .first()
            .map(|s| s.id)
            .ok_or_else(|| ApiError::not_found("store"))?,
    };
    let now = UnixMillis::now();
    let p = state
        .store
        .create_product(
            &NewProduct {
                org,
                title: title.to_string(),
                description: b.description.trim().to_string(),
                category: b.category,
                return_class: b.return_class,
                currency: b.currency,
                sponsored: b.sponsored,
            },
            now,
        )
        .await?;
    for s in &b.skus {
        let sku = state
            .store
            .add_sku(p.id, s.label.trim(), s.price_minor, now)
            .await?;
        state.store.set_stock(sku.id, store, s.stock).await?;
    }
    Ok((
        StatusCode::CREATED,
        Json(product_view(&state, &p, Some(store)).await?),
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/orgs/{id}/products",
    tag = "shop",
    summary = "An organisation's catalog",
    params(("id" = i64, Path, description = "Organisation id", example = 1)),
    responses((status = 200, description = "Products", body = Vec<ProductView>)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn org_products(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<i64>,
) -> ApiResult<Json<Vec<ProductView>>> {
    let me = caller.require()?;
    let role = staff(&state, me, org, |_| true).await?;
    let store = match state.store.membership(org, me.id).await? {
        Some(m) if m.store.is_some() => m.store,
        _ => state.store.stores(org).await?.first().map(|s| s.id),
    };
    let _ = role;
    let mut out = Vec::new();
    for p in state.store.products_of_org(org).await? {
        out.push(product_view(&state, &p, store).await?);
    }
    Ok(Json(out))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct StoreQuery {
    store: Option<i64>,
}

#[utoipa::path(
    get,
    path = "/api/v1/products/{id}",
    tag = "shop",
    summary = "One product",
    params(("id" = i64, Path, description = "Product id", example = 1), StoreQuery),
    responses((status = 200, description = "The product", body = ProductView))
)]
pub(crate) async fn get_product(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<StoreQuery>,
) -> ApiResult<Json<ProductView>> {
    let p = state
        .store
        .product(id)
        .await?
        .ok_or_else(|| ApiError::not_found("product"))?;
    Ok(Json(product_view(&state, &p, q.store).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PriceBody {
    price_minor: i64,
}

async fn sku_org(state: &AppState, sku: i64) -> ApiResult<(hawker_storage::shop::Sku, Product)> {
    let s = state
        .store
        .sku(sku)
        .await?
        .ok_or_else(|| ApiError::not_found("sku"))?;
    let p = state
        .store
        .product(s.product)
        .await?
        .ok_or_else(|| ApiError::not_found("product"))?;
    Ok((s, p))
}

#[utoipa::path(
    put,
    path = "/api/v1/skus/{id}/price",
    tag = "shop",
    summary = "Set a SKU's price",
    params(("id" = i64, Path, description = "SKU id", example = 1)),
    request_body = PriceBody,
    responses((status = 204, description = "Set")),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn set_price(
    State(state): State<AppState>,
    caller: Caller,
    Path(sku): Path<i64>,
    ApiJson(b): ApiJson<PriceBody>,
) -> ApiResult<StatusCode> {
    let me = caller.require()?;
    let (s, p) = sku_org(&state, sku).await?;
    staff(&state, me, p.org, OrgRole::manages_catalog).await?;
    if b.price_minor <= 0 {
        return Err(invalid("price_minor: above zero"));
    }
    state
        .store
        .set_price(s.id, b.price_minor, UnixMillis::now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StockBody {
    store: i64,
    quantity: i64,
}

#[utoipa::path(
    put,
    path = "/api/v1/skus/{id}/stock",
    tag = "shop",
    summary = "Set a SKU's stock in a store",
    params(("id" = i64, Path, description = "SKU id", example = 1)),
    request_body = StockBody,
    responses((status = 204, description = "Set")),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn set_stock(
    State(state): State<AppState>,
    caller: Caller,
    Path(sku): Path<i64>,
    ApiJson(b): ApiJson<StockBody>,
) -> ApiResult<StatusCode> {
    let me = caller.require()?;
    let (s, p) = sku_org(&state, sku).await?;
    staff(&state, me, p.org, OrgRole::manages_catalog).await?;
    if b.quantity < 0 {
        return Err(invalid("quantity: not negative"));
    }
    if state
        .store
        .store(b.store)
        .await?
        .is_none_or(|st| st.org != p.org)
    {
        return Err(invalid("store: not one of this organisation's stores"));
    }
    state.store.set_stock(s.id, b.store, b.quantity).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) const MAX_IMAGE: usize = 5 * 1024 * 1024;

/// An uploadable type: content type, file extension, the bytes it starts with.
pub(crate) type UploadType = (&'static str, &'static str, &'static [u8]);

pub(crate) const IMAGE_TYPES: &[UploadType] = &[
    ("image/jpeg", "jpg", &[0xFF, 0xD8, 0xFF]),
    ("image/png", "png", &[0x89, b'P', b'N', b'G']),
    ("image/webp", "webp", b"RIFF"),
];

pub(crate) const PDF: UploadType = ("application/pdf", "pdf", b"%PDF-");

/// Checks an upload's declared type against the allowed ones, its size, and that its bytes
/// really start like that type; returns the content type and the extension to store it under.
pub(crate) fn accept_upload(
    headers: &HeaderMap,
    body: &[u8],
    allowed: &[UploadType],
    max: usize,
    what: &str,
) -> ApiResult<(&'static str, &'static str)> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some((ct, ext, magic)) = allowed.iter().find(|(t, _, _)| *t == ct) else {
        let names: Vec<&str> = allowed.iter().map(|(_, e, _)| *e).collect();
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "This kind of file is not accepted here",
        )
        .detail(format!("a {what} is one of: {}", names.join(", "))));
    };
    if body.is_empty() || body.len() > max {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "The file is too large",
        )
        .detail(format!("a {what} is at most {} MiB", max / (1024 * 1024))));
    }
    if !body.starts_with(magic) {
        return Err(invalid(format!(
            "the bytes are not the {what} type the request says"
        )));
    }
    Ok((ct, ext))
}

#[utoipa::path(
    post,
    path = "/api/v1/products/{id}/images",
    tag = "shop",
    summary = "Upload a product image (the raw bytes)",
    params(("id" = i64, Path, description = "Product id", example = 1)),
    request_body(description = "A JPEG, PNG or WebP image, at most 5 MiB", content(("image/jpeg"), ("image/png"), ("image/webp"))),
    responses((status = 201, description = "`{url}`", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn upload_image(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let me = caller.require()?;
    let p = state
        .store
        .product(id)
        .await?
        .ok_or_else(|| ApiError::not_found("product"))?;
    staff(&state, me, p.org, OrgRole::manages_catalog).await?;
    let (ct, ext) = accept_upload(&headers, &body, IMAGE_TYPES, MAX_IMAGE, "image")?;
    let dir = state
        .settings
        .images
        .as_ref()
        .ok_or_else(|| ApiError::unavailable("image storage is not configured"))?;
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(|_| ApiError::internal())?;
    let file = format!("{}-{:016x}.{ext}", p.id, rand_u64());
    tokio::fs::write(dir.join(&file), &body)
        .await
        .map_err(|_| ApiError::internal())?;
    let image = state
        .store
        .add_image(p.id, &file, ct, UnixMillis::now())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "url": format!("/media/images/{image}") })),
    ))
}

/// A name no one can guess from the product id alone.
pub(crate) fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    h.finish()
}

pub(crate) async fn image(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let (file, ct) = state
        .store
        .image(id)
        .await?
        .ok_or_else(|| ApiError::not_found("image"))?;
    let dir = state
        .settings
        .images
        .as_ref()
        .ok_or_else(|| ApiError::not_found("image"))?;
    let bytes = tokio::fs::read(dir.join(&file))
        .await
        .map_err(|_| ApiError::not_found("image"))?;
    Ok((
        [
            (header::CONTENT_TYPE, ct),
            (
                header::CACHE_CONTROL,
                "public, max-age=86400, immutable".to_string(),
            ),
        ],
        bytes,
    )
        .into_response())
}

// ---------------------------------------------------------------------------- showcase and pins

pub(crate) async fn show_and_channel(
    state: &AppState,
    show: i64,
) -> ApiResult<(hawker_domain::Show, hawker_domain::Channel)> {
    let s = state
        .store
        .show(ShowId(show))
        .await?
        .ok_or_else(|| ApiError::not_found("show"))?;
    let c = state
        .store
        .channel(s.channel)
        .await?
        .ok_or_else(|| ApiError::not_found("channel"))?;
    Ok((s, c))
}

/// Host, a moderator with the pin right, or a platform admin.
pub(crate) async fn may_pin(
    state: &AppState,
    caller: &Caller,
    c: &hawker_domain::Channel,
) -> ApiResult<()> {
    let me = caller.require()?;
    if me.id == c.owner || me.role == Role::PlatformAdmin {
        return Ok(());
    }
    match state.store.moderator_rights(c.id, me.id).await? {
        Some(r) if r.pin => Ok(()),
        _ => Err(ApiError::forbidden(
            "the host and moderators with the pin right manage the shelf",
        )),
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ShelfBody {
    /// Product ids, or `{product, sponsored?, host_used?}` with the entry's disclosure.
    products: Vec<super::disclosure::ShelfItem>,
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
    super::disclosure::require_credentials(&state, &products).await?;
    super::disclosure::check_shelf_items(me, &c, &b.products)?;
    state.store.set_shelf(s.id, &ids).await?;
    super::disclosure::apply_shelf_items(&state, me, &s, &c, &b.products).await?;
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
) -> ApiResult<Json<Vec<super::disclosure::ShowcaseCard<ProductView>>>> {
    let (s, c) = show_and_channel(&state, show).await?;
    let store = state.store.channel_shop(c.id).await?.map(|(_, st)| st);
    let disclosures = super::disclosure::Disclosures::of_show(&state, s.id).await?;
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
    let disclosures = super::disclosure::Disclosures::of_show(state, show.id).await?;
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
    super::disclosure::require_credentials(&state, std::slice::from_ref(&product)).await?;
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
    super::disclosure::announce_if_paid(&state, &s, &c, &product).await?;
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
    #[serde(default = "one")]
    quantity: i64,
    #[serde(default)]
    idempotency_key: Option<String>,
    /// As sent: checked without building a tree (see `Shop::buy`).
    #[schema(value_type = Object)]
    address: Box<serde_json::value::RawValue>,
}

fn one() -> i64 {
    1
}

fn idempotency(header: IdempotencyKey, body: Option<String>) -> Option<String> {
    body.or(header.0)
}

/// The `Idempotency-Key` header, read from the request without copying its other headers
/// (a `HeaderMap` extractor clones them all, on the buy path of every flash-sale buyer).
pub(crate) struct IdempotencyKey(Option<String>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for IdempotencyKey {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(IdempotencyKey(
            parts
                .headers
                .get("idempotency-key")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
        ))
    }
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
    // A minor's purchases are capped (an account's minority is cached: adults pay nothing
    // for the check on this hot path).
    let g = &state.guard;
    if g.is_minor(me.id, UnixMillis::now()).await? {
        let sale = state
            .store
            .flash_sale(id)
            .await?
            .ok_or_else(|| ApiError::not_found("flash sale"))?;
        g.may_buy(
            me.id,
            sale.price_minor.saturating_mul(b.quantity),
            UnixMillis::now(),
        )
        .await?;
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
    #[serde(default = "one")]
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
    let items = state
        .store
        .order_items(o.id)
        .await?
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
    origin: super::trust::Origin,
    key_header: IdempotencyKey,
    ApiJson(b): ApiJson<CheckoutBody>,
) -> ApiResult<(StatusCode, Json<OrderView>)> {
    let me = caller.require()?;
    // A minor's order is capped; priced here at list price (a coupon only lowers it). A
    // seller whose owner is suspended or closed sells nothing.
    let g = &state.guard;
    let now = UnixMillis::now();
    let minor = g.is_minor(me.id, now).await?;
    let mut estimate: i64 = 0;
    let mut sellers = std::collections::BTreeSet::new();
    for i in &b.items {
        let sku = state
            .store
            .sku(i.sku)
            .await?
            .ok_or_else(|| ApiError::not_found("sku"))?;
        estimate = estimate.saturating_add(sku.price_minor.saturating_mul(i.quantity.max(0)));
        if let Some(p) = state.store.product(sku.product).await? {
            sellers.insert(p.org);
        }
    }
    if minor {
        g.may_buy(me.id, estimate, now).await?;
    }
    for org in sellers {
        g.kyb_gate(org, now).await?;
        for m in state.store.members(org).await? {
            if m.role == OrgRole::Owner && !g.standing(m.account, now).await?.may_sell() {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "seller_suspended",
                    "Refused by the platform's trust rules",
                )
                .detail("this seller may not sell at the moment"));
            }
        }
    }
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
        &super::trust::address_key(&o.address)
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
    origin: super::trust::Origin,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<PayBody>,
) -> ApiResult<Json<serde_json::Value>> {
    let me = caller.require()?;
    // A closed account's card pays for nobody.
    let g = &state.guard;
    let card_digits: String = b.card.chars().filter(char::is_ascii_digit).collect();
    if g.blacklisted(&[(
        hawker_trust::risk::LinkKind::PaymentInstrument,
        &card_digits,
    )])
    .await?
    {
        return Err(hawker_shop::guard::TrustRefusal::Blacklisted.into());
    }
    let shop = &state.shop;
    let p = shop.pay(me, id, &b.card).await?;
    // The card, the address and where the buyer pays from link accounts for the risk engine;
    // a card everyone uses (a test card, a pooled wallet token) links nobody.
    let mut extra = Vec::new();
    if !shop.shared_instrument(&b.card) {
        extra.push((hawker_trust::risk::LinkKind::PaymentInstrument, card_digits));
    }
    if let Some(o) = state.store.order(id).await? {
        if let Some(a) = super::trust::address_key(&o.address) {
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

/// A CSV download.
pub(crate) fn csv_response(filename: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response()
}

pub(crate) fn csv_field(s: &str) -> String {
    // Quote everything; a leading formula character is neutralised for spreadsheets.
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    format!("\"{}\"", s.replace('"', "\"\""))
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
