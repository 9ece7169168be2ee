//! Trust records: real-name checks and their review, what the checks and the course
//! established per account, KYB data, sanctions, the blacklist, the attributes accounts were
//! seen with, complaints, guardian claims, the risk engine's assessments and held orders, and
//! the audit log of every ops action.

use crate::shop::{OrderId, OrgId};
use crate::sql::{named, numbered};
use crate::{classify, Result, SqlStore};
use async_trait::async_trait;
use hawker_commerce::order::OrderState;
use hawker_domain::{AccountId, ShowId, UnixMillis};
use hawker_trust::complaints::{
    ComplaintReason, ComplaintState, ComplaintTarget, GuardianClaimState,
};
use hawker_trust::policy::KybDuty;
use hawker_trust::review::{ReviewState, RiskState, RiskVerdict};
use hawker_trust::risk::LinkKind;
use hawker_trust::sanctions::{BlacklistKind, SanctionLevel};
use sqlx::any::AnyRow;
use sqlx::Row;
use std::collections::BTreeSet;

mod audit;
mod business;
mod cases;
mod identity;
mod risk;
mod sanctions;

pub use audit::AuditStore;
pub use business::BusinessStore;
pub use cases::CaseStore;
pub use identity::IdentityStore;
pub use risk::RiskStore;
pub use sanctions::SanctionStore;

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

/// A real-name check: the ID number only as its keyed hash and last four characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityCheck {
    pub id: i64,
    pub account: AccountId,
    pub legal_name: String,
    pub id_hash: String,
    pub id_last4: String,
    pub birth_date: String,
    pub phone: Option<String>,
    pub document_file: Option<String>,
    pub document_type: Option<String>,
    pub guardian_name: Option<String>,
    pub guardian_consent: bool,
    pub state: ReviewState,
    pub reason: Option<String>,
    pub reviewer: Option<AccountId>,
    pub submitted_at: i64,
    pub reviewed_at: Option<i64>,
}

/// What is established about an account (all empty for a new one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustProfile {
    pub birth_date: Option<String>,
    pub id_hash: Option<String>,
    pub guardian_consent: bool,
    pub verified_at: Option<i64>,
    pub training_passed_at: Option<i64>,
    pub broadcast_check_at: Option<i64>,
    pub minor_mode: bool,
}

/// A business seller's KYB data: the payout account only as its keyed hash and last four.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessProfile {
    pub org: OrgId,
    pub legal_name: String,
    pub registration_number: String,
    pub address: String,
    pub contact: String,
    pub payout_account_hash: String,
    pub payout_account_last4: String,
    pub state: ReviewState,
    pub reason: Option<String>,
    pub submitted_at: i64,
    pub reviewed_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SanctionRecord {
    pub id: i64,
    pub account: AccountId,
    pub level: SanctionLevel,
    pub reason: String,
    pub until: Option<i64>,
    pub actor: Option<AccountId>,
    pub created_at: i64,
    pub lifted_at: Option<i64>,
}

