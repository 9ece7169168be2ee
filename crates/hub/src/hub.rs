//! The room hub of one node: a task per room, fed by its connections, the bus and a timer;
//! the connections' outboxes; records (chat, moderation, sanctions, viewer sessions) written to
//! storage in batches; follow notifications.
//!
//! Long (~940 lines): the room task's loop and the hub's public calls share the task's
//! private channel types; the outbox and the bus are already their own files.

use crate::bus::{Bus, BusError};
use crate::outbox::Outbox;
use bytes::Bytes;
use futures::StreamExt;
use hawker_domain::{
    Account, AccountId, Channel, ChannelId, ModeratorRights, SanctionKind, ShowId, ShowState,
    UnixMillis,
};
use hawker_room::moderation::{KeywordFilter, Sanctions};
use hawker_room::protocol::{Badge, ClientMsg, Host, Member, RoomState, ServerFrame, ShowPhase};
use hawker_room::room::{
    BusEvent, ConnId, Joiner, NodeId, Output, Record, Room, RoomConfig, SanctionChange, StateChange,
};
use hawker_storage::{ModerationEntry, SanctionRow, Store, StoredComment, ViewerSessionRow};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("storage: {0}")]
    Storage(#[from] hawker_storage::StorageError),
    #[error("bus: {0}")]
    Bus(#[from] BusError),
}

#[derive(Debug, Clone)]
pub struct HubConfig {
    pub node: NodeId,
    pub room: RoomConfig,
    /// A room with no connections and no live show is stopped after this long.
    pub idle_room: Duration,
}

impl Default for HubConfig {
    fn default() -> Self {
        HubConfig {
            node: rand::random(),
            room: RoomConfig::default(),
            idle_room: Duration::from_secs(300),
        }
    }
}

fn now_ms() -> u64 {
    UnixMillis::now().0 as u64
}

fn room_subject(channel: ChannelId) -> String {
    format!("hawker.room.{}", channel.0)
}
const LIVE_SUBJECT: &str = "hawker.site.live";

/// Sent over the bus when a channel goes live, so followers on every node hear of it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct LiveNotice {
    channel: i64,
    slug: String,
    title: String,
}

enum RoomCmd {
    Join(ConnId, Box<Joiner>, Arc<Outbox>),
    Leave(ConnId),
    /// The origin delivered media to this connection's player.
    Media(ConnId),
    /// The room's viewers now (computed, as the counters lane shows them).
    Viewers(tokio::sync::oneshot::Sender<u64>),
    Client(ConnId, ClientMsg),
    State(StateChange, Option<ShowId>),
    Member(i64, Vec<Badge>),
    Event(String, String, String),
    /// A platform announcement: text, by.
    Notice(String, String),
    Keywords(KeywordFilter),
}

/// Who is asking to join, as the HTTP edge knows them.
#[derive(Debug, Clone)]
pub struct Visitor {
    pub account: Option<Account>,
    /// The browser's anonymous id (local storage), for unique-viewer counting.
    pub anon_id: Option<String>,
    pub ip: String,
}

struct AccountConns {
    conns: HashMap<ConnId, Arc<Outbox>>,
    follows: HashSet<i64>,
}

/// A playback token's connection: where a media delivery for it is reported.
struct Playback {
    channel: ChannelId,
    conn: ConnId,
    room: mpsc::UnboundedSender<RoomCmd>,
    /// The last delivery passed on to the room: at most one a second is.
    reported: Option<std::time::Instant>,
}

struct Inner {
    cfg: HubConfig,
    /// Playback tokens of this node's room connections.
    playback: Mutex<HashMap<String, Playback>>,
    bus: Arc<dyn Bus>,
    store: Arc<dyn Store>,
    rooms: tokio::sync::Mutex<HashMap<ChannelId, mpsc::UnboundedSender<RoomCmd>>>,
    accounts: Mutex<HashMap<i64, AccountConns>>,
    /// Each channel's co-host now (this node's calls; see `hawker_rtc::cohost`).
    co_hosts: Mutex<HashMap<ChannelId, i64>>,
    next_conn: AtomicU64,
    records: mpsc::UnboundedSender<(ChannelId, Option<ShowId>, Record)>,
    shutdown: CancellationToken,
}

/// Cheap to clone.
#[derive(Clone)]
pub struct RoomHub {
    inner: Arc<Inner>,
}

