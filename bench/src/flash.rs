//! `flash`: durable flash-sale buy attempts per second, three designs side by side in one run,
//! driven by the same load generator (N concurrent buyers, each sending its next attempt when
//! the previous one is answered):
//!
//! - **Hawker**: `POST /api/v1/flash-sales/{id}/orders` over HTTP/1.1 on loopback to a release
//!   server (session cookie, JSON body, idempotency key); acknowledged after the single-writer
//!   engine's group commit to SQLite (`synchronous=FULL`).
//! - **Redis 7**: a Lua script (stock check-and-decrement, per-buyer limit, `XADD` of the
//!   order) on a private `redis-server` with `appendonly yes`, `appendfsync always`.
//! - **PostgreSQL**: the hot-row design, `UPDATE stock … WHERE stock >= n` + per-buyer check
//!   + order `INSERT` in one transaction, 16 connections, `synchronous_commit = on`.
//!
//! The peers are called directly, without an HTTP layer in front: the comparison is generous to
//! them. After each run the orders are counted in each store: oversell is what was recorded
//! beyond the stock.

use anyhow::Context;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub struct Scenario {
    pub name: &'static str,
    pub stock: i64,
    pub buyers: usize,
    pub per_buyer_limit: i64,
    /// Connections (in-flight attempts) of the load generator.
    pub concurrency: usize,
    /// Stop after this long even if stock remains.
    pub max_seconds: u64,
}

#[derive(Debug, Default, Clone)]
pub struct Outcome {
    pub attempts: u64,
    pub acked: u64,
    pub refused: u64,
    pub errors: u64,
    pub seconds: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Orders recorded in the store beyond the stock.
    pub oversell: i64,
    pub recorded: i64,
    /// Hawker: seconds after the run until every journalled order was an order row.
    pub settle_seconds: Option<f64>,
    /// CPU time per attempt of the server's processes (every thread, user and kernel), where
    /// the bench knows them; steadier than attempts/s on a shared VM.
    pub server_cpu_us: Option<f64>,
    /// CPU time per attempt of this process, the load generator.
    pub client_cpu_us: f64,
    /// Share of the machine's CPU time left idle during the run: near 0 means the run was
    /// bound by CPU, well above it that it waited (on disk, on a single thread, on latency).
    pub idle_percent: f64,
}

impl Outcome {
    pub fn per_second(&self) -> f64 {
        self.attempts as f64 / self.seconds
    }

    /// What the store holds after the run: `n` orders for `stock` items.
    fn recorded(mut self, n: i64, stock: i64) -> Outcome {
        self.recorded = n;
        self.oversell = (n - stock).max(0);
        self
    }
}

fn summarise(mut lat: Vec<f64>, attempts: u64, acked: u64, errors: u64, secs: f64) -> Outcome {
    Outcome {
        attempts,
        acked,
        refused: attempts - acked - errors,
        errors,
        seconds: secs,
        p50_ms: crate::percentile(&mut lat, 0.50),
        p99_ms: crate::percentile(&mut lat, 0.99),
        ..Default::default()
    }
}

/// Raises the open-file limit (20,000 concurrent buyers are 20,000 sockets on each side);
/// returns the soft limit in force.
pub fn raise_fd_limit(n: u64) -> u64 {
    unsafe {
        let mut r = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) == 0 && r.rlim_cur < n {
            let want = libc::rlimit {
                rlim_cur: n,
                rlim_max: n.max(r.rlim_max),
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &want) != 0 {
                let soft = libc::rlimit {
                    rlim_cur: r.rlim_max,
                    rlim_max: r.rlim_max,
                };
                libc::setrlimit(libc::RLIMIT_NOFILE, &soft);
            }
        }
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut r);
        r.rlim_cur
    }
}

// ------------------------------------------------------------------------- load generator

/// What one attempt came back as.
enum Answer {
    Acked,
    Refused { sold_out: bool },
    Error,
}

