//! The live-room benchmark: 10,000 WebSocket subscribers in one room, 100-byte comments
//! published at 10/100/200 per second; deliveries/s, delivery latency and memory per idle
//! socket, Hawker beside nats-server (its WebSocket listener) with the same client harness.
//!
//! The harness must not be the bottleneck on a 2-core machine shared with the server: it
//! counts deliveries by scanning frames for a marker (no JSON parsing), and only one
//! subscriber in 100 reads timestamps for the latency figures.

use crate::procstat;
use crate::servers::Hawker;
use anyhow::Context;
use futures::{SinkExt, StreamExt};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

static EPOCH: OnceLock<Instant> = OnceLock::new();
fn micros() -> u64 {
    EPOCH.get_or_init(Instant::now).elapsed().as_micros() as u64
}

/// A 100-byte comment carrying its send time: `T<µs>x…`.
fn comment_text(seq: u64) -> String {
    let mut t = format!("T{}_{seq}_", micros());
    while t.len() < 100 {
        t.push('x');
    }
    t
}

#[derive(Default)]
struct Tally {
    deliveries: AtomicU64,
    latencies_us: Mutex<Vec<u64>>,
}

/// Counts comment markers in a frame; timed subscribers also read the send times.
fn account(frame: &[u8], timed: bool, tally: &Tally) {
    let finder = memchr::memmem::Finder::new(b"\"T");
    let mut n = 0;
    let now = micros();
    let mut lat = Vec::new();
    for pos in finder.find_iter(frame) {
        n += 1;
        if timed {
            let digits = &frame[pos + 2..];
            let end = digits.iter().position(|b| !b.is_ascii_digit()).unwrap_or(0);
            if let Ok(sent) = std::str::from_utf8(&digits[..end])
                .unwrap_or("")
                .parse::<u64>()
            {
                lat.push(now.saturating_sub(sent));
            }
        }
    }
    tally.deliveries.fetch_add(n, Ordering::Relaxed);
    if !lat.is_empty() {
        tally.latencies_us.lock().unwrap().extend(lat);
    }
}

fn local_addr(i: usize) -> SocketAddr {
    // Spread clients over loopback addresses so ephemeral ports never run out.
    SocketAddr::from((Ipv4Addr::new(127, 0, 1 + (i / 8000) as u8, 1), 0))
}

async fn ws_connect(
    url: &str,
    i: usize,
    forwarded: bool,
) -> anyhow::Result<tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>> {
    let mut req = url.into_client_request()?;
    if forwarded {
        // Distinct viewers, as a proxy in front would report them.
        let ip = format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        req.headers_mut().insert("x-forwarded-for", ip.parse()?);
    }
    let host = req
        .uri()
        .authority()
        .context("authority")?
        .as_str()
        .to_string();
    let addr: SocketAddr = tokio::net::lookup_host(&host)
        .await?
        .next()
        .context("address")?;
    let sock = tokio::net::TcpSocket::new_v4()?;
    sock.bind(local_addr(i))?;
    let stream = sock.connect(addr).await?;
    stream.set_nodelay(true)?;
    let (ws, _) = tokio_tungstenite::client_async(req, stream).await?;
    Ok(ws)
}

