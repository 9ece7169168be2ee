//! Trust records: real-name checks and their review, what the checks and the course
//! established per account, KYB data, sanctions, the blacklist, the attributes accounts were
//! seen with, complaints, guardian claims, the risk engine's assessments and held orders, and
//! the audit log of every ops action.

use crate::sql::numbered;
use crate::{classify, Result, SqlStore};
use async_trait::async_trait;
use hawker_domain::{AccountId, ShowId, UnixMillis};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIdentityCheck {
    pub account: AccountId,
    pub legal_name: String,
    pub id_hash: String,
    pub id_last4: String,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    pub phone: Option<String>,
    pub document_file: Option<String>,
    pub document_type: Option<String>,
    pub guardian_name: Option<String>,
    pub guardian_consent: bool,
    pub submitted_at: UnixMillis,
}

/// A check as a reviewer sees it: the ID number only as its last four characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdentityCheck {
    pub id: i64,
    pub account: i64,
    pub legal_name: String,
    #[serde(skip)]
    pub id_hash: String,
    pub id_last4: String,
    pub birth_date: String,
    pub phone: Option<String>,
    #[serde(skip)]
    pub document_file: Option<String>,
    pub document_type: Option<String>,
    pub guardian_name: Option<String>,
    pub guardian_consent: bool,
    /// `submitted`, `approved`, `rejected`.
    pub state: String,
    pub reason: Option<String>,
    pub reviewer: Option<i64>,
    pub submitted_at: i64,
    pub reviewed_at: Option<i64>,
}

