//! WHIP (RFC 9725) and WHEP over HTTP: SDP in, SDP out, the session as a resource. Each handler
//! parses, calls `RtcServer`, answers; errors are problem documents like the API's.
//!
//! ```text
//!  POST   /whip/{slug}            Bearer stream key, application/sdp → 201, answer, Location, ETag
//!  PATCH  /whip/{slug}/{session}  If-Match, application/trickle-ice-sdpfrag → 204 | 200 (restart)
//!  DELETE /whip/{slug}/{session}  → 200, the show waits out its grace period
//!  POST   /whep/{slug}            application/sdp (recvonly) → 201 …; PATCH and DELETE as WHIP
//!  POST   /call/{call}            a party's sendrecv offer (logged in, a party of the call) → 201
//! ```

use crate::limits;
use crate::problem::ApiError;
use crate::AppState;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{patch, post};
use axum::Router;
use hawker_broadcast::Refusal;
use hawker_rtc::{Created, IceServer, Patched, RtcFailure, Side};
use std::net::SocketAddr;

pub(crate) fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/whip/{slug}", post(whip_publish))
        .route(
            "/whip/{slug}/{session}",
            patch(whip_patch).delete(whip_delete),
        )
        .route("/whep/{slug}", post(whep_play))
        .route("/call/{call}", post(call_join))
        .route(
            "/call/{call}/{session}",
            patch(call_patch).delete(call_delete),
        )
        .route(
            "/whep/{slug}/{session}",
            patch(whep_patch).delete(whep_delete),
        )
        .route_layer(from_fn_with_state(state, limits::api_limit))
}

const SDP: &str = "application/sdp";
const SDPFRAG: &str = "application/trickle-ice-sdpfrag";

fn content_type_is(headers: &HeaderMap, want: &str) -> Result<(), ApiError> {
    let ok = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(want));
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Wrong content type",
        )
        .detail(format!("send {want}")))
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

async fn whip_publish(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    offer: String,
) -> Result<Response, ApiError> {
    content_type_is(&headers, SDP)?;
    let key = bearer(&headers).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "stream_key_required",
            "The stream key is required",
        )
        .detail("send the channel's stream key as Authorization: Bearer KEY")
    })?;
    let peer = SocketAddr::new(
        limits::client_ip_of(&state, &headers, Some(&ConnectInfo(peer))),
        peer.port(),
    );
    let created = state
        .rtc
        .publish(&slug, key, peer, &offer)
        .await
        .map_err(failure)?;
    Ok(created_response(&state, "whip", &slug, created))
}

/// `?pt=TOKEN`: the viewer's room playback token, so a WHEP viewer counts as one while the
/// server delivers it media, as an LL-HLS player does.
async fn whep_play(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    offer: String,
) -> Result<Response, ApiError> {
    content_type_is(&headers, SDP)?;
    let token = crate::hls::playback_token(query.as_deref());
    let created = state
        .rtc
        .play(&slug, &offer, token)
        .await
        .map_err(failure)?;
    Ok(created_response(&state, "whep", &slug, created))
}

/// A call: a co-host call (its host or the guest who accepted) or a consult (its buyer or
/// the staff member who accepted it).
async fn call_join(
    State(state): State<AppState>,
    Path(call): Path<String>,
    caller: crate::auth::Caller,
    headers: HeaderMap,
    offer: String,
) -> Result<Response, ApiError> {
    content_type_is(&headers, SDP)?;
    let me = caller.require()?;
    if call.starts_with("consult-") {
        state.shop.may_join_consult(me, &call).await?;
    } else {
        state
            .co_hosts
            .may_join(&call, me.id.0)
            .map_err(crate::api::co_host_problem)?;
    }
    let created = state
        .rtc
        .join_call(&call, me.id.0, &offer)
        .await
        .map_err(failure)?;
    Ok(created_response(&state, "call", &call, created))
}

async fn call_patch(
    State(state): State<AppState>,
    Path((call, session)): Path<(String, String)>,
    headers: HeaderMap,
    body: String,
) -> Result<Response, ApiError> {
    patch_session(state, Side::Call, call, session, headers, body).await
}

