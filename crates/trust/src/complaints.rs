//! Complaints from viewers against a show, a product or a seller, and what their outcome does.

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

impl ComplaintReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ComplaintReason::MisleadingClaim => "misleading_claim",
            ComplaintReason::Counterfeit => "counterfeit",
            ComplaintReason::InferiorQuality => "inferior_quality",
            ComplaintReason::NotDelivered => "not_delivered",
            ComplaintReason::MinorSpending => "minor_spending",
            ComplaintReason::Other => "other",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            ComplaintReason::MisleadingClaim,
            ComplaintReason::Counterfeit,
            ComplaintReason::InferiorQuality,
            ComplaintReason::NotDelivered,
            ComplaintReason::MinorSpending,
            ComplaintReason::Other,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
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

impl ComplaintTarget {
    pub fn as_str(self) -> &'static str {
        match self {
            ComplaintTarget::Show => "show",
            ComplaintTarget::Product => "product",
            ComplaintTarget::Seller => "seller",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "show" => Some(ComplaintTarget::Show),
            "product" => Some(ComplaintTarget::Product),
            "seller" => Some(ComplaintTarget::Seller),
            _ => None,
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
    }
}
