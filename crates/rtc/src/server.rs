//! The WebRTC front door the HTTP layer calls: WHIP publish (RFC 9725), WHEP play, trickle
//! and ICE restart by PATCH, DELETE. Sessions run in the switch (`switch.rs`) on one UDP port.

use crate::sdpfrag::{self, FragError, SdpFrag};
use crate::session::{self, Advertised, Side};
use crate::switch::{Command, MediaWitness, SessionId, SessionInfo, Sessions, Switch};
use hawker_broadcast::{Broadcaster, Refusal};
use rand::Rng;
use std::net::{IpAddr, SocketAddr, UdpSocket as StdUdpSocket};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// A STUN or TURN server given to clients (`Link: rel="ice-server"`; RFC 9725 §4.6).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IceServer {
    /// `stun:host:port` or `turn:host:port?transport=udp`.
    pub url: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub credential: Option<String>,
}

#[derive(Debug, Clone)]
pub struct RtcSettings {
    /// The one UDP port every session uses.
    pub udp: SocketAddr,
    /// Addresses put in answers as host candidates (the public address behind NAT). Empty:
    /// the bound address, or loopback and the outbound interface's when bound to all.
    pub public_ips: Vec<IpAddr>,
    pub ice_servers: Vec<IceServer>,
    /// Publishers are asked for a keyframe (PLI) when none came for this long, so LL-HLS
    /// segments are cut near their target and new viewers start at once: the segment target.
    pub keyframe_every: std::time::Duration,
    /// Also take ICE over TCP on the same port number (RFC 6544, for networks that block UDP).
    pub tcp: bool,
    /// Put UDP candidates in answers (off only to force clients onto TCP).
    pub advertise_udp: bool,
}