async fn call_delete(
    State(state): State<AppState>,
    Path((call, session)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state
        .rtc
        .close(Side::Call, &call, &session)
        .await
        .map_err(failure)?;
    Ok(StatusCode::OK)
}

fn created_response(state: &AppState, kind: &str, slug: &str, c: Created) -> Response {
    let mut r = (StatusCode::CREATED, c.answer).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(SDP));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("accept-patch", HeaderValue::from_static(SDPFRAG));
    if let Ok(v) = HeaderValue::from_str(&format!("/{kind}/{slug}/{}", c.session)) {
        h.insert(header::LOCATION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&c.etag) {
        h.insert(header::ETAG, v);
    }
    for server in state.rtc.ice_servers() {
        if let Ok(v) = HeaderValue::from_str(&link(server)) {
            h.append(header::LINK, v);
        }
    }
    r
}

/// `Link: <turn:…>; rel="ice-server"; username="…"; credential="…"` (RFC 9725 §4.6).
fn link(s: &IceServer) -> String {
    let quote = |v: &str| v.replace(['"', '\\'], "");
    let mut l = format!("<{}>; rel=\"ice-server\"", s.url.replace(['<', '>'], ""));
    if let (Some(u), Some(c)) = (&s.username, &s.credential) {
        l.push_str(&format!(
            "; username=\"{}\"; credential=\"{}\"; credential-type=\"password\"",
            quote(u),
            quote(c)
        ));
    }
    l
}

async fn patch_session(
    state: AppState,
    side: Side,
    slug: String,
    session: String,
    headers: HeaderMap,
    body: String,
) -> Result<Response, ApiError> {
    content_type_is(&headers, SDPFRAG)?;
    let if_match = headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok());
    match state
        .rtc
        .patch(side, &slug, &session, if_match, &body)
        .await
        .map_err(failure)?
    {
        Patched::Trickled => Ok(StatusCode::NO_CONTENT.into_response()),
        Patched::Restarted { fragment, etag } => {
            let mut r = (StatusCode::OK, fragment).into_response();
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(SDPFRAG));
            if let Ok(v) = HeaderValue::from_str(&etag) {
                r.headers_mut().insert(header::ETAG, v);
            }
            Ok(r)
        }
    }
}

async fn whip_patch(
    State(state): State<AppState>,
    Path((slug, session)): Path<(String, String)>,
    headers: HeaderMap,
    body: String,
) -> Result<Response, ApiError> {
    patch_session(state, Side::Ingest, slug, session, headers, body).await
}

async fn whep_patch(
    State(state): State<AppState>,
    Path((slug, session)): Path<(String, String)>,
    headers: HeaderMap,
    body: String,
) -> Result<Response, ApiError> {
    patch_session(state, Side::Playback, slug, session, headers, body).await
}

async fn whip_delete(
    State(state): State<AppState>,
    Path((slug, session)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state
        .rtc
        .close(Side::Ingest, &slug, &session)
        .await
        .map_err(failure)?;
    Ok(StatusCode::OK)
}

async fn whep_delete(
    State(state): State<AppState>,
    Path((slug, session)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state
        .rtc
        .close(Side::Playback, &slug, &session)
        .await
        .map_err(failure)?;
    Ok(StatusCode::OK)
}

fn failure(f: RtcFailure) -> ApiError {
    let detail = f.to_string();
    let e = match f {
        RtcFailure::Session(_) => ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_offer",
            "The SDP offer cannot be answered",
        ),
        RtcFailure::Refused(r) => match r {
            Refusal::UnknownKey => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "stream_key_invalid",
                "Unknown stream key",
            ),
            Refusal::AlreadyLive => {
                ApiError::conflict("already_live", "another encoder is live on this channel")
            }
            Refusal::NotAllowed(_) => ApiError::new(
                StatusCode::FORBIDDEN,
                "publish_refused",
                "Not allowed to go live",
            ),
            Refusal::ShuttingDown => ApiError::unavailable("the server is shutting down"),
            Refusal::Internal(_) => ApiError::internal(),
        },
        RtcFailure::WrongChannel => ApiError::new(
            StatusCode::FORBIDDEN,
            "wrong_channel",
            "The key is another channel's",
        ),
        RtcFailure::NotLive => ApiError::new(StatusCode::NOT_FOUND, "not_live", "Not live"),
        RtcFailure::NotWebRtc => ApiError::conflict("not_webrtc", "not published over WebRTC"),
        RtcFailure::NoSession => ApiError::not_found("session"),
        RtcFailure::StaleEtag => ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "stale_etag",
            "The session changed",
        ),
        RtcFailure::EtagRequired => ApiError::new(
            StatusCode::PRECONDITION_REQUIRED,
            "etag_required",
            "If-Match is required",
        ),
        RtcFailure::BadFragment(_) => ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_fragment",
            "The ICE fragment is malformed",
        ),
        RtcFailure::Restart(_) => ApiError::new(
            StatusCode::BAD_REQUEST,
            "ice_restart_failed",
            "The ICE restart failed",
        ),
        RtcFailure::Closed => ApiError::unavailable("WebRTC is shutting down"),
    };
    match e.code {
        "internal" => e,
        _ => e.detail(detail),
    }
}

/// The live room hears of each WHEP viewer being served, as `hls.rs` reports LL-HLS players.
pub struct RoomWitness {
    pub rooms: hawker_hub::RoomHub,
    pub live: hawker_broadcast::Broadcaster,
}

impl hawker_rtc::MediaWitness for RoomWitness {
    fn delivered(&self, slug: &str, playback_token: &str) {
        if let Some(stream) = self.live.stream(slug) {
            self.rooms.media_delivered(stream.channel, playback_token);
        }
    }
}