/// Runs `attempt(buyer, n)` from `concurrency` workers until the stock is gone (a worker that
/// hears "sold out" stops) or time is up; buyers are dealt round-robin to workers. `server`:
/// the processes whose CPU time the attempts cost (empty when not ours to read).
async fn drive<F, Fut>(s: &Scenario, server: &[u32], attempt: F) -> Outcome
where
    F: Fn(usize, usize, u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Answer> + Send,
{
    let attempt = Arc::new(attempt);
    let stop = Arc::new(AtomicBool::new(false));
    let (attempts, acked, errors) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let deadline = Instant::now() + Duration::from_secs(s.max_seconds);
    let me = [std::process::id()];
    let (server0, client0) = (
        crate::procstat::cpu_seconds(server),
        crate::procstat::cpu_seconds(&me),
    );
    let machine0 = crate::procstat::machine_ticks();
    let started = Instant::now();
    let mut tasks = Vec::new();
    let buyers = s.buyers;
    let limit = s.per_buyer_limit as usize;
    for w in 0..s.concurrency {
        let (attempt, stop, attempts, acked, errors) = (
            attempt.clone(),
            stop.clone(),
            attempts.clone(),
            acked.clone(),
            errors.clone(),
        );
        let workers = s.concurrency;
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut k = 0u64;
            // This worker's buyers: w, w + workers, ...; each until its limit.
            let mine: Vec<usize> = (w..buyers).step_by(workers).collect();
            if mine.is_empty() {
                return lat;
            }
            let mut bought = vec![0usize; mine.len()];
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                // Next buyer of ours still under the limit.
                let mut tries = 0;
                while bought[i] >= limit && tries < mine.len() {
                    i = (i + 1) % mine.len();
                    tries += 1;
                }
                if bought[i] >= limit {
                    break;
                }
                let t0 = Instant::now();
                let a = attempt(w, mine[i], k).await;
                lat.push(t0.elapsed().as_secs_f64() * 1000.0);
                attempts.fetch_add(1, Ordering::Relaxed);
                k += 1;
                match a {
                    Answer::Acked => {
                        acked.fetch_add(1, Ordering::Relaxed);
                        bought[i] += 1;
                    }
                    Answer::Refused { sold_out: true } => {
                        stop.store(true, Ordering::Relaxed);
                    }
                    Answer::Refused { sold_out: false } => bought[i] = limit,
                    Answer::Error => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                i = (i + 1) % mine.len();
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.unwrap_or_default());
    }
    let secs = started.elapsed().as_secs_f64();
    let (server1, client1) = (
        crate::procstat::cpu_seconds(server),
        crate::procstat::cpu_seconds(&me),
    );
    let machine1 = crate::procstat::machine_ticks();
    let (idle, busy) = (machine1.0 - machine0.0, machine1.1 - machine0.1);
    let n = attempts.load(Ordering::Relaxed);
    let per = |cpu: f64| cpu * 1e6 / n.max(1) as f64;
    Outcome {
        idle_percent: 100.0 * idle as f64 / (idle + busy).max(1) as f64,
        server_cpu_us: (!server.is_empty()).then(|| per(server1 - server0)),
        client_cpu_us: per(client1 - client0),
        ..summarise(
            lat,
            n,
            acked.load(Ordering::Relaxed),
            errors.load(Ordering::Relaxed),
            secs,
        )
    }
}

// ------------------------------------------------------------------------- Hawker over HTTP

/// One keep-alive HTTP/1.1 connection, written and parsed by hand so the generator costs as
/// little CPU as wrk would.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    async fn open(addr: &str) -> anyhow::Result<Conn> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            buf: Vec::with_capacity(4096),
        })
    }

    /// Sends a request; returns (status, body).
    async fn call(&mut self, req: &[u8]) -> anyhow::Result<(u16, Vec<u8>)> {
        self.stream.write_all(req).await?;
        self.buf.clear();
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(end) = memchr::memmem::find(&self.buf, b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buf[..end])?;
                let status: u16 = head.get(9..12).context("status")?.parse()?;
                let len = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse::<usize>().ok())?
                    })
                    .context("content-length")?;
                while self.buf.len() < end + 4 + len {
                    let n = self.stream.read(&mut chunk).await?;
                    anyhow::ensure!(n > 0, "closed");
                    self.buf.extend_from_slice(&chunk[..n]);
                }
                return Ok((status, self.buf[end + 4..end + 4 + len].to_vec()));
            }
            let n = self.stream.read(&mut chunk).await?;
            anyhow::ensure!(n > 0, "closed");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

