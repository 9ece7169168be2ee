//! The media switch: one task that owns the UDP socket and every WebRTC session on it.
//!
//! Each datagram goes to the session that accepts it (found by source address, else by str0m's
//! `accepts`), which is then drained to its next timeout, str0m's one-mutation-then-drain
//! rule. A publisher's frames go two ways: into the live pipeline (`Ingest`: CMAF, LL-HLS,
//! recording) and, unchanged, to each WHEP subscriber of the channel (frame mode: str0m
//! repacketises per subscriber, answers NACKs from its send buffer over RTX). A subscriber
//! starts at a keyframe, asked for with a PLI when it joins. Sending never waits: a datagram
//! the socket cannot take now is dropped and counted, so one slow subscriber cannot stall
//! the others; a subscriber whose session errors is dropped.

use crate::session::{Side, TrackClock};
use bytes::Bytes;
use hawker_broadcast::Ingest;
use hawker_media::annexb::AvcAssembler;
use hawker_media::codec::AudioConfig;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use str0m::format::Codec;
use str0m::media::{KeyframeRequestKind, MediaData, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Event, IceConnectionState, Input, Output, Rtc, RtcError};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};

pub type SessionId = u128;

/// Who hears that a WHEP viewer is being delivered media (the live room, which counts only
/// players the server delivers media to): called about once a second per subscriber.
pub trait MediaWitness: Send + Sync + 'static {
    fn delivered(&self, slug: &str, playback_token: &str);
}

/// What the HTTP side knows of a session (its resource); the switch removes the entry when
/// the session ends on its own.
pub(crate) struct SessionInfo {
    pub(crate) side: Side,
    /// The channel (WHIP, WHEP) or the call.
    pub(crate) slug: String,
    /// In a call: whose session this is.
    pub(crate) party: Option<i64>,
    pub(crate) etag: String,
    /// The offer as last answered, for an ICE restart to change and answer again.
    pub(crate) offer: String,
    pub(crate) remote_ufrag: String,
}

pub(crate) type Sessions = Arc<parking_lot::Mutex<HashMap<SessionId, SessionInfo>>>;

/// A session lost for this long (ICE disconnected, no consent) is closed.
const LOST_FOR: Duration = Duration::from_secs(8);
/// At most one keyframe request per publisher this often.
const PLI_EVERY: Duration = Duration::from_millis(500);
/// A session that never connects is closed after this.
const CONNECT_WITHIN: Duration = Duration::from_secs(30);
/// A connected publisher that sends nothing for this long is gone (a closed tab sends no
/// goodbye, and ICE-lite notices late), as RTMP's idle timeout.
const IDLE_FOR: Duration = Duration::from_secs(5);
/// Datagrams kept for a socket that is momentarily full (~20 MB at most).
const MAX_BACKLOG: usize = 16_384;
/// How often the room hears that a WHEP viewer is being served.
const WITNESS_EVERY: Duration = Duration::from_secs(1);
/// A new publish with the channel's key takes over from a publisher idle this long (the
/// same phone after a reload), instead of being refused as a second encoder.
const TAKE_OVER_AFTER: Duration = Duration::from_secs(1);

pub(crate) enum Command {
    Publish {
        id: SessionId,
        rtc: Box<Rtc>,
        ingest: Box<Ingest>,
        video: Option<Mid>,
    },
    Play {
        id: SessionId,
        slug: String,
        token: Option<String>,
        rtc: Box<Rtc>,
        video: Option<Mid>,
        audio: Option<Mid>,
    },
    Join {
        id: SessionId,
        call: String,
        rtc: Box<Rtc>,
        video: Option<Mid>,
        audio: Option<Mid>,
    },
    /// Trickled candidates from a PATCH (`candidate:…` strings).
    Candidates {
        id: SessionId,
        candidates: Vec<String>,
        done: oneshot::Sender<bool>,
    },
    /// An ICE restart: the offer with the client's new credentials, answered again.
    Restart {
        id: SessionId,
        offer: String,
        done: oneshot::Sender<Result<String, String>>,
    },
    Close {
        id: SessionId,
        done: oneshot::Sender<bool>,
    },
    /// ICE over TCP: a connection opened (its frames are written through `writer`), a frame
    /// arrived on it, it closed.
    TcpOpen {
        peer: SocketAddr,
        writer: mpsc::Sender<Vec<u8>>,
    },
    TcpIn {
        peer: SocketAddr,
        data: Vec<u8>,
    },
    TcpClosed {
        peer: SocketAddr,
    },
    /// Closes the channel's WebRTC publisher if it has sent nothing for `TAKE_OVER_AFTER`.
    EvictIdle {
        slug: String,
        done: oneshot::Sender<bool>,
    },
}

