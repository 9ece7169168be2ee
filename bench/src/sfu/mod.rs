//! `hawker-bench sfu`: SFU fan-out. One 1280x720 30 fps ~2 Mbit/s H.264 publisher (WHIP, with
//! a small fixed Opus payload every 20 ms) to N WHEP subscribers, all real WebRTC peers (str0m,
//! ICE + DTLS + SRTP, NACKs answered) on UDP sockets of their own, driven by two client threads
//! of this process: one for the publisher, one for every subscriber. The server's CPU is read
//! from /proc by its PID, the client's separately. N ramps until loss passes 1 % or frames
//! fall behind. Then the same ramp against Janus (its streaming plugin, fed the same fixture
//! as plain RTP), and the two side by side with their ratio.

mod fixture;
mod janus;
mod peers;

use super::*;
use fixture::Frame;
use peers::*;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use str0m::media::Direction;

struct Step {
    subscribers: usize,
    seconds: f64,
    server_cpu_pct: f64,
    client_cpu_pct: f64,
    /// The busiest thread's share of a core (the switch is one task; the subscribers one thread).
    server_thread_pct: f64,
    client_thread_pct: f64,
    us_per_frame: f64,
    us_per_sub_s: f64,
    loss_pct: f64,
    delivered_pct: f64,
    delay_p50: f64,
    delay_p95: f64,
    mbit_out: f64,
    gone: usize,
}

impl Step {
    /// Without loss and in step: at most 1 % of video lost, 99–101 % of what was sent
    /// delivered in the window (above 101 % a backlog from before it was still draining), and
    /// p95 delay within 200 ms.
    fn holds(&self) -> bool {
        self.loss_pct <= 1.0
            && (99.0..=101.0).contains(&self.delivered_pct)
            && self.delay_p95 <= 200.0
    }
}

/// The server under test: how a subscriber joins, whose CPU counts.
enum Server<'a> {
    Hawker { hawker: &'a Hawker, whep: String },
    Janus(&'a janus::Janus),
}

impl Server<'_> {
    fn pid(&self) -> u32 {
        match self {
            Server::Hawker { hawker, .. } => hawker.pid(),
            Server::Janus(j) => j.pid(),
        }
    }

    async fn subscriber(&self, http: &reqwest::Client) -> anyhow::Result<Client> {
        match self {
            Server::Hawker { whep, .. } => {
                let mut c = client(Direction::RecvOnly)?;
                signal(http, whep, None, &mut c).await?;
                Ok(c)
            }
            Server::Janus(j) => j.subscribe(http).await,
        }
    }
}

/// One server's ramp: the table, each step, the CPU with the publisher alone.
struct Ramp {
    steps: Vec<Step>,
    base: f64,
}

impl Ramp {
    /// The largest step held without loss.
    fn best(&self) -> Option<&Step> {
        self.steps
            .iter()
            .filter(|s| s.holds())
            .max_by_key(|s| s.subscribers)
    }

    /// Subscribers one server core forwards to, at the largest step held.
    fn per_core(&self) -> Option<f64> {
        self.best()
            .map(|s| (1.0 - self.base) * 1e6 / s.us_per_sub_s)
    }
}