pub async fn hawker(
    s: &Scenario,
    server: &[u32],
    http: &str,
    sale: i64,
    tokens: Arc<Vec<String>>,
    db: &Path,
) -> anyhow::Result<Outcome> {
    let addr = http.trim_start_matches("http://").to_string();
    let mut conns = Vec::with_capacity(s.concurrency);
    for _ in 0..s.concurrency {
        conns.push(Arc::new(tokio::sync::Mutex::new(Conn::open(&addr).await?)));
    }
    let conns = Arc::new(conns);
    let body = r#"{"quantity":1,"address":{"name":"Bench Buyer","line1":"1 Load Street","city":"Hangzhou"}}"#;
    let (host, path) = (addr.clone(), format!("/api/v1/flash-sales/{sale}/orders"));
    let out = drive(s, server, move |w, buyer, k| {
        let (conns, tokens) = (conns.clone(), tokens.clone());
        let req = format!(
            "POST {path} HTTP/1.1\r\nhost: {host}\r\ncookie: hawker_session={}\r\ncontent-type: application/json\r\nidempotency-key: s{sale}-w{w}-{k}\r\ncontent-length: {}\r\n\r\n{body}",
            tokens[buyer],
            body.len()
        );
        async move {
            let mut c = conns[w].lock().await;
            match c.call(req.as_bytes()).await {
                Ok((201, _)) => Answer::Acked,
                Ok((409, b)) => Answer::Refused {
                    sold_out: memchr::memmem::find(&b, b"sold_out").is_some()
                        || memchr::memmem::find(&b, b"sale_ended").is_some(),
                },
                Ok((st, b)) => {
                    static SHOWN: AtomicBool = AtomicBool::new(false);
                    if !SHOWN.swap(true, Ordering::Relaxed) {
                        eprintln!("    hawker answered {st}: {}", String::from_utf8_lossy(&b));
                    }
                    Answer::Error
                }
                Err(_) => Answer::Error,
            }
        }
    })
    .await;
    // Count what the database holds: the record, not the responses. Acknowledged orders are
    // in the journal first and move into the order tables once buying pauses: wait for that
    // (it is work the design owes) so it does not run during the next design's turn.
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", db.display())).await?;
    let moving = Instant::now();
    let (mut journal, mut rows) = (0i64, 0i64);
    while moving.elapsed() < Duration::from_secs(600) {
        (journal,) = sqlx::query_as("SELECT COUNT(*) FROM flash_journal WHERE sale_id = ?")
            .bind(sale)
            .fetch_one(&pool)
            .await?;
        (rows,) = sqlx::query_as(
            "SELECT COUNT(*) FROM orders WHERE flash_sale_id = ? AND state NOT IN ('cancelled','expired')",
        )
        .bind(sale)
        .fetch_one(&pool)
        .await?;
        if journal == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "    {rows} order rows, {journal} still journalled; moved into the order tables {:.1} s after the sale",
        moving.elapsed().as_secs_f64()
    );
    pool.close().await;
    let mut out = out.recorded(rows + journal, s.stock);
    out.settle_seconds = Some(moving.elapsed().as_secs_f64());
    Ok(out)
}

// ------------------------------------------------------------------------- Redis

pub struct RedisServer {
    child: Child,
    pub port: u16,
}

impl RedisServer {
    pub async fn start(dir: &Path) -> anyhow::Result<RedisServer> {
        std::fs::create_dir_all(dir)?;
        let port = crate::servers::free_port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--maxclients",
                "40000",
                "--dir",
            ])
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("redis-server (apt install redis-server)")?;
        for _ in 0..100 {
            if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return Ok(RedisServer { child, port });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::bail!("redis-server did not start")
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const LUA_BUY: &str = r"
local stock = tonumber(redis.call('GET', KEYS[1]) or '0')
local n = tonumber(ARGV[2])
if stock < n then return -1 end
local had = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if had + n > tonumber(ARGV[3]) then return -2 end
redis.call('DECRBY', KEYS[1], n)
redis.call('HINCRBY', KEYS[2], ARGV[1], n)
redis.call('XADD', KEYS[3], '*', 'buyer', ARGV[1], 'n', n)
return stock - n
";

/// How the load generator reaches Redis.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum RedisClients {
    /// One connection per in-flight attempt, as the generator reaches Hawker: the same load.
    PerBuyer,
    /// Four multiplexed connections, each pipelining many buyers' scripts (what a client pool
    /// in front of a fleet of app servers does): Redis then does one fsync per many scripts.
    Pipelined,
}

