//! One room on one node: a state machine. Inputs are joins, leaves, client messages, events
//! from other nodes and state changes from the application, each with the current time;
//! outputs are frames for one connection or for all, events for other nodes, and records for
//! storage. Timers are the caller's: it asks [`Room::next_deadline`] and calls
//! [`Room::tick`].
//!
//! Long (~1.2k lines) on purpose: the room is one state machine whose transitions share its
//! private state (members, outbox lanes, limits, the audience); split across files, one
//! invariant (what a connection may see and send) would be spread over all of them.

use crate::hll::Hll;
use crate::limiter::{Bucket, Rate};
use crate::moderation::{KeywordFilter, RuleViolation, Sanctions};
use crate::protocol::*;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};

pub type ConnId = u64;
pub type NodeId = u32;

#[derive(Debug, Clone)]
pub struct RoomConfig {
    /// Stream lane cadence (100–250 ms).
    pub batch_interval_ms: u64,
    /// Counter lane cadence (0.5–1 s).
    pub counter_interval_ms: u64,
    /// Comments a newcomer gets.
    pub history_len: usize,
    /// Stream items kept for resuming clients.
    pub resume_len: usize,
    /// Items per batch before ordinary comments are sampled.
    pub max_batch_items: usize,
    /// A viewer whose player has not reported playing for this long is not counted.
    pub viewer_timeout_ms: u64,
    /// Who counts as a viewer: media delivered within a window, capped per address and
    /// network (`crate::audience`).
    pub audience: crate::audience::AudienceRules,
    /// Per account and per connection.
    pub comment_rate: Rate,
    /// Per IP address (households and offices share one).
    pub ip_comment_rate: Rate,
    pub like_rate: Rate,
    /// Refused messages per 10 s before a connection is closed for flooding.
    pub flood_limit: u32,
    /// The channel owner's account: the host, who cannot be sanctioned in their own room.
    pub owner: Option<i64>,
    /// Absolute and medical claims ("best", "cures", 最佳, ...) no announcement may make: a
    /// host's announcement (the room's pinned message) with one is refused, not shown.
    pub banned_claims: Vec<String>,
}

impl Default for RoomConfig {
    fn default() -> Self {
        RoomConfig {
            batch_interval_ms: 150,
            counter_interval_ms: 750,
            history_len: 50,
            resume_len: 2000,
            max_batch_items: 40,
            viewer_timeout_ms: 20_000,
            audience: crate::audience::AudienceRules::default(),
            comment_rate: Rate {
                burst: 5.0,
                per_second: 1.0,
            },
            ip_comment_rate: Rate {
                burst: 30.0,
                per_second: 10.0,
            },
            like_rate: Rate {
                burst: 50.0,
                per_second: 20.0,
            },
            flood_limit: 30,
            owner: None,
            banned_claims: Vec::new(),
        }
    }
}

/// Someone joining, as the hub resolved them (session, badges, moderator rights).
#[derive(Debug, Clone)]
pub struct Joiner {
    pub member: Member,
    pub permissions: Option<Permissions>,
    /// Client address, for per-IP limits.
    pub ip: String,
    /// Identity for unique-viewer counting: the account, else the browser's anonymous id.
    pub viewer_key: String,
    /// Resume after this sequence number of this epoch.
    pub resume: Option<(String, u64)>,
    /// The token the player shows the origin with its media requests, so the origin can say
    /// this connection is being delivered media (`Room::media`). Issued by the hub.
    pub playback_token: Option<String>,
}

/// Changes the application makes to the room's state lane.
#[derive(Debug, Clone, PartialEq)]
pub enum StateChange {
    Show {
        show_id: Option<i64>,
        phase: Option<ShowPhase>,
        title: String,
    },
    Hosts(Vec<Host>),
    Pinned(Vec<PinnedProduct>),
    Sale(Option<SaleState>),
}

/// Between nodes serving the same room (over the bus).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "e", rename_all = "snake_case")]
pub enum BusEvent {
    /// Items accepted on `node` since its last tick, already moderated there.
    Stream {
        node: NodeId,
        items: Vec<StreamItem>,
    },
    Likes {
        node: NodeId,
        n: u64,
    },
    /// `node`'s playing viewers now, and its unique-viewer registers that changed.
    Audience {
        node: NodeId,
        viewers: u64,
        uniques: Vec<(u16, u8)>,
    },
    State {
        node: NodeId,
        version: u64,
        state: RoomState,
    },
    Sanction {
        node: NodeId,
        change: SanctionChange,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "a", rename_all = "snake_case")]
