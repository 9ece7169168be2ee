//! The show life cycle as the broadcast layer drives it, persisted in storage: which key may
//! publish, which show a publish opens, what an ended show leaves behind.

use hawker_broadcast::{PublishAuthority, PublishGrant, Refusal, ShowEnd};
use hawker_domain::{Show, ShowId, ShowState, StreamKey, UnixMillis};
use hawker_storage::{NewShow, Recording, StorageError, Store};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// A scheduled show is opened by a publish up to this far from its planned start.
const SCHEDULE_WINDOW_MS: i64 = 2 * 3600 * 1000;

pub struct ShowKeeper {
    pub store: Arc<dyn Store>,
    pub recordings: Option<PathBuf>,
    /// Live rooms hear of shows starting and ending; followers are notified.
    pub rooms: hawker_hub::RoomHub,
    /// Who may go live: verified, old enough, trained, not sanctioned, re-checked (cn).
    pub guard: Arc<hawker_shop::guard::Guard>,
    /// Co-hosting, set once the WebRTC server is up: a show's end drops its guest and
    /// withdraws the link (the next show needs a new invite).
    pub co_hosts: std::sync::OnceLock<Arc<hawker_rtc::cohost::CoHosts>>,
}

fn internal(e: StorageError) -> Refusal {
    tracing::error!(error = %e, "storage failure during publish");
    Refusal::Internal("storage unavailable".into())
}

impl ShowKeeper {
    fn recording_row(
        &self,
        show: ShowId,
        complete: bool,
        summary: Option<&hawker_broadcast::RecordingSummary>,
    ) -> Option<Recording> {
        let root = self.recordings.as_ref()?;
        let dir = summary.map_or_else(|| root.join(show.0.to_string()), |s| s.dir.clone());
        Some(Recording {
            show,
            dir: dir.to_string_lossy().into_owned(),
            bytes: summary.map_or(0, |s| s.bytes as i64),
            duration_ms: summary.map_or(0, |s| s.duration_ms as i64),
            segments: summary.map_or(0, |s| s.segments as i64),
            complete,
            updated_at: UnixMillis::now(),
        })
    }

    /// Shows left live by a crash or kill: their recordings are closed and the shows ended, so
    /// nothing stays "live" that is not. Run before the RTMP listener opens.
    pub async fn recover(&self) -> anyhow::Result<usize> {
        let stale = self.store.shows_in_state(ShowState::Live, 10_000).await?;
        let n = stale.len();
        for mut show in stale {
            let summary = self.recordings.as_ref().and_then(|root| {
                let dir = root.join(show.id.0.to_string());
                dir.exists()
                    .then(|| hawker_broadcast::finalize_abandoned_recording(&dir))
                    .and_then(|r| {
                        r.map_err(|e| tracing::warn!(error = %e, "cannot finalise recording"))
                            .ok()
                    })
            });
            let ended = show.started_at.map_or(UnixMillis::now(), |s| {
                s.plus_ms(summary.as_ref().map_or(0, |r| r.duration_ms as i64))
            });
            show.end(ended)?;
            self.store.save_show(&show, ShowState::Live).await?;
            self.store.co_hosts_left(show.id, ended).await?;
            if let Some(rec) = self.recording_row(show.id, true, summary.as_ref()) {
                self.store.upsert_recording(&rec).await?;
            }
            tracing::warn!(show = %show.id, "show was live when the server stopped; ended it and kept its recording");
        }
        Ok(n)
    }
}

#[async_trait::async_trait]
impl PublishAuthority for ShowKeeper {
    async fn authorize(&self, key: &str, _peer: SocketAddr) -> Result<PublishGrant, Refusal> {
        let key = StreamKey::from_presented(key).ok_or(Refusal::UnknownKey)?;
        let channel = self
            .store
            .channel_by_stream_key(&key)
            .await
            .map_err(internal)?
            .ok_or(Refusal::UnknownKey)?;
        let owner = self.store.account(channel.owner).await.map_err(internal)?;
        if !owner.is_some_and(|a| a.role.may_broadcast()) {
            return Err(Refusal::NotAllowed(
                "the channel's owner may not broadcast".into(),
            ));
        }
        // The person behind the key must pass the trust rules now, not only at sign-up.
        if let Err(e) = self
            .guard
            .may_go_live(channel.owner, UnixMillis::now())
            .await
        {
            return Err(match e {
                hawker_shop::guard::TrustRefusal::Storage(e) => internal(e),
                e => {
                    tracing::warn!(channel = %channel.id, code = e.code(), "publish refused by the trust rules");
                    Refusal::NotAllowed(match e.next_step() {
                        Some(next) => format!("{} ({}); next: {next}", e, e.code()),
                        None => format!("{} ({})", e, e.code()),
                    })
                }
            });
        }
        Ok(PublishGrant {
            channel: channel.id,
            slug: channel.slug.to_string(),
        })
    }

