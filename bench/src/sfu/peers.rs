//! The SFU benchmark's WebRTC peers (str0m 0.24.1, the library the server uses): a publisher
//! and subscribers on UDP sockets of their own, what they count, and the threads they run on.

use super::fixture::{Frame, OPUS_SILENCE};
use anyhow::Context;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket as StdUdp};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};
use str0m::change::{SdpAnswer, SdpOffer};
use str0m::format::Codec;
use str0m::media::{Direction, MediaKind, MediaTime, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio_util::sync::CancellationToken;
/// What the clients count; the bench reads it between windows.
#[derive(Default)]
pub(super) struct Counts {
    pub(super) video_sent: AtomicU64,
    pub(super) audio_sent: AtomicU64,
    pub(super) video: AtomicU64,
    pub(super) audio: AtomicU64,
    /// Video frames missing between two received ones (RTP timestamp gaps).
    pub(super) lost: AtomicU64,
    pub(super) bytes: AtomicU64,
    /// Datagrams a client socket could not take at once.
    pub(super) send_full: AtomicU64,
    /// Frame delay (sent by the publisher → whole at a subscriber), per millisecond bucket.
    pub(super) delay_ms: Vec<AtomicU64>,
}

pub(super) const DELAY_BUCKETS: usize = 5001;

impl Counts {
    pub(super) fn new() -> Self {
        Counts {
            delay_ms: (0..DELAY_BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            ..Default::default()
        }
    }

    pub(super) fn delay_percentile(&self, q: f64) -> Option<f64> {
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

pub(super) struct Shared {
    pub(super) counts: Counts,
    /// When the publisher's frame 0 was due: frame k is due k/30 s later (RTP time k·3000).
    pub(super) t0: Instant,
    pub(super) stop: CancellationToken,
    /// Each fixture frame's content hash → its place in the fixture: a subscriber knows which
    /// frame it got even where the server rewrites RTP timestamps (Janus starts each
    /// subscriber's at its own origin).
    fixture: HashMap<u64, u64>,
    fixture_len: u64,
}

fn content_hash(b: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    b.hash(&mut h);
    h.finish()
}

impl Shared {
    /// The publisher's first frame is due in 200 ms.
    pub(super) fn new(frames: &[Frame], stop: CancellationToken) -> Arc<Shared> {
        Arc::new(Shared {
            counts: Counts::new(),
            t0: Instant::now() + Duration::from_millis(200),
            stop,
            fixture: frames
                .iter()
                .enumerate()
                .map(|(i, f)| (content_hash(&f.data), i as u64))
                .collect(),
            fixture_len: frames.len() as u64,
        })
    }

    /// The RTP time (90 kHz, frame k at k·3000) the publisher gave the frame `data` that
    /// arrives `now`: the latest frame sent with that content. None when not a fixture frame
    /// or not sent yet.
    fn sent_time(&self, data: &[u8], now: Instant) -> Option<u64> {
        let i = *self.fixture.get(&content_hash(data))?;
        let sent = (now.checked_duration_since(self.t0)?.as_micros() as u64) * 30 / 1_000_000;
        let k = sent.checked_sub((sent.checked_sub(i)?) % self.fixture_len)?;
        Some(k * 3000)
    }
}

/// One subscriber's state the bench checks.
#[derive(Default)]
pub(super) struct SubState {
    pub(super) connected: AtomicBool,
    pub(super) frames: AtomicU64,
    pub(super) gone: AtomicBool,
}

/// A UDP socket on loopback with a receive buffer as large as the kernel allows (a keyframe is
/// a burst of ~100 datagrams per subscriber).
pub(super) fn socket(ip: IpAddr) -> anyhow::Result<StdUdp> {
    let s = StdUdp::bind((ip, 0))?;
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
pub(super) fn threads(pid: u32) -> HashMap<String, u64> {
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
pub(super) fn busiest(a: &HashMap<String, u64>, b: &HashMap<String, u64>, seconds: f64) -> f64 {
    b.iter()
        .map(|(t, ns)| ns - a.get(t).copied().unwrap_or(0).min(*ns))
        .max()
        .unwrap_or(0) as f64
        / 1e9
        / seconds
        * 100.0
}

/// A client session ready to signal: the Rtc with its pending offer.
pub(super) struct Client {
    pub(super) rtc: Rtc,
    pub(super) sock: StdUdp,
    pub(super) local: SocketAddr,
    /// The offer to send (WHIP and WHEP clients offer; Janus offers to its subscribers).
    pub(super) offer: Option<SdpOffer>,
    pub(super) pending: Option<str0m::change::SdpPendingOffer>,
    pub(super) video: Mid,
    pub(super) audio: Mid,
}

pub(super) fn client(dir: Direction) -> anyhow::Result<Client> {
    let sock = socket(IpAddr::V4(Ipv4Addr::LOCALHOST))?;
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
        offer: Some(offer),
        pending: Some(pending),
        video,
        audio,
    })
}

/// A subscriber answering a server's offer; its socket is on the address of the server's
/// first candidate (Janus offers none on loopback). Returns the client and its answer.
pub(super) fn answering(offer: &str) -> anyhow::Result<(Client, String)> {
    let ip: IpAddr = offer
        .lines()
        .find_map(|l| l.strip_prefix("a=candidate:"))
        .and_then(|c| c.split_whitespace().nth(4))
        .context("the offer carries no candidate")?
        .parse()
        .context("the offer's candidate address")?;
    let sock = socket(ip)?;
    let local = sock.local_addr()?;
    let mut rtc = Rtc::builder().build(Instant::now());
    rtc.add_local_candidate(Candidate::host(local, "udp")?);
    let answer = rtc
        .sdp_api()
        .accept_offer(SdpOffer::from_sdp_string(offer).context("the server's offer")?)?;
    let client = Client {
        rtc,
        sock,
        local,
        offer: None,
        pending: None,
        video: Mid::from("v"),
        audio: Mid::from("a"),
    };
    Ok((client, answer.to_sdp_string()))
}

/// POSTs the offer (WHIP with the key, WHEP without); a refusal is an error with the body.
pub(super) async fn signal(
    http: &reqwest::Client,
    url: &str,
    key: Option<&str>,
    c: &mut Client,
) -> anyhow::Result<()> {
    let mut req = http
        .post(url)
        .header("content-type", "application/sdp")
        .body(
            c.offer
                .as_ref()
                .context("not an offering client")?
                .to_sdp_string(),
        );
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
pub(super) fn drain(
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
pub(super) async fn run_peer(
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
pub(super) fn client_thread(
    name: &str,
    stop: CancellationToken,
) -> anyhow::Result<tokio::runtime::Handle> {
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
pub(super) fn publish(
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

pub(super) fn subscribe(
    c: Client,
    shared: Arc<Shared>,
    state: Arc<SubState>,
) -> impl std::future::Future<Output = ()> {
    let sh = shared.clone();
    let st = state.clone();
    let mut last_video: Option<u64> = None;
    // The publisher's RTP time minus the one received, from the first frame recognised.
    let mut offset: Option<i64> = None;
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
                    let now = Instant::now();
                    if offset.is_none() {
                        offset = sh.sent_time(&d.data, now).map(|t| t as i64 - ts as i64);
                    }
                    if let Some(o) = offset {
                        // Due when the publisher sent it: RTP time k·3000 ↔ t0 + k/30 s.
                        let sent = (ts as i64 + o).max(0) as u64;
                        let due = sh.t0 + Duration::from_micros(sent / 90 * 1000);
                        let delay = now.saturating_duration_since(due).as_millis() as usize;
                        c.delay_ms[delay.min(DELAY_BUCKETS - 1)].fetch_add(1, Relaxed);
                    }
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