enum Role {
    Publisher(Box<Publisher>),
    Subscriber(Subscriber),
    /// In a call: receives the other parties' frames as a subscriber does, and its own frames
    /// go to them (never into a show: a host publishes a call's composite itself).
    Party(Party),
}

struct Party {
    call: String,
    sink: Subscriber,
    want_keyframe: bool,
    last_pli: Option<Instant>,
}

struct Publisher {
    ingest: Box<Ingest>,
    video: Option<Mid>,
    avc: AvcAssembler,
    video_clock: TrackClock,
    audio_clock: TrackClock,
    audio_configured: bool,
    want_keyframe: bool,
    last_pli: Option<Instant>,
    last_media: Instant,
    last_keyframe: Instant,
}

struct Subscriber {
    slug: String,
    video: Option<Mid>,
    audio: Option<Mid>,
    /// A keyframe went out: later frames decode.
    started: bool,
    /// A WHEP viewer's room playback token, and when the room last heard it was served.
    token: Option<String>,
    witnessed: Option<Instant>,
}

struct Peer {
    id: SessionId,
    rtc: Rtc,
    role: Role,
    deadline: Instant,
    created: Instant,
    connected: bool,
    lost_since: Option<Instant>,
}

impl Peer {
    /// The channel (publisher, subscriber) or call (party) the session belongs to.
    fn slug(&self) -> &str {
        match &self.role {
            Role::Publisher(p) => p.ingest.slug(),
            Role::Subscriber(s) => &s.slug,
            Role::Party(p) => &p.call,
        }
    }
}

pub(crate) struct Switch {
    socket: UdpSocket,
    /// The address datagrams arrive on, as the sessions' candidates advertise it.
    destination: SocketAddr,
    /// The same for TCP frames (the advertised TCP candidate), and each connection's writer.
    tcp_destination: Option<SocketAddr>,
    tcp: HashMap<SocketAddr, mpsc::Sender<Vec<u8>>>,
    /// Datagrams the socket could not take at once (a frame to hundreds of subscribers is a
    /// burst), sent in order as soon as it is writable; beyond `MAX_BACKLOG` they are dropped.
    backlog: VecDeque<(SocketAddr, Vec<u8>)>,
    peers: Vec<Peer>,
    by_source: HashMap<SocketAddr, SessionId>,
    /// The server's table of sessions, pruned here when a session ends on its own.
    table: Sessions,
    keyframe_every: Duration,
    witness: Arc<dyn MediaWitness>,
    epoch: Instant,
}

impl Switch {
    pub(crate) fn new(
        socket: UdpSocket,
        destination: SocketAddr,
        tcp_destination: Option<SocketAddr>,
        table: Sessions,
        keyframe_every: Duration,
        witness: Arc<dyn MediaWitness>,
    ) -> Self {
        Switch {
            socket,
            destination,
            tcp_destination,
            tcp: HashMap::new(),
            backlog: VecDeque::new(),
            peers: Vec::new(),
            by_source: HashMap::new(),
            table,
            keyframe_every,
            witness,
            epoch: Instant::now(),
        }
    }

