//! `hawker-bench sfu`: SFU fan-out. One 1280x720 30 fps ~2 Mbit/s H.264 publisher (WHIP, with
//! a small fixed Opus payload every 20 ms) to N WHEP subscribers, all real WebRTC peers (str0m,
//! ICE + DTLS + SRTP, NACKs answered) on UDP sockets of their own, driven by two client threads
//! of this process: one for the publisher, one for every subscriber. The server's CPU is read
//! from /proc by its PID, the client's separately. N ramps until loss passes 1 % or frames
//! fall behind.

use super::*;
use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket as StdUdp};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use str0m::change::{SdpAnswer, SdpOffer};
use str0m::format::Codec;
use str0m::media::{Direction, MediaKind, MediaTime, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};

/// One access unit of the fixture, Annex B without its access unit delimiter.
struct Frame {
    data: Arc<[u8]>,
}

/// The 720p fixture as access units, made once with ffmpeg (x264 writes an AUD before each).
fn fixture_frames() -> anyhow::Result<Vec<Frame>> {
    let path = verdict::out_file("fixture-720p-2mbit.h264")?;
    if !path.exists() {
        eprintln!("making the 720p H.264 fixture with ffmpeg…");
        let st = std::process::Command::new("ffmpeg")
            .args([
                "-v",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                "testsrc2=size=1280x720:rate=30",
                "-t",
                "10",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-tune",
                "zerolatency",
                "-g",
                "60",
                "-b:v",
                "2M",
                "-pix_fmt",
                "yuv420p",
                "-x264-params",
                "aud=1",
                "-bsf:v",
                "h264_mp4toannexb",
                "-f",
                "h264",
            ])
            .arg(&path)
            .status()
            .context("ffmpeg must be installed")?;
        anyhow::ensure!(st.success(), "ffmpeg failed to make the fixture");
    }
    let frames = split_access_units(&std::fs::read(&path)?);
    anyhow::ensure!(
        frames.len() >= 60,
        "the fixture has {} access units",
        frames.len()
    );
    Ok(frames)
}

