//! The sanctions a room enforces and the reasons a comment may be removed. The keyword
//! matching the room's lists use is `hawker_domain::text` (the trust rules use it too).

pub use hawker_domain::text::{normalize, Hit, KeywordFilter, ListSource};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// Why a moderator removed a comment. Only rule violations are reasons: a comment that is
/// merely negative about a product is not one, and cannot be removed as one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleViolation {
    Spam,
    Abuse,
    Hate,
    Scam,
    PersonalData,
    Illegal,
    Sexual,
}

impl RuleViolation {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleViolation::Spam => "spam",
            RuleViolation::Abuse => "abuse",
            RuleViolation::Hate => "hate",
            RuleViolation::Scam => "scam",
            RuleViolation::PersonalData => "personal_data",
            RuleViolation::Illegal => "illegal",
            RuleViolation::Sexual => "sexual",
        }
    }
}

/// Sanctions in force in a room.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sanctions {
    /// account → muted until (ms).
    pub muted_until: HashMap<i64, u64>,
    pub banned: HashSet<i64>,
    /// Their comments are shown to themselves only.
    pub shadow_banned: HashSet<i64>,
    /// Seconds between two comments of one account; 0 = off.
    pub slow_mode_s: u32,
}

impl Sanctions {
    pub fn muted(&self, account: i64, now_ms: u64) -> Option<u64> {
        self.muted_until
            .get(&account)
            .copied()
            .filter(|&until| until > now_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mute_expires() {
        let mut s = Sanctions::default();
        s.muted_until.insert(7, 1000);
        assert_eq!(s.muted(7, 999), Some(1000));
        assert_eq!(s.muted(7, 1000), None);
    }
}
