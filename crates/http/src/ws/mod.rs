//! A WebSocket server for the live room, by hand: the room fans one serialised frame out to
//! thousands of sockets, and tungstenite copies every message into a per-connection buffer
//! that keeps its largest size. Here a frame goes from the shared `Arc<str>` to the socket
//! with a vectored write (header + payload, no copy), and an idle connection holds a few
//! hundred bytes of read buffer. Framing is the sans-IO [`codec`].

pub mod codec;

use crate::problem::ApiError;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use codec::{Decoder, Incoming, OP_PING, OP_PONG, OP_TEXT};
use hawker_hub::outbox::{Next, Outbox};
use hyper_util::rt::TokioIo;
use std::io::IoSlice;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

const SEND_TIMEOUT: Duration = Duration::from_secs(10);
const PING_EVERY: Duration = Duration::from_secs(30);
/// Read buffer kept by an idle connection; it grows for a large message and shrinks back.
const IDLE_READ_BUFFER: usize = 512;

/// Checks an upgrade request and answers 101; `serve` runs on the upgraded connection.
pub fn upgrade<F, Fut>(mut req: Request, serve: F) -> Result<Response, ApiError>
where
    F: FnOnce(TokioIo<hyper::upgrade::Upgraded>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let h = req.headers();
    let has = |name: header::HeaderName, want: &str| {
        h.get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|v| v.trim().eq_ignore_ascii_case(want))
    };
    if !has(header::UPGRADE, "websocket") || !has(header::CONNECTION, "upgrade") {
        return Err(ApiError::new(
            StatusCode::UPGRADE_REQUIRED,
            "websocket_required",
            "This is a WebSocket endpoint",
        ));
    }
    if h.get(header::SEC_WEBSOCKET_VERSION)
        .and_then(|v| v.to_str().ok())
        != Some("13")
    {
        return Err(ApiError::bad_request(
            "Sec-WebSocket-Version 13 is required",
        ));
    }
    let key = h
        .get(header::SEC_WEBSOCKET_KEY)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::bad_request("Sec-WebSocket-Key is missing"))?;
    let accept = codec::accept_key(key);
    let on_upgrade = req
        .extensions_mut()
        .remove::<hyper::upgrade::OnUpgrade>()
        .ok_or_else(|| ApiError::bad_request("the connection cannot be upgraded"))?;
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => serve(TokioIo::new(upgraded)).await,
            Err(e) => tracing::debug!(error = %e, "websocket upgrade failed"),
        }
    });
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let hd = resp.headers_mut();
    hd.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    hd.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    hd.insert(
        header::SEC_WEBSOCKET_ACCEPT,
        HeaderValue::from_str(&accept).expect("base64"),
    );
    Ok(resp)
}

async fn write_frame<W: AsyncWrite + Unpin>(
    w: &mut W,
    opcode: u8,
    payload: &[u8],
) -> std::io::Result<()> {
    let (h, n) = codec::header(opcode, payload.len());
    let mut head = &h[..n];
    let mut body = payload;
    // Header and payload in one vectored write where the socket takes it all.
    while !head.is_empty() || !body.is_empty() {
        let slices = [IoSlice::new(head), IoSlice::new(body)];
        let written = w.write_vectored(&slices).await?;
        if written == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        let from_head = written.min(head.len());
        head = &head[from_head..];
        body = &body[written - from_head..];
    }
    Ok(())
}

/// What a connection does with a text message: `Err` becomes an error frame.
pub type TextHandler = Box<dyn FnMut(&str) -> Result<(), (&'static str, String)> + Send>;

/// Runs a connection: frames from `outbox` to the socket, text from the socket to `on_text`.
/// Undecodable text produces error frames; too many of them, binary messages, oversized
/// frames and protocol violations close the connection with the code that says why.
pub async fn run<S>(io: S, outbox: Arc<Outbox>, mut on_text: TextHandler, max_message: usize)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (mut rd, mut wr) = tokio::io::split(io);
    let mut decoder = Decoder::new(max_message);
    let mut buf: Vec<u8> = Vec::with_capacity(IDLE_READ_BUFFER);
    let mut bad: Vec<Instant> = Vec::new();
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let close = |code: u16, reason: &str| codec::close_frame(code, reason);
    loop {
        tokio::select! {
            next = outbox.next() => match next {
                Next::Frame(f) => {
                    let sent = tokio::time::timeout(SEND_TIMEOUT, write_frame(&mut wr, OP_TEXT, f.as_bytes())).await;
                    if !matches!(sent, Ok(Ok(()))) {
                        return;
                    }
                }
                Next::Close(code, reason) => {
                    let _ = tokio::time::timeout(SEND_TIMEOUT, wr.write_all(&close(code, &reason))).await;
                    return;
                }
            },
            read = rd.read_buf(&mut buf) => {
                match read {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                loop {
                    match decoder.decode(&mut buf) {
                        Ok(None) => break,
                        Ok(Some(Incoming::Text(t))) => {
                            if let Err((code, message)) = on_text(&t) {
                                outbox.send(Arc::from(hawker_room::protocol::ServerFrame::error(code, message).to_json()));
                                let now = Instant::now();
                                bad.retain(|x| now.duration_since(*x) < Duration::from_secs(10));
                                bad.push(now);
                                if bad.len() > 20 {
                                    outbox.close(hawker_room::protocol::close::POLICY, "too many invalid messages");
                                }
                            }
                        }
                        Ok(Some(Incoming::Binary(_))) => outbox.close(hawker_room::protocol::close::POLICY, "this protocol uses text frames"),
                        Ok(Some(Incoming::Ping(p))) => {
                            if write_frame(&mut wr, OP_PONG, &p).await.is_err() {
                                return;
                            }
                        }
                        Ok(Some(Incoming::Pong)) => {}
                        Ok(Some(Incoming::Close(_))) => {
                            let _ = wr.write_all(&close(1000, "bye")).await;
                            return;
                        }
                        Err(e) => {
                            let _ = wr.write_all(&close(e.close_code(), &e.to_string())).await;
                            return;
                        }
                    }
                }
                if buf.capacity() > 4 * IDLE_READ_BUFFER && buf.len() < IDLE_READ_BUFFER {
                    buf.shrink_to(IDLE_READ_BUFFER);
                }
            }
            _ = ping.tick() => {
                if write_frame(&mut wr, OP_PING, b"").await.is_err() {
                    return;
                }
            }
        }
    }
}