/// Opens subscribers `from..to` with a bounded number of handshakes in flight.
async fn subscribers<F, Fut>(
    from: usize,
    to: usize,
    connect: F,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<tokio::task::JoinHandle<()>>>,
{
    let mut handles = Vec::with_capacity(to - from);
    let mut pending = futures::stream::iter((from..to).map(&connect)).buffer_unordered(200);
    while let Some(h) = pending.next().await {
        handles.push(h?);
    }
    Ok(handles)
}

/// Memory per idle socket as the slope between a fifth of the subscribers and all of them:
/// start-up allocations (and memory freed earlier and reused) fall outside the difference.
async fn idle_slope<F, Fut>(
    n: usize,
    pid: u32,
    connect: F,
    settle: impl Fn(usize) -> bool,
) -> anyhow::Result<(f64, Vec<tokio::task::JoinHandle<()>>)>
where
    F: Fn(usize) -> Fut + Copy,
    Fut: std::future::Future<Output = anyhow::Result<tokio::task::JoinHandle<()>>>,
{
    let first = n / 5;
    let mut handles = subscribers(0, first, connect).await?;
    while !settle(first) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_a = procstat::rss_bytes(&[pid]);
    handles.extend(subscribers(first, n, connect).await?);
    while !settle(n) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_b = procstat::rss_bytes(&[pid]);
    Ok((
        rss_b.saturating_sub(rss_a) as f64 / (n - first) as f64,
        handles,
    ))
}

pub struct RoomResult {
    pub rate: u64,
    pub deliveries_per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

async fn measure(
    rate: u64,
    secs: u64,
    tally: &Tally,
    publish: &mut (dyn FnMut(String) -> futures::future::BoxFuture<'static, ()> + Send),
) -> RoomResult {
    tally.latencies_us.lock().unwrap().clear();
    // Warm up one second, then measure.
    let total = secs + 1;
    let interval = Duration::from_micros(1_000_000 / rate);
    let start = tokio::time::Instant::now();
    let mut d0 = None;
    let mut t0 = Instant::now();
    let mut seq = 0u64;
    let mut next = start;
    while start.elapsed() < Duration::from_secs(total) {
        if d0.is_none() && start.elapsed() >= Duration::from_secs(1) {
            d0 = Some(tally.deliveries.load(Ordering::Relaxed));
            t0 = Instant::now();
            tally.latencies_us.lock().unwrap().clear();
        }
        publish(comment_text(seq)).await;
        seq += 1;
        next += interval;
        tokio::time::sleep_until(next).await;
    }
    let elapsed = t0.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(500)).await; // deliveries still in flight
    let delivered = tally.deliveries.load(Ordering::Relaxed) - d0.unwrap_or(0);
    let mut lat = std::mem::take(&mut *tally.latencies_us.lock().unwrap());
    lat.sort_unstable();
    let pct = |p: f64| {
        lat.get(((lat.len().max(1) - 1) as f64 * p) as usize)
            .map_or(f64::NAN, |v| *v as f64 / 1000.0)
    };
    RoomResult {
        rate,
        deliveries_per_s: delivered as f64 / elapsed,
        p50_ms: pct(0.5),
        p99_ms: pct(0.99),
    }
}

pub struct Side {
    pub name: &'static str,
    pub idle_rss_per_socket: f64,
    pub results: Vec<RoomResult>,
}

/// Hawker: anonymous subscribers on the room socket, the host publishing.
pub async fn hawker(work: &Path, n: usize, rates: &[u64], secs: u64) -> anyhow::Result<Side> {
    std::env::set_var("HAWKER_SERVER__TRUST_FORWARDED_FOR", "true");
    let h = Hawker::start(&work.join("hawker-room")).await?;
    let cookie = h.streamer_session("bench-room").await?;
    let pid = h.pid();
    let tally = Arc::new(Tally::default());
    let url = format!(
        "{}/live/bench-room/room",
        h.http.replace("http://", "ws://")
    );
    let welcomed = Arc::new(AtomicU64::new(0));
    let connect = |i: usize| {
        let (url, tally, welcomed) = (url.clone(), tally.clone(), welcomed.clone());
        async move {
            let ws = ws_connect(&url, i, true).await?;
            Ok(tokio::spawn(async move {
                let (_tx, mut rx) = ws.split();
                let timed = i.is_multiple_of(100);
                let mut first = true;
                while let Some(Ok(m)) = rx.next().await {
                    if let Message::Text(t) = m {
                        if first {
                            first = false;
                            welcomed.fetch_add(1, Ordering::Relaxed);
                        }
                        account(t.as_bytes(), timed, &tally);
                    }
                }
            }))
        }
    };
    let (idle, handles) = idle_slope(n, pid, &connect, |k| {
        welcomed.load(Ordering::Relaxed) >= k as u64
    })
    .await?;
    eprintln!(
        "  Hawker: {n} subscribers, {:.1} KiB per idle socket",
        idle / 1024.0
    );
    let mut req = url.clone().into_client_request()?;
    req.headers_mut().insert("cookie", cookie.parse()?);
    req.headers_mut()
        .insert("x-forwarded-for", "192.0.2.1".parse()?);
    let (publisher, _) = tokio_tungstenite::connect_async(req).await?;
    let (tx, mut prx) = publisher.split();
    tokio::spawn(async move { while prx.next().await.is_some() {} });
    let tx = Arc::new(tokio::sync::Mutex::new(tx));
    let mut publish = move |text: String| -> futures::future::BoxFuture<'static, ()> {
        let tx = tx.clone();
        Box::pin(async move {
            let msg = format!("{{\"t\":\"comment\",\"text\":\"{text}\"}}");
            let _ = tx.lock().await.send(Message::Text(msg.into())).await;
        })
    };
    let mut results = Vec::new();
    for &r in rates {
        let res = measure(r, secs, &tally, &mut publish).await;
        eprintln!(
            "  Hawker {r}/s: {:.0} deliveries/s, p50 {:.1} ms, p99 {:.1} ms",
            res.deliveries_per_s, res.p50_ms, res.p99_ms
        );
        results.push(res);
    }
    for hd in handles {
        hd.abort();
    }
    drop(h);
    Ok(Side {
        name: "Hawker",
        idle_rss_per_socket: idle,
        results,
    })
}

struct NatsServer {
    child: Child,
    ws_port: u16,
    port: u16,
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn start_nats(dir: &Path) -> anyhow::Result<NatsServer> {
    std::fs::create_dir_all(dir)?;
    let (port, ws_port) = (free_port(), free_port());
    let conf = format!(
        "listen: 127.0.0.1:{port}\nmax_connections: 100000\nmax_pending: 64MB\nwebsocket {{\n  listen: \"127.0.0.1:{ws_port}\"\n  no_tls: true\n  compression: false\n}}\n"
    );
    std::fs::write(dir.join("nats.conf"), conf)?;
    let child = Command::new("nats-server")
        .arg("-c")
        .arg(dir.join("nats.conf"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("nats-server must be installed (apt-get install nats-server)")?;
    std::thread::sleep(Duration::from_millis(500));
    Ok(NatsServer {
        child,
        ws_port,
        port,
    })
}

/// nats-server: subscribers speak the NATS protocol over its WebSocket listener; one plain
/// NATS connection publishes. Every comment is its own message: NATS has no batching.
pub async fn nats(work: &Path, n: usize, rates: &[u64], secs: u64) -> anyhow::Result<Side> {
    let srv = start_nats(&work.join("nats"))?;
    let pid = srv.child.id();
    let tally = Arc::new(Tally::default());
    let url = format!("ws://127.0.0.1:{}", srv.ws_port);
    let ready = Arc::new(AtomicU64::new(0));
    let connect = |i: usize| {
        let (url, tally, ready) = (url.clone(), tally.clone(), ready.clone());
        async move {
            let mut ws = ws_connect(&url, i + 20_000, false).await?;
            ws.send(Message::Binary(
                b"CONNECT {\"verbose\":false,\"pedantic\":false}\r\nSUB room 1\r\nPING\r\n"
                    .to_vec()
                    .into(),
            ))
            .await?;
            Ok(tokio::spawn(async move {
                let timed = i.is_multiple_of(100);
                let mut counted_ready = false;
                while let Some(Ok(m)) = ws.next().await {
                    let data = match &m {
                        Message::Binary(b) => &b[..],
                        Message::Text(t) => t.as_bytes(),
                        _ => continue,
                    };
                    if !counted_ready && memchr::memmem::find(data, b"PONG").is_some() {
                        counted_ready = true;
                        ready.fetch_add(1, Ordering::Relaxed);
                    }
                    if memchr::memmem::find(data, b"PING\r\n").is_some() {
                        let _ = ws.send(Message::Binary(b"PONG\r\n".to_vec().into())).await;
                    }
                    account(data, timed, &tally);
                }
            }))
        }
    };
    let (idle, handles) = idle_slope(n, pid, &connect, |k| {
        ready.load(Ordering::Relaxed) >= k as u64
    })
    .await?;
    eprintln!(
        "  nats-server: {n} subscribers, {:.1} KiB per idle socket",
        idle / 1024.0
    );
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", srv.port)).await?;
    stream.set_nodelay(true)?;
    let (mut r, w) = stream.into_split();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        use tokio::io::AsyncReadExt;
        while matches!(r.read(&mut buf).await, Ok(n) if n > 0) {}
    });
    let w = Arc::new(tokio::sync::Mutex::new(w));
    {
        use tokio::io::AsyncWriteExt;
        w.lock()
            .await
            .write_all(b"CONNECT {\"verbose\":false}\r\n")
            .await?;
    }
    let mut publish = move |text: String| -> futures::future::BoxFuture<'static, ()> {
        let w = w.clone();
        Box::pin(async move {
            use tokio::io::AsyncWriteExt;
            // The same 100-byte comment, as JSON, like a chat system on NATS would send it.
            let payload = format!("{{\"text\":\"{text}\"}}");
            let msg = format!("PUB room {}\r\n{payload}\r\n", payload.len());
            let _ = w.lock().await.write_all(msg.as_bytes()).await;
        })
    };
    let mut results = Vec::new();
    for &r in rates {
        let res = measure(r, secs, &tally, &mut publish).await;
        eprintln!(
            "  nats-server {r}/s: {:.0} deliveries/s, p50 {:.1} ms, p99 {:.1} ms",
            res.deliveries_per_s, res.p50_ms, res.p99_ms
        );
        results.push(res);
    }
    for h in handles {
        h.abort();
    }
    Ok(Side {
        name: "nats-server",
        idle_rss_per_socket: idle,
        results,
    })
}

/// Lets this process hold the sockets (and the servers it starts inherit the limit).
pub fn raise_fd_limit() {
    // SAFETY: plain system calls on a local struct.
    unsafe {
        let mut l = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) == 0 {
            l.rlim_cur = l.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &l);
        }
    }
}
