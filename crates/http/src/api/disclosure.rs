//! Honesty of what is shown, over HTTP: the disclosure of each showcase entry (sponsored, the
//! host's statement of use) and the paid-promotion label on cards and pins; virtual (AI) hosts;
//! sellers' credentials for regulated categories (upload, ops review, the gate on showcases and
//! pins, documents only for the uploader's organisation and platform admins); prize draws
//! (created under the law profile's cap and free-entry rule, entered by keyword or the free
//! route, drawn with a committed seed).

use super::channels::find;
use super::shop::{
    accept_upload, invalid, may_pin, pinned_state, show_and_channel, staff, IMAGE_TYPES, MAX_IMAGE,
    PDF,
};
use crate::auth::Caller;
use crate::json::ApiJson;
use crate::problem::{ApiError, ApiResult};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use hawker_commerce::catalog::Category;
use hawker_commerce::disclosure::{
    CardDisclosure, DisclosureRules, ShowcaseFacts, VIRTUAL_HOST_LABEL,
};
use hawker_commerce::draw::{self, DrawRules, DrawTerms, EntryRoute};
use hawker_commerce::law::LawProfile;
use hawker_commerce::org::OrgRole;
use hawker_domain::{Account, AccountId, Currency, Money, Role, ShowId, ShowState, UnixMillis};
use hawker_room::room::StateChange;
use hawker_storage::disclosure::{
    Credential, CredentialState, Draw, DrawResult, DrawState, EntryChange, EntryOutcome,
    NewCredential, NewDraw, ShowcaseEntry,
};
use hawker_storage::shop::Product;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/shows/{id}/shelf/{product}",
            put(set_showcase_entry),
        )
        .route(
            "/api/v1/channels/{slug}/virtual-host",
            put(set_virtual_host),
        )
        .route(
            "/api/v1/orgs/{id}/credentials",
            get(org_credentials)
                .post(upload_credential)
                .layer(axum::extract::DefaultBodyLimit::max(MAX_IMAGE + 1)),
        )
        .route(
            "/api/v1/credentials/{id}/document",
            get(credential_document),
        )
        .route("/api/v1/admin/credentials", get(credential_queue))
        .route(
            "/api/v1/admin/credentials/{id}/review",
            post(review_credential),
        )
        .route(
            "/api/v1/shows/{id}/draws",
            get(show_draws).post(create_draw),
        )
        .route("/api/v1/draws/{id}", get(get_draw))
        .route("/api/v1/draws/{id}/entries", post(enter_draw))
        .route("/api/v1/draws/{id}/draw", post(run_draw))
        .route("/api/v1/draws/{id}/cancel", post(cancel_draw))
}

fn law(state: &AppState) -> LawProfile {
    state.shop.law().clone()
}

// ---------------------------------------------------------------------------- showcase

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
            rules: law(state).disclosure,
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

// ---------------------------------------------------------------------------- virtual hosts

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct VirtualHostBody {
    virtual_host: bool,
}

