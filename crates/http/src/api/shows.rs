//! Shows: what is live, what is coming, what can be replayed.

use super::channels::find;
use super::{show_view, ShowView};
use crate::auth::Caller;
use crate::json::ApiJson;
use crate::problem::{ApiError, ApiResult};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use hawker_domain::channel::validate_title;
use hawker_domain::{ShowId, ShowState, UnixMillis};
use hawker_storage::NewShow;
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    state: Option<String>,
    #[serde(default = "default_limit")]
    limit: i64,
}

fn default_limit() -> i64 {
    50
}

#[utoipa::path(
    get,
    path = "/api/v1/shows",
    tag = "shows",
    summary = "Shows in a state (live by default)",
    params(ListQuery),
    responses((status = 200, description = "Shows", body = Vec<ShowView>))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Vec<ShowView>>> {
    let wanted = match q.state.as_deref() {
        None => ShowState::Live,
        Some(s) => ShowState::parse(s).ok_or_else(|| {
            ApiError::bad_request(format!(
                "state must be live, scheduled, ended or cancelled, not {s:?}"
            ))
        })?,
    };
    let base = &state.settings.public_url;
    let mut out = Vec::new();
    for s in state
        .store
        .shows_in_state(wanted, q.limit.clamp(1, 200))
        .await?
    {
        let Some(c) = state.store.channel(s.channel).await? else {
            continue;
        };
        // A host under a traffic limit (or worse) is left out of discovery; the channel's
        // own page still works for those who follow it.
        if !state
            .guard
            .standing(c.owner, UnixMillis::now())
            .await?
            .in_feed()
        {
            continue;
        }
        let recorded = state.store.recording(s.id).await?.is_some();
        let mut view = show_view(base, &s, &c, recorded);
        if s.state == ShowState::Live {
            view.viewers = state.rooms.viewers(c.id).await;
        }
        out.push(view);
    }
    Ok(Json(out))
}

#[utoipa::path(
    get,
    path = "/api/v1/shows/{id}",
    tag = "shows",
    summary = "One show",
    params(("id" = i64, Path, description = "Show id", example = 1)),
    responses((status = 200, description = "The show", body = ShowView))
)]
pub(crate) async fn get_one(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<Json<ShowView>> {
    let s = state
        .store
        .show(ShowId(id))
        .await?
        .ok_or_else(|| ApiError::not_found("show"))?;
    let c = state
        .store
        .channel(s.channel)
        .await?
        .ok_or_else(|| ApiError::not_found("channel"))?;
    let recorded = state.store.recording(s.id).await?.is_some();
    Ok(Json(show_view(
        &state.settings.public_url,
        &s,
        &c,
        recorded,
    )))
}

#[utoipa::path(
    get,
    path = "/api/v1/channels/{slug}/shows",
    tag = "shows",
    summary = "A channel's shows",
    params(("slug" = String, Path, description = "The channel's slug", example = "li-wei-farm")),
    responses((status = 200, description = "Shows, newest first", body = Vec<ShowView>))
)]
pub(crate) async fn of_channel(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> ApiResult<Json<Vec<ShowView>>> {
    let c = find(&state, &slug).await?;
    let base = &state.settings.public_url;
    let mut out = Vec::new();
    for s in state.store.shows_of_channel(c.id, 50).await? {
        let recorded = state.store.recording(s.id).await?.is_some();
        let mut view = show_view(base, &s, &c, recorded);
        if s.state == ShowState::Live {
            view.viewers = state.rooms.viewers(c.id).await;
        }
        out.push(view);
    }
    Ok(Json(out))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Schedule {
    title: String,
    /// Unix milliseconds.
    scheduled_at: i64,
}

#[utoipa::path(
    post,
    path = "/api/v1/channels/{slug}/shows",
    tag = "shows",
    summary = "Schedule a show",
    params(("slug" = String, Path, description = "The channel's slug", example = "li-wei-farm")),
    request_body = Schedule,
    responses((status = 201, description = "Scheduled", body = ShowView)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn schedule(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<Schedule>,
) -> ApiResult<(StatusCode, Json<ShowView>)> {
    let c = find(&state, &slug).await?;
    caller.require_channel_owner(&c)?;
    let title = validate_title(&body.title)?;
    let now = UnixMillis::now();
    if body.scheduled_at < now.0 - 60_000 || body.scheduled_at > now.0 + 365 * 86_400_000 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "A field is invalid",
        )
        .detail("scheduled_at must be in the coming year"));
    }
    let show = state
        .store
        .create_show(NewShow {
            channel: c.id,
            title,
            state: ShowState::Scheduled,
            scheduled_at: Some(UnixMillis(body.scheduled_at)),
            started_at: None,
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(show_view(&state.settings.public_url, &show, &c, false)),
    ))
}