    async fn start_show(&self, grant: &PublishGrant) -> Result<ShowId, Refusal> {
        let now = UnixMillis::now();
        let scheduled = self
            .store
            .shows_of_channel(grant.channel, 50)
            .await
            .map_err(internal)?;
        let show = match Show::pick_scheduled(&scheduled, now, SCHEDULE_WINDOW_MS).cloned() {
            Some(mut s) => {
                s.go_live(now)
                    .map_err(|e| Refusal::Internal(e.to_string()))?;
                self.store
                    .save_show(&s, ShowState::Scheduled)
                    .await
                    .map_err(|e| match e {
                        StorageError::Conflict { .. } => Refusal::AlreadyLive,
                        e => internal(e),
                    })?;
                s
            }
            None => {
                let channel = self
                    .store
                    .channel(grant.channel)
                    .await
                    .map_err(internal)?
                    .ok_or(Refusal::UnknownKey)?;
                self.store
                    .create_show(NewShow {
                        channel: grant.channel,
                        title: channel.title,
                        state: ShowState::Live,
                        scheduled_at: None,
                        started_at: Some(now),
                    })
                    .await
                    .map_err(|e| match e {
                        // The partial unique index: another node has this channel live.
                        StorageError::Conflict { .. } => Refusal::AlreadyLive,
                        e => internal(e),
                    })?
            }
        };
        if let Some(rec) = self.recording_row(show.id, false, None) {
            self.store.upsert_recording(&rec).await.map_err(internal)?;
        }
        tracing::info!(show = %show.id, channel = %grant.slug, "show started");
        // A guest who joined before the host went live is on air from the start.
        if let Some(guest) = self.rooms.co_host(grant.channel) {
            if let Err(e) = self.store.co_host_joined(show.id, guest, now).await {
                tracing::error!(show = %show.id, error = %e, "the show did not record its co-host");
            }
        }
        if let Ok(Some(channel)) = self.store.channel(grant.channel).await {
            self.rooms
                .show_changed(&channel, show.id, ShowState::Live, &show.title)
                .await;
            if let Err(e) = self.rooms.announce_live(&channel, &show.title).await {
                tracing::warn!(error = %e, "followers could not be notified");
            }
        }
        Ok(show.id)
    }

    async fn end_show(&self, end: ShowEnd) {
        let result = async {
            let mut show = self
                .store
                .show(end.show)
                .await?
                .ok_or(StorageError::NotFound { entity: "show" })?;
            if show.state == ShowState::Live {
                let ended = UnixMillis::now();
                show.end(ended)
                    .map_err(|e| StorageError::Corrupt(e.to_string()))?;
                self.store.save_show(&show, ShowState::Live).await?;
                // Pins still up come down with the show (the replay's timeline ends there).
                self.store.close_open_pins(show.id, ended).await?;
                // A guest still on air leaves with the show.
                self.store.co_hosts_left(show.id, ended).await?;
                if let Some(channel) = self.store.channel(end.channel).await? {
                    if let Some(co_hosts) = self.co_hosts.get() {
                        co_hosts.withdraw(channel.slug.as_str()).await;
                    }
                    self.rooms
                        .show_changed(&channel, show.id, ShowState::Ended, &show.title)
                        .await;
                }
            }
            if let Some(rec) = self.recording_row(end.show, true, end.recording.as_ref()) {
                self.store.upsert_recording(&rec).await?;
            }
            Ok::<_, StorageError>(())
        }
        .await;
        if let Err(e) = result {
            tracing::error!(show = %end.show, error = %e, "could not record the end of a show");
        }
    }
}

/// Co-hosting's rules: a guest passes the go-live rules a streamer does, wears the room's
/// `co_host` badge, and the live show keeps who was on air (whose own statements of use the
/// cards then carry: the shop's workflow).
pub struct CoHostKeeper {
    pub keeper: Arc<ShowKeeper>,
    pub shop: Arc<hawker_shop::Shop>,
}

#[async_trait::async_trait]
impl hawker_rtc::cohost::CoHostRules for CoHostKeeper {
    async fn may_co_host(&self, account: i64) -> Result<(), String> {
        let id = hawker_domain::AccountId(account);
        let k = &self.keeper;
        match k.store.account(id).await {
            Ok(Some(a)) if a.role.may_broadcast() => {}
            Ok(_) => return Err("co-hosts need a streamer account".into()),
            Err(e) => return Err(format!("storage: {e}")),
        }
        k.guard
            .may_go_live(id, UnixMillis::now())
            .await
            .map_err(|e| match e.next_step() {
                Some(next) => format!("{} ({}); next: {next}", e, e.code()),
                None => format!("{} ({})", e, e.code()),
            })
    }

    async fn announce(&self, slug: &str, guest: Option<i64>) {
        let Ok(slug) = hawker_domain::Slug::parse(slug) else {
            return;
        };
        let k = &self.keeper;
        if let Ok(Some(channel)) = k.store.channel_by_slug(&slug).await {
            k.rooms.set_co_host(channel.id, channel.owner, guest).await;
            let guest = guest.map(hawker_domain::AccountId);
            if let Err(e) = self.shop.co_host_on_air_changed(&channel, guest).await {
                tracing::error!(channel = %channel.slug, error = %e, "the show did not record its co-host");
            }
        }
    }
}
