//! The live room's WebSocket edge: decode what viewers send, deliver what the room says, and
//! close with a clear code when something is wrong. The protocol lives in `hawker-room`.

use crate::api::channels::find;
use crate::auth::Caller;
use crate::limits::client_ip_of;
use crate::problem::ApiError;
use crate::ws;
use crate::AppState;
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use hawker_hub::Visitor;
use hawker_room::protocol::{decode_client, MAX_CLIENT_FRAME};
use serde::Deserialize;
use std::net::SocketAddr;
use std::sync::Arc;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/live/{slug}/room", get(room_socket))
        .route("/api/v1/notifications", get(notification_socket))
}

#[derive(Debug, Deserialize)]
pub(crate) struct RoomQuery {
    /// `EPOCH:SEQ` from the last frames seen, to resume without gaps.
    since: Option<String>,
    /// The browser's anonymous id, for unique-viewer counting.
    anon: Option<String>,
}

async fn room_socket(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<RoomQuery>,
    caller: Caller,
    connect: ConnectInfo<SocketAddr>,
    req: Request,
) -> Result<Response, ApiError> {
    let ip = client_ip_of(&state, req.headers(), Some(&connect));
    if state.limits.sockets.check_key(&ip).is_err() {
        return Err(ApiError::rate_limited());
    }
    let channel = find(&state, &slug).await?;
    let resume = q.since.as_deref().and_then(|s| {
        let (epoch, seq) = s.rsplit_once(':')?;
        Some((epoch.to_string(), seq.parse().ok()?))
    });
    let anon_id = q.anon.filter(|a| {
        (8..=64).contains(&a.len()) && a.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    let visitor = Visitor {
        account: caller.0.map(Arc::unwrap_or_clone),
        anon_id,
        ip: ip.to_string(),
    };
    ws::upgrade(req, move |io| async move {
        let conn = match state.rooms.join(&channel, visitor, resume).await {
            Ok(c) => Arc::new(c),
            Err(e) => {
                tracing::error!(error = %e, "cannot join room");
                return;
            }
        };
        let c2 = conn.clone();
        let handler: ws::TextHandler = Box::new(move |text| match decode_client(text.as_bytes()) {
            Ok(msg) => {
                c2.send(msg);
                Ok(())
            }
            Err(e) => Err((e.code(), e.to_string())),
        });
        ws::run(io, conn.outbox.clone(), handler, MAX_CLIENT_FRAME).await;
    })
}

async fn notification_socket(
    State(state): State<AppState>,
    caller: Caller,
    req: Request,
) -> Result<Response, ApiError> {
    let account = caller.require()?.clone();
    ws::upgrade(req, move |io| async move {
        match state.rooms.notifications(&account).await {
            Ok(sock) => {
                let handler: ws::TextHandler = Box::new(|_| {
                    Err((
                        "read_only",
                        "this socket only delivers notifications".into(),
                    ))
                });
                ws::run(io, sock.outbox.clone(), handler, 1024).await;
                drop(sock);
            }
            Err(e) => tracing::error!(error = %e, "cannot open notifications"),
        }
    })
}
