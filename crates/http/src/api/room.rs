//! Room administration over HTTP: follows, moderators, blocked words, the moderation log,
//! sanctions in force, and a show's chat.

use super::channels::find;
use crate::auth::Caller;
use crate::json::ApiJson;
use crate::problem::{ApiError, ApiResult};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use hawker_domain::{AccountId, Channel, Email, ModeratorRights, Role, ShowId, UnixMillis};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct FollowView {
    following: bool,
    followers: i64,
}

async fn follow_view(
    state: &AppState,
    channel: &Channel,
    following: bool,
) -> ApiResult<FollowView> {
    Ok(FollowView {
        following,
        followers: state.store.follower_count(channel.id).await?,
    })
}

async fn set_follow(
    state: AppState,
    caller: Caller,
    slug: String,
    following: bool,
) -> ApiResult<Json<FollowView>> {
    let me = caller.require()?;
    let c = find(&state, &slug).await?;
    if following {
        let new = state.store.follow(me.id, c.id, UnixMillis::now()).await?;
        if new {
            // "X followed": the host sees the room grow, as on every live-shopping app.
            let _ = state
                .rooms
                .event(
                    &c,
                    "follow",
                    me.display_name.as_str(),
                    "followed the channel",
                )
                .await;
        }
    } else {
        state.store.unfollow(me.id, c.id).await?;
    }
    state.rooms.follow_changed(me.id.0, c.id, following);
    // The follower badge appears (or goes) in the room at once.
    state.rooms.refresh_member(c.id, c.owner, me.id).await;
    Ok(Json(follow_view(&state, &c, following).await?))
}