/// A joined connection. Dropping it leaves the room.
pub struct Connection {
    pub id: ConnId,
    pub outbox: Arc<Outbox>,
    /// The player shows it with its media requests (see `RoomHub::media_delivered`).
    pub playback_token: String,
    room: mpsc::UnboundedSender<RoomCmd>,
    hub: RoomHub,
    account: Option<i64>,
}

impl Connection {
    pub fn send(&self, msg: ClientMsg) {
        let _ = self.room.send(RoomCmd::Client(self.id, msg));
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        let _ = self.room.send(RoomCmd::Leave(self.id));
        self.hub.forget(self.account, self.id);
        self.hub.inner.playback.lock().remove(&self.playback_token);
    }
}

/// A site-wide socket for notifications only.
pub struct NotificationSocket {
    pub id: ConnId,
    pub outbox: Arc<Outbox>,
    hub: RoomHub,
    account: i64,
}

impl Drop for NotificationSocket {
    fn drop(&mut self) {
        self.hub.forget(Some(self.account), self.id);
    }
}

impl RoomHub {
    pub async fn start(
        cfg: HubConfig,
        bus: Arc<dyn Bus>,
        store: Arc<dyn Store>,
    ) -> Result<RoomHub, HubError> {
        let (records, rx) = mpsc::unbounded_channel();
        let hub = RoomHub {
            inner: Arc::new(Inner {
                cfg,
                bus: bus.clone(),
                store: store.clone(),
                rooms: tokio::sync::Mutex::new(HashMap::new()),
                accounts: Mutex::new(HashMap::new()),
                playback: Mutex::new(HashMap::new()),
                co_hosts: Mutex::new(HashMap::new()),
                next_conn: AtomicU64::new(1),
                records,
                shutdown: CancellationToken::new(),
            }),
        };
        tokio::spawn(write_records(store, rx));
        let mut live = bus.subscribe(LIVE_SUBJECT).await?;
        let h = hub.clone();
        tokio::spawn(async move {
            while let Some(payload) = live.next().await {
                if let Ok(n) = serde_json::from_slice::<LiveNotice>(&payload) {
                    h.notify_followers(&n);
                }
            }
        });
        Ok(hub)
    }

    pub fn node(&self) -> NodeId {
        self.inner.cfg.node
    }

