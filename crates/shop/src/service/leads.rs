//! 1:1 video consults: a viewer asks to talk to the seller about a consultable product (after
//! a consent notice); the seller's staff see the request, one of them accepts; both meet in a
//! WebRTC call (`hawker-rtc`), never recorded unless both agreed; whoever hangs up ends it and
//! the staff member's note of what came of it stays on the viewer's lead. Requests nobody
//! answers within `ANSWER_WITHIN_MS` become missed leads.

use super::{invalid, Shop, ShopError};
use hawker_commerce::lead::{self, LeadAction, LeadActor, LeadState};
use hawker_domain::{Account, ChannelId, UnixMillis};
use hawker_storage::shop::{OrgId, ProductId};
use hawker_storage::{Lead, LeadStep, NewLead};

/// An outcome note's size.
const MAX_OUTCOME_CHARS: usize = 2000;

impl Shop {
    /// Opens (or closes) a product to video consults: the seller's staff who handle orders.
    pub async fn set_consultable(
        &self,
        who: &Account,
        product: ProductId,
        consultable: bool,
    ) -> Result<(), ShopError> {
        let p = self
            .store
            .product(product)
            .await?
            .ok_or(ShopError::NotFound("product"))?;
        self.require_consult_staff(who, p.org).await?;
        self.store.set_consultable(product, consultable).await?;
        Ok(())
    }

    pub async fn consultable(&self, product: ProductId) -> Result<bool, ShopError> {
        Ok(self.store.consultable(product).await?)
    }

    /// The viewer asks to talk to the seller; `consents_recording` says whether they would
    /// allow a recording (the call is recorded only if the staff member agrees too).
    pub async fn request_consult(
        &self,
        who: &Account,
        product: ProductId,
        channel: Option<ChannelId>,
        consents_recording: bool,
        now: UnixMillis,
    ) -> Result<Lead, ShopError> {
        let p = self
            .store
            .product(product)
            .await?
            .ok_or(ShopError::NotFound("product"))?;
        if !self.store.consultable(product).await? {
            return Err(ShopError::State {
                code: "not_consultable",
                detail: "the seller does not take video consults for this product".into(),
            });
        }
        if self.role_in(who, p.org).await?.is_some()
            && who.role != hawker_domain::Role::PlatformAdmin
        {
            return Err(ShopError::Forbidden(
                "the seller's staff cannot consult their own shop",
            ));
        }
        // One open request per viewer and product: asking again returns it.
        if let Some(open) = self
            .store
            .leads_of_buyer(who.id, 20)
            .await?
            .into_iter()
            .find(|l| {
                l.product == product
                    && matches!(l.state, LeadState::Requested | LeadState::Accepted)
            })
        {
            return Ok(open);
        }
        let lead = self
            .store
            .create_lead(&NewLead {
                org: p.org,
                product,
                buyer: who.id,
                channel,
                buyer_consents_recording: consents_recording,
                call_key: format!("{:032x}", rand::random::<u128>()),
                now,
            })
            .await?;
        tracing::info!(lead = lead.id, org = lead.org, product, "consult requested");
        Ok(lead)
    }

    /// A lead as the buyer or the seller's staff may see it.
    pub async fn lead(&self, who: &Account, id: i64) -> Result<Lead, ShopError> {
        let l = self
            .store
            .lead(id)
            .await?
            .ok_or(ShopError::NotFound("lead"))?;
        if l.buyer == who.id || self.role_in(who, l.org).await?.is_some() {
            Ok(l)
        } else {
            Err(ShopError::NotFound("lead"))
        }
    }

    /// An organisation's leads for its staff, newest first.
    pub async fn leads_of_org(
        &self,
        who: &Account,
        org: OrgId,
        state: Option<LeadState>,
    ) -> Result<Vec<Lead>, ShopError> {
        self.require_consult_staff(who, org).await?;
        Ok(self.store.leads_of_org(org, state, 200).await?)
    }

    pub async fn my_leads(&self, who: &Account) -> Result<Vec<Lead>, ShopError> {
        Ok(self.store.leads_of_buyer(who.id, 100).await?)
    }

    /// A staff member takes the request; the first to accept has it.
    pub async fn accept_consult(
        &self,
        who: &Account,
        id: i64,
        consents_recording: bool,
        now: UnixMillis,
    ) -> Result<Lead, ShopError> {
        let l = self.lead(who, id).await?;
        self.require_consult_staff(who, l.org).await?;
        self.step_lead(
            l,
            LeadAction::Accept,
            LeadActor::Staff,
            Some(who),
            Some(consents_recording),
            None,
            now,
        )
        .await
    }

    pub async fn decline_consult(
        &self,
        who: &Account,
        id: i64,
        now: UnixMillis,
    ) -> Result<Lead, ShopError> {
        let l = self.lead(who, id).await?;
        self.require_consult_staff(who, l.org).await?;
        self.step_lead(
            l,
            LeadAction::Decline,
            LeadActor::Staff,
            Some(who),
            None,
            None,
            now,
        )
        .await
    }

