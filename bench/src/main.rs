//! `hawker-bench`: Hawker beside a real peer, in one run, on this machine.
//!
//! `ingest`: Hawker vs nginx-rtmp (Debian's libnginx-mod-rtmp, HLS on):
//!   1. ingest-to-playable delay: a publisher records when it sends each video frame; a client
//!      at the live edge records when that frame's bytes arrive (Hawker: preload-hinted parts,
//!      streamed; nginx-rtmp: playlist polling every 100 ms, the best a plain HLS client does);
//!   2. CPU-seconds per stream-minute and RSS at 1, 20 and 50 concurrent 2 Mbit/s publishers
//!      replaying a fixture in real time (no encoder in the loop).
//!
//! Run: `cargo run --release -p hawker-bench -- ingest` (see README "Performance").

mod flash;
mod glass;
mod ingest;
mod ledger;
mod mp4;
mod procstat;
mod room;
mod servers;
mod sfu;
mod ts;
mod verdict;

use anyhow::Context;
use bytes::Bytes;
use clap::{Parser, Subcommand};
use glass::*;
use hawker_broadcast::publisher::{self, Clip, PublishOptions};
use ingest::*;
use servers::{Hawker, Nginx};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Ingest-to-playable delay and CPU/RSS per stream, Hawker vs nginx-rtmp.
    Ingest {
        /// Concurrent publishers for the CPU/RSS runs.
        #[arg(long, default_value = "1,20,50")]
        streams: String,
        /// Measured seconds per CPU/RSS run (after 5 s of warm-up).
        #[arg(long, default_value_t = 30)]
        seconds: u64,
        /// Seconds of the delay measurement per server.
        #[arg(long, default_value_t = 30)]
        latency_seconds: u64,
    },
    /// Balanced ledger transactions per second, durable (order paid → commission split), on
    /// SQLite and PostgreSQL; then settlement of 1,000,000 orders: seconds and peak memory.
    Ledger {
        /// Orders paid and then settled on SQLite.
        #[arg(long, default_value_t = 1_000_000)]
        orders: i64,
        /// Orders paid on PostgreSQL (slower: fewer, for the rate).
        #[arg(long, default_value_t = 50_000)]
        postgres_orders: i64,
        /// Transactions per batch (one database commit each).
        #[arg(long, default_value_t = 10_000)]
        batch: i64,
        #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
        postgres: String,
    },
    /// One room, many WebSocket subscribers: Hawker vs nats-server's WebSocket listener.
    Room {
        #[arg(long, default_value_t = 10_000)]
        subscribers: usize,
        /// Comments per second, one run each.
        #[arg(long, default_value = "10,100,200,800")]
        rates: String,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Flash-sale buy attempts per second, durable before acknowledgement: Hawker over HTTP vs
    /// Redis 7 (Lua + XADD, appendfsync always) vs PostgreSQL (hot-row UPDATE + INSERT).
    Flash {
        /// Seconds per design per scenario at most (the 1,000,000-stock run rarely sells out
        /// on the slower designs).
        #[arg(long, default_value_t = 30)]
        seconds: u64,
        /// Connections of the load generator in the 1,000,000-stock run.
        #[arg(long, default_value_t = 256)]
        concurrency: usize,
        /// Buyers (accounts with sessions) in both runs.
        #[arg(long, default_value_t = 20_000)]
        buyers: usize,
        #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
        postgres: String,
        /// Run only these designs' turns (the comparison wants all three).
        #[arg(long, value_delimiter = ',', default_value = "hawker,redis,postgres")]
        designs: Vec<String>,
        /// Run only the first scenario (1,000,000 stock).
        #[arg(long)]
        first_only: bool,
    },
    /// Glass-to-glass delay of the viewer page in headless Chromium, MSE and WebRTC in one
    /// run: ffmpeg (RTMP) and a publisher page (WHIP) paint the wall clock into each frame at
    /// capture, the watch page reads it back at presentation.
    Glass {
        /// Measured seconds per path.
        #[arg(long, default_value_t = 30)]
        seconds: u64,
    },
    /// SFU fan-out: one 720p ~2 Mbit/s WHIP publisher to N WHEP subscribers (str0m peers in
    /// this process); server CPU per forwarded stream and the most subscribers held without
    /// loss; then the same against Janus's streaming plugin, side by side with the ratio.
    Sfu {
        /// Subscriber counts, ramped in order until loss passes 1 % or frames fall behind.
        #[arg(long, default_value = "25,50,100,200,300,400,600")]
        subscribers: String,
        /// Measured seconds per step (after 2 s of warm-up).
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Skip the side-by-side run against Janus (Debian's `janus` package).
        #[arg(long)]
        no_janus: bool,
    },
}

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("workspace root")
}

