//! Complaints and guardian claims: filed by people, decided by ops. A decision is the trust
//! rules' (`Guard`: the sanctions ladder, minor mode) and the money's (the shop's refunds, the
//! books taking back a minor's gifts), so it lives here, where both are at hand: the `Guard`
//! stays below the shop and knows nothing of orders or the ledger.

use super::{invalid, Shop, ShopError};
use hawker_commerce::org::OrgRole;
use hawker_domain::{Account, AccountId, Email, Role, ShowId, UnixMillis};
use hawker_storage::trust::{Complaint, GuardianClaim, NewComplaint};
use hawker_trust::complaints::{
    deadline, ComplaintReason, ComplaintState, ComplaintTarget, GuardianClaimState,
};
use hawker_trust::sanctions::SanctionLevel;

/// A complaint as filed: against a show, a product or a seller, perhaps about an order.
#[derive(Debug, Clone)]
pub struct ComplaintFiling {
    /// `show`, `product` or `seller`.
    pub target: String,
    pub target_id: i64,
    pub reason: String,
    pub details: String,
    /// One of the reporter's own orders.
    pub order: Option<i64>,
}

/// Ops' decision on a complaint.
#[derive(Debug, Clone)]
pub struct ComplaintVerdict {
    pub uphold: bool,
    pub outcome: String,
    /// For an upheld complaint: the rung to apply to the subject (default: one above their
    /// current standing, starting with a warning).
    pub sanction: Option<String>,
    /// For an upheld complaint with an order: refund it to the buyer.
    pub refund: bool,
}

/// What a complaint's decision did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolution {
    pub sanction: Option<SanctionLevel>,
    pub refunded: bool,
}

/// Ops' decision on a guardian claim.
#[derive(Debug, Clone)]
pub struct GuardianDecision {
    pub approve: bool,
    pub reason: Option<String>,
}

fn ops_only(who: &Account) -> Result<(), ShopError> {
    if who.role == Role::PlatformAdmin {
        Ok(())
    } else {
        Err(ShopError::Forbidden(
            "only ops decide complaints and claims",
        ))
    }
}

impl Shop {
    /// Files a complaint; ops decide it by a deadline (urgent reasons sooner). Whom an upheld
    /// complaint sanctions is fixed now: the host of the show, the seller's owner.
    pub async fn file_complaint(
        &self,
        reporter: &Account,
        f: ComplaintFiling,
    ) -> Result<Complaint, ShopError> {
        let target = ComplaintTarget::parse(&f.target)
            .ok_or_else(|| invalid("target", "show, product or seller"))?;
        let reason = ComplaintReason::parse(&f.reason).ok_or_else(|| {
            invalid("reason", "misleading_claim, counterfeit, inferior_quality, not_delivered, minor_spending or other")
        })?;
        if f.details.chars().count() > 2_000 {
            return Err(invalid("details", "at most 2,000 characters"));
        }
        let store = &self.store;
        let subject = match target {
            ComplaintTarget::Show => {
                let s = store
                    .show(ShowId(f.target_id))
                    .await
                    .map_err(ShopError::Storage)?
                    .ok_or(ShopError::NotFound("show"))?;
                store
                    .channel(s.channel)
                    .await
                    .map_err(ShopError::Storage)?
                    .map(|c| c.owner)
            }
            ComplaintTarget::Product => {
                let p = store
                    .product(f.target_id)
                    .await
                    .map_err(ShopError::Storage)?
                    .ok_or(ShopError::NotFound("product"))?;
                self.org_owner(p.org).await?
            }
            ComplaintTarget::Seller => {
                store
                    .org(f.target_id)
                    .await
                    .map_err(ShopError::Storage)?
                    .ok_or(ShopError::NotFound("organisation"))?;
                self.org_owner(f.target_id).await?
            }
        };
        if let Some(o) = f.order {
            let order = store.order(o).await.map_err(ShopError::Storage)?;
            if order.is_none_or(|o| o.buyer != reporter.id) {
                return Err(ShopError::NotFound("order"));
            }
        }
        let now = UnixMillis::now();
        let p = self.guard.policy();
        let due = deadline(
            reason,
            now.0,
            p.complaint_deadline_hours,
            p.urgent_complaint_deadline_hours,
        );
        store
            .file_complaint(&NewComplaint {
                reporter: reporter.id,
                target,
                target_id: f.target_id,
                subject,
                order: f.order,
                reason,
                details: f.details.trim(),
                deadline: UnixMillis(due),
                at: now,
            })
            .await
            .map_err(ShopError::Storage)
    }

    async fn org_owner(&self, org: i64) -> Result<Option<AccountId>, ShopError> {
        Ok(self
            .store
            .members(org)
            .await
            .map_err(ShopError::Storage)?
            .into_iter()
            .find(|m| m.role == OrgRole::Owner)
            .map(|m| m.account))
    }

