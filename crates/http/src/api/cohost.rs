//! Co-hosting: the host's invite link, the guest's acceptance, the host dropping the guest.
//! The workflow is `hawker_rtc::cohost::CoHosts`; the call itself is `/call/{call}` (WebRTC).

use super::channels::find;
use crate::auth::Caller;
use crate::problem::{ApiError, ApiResult};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use hawker_domain::UnixMillis;
use hawker_rtc::cohost::{CoHostError, Invite};
use serde::Serialize;

/// An invite as the host sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct InviteView {
    channel: String,
    /// The link to send the guest.
    join_url: String,
    /// Where host and guest POST their call offers (WebRTC, `application/sdp`).
    call_url: String,
    /// The guest who accepted, if any.
    guest: Option<GuestView>,
    /// The guest is in the call now.
    guest_connected: bool,
    expires_at: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct GuestView {
    account: i64,
    display_name: String,
}

async fn view(state: &AppState, i: &Invite) -> ApiResult<InviteView> {
    let base = &state.settings.public_url;
    let guest = match i.guest {
        Some(g) => state
            .store
            .account(hawker_domain::AccountId(g))
            .await?
            .map(|a| GuestView {
                account: g,
                display_name: a.display_name.as_str().to_string(),
            }),
        None => None,
    };
    let guest_connected = i
        .guest
        .is_some_and(|g| state.rtc.parties(&i.call()).contains(&g));
    Ok(InviteView {
        channel: i.slug.clone(),
        join_url: format!("{base}/studio/co-host/{}", i.token),
        call_url: format!("{base}/call/{}", i.call()),
        guest,
        guest_connected,
        expires_at: i.expires_ms,
    })
}

pub(crate) fn co_host_problem(e: CoHostError) -> ApiError {
    let status = match e {
        CoHostError::NoInvite => StatusCode::NOT_FOUND,
        CoHostError::Expired => StatusCode::GONE,
        CoHostError::Taken | CoHostError::OwnInvite => StatusCode::CONFLICT,
        CoHostError::NotAllowed(_) | CoHostError::NotInCall => StatusCode::FORBIDDEN,
    };
    ApiError::new(status, e.code(), "Co-hosting refused").detail(e.to_string())
}

#[utoipa::path(
    post,
    path = "/api/v1/channels/{slug}/co-host",
    tag = "channels",
    summary = "Invite a co-host: a new link (an earlier one is withdrawn, its guest dropped)",
    params(("slug" = String, Path, description = "Channel")),
    responses((status = 201, description = "The invite", body = InviteView)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn invite(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> ApiResult<(StatusCode, Json<InviteView>)> {
    let c = find(&state, &slug).await?;
    let me = caller.require_channel_owner(&c)?;
    let i = state
        .co_hosts
        .invite(c.slug.as_str(), me.id.0, UnixMillis::now().0)
        .await;
    Ok((StatusCode::CREATED, Json(view(&state, &i).await?)))
}

#[utoipa::path(
    get,
    path = "/api/v1/channels/{slug}/co-host",
    tag = "channels",
    summary = "The channel's open invite and its guest",
    params(("slug" = String, Path, description = "Channel")),
    responses((status = 200, description = "The invite", body = InviteView)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn current(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> ApiResult<Json<InviteView>> {
    let c = find(&state, &slug).await?;
    caller.require_channel_owner(&c)?;
    let i = state
        .co_hosts
        .current(c.slug.as_str())
        .ok_or_else(|| ApiError::not_found("co-host invite"))?;
    Ok(Json(view(&state, &i).await?))
}

#[utoipa::path(
    delete,
    path = "/api/v1/channels/{slug}/co-host",
    tag = "channels",
    summary = "Drop the co-host now and withdraw the link",
    params(("slug" = String, Path, description = "Channel")),
    responses((status = 204, description = "Dropped")),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn drop_guest(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> ApiResult<StatusCode> {
    let c = find(&state, &slug).await?;
    caller.require_channel_owner(&c)?;
    state.co_hosts.withdraw(c.slug.as_str()).await;
    Ok(StatusCode::NO_CONTENT)
}

/// What the guest gets on accepting.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Accepted {
    channel: String,
    host: String,
    call_url: String,
    /// The live show, whose shelf the guest makes their own statements of use about
    /// (`PUT /api/v1/shows/{id}/shelf/{product}/co-host`); none before the host goes live.
    show: Option<i64>,
}

#[utoipa::path(
    post,
    path = "/api/v1/co-host-invites/{token}/accept",
    tag = "channels",
    summary = "Accept a co-host invite (the go-live rules apply to the guest)",
    params(("token" = String, Path, description = "The invite link's token")),
    responses((status = 200, description = "Accepted", body = Accepted)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn accept(
    State(state): State<AppState>,
    caller: Caller,
    Path(token): Path<String>,
) -> ApiResult<Json<Accepted>> {
    let me = caller.require()?;
    let i = state
        .co_hosts
        .accept(&token, me.id.0, UnixMillis::now().0)
        .await
        .map_err(co_host_problem)?;
    let host = state
        .store
        .account(hawker_domain::AccountId(i.host))
        .await?
        .map(|a| a.display_name.as_str().to_string())
        .unwrap_or_default();
    let channel = find(&state, &i.slug).await?;
    let show = state.store.live_show_of_channel(channel.id).await?;
    Ok(Json(Accepted {
        channel: i.slug.clone(),
        host,
        call_url: format!("{}/call/{}", state.settings.public_url, i.call()),
        show: show.map(|s| s.id.0),
    }))
}
