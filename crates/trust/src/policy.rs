//! The trust rules of one law profile (`cn`, `eu`, `us`), every number configurable: who may
//! stream, who may gift or buy, what minors may spend, when a seller must be verified and
//! disclosed, and when integrity signals hold earnings.

use crate::age::AgeRefusal;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrustPolicy {
    /// `cn`, `eu` or `us`.
    pub law: String,
    /// Streamers this old or older may go live; below `adult_age` only with a guardian's
    /// consent on record.
    pub min_stream_age: i32,
    pub adult_age: i32,
    /// Accounts without a verified age may send gifts and buy coins (false under `cn`).
    pub unverified_may_gift: bool,
    /// A minor's purchase caps, in minor units of the shop currency (0 = purchases refused).
    pub minor_order_cap_minor: i64,
    pub minor_daily_cap_minor: i64,
    /// Going live needs a fresh identity re-check of the person at the camera (`cn`).
    pub recheck_before_broadcast: bool,
    /// How long a passed re-check allows a publish to start.
    pub recheck_valid_minutes: i64,
    /// No first broadcast before the platform-rules course is passed.
    pub training_required: bool,
    /// Share of quiz answers that must be right, in basis points.
    pub training_pass_bps: u32,
    /// Business sellers above these yearly figures must be verified (eu DSA art. 30, us INFORM).
    pub kyb_sales_count: i64,
    pub kyb_sales_minor: i64,
    /// And above this yearly amount their identity and contact are shown to buyers (us INFORM).
    pub kyb_disclose_minor: i64,
    /// Days a seller over the thresholds may go on selling before the verification is approved.
    pub kyb_grace_days: i64,
    /// How long a seller's KYB standing is remembered before a year's sales are summed again.
    pub kyb_recheck_seconds: i64,
    /// Hours ops has to decide a complaint.
    pub complaint_deadline_hours: i64,
    /// Hours ops has to decide a complaint about an undelivered order or a counterfeit.
    pub urgent_complaint_deadline_hours: i64,
    /// A show scoring at least this (basis points of 1.0) has its earnings held.
    pub hold_score_bps: u32,
    /// Refunds or cancels this soon after a show ends count as a signal.
    pub refund_after_show_hours: i64,
}

impl Default for TrustPolicy {
    fn default() -> Self {
        TrustPolicy::for_law("eu")
    }
}

impl TrustPolicy {
    /// The defaults of a law profile; unknown names get the `eu` rules.
    pub fn for_law(law: &str) -> TrustPolicy {
        let base = TrustPolicy {
            law: "eu".into(),
            min_stream_age: 16,
            adult_age: 18,
            unverified_may_gift: true,
            minor_order_cap_minor: 5_000,
            minor_daily_cap_minor: 10_000,
            recheck_before_broadcast: false,
            recheck_valid_minutes: 30,
            training_required: true,
            training_pass_bps: 8_000,
            kyb_sales_count: 200,
            kyb_sales_minor: 500_000,
            kyb_disclose_minor: 2_000_000,
            kyb_grace_days: 10,
            kyb_recheck_seconds: 600,
            complaint_deadline_hours: 72,
            urgent_complaint_deadline_hours: 48,
            hold_score_bps: 6_000,
            refund_after_show_hours: 48,
        };
        match law {
            "cn" => TrustPolicy {
                law: "cn".into(),
                unverified_may_gift: false,
                // The minor caps of the 2022 minors' live-streaming rules are per platform;
                // these are the demo's, in fen.
                minor_order_cap_minor: 10_000,
                minor_daily_cap_minor: 20_000,
                recheck_before_broadcast: true,
                ..base
            },
            "us" => TrustPolicy {
                law: "us".into(),
                ..base
            },
            _ => base,
        }
    }
}

/// What a business seller owes the platform and buyers for a year's sales.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KybDuty {
    None,
    /// Registration number, address and payout account must be verified.
    Verify,
    /// Verified, and the name and contact shown to buyers.
    VerifyAndDisclose,
}

names!(KybDuty {
    None => "none",
    Verify => "verify",
    VerifyAndDisclose => "verify_and_disclose",
});

impl TrustPolicy {
    /// DSA art. 30 / INFORM: at least `kyb_sales_count` sales **and** `kyb_sales_minor` in a
    /// year triggers verification; `kyb_disclose_minor` in a year also disclosure.
    pub fn kyb_duty(&self, sales_count: i64, sales_minor: i64) -> KybDuty {
        if sales_count < self.kyb_sales_count || sales_minor < self.kyb_sales_minor {
            KybDuty::None
        } else if sales_minor >= self.kyb_disclose_minor {
            KybDuty::VerifyAndDisclose
        } else {
            KybDuty::Verify
        }
    }