    /// Ops resolve a complaint: audited; an upheld one moves its subject up the sanctions
    /// ladder and, when asked, refunds its order.
    pub async fn resolve_complaint(
        &self,
        ops: &Account,
        id: i64,
        v: ComplaintVerdict,
    ) -> Result<Resolution, ShopError> {
        ops_only(ops)?;
        let g = &self.guard;
        let outcome = v.outcome.trim();
        if outcome.is_empty() || outcome.chars().count() > 2_000 {
            return Err(invalid("outcome", "1 to 2,000 characters"));
        }
        let c = self
            .store
            .complaint(id)
            .await
            .map_err(ShopError::Storage)?
            .ok_or(ShopError::NotFound("complaint"))?;
        let now = UnixMillis::now();
        if !self
            .store
            .resolve_complaint(id, ComplaintState::decided(v.uphold), outcome, ops.id, now)
            .await
            .map_err(ShopError::Storage)?
        {
            return Err(ShopError::State {
                code: "already_decided",
                detail: "the complaint was already resolved".into(),
            });
        }
        self.store
            .audit(
                Some(ops.id),
                if v.uphold {
                    "complaint_upheld"
                } else {
                    "complaint_dismissed"
                },
                &format!("complaint:{id}"),
                outcome,
                now,
            )
            .await
            .map_err(ShopError::Storage)?;
        let mut done = Resolution {
            sanction: None,
            refunded: false,
        };
        if v.uphold {
            if let Some(subject) = c.subject_account {
                let level = match v.sanction.as_deref() {
                    Some(s) => SanctionLevel::parse(s)
                        .ok_or_else(|| invalid("sanction", "a ladder rung"))?,
                    None => g
                        .standing(subject, now)
                        .await?
                        .level
                        .map_or(SanctionLevel::Warning, SanctionLevel::next),
                };
                g.sanction(
                    subject,
                    level,
                    &format!("complaint {id}: {outcome}"),
                    None,
                    Some(ops.id),
                    now,
                )
                .await?;
                done.sanction = Some(level);
            }
            if v.refund {
                if let Some(order) = c.order {
                    self.refund_by_platform(order, ops, outcome).await?;
                    done.refunded = true;
                }
            }
        }
        Ok(done)
    }

    /// A parent says a minor spent their money, with evidence.
    pub async fn file_guardian_claim(
        &self,
        claimant: &Account,
        minor_email: &str,
        evidence: &str,
    ) -> Result<GuardianClaim, ShopError> {
        let ev = evidence.trim();
        if ev.len() < 10 || ev.chars().count() > 4_000 {
            return Err(invalid("evidence", "10 to 4,000 characters"));
        }
        let minor = match Email::parse(minor_email) {
            Ok(e) => self
                .store
                .account_by_email(&e)
                .await
                .map_err(ShopError::Storage)?,
            Err(_) => None,
        }
        .ok_or(ShopError::NotFound("account"))?;
        self.store
            .file_guardian_claim(claimant.id, minor.id, ev, UnixMillis::now())
            .await
            .map_err(ShopError::Storage)
    }

    /// Ops decide a guardian claim: approving takes back the minor's gifts — pending ones
    /// reversed, settled ones clawed back from the host — and puts the account in minor mode.
    /// Answers the coins returned.
    pub async fn decide_guardian_claim(
        &self,
        ops: &Account,
        id: i64,
        d: GuardianDecision,
    ) -> Result<i64, ShopError> {
        ops_only(ops)?;
        let c = self
            .store
            .guardian_claim(id)
            .await
            .map_err(ShopError::Storage)?
            .ok_or(ShopError::NotFound("claim"))?;
        if c.state != GuardianClaimState::Open {
            return Err(ShopError::State {
                code: "already_decided",
                detail: "the claim was already decided".into(),
            });
        }
        if !d.approve && d.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
            return Err(invalid("reason", "a rejection needs a reason"));
        }
        let now = UnixMillis::now();
        let mut coins = 0;
        if d.approve {
            for g in self
                .store
                .gifts_of_payer(c.minor, 10_000)
                .await
                .map_err(ShopError::Storage)?
            {
                if g.state == "pending" || g.state == "settled" {
                    let r = self.books.take_back_gift(g.id, now).await.map_err(|e| {
                        tracing::error!(error = %e, gift = g.id, "guardian claim refund failed");
                        ShopError::Internal("guardian claim refund failed")
                    })?;
                    coins += r.gift.coins;
                }
            }
            self.guard.set_minor_mode(c.minor, true).await?;
        }
        self.store
            .decide_guardian_claim(id, d.approve, d.reason.as_deref(), coins, ops.id, now)
            .await
            .map_err(ShopError::Storage)?;
        self.store
            .audit(
                Some(ops.id),
                if d.approve {
                    "guardian_claim_approved"
                } else {
                    "guardian_claim_rejected"
                },
                &format!("account:{}", c.minor),
                &format!("claim {id}, {coins} coins returned"),
                now,
            )
            .await
            .map_err(ShopError::Storage)?;
        Ok(coins)
    }
}
