//! The states of what ops review: a real-name check or a seller's KYB data (`ReviewState`), and
//! a show's risk assessment with its flagged orders (`RiskState`, decided by a `RiskVerdict`).

use serde::{Deserialize, Serialize};

/// A submission waiting for a reviewer, or decided by one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewState {
    Submitted,
    Approved,
    Rejected,
}

names!(ReviewState {
    Submitted => "submitted",
    Approved => "approved",
    Rejected => "rejected",
});

impl ReviewState {
    /// What a reviewer's decision makes of it.
    pub fn decided(approve: bool) -> ReviewState {
        if approve {
            ReviewState::Approved
        } else {
            ReviewState::Rejected
        }
    }
}

/// A show's risk assessment, and each of its flagged orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskState {
    /// Held or flagged: for ops to review.
    Open,
    /// Below the threshold, nothing flagged (an assessment only).
    Clear,
    /// Ops released it.
    Cleared,
    /// Ops confirmed fake sales: it stays held.
    Confirmed,
}

names!(RiskState {
    Open => "open",
    Clear => "clear",
    Cleared => "cleared",
    Confirmed => "confirmed",
});

/// Ops' decision on a held show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskVerdict {
    /// Release the held earnings.
    Cleared,
    /// Fake sales: the earnings stay held and the host climbs the sanctions ladder.
    Confirmed,
}

names!(RiskVerdict {
    Cleared => "cleared",
    Confirmed => "confirmed",
});

impl RiskVerdict {
    /// The state the show and its flags take.
    pub fn state(self) -> RiskState {
        match self {
            RiskVerdict::Cleared => RiskState::Cleared,
            RiskVerdict::Confirmed => RiskState::Confirmed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in ReviewState::ALL {
            assert_eq!(ReviewState::parse(s.as_str()), Some(*s));
        }
        for s in RiskState::ALL {
            assert_eq!(RiskState::parse(s.as_str()), Some(*s));
        }
        for v in RiskVerdict::ALL {
            assert_eq!(v.state().as_str(), v.as_str());
        }
        assert_eq!(ReviewState::decided(false), ReviewState::Rejected);
        assert_eq!(RiskVerdict::parse("clear"), None);
        assert_eq!(ReviewState::parse("Approved"), None);
    }
}
