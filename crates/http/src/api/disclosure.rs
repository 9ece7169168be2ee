//! Honesty of what is shown, over HTTP (the showcase's own disclosure is `showcase.rs`): virtual
//! (AI) hosts; sellers' credentials for regulated categories (upload, ops review, documents only
//! for the uploader's organisation and platform admins); prize draws
//! (created under the law profile's cap and free-entry rule, entered by keyword or the free
//! route, drawn with a committed seed).

use super::channels::find;
use super::common::{
    accept_upload, invalid, rand_u64, show_and_channel, staff, IMAGE_TYPES, MAX_IMAGE, PDF,
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
use hawker_commerce::disclosure::VIRTUAL_HOST_LABEL;
use hawker_commerce::draw::EntryRoute;
use hawker_commerce::org::OrgRole;
use hawker_domain::{Account, Currency, Role, ShowId, UnixMillis};
use hawker_room::room::StateChange;
use hawker_shop::DrawRequest;
use hawker_storage::disclosure::{
    Credential, CredentialState, Draw, DrawState, EntryOutcome, NewCredential,
};
use serde::{Deserialize, Serialize};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
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
    let file = format!("{org}-{}-{:016x}.{ext}", q.category.as_str(), rand_u64());
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

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewDrawBody {
    prize_description: String,
    prize_minor: i64,
    #[schema(value_type = String)]
    currency: Currency,
    #[serde(default = "super::common::one")]
    winners: u32,
    #[serde(default)]
    keyword: Option<String>,
    #[serde(default)]
    free_entry: bool,
    #[serde(default)]
    buyers_only: bool,
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
    let me = caller.0.as_deref();
    let d = state
        .shop
        .create_draw(
            me,
            ShowId(show),
            DrawRequest {
                prize_description: b.prize_description,
                prize_minor: b.prize_minor,
                currency: b.currency,
                winners: b.winners,
                keyword: b.keyword,
                free_entry: b.free_entry,
                buyers_only: b.buyers_only,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(draw_view(&state, &d, me).await?)))
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
    match state.shop.enter_draw(me, id).await? {
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
    let me = caller.0.as_deref();
    let (d, c) = state.shop.run_draw(me, id).await?;
    let view = draw_view(&state, &d, me).await?;
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
    let me = caller.0.as_deref();
    let d = state.shop.cancel_draw(me, id).await?;
    Ok(Json(draw_view(&state, &d, me).await?))
}