    pub fn bus_name(&self) -> &'static str {
        self.inner.bus.name()
    }

    fn forget(&self, account: Option<i64>, conn: ConnId) {
        if let Some(a) = account {
            let mut accts = self.inner.accounts.lock();
            if let Some(e) = accts.get_mut(&a) {
                e.conns.remove(&conn);
                if e.conns.is_empty() {
                    accts.remove(&a);
                }
            }
        }
    }

    async fn remember(
        &self,
        account: i64,
        conn: ConnId,
        outbox: Arc<Outbox>,
    ) -> Result<(), HubError> {
        let known = self.inner.accounts.lock().contains_key(&account);
        let follows: HashSet<i64> = if known {
            HashSet::new()
        } else {
            self.inner
                .store
                .followed_channels(hawker_domain::AccountId(account))
                .await?
                .into_iter()
                .map(|c| c.0)
                .collect()
        };
        let mut accts = self.inner.accounts.lock();
        let e = accts.entry(account).or_insert_with(|| AccountConns {
            conns: HashMap::new(),
            follows,
        });
        e.conns.insert(conn, outbox);
        Ok(())
    }

    /// A follow or unfollow happened: update this node's view and the account's badges.
    pub fn follow_changed(&self, account: i64, channel: ChannelId, following: bool) {
        if let Some(e) = self.inner.accounts.lock().get_mut(&account) {
            if following {
                e.follows.insert(channel.0);
            } else {
                e.follows.remove(&channel.0);
            }
        }
    }

    fn notify_followers(&self, n: &LiveNotice) {
        let frame: Arc<str> = Arc::from(
            ServerFrame::Notify {
                kind: "live".into(),
                channel: n.slug.clone(),
                title: n.title.clone(),
            }
            .to_json(),
        );
        let accts = self.inner.accounts.lock();
        let mut sent = 0u64;
        for e in accts.values().filter(|e| e.follows.contains(&n.channel)) {
            for o in e.conns.values() {
                o.send(frame.clone());
                sent += 1;
            }
        }
        metrics::counter!("hawker_follow_notifications_total").increment(sent);
    }

    /// A channel went live: every node tells the followers connected to it.
    pub async fn announce_live(&self, channel: &Channel, title: &str) -> Result<(), HubError> {
        let n = LiveNotice {
            channel: channel.id.0,
            slug: channel.slug.to_string(),
            title: title.to_string(),
        };
        let payload = serde_json::to_vec(&n).expect("serialisable");
        self.inner
            .bus
            .publish(LIVE_SUBJECT, Bytes::from(payload))
            .await?;
        Ok(())
    }

    pub async fn notifications(&self, account: &Account) -> Result<NotificationSocket, HubError> {
        let id = self.inner.next_conn.fetch_add(1, Ordering::Relaxed);
        let outbox = Outbox::new();
        self.remember(account.id.0, id, outbox.clone()).await?;
        Ok(NotificationSocket {
            id,
            outbox,
            hub: self.clone(),
            account: account.id.0,
        })
    }

    async fn room(&self, channel: &Channel) -> Result<mpsc::UnboundedSender<RoomCmd>, HubError> {
        let mut rooms = self.inner.rooms.lock().await;
        if let Some(tx) = rooms.get(&channel.id) {
            if !tx.is_closed() {
                return Ok(tx.clone());
            }
        }
        let tx = self.start_room(channel).await?;
        rooms.insert(channel.id, tx.clone());
        Ok(tx)
    }

    async fn start_room(
        &self,
        channel: &Channel,
    ) -> Result<mpsc::UnboundedSender<RoomCmd>, HubError> {
        let store = &self.inner.store;
        let now = UnixMillis::now();
        let show = store.live_show_of_channel(channel.id).await?;
        let mut sanctions = Sanctions::default();
        for s in store.sanctions(channel.id, now).await? {
            match s.kind {
                SanctionKind::Mute => {
                    sanctions
                        .muted_until
                        .insert(s.account.0, s.until.map_or(u64::MAX, |u| u.0 as u64));
                }
                SanctionKind::Ban => {
                    sanctions.banned.insert(s.account.0);
                }
                SanctionKind::ShadowBan => {
                    sanctions.shadow_banned.insert(s.account.0);
                }
            }
        }
        let filter = KeywordFilter::new(
            &store.keywords(None).await?,
            &store.keywords(Some(channel.id)).await?,
        );
        let state = RoomState {
            show_id: show.as_ref().map(|s| s.id.0),
            phase: show.as_ref().map(|_| ShowPhase::Live),
            title: show
                .as_ref()
                .map_or_else(|| channel.title.clone(), |s| s.title.clone()),
            hosts: self.hosts_of(channel).await?,
            ..Default::default()
        };
        let cfg = RoomConfig {
            owner: Some(channel.owner.0),
            ..self.inner.cfg.room.clone()
        };
        let epoch = format!("{:x}-{:x}", self.inner.cfg.node, rand::random::<u32>());
        let room = Room::new(
            cfg,
            self.inner.cfg.node,
            epoch,
            rand::random(),
            filter,
            sanctions,
            state,
            now_ms(),
        );
        let subject = room_subject(channel.id);
        let sub = self.inner.bus.subscribe(&subject).await?;
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run_room(RoomTask {
            room,
            channel: channel.id,
            show: show.map(|s| s.id),
            cmds: rx,
            sub,
            subject,
            bus: self.inner.bus.clone(),
            records: self.inner.records.clone(),
            conns: HashMap::new(),
            idle: self.inner.cfg.idle_room,
            shutdown: self.inner.shutdown.clone(),
        }));
        metrics::gauge!("hawker_rooms").increment(1.0);
        Ok(tx)
    }

    /// Joins `visitor` to `channel`'s room on this node.
    pub async fn join(
        &self,
        channel: &Channel,
        visitor: Visitor,
        resume: Option<(String, u64)>,
    ) -> Result<Connection, HubError> {
        let (badges, permissions) = match &visitor.account {
            Some(a) => self.standing(channel.id, channel.owner, a.id).await?,
            None => (Vec::new(), None),
        };
        let member = Member {
            account: visitor.account.as_ref().map(|a| a.id.0),
            name: visitor.account.as_ref().map_or_else(
                || "guest".to_string(),
                |a| a.display_name.as_str().to_string(),
            ),
            badges,
        };
        let id = self.inner.next_conn.fetch_add(1, Ordering::Relaxed);
        let viewer_key = match (&visitor.account, &visitor.anon_id) {
            (Some(a), _) => format!("a:{}", a.id),
            (None, Some(anon)) => format!("anon:{anon}"),
            (None, None) => format!("conn:{}:{id}", self.inner.cfg.node),
        };
        let outbox = Outbox::new();
        // 128 random bits: a token cannot be guessed to count a connection that fetches
        // nothing.
        let playback_token = {
            use rand::Rng;
            hex::encode(rand::thread_rng().gen::<[u8; 16]>())
        };
        let joiner = Joiner {
            member,
            permissions,
            ip: visitor.ip.clone(),
            viewer_key,
            resume,
            playback_token: Some(playback_token.clone()),
        };
        let tx = self.room(channel).await?;
        self.inner.playback.lock().insert(
            playback_token.clone(),
            Playback {
                channel: channel.id,
                conn: id,
                room: tx.clone(),
                reported: None,
            },
        );
        if let Some(a) = &visitor.account {
            self.remember(a.id.0, id, outbox.clone()).await?;
        }
        let _ = tx.send(RoomCmd::Join(id, Box::new(joiner), outbox.clone()));
        metrics::gauge!("hawker_room_connections").increment(1.0);
        Ok(Connection {
            id,
            outbox,
            playback_token,
            room: tx,
            hub: self.clone(),
            account: visitor.account.map(|a| a.id.0),
        })
    }

    /// The origin delivered `channel`'s live media to the player showing `token` (an LL-HLS
    /// playlist or part at the live edge, or the WebSocket feed). The connection counts as a
    /// viewer while this keeps happening; a token of another channel's room, or of no open
    /// connection, counts for nothing.
    pub fn media_delivered(&self, channel: ChannelId, token: &str) {
        let now = std::time::Instant::now();
        let mut map = self.inner.playback.lock();
        let Some(p) = map.get_mut(token) else {
            return;
        };
        if p.channel != channel
            || p.reported
                .is_some_and(|t| now.duration_since(t) < std::time::Duration::from_secs(1))
        {
            return;
        }
        p.reported = Some(now);
        let _ = p.room.send(RoomCmd::Media(p.conn));
    }

    /// The viewers of `channel`'s room on this node and the others it hears from, as its
    /// counters show them; `None` when no room runs here.
    pub async fn viewers(&self, channel: ChannelId) -> Option<u64> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.send_if_running(channel, RoomCmd::Viewers(tx)).await;
        rx.await.ok()
    }

    async fn send_if_running(&self, channel: ChannelId, cmd: RoomCmd) {
        if let Some(tx) = self.inner.rooms.lock().await.get(&channel) {
            let _ = tx.send(cmd);
        }
    }

    /// The channel's show started or ended.
    pub async fn show_changed(
        &self,
        channel: &Channel,
        show_id: ShowId,
        state: ShowState,
        title: &str,
    ) {
        let phase = match state {
            ShowState::Scheduled => ShowPhase::Scheduled,
            ShowState::Live => ShowPhase::Live,
            ShowState::Ended | ShowState::Cancelled => ShowPhase::Ended,
        };
        let change = StateChange::Show {
            show_id: Some(show_id.0),
            phase: Some(phase),
            title: title.to_string(),
        };
        let show = (state == ShowState::Live).then_some(show_id);
        self.send_if_running(channel.id, RoomCmd::State(change, show))
            .await;
    }

    pub async fn set_state(&self, channel: &Channel, change: StateChange) -> Result<(), HubError> {
        let tx = self.room(channel).await?;
        let _ = tx.send(RoomCmd::State(change, None));
        Ok(())
    }

    /// A room event from the application (a gift, a purchase), shown in the stream lane.
    pub async fn event(
        &self,
        channel: &Channel,
        kind: &str,
        by: &str,
        detail: &str,
    ) -> Result<(), HubError> {
        let tx = self.room(channel).await?;
        let _ = tx.send(RoomCmd::Event(kind.into(), by.into(), detail.into()));
        Ok(())
    }

    /// A platform announcement in the room's stream (the paid-promotion label, repeated).
    pub async fn notice(&self, channel: &Channel, by: &str, text: &str) -> Result<(), HubError> {
        let tx = self.room(channel).await?;
        let _ = tx.send(RoomCmd::Notice(text.into(), by.into()));
        Ok(())
    }

    /// The channel's hosts as the room shows them: the owner, labelled when the channel says
    /// its host is virtual (AI).
    pub async fn hosts_of(&self, channel: &Channel) -> Result<Vec<Host>, HubError> {
        let store = &self.inner.store;
        let virtual_host = store.virtual_host(channel.id).await?;
        Ok(store
            .account(channel.owner)
            .await?
            .iter()
            .map(|o| Host {
                name: o.display_name.as_str().to_string(),
                badge: Badge::Host,
                virtual_host,
            })
            .collect())
    }

    /// An account's badges and moderator rights in a channel's room.
    async fn standing(
        &self,
        channel: ChannelId,
        owner: AccountId,
        account: AccountId,
    ) -> Result<(Vec<Badge>, Option<ModeratorRights>), HubError> {
        let store = &self.inner.store;
        let mut badges = Vec::new();
        let mut permissions = None;
        if account == owner {
            badges.push(Badge::Host);
            permissions = Some(ModeratorRights::ALL);
        } else if let Some(r) = store.moderator_rights(channel, account).await? {
            badges.push(Badge::Moderator);
            permissions = Some(r);
        }
        if self.inner.co_hosts.lock().get(&channel) == Some(&account.0) {
            badges.push(Badge::CoHost);
        }
        if store.followed_channels(account).await?.contains(&channel) {
            badges.push(Badge::Follower);
        }
        Ok((badges, permissions))
    }

    /// The guest co-hosting `channel` now, if any.
    pub fn co_host(&self, channel: ChannelId) -> Option<AccountId> {
        self.inner
            .co_hosts
            .lock()
            .get(&channel)
            .copied()
            .map(AccountId)
    }

    /// `guest` co-hosts `channel` now (None: nobody): their badge changes in the room at once.
    pub async fn set_co_host(&self, channel: ChannelId, owner: AccountId, guest: Option<i64>) {
        let before = {
            let mut all = self.inner.co_hosts.lock();
            match guest {
                Some(g) => all.insert(channel, g),
                None => all.remove(&channel),
            }
        };
        for account in before.into_iter().chain(guest) {
            self.refresh_member(channel, owner, AccountId(account))
                .await;
        }
    }

    /// Recomputes `account`'s badges in `channel`'s room and shows them at once (after a
    /// follow, a moderator granted or removed, a co-host joining or dropped).
    pub async fn refresh_member(&self, channel: ChannelId, owner: AccountId, account: AccountId) {
        match self.standing(channel, owner, account).await {
            Ok((badges, _)) => self.member_changed(channel, account.0, badges).await,
            Err(e) => tracing::warn!(error = %e, "room badges not refreshed"),
        }
    }

    pub async fn member_changed(&self, channel: ChannelId, account: i64, badges: Vec<Badge>) {
        self.send_if_running(channel, RoomCmd::Member(account, badges))
            .await;
    }

    /// Keyword lists changed in storage: recompile for the room.
    pub async fn reload_keywords(&self, channel: ChannelId) -> Result<(), HubError> {
        let store = &self.inner.store;
        let f = KeywordFilter::new(
            &store.keywords(None).await?,
            &store.keywords(Some(channel)).await?,
        );
        self.send_if_running(channel, RoomCmd::Keywords(f)).await;
        Ok(())
    }

    /// The platform-wide list changed: every running room recompiles.
    pub async fn reload_all_keywords(&self) -> Result<(), HubError> {
        let channels: Vec<ChannelId> = self.inner.rooms.lock().await.keys().copied().collect();
        for c in channels {
            self.reload_keywords(c).await?;
        }
        Ok(())
    }

    pub fn shutdown(&self) {
        self.inner.shutdown.cancel();
    }
}