#[utoipa::path(
    put,
    path = "/api/v1/channels/{slug}/follow",
    tag = "room",
    summary = "Follow a channel",
    params(("slug" = String, Path, description = "The channel's slug", example = "li-wei-farm")),
    responses((status = 200, description = "Follow state", body = FollowView)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn follow(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> ApiResult<Json<FollowView>> {
    set_follow(state, caller, slug, true).await
}

#[utoipa::path(
    delete,
    path = "/api/v1/channels/{slug}/follow",
    tag = "room",
    summary = "Unfollow a channel",
    params(("slug" = String, Path, description = "The channel's slug", example = "li-wei-farm")),
    responses((status = 200, description = "Follow state", body = FollowView)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn unfollow(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> ApiResult<Json<FollowView>> {
    set_follow(state, caller, slug, false).await
}

#[utoipa::path(
    get,
    path = "/api/v1/channels/{slug}/follow",
    tag = "room",
    summary = "Whether the caller follows the channel",
    params(("slug" = String, Path, description = "The channel's slug", example = "li-wei-farm")),
    responses((status = 200, description = "Follow state", body = FollowView)),
    security((), ("bearer" = []), ("session" = []))
)]
pub(crate) async fn follow_status(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> ApiResult<Json<FollowView>> {
    let c = find(&state, &slug).await?;
    let following = match &caller.0 {
        Some(a) => state.store.followed_channels(a.id).await?.contains(&c.id),
        None => false,
    };
    Ok(Json(follow_view(&state, &c, following).await?))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ModeratorView {
    account: i64,
    display_name: String,
    #[schema(value_type = Object)]
    rights: ModeratorRights,
}

#[utoipa::path(
    get,
    path = "/api/v1/channels/{slug}/moderators",
    tag = "room",
    summary = "The channel's moderators",
    params(("slug" = String, Path, description = "The channel's slug", example = "li-wei-farm")),
    responses((status = 200, description = "Moderators", body = Vec<ModeratorView>)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn moderators(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> ApiResult<Json<Vec<ModeratorView>>> {
    let c = find(&state, &slug).await?;
    caller.require_channel_owner(&c)?;
    let rows = state.store.moderators(c.id).await?;
    Ok(Json(
        rows.into_iter()
            .map(|m| ModeratorView {
                account: m.account.0,
                display_name: m.display_name,
                rights: m.rights,
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GrantModerator {
    email: String,
    #[schema(value_type = Object)]
    rights: ModeratorRights,
}

#[utoipa::path(
    post,
    path = "/api/v1/channels/{slug}/moderators",
    tag = "room",
    summary = "Grant moderator rights",
    params(("slug" = String, Path, description = "The channel's slug", example = "li-wei-farm")),
    request_body = GrantModerator,
    responses((status = 201, description = "Granted", body = ModeratorView)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn add_moderator(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<GrantModerator>,
) -> ApiResult<(StatusCode, Json<ModeratorView>)> {
    let c = find(&state, &slug).await?;
    let me = caller.require_channel_owner(&c)?;
    let who = state
        .store
        .account_by_email(&Email::parse(&body.email)?)
        .await?
        .ok_or_else(|| ApiError::not_found("account"))?;
    if who.id == c.owner {
        return Err(ApiError::conflict(
            "already_host",
            "the owner hosts the channel and has every right",
        ));
    }
    state
        .store
        .set_moderator(c.id, who.id, body.rights, me.id, UnixMillis::now())
        .await?;
    state.rooms.refresh_member(c.id, c.owner, who.id).await;
    tracing::info!(channel = %c.slug, moderator = %who.id, by = %me.id, "moderator granted");
    Ok((
        StatusCode::CREATED,
        Json(ModeratorView {
            account: who.id.0,
            display_name: who.display_name.as_str().to_string(),
            rights: body.rights,
        }),
    ))
}

#[utoipa::path(
    delete,
    path = "/api/v1/channels/{slug}/moderators/{account}",
    tag = "room",
    summary = "Remove a moderator",
    params(("slug" = String, Path, description = "The channel's slug", example = "li-wei-farm"), ("account" = i64, Path, description = "Account id", example = 1)),
    responses((status = 204, description = "Removed")),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn remove_moderator(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, account)): Path<(String, i64)>,
) -> ApiResult<StatusCode> {
    let c = find(&state, &slug).await?;
    caller.require_channel_owner(&c)?;
    if !state
        .store
        .remove_moderator(c.id, AccountId(account))
        .await?
    {
        return Err(ApiError::not_found("moderator"));
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Keywords {
    words: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct KeywordsAdded {
    /// Words that were not blocked before.
    added: usize,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct KeywordsRemoved {
    /// Words that were blocked and are not any more.
    removed: usize,
}

fn clean_words(words: Vec<String>) -> ApiResult<Vec<String>> {
    if words.len() > 5000 {
        return Err(ApiError::bad_request("at most 5000 words at a time"));
    }
    let out: Vec<String> = words
        .into_iter()
        .map(|w| w.trim().to_string())
        .filter(|w| !w.is_empty())
        .collect();
    if out.iter().any(|w| w.chars().count() > 100) {
        return Err(ApiError::bad_request(
            "a blocked word is at most 100 characters",
        ));
    }
    Ok(out)
}

/// Whose list: a channel's (owner or admin) or, with no slug, the platform's (admin only).
async fn keyword_scope(
    state: &AppState,
    caller: &Caller,
    slug: Option<&str>,
) -> ApiResult<(Option<Channel>, AccountId)> {
    match slug {
        Some(s) => {
            let c = find(state, s).await?;
            let me = caller.require_channel_owner(&c)?.id;
            Ok((Some(c), me))
        }
        None => {
            let me = caller
                .require_role(|r| r == Role::PlatformAdmin, "the platform-wide list")?
                .id;
            Ok((None, me))
        }
    }
}

async fn list_keywords(
    state: AppState,
    caller: Caller,
    slug: Option<String>,
) -> ApiResult<Json<Vec<String>>> {
    let (c, _) = keyword_scope(&state, &caller, slug.as_deref()).await?;
    Ok(Json(state.store.keywords(c.map(|c| c.id)).await?))
}

async fn add_keywords(
    state: AppState,
    caller: Caller,
    slug: Option<String>,
    body: Keywords,
) -> ApiResult<Json<KeywordsAdded>> {
    let (c, me) = keyword_scope(&state, &caller, slug.as_deref()).await?;
    let words = clean_words(body.words)?;
    let added = state
        .store
        .add_keywords(c.as_ref().map(|c| c.id), &words, me, UnixMillis::now())
        .await?;
    match &c {
        Some(c) => state.rooms.reload_keywords(c.id).await,
        None => state.rooms.reload_all_keywords().await,
    }
    .map_err(|e| {
        tracing::error!(error = %e, "keyword reload failed");
        ApiError::internal()
    })?;
    Ok(Json(KeywordsAdded { added }))
}

async fn remove_keywords(
    state: AppState,
    caller: Caller,
    slug: Option<String>,
    body: Keywords,
) -> ApiResult<Json<KeywordsRemoved>> {
    let (c, _) = keyword_scope(&state, &caller, slug.as_deref()).await?;
    let mut removed = 0;
    for w in clean_words(body.words)? {
        if state
            .store
            .remove_keyword(c.as_ref().map(|c| c.id), &w)
            .await?
        {
            removed += 1;
        }
    }
    match &c {
        Some(c) => state.rooms.reload_keywords(c.id).await,
        None => state.rooms.reload_all_keywords().await,
    }
    .map_err(|_| ApiError::internal())?;
    Ok(Json(KeywordsRemoved { removed }))
}

#[utoipa::path(
    get,
    path = "/api/v1/channels/{slug}/keywords",
    tag = "room",
    summary = "The channel's blocked words",
    params(("slug" = String, Path, description = "The channel's slug", example = "li-wei-farm")),
    responses((status = 200, description = "Words", body = Vec<String>)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn channel_keywords(
    State(s): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> ApiResult<Json<Vec<String>>> {
    list_keywords(s, caller, Some(slug)).await
}
#[utoipa::path(
    post,
    path = "/api/v1/channels/{slug}/keywords",
    tag = "room",
    summary = "Block words in the channel",
    params(("slug" = String, Path, description = "The channel's slug", example = "li-wei-farm")),
    request_body = Keywords,
    responses((status = 200, description = "`{\"added\": n}`", body = KeywordsAdded)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn add_channel_keywords(
    State(s): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    ApiJson(b): ApiJson<Keywords>,
) -> ApiResult<Json<KeywordsAdded>> {
    add_keywords(s, caller, Some(slug), b).await
}
#[utoipa::path(
    delete,
    path = "/api/v1/channels/{slug}/keywords",
    tag = "room",
    summary = "Unblock words in the channel",
    params(("slug" = String, Path, description = "The channel's slug", example = "li-wei-farm")),
    request_body = Keywords,
    responses((status = 200, description = "`{\"removed\": n}`", body = KeywordsRemoved)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn remove_channel_keywords(
    State(s): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    ApiJson(b): ApiJson<Keywords>,
) -> ApiResult<Json<KeywordsRemoved>> {
    remove_keywords(s, caller, Some(slug), b).await
}
#[utoipa::path(
    get,
    path = "/api/v1/keywords",
    tag = "room",
    summary = "The platform's blocked words (admins)",
    responses((status = 200, description = "Words", body = Vec<String>)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn platform_keywords(
    State(s): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<String>>> {
    list_keywords(s, caller, None).await
}
#[utoipa::path(
    post,
    path = "/api/v1/keywords",
    tag = "room",
    summary = "Block words platform-wide (admins)",
    request_body = Keywords,
    responses((status = 200, description = "`{\"added\": n}`", body = KeywordsAdded)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn add_platform_keywords(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<Keywords>,
) -> ApiResult<Json<KeywordsAdded>> {
    add_keywords(s, caller, None, b).await
}
#[utoipa::path(
    delete,
    path = "/api/v1/keywords",
    tag = "room",
    summary = "Unblock words platform-wide (admins)",
    request_body = Keywords,
    responses((status = 200, description = "`{\"removed\": n}`", body = KeywordsRemoved)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn remove_platform_keywords(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<Keywords>,
) -> ApiResult<Json<KeywordsRemoved>> {
    remove_keywords(s, caller, None, b).await
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct LogLine {
    at: i64,
    actor: i64,
    actor_name: String,
    action: String,
    target_account: Option<i64>,
    comment_id: Option<i64>,
    reason: Option<String>,
    detail: String,
}

/// Host, moderators and admins read the log: who did what, when, and why.
#[utoipa::path(
    get,
    path = "/api/v1/channels/{slug}/moderation-log",
    tag = "room",
    summary = "The channel's moderation log",
    params(("slug" = String, Path, description = "The channel's slug", example = "li-wei-farm")),
    responses((status = 200, description = "Log lines, newest first", body = Vec<LogLine>)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn moderation_log(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> ApiResult<Json<Vec<LogLine>>> {
    let c = find(&state, &slug).await?;
    let me = caller.require()?;
    let allowed = me.id == c.owner
        || me.role == Role::PlatformAdmin
        || state.store.moderator_rights(c.id, me.id).await?.is_some();
    if !allowed {
        return Err(ApiError::forbidden(
            "the moderation log is for the host, moderators and platform staff",
        ));
    }
    let mut out = Vec::new();
    for e in state.store.moderation_log(c.id, 500).await? {
        let actor_name = state
            .store
            .account(e.actor)
            .await?
            .map(|a| a.display_name.as_str().to_string())
            .unwrap_or_default();
        out.push(LogLine {
            at: e.at.0,
            actor: e.actor.0,
            actor_name,
            action: e.action,
            target_account: e.target_account.map(|a| a.0),
            comment_id: e.comment_id,
            reason: e.reason,
            detail: e.detail,
        });
    }
    Ok(Json(out))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ChatLine {
    id: i64,
    at: i64,
    account: i64,
    author: String,
    text: String,
    shadow: bool,
    deleted_reason: Option<String>,
}

/// A show's chat as kept, for its host and the platform (records, complaints).
#[utoipa::path(
    get,
    path = "/api/v1/shows/{id}/chat",
    tag = "room",
    summary = "A show's chat as kept",
    params(("id" = i64, Path, description = "Show id", example = 1)),
    responses((status = 200, description = "Comments", body = Vec<ChatLine>)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn show_chat(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<ChatLine>>> {
    let show = state
        .store
        .show(ShowId(id))
        .await?
        .ok_or_else(|| ApiError::not_found("show"))?;
    let c = state
        .store
        .channel(show.channel)
        .await?
        .ok_or_else(|| ApiError::not_found("channel"))?;
    caller.require_channel_owner(&c)?;
    let rows = state.store.comments_of_show(show.id, 100_000).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| ChatLine {
                id: r.id,
                at: r.at.0,
                account: r.account.0,
                author: r.author_name,
                text: r.text,
                shadow: r.shadow,
                deleted_reason: r.deleted_reason,
            })
            .collect(),
    ))
}
