//! Outbound webhooks: subscriptions, the outbox the database's triggers fill in the same
//! transaction as the change they report, and deliveries with their attempts.

use crate::sql::corrupt;
use crate::{classify, Result, SqlStore};
use async_trait::async_trait;
use hawker_domain::{AccountId, UnixMillis};
use sqlx::any::AnyRow;
use sqlx::Row;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub id: i64,
    pub org: i64,
    pub url: String,
    pub secret: String,
    /// Topics it receives; `["*"]` for all.
    pub topics: Vec<String>,
    pub active: bool,
    pub created_at: UnixMillis,
}

impl Subscription {
    pub fn wants(&self, topic: &str) -> bool {
        self.topics.iter().any(|t| t == "*" || t == topic)
    }
}

/// A change the triggers recorded, not yet fanned out to subscriptions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEvent {
    pub id: i64,
    pub org: i64,
    pub topic: String,
    /// The order or show it is about.
    pub subject: i64,
    pub from_state: Option<String>,
    pub at: UnixMillis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    Pending,
    Delivered,
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(DeliveryState::Pending),
            "delivered" => Some(DeliveryState::Delivered),
            "failed" => Some(DeliveryState::Failed),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: i64,
    pub subscription: i64,
    pub org: i64,
    pub event: i64,
    pub topic: String,
    /// The JSON body, fixed when the event was fanned out (a redelivery sends the same).
    pub payload: String,
    pub state: DeliveryState,
    pub attempts: i64,
    pub window_from: UnixMillis,
    pub next_at: Option<UnixMillis>,
    pub last_at: Option<UnixMillis>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: UnixMillis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub at: UnixMillis,
    pub status: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// What became of one attempt, and what comes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptOutcome {
    pub attempt: Attempt,
    pub state: DeliveryState,
    pub next_at: Option<UnixMillis>,
}

/// One fan-out: the deliveries of one event (one per subscription that wants it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    pub subscription: i64,
    pub payload: String,
}

#[async_trait]
pub trait WebhookStore: Send + Sync {
    #[allow(clippy::too_many_arguments)]
    async fn create_subscription(
        &self,
        org: i64,
        url: &str,
        secret: &str,
        topics: &[String],
        by: AccountId,
        now: UnixMillis,
    ) -> Result<Subscription>;
    /// Active subscriptions of an organisation, oldest first.
    async fn subscriptions(&self, org: i64) -> Result<Vec<Subscription>>;
    async fn subscription(&self, id: i64) -> Result<Option<Subscription>>;
    /// Stops a subscription; its pending deliveries fail when next due. False if unknown.
    async fn deactivate_subscription(&self, org: i64, id: i64) -> Result<bool>;
    /// The oldest events waiting to be fanned out.
    async fn outbox(&self, limit: i64) -> Result<Vec<OutboxEvent>>;
    /// Records the deliveries of `event` and removes it from the outbox, in one transaction.
    async fn fan_out(
        &self,
        event: &OutboxEvent,
        deliveries: &[NewDelivery],
        now: UnixMillis,
    ) -> Result<()>;
    /// Claims up to `limit` due deliveries: their `next_at` moves to `lease_until`, so another
    /// worker (or node) does not send them too; a crash mid-send retries after the lease.
    async fn claim_due(
        &self,
        now: UnixMillis,
        lease_until: UnixMillis,
        limit: i64,
    ) -> Result<Vec<Delivery>>;
    async fn record_attempt(&self, delivery: i64, outcome: &AttemptOutcome) -> Result<()>;
    /// An organisation's deliveries, newest first, optionally of one state, before `before`.
    async fn deliveries(
        &self,
        org: i64,
        state: Option<DeliveryState>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Delivery>>;
    async fn delivery(&self, org: i64, id: i64) -> Result<Option<Delivery>>;
    async fn attempts(&self, delivery: i64) -> Result<Vec<Attempt>>;
    /// Sends a delivery again from now, with a fresh retry window. False if unknown.
    async fn redeliver(&self, org: i64, id: i64, now: UnixMillis) -> Result<bool>;
}

const SUB_COLS: &str = "id, org_id, url, secret, topics, active, created_at";
const DELIVERY_COLS: &str = "id, subscription_id, org_id, event_id, topic, payload, state, attempts, window_from, next_at, last_at, last_status, last_error, created_at";

fn subscription_from(r: &AnyRow) -> Result<Subscription> {
    let topics: String = r.try_get(4)?;
    Ok(Subscription {
        id: r.try_get(0)?,
        org: r.try_get(1)?,
        url: r.try_get(2)?,
        secret: r.try_get(3)?,
        topics: topics.split_whitespace().map(str::to_string).collect(),
        active: r.try_get::<i64, _>(5)? != 0,
        created_at: UnixMillis(r.try_get(6)?),
    })
}

fn delivery_from(r: &AnyRow) -> Result<Delivery> {
    let state: String = r.try_get(6)?;
    Ok(Delivery {
        id: r.try_get(0)?,
        subscription: r.try_get(1)?,
        org: r.try_get(2)?,
        event: r.try_get(3)?,
        topic: r.try_get(4)?,
        payload: r.try_get(5)?,
        state: DeliveryState::parse(&state)
            .ok_or_else(|| corrupt("webhook delivery state", format!("{state:?}")))?,
        attempts: r.try_get(7)?,
        window_from: UnixMillis(r.try_get(8)?),
        next_at: r.try_get::<Option<i64>, _>(9)?.map(UnixMillis),
        last_at: r.try_get::<Option<i64>, _>(10)?.map(UnixMillis),
        last_status: r.try_get(11)?,
        last_error: r.try_get(12)?,
        created_at: UnixMillis(r.try_get(13)?),
    })
}

#[async_trait]
impl WebhookStore for SqlStore {
    async fn create_subscription(
        &self,
        org: i64,
        url: &str,
        secret: &str,
        topics: &[String],
        by: AccountId,
        now: UnixMillis,
    ) -> Result<Subscription> {
        let joined = topics.join(" ");
        let r = sqlx::query(&format!(
            "INSERT INTO webhook_subscriptions (org_id, url, secret, topics, active, created_by, created_at) \
             VALUES ($1, $2, $3, $4, 1, $5, $6) RETURNING {SUB_COLS}"
        ))
        .bind(org)
        .bind(url)
        .bind(secret)
        .bind(&joined)
        .bind(by.0)
        .bind(now.0)
        .fetch_one(self.pool())
        .await
        .map_err(|e| classify(e, "webhook subscription", "organisation"))?;
        subscription_from(&r)
    }

