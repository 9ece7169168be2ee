//! The JSON views of the trust records: the wire names the API, its OpenAPI document and the
//! pages read, kept at the edge (storage holds typed rows, not wire formats). Keyed hashes (ID
//! numbers, payout accounts) and document file names never leave the server.

use hawker_storage::trust::{
    AuditEntry, BusinessProfile, Complaint, GuardianClaim, IdentityCheck, RiskAssessmentRow,
    RiskFlag, SanctionRecord,
};
use serde_json::{json, Value};

/// A real-name check: the ID number masked, the document only as whether there is one.
pub(crate) fn check_json(c: &IdentityCheck) -> Value {
    json!({
        "id": c.id, "account": c.account, "legal_name": c.legal_name,
        "id_number": format!("••••••••{}", c.id_last4), "birth_date": c.birth_date,
        "phone": c.phone, "document_type": c.document_type,
        "has_document": c.document_file.is_some(),
        "guardian_name": c.guardian_name, "guardian_consent": c.guardian_consent,
        "state": c.state.as_str(), "reason": c.reason, "reviewer": c.reviewer,
        "submitted_at": c.submitted_at, "reviewed_at": c.reviewed_at,
    })
}

/// A seller's KYB data: the payout account as its last four characters.
pub(crate) fn business_json(b: &BusinessProfile) -> Value {
    json!({
        "org": b.org, "legal_name": b.legal_name,
        "registration_number": b.registration_number, "address": b.address,
        "contact": b.contact, "payout_account_last4": b.payout_account_last4,
        "state": b.state.as_str(), "reason": b.reason,
        "submitted_at": b.submitted_at, "reviewed_at": b.reviewed_at,
    })
}

pub(crate) fn sanction_json(s: &SanctionRecord) -> Value {
    json!({
        "id": s.id, "account": s.account, "level": s.level.as_str(), "reason": s.reason,
        "until": s.until, "actor": s.actor, "created_at": s.created_at,
        "lifted_at": s.lifted_at,
    })
}

pub(crate) fn complaint_json(c: &Complaint) -> Value {
    json!({
        "id": c.id, "reporter": c.reporter, "target_kind": c.target_kind.as_str(),
        "target_id": c.target_id, "subject_account": c.subject_account, "order": c.order,
        "reason": c.reason.as_str(), "details": c.details, "state": c.state.as_str(),
        "deadline_at": c.deadline_at, "outcome": c.outcome, "resolved_by": c.resolved_by,
        "resolved_at": c.resolved_at, "created_at": c.created_at,
    })
}

pub(crate) fn claim_json(c: &GuardianClaim) -> Value {
    json!({
        "id": c.id, "claimant": c.claimant, "minor": c.minor, "evidence": c.evidence,
        "state": c.state.as_str(), "reason": c.reason, "refunded_coins": c.refunded_coins,
        "reviewer": c.reviewer, "created_at": c.created_at, "reviewed_at": c.reviewed_at,
    })
}

/// Records as a JSON array, each through its view.
pub(crate) fn all<T>(rows: &[T], view: impl Fn(&T) -> Value) -> Value {
    Value::Array(rows.iter().map(view).collect())
}

/// A show's risk assessment: its score, whether it is held, ops' state and the signals with
/// their evidence.
pub(crate) fn assessment_json(a: &RiskAssessmentRow) -> Value {
    json!({
        "show": a.show, "score": a.score_bps as f64 / 10_000.0, "hold": a.hold,
        "state": a.state.as_str(),
        "signals": serde_json::from_str::<Value>(&a.signals).unwrap_or(Value::Null),
    })
}

pub(crate) fn flag_json(f: &RiskFlag) -> Value {
    json!({
        "order": f.order, "show": f.show, "buyer": f.buyer, "why": f.why,
        "state": f.state.as_str(),
    })
}

pub(crate) fn audit_json(e: &AuditEntry) -> Value {
    json!({
        "id": e.id, "actor": e.actor, "action": e.action, "subject": e.subject,
        "detail": e.detail, "at": e.at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hawker_domain::{AccountId, ShowId};
    use hawker_trust::complaints::{ComplaintReason, ComplaintState, ComplaintTarget};
    use hawker_trust::review::RiskState;

    /// The wire names stay what the pages and API clients read.
    #[test]
    fn wire_names() {
        let c = complaint_json(&Complaint {
            id: 1,
            reporter: AccountId(2),
            target_kind: ComplaintTarget::Seller,
            target_id: 3,
            subject_account: Some(AccountId(4)),
            order: None,
            reason: ComplaintReason::NotDelivered,
            details: "never came".into(),
            state: ComplaintState::Open,
            deadline_at: 5,
            outcome: None,
            resolved_by: None,
            resolved_at: None,
            created_at: 6,
        });
        assert_eq!(
            c,
            json!({
                "id": 1, "reporter": 2, "target_kind": "seller", "target_id": 3,
                "subject_account": 4, "order": null, "reason": "not_delivered",
                "details": "never came", "state": "open", "deadline_at": 5, "outcome": null,
                "resolved_by": null, "resolved_at": null, "created_at": 6,
            })
        );
        let f = flag_json(&RiskFlag {
            order: 7,
            show: ShowId(8),
            buyer: AccountId(9),
            why: "ring".into(),
            state: RiskState::Cleared,
        });
        assert_eq!(
            f,
            json!({"order": 7, "show": 8, "buyer": 9, "why": "ring", "state": "cleared"})
        );
    }
}