/// `bench/out/{name}`, made by ffmpeg with `args` (the output path appended) the first time
/// it is asked for; a failed ffmpeg ends the run.
fn made_once(name: &str, what: &str, args: &[&str]) -> anyhow::Result<PathBuf> {
    let path = verdict::out_file(name)?;
    if path.exists() {
        return Ok(path);
    }
    eprintln!("making {what} with ffmpeg…");
    let st = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args)
        .arg(&path)
        .status()
        .context("ffmpeg must be installed")?;
    anyhow::ensure!(st.success(), "ffmpeg failed to make {what}");
    Ok(path)
}

/// A 2 Mbit/s H.264 + AAC FLV, 10 s, keyframe every 2 s, no B-frames.
fn fixture() -> anyhow::Result<PathBuf> {
    made_once(
        "fixture-2mbit.flv",
        "the 2 Mbit/s fixture",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1280x720:rate=30",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=500:sample_rate=48000",
            "-t",
            "10",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-tune",
            "zerolatency",
            "-b:v",
            "1900k",
            "-maxrate",
            "1900k",
            "-bufsize",
            "1900k",
            "-x264-params",
            "nal-hrd=cbr:force-cfr=1",
            "-g",
            "60",
            "-keyint_min",
            "60",
            "-sc_threshold",
            "0",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-b:a",
            "96k",
            "-f",
            "flv",
        ],
    )
}