struct RoomTask {
    room: Room,
    channel: ChannelId,
    show: Option<ShowId>,
    cmds: mpsc::UnboundedReceiver<RoomCmd>,
    sub: crate::bus::Subscription,
    subject: String,
    bus: Arc<dyn Bus>,
    records: mpsc::UnboundedSender<(ChannelId, Option<ShowId>, Record)>,
    conns: HashMap<ConnId, Arc<Outbox>>,
    idle: Duration,
    shutdown: CancellationToken,
}

async fn run_room(mut t: RoomTask) {
    let mut idle_since = Some(tokio::time::Instant::now());
    loop {
        let wait = t.room.next_deadline().saturating_sub(now_ms());
        tokio::select! {
            cmd = t.cmds.recv() => {
                let Some(cmd) = cmd else { break };
                let now = now_ms();
                match cmd {
                    RoomCmd::Join(id, j, outbox) => {
                        t.conns.insert(id, outbox);
                        t.room.join(id, *j, now);
                    }
                    RoomCmd::Leave(id) => {
                        if t.conns.remove(&id).is_some() {
                            metrics::gauge!("hawker_room_connections").decrement(1.0);
                        }
                        t.room.leave(id, now);
                    }
                    RoomCmd::Client(id, msg) => t.room.client(id, msg, now),
                    RoomCmd::Media(id) => t.room.media(id, now),
                    RoomCmd::Viewers(reply) => {
                        let _ = reply.send(t.room.counters(now).viewers);
                    }
                    RoomCmd::State(change, show) => {
                        if let StateChange::Show { phase, .. } = &change {
                            t.show = if *phase == Some(ShowPhase::Live) { show } else { None };
                        }
                        t.room.set_state(change, now);
                    }
                    RoomCmd::Member(a, badges) => t.room.update_member(a, badges),
                    RoomCmd::Event(kind, by, detail) => t.room.event(kind, by, detail),
                    RoomCmd::Notice(text, by) => t.room.notice(text, by),
                    RoomCmd::Keywords(f) => t.room.set_filter(f),
                }
            }
            payload = t.sub.next() => {
                let Some(payload) = payload else { break };
                match serde_json::from_slice::<BusEvent>(&payload) {
                    Ok(ev) => t.room.remote(ev, now_ms()),
                    Err(e) => tracing::warn!(error = %e, "undecodable bus event ignored"),
                }
            }
            _ = tokio::time::sleep(Duration::from_millis(wait)) => t.room.tick(now_ms()),
            _ = t.shutdown.cancelled() => break,
        }
        deliver(&mut t).await;
        if t.conns.is_empty() && t.show.is_none() {
            let since = *idle_since.get_or_insert_with(tokio::time::Instant::now);
            if since.elapsed() >= t.idle {
                break;
            }
        } else {
            idle_since = None;
        }
    }
    // The sessions still open end with the room.
    t.room.stop(now_ms());
    deliver(&mut t).await;
    for o in t.conns.values() {
        o.close(1001, "room closed");
    }
    metrics::gauge!("hawker_rooms").decrement(1.0);
}

