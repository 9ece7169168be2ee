//! Leads: a viewer's request to talk to the seller about a product (a 1:1 video consult), who
//! answered it, and what came of the call. One record, which the leads inbox of the selling
//! formats builds on. Each change of state is a compare-and-set on the state it came from.

use crate::shop::{OrgId, ProductId};
use crate::sql::corrupt;
use crate::{Result, SqlStore};
use async_trait::async_trait;
use hawker_commerce::lead::LeadState;
use hawker_domain::{AccountId, ChannelId, UnixMillis};
use sqlx::any::AnyRow;
use sqlx::Row;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lead {
    pub id: i64,
    pub org: OrgId,
    pub product: ProductId,
    pub buyer: AccountId,
    pub channel: Option<ChannelId>,
    pub state: LeadState,
    pub staff: Option<AccountId>,
    pub outcome: Option<String>,
    pub buyer_consents_recording: bool,
    pub staff_consents_recording: bool,
    /// The secret part of the call's id.
    pub call_key: String,
    pub created_at: UnixMillis,
    pub answered_at: Option<UnixMillis>,
    pub ended_at: Option<UnixMillis>,
    pub updated_at: UnixMillis,
}

impl Lead {
    /// The call buyer and staff meet in.
    pub fn call(&self) -> String {
        format!("consult-{}-{}", self.id, self.call_key)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLead {
    pub org: OrgId,
    pub product: ProductId,
    pub buyer: AccountId,
    pub channel: Option<ChannelId>,
    pub buyer_consents_recording: bool,
    pub call_key: String,
    pub now: UnixMillis,
}

/// One step of a lead, taken only if it is still in `from`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadStep {
    pub from: LeadState,
    pub to: LeadState,
    /// Set when staff answer.
    pub staff: Option<AccountId>,
    pub staff_consents_recording: Option<bool>,
    pub outcome: Option<String>,
    pub now: UnixMillis,
}

#[async_trait]
pub trait LeadStore: Send + Sync {
    async fn create_lead(&self, new: &NewLead) -> Result<Lead>;
    async fn lead(&self, id: i64) -> Result<Option<Lead>>;
    /// An organisation's leads, newest first; `state` filters.
    async fn leads_of_org(
        &self,
        org: OrgId,
        state: Option<LeadState>,
        limit: i64,
    ) -> Result<Vec<Lead>>;
    async fn leads_of_buyer(&self, buyer: AccountId, limit: i64) -> Result<Vec<Lead>>;
    /// Applies `step` if the lead is still in `step.from`; the lead after, or None when it had
    /// moved on (someone else answered first).
    async fn step_lead(&self, id: i64, step: &LeadStep) -> Result<Option<Lead>>;
    /// Requests nobody answered since `before`.
    async fn unanswered_leads(&self, before: UnixMillis) -> Result<Vec<Lead>>;
    /// Marks a product as open (or not) to video consults.
    async fn set_consultable(&self, product: ProductId, consultable: bool) -> Result<bool>;
    async fn consultable(&self, product: ProductId) -> Result<bool>;
}

const COLS: &str = "id, org_id, product_id, buyer_id, channel_id, state, staff_id, outcome, \
    buyer_consents_recording, staff_consents_recording, call_key, created_at, answered_at, ended_at, updated_at";

fn lead_from(r: &AnyRow) -> Result<Lead> {
    let state: String = r.try_get(5)?;
    Ok(Lead {
        id: r.try_get(0)?,
        org: r.try_get(1)?,
        product: r.try_get(2)?,
        buyer: AccountId(r.try_get(3)?),
        channel: r.try_get::<Option<i64>, _>(4)?.map(ChannelId),
        state: LeadState::parse(&state)
            .ok_or_else(|| corrupt("lead state", format!("{state:?}")))?,
        staff: r.try_get::<Option<i64>, _>(6)?.map(AccountId),
        outcome: r.try_get(7)?,
        buyer_consents_recording: r.try_get::<i64, _>(8)? != 0,
        staff_consents_recording: r.try_get::<i64, _>(9)? != 0,
        call_key: r.try_get(10)?,
        created_at: UnixMillis(r.try_get(11)?),
        answered_at: r.try_get::<Option<i64>, _>(12)?.map(UnixMillis),
        ended_at: r.try_get::<Option<i64>, _>(13)?.map(UnixMillis),
        updated_at: UnixMillis(r.try_get(14)?),
    })
}

#[async_trait]
impl LeadStore for SqlStore {
    async fn create_lead(&self, n: &NewLead) -> Result<Lead> {
        let r = sqlx::query(
            "INSERT INTO leads (org_id, product_id, buyer_id, channel_id, state, buyer_consents_recording, call_key, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'requested', $5, $6, $7, $7) RETURNING id",
        )
        .bind(n.org)
        .bind(n.product)
        .bind(n.buyer.0)
        .bind(n.channel.map(|c| c.0))
        .bind(n.buyer_consents_recording as i64)
        .bind(n.call_key.as_str())
        .bind(n.now.0)
        .fetch_one(self.pool())
        .await?;
        let id: i64 = r.try_get(0)?;
        self.lead(id)
            .await?
            .ok_or_else(|| corrupt("lead", format!("{id} vanished after insert")))
    }

