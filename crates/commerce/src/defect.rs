//! Defect claims: goods that arrived broken or spoiled, excepted goods (perishables,
//! custom-made, digital) included — the law excepts them from returns *without* a defect only.
//!
//! The buyer claims with a description and photos before the law profile's deadline
//! (`LawProfile::defect_claim_deadline`); the seller accepts (a refund without return, or
//! a refund once the goods are back) or disputes; a disputed claim, or one the seller leaves
//! open, is decided by the platform. Pure: who may do what from which state.

use crate::order::ActorKind;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimState {
    /// Waiting for the seller.
    Open,
    /// The seller accepted it.
    Accepted,
    /// The seller disputed it: the platform decides.
    Disputed,
    /// The platform found for the buyer.
    Upheld,
    /// The platform found for the seller.
    Rejected,
}

impl ClaimState {
    pub const ALL: [ClaimState; 5] = [
        ClaimState::Open,
        ClaimState::Accepted,
        ClaimState::Disputed,
        ClaimState::Upheld,
        ClaimState::Rejected,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ClaimState::Open => "open",
            ClaimState::Accepted => "accepted",
            ClaimState::Disputed => "disputed",
            ClaimState::Upheld => "upheld",
            ClaimState::Rejected => "rejected",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
    pub fn is_final(self) -> bool {
        matches!(
            self,
            ClaimState::Accepted | ClaimState::Upheld | ClaimState::Rejected
        )
    }
}

/// What the buyer gets when a claim is accepted or upheld.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Remedy {
    /// Refunded at once; the buyer keeps (or throws away) the goods.
    RefundWithoutReturn,
    /// Refunded when the goods are back, through the return steps.
    RefundWithReturn,
}

impl Remedy {
    pub fn as_str(self) -> &'static str {
        match self {
            Remedy::RefundWithoutReturn => "refund_without_return",
            Remedy::RefundWithReturn => "refund_with_return",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "refund_without_return" => Some(Remedy::RefundWithoutReturn),
            "refund_with_return" => Some(Remedy::RefundWithReturn),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimAction {
    /// The seller accepts.
    Accept(Remedy),
    /// The seller disputes.
    Dispute,
    /// The platform finds for the buyer.
    Uphold(Remedy),
    /// The platform finds for the seller.
    Reject,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimError {
    #[error("a claim that is {0} cannot be {1}")]
    NotAllowed(&'static str, &'static str),
    #[error("only {0} may do this")]
    WrongActor(&'static str),
    #[error("a claim on this order is already under way")]
    UnderWay,
}

impl ClaimAction {
    fn verb(self) -> &'static str {
        match self {
            ClaimAction::Accept(_) => "accepted",
            ClaimAction::Dispute => "disputed",
            ClaimAction::Uphold(_) => "upheld",
            ClaimAction::Reject => "rejected",
        }
    }

    /// The remedy this action grants, if any.
    pub fn remedy(self) -> Option<Remedy> {
        match self {
            ClaimAction::Accept(r) | ClaimAction::Uphold(r) => Some(r),
            _ => None,
        }
    }
}

/// The claim's state after `action` by `actor`, or why not.
pub fn next(
    from: ClaimState,
    action: ClaimAction,
    actor: ActorKind,
) -> Result<ClaimState, ClaimError> {
    use ClaimState::*;
    match action {
        ClaimAction::Accept(_) | ClaimAction::Dispute if actor != ActorKind::Merchant => {
            return Err(ClaimError::WrongActor("the seller"))
        }
        ClaimAction::Uphold(_) | ClaimAction::Reject if actor != ActorKind::Platform => {
            return Err(ClaimError::WrongActor("the platform"))
        }
        _ => {}
    }
    match (from, action) {
        (Open, ClaimAction::Accept(_)) => Ok(Accepted),
        (Open, ClaimAction::Dispute) => Ok(Disputed),
        // The platform decides a disputed claim, or one the seller leaves unanswered.
        (Open | Disputed, ClaimAction::Uphold(_)) => Ok(Upheld),
        (Open | Disputed, ClaimAction::Reject) => Ok(Rejected),
        _ => Err(ClaimError::NotAllowed(from.as_str(), action.verb())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::ReturnClass;
    use crate::law::LawProfile;
    use ActorKind::*;

    #[test]
    fn the_seller_answers_and_the_platform_decides_disputes() {
        let refund = Remedy::RefundWithoutReturn;
        assert_eq!(
            next(ClaimState::Open, ClaimAction::Accept(refund), Merchant),
            Ok(ClaimState::Accepted)
        );
        assert_eq!(
            next(ClaimState::Open, ClaimAction::Dispute, Merchant),
            Ok(ClaimState::Disputed)
        );
        assert_eq!(
            next(ClaimState::Disputed, ClaimAction::Uphold(refund), Platform),
            Ok(ClaimState::Upheld)
        );
        assert_eq!(
            next(ClaimState::Disputed, ClaimAction::Reject, Platform),
            Ok(ClaimState::Rejected)
        );
        // Nobody else, and nothing twice.
        assert!(next(ClaimState::Open, ClaimAction::Accept(refund), Buyer).is_err());
        assert!(next(ClaimState::Open, ClaimAction::Uphold(refund), Merchant).is_err());
        assert!(next(ClaimState::Disputed, ClaimAction::Accept(refund), Merchant).is_err());
        for done in [
            ClaimState::Accepted,
            ClaimState::Upheld,
            ClaimState::Rejected,
        ] {
            for (a, who) in [
                (ClaimAction::Accept(refund), Merchant),
                (ClaimAction::Dispute, Merchant),
                (ClaimAction::Uphold(refund), Platform),
                (ClaimAction::Reject, Platform),
            ] {
                assert!(next(done, a, who).is_err(), "{done:?} {a:?}");
            }
        }
    }

    #[test]
    fn perishables_are_claimed_within_days_other_goods_within_the_return_window() {
        let day = 86_400_000;
        let cn = LawProfile::cn();
        assert_eq!(cn.defect_claim_days(ReturnClass::Perishable), 2);
        assert_eq!(cn.defect_claim_days(ReturnClass::CustomMade), 7);
        assert_eq!(
            cn.defect_claim_deadline(ReturnClass::Perishable, 0),
            2 * day
        );
        let eu = LawProfile::eu();
        assert_eq!(eu.defect_claim_days(ReturnClass::Perishable), 3);
        assert_eq!(eu.defect_claim_days(ReturnClass::Normal), 14);
        assert_eq!(LawProfile::us().defect_claim_days(ReturnClass::Digital), 30);
    }

    #[test]
    fn names_round_trip() {
        for s in ClaimState::ALL {
            assert_eq!(ClaimState::parse(s.as_str()), Some(s));
        }
        for r in [Remedy::RefundWithoutReturn, Remedy::RefundWithReturn] {
            assert_eq!(Remedy::parse(r.as_str()), Some(r));
        }
    }
}