async fn deliver(t: &mut RoomTask) {
    while let Some(out) = t.room.poll_output() {
        match out {
            Output::Send(id, frame) => {
                if let Some(o) = t.conns.get(&id) {
                    o.send(Arc::from(frame.to_json()));
                }
            }
            Output::Broadcast(lane, json) => {
                // Serialised once; every outbox shares the same bytes.
                let frame: Arc<str> = Arc::from(json);
                for o in t.conns.values() {
                    o.push(lane, frame.clone());
                }
                metrics::counter!("hawker_room_frames_total").increment(t.conns.len() as u64);
            }
            Output::Close(id, code, reason) => {
                if let Some(o) = t.conns.get(&id) {
                    o.close(code, reason);
                }
            }
            Output::Publish(ev) => {
                let payload = Bytes::from(serde_json::to_vec(&ev).expect("serialisable"));
                if let Err(e) = t.bus.publish(&t.subject, payload).await {
                    tracing::warn!(error = %e, "bus publish failed; other nodes miss this event");
                }
            }
            Output::Record(r) => {
                let _ = t.records.send((t.channel, t.show, r));
            }
        }
    }
}

/// Writes chat, moderation and viewer-session records in batches, off the rooms' paths.
async fn write_records(
    store: Arc<dyn Store>,
    mut rx: mpsc::UnboundedReceiver<(ChannelId, Option<ShowId>, Record)>,
) {
    let mut batch = Vec::new();
    loop {
        let Some(first) = rx.recv().await else { return };
        batch.push(first);
        // Gather what arrives within a short window: one transaction for many comments.
        let deadline = tokio::time::sleep(Duration::from_millis(200));
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                r = rx.recv() => match r { Some(r) => batch.push(r), None => break },
                _ = &mut deadline => break,
            }
            if batch.len() >= 1000 {
                break;
            }
        }
        let mut comments = Vec::new();
        let mut sessions = Vec::new();
        for (channel, show, r) in batch.drain(..) {
            let result = match r {
                Record::Comment { comment, shadow } => {
                    comments.push(StoredComment {
                        id: comment.id as i64,
                        channel,
                        show,
                        account: hawker_domain::AccountId(comment.author.account.unwrap_or(0)),
                        author_name: comment.author.name,
                        text: comment.text,
                        at: UnixMillis(comment.at_ms as i64),
                        shadow,
                        deleted_reason: None,
                    });
                    Ok(())
                }
                Record::Deleted { id, reason } => {
                    // The comment may still be in this batch: store it first.
                    let r = store.save_comments(&std::mem::take(&mut comments)).await;
                    match r {
                        Ok(()) => {
                            store
                                .mark_comment_deleted(channel, id as i64, reason.as_str())
                                .await
                        }
                        e => e,
                    }
                }
                Record::Moderation {
                    actor,
                    action,
                    target_account,
                    comment_id,
                    reason,
                    detail,
                    at_ms,
                } => {
                    store
                        .log_moderation(&ModerationEntry {
                            channel,
                            show,
                            actor: hawker_domain::AccountId(actor),
                            action: action.to_string(),
                            target_account: target_account.map(hawker_domain::AccountId),
                            comment_id: comment_id.map(|c| c as i64),
                            reason: reason.map(|r| r.as_str().to_string()),
                            detail,
                            at: UnixMillis(at_ms as i64),
                        })
                        .await
                }
                Record::Sanction { actor, change } => {
                    persist_sanction(store.as_ref(), channel, actor, change).await
                }
                // The room says which show a session belongs to; the task's show may have
                // moved on already (the show that just ended).
                Record::Session {
                    show_id,
                    account,
                    viewer_key: _,
                    joined_at_ms,
                    left_at_ms,
                    played_ms,
                    counted,
                    network,
                    media_deliveries,
                    heartbeats,
                    cadence_jitter_ms,
                } => {
                    let clamp = |v: u64| v.min(i64::MAX as u64) as i64;
                    sessions.push(ViewerSessionRow {
                        show: ShowId(show_id),
                        channel,
                        account: account.map(hawker_domain::AccountId),
                        joined_at: UnixMillis(joined_at_ms as i64),
                        left_at: UnixMillis(left_at_ms as i64),
                        played_ms: clamp(played_ms),
                        counted,
                        evidence: hawker_storage::SessionEvidence {
                            network,
                            media_deliveries: clamp(media_deliveries),
                            heartbeats: clamp(heartbeats),
                            cadence_jitter_ms: cadence_jitter_ms.map(clamp),
                        },
                    });
                    Ok(())
                }
            };
            if let Err(e) = result {
                tracing::error!(error = %e, "could not store a room record");
            }
        }
        if let Err(e) = store.save_comments(&comments).await {
            tracing::error!(error = %e, count = comments.len(), "could not store comments");
        }
        if let Err(e) = store.save_viewer_sessions(&sessions).await {
            tracing::error!(error = %e, count = sessions.len(), "could not store viewer sessions");
        }
    }
}

