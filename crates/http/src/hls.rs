//! LL-HLS delivery of live shows and HLS delivery of recordings.
//!
//! Caching: every media URI carries the stream's session id, so init segments, segments and
//! parts are immutable and cacheable for a day. Blocking playlist responses are cacheable for a
//! target duration (their query makes the URL unique to one live position); the plain playlist
//! for a second. A CDN in front therefore absorbs the audience.

use crate::problem::ApiError;
use crate::AppState;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use hawker_broadcast::{LiveStream, PlaylistError};
use hawker_domain::ShowId;
use hawker_media::hls::PlaylistQuery;
use std::sync::Arc;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/live/{slug}/index.m3u8", get(live_playlist))
        .route("/live/{slug}/{session}/{file}", get(live_media))
        .route("/vod/{show}/{file}", get(vod_file))
}

const PLAYLIST_TYPE: &str = "application/vnd.apple.mpegurl";
const IMMUTABLE: &str = "public, max-age=86400, immutable";

fn with_headers(mut resp: Response, content_type: &'static str, cache: String) -> Response {
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&cache) {
        h.insert(header::CACHE_CONTROL, v);
    }
    // Players on other origins (embeds, third-party hls.js pages) may fetch the media.
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    resp
}

fn live_stream(state: &AppState, slug: &str) -> Result<Arc<LiveStream>, ApiError> {
    state.live.stream(slug).ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "not_live", "The channel is not live")
            .detail(format!("{slug} is not broadcasting now"))
    })
}

async fn live_playlist(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let q = PlaylistQuery::parse(query.as_deref().unwrap_or("")).map_err(|e| {
        ApiError::new(StatusCode::BAD_REQUEST, "hls_bad_query", "Bad LL-HLS query")
            .detail(e.to_string())
    })?;
    let stream = live_stream(&state, &slug)?;
    let token = playback_token(query.as_deref());
    let text = stream.playlist(q).await.map_err(|e| match e {
        PlaylistError::TooFarAhead => ApiError::new(
            StatusCode::BAD_REQUEST,
            "hls_msn_too_far",
            "The requested media sequence is too far ahead",
        ),
        PlaylistError::Timeout => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "hls_timeout",
            "The requested part did not appear in time",
        ),
    })?;
    // The live edge reached this player: its room connection counts as a viewer.
    if let Some(t) = token {
        state.rooms.media_delivered(stream.channel, t);
    }
    let cache = if q.msn.is_some() {
        format!(
            "public, max-age={}",
            stream.target_duration().as_secs().max(1)
        )
    } else {
        "public, max-age=1".to_string()
    };
    Ok(with_headers(text.into_response(), PLAYLIST_TYPE, cache))
}

/// `init{v}.mp4`, `seg{n}.m4s`, `part{n}.m4s`.
#[derive(Debug, PartialEq, Eq)]
enum MediaFile {
    Init(u32),
    Segment(u64),
    Part(u64),
    Playlist,
    /// A recording's multivariant playlist (names its codecs).
    Master,
}

fn parse_media_file(name: &str) -> Option<MediaFile> {
    match name {
        "index.m3u8" => return Some(MediaFile::Playlist),
        "master.m3u8" => return Some(MediaFile::Master),
        _ => {}
    }
    let num = |s: &str, prefix: &str, suffix: &str| -> Option<u64> {
        let n = s.strip_prefix(prefix)?.strip_suffix(suffix)?;
        (!n.is_empty() && n.len() <= 19 && n.bytes().all(|b| b.is_ascii_digit()))
            .then(|| n.parse().ok())
            .flatten()
    };
    if let Some(v) = num(name, "init", ".mp4") {
        return u32::try_from(v).ok().map(MediaFile::Init);
    }
    if let Some(n) = num(name, "seg", ".m4s") {
        return Some(MediaFile::Segment(n));
    }
    num(name, "part", ".m4s").map(MediaFile::Part)
}