    pub(crate) async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<Command>,
        shutdown: tokio_util::sync::CancellationToken,
    ) {
        let mut buf = vec![0u8; 2048];
        loop {
            let next = self
                .peers
                .iter()
                .map(|p| p.deadline)
                .min()
                .unwrap_or_else(|| Instant::now() + Duration::from_secs(1))
                .min(Instant::now() + Duration::from_millis(500));
            tokio::select! {
                r = self.socket.recv_from(&mut buf) => match r {
                    Ok((n, source)) => self.datagram(Protocol::Udp, source, &buf[..n]),
                    Err(e) => tracing::debug!(error = %e, "UDP receive failed"),
                },
                cmd = commands.recv() => match cmd {
                    Some(c) => self.command(c),
                    None => break,
                },
                _ = tokio::time::sleep_until(next.into()) => self.tick(),
                r = self.socket.writable(), if !self.backlog.is_empty() => {
                    if r.is_ok() {
                        self.flush();
                    }
                }
                _ = shutdown.cancelled() => break,
            }
        }
        for p in &mut self.peers {
            p.rtc.disconnect();
        }
        self.peers.clear();
    }

    fn index(&self, id: SessionId) -> Option<usize> {
        self.peers.iter().position(|p| p.id == id)
    }

    fn datagram(&mut self, proto: Protocol, source: SocketAddr, data: &[u8]) {
        let now = Instant::now();
        let destination = match proto {
            Protocol::Udp => self.destination,
            _ => match self.tcp_destination {
                Some(d) => d,
                None => return,
            },
        };
        let Ok(receive) = Receive::new(proto, source, destination, data) else {
            metrics::counter!("hawker_webrtc_datagrams_dropped_total", "reason" => "not_webrtc")
                .increment(1);
            return;
        };
        let input = Input::Receive(now, receive);
        let known = self
            .by_source
            .get(&source)
            .and_then(|id| self.index(*id))
            .filter(|i| self.peers[*i].rtc.accepts(&input));
        let Some(i) = known.or_else(|| self.peers.iter().position(|p| p.rtc.accepts(&input)))
        else {
            metrics::counter!("hawker_webrtc_datagrams_dropped_total", "reason" => "no_session")
                .increment(1);
            return;
        };
        self.by_source.insert(source, self.peers[i].id);
        if let Err(e) = self.peers[i].rtc.handle_input(input) {
            tracing::debug!(session = self.peers[i].id, error = %e, "input refused");
        }
        self.drain_and_route(i);
    }

    fn tick(&mut self) {
        let now = Instant::now();
        for i in 0..self.peers.len() {
            if self.peers[i].deadline <= now {
                let _ = self.peers[i].rtc.handle_input(Input::Timeout(now));
                self.drain_and_route(i);
            }
        }
        for p in &mut self.peers {
            if let Role::Publisher(x) = &mut p.role {
                if now - x.last_keyframe >= self.keyframe_every {
                    x.want_keyframe = true;
                }
            }
        }
        self.ask_keyframes(now);
        // Sessions that ended, were cut, or never came up.
        let mut gone = Vec::new();
        for p in &mut self.peers {
            let cut = matches!(&p.role, Role::Publisher(x) if x.ingest.is_cut());
            let idle = p.connected
                && matches!(&p.role, Role::Publisher(x) if now - x.last_media > IDLE_FOR);
            let lost = p.lost_since.is_some_and(|t| now - t > LOST_FOR);
            let stillborn = !p.connected && now - p.created > CONNECT_WITHIN;
            if cut || idle || lost || stillborn || !p.rtc.is_alive() {
                tracing::info!(
                    session = p.id,
                    channel = p.slug(),
                    cut,
                    idle,
                    lost,
                    stillborn,
                    "WebRTC session closed"
                );
                p.rtc.disconnect();
                gone.push(p.id);
            }
        }
        for id in gone {
            self.remove(id);
        }
    }

    fn remove(&mut self, id: SessionId) -> bool {
        let Some(i) = self.index(id) else {
            return false;
        };
        // Say goodbye (DTLS close_notify, RTCP BYE) so the client knows at once.
        if self.peers[i].rtc.close().is_ok() {
            self.drain(i);
        }
        let mut peer = self.peers.swap_remove(i);
        peer.rtc.disconnect();
        self.by_source.retain(|_, v| *v != id);
        self.table.lock().remove(&id);
        match peer.role {
            Role::Publisher(_) => metrics::gauge!("hawker_webrtc_publishers").decrement(1.0),
            Role::Subscriber(_) => metrics::gauge!("hawker_webrtc_subscribers").decrement(1.0),
            Role::Party(_) => metrics::gauge!("hawker_webrtc_call_parties").decrement(1.0),
        }
        true // the Ingest, if any, ends its publish as it drops here
    }

    fn command(&mut self, c: Command) {
        let now = Instant::now();
        match c {
            Command::Publish {
                id,
                rtc,
                ingest,
                video,
            } => {
                metrics::gauge!("hawker_webrtc_publishers").increment(1.0);
                self.add(
                    id,
                    *rtc,
                    Role::Publisher(Box::new(Publisher {
                        ingest,
                        video,
                        avc: AvcAssembler::new(),
                        video_clock: TrackClock::default(),
                        audio_clock: TrackClock::default(),
                        audio_configured: false,
                        want_keyframe: true,
                        last_pli: None,
                        last_media: now,
                        last_keyframe: now,
                    })),
                    now,
                );
            }
            Command::Play {
                id,
                slug,
                token,
                rtc,
                video,
                audio,
            } => {
                metrics::gauge!("hawker_webrtc_subscribers").increment(1.0);
                self.add(
                    id,
                    *rtc,
                    Role::Subscriber(Subscriber {
                        slug,
                        video,
                        audio,
                        started: false,
                        token,
                        witnessed: None,
                    }),
                    now,
                );
            }
            Command::Join {
                id,
                call,
                rtc,
                video,
                audio,
            } => {
                metrics::gauge!("hawker_webrtc_call_parties").increment(1.0);
                self.add(
                    id,
                    *rtc,
                    Role::Party(Party {
                        call: call.clone(),
                        sink: Subscriber {
                            slug: call,
                            video,
                            audio,
                            started: false,
                            token: None,
                            witnessed: None,
                        },
                        want_keyframe: true,
                        last_pli: None,
                    }),
                    now,
                );
            }
            Command::Candidates {
                id,
                candidates,
                done,
            } => {
                let Some(i) = self.index(id) else {
                    let _ = done.send(false);
                    return;
                };
                for c in candidates {
                    // mDNS (`….local`) candidates do not parse, and an ICE-lite server learns
                    // the client's address from its checks anyway.
                    if let Ok(c) = str0m::Candidate::from_sdp_string(&c) {
                        self.peers[i].rtc.add_remote_candidate(c);
                    }
                }
                self.drain_and_route(i);
                let _ = done.send(true);
            }
            Command::Restart { id, offer, done } => {
                let Some(i) = self.index(id) else {
                    let _ = done.send(Err("no such session".into()));
                    return;
                };
                let answer = str0m::change::SdpOffer::from_sdp_string(&offer)
                    .map_err(|e| e.to_string())
                    .and_then(|o| {
                        self.peers[i]
                            .rtc
                            .sdp_api()
                            .accept_offer(o)
                            .map_err(|e| e.to_string())
                    })
                    .map(|a| a.to_sdp_string());
                self.peers[i].lost_since = None;
                self.drain_and_route(i);
                let _ = done.send(answer);
            }
            Command::Close { id, done } => {
                let _ = done.send(self.remove(id));
            }
            Command::TcpOpen { peer, writer } => {
                self.tcp.insert(peer, writer);
            }
            Command::TcpIn { peer, data } => self.datagram(Protocol::Tcp, peer, &data),
            Command::TcpClosed { peer } => {
                self.tcp.remove(&peer);
            }
            Command::EvictIdle { slug, done } => {
                let stale = self.peers.iter().find(|p| {
                    matches!(&p.role, Role::Publisher(x)
                        if x.ingest.slug() == slug && now - x.last_media >= TAKE_OVER_AFTER)
                });
                let evicted = match stale.map(|p| p.id) {
                    Some(id) => {
                        tracing::info!(session = id, channel = %slug, "idle publisher replaced by a new publish");
                        self.remove(id)
                    }
                    None => false,
                };
                let _ = done.send(evicted);
            }
        }
    }

    fn add(&mut self, id: SessionId, mut rtc: Rtc, role: Role, now: Instant) {
        let _ = rtc.handle_input(Input::Timeout(now));
        self.peers.push(Peer {
            id,
            rtc,
            role,
            deadline: now,
            created: now,
            connected: false,
            lost_since: None,
        });
        let i = self.peers.len() - 1;
        self.drain_and_route(i);
    }

    /// Drains session `i`, then acts on what it said: a publisher's frames go into the
    /// pipeline and out to the channel's subscribers; a subscriber's keyframe request goes to
    /// the publisher.
    fn drain_and_route(&mut self, i: usize) {
        let events = self.drain(i);
        if events.is_empty() {
            return;
        }
        let now = Instant::now();
        let mut frames = Vec::new();
        for ev in events {
            match ev {
                Event::Connected => {
                    self.peers[i].connected = true;
                    let slug = self.peers[i].slug().to_string();
                    tracing::info!(session = self.peers[i].id, channel = %slug, "WebRTC session connected");
                    self.want_keyframe(&slug);
                }
                Event::IceConnectionStateChange(s) => {
                    self.peers[i].lost_since =
                        (s == IceConnectionState::Disconnected).then_some(now);
                }
                Event::MediaData(d) => frames.push(d),
                Event::KeyframeRequest(_) => {
                    let slug = self.peers[i].slug().to_string();
                    self.want_keyframe(&slug);
                }
                _ => {}
            }
        }
        if frames.is_empty() {
            return;
        }
        let epoch = self.epoch;
        // Who hears this session: a publisher's channel subscribers, a party's fellow parties.
        let (scope, to_parties) = match &mut self.peers[i].role {
            Role::Publisher(p) => {
                for d in &frames {
                    ingest(p, d, epoch);
                }
                (p.ingest.slug().to_string(), false)
            }
            Role::Party(p) => (p.call.clone(), true),
            Role::Subscriber(_) => return,
        };
        for j in 0..self.peers.len() {
            if j == i || !self.peers[j].connected {
                continue;
            }
            let hears = match &self.peers[j].role {
                Role::Subscriber(s) => !to_parties && s.slug == scope,
                Role::Party(p) => to_parties && p.call == scope,
                Role::Publisher(_) => false,
            };
            if !hears {
                continue;
            }
            if let Role::Subscriber(sub) = &mut self.peers[j].role {
                if let Some(t) = &sub.token {
                    if sub.witnessed.is_none_or(|w| now - w >= WITNESS_EVERY) {
                        sub.witnessed = Some(now);
                        self.witness.delivered(&sub.slug, t);
                    }
                }
            }
            let mut failed = false;
            for d in &frames {
                if let Err(e) = forward(&mut self.peers[j], d) {
                    tracing::info!(session = self.peers[j].id, error = %e, "subscriber dropped");
                    failed = true;
                    break;
                }
                self.drain(j);
            }
            if failed {
                self.peers[j].rtc.disconnect();
            }
        }
    }

    /// Polls session `i` to its next timeout, sending what it transmits; returns its events.
    fn drain(&mut self, i: usize) -> Vec<Event> {
        let mut events = Vec::new();
        let peer = &mut self.peers[i];
        loop {
            match peer.rtc.poll_output() {
                Ok(Output::Timeout(t)) => {
                    peer.deadline = t;
                    break;
                }
                Ok(Output::Transmit(t)) if t.proto != Protocol::Udp => {
                    let sent = self
                        .tcp
                        .get(&t.destination)
                        .is_some_and(|w| w.try_send(t.contents.to_vec()).is_ok());
                    if !sent {
                        metrics::counter!("hawker_webrtc_datagrams_dropped_total", "reason" => "tcp_full")
                            .increment(1);
                    }
                }
                Ok(Output::Transmit(t)) => {
                    let sent = self.backlog.is_empty()
                        && match self.socket.try_send_to(&t.contents, t.destination) {
                            Ok(_) => true,
                            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => false,
                            Err(_) => true, // unreachable peer and the like: nothing to retry
                        };
                    if !sent {
                        if self.backlog.len() < MAX_BACKLOG {
                            self.backlog.push_back((t.destination, t.contents.into()));
                        } else {
                            metrics::counter!("hawker_webrtc_datagrams_dropped_total", "reason" => "send_full")
                                .increment(1);
                        }
                    }
                }
                Ok(Output::Event(e)) => events.push(e),
                // One frame that failed to depacketise; it is already gone.
                Err(RtcError::Packet(..)) => continue,
                Err(e) => {
                    tracing::info!(session = peer.id, error = %e, "WebRTC session failed");
                    peer.rtc.disconnect();
                    peer.deadline = Instant::now() + Duration::from_secs(1);
                    break;
                }
            }
        }
        events
    }

    /// Whoever sends video into `scope` (a channel's publisher, a call's parties) owes a
    /// keyframe.
    /// Sends what waited for the socket, in order, until it would block again.
    fn flush(&mut self) {
        while let Some((to, data)) = self.backlog.front() {
            match self.socket.try_send_to(data, *to) {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                _ => {
                    self.backlog.pop_front();
                }
            }
        }
    }

    fn want_keyframe(&mut self, scope: &str) {
        for p in &mut self.peers {
            match &mut p.role {
                Role::Publisher(x) if x.ingest.slug() == scope => x.want_keyframe = true,
                Role::Party(x) if x.call == scope => x.want_keyframe = true,
                _ => {}
            }
        }
        self.ask_keyframes(Instant::now());
    }

    /// Sends the PLIs publishers owe, at most one per `PLI_EVERY` each (OBS ignores them and
    /// sends keyframes at its own interval; browsers answer at once).
    fn ask_keyframes(&mut self, now: Instant) {
        for i in 0..self.peers.len() {
            let peer = &mut self.peers[i];
            let (video, want, last) = match &mut peer.role {
                Role::Publisher(p) => (p.video, &mut p.want_keyframe, &mut p.last_pli),
                Role::Party(p) => (p.sink.video, &mut p.want_keyframe, &mut p.last_pli),
                Role::Subscriber(_) => continue,
            };
            let due = *want && last.is_none_or(|t| now - t >= PLI_EVERY);
            let (Some(mid), true, true) = (video, due, peer.connected) else {
                continue;
            };
            if let Some(mut w) = peer.rtc.writer(mid) {
                if w.request_keyframe(None, KeyframeRequestKind::Pli).is_ok() {
                    *want = false;
                    *last = Some(now);
                }
            }
            self.drain(i);
        }
    }
}

