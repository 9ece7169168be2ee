//! The sanctions ladder and what each rung takes away. An account's standing is its highest
//! active sanction; closure is permanent and blacklists the verified identity, devices and
//! payment instruments, so the same person cannot come back under a new account.

use crate::risk::LinkKind;
use serde::{Deserialize, Serialize};

/// Rungs in order: each includes what the ones below take away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SanctionLevel {
    Warning,
    /// No gifts received, no paid slots, nothing in regulated categories.
    FeatureLimit,
    /// Left out of the home feed and recommendations.
    TrafficLimit,
    /// The live stream is cut and going live refused while it lasts.
    StreamCut,
    /// No streaming, selling or payouts while it lasts.
    Suspension,
    /// For good; identity, devices and instruments blacklisted.
    Closure,
}

impl SanctionLevel {
    pub const ALL: [SanctionLevel; 6] = [
        SanctionLevel::Warning,
        SanctionLevel::FeatureLimit,
        SanctionLevel::TrafficLimit,
        SanctionLevel::StreamCut,
        SanctionLevel::Suspension,
        SanctionLevel::Closure,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            SanctionLevel::Warning => "warning",
            SanctionLevel::FeatureLimit => "feature_limit",
            SanctionLevel::TrafficLimit => "traffic_limit",
            SanctionLevel::StreamCut => "stream_cut",
            SanctionLevel::Suspension => "suspension",
            SanctionLevel::Closure => "closure",
        }
    }
    pub fn parse(s: &str) -> Option<SanctionLevel> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }
    /// The next rung up: a repeat offence climbs the ladder.
    pub fn next(self) -> SanctionLevel {
        Self::ALL
            .into_iter()
            .find(|l| *l > self)
            .unwrap_or(SanctionLevel::Closure)
    }
}

/// What the blacklist holds (as keyed hashes): a closed account's verified identity, and the
/// devices and payment instruments it was seen with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlacklistKind {
    Identity,
    Link(LinkKind),
}

impl BlacklistKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BlacklistKind::Identity => "identity",
            BlacklistKind::Link(k) => k.as_str(),
        }
    }
    pub fn parse(s: &str) -> Option<BlacklistKind> {
        match s {
            "identity" => Some(BlacklistKind::Identity),
            _ => LinkKind::parse(s).map(BlacklistKind::Link),
        }
    }
}

/// One sanction as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sanction {
    pub level: SanctionLevel,
    /// Ms since the epoch; `None` = until lifted (closure is never lifted).
    pub until: Option<i64>,
    pub lifted: bool,
}

impl Sanction {
    pub fn active(&self, now: i64) -> bool {
        self.level == SanctionLevel::Closure || (!self.lifted && self.until.is_none_or(|u| now < u))
    }
}

/// What an account may do, given its sanctions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Standing {
    pub level: Option<SanctionLevel>,
}

impl Standing {
    pub fn of(sanctions: &[Sanction], now: i64) -> Standing {
        Standing {
            level: sanctions
                .iter()
                .filter(|s| s.active(now))
                .map(|s| s.level)
                .max(),
        }
    }
    fn at_least(self, l: SanctionLevel) -> bool {
        self.level.is_some_and(|x| x >= l)
    }
    pub fn may_go_live(self) -> Result<(), SanctionLevel> {
        match self.level {
            Some(l) if l >= SanctionLevel::StreamCut => Err(l),
            _ => Ok(()),
        }
    }
    /// Below a feature limit: gifts received, paid slots.
    pub fn full_features(self) -> bool {
        !self.at_least(SanctionLevel::FeatureLimit)
    }
    pub fn in_feed(self) -> bool {
        !self.at_least(SanctionLevel::TrafficLimit)
    }
    pub fn may_sell(self) -> bool {
        !self.at_least(SanctionLevel::Suspension)
    }
    pub fn closed(self) -> bool {
        self.level == Some(SanctionLevel::Closure)
    }
}

/// An account's grade, for ops and for how much the platform trusts it by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// Sanctioned above a warning, or two upheld complaints in 90 days.
    Restricted,
    /// Not yet verified, or no sales yet.
    New,
    Standard,
    /// Verified, clean record and a year's sales above the threshold.
    Established,
}

/// Grades by compliance first (sanctions, upheld complaints), then by size (a year's sales).
pub fn tier(
    standing: Standing,
    upheld_complaints_90d: u32,
    verified: bool,
    year_sales_minor: i64,
    established_minor: i64,
) -> Tier {
    if standing.at_least(SanctionLevel::FeatureLimit) || upheld_complaints_90d >= 2 {
        Tier::Restricted
    } else if !verified || year_sales_minor == 0 {
        Tier::New
    } else if year_sales_minor >= established_minor && standing.level.is_none() {
        Tier::Established
    } else {
        Tier::Standard
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(level: SanctionLevel, until: Option<i64>, lifted: bool) -> Sanction {
        Sanction {
            level,
            until,
            lifted,
        }
    }

    #[test]
    fn the_ladder() {
        use SanctionLevel::*;
        assert_eq!(Warning.next(), FeatureLimit);
        assert_eq!(Closure.next(), Closure);
        assert_eq!(SanctionLevel::parse("stream_cut"), Some(StreamCut));
        for k in [
            BlacklistKind::Identity,
            BlacklistKind::Link(LinkKind::Device),
            BlacklistKind::Link(LinkKind::PaymentInstrument),
        ] {
            assert_eq!(BlacklistKind::parse(k.as_str()), Some(k));
        }
        let now = 1_000;
        let st = Standing::of(
            &[s(Warning, None, false), s(StreamCut, Some(900), false)],
            now,
        );
        assert_eq!(st.level, Some(Warning));
        assert!(st.may_go_live().is_ok());
        let st = Standing::of(&[s(StreamCut, Some(2_000), false)], now);
        assert_eq!(st.may_go_live(), Err(StreamCut));
        assert!(!st.full_features() && !st.in_feed() && st.may_sell());
        // Lifting works for everything but closure.
        assert!(Standing::of(&[s(Suspension, None, true)], now)
            .level
            .is_none());
        assert!(Standing::of(&[s(Closure, Some(1), true)], now).closed());
        assert_eq!(
            tier(Standing { level: None }, 0, true, 3_000_000, 1_000_000),
            Tier::Established
        );
        assert_eq!(
            tier(
                Standing {
                    level: Some(Warning)
                },
                0,
                true,
                3_000_000,
                1_000_000
            ),
            Tier::Standard
        );
        assert_eq!(
            tier(Standing { level: None }, 2, true, 3_000_000, 1_000_000),
            Tier::Restricted
        );
        assert_eq!(
            tier(Standing { level: None }, 0, false, 3_000_000, 1_000_000),
            Tier::New
        );
    }
}