/// Measures `server` with its publisher up (sending into `shared`): the CPU with the
/// publisher alone, then subscribers added step by step until a step does not hold. Any
/// failure (a refused subscriber, one that never receives) ends the run with no figure.
async fn ramp(
    server: &Server<'_>,
    steps: &[usize],
    seconds: u64,
    shared: &Arc<Shared>,
    sub_rt: &tokio::runtime::Handle,
) -> anyhow::Result<Ramp> {
    let pid = server.pid();
    // Janus's long poll answers within 30 s (a keepalive at worst): nothing waits longer.
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(40))
        .build()?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    // The publisher alone: what every step pays before any subscriber, subtracted to give the
    // cost of one forwarded stream.
    let (s0, t0) = (procstat::cpu_seconds(&[pid]), Instant::now());
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let base = verdict::figure(
        "the server's CPU with the publisher alone",
        (procstat::cpu_seconds(&[pid]) - s0) / t0.elapsed().as_secs_f64(),
    )?;
    verdict::at_least(
        "video frames the publisher sent",
        shared.counts.video_sent.load(Relaxed),
        1,
    )?;
    println!(
        "server CPU with the publisher alone: {:.1} %\n",
        base * 100.0
    );
    println!("| subscribers | server CPU % (busiest thread) | client CPU % (busiest thread) | server CPU-µs / forwarded frame | server CPU-µs / subscriber-second (above the publisher alone) | video loss % | delivered % | delay p50 / p95 ms | Mbit/s out | holds |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let mut subs: Vec<Arc<SubState>> = Vec::new();
    let mut results: Vec<Step> = Vec::new();
    let me = std::process::id();
    for &n in steps {
        let mut refused = None;
        while subs.len() < n {
            let c = match server.subscriber(&http).await {
                Ok(c) => c,
                // At the first step an error (no figure); past it, the server's limit.
                Err(e) if !results.is_empty() => {
                    refused = Some(format!("subscriber {} was refused: {e:#}", subs.len() + 1));
                    break;
                }
                Err(e) => {
                    return Err(e.context(format!("subscriber {} was refused", subs.len() + 1)))
                }
            };
            let st = Arc::new(SubState::default());
            sub_rt.spawn(subscribe(c, shared.clone(), st.clone()));
            subs.push(st);
        }
        if let Some(why) = refused {
            println!("| {n} | | | | | | | | | no ({why}) |");
            break;
        }
        // Every subscriber connected and decoding (from a keyframe, ≤ 2 s away). At the first
        // step that is an error (no figure); past it, a server too busy to start them all has
        // reached its limit: the step does not hold, and the ramp ends there.
        let t = Instant::now();
        let mut unstarted = None;
        loop {
            let waiting = subs.iter().filter(|s| s.frames.load(Relaxed) == 0).count();
            if waiting == 0 {
                break;
            }
            if t.elapsed() > Duration::from_secs(15) {
                let never = subs.iter().filter(|s| !s.connected.load(Relaxed)).count();
                let why = format!("{never} never connected, {waiting} received no frame in 15 s");
                anyhow::ensure!(!results.is_empty(), "{n} subscribers: {why}");
                unstarted = Some(why);
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if let Some(why) = unstarted {
            println!("| {n} | | | | | | | | | no ({why}) |");
            break;
        }
        tokio::time::sleep(Duration::from_secs(2)).await; // warm-up
        let c = &shared.counts;
        for b in &c.delay_ms {
            b.store(0, Relaxed);
        }
        let snap = |c: &Counts| {
            [
                c.video.load(Relaxed),
                c.audio.load(Relaxed),
                c.lost.load(Relaxed),
                c.video_sent.load(Relaxed),
                c.bytes.load(Relaxed),
            ]
        };
        let gone0 = subs.iter().filter(|s| s.gone.load(Relaxed)).count();
        let (ta, ma) = (threads(pid), threads(me));
        let (a, s0, m0, t0) = (
            snap(c),
            procstat::cpu_seconds(&[pid]),
            procstat::cpu_seconds(&[me]),
            Instant::now(),
        );
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        let (b, s1, m1, dt) = (
            snap(c),
            procstat::cpu_seconds(&[pid]),
            procstat::cpu_seconds(&[me]),
            t0.elapsed().as_secs_f64(),
        );
        let (tb, mb) = (threads(pid), threads(me));
        let d: Vec<u64> = a.iter().zip(&b).map(|(x, y)| y - x).collect();
        let (video, audio, lost, sent, bytes) = (d[0], d[1], d[2], d[3], d[4]);
        let gone = subs.iter().filter(|s| s.gone.load(Relaxed)).count() - gone0;
        let what = format!("{n} subscribers");
        verdict::at_least(&format!("{what}: video frames received"), video, 1)?;
        verdict::at_least(&format!("{what}: video frames sent"), sent, 1)?;
        let server = verdict::figure(&format!("{what}: server CPU"), s1 - s0)?;
        let step = Step {
            subscribers: n,
            seconds: dt,
            server_cpu_pct: server / dt * 100.0,
            client_cpu_pct: (m1 - m0) / dt * 100.0,
            server_thread_pct: busiest(&ta, &tb, dt),
            client_thread_pct: busiest(&ma, &mb, dt),
            us_per_frame: (server - base * dt).max(0.0) * 1e6 / (video + audio) as f64,
            us_per_sub_s: (server - base * dt).max(0.0) * 1e6 / (n as f64 * dt),
            loss_pct: lost as f64 * 100.0 / (video + lost) as f64,
            delivered_pct: video as f64 * 100.0 / (sent * n as u64) as f64,
            delay_p50: c.delay_percentile(0.5).unwrap_or(f64::NAN),
            delay_p95: c.delay_percentile(0.95).unwrap_or(f64::NAN),
            mbit_out: bytes as f64 * 8.0 / dt / 1e6,
            gone,
        };
        println!(
            "| {} | {:.0} ({:.0}) | {:.0} ({:.0}) | {:.1} | {:.0} | {:.2} | {:.1} | {:.0} / {:.0} | {:.0} | {} |",
            n,
            step.server_cpu_pct,
            step.server_thread_pct,
            step.client_cpu_pct,
            step.client_thread_pct,
            step.us_per_frame,
            step.us_per_sub_s,
            step.loss_pct,
            step.delivered_pct,
            step.delay_p50,
            step.delay_p95,
            step.mbit_out,
            if step.holds() {
                "yes".to_string()
            } else if gone > 0 {
                format!("no ({gone} dropped)")
            } else {
                "no".to_string()
            }
        );
        let holds = step.holds();
        results.push(step);
        if !holds {
            break;
        }
    }
    let ramp = Ramp {
        steps: results,
        base,
    };
    match ramp.best() {
        Some(s) => println!(
            "\nmost subscribers held without loss: {} ({:.0} µs of server CPU per subscriber-second above the publisher alone → {:.0} subscribers per server core)",
            s.subscribers,
            s.us_per_sub_s,
            ramp.per_core().unwrap_or(f64::NAN)
        ),
        None => println!("\nno step held without loss"),
    }
    if ramp.steps.last().is_some_and(|s| s.holds()) {
        println!("(the ramp ended at its last step without loss: more steps would go further)");
    }
    Ok(ramp)
}

fn steps_json(r: &Ramp) -> serde_json::Value {
    let steps: Vec<serde_json::Value> = r
        .steps
        .iter()
        .map(|s| {
            serde_json::json!({"subscribers": s.subscribers, "seconds": s.seconds,
            "server_cpu_pct": s.server_cpu_pct, "client_cpu_pct": s.client_cpu_pct,
            "server_busiest_thread_pct": s.server_thread_pct, "client_busiest_thread_pct": s.client_thread_pct,
            "server_cpu_us_per_forwarded_frame": s.us_per_frame,
            "server_cpu_us_per_subscriber_second": s.us_per_sub_s,
            "video_loss_pct": s.loss_pct, "delivered_pct": s.delivered_pct,
            "delay_p50_ms": s.delay_p50, "delay_p95_ms": s.delay_p95,
            "mbit_out": s.mbit_out, "dropped": s.gone, "holds": s.holds()})
        })
        .collect();
    serde_json::json!({"publisher_alone_cpu": r.base, "steps": steps, "per_core": r.per_core()})
}

/// Hawker's ramp: a WHIP publisher (str0m) and WHEP subscribers.
async fn hawker_ramp(
    steps: &[usize],
    seconds: u64,
    frames: &Arc<Vec<Frame>>,
) -> anyhow::Result<Ramp> {
    let work = std::env::temp_dir().join(format!("hawker-sfu-{}", std::process::id()));
    // Every subscriber signals from 127.0.0.1: the per-address API budget (which WHEP shares)
    // is off, as behind a load balancer that limits per client.
    let hawker =
        Hawker::start_with_env(&work, &[("HAWKER_SERVER__API_REQUESTS_PER_MINUTE", "0")]).await?;
    let ch = hawker.create_channel_json("sfu").await?;
    let field = |k: &str| -> anyhow::Result<String> {
        Ok(ch[k]
            .as_str()
            .with_context(|| format!("channel JSON without {k}"))?
            .to_string())
    };
    let (whip, whep, key) = (field("whip_url")?, field("whep_url")?, field("stream_key")?);
    let stop = CancellationToken::new();
    let _guard = stop.clone().drop_guard();
    let pub_rt = client_thread("sfu-publisher", stop.clone())?;
    let sub_rt = client_thread("sfu-subscribers", stop.clone())?;
    // The publisher: refused → the run ends here, with no figure.
    let mut p = client(Direction::SendOnly)?;
    signal(&reqwest::Client::new(), &whip, Some(&key), &mut p)
        .await
        .context("the WHIP publish was refused")?;
    let shared = Shared::new(frames, stop.clone());
    let pub_up = Arc::new(AtomicBool::new(false));
    pub_rt.spawn(publish(p, frames.clone(), shared.clone(), pub_up.clone()));
    let t = Instant::now();
    while !pub_up.load(Relaxed) {
        anyhow::ensure!(
            t.elapsed() < Duration::from_secs(10),
            "the publisher never connected"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!("## Hawker (WHIP publisher, WHEP subscribers; the server also packages CMAF, LL-HLS and the recording)\n");
    let server = Server::Hawker {
        hawker: &hawker,
        whep,
    };
    let r = ramp(&server, steps, seconds, &shared, &sub_rt).await;
    stop.cancel();
    drop(hawker);
    let _ = std::fs::remove_dir_all(&work);
    r
}

/// Janus's ramp: its streaming plugin fed plain RTP, subscribers through its HTTP API.
async fn janus_ramp(
    steps: &[usize],
    seconds: u64,
    frames: &Arc<Vec<Frame>>,
) -> anyhow::Result<(Ramp, String)> {
    let work = std::env::temp_dir().join(format!("hawker-sfu-janus-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let janus = janus::Janus::start(&work).await?;
    let stop = CancellationToken::new();
    let _guard = stop.clone().drop_guard();
    let pub_rt = client_thread("janus-feed", stop.clone())?;
    let sub_rt = client_thread("sfu-subscribers", stop.clone())?;
    let shared = Shared::new(frames, stop.clone());
    let feed = pub_rt.spawn(janus.feed(frames.clone(), shared.clone()));
    println!(
        "\n## {} (streaming plugin: an RTP mountpoint fed the same fixture, WebRTC subscribers)\n",
        janus.version
    );
    let r = ramp(&Server::Janus(&janus), steps, seconds, &shared, &sub_rt).await;
    stop.cancel();
    if feed.is_finished() {
        feed.await?.context("feeding janus")?;
    }
    let version = janus.version.clone();
    drop(janus);
    let _ = std::fs::remove_dir_all(&work);
    Ok((r?, version))
}

pub(crate) async fn sfu(steps: &str, seconds: u64, with_janus: bool) -> anyhow::Result<()> {
    let steps: Vec<usize> = steps
        .split(',')
        .map(|s| s.trim().parse())
        .collect::<Result<_, _>>()?;
    anyhow::ensure!(
        !steps.is_empty() && steps.windows(2).all(|w| w[0] < w[1]),
        "--subscribers: increasing counts"
    );
    let frames = Arc::new(fixture::fixture_frames()?);
    let bitrate = frames.iter().map(|f| f.data.len()).sum::<usize>() as f64 * 8.0 * 30.0
        / frames.len() as f64
        / 1e6;
    println!(
        "# SFU fan-out: one publisher (1280x720 30 fps H.264 {bitrate:.1} Mbit/s + Opus 50 packets/s) → N WebRTC subscribers"
    );
    println!(
        "machine: {} cores; clients: str0m 0.24.1 peers on their own UDP sockets, one thread for the publisher, one for the subscribers; {seconds} s per step\n",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    let hawker = hawker_ramp(&steps, seconds, &frames).await?;
    let janus = if with_janus {
        Some(janus_ramp(&steps, seconds, &frames).await?)
    } else {
        None
    };

    println!("\n## Side by side\n");
    println!(
        "| | Hawker | {} |",
        janus
            .as_ref()
            .map_or("Janus (not run: --no-janus)", |(_, v)| v.as_str())
    );
    println!("|---|---|---|");
    let held = |r: &Ramp| {
        r.best()
            .map_or("none".to_string(), |s| s.subscribers.to_string())
    };
    let per_core = |r: &Ramp| r.per_core().map_or("–".to_string(), |v| format!("{v:.0}"));
    let jr = janus.as_ref().map(|(r, _)| r);
    println!(
        "| most subscribers held without loss | {} | {} |",
        held(&hawker),
        jr.map_or("–".into(), held)
    );
    println!(
        "| subscribers per server core (CPU at that step) | {} | {} |",
        per_core(&hawker),
        jr.map_or("–".into(), per_core)
    );
    // The cost of one forwarded stream, at the largest step both held.
    if let Some(j) = jr {
        let both = hawker
            .steps
            .iter()
            .filter(|s| s.holds())
            .filter_map(|h| {
                j.steps
                    .iter()
                    .find(|x| x.subscribers == h.subscribers && x.holds())
                    .map(|x| (h, x))
            })
            .next_back();
        match both {
            Some((h, x)) => {
                println!(
                    "| server CPU-µs per subscriber-second at {} subscribers | {:.0} | {:.0} |",
                    h.subscribers, h.us_per_sub_s, x.us_per_sub_s
                );
                println!(
                    "| delay p50 / p95 ms at {} subscribers | {:.0} / {:.0} | {:.0} / {:.0} |",
                    h.subscribers, h.delay_p50, h.delay_p95, x.delay_p50, x.delay_p95
                );
                println!(
                    "\nratio Janus/Hawker, server CPU per forwarded stream at {} subscribers: {:.2}× (above 1: Hawker forwards for less)",
                    h.subscribers,
                    x.us_per_sub_s / h.us_per_sub_s
                );
            }
            None => println!("\nno step held by both: no ratio"),
        }
    }
    println!("\ntarget ≥ 500 subscribers per core (LiveKit ~190 per core, mediasoup ~500 consumers per worker)");
    verdict::write_report(
        "sfu.json",
        &serde_json::json!({"fixture_mbit": bitrate, "hawker": steps_json(&hawker),
            "janus": janus.as_ref().map(|(r, v)| serde_json::json!({"version": v, "ramp": steps_json(r)}))}),
    )?;
    Ok(())
}