    async fn lead(&self, id: i64) -> Result<Option<Lead>> {
        let r = sqlx::query(&format!("SELECT {COLS} FROM leads WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        r.as_ref().map(lead_from).transpose()
    }

    async fn leads_of_org(
        &self,
        org: OrgId,
        state: Option<LeadState>,
        limit: i64,
    ) -> Result<Vec<Lead>> {
        let rows = match state {
            Some(s) => sqlx::query(&format!(
                "SELECT {COLS} FROM leads WHERE org_id = $1 AND state = $2 ORDER BY id DESC LIMIT $3"
            ))
            .bind(org)
            .bind(s.as_str())
            .bind(limit)
            .fetch_all(self.pool())
            .await?,
            None => sqlx::query(&format!(
                "SELECT {COLS} FROM leads WHERE org_id = $1 ORDER BY id DESC LIMIT $2"
            ))
            .bind(org)
            .bind(limit)
            .fetch_all(self.pool())
            .await?,
        };
        rows.iter().map(lead_from).collect()
    }

    async fn leads_of_buyer(&self, buyer: AccountId, limit: i64) -> Result<Vec<Lead>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLS} FROM leads WHERE buyer_id = $1 ORDER BY id DESC LIMIT $2"
        ))
        .bind(buyer.0)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(lead_from).collect()
    }

    async fn step_lead(&self, id: i64, s: &LeadStep) -> Result<Option<Lead>> {
        let answered = s.from == LeadState::Requested;
        let ended = !matches!(s.to, LeadState::Requested | LeadState::Accepted);
        let done = sqlx::query(
            "UPDATE leads SET state = $1, staff_id = COALESCE($2, staff_id), \
             staff_consents_recording = COALESCE($3, staff_consents_recording), \
             outcome = COALESCE($4, outcome), \
             answered_at = CASE WHEN $5 = 1 THEN $7 ELSE answered_at END, \
             ended_at = CASE WHEN $6 = 1 THEN $7 ELSE ended_at END, updated_at = $7 \
             WHERE id = $8 AND state = $9",
        )
        .bind(s.to.as_str())
        .bind(s.staff.map(|a| a.0))
        .bind(s.staff_consents_recording.map(|b| b as i64))
        .bind(s.outcome.as_deref())
        .bind(answered as i64)
        .bind(ended as i64)
        .bind(s.now.0)
        .bind(id)
        .bind(s.from.as_str())
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        self.lead(id).await
    }

    async fn unanswered_leads(&self, before: UnixMillis) -> Result<Vec<Lead>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLS} FROM leads WHERE state = 'requested' AND created_at < $1 ORDER BY id LIMIT 500"
        ))
        .bind(before.0)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(lead_from).collect()
    }

    async fn set_consultable(&self, product: ProductId, consultable: bool) -> Result<bool> {
        let r = sqlx::query("UPDATE products SET consultable = $1 WHERE id = $2")
            .bind(consultable as i64)
            .bind(product)
            .execute(self.pool())
            .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn consultable(&self, product: ProductId) -> Result<bool> {
        let r = sqlx::query("SELECT consultable FROM products WHERE id = $1")
            .bind(product)
            .fetch_optional(self.pool())
            .await?;
        Ok(match r {
            Some(r) => r.try_get::<i64, _>(0)? != 0,
            None => false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::both_backends;
    use crate::prelude::*;
    use crate::shop::NewProduct;
    use crate::NewAccount;
    use hawker_commerce::catalog::{Category, ReturnClass};
    use hawker_commerce::org::OrgKind;
    use hawker_domain::{Currency, DisplayName, Email, PasswordHash, Role};

    both_backends!(leads_move_once_and_reach_the_outbox, |store| async move {
        let s = store.as_ref();
        let account = |email: &str| NewAccount {
            email: Email::parse(email).unwrap(),
            display_name: DisplayName::parse("Person").unwrap(),
            password: PasswordHash::from_stored(
                "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            ),
            role: Role::Streamer,
            created_at: UnixMillis(1),
        };
        let dealer = s
            .create_account(account("dealer@cars.example"))
            .await
            .unwrap();
        let buyer = s
            .create_account(account("buyer@cars.example"))
            .await
            .unwrap();
        let org = s
            .create_org("Cars", OrgKind::Business, dealer.id, UnixMillis(1))
            .await
            .unwrap();
        let car = s
            .create_product(
                &NewProduct {
                    org: org.id,
                    title: "Estate car".into(),
                    description: String::new(),
                    category: Category::Vehicles,
                    return_class: ReturnClass::Normal,
                    currency: Currency::CNY,
                    sponsored: false,
                },
                UnixMillis(1),
            )
            .await
            .unwrap();
        assert!(!s.consultable(car.id).await.unwrap());
        assert!(s.set_consultable(car.id, true).await.unwrap());
        assert!(s.consultable(car.id).await.unwrap());
        s.create_subscription(
            org.id,
            "https://crm.example/h",
            "whsec_x",
            &["*".into()],
            dealer.id,
            UnixMillis(2),
        )
        .await
        .unwrap();

        let lead = s
            .create_lead(&NewLead {
                org: org.id,
                product: car.id,
                buyer: buyer.id,
                channel: None,
                buyer_consents_recording: false,
                call_key: "k".into(),
                now: UnixMillis(10),
            })
            .await
            .unwrap();
        assert_eq!(lead.state, LeadState::Requested);
        assert_eq!(lead.call(), format!("consult-{}-k", lead.id));
        let accept = LeadStep {
            from: LeadState::Requested,
            to: LeadState::Accepted,
            staff: Some(dealer.id),
            staff_consents_recording: Some(true),
            outcome: None,
            now: UnixMillis(20),
        };
        let accepted = s.step_lead(lead.id, &accept).await.unwrap().unwrap();
        assert_eq!(accepted.staff, Some(dealer.id));
        assert_eq!(accepted.answered_at, Some(UnixMillis(20)));
        // A second staff member's accept finds it moved on.
        assert!(s.step_lead(lead.id, &accept).await.unwrap().is_none());
        let ended = s
            .step_lead(
                lead.id,
                &LeadStep {
                    from: LeadState::Accepted,
                    to: LeadState::Ended,
                    staff: None,
                    staff_consents_recording: None,
                    outcome: Some("Test drive on Saturday".into()),
                    now: UnixMillis(30),
                },
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(ended.outcome.as_deref(), Some("Test drive on Saturday"));
        assert_eq!(ended.ended_at, Some(UnixMillis(30)));
        assert_eq!(
            s.leads_of_org(org.id, Some(LeadState::Ended), 10)
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(s.leads_of_buyer(buyer.id, 10).await.unwrap()[0].id, lead.id);
        assert!(s
            .unanswered_leads(UnixMillis(1_000))
            .await
            .unwrap()
            .is_empty());
        // Every step reached the webhook outbox, in the transaction of the change.
        let topics: Vec<String> = s
            .outbox(10)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.topic)
            .collect();
        assert_eq!(topics, ["lead.requested", "lead.accepted", "lead.ended"]);

        // Retention: an open request stays however old; an ended lead goes once old enough.
        let open = s
            .create_lead(&NewLead {
                org: org.id,
                product: car.id,
                buyer: buyer.id,
                channel: None,
                buyer_consents_recording: false,
                call_key: "k2".into(),
                now: UnixMillis(5),
            })
            .await
            .unwrap();
        assert_eq!(s.prune_room_logs(UnixMillis(30)).await.unwrap().leads, 0);
        assert_eq!(s.prune_room_logs(UnixMillis(31)).await.unwrap().leads, 1);
        assert_eq!(s.lead(lead.id).await.unwrap(), None);
        assert!(s.lead(open.id).await.unwrap().is_some());
    });
}
