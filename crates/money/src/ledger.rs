//! The ledger state machine: balances per account, the checks every transaction passes, and
//! nothing else (no I/O, no clock). Storage writes a transaction only after [`Ledger::check`]
//! accepted it and applies it here only after the write: the balances are always a replay of
//! what is stored.

use crate::account::{AccountRef, Party, Purpose};
use hawker_domain::{Currency, UnixMillis};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

/// One line of a transaction: `amount` credited (positive) or debited (negative).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Entry {
    pub account: AccountRef,
    pub amount: i64,
}

/// A balanced set of entries with the key that makes posting it idempotent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    /// Names the business event: `order:123:paid`, `gift:9:settled`. Posting the same key twice
    /// changes nothing; posting it with other entries is refused.
    pub key: String,
    /// What kind of event: `order_paid`, `gift_sent`, `payout`, ...
    pub kind: String,
    pub at: UnixMillis,
    pub entries: Vec<Entry>,
    /// What the money was for, for statements: order, show, gift, slot, payout batch.
    pub refs: Refs,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refs {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub show: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gift: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slot: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<String>,
}

impl Transaction {
    /// A stable digest of what the transaction moves (not when): a repeated posting key is a
    /// replay when the digests agree and a conflict when they do not.
    pub fn fingerprint(&self) -> i64 {
        let mut lines: Vec<(String, i64)> = self
            .entries
            .iter()
            .map(|e| (e.account.code(), e.amount))
            .collect();
        lines.sort();
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |b: &[u8]| {
            for x in b {
                h ^= *x as u64;
                h = h.wrapping_mul(0x0000_0100_0000_01B3);
            }
        };
        eat(self.kind.as_bytes());
        for (a, m) in lines {
            eat(a.as_bytes());
            eat(&m.to_le_bytes());
        }
        h as i64
    }

    /// The transaction that undoes this one, under its own key: entries are never edited.
    pub fn reversal(&self, key: String, kind: &str, at: UnixMillis) -> Transaction {
        Transaction {
            key,
            kind: kind.to_string(),
            at,
            entries: self
                .entries
                .iter()
                .map(|e| Entry {
                    account: e.account,
                    amount: -e.amount,
                })
                .collect(),
            refs: self.refs.clone(),
        }
    }

    /// Net amount per account (a transaction may touch an account twice).
    pub fn net(&self) -> BTreeMap<AccountRef, i64> {
        let mut m = BTreeMap::new();
        for e in &self.entries {
            *m.entry(e.account).or_insert(0i64) += e.amount;
        }
        m
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("a transaction needs entries")]
    Empty,
    #[error("posting key must be 1 to 200 characters")]
    BadKey,
    #[error("entry of zero on {0}")]
    ZeroEntry(String),
    #[error("entries in {currency} sum to {sum}, not zero")]
    Unbalanced { currency: Currency, sum: i64 },
    #[error("{account} would go to {balance}, below zero")]
    Overdraw { account: String, balance: i64 },
    #[error("amount out of range")]
    Overflow,
    #[error("{party:?} is blocked: nothing may be paid to it")]
    Blocked { party: Party },
    #[error("posting key {0} was used for other entries")]
    KeyConflict(String),
}

impl LedgerError {
    /// Stable codes for problem+json.
    pub fn code(&self) -> &'static str {
        match self {
            LedgerError::Empty | LedgerError::BadKey | LedgerError::ZeroEntry(_) => {
                "ledger_invalid"
            }
            LedgerError::Unbalanced { .. } => "ledger_unbalanced",
            LedgerError::Overdraw { .. } => "ledger_overdraw",
            LedgerError::Overflow => "ledger_overflow",
            LedgerError::Blocked { .. } => "party_blocked",
            LedgerError::KeyConflict(_) => "posting_key_conflict",
        }
    }
}

/// What posting did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Posted {
    New,
    /// The key was posted before with the same entries: nothing changed.
    Already,
}

/// Balances per account, and the parties nothing may be paid to.
#[derive(Debug, Default, Clone)]
pub struct Ledger {
    balances: HashMap<AccountRef, i64>,
    blocked: HashSet<Party>,
}

