//! Organisations and their catalog over HTTP: shops (organisations) with their stores and staff,
//! which shop a channel sells for, products with their SKUs, prices, stock and images.

use super::channels::find;
use super::common::{accept_upload, invalid, rand_u64, staff, IMAGE_TYPES, MAX_IMAGE};
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
use hawker_commerce::org::{OrgKind, OrgRole};
use hawker_domain::{Currency, Email, Money, Role, UnixMillis};
use hawker_storage::shop::{NewProduct, Product};
use serde::{Deserialize, Serialize};

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
    pub(crate) price_minor: i64,
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
    /// The seller takes 1:1 video consults about it (*Talk to the seller*).
    consultable: bool,
    /// The seller of record: who actually sells this, whoever hosts the show.
    pub(crate) seller: SellerView,
    pub(crate) skus: Vec<SkuView>,
    pub(crate) images: Vec<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct SellerView {
    pub(crate) org: i64,
    pub(crate) name: String,
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
        consultable: state.shop.consultable(p.id).await?,
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