pub enum SanctionChange {
    Mute { account: i64, until_ms: u64 },
    Unmute { account: i64 },
    Ban { account: i64 },
    ShadowBan { account: i64 },
    SlowMode { seconds: u32 },
}

/// For storage: chat is kept (retention), moderation is audited, sanctions persist.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// `shadow`: written while its author was shadow-banned.
    Comment {
        comment: Comment,
        shadow: bool,
    },
    Deleted {
        id: u64,
        reason: RuleViolation,
    },
    Sanction {
        actor: i64,
        change: SanctionChange,
    },
    Moderation {
        actor: i64,
        action: &'static str,
        target_account: Option<i64>,
        comment_id: Option<u64>,
        reason: Option<RuleViolation>,
        detail: String,
        at_ms: u64,
    },
    /// One connection's stay in a live show, for the integrity signals (bots that never play,
    /// join/leave bursts, near-zero dwell). Written when the connection leaves, when the live
    /// show changes (the part spent in each show is a session of its own) and when the room
    /// stops; nothing while no show is live.
    Session {
        show_id: i64,
        account: Option<i64>,
        /// The joiner's unique-viewer key (account or anonymous browser id).
        viewer_key: String,
        joined_at_ms: u64,
        left_at_ms: u64,
        /// Time the player advanced while reporting itself playing (heartbeats that passed the
        /// plausibility check), never more than the time that passed.
        played_ms: u64,
        /// Counted as a viewer: the origin delivered it media at least once (perhaps in the
        /// show before, for a session that began when a show did).
        counted: bool,
        /// The client's network (IPv4 /24, IPv6 /48), for "many sessions from one address".
        network: String,
        /// Media deliveries the origin reported for this connection in this session.
        media_deliveries: u64,
        /// Heartbeats the client sent in this session.
        heartbeats: u64,
        /// The standard deviation of its heartbeat intervals (a script's is near zero).
        cadence_jitter_ms: Option<u64>,
    },
}

/// Which lane a broadcast frame travels in; the hub's per-connection queues treat them
/// differently (state and counters: keep the newest; stream: bounded, drop the oldest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    State,
    Stream,
    Counters,
}

#[derive(Debug, Clone, PartialEq)]
// `Send` carries a `ServerFrame` (its welcome is large); outputs are drained at once.
#[allow(clippy::large_enum_variant)]
pub enum Output {
    Send(ConnId, ServerFrame),
    /// One serialisation for every local connection.
    Broadcast(Lane, String),
    Close(ConnId, u16, &'static str),
    Publish(BusEvent),
    Record(Record),
}

#[derive(Debug)]
struct Conn {
    member: Member,
    permissions: Option<Permissions>,
    ip: String,
    viewer_key: String,
    bucket: Bucket,
    like_bucket: Bucket,
    refusals: VecDeque<u64>,
    /// Last playing heartbeat (ms) and the position it reported.
    playing_since: Option<(u64, f64)>,
    /// The player said it paused: not counted even while media still flows.
    paused: bool,
    /// The last media delivery the origin reported (ms).
    media_at: Option<u64>,
    /// In the current session.
    media_deliveries: u64,
    heartbeats: u64,
    cadence: crate::audience::Cadence,
    counted: bool,
    /// Start of the current session: the join, or the moment the live show changed.
    session_start: u64,
    /// Played in the current session (see `Record::Session`).
    played_ms: u64,
}

struct Pending {
    item: StreamItem,
    priority: bool,
}

pub struct Room {
    cfg: RoomConfig,
    node: NodeId,
    /// Identifies this room instance's sequence space, for resumes.
    epoch: String,
    filter: KeywordFilter,
    claims: KeywordFilter,
    sanctions: Sanctions,
    state: RoomState,
    state_seq: u64,
    state_version: (u64, NodeId),
    conns: HashMap<ConnId, Conn>,
    ip_buckets: HashMap<String, Bucket>,
    last_comment: HashMap<i64, u64>,
    pending: Vec<Pending>,
    unpublished: Vec<StreamItem>,
    sampled_out: u64,
    seq: u64,
    history: VecDeque<Sequenced>,
    likes: u64,
    likes_unpublished: u64,
    remote_viewers: HashMap<NodeId, (u64, u64)>,
    peak: u64,
    uniques: Hll,
    unique_changes: Vec<(u16, u8)>,
    last_counters: Option<Counters>,
    next_batch: u64,
    next_counters: u64,
    rng: u64,
    out: VecDeque<Output>,
}

impl Room {
    /// `seed` feeds comment ids and sampling; give every room instance a random one.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        cfg: RoomConfig,
        node: NodeId,
        epoch: String,
        seed: u64,
        filter: KeywordFilter,
        sanctions: Sanctions,
        state: RoomState,
        now: u64,
    ) -> Room {
        Room {
            next_batch: now + cfg.batch_interval_ms,
            next_counters: now + cfg.counter_interval_ms,
            claims: KeywordFilter::new(&cfg.banned_claims, &[]),
            cfg,
            node,
            rng: seed | 1,
            epoch,
            filter,
            sanctions,
            state,
            state_seq: 1,
            state_version: (0, node),
            conns: HashMap::new(),
            ip_buckets: HashMap::new(),
            last_comment: HashMap::new(),
            pending: Vec::new(),
            unpublished: Vec::new(),
            sampled_out: 0,
            seq: 0,
            history: VecDeque::new(),
            likes: 0,
            likes_unpublished: 0,
            remote_viewers: HashMap::new(),
            peak: 0,
            uniques: Hll::default(),
            unique_changes: Vec::new(),
            last_counters: None,
            out: VecDeque::new(),
        }
    }

    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    pub fn next_deadline(&self) -> u64 {
        self.next_batch.min(self.next_counters)
    }