pub async fn redis(
    s: &Scenario,
    server: &RedisServer,
    clients: RedisClients,
) -> anyhow::Result<Outcome> {
    let port = server.port;
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/"))?;
    let mut setup = client.get_multiplexed_async_connection().await?;
    redis::cmd("FLUSHALL").query_async::<()>(&mut setup).await?;
    let n = match clients {
        RedisClients::PerBuyer => s.concurrency,
        RedisClients::Pipelined => 4,
    };
    let mut conns = Vec::with_capacity(n);
    for _ in 0..n {
        conns.push(client.get_multiplexed_async_connection().await?);
    }
    let conns = Arc::new(conns);
    let script = Arc::new(redis::Script::new(LUA_BUY));
    // Load once so every attempt is an EVALSHA (no stock yet: the call changes nothing).
    script
        .prepare_invoke()
        .key("stock")
        .key("bought")
        .key("orders")
        .arg(-1)
        .arg(1)
        .arg(1)
        .invoke_async::<i64>(&mut setup)
        .await?;
    redis::cmd("SET")
        .arg("stock")
        .arg(s.stock)
        .query_async::<()>(&mut setup)
        .await?;
    let limit = s.per_buyer_limit;
    let out = drive(s, &[server.child.id()], move |w, buyer, _| {
        let (conns, script) = (conns.clone(), script.clone());
        async move {
            let mut c = conns[w % conns.len()].clone();
            let r: redis::RedisResult<i64> = script
                .key("stock")
                .key("bought")
                .key("orders")
                .arg(buyer)
                .arg(1)
                .arg(limit)
                .invoke_async(&mut c)
                .await;
            match r {
                Ok(v) if v >= 0 => Answer::Acked,
                Ok(-1) => Answer::Refused { sold_out: true },
                Ok(_) => Answer::Refused { sold_out: false },
                Err(_) => Answer::Error,
            }
        }
    })
    .await;
    let n: i64 = redis::cmd("XLEN")
        .arg("orders")
        .query_async(&mut setup)
        .await?;
    Ok(out.recorded(n, s.stock))
}

// ------------------------------------------------------------------------- PostgreSQL

pub async fn postgres(s: &Scenario, url: &str) -> anyhow::Result<Outcome> {
    use sqlx::postgres::PgPoolOptions;
    let admin = PgPoolOptions::new().max_connections(1).connect(url).await?;
    sqlx::query("DROP DATABASE IF EXISTS hawker_bench_flash")
        .execute(&admin)
        .await?;
    sqlx::query("CREATE DATABASE hawker_bench_flash")
        .execute(&admin)
        .await?;
    admin.close().await;
    let db_url = format!(
        "{}/hawker_bench_flash",
        url.rsplit_once('/').map_or(url, |(a, _)| a)
    );
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .connect(&db_url)
        .await?;
    for q in [
        "CREATE TABLE stock (sku BIGINT PRIMARY KEY, stock BIGINT NOT NULL)",
        "CREATE TABLE orders (id BIGSERIAL PRIMARY KEY, sku BIGINT NOT NULL, buyer BIGINT NOT NULL, quantity BIGINT NOT NULL, created_at TIMESTAMPTZ NOT NULL DEFAULT now())",
        "CREATE INDEX orders_buyer ON orders (sku, buyer)",
    ] {
        sqlx::query(q).execute(&pool).await?;
    }
    sqlx::query("INSERT INTO stock VALUES (1, $1)")
        .bind(s.stock)
        .execute(&pool)
        .await?;
    let limit = s.per_buyer_limit;
    let p = pool.clone();
    // The PostgreSQL server is the machine's own, not a child of the bench: its CPU is not
    // read (its backends also serve whoever else is connected).
    let out = drive(s, &[], move |_, buyer, _| {
        let pool = p.clone();
        async move {
            let r: Result<Answer, sqlx::Error> = async {
                let mut tx = pool.begin().await?;
                let had: (i64,) = sqlx::query_as(
                    "SELECT COALESCE(SUM(quantity), 0)::BIGINT FROM orders WHERE sku = 1 AND buyer = $1",
                )
                .bind(buyer as i64)
                .fetch_one(&mut *tx)
                .await?;
                if had.0 + 1 > limit {
                    tx.rollback().await?;
                    return Ok(Answer::Refused { sold_out: false });
                }
                let left: Option<(i64,)> = sqlx::query_as(
                    "UPDATE stock SET stock = stock - 1 WHERE sku = 1 AND stock >= 1 RETURNING stock",
                )
                .fetch_optional(&mut *tx)
                .await?;
                if left.is_none() {
                    tx.rollback().await?;
                    return Ok(Answer::Refused { sold_out: true });
                }
                sqlx::query("INSERT INTO orders (sku, buyer, quantity) VALUES (1, $1, 1)")
                    .bind(buyer as i64)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(Answer::Acked)
            }
            .await;
            r.unwrap_or(Answer::Error)
        }
    })
    .await;
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM orders")
        .fetch_one(&pool)
        .await?;
    pool.close().await;
    Ok(out.recorded(n, s.stock))
}
