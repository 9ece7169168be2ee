//! Prize draws in a show: the law profile's cap on the top prize (`cn`: ¥50,000), the free
//! entry route (`us`: no purchase necessary, so entering never needs an order), and a winner
//! selection anyone can re-run.
//!
//! Selection: the entrants' account ids, sorted and without repeats, are shuffled by a partial
//! Fisher–Yates driven by ChaCha20 seeded with 32 random bytes (uniform indices by rejection
//! sampling on `next_u64`); the first `winners` are the winners. The seed's SHA-256 is published
//! when the draw is created and the seed itself when it is drawn, with a digest of the entrant
//! list, so an auditor can check that neither was chosen after the fact.

use hawker_domain::{Currency, Money};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Named in every drawn record, so the selection can be re-run.
pub const ALGORITHM: &str = "chacha20-fisher-yates-v1";

/// At most this many winners per draw.
pub const MAX_WINNERS: u32 = 100;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DrawRules {
    /// The top prize may be worth at most this; None: no cap.
    pub top_prize_cap: Option<Money>,
    /// A free entry route must exist, and entry never requires an order (`us`).
    pub free_entry_required: bool,
}

impl Default for DrawRules {
    fn default() -> Self {
        DrawRules::eu()
    }
}

impl DrawRules {
    /// ¥50,000 in fen.
    pub const CN_CAP_MINOR: i64 = 5_000_000;

    pub fn cn() -> Self {
        DrawRules {
            top_prize_cap: Some(Money::new(Self::CN_CAP_MINOR, Currency::CNY)),
            free_entry_required: false,
        }
    }
    pub fn eu() -> Self {
        DrawRules {
            top_prize_cap: None,
            free_entry_required: false,
        }
    }
    pub fn us() -> Self {
        DrawRules {
            top_prize_cap: None,
            free_entry_required: true,
        }
    }

    /// Checks a new draw's terms.
    pub fn check(&self, t: &DrawTerms) -> Result<(), DrawRefusal> {
        let desc = t.prize_description.trim();
        if desc.is_empty() || desc.chars().count() > 200 {
            return Err(DrawRefusal::Invalid(
                "prize_description: 1 to 200 characters",
            ));
        }
        if t.prize.minor <= 0 {
            return Err(DrawRefusal::Invalid("prize value: above zero"));
        }
        if !(1..=MAX_WINNERS).contains(&t.winners) {
            return Err(DrawRefusal::Invalid("winners: 1 to 100"));
        }
        if let Some(k) = &t.keyword {
            if !valid_keyword(k) {
                return Err(DrawRefusal::Invalid(
                    "keyword: 1 to 30 characters, without spaces at the ends, % or _",
                ));
            }
        }
        if t.keyword.is_none() && !t.free_entry {
            return Err(DrawRefusal::NoEntryRoute);
        }
        if self.free_entry_required && (!t.free_entry || t.buyers_only) {
            return Err(DrawRefusal::FreeEntryRequired);
        }
        if let Some(cap) = self.top_prize_cap {
            if cap.currency != t.prize.currency {
                return Err(DrawRefusal::CapCurrency { cap });
            }
            if t.prize.minor > cap.minor {
                return Err(DrawRefusal::PrizeOverCap { cap });
            }
        }
        Ok(())
    }

    /// May someone enter `t` by `route`? `has_order`: they have a paid order in the show.
    /// Under a free-entry profile an order is never asked for, whatever the draw says.
    pub fn may_enter(
        &self,
        t: &DrawTerms,
        route: EntryRoute,
        has_order: bool,
    ) -> Result<(), EntryRefusal> {
        match route {
            EntryRoute::Free if !t.free_entry => return Err(EntryRefusal::RouteClosed),
            EntryRoute::Keyword if t.keyword.is_none() => return Err(EntryRefusal::RouteClosed),
            _ => {}
        }
        if t.buyers_only && !has_order && !self.free_entry_required {
            return Err(EntryRefusal::PurchaseRequired);
        }
        Ok(())
    }
}

fn valid_keyword(k: &str) -> bool {
    let n = k.chars().count();
    (1..=30).contains(&n)
        && k.trim() == k
        && !k.contains(['%', '_', '\\'])
        && !k.chars().any(char::is_control)
}

/// Does a comment enter a keyword draw? The keyword anywhere in it, ignoring case.
pub fn comment_enters(keyword: &str, comment: &str) -> bool {
    comment.to_lowercase().contains(&keyword.to_lowercase())
}