    pub fn connections(&self) -> usize {
        self.conns.len()
    }

    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    pub fn set_filter(&mut self, f: KeywordFilter) {
        self.filter = f;
    }

    pub fn counters(&self, now: u64) -> Counters {
        let local = self.local_viewers(now);
        let remote: u64 = self
            .remote_viewers
            .values()
            .filter(|(_, at)| now.saturating_sub(*at) <= 4 * self.cfg.counter_interval_ms)
            .map(|(v, _)| v)
            .sum();
        Counters {
            likes: self.likes,
            viewers: local + remote,
            peak_viewers: self.peak.max(local + remote),
            unique_viewers: self.uniques.estimate(),
        }
    }

    /// Connections being delivered media now (and not paused), capped per address and
    /// network: heartbeats alone never count.
    fn local_viewers(&self, now: u64) -> u64 {
        let rules = &self.cfg.audience;
        rules.count(
            self.conns
                .values()
                .filter(|c| !c.paused && rules.delivering(c.media_at, now))
                .map(|c| c.ip.as_str()),
        )
    }

    /// The origin delivered media to the connection holding the playback token (an LL-HLS
    /// playlist or part at the live edge, the WebSocket feed): it counts as a viewer for
    /// `[audience] media_window_ms` from now, and from its first delivery in the unique and
    /// peak figures.
    pub fn media(&mut self, conn: ConnId, now: u64) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        // Unique and peak take a session only while its address and network are under their
        // caps (else at a later delivery, when a place is free): a farm behind one address
        // adds no more to them than to the viewers.
        let within_caps = c.counted || {
            let rules = &self.cfg.audience;
            let network = crate::audience::network_of(&c.ip);
            let others = self
                .conns
                .iter()
                .filter(|(id, o)| **id != conn && o.counted && rules.delivering(o.media_at, now));
            let (mut same_ip, mut same_net) = (0, 0);
            for (_, o) in others {
                if o.ip == c.ip {
                    same_ip += 1;
                }
                if crate::audience::network_of(&o.ip) == network {
                    same_net += 1;
                }
            }
            same_ip < rules.max_per_address && same_net < rules.max_per_network
        };
        let c = self.conns.get_mut(&conn).expect("checked above");
        c.media_at = Some(now);
        c.media_deliveries += 1;
        if !c.counted && within_caps {
            c.counted = true;
            if let Some(change) = self.uniques.add(c.viewer_key.as_bytes()) {
                self.unique_changes.push(change);
            }
        }
    }

    fn error(&mut self, conn: ConnId, code: &str, message: impl Into<String>) {
        self.out
            .push_back(Output::Send(conn, ServerFrame::error(code, message)));
    }

    /// A refused message; too many close the connection.
    fn refuse(&mut self, conn: ConnId, now: u64, code: &str, message: impl Into<String>) {
        self.error(conn, code, message);
        let limit = self.cfg.flood_limit as usize;
        if let Some(c) = self.conns.get_mut(&conn) {
            c.refusals.push_back(now);
            while c
                .refusals
                .front()
                .is_some_and(|t| now.saturating_sub(*t) > 10_000)
            {
                c.refusals.pop_front();
            }
            if c.refusals.len() > limit {
                self.out.push_back(Output::Close(
                    conn,
                    close::FLOODING,
                    "too many refused messages",
                ));
            }
        }
    }

    pub fn join(&mut self, conn: ConnId, j: Joiner, now: u64) {
        if let Some(a) = j.member.account {
            if self.sanctions.banned.contains(&a) {
                self.out
                    .push_back(Output::Close(conn, close::BANNED, "banned from this room"));
                return;
            }
        }
        let (history, resumed, skipped) = match &j.resume {
            Some((epoch, since)) if *epoch == self.epoch && *since <= self.seq => {
                let oldest = self.history.front().map_or(self.seq + 1, |h| h.seq);
                if *since + 1 >= oldest {
                    (
                        self.history
                            .iter()
                            .filter(|h| h.seq > *since)
                            .cloned()
                            .collect(),
                        true,
                        None,
                    )
                } else {
                    (self.recent_comments(), false, Some(oldest - since - 1))
                }
            }
            Some(_) => (self.recent_comments(), false, None),
            None => (self.recent_comments(), false, None),
        };
        let can_comment = j.member.account.is_some();
        self.out.push_back(Output::Send(
            conn,
            ServerFrame::Welcome {
                v: PROTOCOL_VERSION,
                you: j.member.clone(),
                can_comment,
                permissions: j.permissions,
                state: self.state.clone(),
                state_seq: self.state_seq,
                counters: self.counters(now),
                history,
                seq: self.seq,
                epoch: self.epoch.clone(),
                playback_token: j.playback_token.clone(),
                resumed,
                skipped,
            },
        ));
        self.conns.insert(
            conn,
            Conn {
                member: j.member,
                permissions: j.permissions,
                ip: j.ip,
                viewer_key: j.viewer_key,
                bucket: Bucket::new(self.cfg.comment_rate, now),
                like_bucket: Bucket::new(self.cfg.like_rate, now),
                refusals: VecDeque::new(),
                playing_since: None,
                paused: false,
                media_at: None,
                media_deliveries: 0,
                heartbeats: 0,
                cadence: crate::audience::Cadence::default(),
                counted: false,
                session_start: now,
                played_ms: 0,
            },
        );
    }

    fn recent_comments(&self) -> Vec<Sequenced> {
        let n = self.cfg.history_len;
        let mut v: Vec<Sequenced> = self
            .history
            .iter()
            .rev()
            .filter(|h| matches!(h.item, StreamItem::Comment(_)))
            .take(n)
            .cloned()
            .collect();
        v.reverse();
        v
    }

    pub fn leave(&mut self, conn: ConnId, now: u64) {
        if let Some(c) = self.conns.remove(&conn) {
            if let Some(show_id) = self.live_show() {
                self.out.push_back(session_record(show_id, &c, now));
            }
        }
    }

    /// The room is going away (idle, or the node stops): every connection's session ends now.
    /// The connections are forgotten; closing their sockets is the caller's.
    pub fn stop(&mut self, now: u64) {
        let show = self.live_show();
        let mut conns: Vec<(ConnId, Conn)> = self.conns.drain().collect();
        conns.sort_by_key(|(id, _)| *id);
        if let Some(show_id) = show {
            for (_, c) in &conns {
                self.out.push_back(session_record(show_id, c, now));
            }
        }
    }

    /// The show whose audience sessions are recorded for: the room's show while it is live.
    fn live_show(&self) -> Option<i64> {
        self.state
            .show_id
            .filter(|_| self.state.phase == Some(ShowPhase::Live))
    }

    /// The live show changed (went live, ended, another one began): every open session of the
    /// show before is recorded, and the next one starts now for every connection.
    fn live_show_changed(&mut self, before: Option<i64>, now: u64) {
        if before == self.live_show() {
            return;
        }
        let mut ids: Vec<ConnId> = self.conns.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            let c = self.conns.get_mut(&id).expect("listed");
            if let Some(show_id) = before {
                self.out.push_back(session_record(show_id, c, now));
            }
            c.session_start = now;
            c.played_ms = 0;
            c.media_deliveries = 0;
            c.heartbeats = 0;
            c.cadence = crate::audience::Cadence::default();
        }
    }

    /// Badges changed (a new follower, a buyer verified): applies to the account's connections.
    pub fn update_member(&mut self, account: i64, badges: Vec<Badge>) {
        for c in self
            .conns
            .values_mut()
            .filter(|c| c.member.account == Some(account))
        {
            c.member.badges = badges.clone();
        }
    }

    pub fn client(&mut self, conn: ConnId, msg: ClientMsg, now: u64) {
        if !self.conns.contains_key(&conn) {
            return;
        }
        match msg {
            ClientMsg::Ping => self.out.push_back(Output::Send(conn, ServerFrame::Pong)),
            ClientMsg::Heartbeat { playing, position } => {
                self.heartbeat(conn, playing, position, now)
            }
            ClientMsg::Comment { text } => self.comment(conn, text.trim().to_string(), now),
            ClientMsg::Like { n } => self.like(conn, n, now),
            other => self.moderate(conn, other, now),
        }
    }

    fn heartbeat(&mut self, conn: ConnId, playing: bool, position: f64, now: u64) {
        let timeout = self.cfg.viewer_timeout_ms;
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.heartbeats += 1;
        c.cadence.beat(now);
        c.paused = !playing;
        if !playing {
            c.playing_since = None;
            return;
        }
        // Play time for the integrity signals; counting is the origin's word (`media`).
        if let Some((at, pos)) = c.playing_since {
            let wall_ms = now.saturating_sub(at);
            let advanced = position - pos;
            if advanced > 0.0 && advanced <= wall_ms as f64 / 1000.0 * 2.5 + 1.0 {
                // Played: what the player advanced, at most the time that passed, and no more
                // than a viewer stays counted without a heartbeat.
                c.played_ms += ((advanced * 1000.0) as u64).min(wall_ms).min(timeout);
            }
        }
        c.playing_since = Some((now, position));
    }

    fn like(&mut self, conn: ConnId, n: u32, now: u64) {
        let rate = self.cfg.like_rate;
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if c.member.account.is_none() {
            return self.error(conn, "login_required", "log in to like");
        }
        let mut taken = 0;
        for _ in 0..n {
            if c.like_bucket.take(rate, now) {
                taken += 1;
            }
        }
        // Likes beyond the rate are dropped quietly: a finger on the button is not abuse.
        self.likes += taken;
        self.likes_unpublished += taken;
    }

    fn comment(&mut self, conn: ConnId, text: String, now: u64) {
        let (rate, ip_rate) = (self.cfg.comment_rate, self.cfg.ip_comment_rate);
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let Some(account) = c.member.account else {
            return self.refuse(conn, now, "login_required", "log in to comment");
        };
        if self.sanctions.banned.contains(&account) {
            self.out
                .push_back(Output::Close(conn, close::BANNED, "banned from this room"));
            return;
        }
        if let Some(until) = self.sanctions.muted(account, now) {
            return self.refuse(
                conn,
                now,
                "muted",
                format!("muted for {} more seconds", (until - now).div_ceil(1000)),
            );
        }
        let staff = c.member.is_staff();
        let ip = c.ip.clone();
        let slow = self.sanctions.slow_mode_s as u64 * 1000;
        if !staff && slow > 0 {
            if let Some(last) = self.last_comment.get(&account) {
                if now.saturating_sub(*last) < slow {
                    return self.refuse(
                        conn,
                        now,
                        "slow_mode",
                        format!("slow mode: one comment every {} s", slow / 1000),
                    );
                }
            }
        }
        let ip_ok = self
            .ip_buckets
            .entry(ip)
            .or_insert_with(|| Bucket::new(ip_rate, now))
            .take(ip_rate, now);
        let conn_ok = self
            .conns
            .get_mut(&conn)
            .is_some_and(|c| c.bucket.take(rate, now));
        if !(staff || ip_ok && conn_ok) {
            return self.refuse(conn, now, "rate_limited", "you are commenting too fast");
        }
        if let Some(hit) = self.filter.check(&text) {
            self.out.push_back(Output::Record(Record::Moderation {
                actor: account,
                action: "filtered",
                target_account: Some(account),
                comment_id: None,
                reason: None,
                detail: format!("{:?} list: {}", hit.source, hit.keyword),
                at_ms: now,
            }));
            return self.refuse(
                conn,
                now,
                "blocked_keyword",
                "this comment contains a word that is not allowed here",
            );
        }
        self.last_comment.insert(account, now);
        let author = self.conns[&conn].member.clone();
        let comment = Comment {
            // Random 53-bit ids: unique across nodes and restarts, exact as JavaScript numbers.
            id: self.next_random() & ((1 << 53) - 1),
            author,
            text,
            at_ms: now,
            paid: false,
        };
        let shadow = self.sanctions.shadow_banned.contains(&account);
        self.out.push_back(Output::Record(Record::Comment {
            comment: comment.clone(),
            shadow,
        }));
        if shadow {
            // Shown to its author only, on every tab they have open.
            let echo = ServerFrame::Echo {
                item: StreamItem::Comment(comment),
            };
            let targets: Vec<ConnId> = self
                .conns
                .iter()
                .filter(|(_, c)| c.member.account == Some(account))
                .map(|(id, _)| *id)
                .collect();
            for t in targets {
                self.out.push_back(Output::Send(t, echo.clone()));
            }
            return;
        }
        self.accept(StreamItem::Comment(comment), staff, true);
    }

    /// Queues an item for the next batch; `local` items are also published to other nodes.
    fn accept(&mut self, item: StreamItem, priority: bool, local: bool) {
        if local {
            self.unpublished.push(item.clone());
        }
        self.pending.push(Pending { item, priority });
    }

    /// A stream event from the application (gifts, purchases shown in the room).
    pub fn event(&mut self, kind: String, by: String, detail: String) {
        self.accept(StreamItem::Event { kind, by, detail }, true, true);
    }

    /// An announcement from the platform (the paid-promotion label repeated while a paid
    /// product is pinned): in the stream like a host's, without replacing the host's pinned
    /// announcement in the state.
    pub fn notice(&mut self, text: String, by: String) {
        self.accept(StreamItem::Announcement { text, by }, true, true);
    }

    fn moderate(&mut self, conn: ConnId, msg: ClientMsg, now: u64) {
        let c = &self.conns[&conn];
        let Some(actor) = c.member.account else {
            return self.refuse(conn, now, "forbidden", "log in first");
        };
        let perms = if c.member.has(Badge::Host) {
            Some(Permissions::ALL)
        } else {
            c.permissions
        };
        let Some(perms) = perms else {
            return self.refuse(
                conn,
                now,
                "forbidden",
                "only the host and moderators may do this",
            );
        };
        let actor_name = c.member.name.clone();
        let allowed = match &msg {
            ClientMsg::Announce { .. } => perms.announce,
            ClientMsg::Delete { .. } => perms.delete,
            ClientMsg::Mute { .. } | ClientMsg::Unmute { .. } | ClientMsg::SlowMode { .. } => {
                perms.mute
            }
            ClientMsg::Ban { .. } | ClientMsg::ShadowBan { .. } => perms.ban,
            _ => false,
        };
        if !allowed {
            return self.refuse(
                conn,
                now,
                "forbidden",
                "your moderator rights do not include this",
            );
        }
        let target = match &msg {
            ClientMsg::Mute { account, .. }
            | ClientMsg::Ban { account, .. }
            | ClientMsg::ShadowBan { account, .. } => Some(*account),
            _ => None,
        };
        if target.is_some() && target == self.cfg.owner {
            return self.refuse(
                conn,
                now,
                "forbidden",
                "the host cannot be sanctioned in their own room",
            );
        }
        let record = |action: &'static str, target_account, comment_id, reason, detail: String| {
            Output::Record(Record::Moderation {
                actor,
                action,
                target_account,
                comment_id,
                reason,
                detail,
                at_ms: now,
            })
        };
        match msg {
            ClientMsg::Announce { text } => {
                if let Some(hit) = self.claims.check(&text) {
                    return self.refuse(
                        conn,
                        now,
                        "banned_claim",
                        format!(
                            "announcements may not make absolute or medical claims (\"{}\")",
                            hit.keyword
                        ),
                    );
                }
                self.out
                    .push_back(record("announce", None, None, None, text.clone()));
                self.state.announcement = Some(text.clone());
                self.state_changed(now);
                self.accept(
                    StreamItem::Announcement {
                        text,
                        by: actor_name,
                    },
                    true,
                    true,
                );
            }
            ClientMsg::Delete { id, reason, note } => {
                self.out
                    .push_back(record("delete", None, Some(id), Some(reason), note));
                self.out
                    .push_back(Output::Record(Record::Deleted { id, reason }));
                self.history
                    .retain(|h| !matches!(&h.item, StreamItem::Comment(c) if c.id == id));
                self.pending
                    .retain(|p| !matches!(&p.item, StreamItem::Comment(c) if c.id == id));
                self.accept(StreamItem::Deleted { id, reason }, true, true);
            }
            ClientMsg::Mute {
                account,
                seconds,
                reason,
            } => {
                let until_ms = now + seconds as u64 * 1000;
                self.out.push_back(record(
                    "mute",
                    Some(account),
                    None,
                    Some(reason),
                    format!("{seconds} s"),
                ));
                self.sanction(SanctionChange::Mute { account, until_ms }, Some(actor));
            }
            ClientMsg::Unmute { account } => {
                self.out
                    .push_back(record("unmute", Some(account), None, None, String::new()));
                self.sanction(SanctionChange::Unmute { account }, Some(actor));
            }
            ClientMsg::Ban { account, reason } => {
                self.out.push_back(record(
                    "ban",
                    Some(account),
                    None,
                    Some(reason),
                    String::new(),
                ));
                self.sanction(SanctionChange::Ban { account }, Some(actor));
            }
            ClientMsg::ShadowBan { account, reason } => {
                self.out.push_back(record(
                    "shadow_ban",
                    Some(account),
                    None,
                    Some(reason),
                    String::new(),
                ));
                self.sanction(SanctionChange::ShadowBan { account }, Some(actor));
            }
            ClientMsg::SlowMode { seconds } => {
                self.out.push_back(record(
                    "slow_mode",
                    None,
                    None,
                    None,
                    format!("{seconds} s"),
                ));
                self.sanction(SanctionChange::SlowMode { seconds }, Some(actor));
            }
            _ => {}
        }
    }

    /// Applies a sanction; `actor` is set when it was decided on this node (then it is
    /// persisted and published), None when it arrived from another node.
    fn sanction(&mut self, change: SanctionChange, actor: Option<i64>) {
        match &change {
            SanctionChange::Mute { account, until_ms } => {
                self.sanctions.muted_until.insert(*account, *until_ms);
            }
            SanctionChange::Unmute { account } => {
                self.sanctions.muted_until.remove(account);
            }
            SanctionChange::Ban { account } => {
                self.sanctions.banned.insert(*account);
                let gone: Vec<ConnId> = self
                    .conns
                    .iter()
                    .filter(|(_, c)| c.member.account == Some(*account))
                    .map(|(id, _)| *id)
                    .collect();
                for id in gone {
                    self.out
                        .push_back(Output::Close(id, close::BANNED, "banned from this room"));
                }
            }
            SanctionChange::ShadowBan { account } => {
                self.sanctions.shadow_banned.insert(*account);
            }
            SanctionChange::SlowMode { seconds } => {
                self.sanctions.slow_mode_s = *seconds;
                if self.state.slow_mode_s != *seconds {
                    self.state.slow_mode_s = *seconds;
                    self.bump_state();
                }
            }
        }
        if let Some(actor) = actor {
            self.out.push_back(Output::Record(Record::Sanction {
                actor,
                change: change.clone(),
            }));
            self.out.push_back(Output::Publish(BusEvent::Sanction {
                node: self.node,
                change,
            }));
        }
    }

    pub fn sanctions(&self) -> &Sanctions {
        &self.sanctions
    }

    /// A state change from the application (show phase, hosts, pins, sales).
    pub fn set_state(&mut self, change: StateChange, now: u64) {
        let before = self.live_show();
        match change {
            StateChange::Show {
                show_id,
                phase,
                title,
            } => {
                self.state.show_id = show_id;
                self.state.phase = phase;
                self.state.title = title;
            }
            StateChange::Hosts(h) => self.state.hosts = h,
            StateChange::Pinned(p) => self.state.pinned = p,
            StateChange::Sale(s) => self.state.sale = s,
        }
        self.live_show_changed(before, now);
        self.state_changed(now);
    }

    fn bump_state(&mut self) {
        self.state_seq += 1;
        let frame = ServerFrame::State {
            seq: self.state_seq,
            state: self.state.clone(),
        };
        self.out
            .push_back(Output::Broadcast(Lane::State, frame.to_json()));
    }

    fn state_changed(&mut self, now: u64) {
        // Latest wins across nodes: versions are wall-clock ms, ties broken by node id.
        self.state_version = (now.max(self.state_version.0 + 1), self.node);
        self.bump_state();
        self.out.push_back(Output::Publish(BusEvent::State {
            node: self.node,
            version: self.state_version.0,
            state: self.state.clone(),
        }));
    }

    pub fn remote(&mut self, ev: BusEvent, now: u64) {
        match ev {
            BusEvent::Stream { node, items } if node != self.node => {
                for item in items {
                    if let StreamItem::Deleted { id, .. } = &item {
                        let id = *id;
                        self.history
                            .retain(|h| !matches!(&h.item, StreamItem::Comment(c) if c.id == id));
                        self.pending
                            .retain(|p| !matches!(&p.item, StreamItem::Comment(c) if c.id == id));
                    }
                    let priority = match &item {
                        StreamItem::Comment(c) => c.author.is_staff() || c.paid,
                        _ => true,
                    };
                    self.accept(item, priority, false);
                }
            }
            BusEvent::Likes { node, n } if node != self.node => self.likes += n,
            BusEvent::Audience {
                node,
                viewers,
                uniques,
            } if node != self.node => {
                self.remote_viewers.insert(node, (viewers, now));
                self.uniques.merge(&uniques);
            }
            BusEvent::State {
                node,
                version,
                state,
            } if node != self.node && (version, node) > self.state_version => {
                let before = self.live_show();
                self.state_version = (version, node);
                self.state = state;
                self.live_show_changed(before, now);
                self.bump_state();
            }
            BusEvent::Sanction { node, change } if node != self.node => self.sanction(change, None),
            _ => {} // our own events, echoed by the bus
        }
    }

    fn next_random(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    /// Runs the lanes whose time has come.
    pub fn tick(&mut self, now: u64) {
        if now >= self.next_batch {
            self.next_batch = now + self.cfg.batch_interval_ms;
            self.flush_batch();
        }
        if now >= self.next_counters {
            self.next_counters = now + self.cfg.counter_interval_ms;
            self.flush_counters(now);
        }
    }

    fn flush_batch(&mut self) {
        if !self.unpublished.is_empty() {
            let items = std::mem::take(&mut self.unpublished);
            self.out.push_back(Output::Publish(BusEvent::Stream {
                node: self.node,
                items,
            }));
        }
        if self.pending.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut self.pending);
        let prio = pending.iter().filter(|p| p.priority).count();
        let room_for = self.cfg.max_batch_items.saturating_sub(prio);
        let ordinary = pending.len() - prio;
        // Sample ordinary comments uniformly when there are more than anyone can read;
        // priority items always go.
        let mut keep = vec![true; pending.len()];
        if ordinary > room_for {
            let idx: Vec<usize> = (0..pending.len())
                .filter(|&i| !pending[i].priority)
                .collect();
            let mut chosen: Vec<usize> = idx[..room_for].to_vec();
            for (k, &i) in idx.iter().enumerate().skip(room_for) {
                let j = (self.next_random() % (k as u64 + 1)) as usize;
                if j < room_for {
                    chosen[j] = i;
                }
            }
            keep = vec![false; pending.len()];
            for (i, p) in pending.iter().enumerate() {
                if p.priority {
                    keep[i] = true;
                }
            }
            for i in chosen {
                keep[i] = true;
            }
            self.sampled_out += (ordinary - room_for) as u64;
        }
        let mut items = Vec::with_capacity(pending.len().min(self.cfg.max_batch_items));
        for (p, k) in pending.into_iter().zip(keep) {
            if !k {
                continue;
            }
            self.seq += 1;
            let s = Sequenced {
                seq: self.seq,
                item: p.item,
            };
            self.history.push_back(s.clone());
            items.push(s);
        }
        while self.history.len() > self.cfg.resume_len {
            self.history.pop_front();
        }
        let frame = ServerFrame::Batch {
            items,
            sampled_out: std::mem::take(&mut self.sampled_out),
        };
        self.out
            .push_back(Output::Broadcast(Lane::Stream, frame.to_json()));
    }

    fn flush_counters(&mut self, now: u64) {
        let local = self.local_viewers(now);
        let uniques = std::mem::take(&mut self.unique_changes);
        self.out.push_back(Output::Publish(BusEvent::Audience {
            node: self.node,
            viewers: local,
            uniques,
        }));
        if self.likes_unpublished > 0 {
            let n = std::mem::take(&mut self.likes_unpublished);
            self.out
                .push_back(Output::Publish(BusEvent::Likes { node: self.node, n }));
        }
        let c = self.counters(now);
        self.peak = c.peak_viewers;
        if self.last_counters != Some(c) {
            self.last_counters = Some(c);
            self.out.push_back(Output::Broadcast(
                Lane::Counters,
                ServerFrame::Counters(c).to_json(),
            ));
        }
        // Idle per-IP buckets are forgotten so the map does not grow with every visitor.
        let ip_rate = self.cfg.ip_comment_rate;
        self.ip_buckets.retain(|_, b| !b.is_idle(ip_rate, now));
    }
}

fn session_record(show_id: i64, c: &Conn, now: u64) -> Output {
    Output::Record(Record::Session {
        show_id,
        account: c.member.account,
        viewer_key: c.viewer_key.clone(),
        joined_at_ms: c.session_start,
        left_at_ms: now.max(c.session_start),
        played_ms: c.played_ms,
        counted: c.counted,
        network: crate::audience::network_of(&c.ip),
        media_deliveries: c.media_deliveries,
        heartbeats: c.heartbeats,
        cadence_jitter_ms: c.cadence.jitter_ms(),
    })
}

#[cfg(test)]
mod tests;
