//! Channels: create, list, look up, stream keys, ingest health.

use super::{show_view, ShowView};
use crate::auth::Caller;
use crate::json::ApiJson;
use crate::problem::{ApiError, ApiResult};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use hawker_broadcast::{IngestStats, StreamStatus};
use hawker_domain::channel::validate_title;
use hawker_domain::{Channel, Email, Role, Slug, StreamKey, UnixMillis};
use hawker_storage::NewChannel;
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateChannel {
    slug: String,
    title: String,
    /// Admins may create a channel for someone else.
    #[serde(default)]
    owner_email: Option<String>,
}

/// What the owner needs to go live. The only response that carries the key besides
/// `stream-key` and `rotate`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ChannelCreated {
    slug: String,
    title: String,
    stream_key: String,
    rtmp_url: String,
    /// WHIP endpoint (RFC 9725): POST an SDP offer with the stream key as `Bearer`.
    whip_url: String,
    /// WHEP endpoint: sub-second playback while the channel publishes over WebRTC.
    whep_url: String,
    /// Go live from a browser (camera and microphone), no app.
    studio_url: String,
    hls_url: String,
    watch_url: String,
}

fn created(state: &AppState, c: &Channel) -> ChannelCreated {
    let base = &state.settings.public_url;
    ChannelCreated {
        slug: c.slug.to_string(),
        title: c.title.clone(),
        stream_key: c.stream_key.expose().to_string(),
        rtmp_url: state.settings.rtmp_url.clone(),
        whip_url: format!("{base}/whip/{}", c.slug),
        whep_url: format!("{base}/whep/{}", c.slug),
        studio_url: format!("{base}/studio?channel={}", c.slug),
        hls_url: format!("{base}/live/{}/index.m3u8", c.slug),
        watch_url: format!("{base}/c/{}", c.slug),
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/channels",
    tag = "channels",
    summary = "Create a channel",
    request_body = CreateChannel,
    responses((status = 201, description = "Created, with its stream key", body = ChannelCreated)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateChannel>,
) -> ApiResult<(StatusCode, Json<ChannelCreated>)> {
    let me = caller.require_role(Role::may_broadcast, "creating a channel")?;
    let slug = Slug::parse(&body.slug)?;
    let title = validate_title(&body.title)?;
    let owner = match body.owner_email {
        Some(e) if me.role == Role::PlatformAdmin => {
            let email = Email::parse(&e)?;
            state
                .store
                .account_by_email(&email)
                .await?
                .ok_or_else(|| ApiError::not_found("owner account"))?
                .id
        }
        Some(_) => {
            return Err(ApiError::forbidden(
                "only admins create channels for others",
            ))
        }
        None => me.id,
    };
    let channel = state
        .store
        .create_channel(NewChannel {
            slug,
            title,
            owner,
            stream_key: StreamKey::generate(),
            created_at: UnixMillis::now(),
        })
        .await
        .map_err(|e| match e {
            hawker_storage::StorageError::Conflict { .. } => {
                ApiError::conflict("slug_taken", "a channel with this slug exists")
            }
            other => other.into(),
        })?;
    tracing::info!(channel = %channel.slug, owner = %owner, "channel created");
    Ok((StatusCode::CREATED, Json(created(&state, &channel))))
}

/// The caller's own channels, with what their encoders need.
#[utoipa::path(
    get,
    path = "/api/v1/me/channels",
    tag = "channels",
    summary = "The caller's channels with their stream keys",
    responses((status = 200, description = "Channels", body = Vec<ChannelCreated>)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn mine(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<ChannelCreated>>> {
    let me = caller.require()?;
    let channels = state.store.channels_owned_by(me.id).await?;
    Ok(Json(channels.iter().map(|c| created(&state, c)).collect()))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ChannelView {
    slug: String,
    title: String,
    owner: String,
    live: bool,
    watch_url: String,
    hls_url: String,
    /// The show on air or in its grace period.
    current_show: Option<ShowView>,
    /// Live from a WebRTC publisher: `whep_url` plays it with sub-second delay.
    webrtc: bool,
    whep_url: String,
    /// The host is virtual (an AI): shown as `host_label` wherever the channel is.
    virtual_host: bool,
    host_label: Option<&'static str>,
}

async fn channel_view(state: &AppState, c: &Channel) -> ApiResult<ChannelView> {
    let base = &state.settings.public_url;
    let owner = state
        .store
        .account(c.owner)
        .await?
        .map(|a| a.display_name.as_str().to_string())
        .unwrap_or_default();
    let live = state.live.stream(c.slug.as_str());
    let current_show = state
        .store
        .live_show_of_channel(c.id)
        .await?
        .map(|s| show_view(base, &s, c, false));
    let virtual_host = state.store.virtual_host(c.id).await?;
    Ok(ChannelView {
        slug: c.slug.to_string(),
        title: c.title.clone(),
        owner,
        live: live.is_some_and(|s| !s.is_ended()),
        watch_url: format!("{base}/c/{}", c.slug),
        hls_url: format!("{base}/live/{}/index.m3u8", c.slug),
        current_show,
        webrtc: state.rtc.publishing(c.slug.as_str()),
        whep_url: format!("{base}/whep/{}", c.slug),
        virtual_host,
        host_label: virtual_host.then_some(hawker_commerce::disclosure::VIRTUAL_HOST_LABEL),
    })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct Page {
    #[serde(default = "default_limit")]
    limit: i64,
    #[serde(default)]
    offset: i64,
}

fn default_limit() -> i64 {
    50
}

#[utoipa::path(
    get,
    path = "/api/v1/channels",
    tag = "channels",
    summary = "List channels",
    params(Page),
    responses((status = 200, description = "Channels", body = Vec<ChannelView>))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Query(p): Query<Page>,
) -> ApiResult<Json<Vec<ChannelView>>> {
    let limit = p.limit.clamp(1, 200);
    let offset = p.offset.max(0);
    let mut out = Vec::new();
    for c in state.store.list_channels(limit, offset).await? {
        out.push(channel_view(&state, &c).await?);
    }
    Ok(Json(out))
}

pub(crate) async fn find(state: &AppState, slug: &str) -> ApiResult<Channel> {
    let slug = Slug::parse(slug).map_err(|_| ApiError::not_found("channel"))?;
    state
        .store
        .channel_by_slug(&slug)
        .await?
        .ok_or_else(|| ApiError::not_found("channel"))
}

#[utoipa::path(
    get,
    path = "/api/v1/channels/{slug}",
    tag = "channels",
    summary = "One channel",
    params(("slug" = String, Path, description = "The channel's slug", example = "li-wei-farm")),
    responses((status = 200, description = "The channel", body = ChannelView))
)]
pub(crate) async fn get_one(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> ApiResult<Json<ChannelView>> {
    let c = find(&state, &slug).await?;
    Ok(Json(channel_view(&state, &c).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/channels/{slug}/stream-key",
    tag = "channels",
    summary = "The channel's stream key",
    params(("slug" = String, Path, description = "The channel's slug", example = "li-wei-farm")),
    responses((status = 200, description = "What the encoder needs", body = ChannelCreated)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn stream_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> ApiResult<Json<ChannelCreated>> {
    let c = find(&state, &slug).await?;
    caller.require_channel_owner(&c)?;
    Ok(Json(created(&state, &c)))
}

#[utoipa::path(
    post,
    path = "/api/v1/channels/{slug}/stream-key/rotate",
    tag = "channels",
    summary = "Rotate the stream key",
    params(("slug" = String, Path, description = "The channel's slug", example = "li-wei-farm")),
    responses((status = 200, description = "The new key", body = ChannelCreated)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn rotate_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> ApiResult<Json<ChannelCreated>> {
    let mut c = find(&state, &slug).await?;
    let who = caller.require_channel_owner(&c)?;
    let key = StreamKey::generate();
    state.store.rotate_stream_key(c.id, &key).await?;
    tracing::info!(channel = %c.slug, by = %who.id, new_key = %key, "stream key rotated");
    c.stream_key = key;
    Ok(Json(created(&state, &c)))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct IngestView {
    #[schema(value_type = Option<Object>)]
    status: Option<StreamStatus>,
    #[schema(value_type = Option<Object>)]
    stats: Option<IngestStats>,
}

#[utoipa::path(
    get,
    path = "/api/v1/channels/{slug}/ingest",
    tag = "channels",
    summary = "Ingest health",
    params(("slug" = String, Path, description = "The channel's slug", example = "li-wei-farm")),
    responses((status = 200, description = "Status and statistics of the live input", body = IngestView)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn ingest(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> ApiResult<Json<IngestView>> {
    let c = find(&state, &slug).await?;
    caller.require_channel_owner(&c)?;
    let live = state.live.stream(c.slug.as_str());
    Ok(Json(IngestView {
        status: live.as_ref().map(|s| s.status()),
        stats: live.as_ref().map(|s| s.ingest_stats()),
    }))
}
