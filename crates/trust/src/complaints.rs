//! Complaints from viewers against a show, a product or a seller, and what their outcome does;
//! guardians' claims for a minor's spending.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComplaintReason {
    MisleadingClaim,
    Counterfeit,
    InferiorQuality,
    NotDelivered,
    MinorSpending,
    Other,
}

names!(ComplaintReason {
    MisleadingClaim => "misleading_claim",
    Counterfeit => "counterfeit",
    InferiorQuality => "inferior_quality",
    NotDelivered => "not_delivered",
    MinorSpending => "minor_spending",
    Other => "other",
});

impl ComplaintReason {
    /// Money at stake or fakes in circulation: decided sooner.
    pub fn urgent(self) -> bool {
        matches!(
            self,
            ComplaintReason::NotDelivered | ComplaintReason::Counterfeit
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComplaintTarget {
    Show,
    Product,
    Seller,
}

names!(ComplaintTarget {
    Show => "show",
    Product => "product",
    Seller => "seller",
});

/// A complaint: open until ops decide it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComplaintState {
    Open,
    /// Its subject climbs the sanctions ladder; its order may be refunded.
    Upheld,
    Dismissed,
}

names!(ComplaintState {
    Open => "open",
    Upheld => "upheld",
    Dismissed => "dismissed",
});

impl ComplaintState {
    /// Ops' decision.
    pub fn decided(uphold: bool) -> ComplaintState {
        if uphold {
            ComplaintState::Upheld
        } else {
            ComplaintState::Dismissed
        }
    }
}

/// A guardian's claim that a minor spent their money: open until ops decide it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GuardianClaimState {
    Open,
    /// The minor's gifts were taken back and the account put in minor mode.
    Approved,
    Rejected,
}

names!(GuardianClaimState {
    Open => "open",
    Approved => "approved",
    Rejected => "rejected",
});

impl GuardianClaimState {
    /// Ops' decision.
    pub fn decided(approve: bool) -> GuardianClaimState {
        if approve {
            GuardianClaimState::Approved
        } else {
            GuardianClaimState::Rejected
        }
    }
}

/// When ops must have decided, from when it was filed (ms).
pub fn deadline(reason: ComplaintReason, filed_at: i64, hours: i64, urgent_hours: i64) -> i64 {
    let h = if reason.urgent() { urgent_hours } else { hours };
    filed_at + h * 3_600_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_and_names() {
        assert_eq!(
            deadline(ComplaintReason::NotDelivered, 0, 72, 48),
            48 * 3_600_000
        );
        assert_eq!(
            deadline(ComplaintReason::MisleadingClaim, 0, 72, 48),
            72 * 3_600_000
        );
        for r in [
            "misleading_claim",
            "counterfeit",
            "inferior_quality",
            "not_delivered",
            "minor_spending",
            "other",
        ] {
            assert_eq!(ComplaintReason::parse(r).unwrap().as_str(), r);
        }
        assert!(ComplaintReason::parse("meh").is_none());
        assert_eq!(
            ComplaintTarget::parse("seller"),
            Some(ComplaintTarget::Seller)
        );
        for s in ComplaintState::ALL {
            assert_eq!(ComplaintState::parse(s.as_str()), Some(*s));
        }
        for s in GuardianClaimState::ALL {
            assert_eq!(GuardianClaimState::parse(s.as_str()), Some(*s));
        }
        assert_eq!(ComplaintState::decided(true), ComplaintState::Upheld);
        assert_eq!(
            GuardianClaimState::decided(false),
            GuardianClaimState::Rejected
        );
    }
}