    /// May a minor (or an account in minor mode) place an order of `amount` having already
    /// spent `spent_today` today?
    pub fn minor_may_buy(&self, amount: i64, spent_today: i64) -> Result<(), String> {
        if amount > self.minor_order_cap_minor {
            return Err(format!(
                "a minor's order is capped at {} (minor units)",
                self.minor_order_cap_minor
            ));
        }
        if spent_today.saturating_add(amount) > self.minor_daily_cap_minor {
            return Err(format!(
                "a minor's purchases are capped at {} a day (minor units)",
                self.minor_daily_cap_minor
            ));
        }
        Ok(())
    }

    /// May someone of verified `age` go live (16+; under the adult age only with a guardian's
    /// consent on record)?
    pub fn may_stream(&self, age: i32, guardian_consent: bool) -> Result<(), AgeRefusal> {
        if age < self.min_stream_age {
            Err(AgeRefusal::TooYoungToStream)
        } else if age < self.adult_age && !guardian_consent {
            Err(AgeRefusal::NeedsGuardianConsent)
        } else {
            Ok(())
        }
    }

    /// May someone gift or buy coins? `age` is `None` when unverified.
    pub fn may_spend_coins(&self, age: Option<i32>) -> Result<(), AgeRefusal> {
        match age {
            Some(a) if a < self.adult_age => Err(AgeRefusal::MinorSpending),
            Some(_) => Ok(()),
            None if self.unverified_may_gift => Ok(()),
            None => Err(AgeRefusal::AgeUnknown),
        }
    }

    /// Is a re-check passed at `passed_at` (ms) still good at `now`?
    pub fn recheck_fresh(&self, passed_at: Option<i64>, now: i64) -> bool {
        passed_at.is_some_and(|t| t <= now && now - t <= self.recheck_valid_minutes * 60_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_and_thresholds() {
        let cn = TrustPolicy::for_law("cn");
        assert!(!cn.unverified_may_gift && cn.recheck_before_broadcast);
        let us = TrustPolicy::for_law("us");
        assert!(us.unverified_may_gift && !us.recheck_before_broadcast);
        assert_eq!(us.kyb_duty(199, 10_000_000), KybDuty::None);
        assert_eq!(us.kyb_duty(200, 499_999), KybDuty::None);
        assert_eq!(us.kyb_duty(200, 500_000), KybDuty::Verify);
        assert_eq!(us.kyb_duty(900, 2_000_000), KybDuty::VerifyAndDisclose);
        assert!(cn.minor_may_buy(10_000, 0).is_ok());
        assert!(cn.minor_may_buy(10_001, 0).is_err());
        assert!(cn.minor_may_buy(5_000, 15_001).is_err());
        assert!(cn.recheck_fresh(Some(1_000), 1_000 + 30 * 60_000));
        assert!(!cn.recheck_fresh(Some(1_000), 1_001 + 30 * 60_000));
        assert!(!cn.recheck_fresh(None, 5));
        assert!(!cn.recheck_fresh(Some(10), 5));
        assert_eq!(cn.may_stream(15, true), Err(AgeRefusal::TooYoungToStream));
        assert_eq!(
            cn.may_stream(16, false),
            Err(AgeRefusal::NeedsGuardianConsent)
        );
        assert_eq!(cn.may_stream(17, true), Ok(()));
        assert_eq!(cn.may_stream(18, false), Ok(()));
        let older = TrustPolicy {
            min_stream_age: 18,
            adult_age: 19,
            ..us.clone()
        };
        assert_eq!(
            older.may_stream(17, true),
            Err(AgeRefusal::TooYoungToStream)
        );
        assert_eq!(
            older.may_stream(18, false),
            Err(AgeRefusal::NeedsGuardianConsent)
        );
        assert_eq!(
            older.may_spend_coins(Some(18)),
            Err(AgeRefusal::MinorSpending)
        );
        assert_eq!(cn.may_spend_coins(Some(17)), Err(AgeRefusal::MinorSpending));
        assert_eq!(cn.may_spend_coins(None), Err(AgeRefusal::AgeUnknown));
        assert_eq!(us.may_spend_coins(None), Ok(()));
        assert_eq!(cn.may_spend_coins(Some(30)), Ok(()));
    }
}
