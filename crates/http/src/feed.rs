//! The low-latency player's feed: a WebSocket carrying the stream's fMP4 as it is produced,
//! for Media Source Extensions to append.
//!
//! Binary messages, first byte says what follows:
//! - `0x01` init: u16 length of the codecs string, the codecs string (`avc1.64001F,mp4a.40.2`),
//!   the init segment;
//! - `0x02` chunk: flags (bit 0: starts with a keyframe), i64 arrival wall-clock ms, u64
//!   decode time (90 kHz), then one CMAF chunk (`moof`+`mdat`).
//!
//! Text messages are JSON status: `{"type":"live",...}`, `{"type":"offline"}`,
//! `{"type":"ended"}`, `{"type":"resync"}`.
//!
//! A subscriber starts at the newest keyframe. One that falls behind the feed's buffer skips
//! to the next keyframe (it never stalls the producer or other subscribers); one whose socket
//! does not take a message for 10 s is closed.

use crate::AppState;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use bytes::{BufMut, BytesMut};
use hawker_broadcast::FeedItem;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/live/{slug}/feed", get(feed))
}

const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// `?pt=TOKEN`: the room connection's playback token; while chunks reach this socket, the
/// room counts that connection as a viewer.
#[derive(serde::Deserialize)]
struct FeedQuery {
    #[serde(default)]
    pt: Option<String>,
}

async fn feed(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    axum::extract::Query(q): axum::extract::Query<FeedQuery>,
) -> Response {
    let token = q.pt.filter(|t| !t.is_empty() && t.len() <= 64);
    // Viewers send nothing of substance: keep their read buffer and message limit small.
    ws.max_message_size(4096)
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .on_upgrade(move |socket| async move {
            metrics::gauge!("hawker_feed_subscribers").increment(1.0);
            serve(socket, state, slug, token).await;
            metrics::gauge!("hawker_feed_subscribers").decrement(1.0);
        })
}

pub(crate) fn encode(item: &FeedItem) -> Option<Message> {
    match item {
        FeedItem::Init { bytes, codecs } => {
            let mut b = BytesMut::with_capacity(3 + codecs.len() + bytes.len());
            b.put_u8(1);
            b.put_u16(codecs.len() as u16);
            b.put_slice(codecs.as_bytes());
            b.put_slice(bytes);
            Some(Message::Binary(b.freeze()))
        }
        FeedItem::Chunk {
            bytes,
            independent,
            decode_time,
            arrived_ms,
        } => {
            let mut b = BytesMut::with_capacity(18 + bytes.len());
            b.put_u8(2);
            b.put_u8(*independent as u8);
            b.put_i64(*arrived_ms);
            b.put_u64(*decode_time);
            b.put_slice(bytes);
            Some(Message::Binary(b.freeze()))
        }
        FeedItem::Ended => None,
    }
}

fn status(kind: &str) -> Message {
    Message::Text(format!("{{\"type\":\"{kind}\"}}").into())
}

async fn send(socket: &mut WebSocket, m: Message) -> bool {
    matches!(
        tokio::time::timeout(SEND_TIMEOUT, socket.send(m)).await,
        Ok(Ok(()))
    )
}

async fn close(mut socket: WebSocket, reason: &'static str) {
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code: 1000,
            reason: reason.into(),
        })))
        .await;
}

/// A player names its room connection's playback token after connecting (the room's welcome
/// may come after the feed's): `{"t":"pt","token":"..."}`.
fn token_message(text: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Pt {
        t: String,
        token: String,
    }
    let m: Pt = serde_json::from_str(text).ok()?;
    (m.t == "pt" && !m.token.is_empty() && m.token.len() <= 64).then_some(m.token)
}

async fn serve(mut socket: WebSocket, state: AppState, slug: String, mut token: Option<String>) {
    let Some(stream) = state.live.stream(&slug) else {
        send(&mut socket, status("offline")).await;
        return close(socket, "offline").await;
    };
    let mut start = stream.subscribe_feed();
    let hello = serde_json::json!({
        "type": "live",
        "show": stream.show.0,
        "session": stream.session(),
    });
    if !send(&mut socket, Message::Text(hello.to_string().into())).await {
        return;
    }
    for item in start.init.iter().chain(start.backlog.iter()) {
        if let Some(m) = encode(item) {
            if !send(&mut socket, m).await {
                return;
            }
        }
    }
    if start.ended {
        send(&mut socket, status("ended")).await;
        return close(socket, "ended").await;
    }
    let mut resync = false;
    // Deliveries reported to the room at most once a second (the hub would drop the rest).
    let mut reported: Option<std::time::Instant> = None;
    loop {
        let item = tokio::select! {
            item = start.rx.recv() => item,
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(Message::Text(t))) => {
                    if let Some(t) = token_message(&t) {
                        token = Some(t);
                        reported = None;
                    }
                    continue;
                }
                Some(Ok(_)) => continue, // pings are answered by the library; the rest is ignored
            },
        };
        let item = match item {
            Ok(i) => i,
            Err(RecvError::Lagged(n)) => {
                metrics::counter!("hawker_feed_lagged_total").increment(1);
                tracing::debug!(
                    skipped = n,
                    "feed subscriber fell behind; skipping to the next keyframe"
                );
                resync = true;
                if !send(&mut socket, status("resync")).await {
                    return;
                }
                continue;
            }
            Err(RecvError::Closed) => FeedItem::Ended,
        };
        match &item {
            FeedItem::Ended => {
                send(&mut socket, status("ended")).await;
                return close(socket, "ended").await;
            }
            FeedItem::Chunk { independent, .. } if resync && !independent => continue,
            FeedItem::Chunk { .. } => resync = false,
            FeedItem::Init { .. } => {}
        }
        if let Some(m) = encode(&item) {
            if !send(&mut socket, m).await {
                return;
            }
            if let Some(t) = &token {
                if reported.is_none_or(|r| r.elapsed() >= Duration::from_secs(1)) {
                    reported = Some(std::time::Instant::now());
                    state.rooms.media_delivered(stream.channel, t);
                }
            }
        }
    }
}

#[cfg(test)]
mod token_tests {
    use super::token_message;

    #[test]
    fn only_a_well_formed_token_message_names_a_token() {
        assert_eq!(
            token_message(r#"{"t":"pt","token":"ab12"}"#),
            Some("ab12".into())
        );
        for bad in [
            r#"{"t":"pt","token":""}"#,
            r#"{"t":"other","token":"ab"}"#,
            r#"{"t":"pt"}"#,
            "not json",
            "",
        ] {
            assert_eq!(token_message(bad), None, "{bad}");
        }
        let long = format!(r#"{{"t":"pt","token":"{}"}}"#, "a".repeat(65));
        assert_eq!(token_message(&long), None);
    }
}