    async fn subscriptions(&self, org: i64) -> Result<Vec<Subscription>> {
        let rows = sqlx::query(&format!(
            "SELECT {SUB_COLS} FROM webhook_subscriptions WHERE org_id = $1 AND active = 1 ORDER BY id"
        ))
        .bind(org)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(subscription_from).collect()
    }

    async fn subscription(&self, id: i64) -> Result<Option<Subscription>> {
        let r = sqlx::query(&format!(
            "SELECT {SUB_COLS} FROM webhook_subscriptions WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(subscription_from).transpose()
    }

    async fn deactivate_subscription(&self, org: i64, id: i64) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE webhook_subscriptions SET active = 0 WHERE id = $1 AND org_id = $2 AND active = 1",
        )
        .bind(id)
        .bind(org)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn outbox(&self, limit: i64) -> Result<Vec<OutboxEvent>> {
        let rows = sqlx::query(
            "SELECT id, org_id, topic, subject_id, from_state, at FROM webhook_outbox ORDER BY id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(OutboxEvent {
                    id: r.try_get(0)?,
                    org: r.try_get(1)?,
                    topic: r.try_get(2)?,
                    subject: r.try_get(3)?,
                    from_state: r.try_get(4)?,
                    at: UnixMillis(r.try_get(5)?),
                })
            })
            .collect()
    }

    async fn fan_out(
        &self,
        event: &OutboxEvent,
        deliveries: &[NewDelivery],
        now: UnixMillis,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let gone = sqlx::query("DELETE FROM webhook_outbox WHERE id = $1")
            .bind(event.id)
            .execute(&mut *tx)
            .await?;
        if gone.rows_affected() == 0 {
            // Another worker fanned it out first.
            return Ok(());
        }
        for d in deliveries {
            sqlx::query(
                "INSERT INTO webhook_deliveries (subscription_id, org_id, event_id, topic, payload, state, attempts, window_from, next_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6, $6)",
            )
            .bind(d.subscription)
            .bind(event.org)
            .bind(event.id)
            .bind(&event.topic)
            .bind(&d.payload)
            .bind(now.0)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn claim_due(
        &self,
        now: UnixMillis,
        lease_until: UnixMillis,
        limit: i64,
    ) -> Result<Vec<Delivery>> {
        // The outer `next_at <= $1` is checked again on the row a concurrent claimer left:
        // PostgreSQL re-evaluates it after waiting, so one delivery goes to one claimer.
        let rows = sqlx::query(&format!(
            "UPDATE webhook_deliveries SET next_at = $2 \
             WHERE state = 'pending' AND next_at <= $1 AND id IN \
             (SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_at <= $1 ORDER BY next_at LIMIT $3) \
             RETURNING {DELIVERY_COLS}"
        ))
        .bind(now.0)
        .bind(lease_until.0)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(delivery_from).collect()
    }

    async fn record_attempt(&self, delivery: i64, outcome: &AttemptOutcome) -> Result<()> {
        let a = &outcome.attempt;
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO webhook_attempts (delivery_id, at, status, error, duration_ms) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(delivery)
        .bind(a.at.0)
        .bind(a.status)
        .bind(a.error.as_deref())
        .bind(a.duration_ms)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE webhook_deliveries SET state = $1, attempts = attempts + 1, next_at = $2, last_at = $3, \
             last_status = $4, last_error = $5 WHERE id = $6",
        )
        .bind(outcome.state.as_str())
        .bind(outcome.next_at.map(|t| t.0))
        .bind(a.at.0)
        .bind(a.status)
        .bind(a.error.as_deref())
        .bind(delivery)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn deliveries(
        &self,
        org: i64,
        state: Option<DeliveryState>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Delivery>> {
        let rows = sqlx::query(&format!(
            "SELECT {DELIVERY_COLS} FROM webhook_deliveries WHERE org_id = $1 \
             AND ($2 IS NULL OR state = $2) AND ($3 IS NULL OR id < $3) ORDER BY id DESC LIMIT $4"
        ))
        .bind(org)
        .bind(state.map(DeliveryState::as_str))
        .bind(before)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(delivery_from).collect()
    }

    async fn delivery(&self, org: i64, id: i64) -> Result<Option<Delivery>> {
        let r = sqlx::query(&format!(
            "SELECT {DELIVERY_COLS} FROM webhook_deliveries WHERE id = $1 AND org_id = $2"
        ))
        .bind(id)
        .bind(org)
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(delivery_from).transpose()
    }

    async fn attempts(&self, delivery: i64) -> Result<Vec<Attempt>> {
        let rows = sqlx::query(
            "SELECT at, status, error, duration_ms FROM webhook_attempts WHERE delivery_id = $1 ORDER BY id",
        )
        .bind(delivery)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Attempt {
                    at: UnixMillis(r.try_get(0)?),
                    status: r.try_get(1)?,
                    error: r.try_get(2)?,
                    duration_ms: r.try_get(3)?,
                })
            })
            .collect()
    }

    async fn redeliver(&self, org: i64, id: i64, now: UnixMillis) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE webhook_deliveries SET state = 'pending', next_at = $1, window_from = $1 WHERE id = $2 AND org_id = $3",
        )
        .bind(now.0)
        .bind(id)
        .bind(org)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::both_backends;
    use crate::prelude::*;
    use crate::{AccountStore, ChannelStore, NewAccount, NewChannel, NewShow, ShowStore};
    use hawker_commerce::org::OrgKind;
    use hawker_domain::{
        DisplayName, Email, PasswordHash, Role, ShowState, Slug, StreamKey, UnixMillis,
    };

    both_backends!(
        shows_reach_the_outbox_and_deliveries_are_leased,
        |store| async move {
            let s = store.as_ref();
            let owner = s
                .create_account(NewAccount {
                    email: Email::parse("hooks@farm.example").unwrap(),
                    display_name: DisplayName::parse("Hooks").unwrap(),
                    password: PasswordHash::from_stored(
                        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
                    ),
                    role: Role::Streamer,
                    created_at: UnixMillis(1),
                })
                .await
                .unwrap();
            let ch = s
                .create_channel(NewChannel {
                    slug: Slug::parse("hook-farm").unwrap(),
                    title: "t".into(),
                    owner: owner.id,
                    stream_key: StreamKey::generate(),
                    created_at: UnixMillis(1),
                })
                .await
                .unwrap();
            let org = s
                .create_org("Hook Farm", OrgKind::Individual, owner.id, UnixMillis(1))
                .await
                .unwrap();
            let shop = s
                .create_store(org.id, "Farm", "Hangzhou", UnixMillis(1))
                .await
                .unwrap();
            s.set_channel_shop(ch.id, org.id, shop.id).await.unwrap();
            let new_show = |state| NewShow {
                channel: ch.id,
                title: "Harvest".into(),
                state,
                scheduled_at: None,
                started_at: Some(UnixMillis(10)),
            };
            // No subscription: nothing is written.
            let mut quiet = s.create_show(new_show(ShowState::Live)).await.unwrap();
            quiet.end(UnixMillis(20)).unwrap();
            s.save_show(&quiet, ShowState::Live).await.unwrap();
            assert!(s.outbox(10).await.unwrap().is_empty());

            let sub = s
                .create_subscription(
                    org.id,
                    "https://erp.example/h",
                    "whsec_x",
                    &["show.live".into()],
                    owner.id,
                    UnixMillis(30),
                )
                .await
                .unwrap();
            assert!(sub.wants("show.live") && !sub.wants("show.ended"));
            let mut show = s.create_show(new_show(ShowState::Live)).await.unwrap();
            show.end(UnixMillis(40)).unwrap();
            s.save_show(&show, ShowState::Live).await.unwrap();
            let events = s.outbox(10).await.unwrap();
            let topics: Vec<&str> = events.iter().map(|e| e.topic.as_str()).collect();
            assert_eq!(topics, ["show.live", "show.ended"]);
            assert_eq!(events[1].subject, show.id.0);
            assert_eq!(events[1].at, UnixMillis(40));

            // Fanned out once, even if two workers try.
            let now = UnixMillis(1_000);
            let d = NewDelivery {
                subscription: sub.id,
                payload: "{}".into(),
            };
            s.fan_out(&events[0], std::slice::from_ref(&d), now)
                .await
                .unwrap();
            s.fan_out(&events[0], &[d], now).await.unwrap();
            s.fan_out(&events[1], &[], now).await.unwrap();
            assert!(s.outbox(10).await.unwrap().is_empty());
            // Claimed once until its lease runs out.
            let claimed = s.claim_due(now, UnixMillis(61_000), 10).await.unwrap();
            assert_eq!(claimed.len(), 1);
            assert!(s
                .claim_due(now, UnixMillis(61_000), 10)
                .await
                .unwrap()
                .is_empty());
            let again = s
                .claim_due(UnixMillis(61_000), UnixMillis(121_000), 10)
                .await
                .unwrap();
            assert_eq!(
                again.len(),
                1,
                "a worker that died mid-send is replaced after the lease"
            );
            let id = again[0].id;
            s.record_attempt(
                id,
                &AttemptOutcome {
                    attempt: Attempt {
                        at: UnixMillis(61_500),
                        status: Some(503),
                        error: Some("HTTP 503".into()),
                        duration_ms: 12,
                    },
                    state: DeliveryState::Failed,
                    next_at: None,
                },
            )
            .await
            .unwrap();
            assert!(s
                .claim_due(UnixMillis(999_999), UnixMillis(999_999), 10)
                .await
                .unwrap()
                .is_empty());
            let failed = s
                .deliveries(org.id, Some(DeliveryState::Failed), None, 10)
                .await
                .unwrap();
            assert_eq!(failed.len(), 1);
            assert_eq!(failed[0].attempts, 1);
            assert_eq!(failed[0].last_status, Some(503));
            assert_eq!(s.attempts(id).await.unwrap().len(), 1);
            assert!(
                s.delivery(org.id + 1, id).await.unwrap().is_none(),
                "another organisation's"
            );
            assert!(s.redeliver(org.id, id, UnixMillis(200_000)).await.unwrap());
            assert_eq!(
                s.claim_due(UnixMillis(200_000), UnixMillis(260_000), 10)
                    .await
                    .unwrap()
                    .len(),
                1
            );
            assert!(s.deactivate_subscription(org.id, sub.id).await.unwrap());
            assert!(s.subscriptions(org.id).await.unwrap().is_empty());
        }
    );
}