impl Default for RtcSettings {
    fn default() -> Self {
        RtcSettings {
            udp: SocketAddr::from(([0, 0, 0, 0], 8189)),
            public_ips: Vec::new(),
            ice_servers: Vec::new(),
            keyframe_every: std::time::Duration::from_secs(2),
            tcp: true,
            advertise_udp: true,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RtcFailure {
    #[error(transparent)]
    Session(#[from] session::SessionError),
    #[error("{0}")]
    Refused(Refusal),
    #[error("the stream key belongs to another channel")]
    WrongChannel,
    #[error("the channel is not live")]
    NotLive,
    #[error("the channel is live from an RTMP encoder, whose AAC audio WebRTC cannot carry; play its LL-HLS stream")]
    NotWebRtc,
    #[error("no such session")]
    NoSession,
    #[error("the session changed since that entity tag")]
    StaleEtag,
    #[error("If-Match is required")]
    EtagRequired,
    #[error("bad ICE fragment: {0}")]
    BadFragment(#[from] FragError),
    #[error("ICE restart failed: {0}")]
    Restart(String),
    #[error("WebRTC is shutting down")]
    Closed,
}

/// A session made: what the 201 carries.
#[derive(Debug, Clone)]
pub struct Created {
    /// The resource's token, in its URL.
    pub session: String,
    pub answer: String,
    pub etag: String,
}

/// What a PATCH did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Patched {
    /// Candidates taken (204).
    Trickled,
    /// ICE restarted: the server's new credentials as a fragment (200) and the new ETag.
    Restarted { fragment: String, etag: String },
}

struct Inner {
    broadcaster: Broadcaster,
    commands: mpsc::UnboundedSender<Command>,
    candidates: Advertised,
    local: SocketAddr,
    ice_servers: Vec<IceServer>,
    sessions: Sessions,
    shutdown: CancellationToken,
}

/// WebRTC's service: cheap to clone.
#[derive(Clone)]
pub struct RtcServer {
    inner: Arc<Inner>,
}

impl RtcServer {
    /// Binds the UDP port and starts the switch on a thread of its own (a single-threaded
    /// runtime, as the RTMP ingest threads: the switch is one loop over its sessions).
    pub fn start(
        settings: RtcSettings,
        broadcaster: Broadcaster,
        witness: Arc<dyn MediaWitness>,
    ) -> std::io::Result<RtcServer> {
        let std_socket = StdUdpSocket::bind(settings.udp)?;
        std_socket.set_nonblocking(true)?;
        // Room for a frame's burst to every subscriber (the kernel caps it at wmem_max).
        let sock = socket2::SockRef::from(&std_socket);
        let _ = sock.set_send_buffer_size(SOCKET_BUFFER);
        let _ = sock.set_recv_buffer_size(SOCKET_BUFFER);
        let local = std_socket.local_addr()?;
        let addresses = candidate_addresses(&settings.public_ips, local);
        let destination = addresses[0];
        // TCP on the same port number; a port taken by something else only loses TCP.
        let tcp = if settings.tcp {
            match std::net::TcpListener::bind(local).and_then(|l| {
                l.set_nonblocking(true)?;
                Ok(l)
            }) {
                Ok(l) => Some(l),
                Err(e) => {
                    tracing::warn!(%local, error = %e, "no ICE over TCP: the TCP port is taken");
                    None
                }
            }
        } else {
            None
        };
        let candidates = Advertised {
            udp: if settings.advertise_udp {
                addresses.clone()
            } else {
                Vec::new()
            },
            tcp: if tcp.is_some() {
                addresses.clone()
            } else {
                Vec::new()
            },
        };
        let tcp_destination = tcp.as_ref().map(|_| destination);
        let (tx, rx) = mpsc::unbounded_channel();
        let shutdown = CancellationToken::new();
        let sessions: Sessions = Arc::default();
        let (stop, table) = (shutdown.clone(), sessions.clone());
        let to_switch = tx.clone();
        let keyframe_every = settings.keyframe_every;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        std::thread::Builder::new()
            .name("hawker-webrtc".into())
            .spawn(move || {
                runtime.block_on(async move {
                    if let Some(l) = tcp.and_then(|l| tokio::net::TcpListener::from_std(l).ok()) {
                        tokio::spawn(crate::tcp::serve(l, to_switch, stop.clone()));
                    }
                    match tokio::net::UdpSocket::from_std(std_socket) {
                        Ok(socket) => {
                            Switch::new(
                                socket,
                                destination,
                                tcp_destination,
                                table,
                                keyframe_every,
                                witness,
                            )
                            .run(rx, stop)
                            .await
                        }
                        Err(e) => tracing::error!(error = %e, "WebRTC socket unusable"),
                    }
                })
            })?;
        tracing::info!(%local, udp = ?candidates.udp, tcp = ?candidates.tcp, "WebRTC (WHIP/WHEP) listening");
        Ok(RtcServer {
            inner: Arc::new(Inner {
                broadcaster,
                commands: tx,
                candidates,
                local,
                ice_servers: settings.ice_servers,
                sessions,
                shutdown,
            }),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.inner.local
    }

    /// The host candidates answers carry.
    pub fn candidates(&self) -> &Advertised {
        &self.inner.candidates
    }

    pub fn ice_servers(&self) -> &[IceServer] {
        &self.inner.ice_servers
    }

    /// WHIP: `key` (the Bearer token) publishes on `slug` with `offer`. The same go-live rules
    /// as RTMP (the key's check, trust, one publisher, the grace period).
    pub async fn publish(
        &self,
        slug: &str,
        key: &str,
        peer: SocketAddr,
        offer: &str,
    ) -> Result<Created, RtcFailure> {
        let grant = self
            .inner
            .broadcaster
            .authorize(key, peer)
            .await
            .map_err(RtcFailure::Refused)?;
        if grant.slug != slug {
            return Err(RtcFailure::WrongChannel);
        }
        let answered =
            session::answer(offer, Side::Ingest, &self.inner.candidates, Instant::now())?;
        let ingest = match self.inner.broadcaster.start_ingest(&grant).await {
            Err(Refusal::AlreadyLive) if self.evict_idle(slug).await => {
                self.inner.broadcaster.start_ingest(&grant).await
            }
            other => other,
        }
        .map_err(RtcFailure::Refused)?;
        let (id, created) = self.register(Side::Ingest, slug, offer, &answered.answer);
        let sent = self.inner.commands.send(Command::Publish {
            id,
            rtc: Box::new(answered.rtc),
            ingest: Box::new(ingest),
            video: answered.video,
        });
        if sent.is_err() {
            self.inner.sessions.lock().remove(&id);
            return Err(RtcFailure::Closed);
        }
        tracing::info!(channel = slug, %peer, "WHIP publish accepted");
        metrics::counter!("hawker_whip_publish_total").increment(1);
        Ok(created)
    }

    /// `slug` has a WebRTC publisher now (WHEP can play it).
    pub fn publishing(&self, slug: &str) -> bool {
        self.inner
            .sessions
            .lock()
            .values()
            .any(|s| s.side == Side::Ingest && s.slug == slug)
    }

    /// WHEP: a viewer plays `slug`, forwarded from its WebRTC publisher; `playback_token` is
    /// its room connection's, so it counts as a viewer while media flows to it.
    pub async fn play(
        &self,
        slug: &str,
        offer: &str,
        playback_token: Option<&str>,
    ) -> Result<Created, RtcFailure> {
        if !self.publishing(slug) {
            return Err(match self.inner.broadcaster.stream(slug) {
                Some(s) if !s.is_ended() => RtcFailure::NotWebRtc,
                _ => RtcFailure::NotLive,
            });
        }
        let answered = session::answer(
            offer,
            Side::Playback,
            &self.inner.candidates,
            Instant::now(),
        )?;
        let (id, created) = self.register(Side::Playback, slug, offer, &answered.answer);
        let sent = self.inner.commands.send(Command::Play {
            id,
            slug: slug.to_string(),
            token: playback_token.map(str::to_string),
            rtc: Box::new(answered.rtc),
            video: answered.video,
            audio: answered.audio,
        });
        if sent.is_err() {
            self.inner.sessions.lock().remove(&id);
            return Err(RtcFailure::Closed);
        }
        metrics::counter!("hawker_whep_play_total").increment(1);
        Ok(created)
    }

    /// A call: `party` (an account the caller has checked may be in `call`) joins with a
    /// sendrecv offer and hears the call's other parties.
    pub async fn join_call(
        &self,
        call: &str,
        party: i64,
        offer: &str,
    ) -> Result<Created, RtcFailure> {
        let answered = session::answer(offer, Side::Call, &self.inner.candidates, Instant::now())?;
        // One session per party: joining again (a reload) replaces the earlier one.
        self.close_party(call, party).await;
        let (id, created) = self.register(Side::Call, call, offer, &answered.answer);
        if let Some(s) = self.inner.sessions.lock().get_mut(&id) {
            s.party = Some(party);
        }
        self.send(Command::Join {
            id,
            call: call.to_string(),
            rtc: Box::new(answered.rtc),
            video: answered.video,
            audio: answered.audio,
        })
        .inspect_err(|_| {
            self.inner.sessions.lock().remove(&id);
        })?;
        Ok(created)
    }

    /// Ends `party`'s sessions in `call` now (the host drops a co-host); how many ended.
    pub async fn close_party(&self, call: &str, party: i64) -> usize {
        let ids: Vec<SessionId> = self
            .inner
            .sessions
            .lock()
            .iter()
            .filter(|(_, s)| s.side == Side::Call && s.slug == call && s.party == Some(party))
            .map(|(id, _)| *id)
            .collect();
        let mut closed = 0;
        for id in ids {
            let (done, wait) = oneshot::channel();
            if self.send(Command::Close { id, done }).is_ok() && wait.await.unwrap_or(false) {
                closed += 1;
            }
        }
        closed
    }

    /// Parties with a session in `call` now.
    pub fn parties(&self, call: &str) -> Vec<i64> {
        let mut v: Vec<i64> = self
            .inner
            .sessions
            .lock()
            .values()
            .filter(|s| s.side == Side::Call && s.slug == call)
            .filter_map(|s| s.party)
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    fn register(&self, side: Side, slug: &str, offer: &str, answer: &str) -> (SessionId, Created) {
        let id: SessionId = rand::thread_rng().gen();
        let etag = new_etag();
        let remote_ufrag = sdpfrag::credentials(offer).map(|c| c.0).unwrap_or_default();
        self.inner.sessions.lock().insert(
            id,
            SessionInfo {
                side,
                slug: slug.to_string(),
                party: None,
                etag: etag.clone(),
                offer: offer.to_string(),
                remote_ufrag,
            },
        );
        (
            id,
            Created {
                session: format!("{id:032x}"),
                answer: answer.to_string(),
                etag,
            },
        )
    }

    fn lookup(&self, side: Side, slug: &str, session: &str) -> Result<SessionId, RtcFailure> {
        let id = SessionId::from_str_radix(session, 16).map_err(|_| RtcFailure::NoSession)?;
        match self.inner.sessions.lock().get(&id) {
            Some(s) if s.side == side && s.slug == slug => Ok(id),
            _ => Err(RtcFailure::NoSession),
        }
    }

    /// PATCH with a trickle-ICE fragment: candidates (204) or, with new credentials, an ICE
    /// restart (200 with the server's). `If-Match` must name the current entity tag; `*` only
    /// for a restart, as RFC 9725 §4.3.2 has it.
    pub async fn patch(
        &self,
        side: Side,
        slug: &str,
        session: &str,
        if_match: Option<&str>,
        body: &str,
    ) -> Result<Patched, RtcFailure> {
        let id = self.lookup(side, slug, session)?;
        let frag = SdpFrag::parse(body)?;
        let (etag, current_ufrag, offer) = {
            let s = self.inner.sessions.lock();
            let s = s.get(&id).ok_or(RtcFailure::NoSession)?;
            (s.etag.clone(), s.remote_ufrag.clone(), s.offer.clone())
        };
        let restart = frag.restarts(&current_ufrag);
        match if_match.map(str::trim) {
            None => return Err(RtcFailure::EtagRequired),
            Some("*") if restart => {}
            Some(tag) if tag == etag => {}
            Some(_) => return Err(RtcFailure::StaleEtag),
        }
        if !restart {
            let (done, wait) = oneshot::channel();
            self.send(Command::Candidates {
                id,
                candidates: frag.candidates,
                done,
            })?;
            return match wait.await {
                Ok(true) => Ok(Patched::Trickled),
                _ => Err(RtcFailure::NoSession),
            };
        }
        let (Some(ufrag), Some(pwd)) = (frag.ufrag, frag.pwd) else {
            return Err(RtcFailure::Restart(
                "a restart carries both ice-ufrag and ice-pwd".into(),
            ));
        };
        let offer = sdpfrag::with_credentials(&offer, &ufrag, &pwd);
        let (done, wait) = oneshot::channel();
        self.send(Command::Restart {
            id,
            offer: offer.clone(),
            done,
        })?;
        let answer = wait
            .await
            .map_err(|_| RtcFailure::Closed)?
            .map_err(RtcFailure::Restart)?;
        let (lu, lp) = sdpfrag::credentials(&answer)
            .ok_or_else(|| RtcFailure::Restart("the answer has no credentials".into()))?;
        let etag = new_etag();
        if let Some(s) = self.inner.sessions.lock().get_mut(&id) {
            s.etag = etag.clone();
            s.offer = offer;
            s.remote_ufrag = ufrag;
        }
        let mut fragment = format!("a=ice-lite\r\na=ice-ufrag:{lu}\r\na=ice-pwd:{lp}\r\n");
        for c in &self.inner.candidates.udp {
            fragment.push_str(&format!(
                "a=candidate:1 1 udp 2130706431 {} {} typ host\r\n",
                c.ip(),
                c.port()
            ));
        }
        for c in &self.inner.candidates.tcp {
            fragment.push_str(&format!(
                "a=candidate:2 1 tcp 1671430143 {} {} typ host tcptype passive\r\n",
                c.ip(),
                c.port()
            ));
        }
        fragment.push_str("a=end-of-candidates\r\n");
        Ok(Patched::Restarted { fragment, etag })
    }

    /// DELETE: the session ends; a publisher's show waits out its grace period.
    pub async fn close(&self, side: Side, slug: &str, session: &str) -> Result<(), RtcFailure> {
        let id = self.lookup(side, slug, session)?;
        let (done, wait) = oneshot::channel();
        self.send(Command::Close { id, done })?;
        match wait.await {
            Ok(true) => Ok(()),
            _ => Err(RtcFailure::NoSession),
        }
    }

    /// Closes the channel's WebRTC publisher when it has gone quiet; true if it did.
    async fn evict_idle(&self, slug: &str) -> bool {
        let (done, wait) = oneshot::channel();
        let sent = self.send(Command::EvictIdle {
            slug: slug.to_string(),
            done,
        });
        sent.is_ok() && wait.await.unwrap_or(false)
    }

    fn send(&self, c: Command) -> Result<(), RtcFailure> {
        self.inner.commands.send(c).map_err(|_| RtcFailure::Closed)
    }

    /// Closes every session; publishers' shows then end as the broadcaster shuts down.
    pub fn shutdown(&self) {
        self.inner.shutdown.cancel();
    }
}

/// The UDP socket's send and receive buffers, asked for (Linux grants up to `wmem_max`).
const SOCKET_BUFFER: usize = 4 << 20;

fn new_etag() -> String {
    format!("\"{:016x}\"", rand::thread_rng().gen::<u64>())
}

/// The host candidates to advertise: the configured public addresses; else the bound one; else
/// (bound to all) loopback and the address the machine would use to reach the internet, found
/// by connecting a UDP socket (no packet is sent).
fn candidate_addresses(public: &[IpAddr], local: SocketAddr) -> Vec<SocketAddr> {
    let port = local.port();
    if !public.is_empty() {
        return public.iter().map(|ip| SocketAddr::new(*ip, port)).collect();
    }
    if !local.ip().is_unspecified() {
        return vec![local];
    }
    let mut out = vec![SocketAddr::from(([127, 0, 0, 1], port))];
    let outbound = StdUdpSocket::bind("0.0.0.0:0")
        .and_then(|s| s.connect("192.0.2.1:9").map(|_| s))
        .and_then(|s| s.local_addr());
    if let Ok(a) = outbound {
        if !a.ip().is_loopback() && !a.ip().is_unspecified() {
            out.push(SocketAddr::new(a.ip(), port));
        }
    }
    out
}