/// What a host proposes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrawTerms {
    pub prize_description: String,
    /// The top prize's value.
    pub prize: Money,
    pub winners: u32,
    /// Comments containing it (any case) enter their author.
    pub keyword: Option<String>,
    /// Anyone logged in may enter through the API, no purchase necessary.
    pub free_entry: bool,
    /// Only accounts with a paid order in the show may enter (never under `us`).
    pub buyers_only: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryRoute {
    Keyword,
    Free,
}

impl EntryRoute {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryRoute::Keyword => "keyword",
            EntryRoute::Free => "free",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "keyword" => Some(EntryRoute::Keyword),
            "free" => Some(EntryRoute::Free),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DrawRefusal {
    #[error("{0}")]
    Invalid(&'static str),
    #[error("the top prize may be worth at most {cap} under this law profile")]
    PrizeOverCap { cap: Money },
    #[error("the prize cap is in {}; state the prize's value in that currency", .cap.currency)]
    CapCurrency { cap: Money },
    #[error("a free entry route (no purchase necessary) is required: free_entry true, buyers_only false")]
    FreeEntryRequired,
    #[error("a draw needs a keyword or the free entry route")]
    NoEntryRoute,
}

impl DrawRefusal {
    /// Stable codes for problem documents.
    pub fn code(&self) -> &'static str {
        match self {
            DrawRefusal::Invalid(_) => "invalid_field",
            DrawRefusal::PrizeOverCap { .. } => "prize_over_cap",
            DrawRefusal::CapCurrency { .. } => "prize_currency_not_capped",
            DrawRefusal::FreeEntryRequired => "free_entry_required",
            DrawRefusal::NoEntryRoute => "no_entry_route",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EntryRefusal {
    #[error("this draw cannot be entered that way")]
    RouteClosed,
    #[error("only buyers in the show may enter this draw")]
    PurchaseRequired,
}

impl EntryRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            EntryRefusal::RouteClosed => "entry_route_closed",
            EntryRefusal::PurchaseRequired => "purchase_required",
        }
    }
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(H[(b >> 4) as usize] as char);
        s.push(H[(b & 15) as usize] as char);
    }
    s
}

/// Parses 64 hex digits.
pub fn seed_from_hex(s: &str) -> Option<[u8; 32]> {
    let b = s.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let nib = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = nib(b[2 * i])? << 4 | nib(b[2 * i + 1])?;
    }
    Some(out)
}

/// Published at creation: SHA-256 of the seed, hex.
pub fn commitment(seed: &[u8; 32]) -> String {
    hex(&Sha256::digest(seed))
}

/// The entrants in the order the selection uses: ascending, each once.
pub fn canonical(entrants: &[i64]) -> Vec<i64> {
    let mut v = entrants.to_vec();
    v.sort_unstable();
    v.dedup();
    v
}

/// SHA-256 of the canonical entrant list written as decimal ids joined by commas, hex.
pub fn entrants_digest(entrants: &[i64]) -> String {
    let list = canonical(entrants)
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    hex(&Sha256::digest(list.as_bytes()))
}

/// A uniform index below `bound` (> 0), without modulo bias.
fn below(rng: &mut rand_chacha::ChaCha20Rng, bound: u64) -> u64 {
    let zone = u64::MAX - (u64::MAX % bound);
    loop {
        let x = rng.next_u64();
        if x < zone {
            return x % bound;
        }
    }
}