/// `pt=TOKEN` among the query's pairs: a room connection's playback token (see
/// `RoomHub::media_delivered`). The playlist's own URIs carry no token, so parts and segments
/// stay the same URL for every viewer (cacheable by a CDN); a player shows the token on its
/// playlist reloads, which it makes at the live edge every part anyway.
pub(crate) fn playback_token(query: Option<&str>) -> Option<&str> {
    query?
        .split('&')
        .find_map(|p| p.strip_prefix("pt="))
        .filter(|t| !t.is_empty() && t.len() <= 64)
}

async fn live_media(
    State(state): State<AppState>,
    Path((slug, session, file)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let stream = live_stream(&state, &slug)?;
    if let Some(t) = playback_token(query.as_deref()) {
        state.rooms.media_delivered(stream.channel, t);
    }
    if stream.session() != session {
        return Err(ApiError::not_found(
            "stream session (the show restarted; reload the playlist)",
        ));
    }
    let resp = match parse_media_file(&file) {
        Some(MediaFile::Init(v)) => {
            let bytes = stream
                .init_segment(v)
                .ok_or_else(|| ApiError::not_found("init segment"))?;
            with_headers(bytes.into_response(), "video/mp4", IMMUTABLE.into())
        }
        Some(MediaFile::Segment(n)) => {
            let chunks = stream
                .segment(n)
                .ok_or_else(|| ApiError::not_found("segment"))?;
            let body = Body::from_stream(futures::stream::iter(
                chunks.into_iter().map(Ok::<_, std::convert::Infallible>),
            ));
            with_headers(Response::new(body), "video/iso.segment", IMMUTABLE.into())
        }
        Some(MediaFile::Part(n)) => {
            if !stream.part_exists(n) {
                return Err(ApiError::not_found("part"));
            }
            // The hinted part streams as it is written: chunked, one frame at a time.
            let body = Body::from_stream(stream.part_stream(n));
            with_headers(Response::new(body), "video/iso.segment", IMMUTABLE.into())
        }
        _ => return Err(ApiError::not_found("media file")),
    };
    Ok(resp)
}

async fn vod_file(
    State(state): State<AppState>,
    Path((show, file)): Path<(i64, String)>,
) -> Result<Response, ApiError> {
    let root = state
        .settings
        .recordings
        .as_ref()
        .ok_or_else(|| ApiError::not_found("recording (recording is off)"))?;
    let rec = state
        .store
        .recording(ShowId(show))
        .await?
        .ok_or_else(|| ApiError::not_found("recording"))?;
    let kind = parse_media_file(&file).ok_or_else(|| ApiError::not_found("file"))?;
    // Only names of our own making reach the filesystem: no traversal is expressible.
    let path = root.join(show.to_string()).join(&file);
    let (content_type, cache) = match kind {
        MediaFile::Master => (PLAYLIST_TYPE, "public, max-age=3600".to_string()),
        MediaFile::Playlist if rec.complete => (PLAYLIST_TYPE, "public, max-age=3600".to_string()),
        MediaFile::Playlist => (PLAYLIST_TYPE, "public, max-age=2".to_string()),
        MediaFile::Init(_) => ("video/mp4", IMMUTABLE.to_string()),
        MediaFile::Segment(_) => ("video/iso.segment", IMMUTABLE.to_string()),
        MediaFile::Part(_) => return Err(ApiError::not_found("file")),
    };
    let f = tokio::fs::File::open(&path)
        .await
        .map_err(|_| ApiError::not_found("file"))?;
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(f));
    Ok(with_headers(Response::new(body), content_type, cache))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_file_names() {
        assert_eq!(parse_media_file("init0.mp4"), Some(MediaFile::Init(0)));
        assert_eq!(parse_media_file("seg12.m4s"), Some(MediaFile::Segment(12)));
        assert_eq!(parse_media_file("part7.m4s"), Some(MediaFile::Part(7)));
        assert_eq!(parse_media_file("index.m3u8"), Some(MediaFile::Playlist));
        for bad in [
            "../init0.mp4",
            "seg.m4s",
            "seg-1.m4s",
            "seg1.m4s.tmp",
            "init99999999999.mp4",
            "x",
        ] {
            assert_eq!(parse_media_file(bad), None, "{bad}");
        }
    }
}