    /// The buyer withdraws a request not yet answered, or either party hangs up; staff note
    /// the outcome (the buyer's hang-up keeps any note staff add later through `note_outcome`).
    pub async fn end_consult(
        &self,
        who: &Account,
        id: i64,
        outcome: Option<&str>,
        now: UnixMillis,
    ) -> Result<Lead, ShopError> {
        let l = self.lead(who, id).await?;
        let actor = if l.buyer == who.id {
            LeadActor::Buyer
        } else {
            LeadActor::Staff
        };
        if actor == LeadActor::Staff {
            self.require_consult_staff(who, l.org).await?;
        }
        let outcome = match (actor, outcome.map(str::trim).filter(|o| !o.is_empty())) {
            (LeadActor::Staff, Some(o)) if o.chars().count() > MAX_OUTCOME_CHARS => {
                return Err(invalid("outcome", "at most 2000 characters"))
            }
            (LeadActor::Staff, o) => o.map(str::to_string),
            (_, Some(_)) => {
                return Err(ShopError::Forbidden("the seller's staff note the outcome"))
            }
            (_, None) => None,
        };
        let action = if l.state == LeadState::Requested {
            LeadAction::Cancel
        } else {
            LeadAction::End
        };
        let l = self
            .step_lead(l, action, actor, None, None, outcome, now)
            .await?;
        // The call ends with the consult, whoever ends it and through whatever door.
        self.events.call_over(&l.call()).await;
        Ok(l)
    }

    /// Staff note (or change) what came of an ended consult.
    pub async fn note_outcome(
        &self,
        who: &Account,
        id: i64,
        outcome: &str,
        now: UnixMillis,
    ) -> Result<Lead, ShopError> {
        let l = self.lead(who, id).await?;
        self.require_consult_staff(who, l.org).await?;
        let o = outcome.trim();
        if o.is_empty() || o.chars().count() > MAX_OUTCOME_CHARS {
            return Err(invalid(
                "outcome",
                "say what came of it in 1 to 2000 characters",
            ));
        }
        if l.state != LeadState::Ended {
            return Err(ShopError::State {
                code: "lead_not_ended",
                detail: "the outcome is noted once the call has ended".into(),
            });
        }
        self.store
            .step_lead(
                l.id,
                &LeadStep {
                    from: LeadState::Ended,
                    to: LeadState::Ended,
                    staff: None,
                    staff_consents_recording: None,
                    outcome: Some(o.to_string()),
                    now,
                },
            )
            .await?
            .ok_or(ShopError::Conflict)
    }

    /// May `who` join `call` (`consult-{lead}-{key}`): its buyer or the staff member who
    /// accepted, while the consult is accepted.
    pub async fn may_join_consult(&self, who: &Account, call: &str) -> Result<Lead, ShopError> {
        let id = call
            .strip_prefix("consult-")
            .and_then(|r| r.split('-').next())
            .and_then(|i| i.parse::<i64>().ok())
            .ok_or(ShopError::NotFound("call"))?;
        let l = self
            .store
            .lead(id)
            .await?
            .ok_or(ShopError::NotFound("call"))?;
        if l.call() != call || !(l.buyer == who.id || l.staff == Some(who.id)) {
            return Err(ShopError::NotFound("call"));
        }
        if !l.state.in_call() {
            return Err(ShopError::State {
                code: "consult_not_accepted",
                detail: format!("the consult is {}", l.state.as_str()),
            });
        }
        Ok(l)
    }

    /// Requests nobody answered in time become missed leads (the seller can still call back).
    pub async fn expire_consults(&self, now: UnixMillis) -> Result<usize, ShopError> {
        let stale = self
            .store
            .unanswered_leads(UnixMillis(now.0 - lead::ANSWER_WITHIN_MS))
            .await?;
        let mut n = 0;
        for l in stale {
            if self
                .step_lead(
                    l,
                    LeadAction::Expire,
                    LeadActor::Timer,
                    None,
                    None,
                    None,
                    now,
                )
                .await
                .is_ok()
            {
                n += 1;
            }
        }
        Ok(n)
    }

    async fn require_consult_staff(&self, who: &Account, org: OrgId) -> Result<(), ShopError> {
        match self.role_in(who, org).await? {
            Some(r) if r.fulfils() => Ok(()),
            Some(_) => Err(ShopError::Forbidden(
                "your role in this shop does not include customers",
            )),
            None => Err(ShopError::NotFound("organisation")),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn step_lead(
        &self,
        l: Lead,
        action: LeadAction,
        actor: LeadActor,
        staff: Option<&Account>,
        staff_consents_recording: Option<bool>,
        outcome: Option<String>,
        now: UnixMillis,
    ) -> Result<Lead, ShopError> {
        let to = lead::next(l.state, action, actor).map_err(|e| ShopError::State {
            code: "lead_state",
            detail: e.to_string(),
        })?;
        let moved = self
            .store
            .step_lead(
                l.id,
                &LeadStep {
                    from: l.state,
                    to,
                    staff: staff.map(|s| s.id),
                    staff_consents_recording,
                    outcome,
                    now,
                },
            )
            .await?;
        let lead = moved.ok_or(ShopError::Taken(
            "another staff member answered this consult first",
        ))?;
        tracing::info!(lead = lead.id, state = lead.state.as_str(), "consult moved");
        Ok(lead)
    }
}