/// The winners, in the order drawn: at most `winners`, each an entrant, none twice. The same
/// seed and entrants (in any order) give the same winners.
pub fn pick_winners(seed: &[u8; 32], entrants: &[i64], winners: usize) -> Vec<i64> {
    let mut pool = canonical(entrants);
    let n = pool.len();
    let k = winners.min(n);
    let mut rng = rand_chacha::ChaCha20Rng::from_seed(*seed);
    for i in 0..k {
        let j = i + below(&mut rng, (n - i) as u64) as usize;
        pool.swap(i, j);
    }
    pool.truncate(k);
    pool
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn terms(minor: i64, currency: Currency) -> DrawTerms {
        DrawTerms {
            prize_description: "A crate of peaches".into(),
            prize: Money::new(minor, currency),
            winners: 1,
            keyword: Some("peach".into()),
            free_entry: true,
            buyers_only: false,
        }
    }

    #[test]
    fn cn_caps_the_top_prize_at_fifty_thousand_yuan() {
        let cn = DrawRules::cn();
        assert!(cn.check(&terms(5_000_000, Currency::CNY)).is_ok());
        let e = cn.check(&terms(5_000_001, Currency::CNY)).unwrap_err();
        assert_eq!(e.code(), "prize_over_cap");
        assert_eq!(
            cn.check(&terms(100, Currency::EUR)).unwrap_err().code(),
            "prize_currency_not_capped"
        );
        assert!(DrawRules::eu()
            .check(&terms(50_000_000, Currency::EUR))
            .is_ok());
    }

    #[test]
    fn us_needs_a_free_entry_route_and_never_an_order() {
        let us = DrawRules::us();
        let mut t = terms(10_000, Currency::USD);
        t.free_entry = false;
        assert_eq!(us.check(&t).unwrap_err(), DrawRefusal::FreeEntryRequired);
        t.free_entry = true;
        t.buyers_only = true;
        assert_eq!(us.check(&t).unwrap_err(), DrawRefusal::FreeEntryRequired);
        assert!(DrawRules::eu().check(&t).is_ok());
        // Even a draw stored under other rules never asks a us entrant for an order.
        assert!(us.may_enter(&t, EntryRoute::Free, false).is_ok());
        assert_eq!(
            DrawRules::eu().may_enter(&t, EntryRoute::Free, false),
            Err(EntryRefusal::PurchaseRequired)
        );
        t.free_entry = false;
        assert_eq!(
            us.may_enter(&t, EntryRoute::Free, true),
            Err(EntryRefusal::RouteClosed)
        );
    }

    #[test]
    fn terms_are_checked() {
        let eu = DrawRules::eu();
        let mut t = terms(100, Currency::EUR);
        t.keyword = None;
        t.free_entry = false;
        assert_eq!(eu.check(&t).unwrap_err(), DrawRefusal::NoEntryRoute);
        for bad in ["", " peach", "100%", "a_b", &"x".repeat(31)] {
            let mut t = terms(100, Currency::EUR);
            t.keyword = Some(bad.to_string());
            assert_eq!(eu.check(&t).unwrap_err().code(), "invalid_field", "{bad:?}");
        }
        let mut t = terms(0, Currency::EUR);
        assert!(eu.check(&t).is_err());
        t.prize.minor = 1;
        t.winners = 0;
        assert!(eu.check(&t).is_err());
        assert!(comment_enters("Peach", "I want a PEACH please"));
        assert!(comment_enters("抽奖", "我要抽奖！"));
        assert!(!comment_enters("peach", "pear"));
    }

    #[test]
    fn known_answer() {
        // Pinned so that a change of algorithm cannot pass silently: auditors re-run it.
        let seed = [7u8; 32];
        let w = pick_winners(&seed, &[5, 3, 9, 1, 7, 3], 2);
        assert_eq!(w, pick_winners(&seed, &[1, 3, 5, 7, 9], 2));
        assert_eq!(w, vec![7, 3], "known answer");
        assert_eq!(
            commitment(&[0u8; 32]),
            "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925"
        );
        assert_eq!(seed_from_hex(&hex(&seed)), Some(seed));
        assert_eq!(seed_from_hex("zz"), None);
        assert_eq!(entrants_digest(&[2, 1, 2]), entrants_digest(&[1, 2]));
    }

    #[test]
    fn roughly_uniform() {
        let entrants = [10, 20, 30, 40, 50];
        let mut wins = [0u32; 5];
        for i in 0..5_000u32 {
            let mut seed = [0u8; 32];
            seed[..4].copy_from_slice(&i.to_le_bytes());
            let w = pick_winners(&seed, &entrants, 1)[0];
            wins[(w / 10 - 1) as usize] += 1;
        }
        for w in wins {
            assert!((850..=1150).contains(&w), "{wins:?}");
        }
    }

    proptest! {
        #[test]
        fn winners_are_distinct_entrants(seed: [u8; 32], entrants in proptest::collection::vec(0i64..50, 0..40), k in 0usize..60) {
            let w = pick_winners(&seed, &entrants, k);
            let pool = canonical(&entrants);
            prop_assert_eq!(w.len(), k.min(pool.len()));
            let mut seen = std::collections::HashSet::new();
            for x in &w {
                prop_assert!(pool.contains(x));
                prop_assert!(seen.insert(*x));
            }
            let mut shuffled = entrants.clone();
            shuffled.reverse();
            prop_assert_eq!(&w, &pick_winners(&seed, &shuffled, k));
            // Drawing fewer gives a prefix of drawing more.
            if k > 0 && k <= pool.len() {
                prop_assert_eq!(&w[..w.len() - 1], &pick_winners(&seed, &entrants, k - 1)[..]);
            }
        }

        #[test]
        fn cap_is_exact(minor in 1i64..20_000_000) {
            let ok = DrawRules::cn().check(&terms(minor, Currency::CNY)).is_ok();
            prop_assert_eq!(ok, minor <= DrawRules::CN_CAP_MINOR);
        }
    }
}