/// NAL units of an Annex B stream (start codes dropped).
fn nal_units(b: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= b.len() {
        if b[i] == 0 && b[i + 1] == 0 && b[i + 2] == 1 {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut out = Vec::new();
    for (k, &s) in starts.iter().enumerate() {
        let mut end = starts.get(k + 1).map_or(b.len(), |&n| n - 3);
        while end > s && b[end - 1] == 0 {
            end -= 1; // the leading zero of a 4-byte start code, trailing zeros
        }
        if end > s {
            out.push(&b[s..end]);
        }
    }
    out
}

/// Access units split on AUD NAL units (type 9), each re-joined with 4-byte start codes.
fn split_access_units(b: &[u8]) -> Vec<Frame> {
    let mut frames = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    for nal in nal_units(b) {
        if nal[0] & 0x1f == 9 {
            if !cur.is_empty() {
                frames.push(Frame {
                    data: std::mem::take(&mut cur).into(),
                });
            }
            continue;
        }
        cur.extend_from_slice(&[0, 0, 0, 1]);
        cur.extend_from_slice(nal);
    }
    if !cur.is_empty() {
        frames.push(Frame { data: cur.into() });
    }
    frames
}

/// An Opus frame of 20 ms of silence (TOC: CELT FB 20 ms, one frame), as a muted microphone.
const OPUS_SILENCE: [u8; 3] = [0xf8, 0xff, 0xfe];

/// What the clients count; the bench reads it between windows.
#[derive(Default)]
struct Counts {
    video_sent: AtomicU64,
    audio_sent: AtomicU64,
    video: AtomicU64,
    audio: AtomicU64,
    /// Video frames missing between two received ones (RTP timestamp gaps).
    lost: AtomicU64,
    bytes: AtomicU64,
    /// Datagrams a client socket could not take at once.
    send_full: AtomicU64,
    /// Frame delay (sent by the publisher → whole at a subscriber), per millisecond bucket.
    delay_ms: Vec<AtomicU64>,
}

const DELAY_BUCKETS: usize = 5001;

impl Counts {
    fn new() -> Self {
        Counts {
            delay_ms: (0..DELAY_BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            ..Default::default()
        }
    }

    fn delay_percentile(&self, q: f64) -> Option<f64> {
        let h: Vec<u64> = self.delay_ms.iter().map(|a| a.load(Relaxed)).collect();
        let total: u64 = h.iter().sum();
        if total == 0 {
            return None;
        }
        let want = (total as f64 * q).ceil() as u64;
        let mut seen = 0;
        for (ms, n) in h.iter().enumerate() {
            seen += n;
            if seen >= want {
                return Some(ms as f64);
            }
        }
        Some((DELAY_BUCKETS - 1) as f64)
    }
}

struct Shared {
    counts: Counts,
    /// When the publisher's frame 0 was due: frame k is due k/30 s later (RTP time k·3000).
    t0: Instant,
    stop: CancellationToken,
}

/// One subscriber's state the bench checks.
#[derive(Default)]
struct SubState {
    connected: AtomicBool,
    frames: AtomicU64,
    gone: AtomicBool,
}

/// A UDP socket on loopback with a receive buffer as large as the kernel allows (a keyframe is
/// a burst of ~100 datagrams per subscriber).
fn socket() -> anyhow::Result<StdUdp> {
    let s = StdUdp::bind("127.0.0.1:0")?;
    s.set_nonblocking(true)?;
    use std::os::fd::AsRawFd;
    let size: libc::c_int = 4 << 20;
    for opt in [libc::SO_RCVBUFFORCE, libc::SO_RCVBUF] {
        // SAFETY: a valid socket and an int option of the right size.
        let r = unsafe {
            libc::setsockopt(
                s.as_raw_fd(),
                libc::SOL_SOCKET,
                opt,
                &size as *const _ as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if r == 0 {
            break;
        }
    }
    Ok(s)
}

/// CPU nanoseconds of each thread of `pid` so far.
fn threads(pid: u32) -> HashMap<String, u64> {
    let mut out = HashMap::new();
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for t in tasks.flatten() {
            if let Ok(s) = std::fs::read_to_string(t.path().join("schedstat")) {
                let ns = s.split_whitespace().next().and_then(|v| v.parse().ok());
                out.insert(
                    t.file_name().to_string_lossy().into_owned(),
                    ns.unwrap_or(0),
                );
            }
        }
    }
    out
}

/// The busiest thread's share of one core between two `threads` readings.
fn busiest(a: &HashMap<String, u64>, b: &HashMap<String, u64>, seconds: f64) -> f64 {
    b.iter()
        .map(|(t, ns)| ns - a.get(t).copied().unwrap_or(0).min(*ns))
        .max()
        .unwrap_or(0) as f64
        / 1e9
        / seconds
        * 100.0
}

/// A client session ready to signal: the Rtc with its pending offer.
struct Client {
    rtc: Rtc,
    sock: StdUdp,
    local: SocketAddr,
    offer: SdpOffer,
    pending: Option<str0m::change::SdpPendingOffer>,
    video: Mid,
    audio: Mid,
}

fn client(dir: Direction) -> anyhow::Result<Client> {
    let sock = socket()?;
    let local = sock.local_addr()?;
    let mut rtc = Rtc::builder().build(Instant::now());
    rtc.add_local_candidate(Candidate::host(local, "udp")?);
    let mut api = rtc.sdp_api();
    let video = api.add_media(MediaKind::Video, dir, None, None, None);
    let audio = api.add_media(MediaKind::Audio, dir, None, None, None);
    let (offer, pending) = api.apply().context("no offer")?;
    Ok(Client {
        rtc,
        sock,
        local,
        offer,
        pending: Some(pending),
        video,
        audio,
    })
}

/// POSTs the offer (WHIP with the key, WHEP without); a refusal is an error with the body.
async fn signal(
    http: &reqwest::Client,
    url: &str,
    key: Option<&str>,
    c: &mut Client,
) -> anyhow::Result<()> {
    let mut req = http
        .post(url)
        .header("content-type", "application/sdp")
        .body(c.offer.to_sdp_string());
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    let r = req.send().await?;
    let status = r.status();
    let body = r.text().await?;
    anyhow::ensure!(
        status == reqwest::StatusCode::CREATED,
        "{url} answered {status}: {}",
        body.chars().take(300).collect::<String>()
    );
    let answer = SdpAnswer::from_sdp_string(&body)?;
    let pending = c.pending.take().context("offer already answered")?;
    c.rtc.sdp_api().accept_answer(pending, answer)?;
    Ok(())
}

/// Polls `rtc` to its next timeout, sending what it transmits; events go to `on`.
fn drain(
    rtc: &mut Rtc,
    sock: &tokio::net::UdpSocket,
    counts: &Counts,
    mut on: impl FnMut(Event),
) -> Option<Instant> {
    loop {
        match rtc.poll_output() {
            Ok(Output::Timeout(t)) => return Some(t),
            Ok(Output::Transmit(t)) => {
                if sock.try_send_to(&t.contents, t.destination).is_err() {
                    counts.send_full.fetch_add(1, Relaxed);
                }
            }
            Ok(Output::Event(e)) => on(e),
            Err(str0m::RtcError::Packet(..)) => continue,
            Err(_) => return None,
        }
    }
}

/// The session's loop: datagrams in, timeouts, and `tick` when due (the publisher's frames).
async fn run_peer(
    mut c: Client,
    shared: Arc<Shared>,
    mut on: impl FnMut(&mut Rtc, Event),
    mut tick: impl FnMut(&mut Rtc, Instant) -> Option<Instant>,
) {
    let Ok(sock) = tokio::net::UdpSocket::from_std(c.sock) else {
        return;
    };
    let mut buf = vec![0u8; 2000];
    let mut next_tick = Instant::now();
    let mut events = Vec::new();
    loop {
        let deadline;
        {
            let rtc = &mut c.rtc;
            match drain(rtc, &sock, &shared.counts, |e| events.push(e)) {
                Some(t) => deadline = t,
                None => return,
            }
            for e in events.drain(..) {
                on(rtc, e);
            }
            if !rtc.is_alive() {
                return;
            }
        }
        let wake = deadline.min(next_tick);
        tokio::select! {
            r = sock.recv_from(&mut buf) => {
                let Ok((n, source)) = r else { continue };
                let Ok(rx) = Receive::new(Protocol::Udp, source, c.local, &buf[..n]) else { continue };
                let _ = c.rtc.handle_input(Input::Receive(Instant::now(), rx));
            }
            _ = tokio::time::sleep_until(wake.into()) => {
                let now = Instant::now();
                if now >= next_tick {
                    match tick(&mut c.rtc, now) {
                        Some(t) => next_tick = t,
                        None => next_tick = now + Duration::from_secs(3600),
                    }
                }
                let _ = c.rtc.handle_input(Input::Timeout(Instant::now()));
            }
            _ = shared.stop.cancelled() => {
                c.rtc.disconnect();
                return;
            }
        }
    }
}

/// A thread with a current-thread runtime of its own; tasks are spawned onto its handle.
fn client_thread(name: &str, stop: CancellationToken) -> anyhow::Result<tokio::runtime::Handle> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let handle = rt.handle().clone();
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || rt.block_on(stop.cancelled()))?;
    Ok(handle)
}

/// The publisher's session: frames at 30 fps (the fixture looped, RTP time continuing), the
/// Opus payload every 20 ms. Keyframe requests are not answered (keyframes every 2 s, as OBS).
fn publish(
    c: Client,
    frames: Arc<Vec<Frame>>,
    shared: Arc<Shared>,
    connected: Arc<AtomicBool>,
) -> impl std::future::Future<Output = ()> {
    let (vmid, amid) = (c.video, c.audio);
    let (mut k, mut j) = (0u64, 0u64);
    let on = {
        let connected = connected.clone();
        move |_: &mut Rtc, e: Event| {
            if matches!(e, Event::Connected) {
                connected.store(true, Relaxed);
            }
        }
    };
    let sh = shared.clone();
    let tick = move |rtc: &mut Rtc, now: Instant| -> Option<Instant> {
        if !connected.load(Relaxed) {
            return Some(now + Duration::from_millis(10));
        }
        let t0 = sh.t0;
        let video_due = |k: u64| t0 + Duration::from_micros(k * 1_000_000 / 30);
        let audio_due = |j: u64| t0 + Duration::from_millis(j * 20);
        // Catch up to now (a late wake-up sends what was due, as an encoder's queue would).
        while video_due(k) <= now {
            let f = &frames[(k % frames.len() as u64) as usize];
            if let Some(w) = rtc.writer(vmid) {
                let pt = w
                    .payload_params()
                    .find(|p| p.spec().codec == Codec::H264)
                    .map(|p| p.pt());
                if let Some(pt) = pt {
                    if w.write(pt, now, MediaTime::from_90khz(k * 3000), f.data.clone())
                        .is_ok()
                    {
                        sh.counts.video_sent.fetch_add(1, Relaxed);
                    }
                }
            }
            k += 1;
        }
        while audio_due(j) <= now {
            if let Some(w) = rtc.writer(amid) {
                let pt = w
                    .payload_params()
                    .find(|p| p.spec().codec == Codec::Opus)
                    .map(|p| p.pt());
                if let Some(pt) = pt {
                    let t = MediaTime::new(j * 960, str0m::media::Frequency::FORTY_EIGHT_KHZ);
                    if w.write(pt, now, t, OPUS_SILENCE.to_vec()).is_ok() {
                        sh.counts.audio_sent.fetch_add(1, Relaxed);
                    }
                }
            }
            j += 1;
        }
        Some(video_due(k).min(audio_due(j)))
    };
    run_peer(c, shared, on, tick)
}

fn subscribe(
    c: Client,
    shared: Arc<Shared>,
    state: Arc<SubState>,
) -> impl std::future::Future<Output = ()> {
    let sh = shared.clone();
    let st = state.clone();
    let mut last_video: Option<u64> = None;
    let on = move |_: &mut Rtc, e: Event| match e {
        Event::Connected => st.connected.store(true, Relaxed),
        Event::MediaData(d) => {
            let c = &sh.counts;
            c.bytes.fetch_add(d.data.len() as u64, Relaxed);
            match d.params.spec().codec {
                Codec::H264 => {
                    let ts = d.time.rebase(str0m::media::Frequency::NINETY_KHZ).numer();
                    if let Some(prev) = last_video {
                        let gap = ts.saturating_sub(prev) / 3000;
                        if gap > 1 {
                            c.lost.fetch_add(gap - 1, Relaxed);
                        }
                    }
                    last_video = Some(ts);
                    c.video.fetch_add(1, Relaxed);
                    st.frames.fetch_add(1, Relaxed);
                    // Due when the publisher sent it: RTP time k·3000 ↔ t0 + k/30 s.
                    let due = sh.t0 + Duration::from_micros(ts / 90 * 1000);
                    let delay = Instant::now().saturating_duration_since(due).as_millis() as usize;
                    c.delay_ms[delay.min(DELAY_BUCKETS - 1)].fetch_add(1, Relaxed);
                }
                Codec::Opus => {
                    c.audio.fetch_add(1, Relaxed);
                }
                _ => {}
            }
        }
        _ => {}
    };
    let fut = run_peer(c, shared, on, |_, _| None);
    async move {
        fut.await;
        state.gone.store(true, Relaxed);
    }
}

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
    fn holds(&self) -> bool {
        self.loss_pct <= 1.0 && self.delivered_pct >= 99.0 && self.delay_p95 <= 500.0
    }
}

pub(crate) async fn sfu(steps: &str, seconds: u64) -> anyhow::Result<()> {
    let steps: Vec<usize> = steps
        .split(',')
        .map(|s| s.trim().parse())
        .collect::<Result<_, _>>()?;
    anyhow::ensure!(
        !steps.is_empty() && steps.windows(2).all(|w| w[0] < w[1]),
        "--subscribers: increasing counts"
    );
    let frames = Arc::new(fixture_frames()?);
    let bitrate = frames.iter().map(|f| f.data.len()).sum::<usize>() as f64 * 8.0 * 30.0
        / frames.len() as f64
        / 1e6;
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
    let http = reqwest::Client::new();

    // The publisher: refused → the run ends here, with no figure.
    let mut p = client(Direction::SendOnly)?;
    signal(&http, &whip, Some(&key), &mut p)
        .await
        .context("the WHIP publish was refused")?;
    let shared = Arc::new(Shared {
        counts: Counts::new(),
        t0: Instant::now() + Duration::from_millis(200),
        stop: stop.clone(),
    });
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
    tokio::time::sleep(Duration::from_secs(1)).await;
    // The publisher alone (ingest, CMAF, LL-HLS, recording): what every step pays before any
    // subscriber, subtracted to give the cost of one forwarded stream.
    let (s0, t0) = (procstat::cpu_seconds(&[hawker.pid()]), Instant::now());
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let base = verdict::figure(
        "the server's CPU with the publisher alone",
        (procstat::cpu_seconds(&[hawker.pid()]) - s0) / t0.elapsed().as_secs_f64(),
    )?;
    verdict::at_least(
        "video frames the publisher sent",
        shared.counts.video_sent.load(Relaxed),
        1,
    )?;

    println!(
        "# SFU fan-out: one WHIP publisher (1280x720 30 fps H.264 {bitrate:.1} Mbit/s + Opus 50 packets/s) → N WHEP subscribers"
    );
    println!(
        "machine: {} cores; clients: str0m 0.24.1 peers on their own UDP sockets, one thread for the publisher, one for the subscribers; {seconds} s per step",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    println!(
        "server CPU with the publisher alone (WHIP ingest, CMAF, LL-HLS, recording): {:.1} %\n",
        base * 100.0
    );
    println!("| subscribers | server CPU % (busiest thread) | client CPU % (busiest thread) | server CPU-µs / forwarded frame | server CPU-µs / subscriber-second (above the publisher alone) | video loss % | delivered % | delay p50 / p95 ms | Mbit/s out | holds |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let mut subs: Vec<Arc<SubState>> = Vec::new();
    let mut results: Vec<Step> = Vec::new();
    let me = std::process::id();
    for &n in &steps {
        while subs.len() < n {
            let mut c = client(Direction::RecvOnly)?;
            signal(&http, &whep, None, &mut c)
                .await
                .with_context(|| format!("WHEP subscriber {} was refused", subs.len() + 1))?;
            let st = Arc::new(SubState::default());
            sub_rt.spawn(subscribe(c, shared.clone(), st.clone()));
            subs.push(st);
        }
        // Every subscriber connected and decoding (from a keyframe, ≤ 2 s away).
        let t = Instant::now();
        loop {
            let waiting = subs.iter().filter(|s| s.frames.load(Relaxed) == 0).count();
            if waiting == 0 {
                break;
            }
            if t.elapsed() > Duration::from_secs(15) {
                let never = subs.iter().filter(|s| !s.connected.load(Relaxed)).count();
                anyhow::bail!(
                    "{n} subscribers: {never} never connected, {waiting} received no frame in 15 s"
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
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
        let (ta, ma) = (threads(hawker.pid()), threads(me));
        let (a, s0, m0, t0) = (
            snap(c),
            procstat::cpu_seconds(&[hawker.pid()]),
            procstat::cpu_seconds(&[me]),
            Instant::now(),
        );
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        let (b, s1, m1, dt) = (
            snap(c),
            procstat::cpu_seconds(&[hawker.pid()]),
            procstat::cpu_seconds(&[me]),
            t0.elapsed().as_secs_f64(),
        );
        let (tb, mb) = (threads(hawker.pid()), threads(me));
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
    let best = results
        .iter()
        .filter(|s| s.holds())
        .max_by_key(|s| s.subscribers);
    match best {
        Some(s) => {
            // Per core: what one core-second of the server forwards, at the largest step held.
            let per_core = (1.0 - base) * 1e6 / s.us_per_sub_s;
            println!(
                "\nmost subscribers held without loss on this machine (server and clients on the same {} cores): {}",
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(0),
                s.subscribers
            );
            println!(
                "server CPU per subscriber at that step: {:.0} µs/s above the publisher alone → {:.0} subscribers per server core (target ≥ 500; LiveKit ~190 per core, mediasoup ~500 consumers per worker)",
                s.us_per_sub_s, per_core
            );
        }
        None => println!("\nno step held without loss"),
    }
    if results.last().is_some_and(|s| s.holds()) {
        println!("(the ramp ended at its last step without loss: more steps would go further)");
    }
    println!("Janus side by side: not run (see docs/performance.md)");
    let report: Vec<serde_json::Value> = results
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
    verdict::write_report(
        "sfu.json",
        &serde_json::json!({"fixture_mbit": bitrate, "publisher_alone_cpu": base, "steps": report}),
    )?;
    stop.cancel();
    drop(hawker);
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_units_split_on_delimiters() {
        let aud = [0, 0, 0, 1, 9, 0xf0];
        let mut b = Vec::new();
        for au in 0..3u8 {
            b.extend_from_slice(&aud);
            b.extend_from_slice(&[0, 0, 1, 0x65, au, 0]);
            b.extend_from_slice(&[0, 0, 0, 1, 0x41, au]);
        }
        let f = split_access_units(&b);
        assert_eq!(f.len(), 3);
        assert_eq!(&f[1].data[..], &[0, 0, 0, 1, 0x65, 1, 0, 0, 0, 1, 0x41, 1]);
    }
}