#[tokio::main]
async fn main() {
    if let Err(e) = run(Cli::parse()).await {
        // One line that says why; no figure was printed for the failed run.
        eprintln!("hawker-bench: failed: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        eprintln!("note: a debug build checks that the benchmark runs; its figures are not comparable (use --release)");
    }
    let (streams, seconds, latency_seconds) = match cli.cmd {
        Cmd::Ingest {
            streams,
            seconds,
            latency_seconds,
        } => (streams, seconds, latency_seconds),
        Cmd::Glass { seconds } => return glass(seconds).await,
        Cmd::Sfu {
            subscribers,
            seconds,
            no_janus,
        } => return sfu::sfu(&subscribers, seconds, !no_janus).await,
        Cmd::Flash {
            seconds,
            concurrency,
            buyers,
            postgres,
            designs,
            first_only,
        } => {
            // The load generator on one thread, as wrk runs one per core: a multi-threaded
            // runtime spent more CPU waking its own workers than making requests.
            return std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?
                    .block_on(flash_bench(
                        seconds,
                        concurrency,
                        buyers,
                        &postgres,
                        &designs,
                        first_only,
                    ))
            })
            .join()
            .map_err(|_| anyhow::anyhow!("flash bench panicked"))?;
        }
        Cmd::Ledger {
            orders,
            postgres_orders,
            batch,
            postgres,
        } => return ledger_bench(orders, postgres_orders, batch, &postgres).await,
        Cmd::Room {
            subscribers,
            rates,
            seconds,
        } => return room_bench(subscribers, &rates, seconds).await,
    };
    let counts: Vec<usize> = streams
        .split(',')
        .map(|s| s.trim().parse())
        .collect::<Result<_, _>>()?;
    let clip = Arc::new(Clip::parse(Bytes::from(std::fs::read(fixture()?)?))?);
    let work = std::env::temp_dir().join(format!("hawker-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let hawker = Hawker::start(&work.join("hawker")).await?;
    let nginx = Nginx::start(&work.join("nginx")).await?;
    println!(
        "# Ingest benchmark: Hawker {} vs nginx-rtmp ({})",
        env!("CARGO_PKG_VERSION"),
        nginx.version
    );
    println!(
        "machine: {} cores; fixture: 1280x720 30 fps H.264 + AAC, 2 Mbit/s, real time\n",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );

    eprintln!("delay: {latency_seconds} s per server…");
    let mut hd = hawker_delay(&hawker, clip.clone(), latency_seconds).await?;
    let mut nd = nginx_delay(&nginx, clip.clone(), latency_seconds).await?;
    let (h50, h95, hn) = hd.summary();
    let (n50, n95, nn) = nd.summary();
    verdict::at_least("Hawker's frames timed at the live edge", hn as u64, 10)?;
    verdict::at_least("nginx-rtmp's frames timed at the live edge", nn as u64, 10)?;
    for (what, x) in [
        ("Hawker p50", h50),
        ("Hawker p95", h95),
        ("nginx-rtmp p50", n50),
        ("nginx-rtmp p95", n95),
    ] {
        verdict::figure(&format!("the delay's {what}"), x)?;
    }
    println!("## Ingest-to-playable delay (ms; frame sent by the publisher → its bytes at a live-edge client)");
    println!("| server | p50 | p95 | frames |");
    println!("|---|---|---|---|");
    println!("| Hawker (LL-HLS preload hint, streamed parts) | {h50:.1} | {h95:.1} | {hn} |");
    println!("| nginx-rtmp (HLS, playlist polled every 100 ms) | {n50:.1} | {n95:.1} | {nn} |");
    println!(
        "| ratio nginx-rtmp / Hawker | {:.0}× | {:.0}× | |\n",
        n50 / h50,
        n95 / h95
    );

    println!("## CPU and memory per stream (server process only; publishers run in the bench)");
    println!("| streams | Hawker CPU-s/stream-min | nginx-rtmp CPU-s/stream-min | ratio Hawker/nginx | Hawker RSS MiB | nginx-rtmp RSS MiB |");
    println!("|---|---|---|---|---|---|");
    let mut rows = Vec::new();
    for &n in &counts {
        let mut urls = Vec::new();
        for i in 0..n {
            let slug = format!("load-{n}-{i}");
            let key = hawker.create_channel(&slug).await?;
            urls.push(format!("{}/{key}", hawker.rtmp_url()));
        }
        let h = measure_load("Hawker", urls, clip.clone(), || vec![hawker.pid()], seconds).await?;
        let urls = (0..n)
            .map(|i| format!("{}/load{n}x{i}", nginx.rtmp_url()))
            .collect();
        let g = measure_load("nginx-rtmp", urls, clip.clone(), || nginx.pids(), seconds).await?;
        println!(
            "| {n} | {:.3} | {:.3} | {:.2} | {:.1} | {:.1} |",
            h.cpu_s_per_stream_min,
            g.cpu_s_per_stream_min,
            h.cpu_s_per_stream_min / g.cpu_s_per_stream_min,
            h.rss_mib,
            g.rss_mib
        );
        rows.push(serde_json::json!({"streams": n, "hawker_cpu": h.cpu_s_per_stream_min, "nginx_cpu": g.cpu_s_per_stream_min, "hawker_rss_mib": h.rss_mib, "nginx_rss_mib": g.rss_mib}));
    }
    let report = serde_json::json!({
        "delay_ms": {"hawker": {"p50": h50, "p95": h95, "frames": hn}, "nginx_rtmp": {"p50": n50, "p95": n95, "frames": nn}},
        "load": rows,
    });
    verdict::write_report("ingest.json", &report)?;
    drop(hawker);
    drop(nginx);
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}

async fn ledger_bench(
    orders: i64,
    postgres_orders: i64,
    batch: i64,
    postgres: &str,
) -> anyhow::Result<()> {
    use hawker_money::Ledger;
    let dir = tempfile::tempdir()?;
    let sqlite =
        hawker_storage::SqlStore::open(&hawker_storage::sqlite_url_for_dir(dir.path())).await?;
    let mut on_sqlite = Ledger::new();
    eprintln!("SQLite: paying {orders} orders, {batch} per commit ...");
    let paid = ledger::pay(&sqlite, &mut on_sqlite, orders, batch).await?;
    ledger::reset_peak_rss();
    eprintln!("SQLite: settling them ...");
    let settled = ledger::settle(&sqlite, &mut on_sqlite, orders, batch).await?;
    let peak = ledger::peak_rss();
    let accounts = ledger::verify(&sqlite, &on_sqlite).await?;

    // PostgreSQL: a database of its own.
    use sqlx::postgres::PgPoolOptions;
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(postgres)
        .await?;
    sqlx::query("DROP DATABASE IF EXISTS hawker_bench_ledger")
        .execute(&admin)
        .await?;
    sqlx::query("CREATE DATABASE hawker_bench_ledger")
        .execute(&admin)
        .await?;
    admin.close().await;
    let url = format!(
        "{}/hawker_bench_ledger",
        postgres.rsplit_once('/').map_or(postgres, |(a, _)| a)
    );
    let pg = hawker_storage::SqlStore::open(&url).await?;
    let mut on_pg = Ledger::new();
    eprintln!("PostgreSQL: paying {postgres_orders} orders ...");
    let pg_paid = ledger::pay(&pg, &mut on_pg, postgres_orders, batch).await?;
    ledger::verify(&pg, &on_pg).await?;
    // What was written is checked by `ledger::verify` (stored balances = in-memory, every
    // currency balanced); the counts are the runs' own, so only the rates can go wrong here.
    for (what, r) in [
        ("SQLite: orders paid", &paid),
        ("SQLite: settlement", &settled),
        ("PostgreSQL: orders paid", &pg_paid),
    ] {
        verdict::figure(&format!("{what}: transactions/s"), r.per_second())?;
    }

    println!("\nledger: balanced transactions (order paid: clearing → merchant, host, agency, platform fee), durable, {batch} per commit (this machine, one run)");
    println!(
        "{:<42} {:>12} {:>10} {:>14}",
        "run", "transactions", "seconds", "transactions/s"
    );
    for (name, r) in [
        ("SQLite (embedded): orders paid", &paid),
        ("SQLite (embedded): settlement", &settled),
        ("PostgreSQL: orders paid", &pg_paid),
    ] {
        println!(
            "{:<42} {:>12} {:>10.1} {:>14.0}",
            name,
            r.transactions,
            r.seconds,
            r.per_second()
        );
    }
    println!(
        "settlement of {orders} orders: {:.1} s, peak resident memory {:.0} MiB (whole process); {accounts} accounts, stored balances = in-memory, every currency sums to zero",
        settled.seconds,
        peak as f64 / (1024.0 * 1024.0)
    );
    println!(
        "ratio SQLite/PostgreSQL (orders paid): {:.1}x",
        paid.per_second() / pg_paid.per_second()
    );
    verdict::write_report(
        "ledger.json",
        &serde_json::json!({
            "batch": batch,
            "sqlite_paid": {"transactions": paid.transactions, "seconds": paid.seconds, "per_s": paid.per_second()},
            "sqlite_settlement": {"transactions": settled.transactions, "seconds": settled.seconds, "per_s": settled.per_second(), "peak_rss_bytes": peak},
            "postgres_paid": {"transactions": pg_paid.transactions, "seconds": pg_paid.seconds, "per_s": pg_paid.per_second()},
        }),
    )?;
    Ok(())
}

async fn room_bench(n: usize, rates: &str, secs: u64) -> anyhow::Result<()> {
    room::raise_fd_limit();
    let rates: Vec<u64> = rates
        .split(',')
        .map(|r| r.trim().parse())
        .collect::<Result<_, _>>()?;
    let work = std::env::temp_dir().join(format!("hawker-roombench-{}", std::process::id()));
    eprintln!("room: {n} subscribers, comments at {rates:?}/s, {secs} s each");
    let h = room::hawker(&work, n, &rates, secs).await?;
    let g = room::nats(&work, n, &rates, secs).await?;
    for side in [&h, &g] {
        verdict::at_least(
            &format!("{}'s runs", side.name),
            side.results.len() as u64,
            rates.len() as u64,
        )?;
        for r in &side.results {
            let what = format!("{} at {} comments/s", side.name, r.rate);
            verdict::figure(&format!("{what}: deliveries/s"), r.deliveries_per_s)?;
            verdict::figure(&format!("{what}: p50"), r.p50_ms)?;
            verdict::figure(&format!("{what}: p99"), r.p99_ms)?;
        }
    }
    println!("# Live room: {n} WebSocket subscribers in one room, 100-byte comments (Hawker vs nats-server WebSocket)");
    println!("| comments/s | Hawker deliveries/s | p50 ms | p99 ms | nats-server deliveries/s | p50 ms | p99 ms | ratio Hawker/nats |");
    println!("|---|---|---|---|---|---|---|---|");
    let mut rows = Vec::new();
    for (a, b) in h.results.iter().zip(&g.results) {
        println!(
            "| {} | {:.0} | {:.1} | {:.1} | {:.0} | {:.1} | {:.1} | {:.2} |",
            a.rate,
            a.deliveries_per_s,
            a.p50_ms,
            a.p99_ms,
            b.deliveries_per_s,
            b.p50_ms,
            b.p99_ms,
            a.deliveries_per_s / b.deliveries_per_s
        );
        rows.push(serde_json::json!({"rate": a.rate, "hawker": {"deliveries_per_s": a.deliveries_per_s, "p50_ms": a.p50_ms, "p99_ms": a.p99_ms},
            "nats": {"deliveries_per_s": b.deliveries_per_s, "p50_ms": b.p50_ms, "p99_ms": b.p99_ms}}));
    }
    // The slope between two sizes of the room: a few hundred sockets move RSS by less than
    // the allocator's granularity, so no figure is printed for them.
    if h.idle_rss_per_socket > 0.0 && g.idle_rss_per_socket > 0.0 {
        println!(
            "\nRSS per idle socket: {} {:.1} KiB, {} {:.1} KiB",
            h.name,
            h.idle_rss_per_socket / 1024.0,
            g.name,
            g.idle_rss_per_socket / 1024.0
        );
    } else {
        println!("\nRSS per idle socket: not measured (too few subscribers to see a slope)");
    }
    let report = serde_json::json!({"subscribers": n, "runs": rows, "idle_rss_per_socket_bytes": {"hawker": h.idle_rss_per_socket, "nats": g.idle_rss_per_socket}});
    verdict::write_report("room.json", &report)?;
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}

async fn flash_bench(
    seconds: u64,
    concurrency: usize,
    buyers: usize,
    postgres: &str,
    designs: &[String],
    first_only: bool,
) -> anyhow::Result<()> {
    use flash::Scenario;
    let runs = |d: &str| designs.iter().any(|x| x == d);
    // Each connection is a socket in this process and one in the server's.
    let fds = flash::raise_fd_limit(65_536);
    let herd = buyers.min(fds.saturating_sub(1_000) as usize);
    let work = std::env::temp_dir().join(format!("hawker-bench-flash-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let data = work.join("hawker");
    let hawker =
        Hawker::start_with_env(&data, &[("HAWKER_SERVER__API_REQUESTS_PER_MINUTE", "0")]).await?;
    let t0 = Instant::now();
    let out = std::process::Command::new(servers::hawker_binary())
        .args(["seed", "buyers", "--count", &buyers.to_string(), "--data"])
        .arg(&data)
        .output()?;
    anyhow::ensure!(out.status.success(), "seeding buyers failed: {out:?}");
    let tokens: Arc<Vec<String>> = Arc::new(
        String::from_utf8(out.stdout)?
            .lines()
            .map(str::to_string)
            .collect(),
    );
    eprintln!(
        "{} buyers seeded in {:.0} s",
        tokens.len(),
        t0.elapsed().as_secs_f64()
    );
    let host = hawker.streamer_session("flash-bench").await?;
    let c = reqwest::Client::new();
    let post = |path: &str, body: serde_json::Value| {
        c.post(format!("{}{path}", hawker.http))
            .header("cookie", &host)
            .json(&body)
            .send()
    };
    let org: serde_json::Value = post("/api/v1/orgs", serde_json::json!({"name": "Bench Shop"}))
        .await?
        .error_for_status()?
        .json()
        .await?;
    let product: serde_json::Value = post(
        &format!("/api/v1/orgs/{}/products", org["id"]),
        serde_json::json!({"title": "Hot item", "category": "other", "return_class": "normal",
            "currency": "CNY", "skus": [{"label": "one", "price_minor": 100, "stock": 1_001_000}]}),
    )
    .await?
    .error_for_status()?
    .json()
    .await?;
    let sku = product["skus"][0]["id"].as_i64().context("sku")?;
    let redis = flash::RedisServer::start(&work.join("redis")).await?;
    let db = data.join("hawker.db");

    let scenarios = [
        Scenario {
            name: "1,000,000 stock",
            stock: 1_000_000,
            buyers,
            per_buyer_limit: (1_000_000 / buyers as i64 + 1).max(1),
            concurrency,
            max_seconds: seconds,
        },
        Scenario {
            name: "1,000 stock, every buyer at once",
            stock: 1_000,
            buyers,
            per_buyer_limit: 1,
            concurrency: herd,
            max_seconds: seconds,
        },
    ];
    let mut report = Vec::new();
    println!(
        "\nflash sale: durable buy attempts, one hot SKU, {buyers} buyers; {concurrency} connections, \
         then {herd} at once (this machine, one run)"
    );
    println!(
        "{:<34} {:<16} {:>10} {:>8} {:>8} {:>9} {:>9} {:>9} {:>10} {:>10} {:>6}",
        "scenario",
        "design",
        "attempts/s",
        "acked",
        "errors",
        "p50 ms",
        "p99 ms",
        "oversell",
        "server µs",
        "client µs",
        "idle %"
    );
    let scenarios = if first_only {
        &scenarios[..1]
    } else {
        &scenarios[..]
    };
    for s in scenarios {
        let mut ran: Vec<(&str, flash::Outcome)> = Vec::new();
        if runs("hawker") {
            // Hawker: a sale opening after the shortest countdown.
            let sale: serde_json::Value = post(
                "/api/v1/flash-sales",
                serde_json::json!({"channel": "flash-bench", "sku": sku, "price_minor": 50,
                    "stock": s.stock, "per_buyer_limit": s.per_buyer_limit,
                    "duration_s": 1200, "countdown_s": 10}),
            )
            .await?
            .error_for_status()?
            .json()
            .await?;
            let sale_id = sale["id"].as_i64().context("sale id")?;
            let starts = sale["starts_at"].as_i64().context("starts_at")?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_millis() as i64;
            tokio::time::sleep(Duration::from_millis((starts - now).max(0) as u64 + 50)).await;
            ran.push((
                "Hawker",
                flash::hawker(
                    s,
                    &[hawker.pid()],
                    &hawker.http,
                    sale_id,
                    tokens.clone(),
                    &db,
                )
                .await?,
            ));
            // The engine's own view: orders per group commit and seconds per commit.
            let metrics = reqwest::get(format!("{}/metrics", hawker.http))
                .await?
                .text()
                .await?;
            for l in metrics.lines().filter(|l| {
                l.starts_with("hawker_flash_commit_")
                    && (l.contains("_sum") || l.contains("_count"))
            }) {
                eprintln!("    {l}");
            }
        }
        if runs("redis") {
            ran.push((
                "Redis",
                flash::redis(s, &redis, flash::RedisClients::PerBuyer).await?,
            ));
            ran.push((
                "Redis pipelined",
                flash::redis(s, &redis, flash::RedisClients::Pipelined).await?,
            ));
        }
        if runs("postgres") {
            ran.push(("PostgreSQL", flash::postgres(s, postgres).await?));
        }
        for (design, o) in &ran {
            // A design that erred, sold more than its stock, or lost an acknowledged order
            // measured something else than a flash sale.
            let what = format!("{}: {design}", s.name);
            verdict::none(&format!("{what}: errors"), o.errors)?;
            verdict::none(
                &format!("{what}: orders beyond the stock"),
                o.oversell.max(0) as u64,
            )?;
            verdict::at_least(&format!("{what}: acknowledged orders"), o.acked, 1)?;
            anyhow::ensure!(
                o.recorded >= o.acked as i64,
                "{what}: {} orders recorded but {} acknowledged (acknowledged orders lost)",
                o.recorded,
                o.acked
            );
            verdict::figure(&format!("{what}: attempts/s"), o.per_second())?;
            verdict::figure(&format!("{what}: p50"), o.p50_ms)?;
        }
        for (design, o) in &ran {
            println!(
                "{:<34} {:<16} {:>10.0} {:>8} {:>8} {:>9.1} {:>9.1} {:>9} {:>10} {:>10.1} {:>6.0}",
                s.name,
                design,
                o.per_second(),
                o.acked,
                o.errors,
                o.p50_ms,
                o.p99_ms,
                o.oversell,
                o.server_cpu_us
                    .map_or("-".to_string(), |us| format!("{us:.1}")),
                o.client_cpu_us,
                o.idle_percent
            );
            report.push(serde_json::json!({
                "scenario": s.name, "design": design, "attempts_per_s": o.per_second(),
                "attempts": o.attempts, "acked": o.acked, "refused": o.refused, "errors": o.errors,
                "recorded": o.recorded, "p50_ms": o.p50_ms, "p99_ms": o.p99_ms,
                "oversell": o.oversell, "seconds": o.seconds, "settle_seconds": o.settle_seconds,
                "server_cpu_us_per_attempt": o.server_cpu_us, "client_cpu_us_per_attempt": o.client_cpu_us,
                "idle_percent": o.idle_percent,
            }));
        }
        let rate = |d: &str| {
            ran.iter()
                .find(|(x, _)| *x == d)
                .map(|(_, o)| o.per_second())
        };
        if let Some(h) = rate("Hawker") {
            let ratios: Vec<String> = ["Redis", "Redis pipelined", "PostgreSQL"]
                .iter()
                .filter_map(|d| rate(d).map(|r| format!("Hawker/{d} {:.2}x", h / r)))
                .collect();
            if !ratios.is_empty() {
                println!("{:<34} ratios: {}", "", ratios.join(", "));
            }
        }
    }
    verdict::write_report("flash.json", &serde_json::Value::Array(report))?;
    drop(redis);
    drop(hawker);
    let _ = std::fs::copy(
        data.join("server.log"),
        verdict::out_file("flash-hawker-server.log")?,
    );
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}