#[utoipa::path(
    put,
    path = "/api/v1/channels/{slug}/virtual-host",
    tag = "disclosure",
    summary = "Mark the host as virtual (an AI)",
    params(("slug" = String, Path, description = "The channel's slug", example = "li-wei-farm")),
    request_body = VirtualHostBody,
    responses((status = 200, description = "`{virtual_host, host_label}`", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn set_virtual_host(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    ApiJson(b): ApiJson<VirtualHostBody>,
) -> ApiResult<Json<serde_json::Value>> {
    let c = find(&state, &slug).await?;
    let me = caller.require_channel_owner(&c)?;
    state.store.set_virtual_host(c.id, b.virtual_host).await?;
    tracing::info!(channel = %c.slug, by = %me.id, virtual_host = b.virtual_host, "virtual host label changed");
    let hosts = state
        .rooms
        .hosts_of(&c)
        .await
        .map_err(|_| ApiError::internal())?;
    state
        .rooms
        .set_state(&c, StateChange::Hosts(hosts))
        .await
        .map_err(|_| ApiError::internal())?;
    Ok(Json(serde_json::json!({
        "virtual_host": b.virtual_host,
        "host_label": b.virtual_host.then_some(VIRTUAL_HOST_LABEL),
    })))
}

// ---------------------------------------------------------------------------- credentials

/// Beside the identity documents, never under the public media routes.
fn credentials_dir(state: &AppState) -> Option<std::path::PathBuf> {
    state
        .settings
        .documents
        .as_ref()
        .map(|d| d.join("credentials"))
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

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct CredentialView {
    id: i64,
    org: i64,
    #[schema(value_type = String)]
    category: Category,
    state: &'static str,
    valid_until: Option<i64>,
    uploaded_at: i64,
    reviewed_at: Option<i64>,
    reason: Option<String>,
    document_url: String,
}

fn credential_view(c: &Credential) -> CredentialView {
    CredentialView {
        id: c.id,
        org: c.credential.org,
        category: c.credential.category,
        state: c.state.as_str(),
        valid_until: c.credential.valid_until.map(|t| t.0),
        uploaded_at: c.credential.uploaded_at.0,
        reviewed_at: c.reviewed_at.map(|t| t.0),
        reason: c.reason.clone(),
        document_url: format!("/api/v1/credentials/{}/document", c.id),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct UploadQuery {
    #[param(value_type = String)]
    category: Category,
    valid_until: Option<i64>,
}

/// A licence document for a regulated category: the raw image (JPEG, PNG, WebP) or PDF as the
/// body, `?category=food`; pending until ops review it.
#[utoipa::path(
    post,
    path = "/api/v1/orgs/{id}/credentials",
    tag = "disclosure",
    summary = "Upload a credential for a regulated category (the raw bytes)",
    params(("id" = i64, Path, description = "Organisation id", example = 1), UploadQuery),
    request_body(description = "A JPEG, PNG, WebP or PDF, at most 5 MiB", content(("image/jpeg"), ("image/png"), ("image/webp"), ("application/pdf"))),
    responses((status = 201, description = "The credential, pending review", body = CredentialView)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn upload_credential(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<i64>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<CredentialView>)> {
    let me = caller.require()?;
    staff(&state, me, org, OrgRole::manages_catalog).await?;
    if !q.category.regulated() {
        return Err(invalid(
            "category: only food, cosmetics, health, education and finance need a credential",
        ));
    }
    let now = UnixMillis::now();
    if q.valid_until.is_some_and(|t| t <= now.0) {
        return Err(invalid("valid_until: in the future"));
    }
    let (ct, ext) = accept_upload(
        &headers,
        &body,
        &[IMAGE_TYPES[0], IMAGE_TYPES[1], IMAGE_TYPES[2], PDF],
        MAX_IMAGE,
        "document",
    )?;
    let dir = credentials_dir(&state)
        .ok_or_else(|| ApiError::unavailable("document storage is not configured"))?;
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|_| ApiError::internal())?;
    let file = format!(
        "{org}-{}-{:016x}.{ext}",
        q.category.as_str(),
        super::shop::rand_u64()
    );
    tokio::fs::write(dir.join(&file), &body)
        .await
        .map_err(|_| ApiError::internal())?;
    let c = state
        .store
        .add_credential(&NewCredential {
            org,
            category: q.category,
            file,
            content_type: ct.to_string(),
            valid_until: q.valid_until.map(UnixMillis),
            uploaded_by: me.id,
            uploaded_at: now,
        })
        .await?;
    tracing::info!(
        org,
        credential = c.id,
        category = q.category.as_str(),
        "credential uploaded"
    );
    Ok((StatusCode::CREATED, Json(credential_view(&c))))
}

#[utoipa::path(
    get,
    path = "/api/v1/orgs/{id}/credentials",
    tag = "disclosure",
    summary = "An organisation's credentials",
    params(("id" = i64, Path, description = "Organisation id", example = 1)),
    responses((status = 200, description = "Credentials", body = Vec<CredentialView>)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn org_credentials(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<i64>,
) -> ApiResult<Json<Vec<CredentialView>>> {
    let me = caller.require()?;
    staff(&state, me, org, |_| true).await?;
    Ok(Json(
        state
            .store
            .credentials_of_org(org)
            .await?
            .iter()
            .map(credential_view)
            .collect(),
    ))
}

/// The document itself: to the uploader's organisation and platform admins; to anyone else it
/// does not exist.
#[utoipa::path(
    get,
    path = "/api/v1/credentials/{id}/document",
    tag = "disclosure",
    summary = "A credential's document",
    params(("id" = i64, Path, description = "Credential id", example = 1)),
    responses((status = 200, description = "The document as uploaded", content(([u8] = "image/jpeg"), ([u8] = "image/png"), ([u8] = "image/webp"), ([u8] = "application/pdf")))),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn credential_document(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let me = caller.require()?;
    let c = state
        .store
        .credential(id)
        .await?
        .ok_or_else(|| ApiError::not_found("credential"))?;
    if me.role != Role::PlatformAdmin
        && staff(&state, me, c.credential.org, |_| true).await.is_err()
    {
        return Err(ApiError::not_found("credential"));
    }
    let dir = credentials_dir(&state).ok_or_else(|| ApiError::not_found("document"))?;
    let bytes = tokio::fs::read(dir.join(&c.credential.file))
        .await
        .map_err(|_| ApiError::not_found("document"))?;
    Ok((
        [
            (header::CONTENT_TYPE, c.credential.content_type.clone()),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct QueueQuery {
    state: Option<String>,
}

/// Ops' review queue: pending credentials, oldest first (or another state).
#[utoipa::path(
    get,
    path = "/api/v1/admin/credentials",
    tag = "disclosure",
    summary = "The credential review queue (admins)",
    params(QueueQuery),
    responses((status = 200, description = "Credentials with their organisation", body = Vec<Object>)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn credential_queue(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<QueueQuery>,
) -> ApiResult<Json<Vec<serde_json::Value>>> {
    caller.require_role(|r| r == Role::PlatformAdmin, "reviewing credentials")?;
    let st = match q.state.as_deref() {
        None => CredentialState::Pending,
        Some(s) => CredentialState::parse(s)
            .ok_or_else(|| ApiError::bad_request(format!("unknown state {s:?}")))?,
    };
    let mut out = Vec::new();
    for c in state.store.credentials_in_state(st, 500).await? {
        let org = state
            .store
            .org(c.credential.org)
            .await?
            .map(|o| o.name)
            .unwrap_or_default();
        let mut v = serde_json::to_value(credential_view(&c)).map_err(|_| ApiError::internal())?;
        v["org_name"] = serde_json::Value::String(org);
        out.push(v);
    }
    Ok(Json(out))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = CredentialDecision)]
pub(crate) enum Decision {
    Approve,
    Reject,
    Revoke,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = CredentialReviewBody)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReviewBody {
    decision: Decision,
    #[serde(default)]
    reason: Option<String>,
}

/// approve (pending → approved), reject (pending → rejected, with a reason) or revoke
/// (approved → revoked, with a reason). Who decided, when and why stay on the credential.
#[utoipa::path(
    post,
    path = "/api/v1/admin/credentials/{id}/review",
    tag = "disclosure",
    summary = "Approve, reject or revoke a credential (admins)",
    params(("id" = i64, Path, description = "Credential id", example = 1)),
    request_body = ReviewBody,
    responses((status = 200, description = "The credential", body = CredentialView)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn review_credential(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ReviewBody>,
) -> ApiResult<Json<CredentialView>> {
    let me = caller.require_role(|r| r == Role::PlatformAdmin, "reviewing credentials")?;
    let reason = b.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > 500) {
        return Err(invalid("reason: at most 500 characters"));
    }
    let (from, to) = match b.decision {
        Decision::Approve => (CredentialState::Pending, CredentialState::Approved),
        Decision::Reject => (CredentialState::Pending, CredentialState::Rejected),
        Decision::Revoke => (CredentialState::Approved, CredentialState::Revoked),
    };
    if to != CredentialState::Approved && reason.is_none() {
        return Err(invalid("reason: say why, the seller reads it"));
    }
    let c = state
        .store
        .credential(id)
        .await?
        .ok_or_else(|| ApiError::not_found("credential"))?;
    if !state
        .store
        .review_credential(id, from, to, me.id, reason, UnixMillis::now())
        .await?
    {
        let now = state
            .store
            .credential(id)
            .await?
            .map_or(c.state, |c| c.state);
        return Err(ApiError::conflict(
            "already_reviewed",
            format!("the credential is {}, not {}", now.as_str(), from.as_str()),
        ));
    }
    tracing::info!(credential = id, by = %me.id, decision = to.as_str(), "credential reviewed");
    state
        .store
        .audit(
            Some(me.id),
            &format!("credential_{}", to.as_str()),
            &format!("credential:{id}"),
            reason.unwrap_or(""),
            UnixMillis::now(),
        )
        .await?;
    let c = state
        .store
        .credential(id)
        .await?
        .ok_or_else(|| ApiError::not_found("credential"))?;
    Ok(Json(credential_view(&c)))
}

// ---------------------------------------------------------------------------- prize draws

fn draw_refused(code: &'static str, detail: String) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        code,
        "The prize draw is not allowed",
    )
    .detail(detail)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewDrawBody {
    prize_description: String,
    prize_minor: i64,
    #[schema(value_type = String)]
    currency: Currency,
    #[serde(default = "one")]
    winners: u32,
    #[serde(default)]
    keyword: Option<String>,
    #[serde(default)]
    free_entry: bool,
    #[serde(default)]
    buyers_only: bool,
}

fn one() -> u32 {
    1
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct WinnerView {
    account: i64,
    name: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct DrawView {
    id: i64,
    show: i64,
    state: &'static str,
    prize_description: String,
    prize: String,
    prize_minor: i64,
    #[schema(value_type = String)]
    currency: Currency,
    winners: u32,
    keyword: Option<String>,
    free_entry: bool,
    buyers_only: bool,
    /// Anyone may enter without buying anything.
    no_purchase_necessary: bool,
    /// The law profile it was created under.
    law: String,
    /// SHA-256 of the seed, published from the start.
    seed_commitment: String,
    /// Revealed once drawn: re-run the selection with it.
    seed: Option<String>,
    algorithm: Option<String>,
    /// Entries so far (open), or counted at the draw.
    entrants: i64,
    entrants_digest: Option<String>,
    drawn: Vec<WinnerView>,
    created_at: i64,
    closed_at: Option<i64>,
    drawn_at: Option<i64>,
    /// The caller's entry, if any: `keyword` or `free`.
    #[schema(value_type = Option<String>)]
    your_entry: Option<EntryRoute>,
}

async fn draw_view(state: &AppState, d: &Draw, me: Option<&Account>) -> ApiResult<DrawView> {
    let mut drawn = Vec::new();
    for w in &d.winners {
        let name = state
            .store
            .account(*w)
            .await?
            .map(|a| a.display_name.as_str().to_string())
            .unwrap_or_default();
        drawn.push(WinnerView { account: w.0, name });
    }
    let entrants = match d.entrants {
        Some(n) => n,
        None => state.store.draw_entry_count(d.id).await?,
    };
    let your_entry = match me {
        Some(a) => state.store.draw_entry(d.id, a.id).await?,
        None => None,
    };
    let t = &d.draw;
    Ok(DrawView {
        id: d.id,
        show: t.show.0,
        state: d.state.as_str(),
        prize_description: t.prize_description.clone(),
        prize: t.prize.to_string(),
        prize_minor: t.prize.minor,
        currency: t.prize.currency,
        winners: t.winners,
        keyword: t.keyword.clone(),
        free_entry: t.free_entry,
        buyers_only: t.buyers_only,
        no_purchase_necessary: t.free_entry && !t.buyers_only,
        law: t.law.clone(),
        seed_commitment: t.seed_commitment.clone(),
        seed: (d.state == DrawState::Drawn).then(|| t.seed.clone()),
        algorithm: d.algorithm.clone(),
        entrants,
        entrants_digest: d.entrants_digest.clone(),
        drawn,
        created_at: t.created_at.0,
        closed_at: d.closed_at.map(|t| t.0),
        drawn_at: d.drawn_at.map(|t| t.0),
        your_entry,
    })
}

fn terms_of(d: &NewDraw) -> DrawTerms {
    DrawTerms {
        prize_description: d.prize_description.clone(),
        prize: d.prize,
        winners: d.winners,
        keyword: d.keyword.clone(),
        free_entry: d.free_entry,
        buyers_only: d.buyers_only,
    }
}

/// The host (or an admin) runs the show's draws.
fn require_host<'a>(caller: &'a Caller, c: &hawker_domain::Channel) -> ApiResult<&'a Account> {
    caller
        .require_channel_owner(c)
        .map_err(|_| ApiError::forbidden("only the host runs prize draws"))
}

#[utoipa::path(
    post,
    path = "/api/v1/shows/{id}/draws",
    tag = "disclosure",
    summary = "Create a prize draw",
    params(("id" = i64, Path, description = "Show id", example = 1)),
    request_body = NewDrawBody,
    responses((status = 201, description = "The draw", body = DrawView)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn create_draw(
    State(state): State<AppState>,
    caller: Caller,
    Path(show): Path<i64>,
    ApiJson(b): ApiJson<NewDrawBody>,
) -> ApiResult<(StatusCode, Json<DrawView>)> {
    let (s, c) = show_and_channel(&state, show).await?;
    let me = require_host(&caller, &c)?;
    if matches!(s.state, ShowState::Ended | ShowState::Cancelled) {
        return Err(invalid("show: it is over"));
    }
    let law = law(&state);
    let terms = DrawTerms {
        prize_description: b.prize_description.trim().to_string(),
        prize: Money::new(b.prize_minor, b.currency),
        winners: b.winners,
        keyword: b.keyword.clone(),
        free_entry: b.free_entry,
        buyers_only: b.buyers_only,
    };
    law.draws
        .check(&terms)
        .map_err(|e| draw_refused(e.code(), e.to_string()))?;
    let seed: [u8; 32] = rand_seed();
    let d = state
        .store
        .create_draw(&NewDraw {
            show: s.id,
            created_by: me.id,
            prize_description: terms.prize_description,
            prize: terms.prize,
            winners: terms.winners,
            keyword: terms.keyword,
            free_entry: terms.free_entry,
            buyers_only: terms.buyers_only,
            law: law.name.clone(),
            seed: draw::hex(&seed),
            seed_commitment: draw::commitment(&seed),
            created_at: UnixMillis::now(),
        })
        .await?;
    tracing::info!(draw = d.id, show = %s.id, prize = %d.draw.prize, "prize draw created");
    Ok((
        StatusCode::CREATED,
        Json(draw_view(&state, &d, Some(me)).await?),
    ))
}

/// 32 bytes from the operating system's CSPRNG.
fn rand_seed() -> [u8; 32] {
    use rand::RngCore;
    let mut seed = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut seed);
    seed
}

#[utoipa::path(
    get,
    path = "/api/v1/shows/{id}/draws",
    tag = "disclosure",
    summary = "A show's prize draws",
    params(("id" = i64, Path, description = "Show id", example = 1)),
    responses((status = 200, description = "Draws", body = Vec<DrawView>)),
    security((), ("bearer" = []), ("session" = []))
)]
pub(crate) async fn show_draws(
    State(state): State<AppState>,
    caller: Caller,
    Path(show): Path<i64>,
) -> ApiResult<Json<Vec<DrawView>>> {
    let (s, _) = show_and_channel(&state, show).await?;
    let mut out = Vec::new();
    for d in state.store.draws_of_show(s.id).await? {
        out.push(draw_view(&state, &d, caller.0.as_deref()).await?);
    }
    Ok(Json(out))
}

#[utoipa::path(
    get,
    path = "/api/v1/draws/{id}",
    tag = "disclosure",
    summary = "One prize draw",
    params(("id" = i64, Path, description = "Draw id", example = 1)),
    responses((status = 200, description = "The draw", body = DrawView)),
    security((), ("bearer" = []), ("session" = []))
)]
pub(crate) async fn get_draw(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<DrawView>> {
    let d = state
        .store
        .draw(id)
        .await?
        .ok_or_else(|| ApiError::not_found("prize draw"))?;
    Ok(Json(draw_view(&state, &d, caller.0.as_deref()).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Empty {}

/// The free entry route: any logged-in account, no purchase necessary (unless the draw is
/// buyers-only where the law allows that). A JSON body (`{}`) like every mutating route.
#[utoipa::path(
    post,
    path = "/api/v1/draws/{id}/entries",
    tag = "disclosure",
    summary = "Enter a draw by the free route",
    params(("id" = i64, Path, description = "Draw id", example = 1)),
    request_body = Empty,
    responses((status = 201, description = "Entered", body = Object), (status = 200, description = "Already entered", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn enter_draw(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(_): ApiJson<Empty>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let me = caller.require()?;
    let d = state
        .store
        .draw(id)
        .await?
        .ok_or_else(|| ApiError::not_found("prize draw"))?;
    if d.state != DrawState::Open {
        return Err(ApiError::conflict(
            "draw_closed",
            format!("the draw is {}", d.state.as_str()),
        ));
    }
    let rules: DrawRules = law(&state).draws;
    let terms = terms_of(&d.draw);
    // An order is looked for only where the draw asks for one and the law lets it.
    let has_order = if terms.buyers_only && !rules.free_entry_required {
        state
            .store
            .has_paid_order_in_show(me.id, d.draw.show)
            .await?
    } else {
        false
    };
    rules
        .may_enter(&terms, EntryRoute::Free, has_order)
        .map_err(|e| draw_refused(e.code(), e.to_string()))?;
    match state
        .store
        .enter_draw(id, me.id, EntryRoute::Free, UnixMillis::now())
        .await?
    {
        EntryOutcome::Entered => Ok((
            StatusCode::CREATED,
            Json(serde_json::json!({ "draw": id, "entered": true, "route": "free" })),
        )),
        EntryOutcome::AlreadyEntered => Ok((
            StatusCode::OK,
            Json(serde_json::json!({ "draw": id, "entered": true, "already": true })),
        )),
        EntryOutcome::NotOpen => Err(ApiError::conflict("draw_closed", "the draw has closed")),
    }
}

/// Closes entries, collects keyword entries from the show's chat up to that moment, picks the
/// winners with the committed seed and reveals it. Retried after a crash, it finishes the same
/// draw the same way.
#[utoipa::path(
    post,
    path = "/api/v1/draws/{id}/draw",
    tag = "disclosure",
    summary = "Draw the winners",
    params(("id" = i64, Path, description = "Draw id", example = 1)),
    request_body = Empty,
    responses((status = 200, description = "The drawn draw", body = DrawView)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn run_draw(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(_): ApiJson<Empty>,
) -> ApiResult<Json<DrawView>> {
    let d = state
        .store
        .draw(id)
        .await?
        .ok_or_else(|| ApiError::not_found("prize draw"))?;
    let (_, c) = show_and_channel(&state, d.draw.show.0).await?;
    let me = require_host(&caller, &c)?;
    match d.state {
        DrawState::Open => {
            state.store.close_draw(id, UnixMillis::now()).await?;
        }
        DrawState::Closing => {}
        DrawState::Drawn => {
            return Err(ApiError::conflict(
                "already_drawn",
                "the draw has been drawn",
            ))
        }
        DrawState::Cancelled => {
            return Err(ApiError::conflict(
                "draw_cancelled",
                "the draw was cancelled",
            ))
        }
    }
    let d = state
        .store
        .draw(id)
        .await?
        .ok_or_else(|| ApiError::not_found("prize draw"))?;
    if d.state == DrawState::Closing {
        let rules = law(&state).draws;
        let closed = d.closed_at.unwrap_or(d.draw.created_at);
        if let Some(k) = &d.draw.keyword {
            state
                .store
                .add_keyword_entries(
                    id,
                    d.draw.show,
                    k,
                    d.draw.created_at,
                    closed,
                    d.draw.buyers_only && !rules.free_entry_required,
                )
                .await?;
        }
        let entrants = state.store.draw_entrants(id).await?;
        let seed = draw::seed_from_hex(&d.draw.seed).ok_or_else(|| {
            ApiError::from(hawker_storage::StorageError::Corrupt("draw seed".into()))
        })?;
        let winners = draw::pick_winners(&seed, &entrants, d.draw.winners as usize);
        state
            .store
            .complete_draw(
                id,
                &DrawResult {
                    winners: winners.iter().copied().map(AccountId).collect(),
                    entrants: entrants.len() as i64,
                    entrants_digest: draw::entrants_digest(&entrants),
                    algorithm: draw::ALGORITHM.into(),
                    drawn_at: UnixMillis::now(),
                },
            )
            .await?;
    }
    let d = state
        .store
        .draw(id)
        .await?
        .ok_or_else(|| ApiError::not_found("prize draw"))?;
    let view = draw_view(&state, &d, Some(me)).await?;
    if d.state == DrawState::Drawn {
        let names: Vec<&str> = view.drawn.iter().map(|w| w.name.as_str()).collect();
        let detail = if names.is_empty() {
            format!("prize draw for {}: no entries", view.prize_description)
        } else {
            format!(
                "prize draw for {}: won by {}",
                view.prize_description,
                names.join(", ")
            )
        };
        let _ = state.rooms.event(&c, "draw", "Prize draw", &detail).await;
        tracing::info!(draw = id, entrants = view.entrants, "prize draw drawn");
    }
    Ok(Json(view))
}

#[utoipa::path(
    post,
    path = "/api/v1/draws/{id}/cancel",
    tag = "disclosure",
    summary = "Cancel a draw",
    params(("id" = i64, Path, description = "Draw id", example = 1)),
    request_body = Empty,
    responses((status = 200, description = "The cancelled draw", body = DrawView)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn cancel_draw(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(_): ApiJson<Empty>,
) -> ApiResult<Json<DrawView>> {
    let d = state
        .store
        .draw(id)
        .await?
        .ok_or_else(|| ApiError::not_found("prize draw"))?;
    let (_, c) = show_and_channel(&state, d.draw.show.0).await?;
    let me = require_host(&caller, &c)?;
    if !state.store.cancel_draw(id).await? {
        return Err(ApiError::conflict(
            "draw_closed",
            format!("the draw is {}", d.state.as_str()),
        ));
    }
    let d = state
        .store
        .draw(id)
        .await?
        .ok_or_else(|| ApiError::not_found("prize draw"))?;
    Ok(Json(draw_view(&state, &d, Some(me)).await?))
}
