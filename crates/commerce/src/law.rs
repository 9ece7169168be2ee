//! Returns by law profile: one profile per deployment, every number configurable.
//!
//! - `cn`: 7 days without a reason from receipt; the refund within 7 days of receiving the
//!   return; perishable, custom-made and opened digital goods excepted.
//! - `eu`: 14-day withdrawal from receipt, auctions included; the same exceptions.
//! - `us`: the merchant's own policy (default 30 days); no statutory right.

use crate::catalog::ReturnClass;
use crate::disclosure::DisclosureRules;
use crate::draw::DrawRules;
use serde::{Deserialize, Serialize};

const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LawProfile {
    /// `cn`, `eu` or `us`.
    pub name: String,
    /// Days after delivery during which a return needs no reason; 0 = none by law.
    pub no_reason_return_days: u32,
    /// Days the merchant has to refund after receiving the goods back.
    pub refund_within_days: u32,
    /// Whether auction purchases may be returned too.
    pub auctions_returnable: bool,
    /// Where the law grants nothing, the merchant's window (days).
    pub merchant_policy_days: u32,
    /// Paid-promotion labels: their wording and how often the room repeats them.
    pub disclosure: DisclosureRules,
    /// Prize draws: the top prize's cap and whether a free entry route is required.
    pub draws: DrawRules,
    /// Days after delivery to claim a defect in perishable goods (rotten on arrival is seen
    /// at once; other goods have the whole return window).
    pub perishable_defect_days: u32,
}

impl Default for LawProfile {
    fn default() -> Self {
        LawProfile::eu()
    }
}

impl LawProfile {
    pub fn cn() -> Self {
        LawProfile {
            name: "cn".into(),
            no_reason_return_days: 7,
            refund_within_days: 7,
            auctions_returnable: false,
            merchant_policy_days: 7,
            disclosure: DisclosureRules::cn(),
            draws: DrawRules::cn(),
            perishable_defect_days: 2,
        }
    }
    pub fn eu() -> Self {
        LawProfile {
            name: "eu".into(),
            no_reason_return_days: 14,
            refund_within_days: 14,
            auctions_returnable: true,
            merchant_policy_days: 14,
            disclosure: DisclosureRules::eu(),
            draws: DrawRules::eu(),
            perishable_defect_days: 3,
        }
    }
    pub fn us() -> Self {
        LawProfile {
            name: "us".into(),
            no_reason_return_days: 0,
            refund_within_days: 30,
            auctions_returnable: false,
            merchant_policy_days: 30,
            disclosure: DisclosureRules::us(),
            draws: DrawRules::us(),
            perishable_defect_days: 3,
        }
    }

    pub fn named(name: &str) -> Option<Self> {
        match name {
            "cn" => Some(Self::cn()),
            "eu" => Some(Self::eu()),
            "us" => Some(Self::us()),
            _ => None,
        }
    }

    /// Days after delivery in which a return may be requested.
    pub fn return_window_days(&self) -> u32 {
        if self.no_reason_return_days > 0 {
            self.no_reason_return_days
        } else {
            self.merchant_policy_days
        }
    }

    /// Until when (ms) a return may be requested for goods delivered at `delivered_ms`.
    pub fn return_deadline(&self, delivered_ms: i64) -> i64 {
        delivered_ms + self.return_window_days() as i64 * DAY_MS
    }

    /// By when (ms) a return received at `received_ms` must be refunded.
    pub fn refund_deadline(&self, received_ms: i64) -> i64 {
        received_ms + self.refund_within_days as i64 * DAY_MS
    }

    pub fn may_return(
        &self,
        class: ReturnClass,
        from_auction: bool,
        delivered_ms: i64,
        now_ms: i64,
    ) -> Result<(), ReturnRefusal> {
        if from_auction && !self.auctions_returnable {
            return Err(ReturnRefusal::Auction);
        }
        if class.is_exception() {
            return Err(ReturnRefusal::Excepted(class));
        }
        if now_ms > self.return_deadline(delivered_ms) {
            return Err(ReturnRefusal::WindowClosed {
                days: self.return_window_days(),
            });
        }
        Ok(())
    }
}

impl LawProfile {
    /// Days after delivery in which a defect may be claimed on goods of `class`: the return
    /// window (so the order has not completed and settled), shorter for perishables.
    pub fn defect_claim_days(&self, class: ReturnClass) -> u32 {
        match class {
            ReturnClass::Perishable => self.perishable_defect_days.min(self.return_window_days()),
            _ => self.return_window_days(),
        }
    }

    /// Until when (ms) a defect may be claimed on goods of `class` delivered at `delivered_ms`.
    pub fn defect_claim_deadline(&self, class: ReturnClass, delivered_ms: i64) -> i64 {
        delivered_ms + self.defect_claim_days(class) as i64 * DAY_MS
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReturnRefusal {
    #[error("the {days}-day return window has closed")]
    WindowClosed { days: u32 },
    #[error("{} goods are excepted from returns without a defect", .0.as_str())]
    Excepted(ReturnClass),
    #[error("auction purchases cannot be returned under this profile")]
    Auction,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_per_profile() {
        let d = 1_000_000;
        let cn = LawProfile::cn();
        assert!(cn
            .may_return(ReturnClass::Normal, false, d, d + 7 * DAY_MS)
            .is_ok());
        assert!(matches!(
            cn.may_return(ReturnClass::Normal, false, d, d + 7 * DAY_MS + 1),
            Err(ReturnRefusal::WindowClosed { days: 7 })
        ));
        assert!(matches!(
            cn.may_return(ReturnClass::Perishable, false, d, d),
            Err(ReturnRefusal::Excepted(_))
        ));
        let eu = LawProfile::eu();
        assert!(
            eu.may_return(ReturnClass::Normal, true, d, d + 14 * DAY_MS)
                .is_ok(),
            "auctions included"
        );
        assert!(cn.may_return(ReturnClass::Normal, true, d, d).is_err());
        assert_eq!(LawProfile::us().return_window_days(), 30);
        assert_eq!(cn.refund_deadline(0), 7 * DAY_MS);
    }
}