async fn persist_sanction(
    store: &dyn Store,
    channel: ChannelId,
    actor: i64,
    change: SanctionChange,
) -> hawker_storage::Result<()> {
    let now = UnixMillis::now();
    let by = hawker_domain::AccountId(actor);
    let row = |account: i64, kind, until: Option<u64>| SanctionRow {
        account: hawker_domain::AccountId(account),
        kind,
        until: until.map(|u| UnixMillis(u as i64)),
    };
    match change {
        SanctionChange::Mute { account, until_ms } => {
            store
                .save_sanction(
                    channel,
                    &row(account, SanctionKind::Mute, Some(until_ms)),
                    by,
                    now,
                )
                .await
        }
        SanctionChange::Unmute { account } => {
            store
                .remove_sanction(
                    channel,
                    hawker_domain::AccountId(account),
                    SanctionKind::Mute,
                )
                .await
        }
        SanctionChange::Ban { account } => {
            store
                .save_sanction(channel, &row(account, SanctionKind::Ban, None), by, now)
                .await
        }
        SanctionChange::ShadowBan { account } => {
            store
                .save_sanction(
                    channel,
                    &row(account, SanctionKind::ShadowBan, None),
                    by,
                    now,
                )
                .await
        }
        // Slow mode is room state, not a sanction on someone.
        SanctionChange::SlowMode { .. } => Ok(()),
    }
}