/// A publisher's frame into the live pipeline.
fn ingest(p: &mut Publisher, d: &MediaData, epoch: Instant) {
    p.last_media = Instant::now();
    let arrival = d.network_time.saturating_duration_since(epoch).as_millis() as i64;
    match d.params.spec().codec {
        Codec::H264 => {
            if !d.contiguous {
                p.want_keyframe = true; // a frame was lost: the decoder needs a fresh start
            }
            let ts = p.video_clock.map(d.time.numer(), d.time.denom(), arrival);
            match p.avc.push(&d.data) {
                Ok(Some(frame)) => {
                    if let Some(cfg) = frame.config {
                        tracing::info!(codec = %cfg.codec_string, width = cfg.width, height = cfg.height, "WebRTC video configuration");
                        p.ingest.video_config(cfg);
                    }
                    if frame.keyframe {
                        p.last_keyframe = Instant::now();
                    }
                    p.ingest
                        .push_video(ts, frame.keyframe, frame.data, d.data.len());
                }
                Ok(None) => {}
                Err(e) => tracing::debug!(error = %e, "H.264 parameter sets refused"),
            }
        }
        Codec::Opus => {
            if !p.audio_configured {
                p.ingest.audio_config(AudioConfig::opus(2));
                p.audio_configured = true;
            }
            let ts = p.audio_clock.map(d.time.numer(), d.time.denom(), arrival);
            p.ingest.push_audio(ts, Bytes::copy_from_slice(&d.data));
        }
        _ => {}
    }
}

/// A publisher's frame to one subscriber, unchanged (str0m maps the payload type and
/// repacketises). Video waits for a keyframe.
fn forward(peer: &mut Peer, d: &MediaData) -> Result<(), RtcError> {
    let s = match &mut peer.role {
        Role::Subscriber(s) => s,
        Role::Party(p) => &mut p.sink,
        Role::Publisher(_) => return Ok(()),
    };
    let mid = match d.params.spec().codec {
        Codec::H264 => {
            if !s.started {
                if !d.is_keyframe() {
                    return Ok(());
                }
                s.started = true;
            }
            s.video
        }
        Codec::Opus => s.audio,
        _ => None,
    };
    let Some(mid) = mid else { return Ok(()) };
    let Some(pt) = peer
        .rtc
        .codec_config()
        .match_params(d.params)
        .map(|p| p.pt())
    else {
        return Ok(());
    };
    if !peer
        .rtc
        .media(mid)
        .is_some_and(|m| m.remote_pts().contains(&pt))
    {
        return Ok(());
    }
    let Some(w) = peer.rtc.writer(mid) else {
        return Ok(());
    };
    w.write(pt, d.network_time, d.time, d.data.clone())
}
