//! ICE over TCP (RFC 6544) for networks that block UDP: a listener on the same port number,
//! each connection's packets framed with a 16-bit length (RFC 4571). A connection task only
//! reads and writes frames; the switch owns the sessions, as for UDP.

use crate::switch::Command;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// STUN, DTLS and SRTP packets are small; a larger frame is not WebRTC.
const MAX_FRAME: usize = 4096;
/// Frames waiting to be written to one connection; beyond this they are dropped, as a full UDP
/// socket drops datagrams.
const WRITE_QUEUE: usize = 512;
/// Connections at once.
const MAX_CONNECTIONS: usize = 4096;

pub(crate) async fn serve(
    listener: TcpListener,
    switch: mpsc::UnboundedSender<Command>,
    shutdown: CancellationToken,
) {
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.cancelled() => return,
        };
        let Ok((stream, peer)) = accepted else {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            continue; // too many: the client falls back to another candidate
        };
        let _ = stream.set_nodelay(true);
        let (switch, shutdown) = (switch.clone(), shutdown.clone());
        tokio::spawn(async move {
            let _permit = permit;
            connection(stream, peer, switch, shutdown).await;
        });
    }
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    switch: mpsc::UnboundedSender<Command>,
    shutdown: CancellationToken,
) {
    let (mut rd, mut wr) = stream.into_split();
    let (writer, mut frames) = mpsc::channel::<Vec<u8>>(WRITE_QUEUE);
    if switch.send(Command::TcpOpen { peer, writer }).is_err() {
        return;
    }
    let write = async move {
        while let Some(f) = frames.recv().await {
            let mut out = Vec::with_capacity(2 + f.len());
            out.extend_from_slice(&(f.len() as u16).to_be_bytes());
            out.extend_from_slice(&f);
            if wr.write_all(&out).await.is_err() {
                return;
            }
        }
    };
    let read = async {
        let mut buf = vec![0u8; MAX_FRAME];
        loop {
            let Ok(len) = rd.read_u16().await else { return };
            let len = len as usize;
            if len == 0 || len > MAX_FRAME || rd.read_exact(&mut buf[..len]).await.is_err() {
                return;
            }
            let data = buf[..len].to_vec();
            if switch.send(Command::TcpIn { peer, data }).is_err() {
                return;
            }
        }
    };
    tokio::select! {
        _ = write => {}
        _ = read => {}
        _ = shutdown.cancelled() => {}
    }
    let _ = switch.send(Command::TcpClosed { peer });
}