/// What is established about an account (all empty for a new one).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TrustProfile {
    pub birth_date: Option<String>,
    #[serde(skip)]
    pub id_hash: Option<String>,
    pub guardian_consent: bool,
    pub verified_at: Option<i64>,
    pub training_passed_at: Option<i64>,
    pub broadcast_check_at: Option<i64>,
    pub minor_mode: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BusinessProfile {
    pub org: i64,
    pub legal_name: String,
    pub registration_number: String,
    pub address: String,
    pub contact: String,
    #[serde(skip)]
    pub payout_account_hash: String,
    pub payout_account_last4: String,
    pub state: String,
    pub reason: Option<String>,
    pub submitted_at: i64,
    pub reviewed_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SanctionRecord {
    pub id: i64,
    pub account: i64,
    pub level: String,
    pub reason: String,
    pub until: Option<i64>,
    pub actor: Option<i64>,
    pub created_at: i64,
    pub lifted_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Complaint {
    pub id: i64,
    pub reporter: i64,
    pub target_kind: String,
    pub target_id: i64,
    pub subject_account: Option<i64>,
    pub order: Option<i64>,
    pub reason: String,
    pub details: String,
    /// `open`, `upheld`, `dismissed`.
    pub state: String,
    pub deadline_at: i64,
    pub outcome: Option<String>,
    pub resolved_by: Option<i64>,
    pub resolved_at: Option<i64>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GuardianClaim {
    pub id: i64,
    pub claimant: i64,
    pub minor: i64,
    pub evidence: String,
    /// `open`, `approved`, `rejected`.
    pub state: String,
    pub reason: Option<String>,
    pub refunded_coins: i64,
    pub reviewer: Option<i64>,
    pub created_at: i64,
    pub reviewed_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RiskAssessmentRow {
    pub show: i64,
    pub score_bps: i64,
    pub hold: bool,
    /// The signals with their evidence, as the engine wrote them (JSON).
    pub signals: String,
    /// `open` (held, to review), `clear` (below the threshold), `cleared` (ops released it),
    /// `confirmed` (ops confirmed fake sales).
    pub state: String,
    pub assessed_at: i64,
    pub reviewed_by: Option<i64>,
    pub reviewed_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RiskFlag {
    pub order: i64,
    pub show: i64,
    pub buyer: i64,
    pub why: String,
    pub state: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub actor: Option<i64>,
    pub action: String,
    pub subject: String,
    pub detail: String,
    pub at: i64,
}

/// One order of a show, as the risk engine reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShowOrderRow {
    pub order: i64,
    pub buyer: i64,
    pub org: i64,
    pub total_minor: i64,
    pub state: String,
    pub updated_at: i64,
}

#[async_trait]
pub trait TrustStore: Send + Sync {
    async fn submit_identity(&self, c: &NewIdentityCheck) -> Result<IdentityCheck>;
    async fn identity_check(&self, id: i64) -> Result<Option<IdentityCheck>>;
    async fn latest_identity(&self, account: AccountId) -> Result<Option<IdentityCheck>>;
    /// Checks in a state, oldest first (the review queue).
    async fn identity_checks(&self, state: &str, limit: i64) -> Result<Vec<IdentityCheck>>;
    /// Decides a submitted check; an approval also fills the account's trust profile. False
    /// when the check was not waiting for review.
    async fn review_identity(
        &self,
        id: i64,
        approve: bool,
        reason: Option<&str>,
        reviewer: AccountId,
        at: UnixMillis,
    ) -> Result<bool>;
    /// Accounts whose approved identity has this hash.
    async fn accounts_with_identity(&self, id_hash: &str) -> Result<Vec<i64>>;

    async fn trust_profile(&self, account: AccountId) -> Result<TrustProfile>;
    /// Accounts that may be minors: in minor mode, or verified with a date of birth after
    /// `born_after` (`YYYY-MM-DD`): (account, date of birth if verified, minor mode).
    async fn minor_candidates(&self, born_after: &str) -> Result<Vec<(i64, Option<String>, bool)>>;
    async fn set_training_passed(&self, account: AccountId, at: UnixMillis) -> Result<()>;
    async fn set_broadcast_check(&self, account: AccountId, at: UnixMillis) -> Result<()>;
    async fn set_minor_mode(&self, account: AccountId, on: bool) -> Result<()>;

    async fn submit_business(&self, b: &BusinessProfile) -> Result<()>;
    async fn business_profile(&self, org: i64) -> Result<Option<BusinessProfile>>;
    async fn business_profiles(&self, state: &str, limit: i64) -> Result<Vec<BusinessProfile>>;
    async fn review_business(
        &self,
        org: i64,
        approve: bool,
        reason: Option<&str>,
        reviewer: AccountId,
        at: UnixMillis,
    ) -> Result<bool>;
    /// When the organisation was first found over the KYB thresholds (recorded now if never).
    async fn kyb_notice(&self, org: i64, duty: &str, now: UnixMillis) -> Result<i64>;
    /// Paid-or-later orders of an organisation since `since`: (count, sum of totals).
    async fn org_sales_since(&self, org: i64, since: UnixMillis) -> Result<(i64, i64)>;

    async fn add_sanction(
        &self,
        account: AccountId,
        level: &str,
        reason: &str,
        until: Option<UnixMillis>,
        actor: Option<AccountId>,
        at: UnixMillis,
    ) -> Result<i64>;
    async fn sanctions_of(&self, account: AccountId) -> Result<Vec<SanctionRecord>>;
    async fn sanction(&self, id: i64) -> Result<Option<SanctionRecord>>;
    async fn lift_sanction(&self, id: i64, at: UnixMillis) -> Result<bool>;

    async fn blacklist(
        &self,
        kind: &str,
        value_hash: &str,
        account: Option<AccountId>,
        reason: &str,
        at: UnixMillis,
    ) -> Result<()>;
    /// The first of `values` (kind, hash) that is blacklisted.
    async fn blacklisted(&self, values: &[(String, String)]) -> Result<Option<(String, String)>>;

    /// Remembers that an account was seen with an attribute value (already a keyed hash).
    async fn record_signal(
        &self,
        account: AccountId,
        kind: &str,
        value_hash: &str,
        at: UnixMillis,
    ) -> Result<()>;
    /// Every attribute value of these accounts: (account, kind, hash).
    async fn signals_of(&self, accounts: &[i64]) -> Result<Vec<(i64, String, String)>>;
    /// For each (kind, value hash): how many accounts on the platform were seen with it.
    async fn signal_popularity(
        &self,
        values: &[(String, String)],
    ) -> Result<Vec<(String, String, i64)>>;

    #[allow(clippy::too_many_arguments)]
    async fn file_complaint(
        &self,
        reporter: AccountId,
        target_kind: &str,
        target_id: i64,
        subject: Option<AccountId>,
        order: Option<i64>,
        reason: &str,
        details: &str,
        deadline: UnixMillis,
        at: UnixMillis,
    ) -> Result<Complaint>;
    async fn complaint(&self, id: i64) -> Result<Option<Complaint>>;
    /// Complaints in a state, earliest deadline first.
    async fn complaints(&self, state: &str, limit: i64) -> Result<Vec<Complaint>>;
    async fn resolve_complaint(
        &self,
        id: i64,
        state: &str,
        outcome: &str,
        actor: AccountId,
        at: UnixMillis,
    ) -> Result<bool>;
    /// Complaints against an account upheld since `since`.
    async fn upheld_complaints_since(&self, subject: AccountId, since: UnixMillis) -> Result<i64>;

    async fn file_guardian_claim(
        &self,
        claimant: AccountId,
        minor: AccountId,
        evidence: &str,
        at: UnixMillis,
    ) -> Result<GuardianClaim>;
    async fn guardian_claim(&self, id: i64) -> Result<Option<GuardianClaim>>;
    async fn guardian_claims(&self, state: &str, limit: i64) -> Result<Vec<GuardianClaim>>;
    async fn decide_guardian_claim(
        &self,
        id: i64,
        approve: bool,
        reason: Option<&str>,
        refunded_coins: i64,
        reviewer: AccountId,
        at: UnixMillis,
    ) -> Result<bool>;

    /// What a buyer's orders since `since` add up to (not cancelled or expired).
    async fn buyer_spent_since(&self, buyer: AccountId, since: UnixMillis) -> Result<i64>;

    /// The orders of a show that were ever paid.
    async fn show_orders(&self, show: ShowId) -> Result<Vec<ShowOrderRow>>;
    /// Saves the engine's assessment and its flagged orders. A show ops has already decided
    /// keeps its decision; a new flag on it starts `open`.
    async fn save_assessment(
        &self,
        show: ShowId,
        score_bps: i64,
        hold: bool,
        signals: &str,
        flags: &[RiskFlag],
        at: UnixMillis,
    ) -> Result<()>;
    async fn assessment(&self, show: ShowId) -> Result<Option<RiskAssessmentRow>>;
    /// Assessments, highest score first.
    async fn assessments(&self, limit: i64) -> Result<Vec<RiskAssessmentRow>>;
    async fn risk_flags(&self, show: ShowId) -> Result<Vec<RiskFlag>>;
    /// Ops decision on a held show: `cleared` releases it and its flags, `confirmed` keeps them.
    async fn review_assessment(
        &self,
        show: ShowId,
        state: &str,
        actor: AccountId,
        at: UnixMillis,
    ) -> Result<bool>;
    /// Of these orders, those whose earnings are held: flagged and not cleared, or in a show
    /// held and not cleared.
    async fn orders_held(&self, orders: &[i64]) -> Result<BTreeSet<i64>>;
    /// Ended shows with paid orders that were never assessed or changed since (orders
    /// updated after the last assessment), oldest first.
    async fn shows_to_assess(&self, since: UnixMillis, limit: i64) -> Result<Vec<ShowId>>;

    async fn audit(
        &self,
        actor: Option<AccountId>,
        action: &str,
        subject: &str,
        detail: &str,
        at: UnixMillis,
    ) -> Result<()>;
    async fn audit_log(&self, limit: i64) -> Result<Vec<AuditEntry>>;
}

const CHECK_COLS: &str = "id, account_id, legal_name, id_hash, id_last4, birth_date, phone, document_file, document_type, guardian_name, guardian_consent, state, reason, reviewer_id, submitted_at, reviewed_at";

fn check_from(r: &AnyRow) -> Result<IdentityCheck> {
    Ok(IdentityCheck {
        id: r.try_get(0)?,
        account: r.try_get(1)?,
        legal_name: r.try_get(2)?,
        id_hash: r.try_get(3)?,
        id_last4: r.try_get(4)?,
        birth_date: r.try_get(5)?,
        phone: r.try_get(6)?,
        document_file: r.try_get(7)?,
        document_type: r.try_get(8)?,
        guardian_name: r.try_get(9)?,
        guardian_consent: r.try_get::<i64, _>(10)? != 0,
        state: r.try_get(11)?,
        reason: r.try_get(12)?,
        reviewer: r.try_get(13)?,
        submitted_at: r.try_get(14)?,
        reviewed_at: r.try_get(15)?,
    })
}

const BIZ_COLS: &str = "org_id, legal_name, registration_number, address, contact, payout_account_hash, payout_account_last4, state, reason, submitted_at, reviewed_at";

fn biz_from(r: &AnyRow) -> Result<BusinessProfile> {
    Ok(BusinessProfile {
        org: r.try_get(0)?,
        legal_name: r.try_get(1)?,
        registration_number: r.try_get(2)?,
        address: r.try_get(3)?,
        contact: r.try_get(4)?,
        payout_account_hash: r.try_get(5)?,
        payout_account_last4: r.try_get(6)?,
        state: r.try_get(7)?,
        reason: r.try_get(8)?,
        submitted_at: r.try_get(9)?,
        reviewed_at: r.try_get(10)?,
    })
}

const SANCTION_COLS: &str =
    "id, account_id, level, reason, until_at, actor_id, created_at, lifted_at";

fn sanction_from(r: &AnyRow) -> Result<SanctionRecord> {
    Ok(SanctionRecord {
        id: r.try_get(0)?,
        account: r.try_get(1)?,
        level: r.try_get(2)?,
        reason: r.try_get(3)?,
        until: r.try_get(4)?,
        actor: r.try_get(5)?,
        created_at: r.try_get(6)?,
        lifted_at: r.try_get(7)?,
    })
}

const COMPLAINT_COLS: &str = "id, reporter_id, target_kind, target_id, subject_account_id, order_id, reason, details, state, deadline_at, outcome, resolved_by, resolved_at, created_at";

fn complaint_from(r: &AnyRow) -> Result<Complaint> {
    Ok(Complaint {
        id: r.try_get(0)?,
        reporter: r.try_get(1)?,
        target_kind: r.try_get(2)?,
        target_id: r.try_get(3)?,
        subject_account: r.try_get(4)?,
        order: r.try_get(5)?,
        reason: r.try_get(6)?,
        details: r.try_get(7)?,
        state: r.try_get(8)?,
        deadline_at: r.try_get(9)?,
        outcome: r.try_get(10)?,
        resolved_by: r.try_get(11)?,
        resolved_at: r.try_get(12)?,
        created_at: r.try_get(13)?,
    })
}

const CLAIM_COLS: &str = "id, claimant_id, minor_id, evidence, state, reason, refunded_coins, reviewer_id, created_at, reviewed_at";

fn claim_from(r: &AnyRow) -> Result<GuardianClaim> {
    Ok(GuardianClaim {
        id: r.try_get(0)?,
        claimant: r.try_get(1)?,
        minor: r.try_get(2)?,
        evidence: r.try_get(3)?,
        state: r.try_get(4)?,
        reason: r.try_get(5)?,
        refunded_coins: r.try_get(6)?,
        reviewer: r.try_get(7)?,
        created_at: r.try_get(8)?,
        reviewed_at: r.try_get(9)?,
    })
}

const RISK_COLS: &str =
    "show_id, score_bps, hold, signals, state, assessed_at, reviewed_by, reviewed_at";

fn risk_from(r: &AnyRow) -> Result<RiskAssessmentRow> {
    Ok(RiskAssessmentRow {
        show: r.try_get(0)?,
        score_bps: r.try_get(1)?,
        hold: r.try_get::<i64, _>(2)? != 0,
        signals: r.try_get(3)?,
        state: r.try_get(4)?,
        assessed_at: r.try_get(5)?,
        reviewed_by: r.try_get(6)?,
        reviewed_at: r.try_get(7)?,
    })
}

#[async_trait]
impl TrustStore for SqlStore {
    async fn submit_identity(&self, c: &NewIdentityCheck) -> Result<IdentityCheck> {
        let r = sqlx::query(&format!(
            "INSERT INTO identity_checks (account_id, legal_name, id_hash, id_last4, birth_date, phone, document_file, document_type, guardian_name, guardian_consent, state, submitted_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'submitted', $11) RETURNING {CHECK_COLS}"
        ))
        .bind(c.account.0)
        .bind(&c.legal_name)
        .bind(&c.id_hash)
        .bind(&c.id_last4)
        .bind(&c.birth_date)
        .bind(&c.phone)
        .bind(&c.document_file)
        .bind(&c.document_type)
        .bind(&c.guardian_name)
        .bind(c.guardian_consent as i64)
        .bind(c.submitted_at.0)
        .fetch_one(self.pool())
        .await
        .map_err(|e| classify(e, "identity check", "account"))?;
        check_from(&r)
    }

    async fn identity_check(&self, id: i64) -> Result<Option<IdentityCheck>> {
        let r = sqlx::query(&format!(
            "SELECT {CHECK_COLS} FROM identity_checks WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(check_from).transpose()
    }

    async fn latest_identity(&self, account: AccountId) -> Result<Option<IdentityCheck>> {
        let r = sqlx::query(&format!(
            "SELECT {CHECK_COLS} FROM identity_checks WHERE account_id = $1 ORDER BY id DESC LIMIT 1"
        ))
        .bind(account.0)
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(check_from).transpose()
    }

    async fn identity_checks(&self, state: &str, limit: i64) -> Result<Vec<IdentityCheck>> {
        let rows = sqlx::query(&format!(
            "SELECT {CHECK_COLS} FROM identity_checks WHERE state = $1 ORDER BY submitted_at, id LIMIT $2"
        ))
        .bind(state)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(check_from).collect()
    }

    async fn review_identity(
        &self,
        id: i64,
        approve: bool,
        reason: Option<&str>,
        reviewer: AccountId,
        at: UnixMillis,
    ) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let r = sqlx::query(&format!(
            "UPDATE identity_checks SET state = $1, reason = $2, reviewer_id = $3, reviewed_at = $4 \
             WHERE id = $5 AND state = 'submitted' RETURNING {CHECK_COLS}"
        ))
        .bind(if approve { "approved" } else { "rejected" })
        .bind(reason)
        .bind(reviewer.0)
        .bind(at.0)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(r) = r else {
            return Ok(false);
        };
        let c = check_from(&r)?;
        if approve {
            sqlx::query(
                "INSERT INTO trust_profiles (account_id, birth_date, id_hash, guardian_consent, verified_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (account_id) DO UPDATE SET birth_date = excluded.birth_date, id_hash = excluded.id_hash, guardian_consent = excluded.guardian_consent, verified_at = excluded.verified_at",
            )
            .bind(c.account)
            .bind(&c.birth_date)
            .bind(&c.id_hash)
            .bind(c.guardian_consent as i64)
            .bind(at.0)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn accounts_with_identity(&self, id_hash: &str) -> Result<Vec<i64>> {
        let rows = sqlx::query("SELECT account_id FROM trust_profiles WHERE id_hash = $1")
            .bind(id_hash)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    async fn trust_profile(&self, account: AccountId) -> Result<TrustProfile> {
        let r = sqlx::query(
            "SELECT birth_date, id_hash, guardian_consent, verified_at, training_passed_at, broadcast_check_at, minor_mode FROM trust_profiles WHERE account_id = $1",
        )
        .bind(account.0)
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = r else {
            return Ok(TrustProfile::default());
        };
        Ok(TrustProfile {
            birth_date: r.try_get(0)?,
            id_hash: r.try_get(1)?,
            guardian_consent: r.try_get::<i64, _>(2)? != 0,
            verified_at: r.try_get(3)?,
            training_passed_at: r.try_get(4)?,
            broadcast_check_at: r.try_get(5)?,
            minor_mode: r.try_get::<i64, _>(6)? != 0,
        })
    }

    async fn minor_candidates(&self, born_after: &str) -> Result<Vec<(i64, Option<String>, bool)>> {
        let rows = sqlx::query(
            "SELECT account_id, CASE WHEN verified_at IS NULL THEN NULL ELSE birth_date END, minor_mode FROM trust_profiles \
             WHERE minor_mode <> 0 OR (verified_at IS NOT NULL AND birth_date > $1)",
        )
        .bind(born_after)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get::<i64, _>(2)? != 0)))
            .collect()
    }

    async fn set_training_passed(&self, account: AccountId, at: UnixMillis) -> Result<()> {
        sqlx::query(
            "INSERT INTO trust_profiles (account_id, training_passed_at) VALUES ($1, $2) \
             ON CONFLICT (account_id) DO UPDATE SET training_passed_at = excluded.training_passed_at",
        )
        .bind(account.0)
        .bind(at.0)
        .execute(self.pool())
        .await
        .map_err(|e| classify(e, "trust profile", "account"))?;
        Ok(())
    }

    async fn set_broadcast_check(&self, account: AccountId, at: UnixMillis) -> Result<()> {
        sqlx::query(
            "INSERT INTO trust_profiles (account_id, broadcast_check_at) VALUES ($1, $2) \
             ON CONFLICT (account_id) DO UPDATE SET broadcast_check_at = excluded.broadcast_check_at",
        )
        .bind(account.0)
        .bind(at.0)
        .execute(self.pool())
        .await
        .map_err(|e| classify(e, "trust profile", "account"))?;
        Ok(())
    }

    async fn set_minor_mode(&self, account: AccountId, on: bool) -> Result<()> {
        sqlx::query(
            "INSERT INTO trust_profiles (account_id, minor_mode) VALUES ($1, $2) \
             ON CONFLICT (account_id) DO UPDATE SET minor_mode = excluded.minor_mode",
        )
        .bind(account.0)
        .bind(on as i64)
        .execute(self.pool())
        .await
        .map_err(|e| classify(e, "trust profile", "account"))?;
        Ok(())
    }

    async fn submit_business(&self, b: &BusinessProfile) -> Result<()> {
        sqlx::query(
            "INSERT INTO business_profiles (org_id, legal_name, registration_number, address, contact, payout_account_hash, payout_account_last4, state, submitted_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'submitted', $8) \
             ON CONFLICT (org_id) DO UPDATE SET legal_name = excluded.legal_name, registration_number = excluded.registration_number, address = excluded.address, contact = excluded.contact, \
             payout_account_hash = excluded.payout_account_hash, payout_account_last4 = excluded.payout_account_last4, state = 'submitted', reason = NULL, reviewer_id = NULL, submitted_at = excluded.submitted_at, reviewed_at = NULL",
        )
        .bind(b.org)
        .bind(&b.legal_name)
        .bind(&b.registration_number)
        .bind(&b.address)
        .bind(&b.contact)
        .bind(&b.payout_account_hash)
        .bind(&b.payout_account_last4)
        .bind(b.submitted_at)
        .execute(self.pool())
        .await
        .map_err(|e| classify(e, "business profile", "organisation"))?;
        Ok(())
    }

    async fn business_profile(&self, org: i64) -> Result<Option<BusinessProfile>> {
        let r = sqlx::query(&format!(
            "SELECT {BIZ_COLS} FROM business_profiles WHERE org_id = $1"
        ))
        .bind(org)
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(biz_from).transpose()
    }

    async fn business_profiles(&self, state: &str, limit: i64) -> Result<Vec<BusinessProfile>> {
        let rows = sqlx::query(&format!(
            "SELECT {BIZ_COLS} FROM business_profiles WHERE state = $1 ORDER BY submitted_at LIMIT $2"
        ))
        .bind(state)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(biz_from).collect()
    }

    async fn review_business(
        &self,
        org: i64,
        approve: bool,
        reason: Option<&str>,
        reviewer: AccountId,
        at: UnixMillis,
    ) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE business_profiles SET state = $1, reason = $2, reviewer_id = $3, reviewed_at = $4 WHERE org_id = $5 AND state = 'submitted'",
        )
        .bind(if approve { "approved" } else { "rejected" })
        .bind(reason)
        .bind(reviewer.0)
        .bind(at.0)
        .bind(org)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    async fn kyb_notice(&self, org: i64, duty: &str, now: UnixMillis) -> Result<i64> {
        sqlx::query(
            "INSERT INTO kyb_notices (org_id, duty, noticed_at) VALUES ($1, $2, $3) ON CONFLICT (org_id) DO NOTHING",
        )
        .bind(org)
        .bind(duty)
        .bind(now.0)
        .execute(self.pool())
        .await
        .map_err(|e| classify(e, "KYB notice", "organisation"))?;
        let r = sqlx::query("SELECT noticed_at FROM kyb_notices WHERE org_id = $1")
            .bind(org)
            .fetch_one(self.pool())
            .await?;
        Ok(r.try_get(0)?)
    }

    async fn org_sales_since(&self, org: i64, since: UnixMillis) -> Result<(i64, i64)> {
        let r = sqlx::query(
            "SELECT COUNT(*), CAST(COALESCE(SUM(total_minor), 0) AS BIGINT) FROM orders WHERE org_id = $1 AND created_at >= $2 \
             AND state NOT IN ('created', 'expired', 'cancelled', 'refunded')",
        )
        .bind(org)
        .bind(since.0)
        .fetch_one(self.pool())
        .await?;
        Ok((r.try_get(0)?, r.try_get(1)?))
    }

    async fn add_sanction(
        &self,
        account: AccountId,
        level: &str,
        reason: &str,
        until: Option<UnixMillis>,
        actor: Option<AccountId>,
        at: UnixMillis,
    ) -> Result<i64> {
        let r = sqlx::query(
            "INSERT INTO account_sanctions (account_id, level, reason, until_at, actor_id, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(account.0)
        .bind(level)
        .bind(reason)
        .bind(until.map(|u| u.0))
        .bind(actor.map(|a| a.0))
        .bind(at.0)
        .fetch_one(self.pool())
        .await
        .map_err(|e| classify(e, "sanction", "account"))?;
        Ok(r.try_get(0)?)
    }

    async fn sanctions_of(&self, account: AccountId) -> Result<Vec<SanctionRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {SANCTION_COLS} FROM account_sanctions WHERE account_id = $1 ORDER BY id"
        ))
        .bind(account.0)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(sanction_from).collect()
    }

    async fn sanction(&self, id: i64) -> Result<Option<SanctionRecord>> {
        let r = sqlx::query(&format!(
            "SELECT {SANCTION_COLS} FROM account_sanctions WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(sanction_from).transpose()
    }

    async fn lift_sanction(&self, id: i64, at: UnixMillis) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE account_sanctions SET lifted_at = $1 WHERE id = $2 AND lifted_at IS NULL AND level <> 'closure'",
        )
        .bind(at.0)
        .bind(id)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    async fn blacklist(
        &self,
        kind: &str,
        value_hash: &str,
        account: Option<AccountId>,
        reason: &str,
        at: UnixMillis,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO blacklist (kind, value_hash, account_id, reason, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (kind, value_hash) DO NOTHING",
        )
        .bind(kind)
        .bind(value_hash)
        .bind(account.map(|a| a.0))
        .bind(reason)
        .bind(at.0)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn blacklisted(&self, values: &[(String, String)]) -> Result<Option<(String, String)>> {
        for (k, v) in values {
            let hit = sqlx::query("SELECT 1 FROM blacklist WHERE kind = $1 AND value_hash = $2")
                .bind(k)
                .bind(v)
                .fetch_optional(self.pool())
                .await?;
            if hit.is_some() {
                return Ok(Some((k.clone(), v.clone())));
            }
        }
        Ok(None)
    }

    async fn record_signal(
        &self,
        account: AccountId,
        kind: &str,
        value_hash: &str,
        at: UnixMillis,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO account_signals (account_id, kind, value_hash, first_seen, last_seen) VALUES ($1, $2, $3, $4, $4) \
             ON CONFLICT (account_id, kind, value_hash) DO UPDATE SET last_seen = excluded.last_seen",
        )
        .bind(account.0)
        .bind(kind)
        .bind(value_hash)
        .bind(at.0)
        .execute(self.pool())
        .await
        .map_err(|e| classify(e, "signal", "account"))?;
        Ok(())
    }

    async fn signal_popularity(
        &self,
        values: &[(String, String)],
    ) -> Result<Vec<(String, String, i64)>> {
        let mut out = Vec::new();
        for chunk in values.chunks(500) {
            let sql = format!(
                "SELECT kind, value_hash, COUNT(DISTINCT account_id) FROM account_signals WHERE value_hash IN ({}) GROUP BY kind, value_hash",
                numbered(1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for (_, v) in chunk {
                q = q.bind(v.as_str());
            }
            for r in q.fetch_all(self.pool()).await? {
                let (k, v): (String, String) = (r.try_get(0)?, r.try_get(1)?);
                if chunk.iter().any(|(ck, cv)| *ck == k && *cv == v) {
                    out.push((k, v, r.try_get(2)?));
                }
            }
        }
        Ok(out)
    }

    async fn signals_of(&self, accounts: &[i64]) -> Result<Vec<(i64, String, String)>> {
        let mut out = Vec::new();
        for chunk in accounts.chunks(500) {
            let sql = format!(
                "SELECT account_id, kind, value_hash FROM account_signals WHERE account_id IN ({})",
                numbered(1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for a in chunk {
                q = q.bind(*a);
            }
            for r in q.fetch_all(self.pool()).await? {
                out.push((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?));
            }
        }
        Ok(out)
    }

    async fn file_complaint(
        &self,
        reporter: AccountId,
        target_kind: &str,
        target_id: i64,
        subject: Option<AccountId>,
        order: Option<i64>,
        reason: &str,
        details: &str,
        deadline: UnixMillis,
        at: UnixMillis,
    ) -> Result<Complaint> {
        let r = sqlx::query(&format!(
            "INSERT INTO complaints (reporter_id, target_kind, target_id, subject_account_id, order_id, reason, details, state, deadline_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $9) RETURNING {COMPLAINT_COLS}"
        ))
        .bind(reporter.0)
        .bind(target_kind)
        .bind(target_id)
        .bind(subject.map(|s| s.0))
        .bind(order)
        .bind(reason)
        .bind(details)
        .bind(deadline.0)
        .bind(at.0)
        .fetch_one(self.pool())
        .await
        .map_err(|e| classify(e, "complaint", "account"))?;
        complaint_from(&r)
    }

    async fn complaint(&self, id: i64) -> Result<Option<Complaint>> {
        let r = sqlx::query(&format!(
            "SELECT {COMPLAINT_COLS} FROM complaints WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(complaint_from).transpose()
    }

    async fn complaints(&self, state: &str, limit: i64) -> Result<Vec<Complaint>> {
        let rows = sqlx::query(&format!(
            "SELECT {COMPLAINT_COLS} FROM complaints WHERE state = $1 ORDER BY deadline_at, id LIMIT $2"
        ))
        .bind(state)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(complaint_from).collect()
    }

    async fn resolve_complaint(
        &self,
        id: i64,
        state: &str,
        outcome: &str,
        actor: AccountId,
        at: UnixMillis,
    ) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE complaints SET state = $1, outcome = $2, resolved_by = $3, resolved_at = $4 WHERE id = $5 AND state = 'open'",
        )
        .bind(state)
        .bind(outcome)
        .bind(actor.0)
        .bind(at.0)
        .bind(id)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    async fn upheld_complaints_since(&self, subject: AccountId, since: UnixMillis) -> Result<i64> {
        let r = sqlx::query(
            "SELECT COUNT(*) FROM complaints WHERE subject_account_id = $1 AND state = 'upheld' AND resolved_at >= $2",
        )
        .bind(subject.0)
        .bind(since.0)
        .fetch_one(self.pool())
        .await?;
        Ok(r.try_get(0)?)
    }

    async fn file_guardian_claim(
        &self,
        claimant: AccountId,
        minor: AccountId,
        evidence: &str,
        at: UnixMillis,
    ) -> Result<GuardianClaim> {
        let r = sqlx::query(&format!(
            "INSERT INTO guardian_claims (claimant_id, minor_id, evidence, state, created_at) VALUES ($1, $2, $3, 'open', $4) RETURNING {CLAIM_COLS}"
        ))
        .bind(claimant.0)
        .bind(minor.0)
        .bind(evidence)
        .bind(at.0)
        .fetch_one(self.pool())
        .await
        .map_err(|e| classify(e, "guardian claim", "account"))?;
        claim_from(&r)
    }

    async fn guardian_claim(&self, id: i64) -> Result<Option<GuardianClaim>> {
        let r = sqlx::query(&format!(
            "SELECT {CLAIM_COLS} FROM guardian_claims WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(claim_from).transpose()
    }

    async fn guardian_claims(&self, state: &str, limit: i64) -> Result<Vec<GuardianClaim>> {
        let rows = sqlx::query(&format!(
            "SELECT {CLAIM_COLS} FROM guardian_claims WHERE state = $1 ORDER BY created_at, id LIMIT $2"
        ))
        .bind(state)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(claim_from).collect()
    }

    async fn decide_guardian_claim(
        &self,
        id: i64,
        approve: bool,
        reason: Option<&str>,
        refunded_coins: i64,
        reviewer: AccountId,
        at: UnixMillis,
    ) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE guardian_claims SET state = $1, reason = $2, refunded_coins = $3, reviewer_id = $4, reviewed_at = $5 WHERE id = $6 AND state = 'open'",
        )
        .bind(if approve { "approved" } else { "rejected" })
        .bind(reason)
        .bind(refunded_coins)
        .bind(reviewer.0)
        .bind(at.0)
        .bind(id)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    async fn buyer_spent_since(&self, buyer: AccountId, since: UnixMillis) -> Result<i64> {
        let r = sqlx::query(
            "SELECT CAST(COALESCE(SUM(total_minor), 0) AS BIGINT) FROM orders WHERE buyer_id = $1 AND created_at >= $2 AND state NOT IN ('cancelled', 'expired')",
        )
        .bind(buyer.0)
        .bind(since.0)
        .fetch_one(self.pool())
        .await?;
        Ok(r.try_get(0)?)
    }

    async fn show_orders(&self, show: ShowId) -> Result<Vec<ShowOrderRow>> {
        let rows = sqlx::query(
            "SELECT id, buyer_id, org_id, total_minor, state, updated_at FROM orders WHERE show_id = $1 AND state NOT IN ('created', 'expired') ORDER BY id",
        )
        .bind(show.0)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ShowOrderRow {
                    order: r.try_get(0)?,
                    buyer: r.try_get(1)?,
                    org: r.try_get(2)?,
                    total_minor: r.try_get(3)?,
                    state: r.try_get(4)?,
                    updated_at: r.try_get(5)?,
                })
            })
            .collect()
    }

    async fn save_assessment(
        &self,
        show: ShowId,
        score_bps: i64,
        hold: bool,
        signals: &str,
        flags: &[RiskFlag],
        at: UnixMillis,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        // A decided show keeps the decision; an undecided one follows the latest score.
        sqlx::query(
            "INSERT INTO risk_assessments (show_id, score_bps, hold, signals, state, assessed_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (show_id) DO UPDATE SET score_bps = excluded.score_bps, hold = excluded.hold, signals = excluded.signals, assessed_at = excluded.assessed_at, \
             state = CASE WHEN risk_assessments.state IN ('cleared', 'confirmed') THEN risk_assessments.state ELSE excluded.state END",
        )
        .bind(show.0)
        .bind(score_bps)
        .bind(hold as i64)
        .bind(signals)
        .bind(if hold || !flags.is_empty() { "open" } else { "clear" })
        .bind(at.0)
        .execute(&mut *tx)
        .await
        .map_err(|e| classify(e, "risk assessment", "show"))?;
        for f in flags {
            sqlx::query(
                "INSERT INTO risk_flags (order_id, show_id, buyer_id, why, state, flagged_at) VALUES ($1, $2, $3, $4, 'open', $5) ON CONFLICT (order_id) DO NOTHING",
            )
            .bind(f.order)
            .bind(f.show)
            .bind(f.buyer)
            .bind(&f.why)
            .bind(at.0)
            .execute(&mut *tx)
            .await
            .map_err(|e| classify(e, "risk flag", "order"))?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn assessment(&self, show: ShowId) -> Result<Option<RiskAssessmentRow>> {
        let r = sqlx::query(&format!(
            "SELECT {RISK_COLS} FROM risk_assessments WHERE show_id = $1"
        ))
        .bind(show.0)
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(risk_from).transpose()
    }

    async fn assessments(&self, limit: i64) -> Result<Vec<RiskAssessmentRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {RISK_COLS} FROM risk_assessments ORDER BY score_bps DESC, show_id LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(risk_from).collect()
    }

    async fn risk_flags(&self, show: ShowId) -> Result<Vec<RiskFlag>> {
        let rows = sqlx::query(
            "SELECT order_id, show_id, buyer_id, why, state FROM risk_flags WHERE show_id = $1 ORDER BY order_id",
        )
        .bind(show.0)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(RiskFlag {
                    order: r.try_get(0)?,
                    show: r.try_get(1)?,
                    buyer: r.try_get(2)?,
                    why: r.try_get(3)?,
                    state: r.try_get(4)?,
                })
            })
            .collect()
    }

    async fn review_assessment(
        &self,
        show: ShowId,
        state: &str,
        actor: AccountId,
        at: UnixMillis,
    ) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let n = sqlx::query(
            "UPDATE risk_assessments SET state = $1, reviewed_by = $2, reviewed_at = $3 WHERE show_id = $4",
        )
        .bind(state)
        .bind(actor.0)
        .bind(at.0)
        .bind(show.0)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query("UPDATE risk_flags SET state = $1 WHERE show_id = $2")
            .bind(state)
            .bind(show.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(n == 1)
    }

    async fn orders_held(&self, orders: &[i64]) -> Result<BTreeSet<i64>> {
        let mut out = BTreeSet::new();
        for chunk in orders.chunks(500) {
            let sql = format!(
                "SELECT o.id FROM orders o \
                 LEFT JOIN risk_flags f ON f.order_id = o.id \
                 LEFT JOIN risk_assessments a ON a.show_id = o.show_id \
                 WHERE o.id IN ({}) AND ((f.state IS NOT NULL AND f.state <> 'cleared') \
                   OR (a.hold = 1 AND a.state <> 'cleared'))",
                numbered(1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for o in chunk {
                q = q.bind(*o);
            }
            for r in q.fetch_all(self.pool()).await? {
                out.insert(r.try_get(0)?);
            }
        }
        Ok(out)
    }

    async fn shows_to_assess(&self, since: UnixMillis, limit: i64) -> Result<Vec<ShowId>> {
        let rows = sqlx::query(
            "SELECT s.id FROM shows s LEFT JOIN risk_assessments a ON a.show_id = s.id \
             WHERE s.state = 'ended' AND s.ended_at >= $1 \
               AND EXISTS (SELECT 1 FROM orders o WHERE o.show_id = s.id AND o.state NOT IN ('created', 'expired') \
                           AND (a.assessed_at IS NULL OR o.updated_at > a.assessed_at)) \
             ORDER BY s.ended_at LIMIT $2",
        )
        .bind(since.0)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| Ok(ShowId(r.try_get(0)?))).collect()
    }

    async fn audit(
        &self,
        actor: Option<AccountId>,
        action: &str,
        subject: &str,
        detail: &str,
        at: UnixMillis,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO ops_audit (actor_id, action, subject, detail, at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(actor.map(|a| a.0))
        .bind(action)
        .bind(subject)
        .bind(detail)
        .bind(at.0)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn audit_log(&self, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT id, actor_id, action, subject, detail, at FROM ops_audit ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.try_get(0)?,
                    actor: r.try_get(1)?,
                    action: r.try_get(2)?,
                    subject: r.try_get(3)?,
                    detail: r.try_get(4)?,
                    at: r.try_get(5)?,
                })
            })
            .collect()
    }
}