/// A complaint as filed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewComplaint<'a> {
    pub reporter: AccountId,
    pub target: ComplaintTarget,
    pub target_id: i64,
    /// Whom an upheld complaint sanctions.
    pub subject: Option<AccountId>,
    pub order: Option<OrderId>,
    pub reason: ComplaintReason,
    pub details: &'a str,
    pub deadline: UnixMillis,
    pub at: UnixMillis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Complaint {
    pub id: i64,
    pub reporter: AccountId,
    pub target_kind: ComplaintTarget,
    pub target_id: i64,
    pub subject_account: Option<AccountId>,
    pub order: Option<OrderId>,
    pub reason: ComplaintReason,
    pub details: String,
    pub state: ComplaintState,
    pub deadline_at: i64,
    pub outcome: Option<String>,
    pub resolved_by: Option<AccountId>,
    pub resolved_at: Option<i64>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardianClaim {
    pub id: i64,
    pub claimant: AccountId,
    pub minor: AccountId,
    pub evidence: String,
    pub state: GuardianClaimState,
    pub reason: Option<String>,
    pub refunded_coins: i64,
    pub reviewer: Option<AccountId>,
    pub created_at: i64,
    pub reviewed_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskAssessmentRow {
    pub show: ShowId,
    pub score_bps: i64,
    pub hold: bool,
    /// The signals with their evidence, as the engine wrote them (JSON).
    pub signals: String,
    pub state: RiskState,
    pub assessed_at: i64,
    pub reviewed_by: Option<AccountId>,
    pub reviewed_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskFlag {
    pub order: OrderId,
    pub show: ShowId,
    pub buyer: AccountId,
    pub why: String,
    pub state: RiskState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    pub actor: Option<AccountId>,
    pub action: String,
    pub subject: String,
    pub detail: String,
    pub at: i64,
}

/// One order of a show, as the risk engine reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShowOrderRow {
    pub order: OrderId,
    pub buyer: AccountId,
    pub org: OrgId,
    pub total_minor: i64,
    pub state: OrderState,
    pub updated_at: i64,
}

/// Everything the trust rules store, one trait per concern; `Store` carries them all.
pub trait TrustStore:
    IdentityStore + BusinessStore + SanctionStore + CaseStore + RiskStore + AuditStore
{
}

impl<T> TrustStore for T where
    T: IdentityStore + BusinessStore + SanctionStore + CaseStore + RiskStore + AuditStore
{
}

const CHECK_COLS: &str = "id, account_id, legal_name, id_hash, id_last4, birth_date, phone, document_file, document_type, guardian_name, guardian_consent, state, reason, reviewer_id, submitted_at, reviewed_at";

fn check_from(r: &AnyRow) -> Result<IdentityCheck> {
    Ok(IdentityCheck {
        id: r.try_get(0)?,
        account: AccountId(r.try_get(1)?),
        legal_name: r.try_get(2)?,
        id_hash: r.try_get(3)?,
        id_last4: r.try_get(4)?,
        birth_date: r.try_get(5)?,
        phone: r.try_get(6)?,
        document_file: r.try_get(7)?,
        document_type: r.try_get(8)?,
        guardian_name: r.try_get(9)?,
        guardian_consent: r.try_get::<i64, _>(10)? != 0,
        state: named(r, 11, "identity check state", ReviewState::parse)?,
        reason: r.try_get(12)?,
        reviewer: account_opt(r, 13)?,
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
        state: named(r, 7, "business profile state", ReviewState::parse)?,
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
        account: AccountId(r.try_get(1)?),
        level: named(r, 2, "sanction level", SanctionLevel::parse)?,
        reason: r.try_get(3)?,
        until: r.try_get(4)?,
        actor: account_opt(r, 5)?,
        created_at: r.try_get(6)?,
        lifted_at: r.try_get(7)?,
    })
}

const COMPLAINT_COLS: &str = "id, reporter_id, target_kind, target_id, subject_account_id, order_id, reason, details, state, deadline_at, outcome, resolved_by, resolved_at, created_at";

fn complaint_from(r: &AnyRow) -> Result<Complaint> {
    Ok(Complaint {
        id: r.try_get(0)?,
        reporter: AccountId(r.try_get(1)?),
        target_kind: named(r, 2, "complaint target", ComplaintTarget::parse)?,
        target_id: r.try_get(3)?,
        subject_account: account_opt(r, 4)?,
        order: r.try_get(5)?,
        reason: named(r, 6, "complaint reason", ComplaintReason::parse)?,
        details: r.try_get(7)?,
        state: named(r, 8, "complaint state", ComplaintState::parse)?,
        deadline_at: r.try_get(9)?,
        outcome: r.try_get(10)?,
        resolved_by: account_opt(r, 11)?,
        resolved_at: r.try_get(12)?,
        created_at: r.try_get(13)?,
    })
}

const CLAIM_COLS: &str = "id, claimant_id, minor_id, evidence, state, reason, refunded_coins, reviewer_id, created_at, reviewed_at";

fn claim_from(r: &AnyRow) -> Result<GuardianClaim> {
    Ok(GuardianClaim {
        id: r.try_get(0)?,
        claimant: AccountId(r.try_get(1)?),
        minor: AccountId(r.try_get(2)?),
        evidence: r.try_get(3)?,
        state: named(r, 4, "guardian claim state", GuardianClaimState::parse)?,
        reason: r.try_get(5)?,
        refunded_coins: r.try_get(6)?,
        reviewer: account_opt(r, 7)?,
        created_at: r.try_get(8)?,
        reviewed_at: r.try_get(9)?,
    })
}

const RISK_COLS: &str =
    "show_id, score_bps, hold, signals, state, assessed_at, reviewed_by, reviewed_at";

fn risk_from(r: &AnyRow) -> Result<RiskAssessmentRow> {
    Ok(RiskAssessmentRow {
        show: ShowId(r.try_get(0)?),
        score_bps: r.try_get(1)?,
        hold: r.try_get::<i64, _>(2)? != 0,
        signals: r.try_get(3)?,
        state: named(r, 4, "risk assessment state", RiskState::parse)?,
        assessed_at: r.try_get(5)?,
        reviewed_by: account_opt(r, 6)?,
        reviewed_at: r.try_get(7)?,
    })
}

fn account_opt(r: &AnyRow, i: usize) -> Result<Option<AccountId>> {
    Ok(r.try_get::<Option<i64>, _>(i)?.map(AccountId))
}