impl Ledger {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn balance(&self, a: &AccountRef) -> i64 {
        self.balances.get(a).copied().unwrap_or(0)
    }

    pub fn balances(&self) -> impl Iterator<Item = (&AccountRef, &i64)> {
        self.balances.iter()
    }

    pub fn block(&mut self, p: Party) {
        self.blocked.insert(p);
    }

    pub fn unblock(&mut self, p: Party) {
        self.blocked.remove(&p);
    }

    pub fn is_blocked(&self, p: Party) -> bool {
        self.blocked.contains(&p)
    }

    /// Every rule a transaction must pass, against the current balances. Writes nothing.
    pub fn check(&self, tx: &Transaction) -> Result<(), LedgerError> {
        if tx.entries.is_empty() {
            return Err(LedgerError::Empty);
        }
        if tx.key.is_empty() || tx.key.len() > 200 {
            return Err(LedgerError::BadKey);
        }
        let mut sums: BTreeMap<Currency, i64> = BTreeMap::new();
        for e in &tx.entries {
            if e.amount == 0 {
                return Err(LedgerError::ZeroEntry(e.account.code()));
            }
            let s = sums.entry(e.account.currency).or_insert(0);
            *s = s.checked_add(e.amount).ok_or(LedgerError::Overflow)?;
        }
        if let Some((c, s)) = sums.into_iter().find(|(_, s)| *s != 0) {
            return Err(LedgerError::Unbalanced {
                currency: c,
                sum: s,
            });
        }
        // A party's own accounts first: "not enough coins in the wallet" says more than the
        // platform-side account that would follow it below zero.
        let mut net: Vec<(AccountRef, i64)> = tx.net().into_iter().collect();
        net.sort_by_key(|(a, _)| (a.party == Party::Platform, *a));
        for (account, delta) in net {
            // Paying out, or making money available, to a blocked party is refused; what it
            // already has stays where it is (held), and claw-backs from it still work.
            if delta > 0
                && self.blocked.contains(&account.party)
                && matches!(
                    account.purpose,
                    Purpose::Available | Purpose::PayoutsInTransit
                )
            {
                return Err(LedgerError::Blocked {
                    party: account.party,
                });
            }
            if delta < 0
                && account.purpose == Purpose::Available
                && self.blocked.contains(&account.party)
                && tx.kind == "payout"
            {
                return Err(LedgerError::Blocked {
                    party: account.party,
                });
            }
            let after = self
                .balance(&account)
                .checked_add(delta)
                .ok_or(LedgerError::Overflow)?;
            if after < 0 && !account.purpose.may_go_negative() {
                return Err(LedgerError::Overdraw {
                    account: account.code(),
                    balance: after,
                });
            }
        }
        Ok(())
    }

    /// Applies a transaction that passed [`Ledger::check`] and was stored.
    pub fn apply(&mut self, tx: &Transaction) {
        for e in &tx.entries {
            *self.balances.entry(e.account).or_insert(0) += e.amount;
        }
    }

    /// Takes back an applied transaction that storage then did not keep.
    pub fn unapply(&mut self, tx: &Transaction) {
        for e in &tx.entries {
            *self.balances.entry(e.account).or_insert(0) -= e.amount;
        }
    }

    /// Sets a balance read back from storage (the sum of the account's stored entries).
    pub fn restore(&mut self, account: AccountRef, balance: i64) {
        self.balances.insert(account, balance);
    }

    /// Check then apply (for replay and for tests; services store between the two).
    pub fn post(&mut self, tx: &Transaction) -> Result<(), LedgerError> {
        self.check(tx)?;
        self.apply(tx);
        Ok(())
    }

    /// Sum of every balance per currency: zero in a ledger built only of balanced transactions.
    pub fn totals(&self) -> BTreeMap<Currency, i64> {
        let mut m = BTreeMap::new();
        for (a, b) in &self.balances {
            *m.entry(a.currency).or_insert(0) += b;
        }
        m
    }
}
