//! Ledger accounts: one per party, purpose and currency. Amounts on an account are signed:
//! a credit (positive) raises what the platform holds for the party, a debit (negative) lowers
//! it. Only the accounts that mirror money outside the platform may go below zero.

use hawker_domain::Currency;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Hawker coins: the viewers' gift currency, bought with money, never paid out as coins.
pub const COIN: Currency = Currency::COIN;

/// Who an account belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Party {
    /// The platform itself.
    Platform,
    /// A merchant organisation (seller of record).
    Org(i64),
    /// A person: a streamer's earnings, a viewer's coins.
    Account(i64),
    /// An agency (MCN).
    Agency(i64),
}

impl Party {
    pub fn kind(self) -> &'static str {
        match self {
            Party::Platform => "platform",
            Party::Org(_) => "org",
            Party::Account(_) => "account",
            Party::Agency(_) => "agency",
        }
    }

    pub fn id(self) -> i64 {
        match self {
            Party::Platform => 0,
            Party::Org(i) | Party::Account(i) | Party::Agency(i) => i,
        }
    }

    pub fn from_parts(kind: &str, id: i64) -> Option<Party> {
        Some(match kind {
            "platform" => Party::Platform,
            "org" => Party::Org(id),
            "account" => Party::Account(id),
            "agency" => Party::Agency(id),
            _ => return None,
        })
    }
}

/// What an account is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Money at the payment provider: paid in by buyers, paid out to parties (the platform's
    /// cash; debit-normal, so its balance is negative while it holds money).
    Clearing,
    /// A party's earnings while returns and rules can still take them back.
    Pending,
    /// A party's earnings that may be paid out.
    Available,
    /// Earnings held by the trust rules (flagged orders, a suspended host): neither paid nor lost.
    Held,
    /// Paid out, not yet confirmed by the payout provider.
    PayoutsInTransit,
    /// The platform's commission and fees on orders.
    Fees,
    /// The platform's share of gifts.
    GiftRevenue,
    /// Tax withheld on gifts, owed to the tax office.
    TaxWithheld,
    /// The money behind coins in viewers' wallets (the platform owes it).
    CoinLiability,
    /// The coins in circulation, as the counterpart of wallets (debit-normal).
    CoinIssuance,
    /// A viewer's coin wallet.
    Wallet,
    /// What a party owes the platform after a claw-back exceeded its earnings (debit-normal).
    Owed,
}

impl Purpose {
    pub const ALL: [Purpose; 12] = [
        Purpose::Clearing,
        Purpose::Pending,
        Purpose::Available,
        Purpose::Held,
        Purpose::PayoutsInTransit,
        Purpose::Fees,
        Purpose::GiftRevenue,
        Purpose::TaxWithheld,
        Purpose::CoinLiability,
        Purpose::CoinIssuance,
        Purpose::Wallet,
        Purpose::Owed,
    ];

    /// Accounts that mirror something outside the ledger (cash at the provider, coins issued,
    /// debts) may go below zero; every balance held *for* a party may not.
    pub fn may_go_negative(self) -> bool {
        matches!(
            self,
            Purpose::Clearing | Purpose::CoinIssuance | Purpose::Owed
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Clearing => "clearing",
            Purpose::Pending => "pending",
            Purpose::Available => "available",
            Purpose::Held => "held",
            Purpose::PayoutsInTransit => "payouts_in_transit",
            Purpose::Fees => "fees",
            Purpose::GiftRevenue => "gift_revenue",
            Purpose::TaxWithheld => "tax_withheld",
            Purpose::CoinLiability => "coin_liability",
            Purpose::CoinIssuance => "coin_issuance",
            Purpose::Wallet => "wallet",
            Purpose::Owed => "owed",
        }
    }

    pub fn parse(s: &str) -> Option<Purpose> {
        Purpose::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// One ledger account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AccountRef {
    pub party: Party,
    pub purpose: Purpose,
    pub currency: Currency,
}

impl AccountRef {
    pub fn new(party: Party, purpose: Purpose, currency: Currency) -> Self {
        AccountRef {
            party,
            purpose,
            currency,
        }
    }

    /// `org:12:pending:CNY`: how storage and statements name it.
    pub fn code(&self) -> String {
        self.to_string()
    }

    pub fn parse(s: &str) -> Option<AccountRef> {
        let mut it = s.split(':');
        let kind = it.next()?;
        let id: i64 = it.next()?.parse().ok()?;
        let purpose = Purpose::parse(it.next()?)?;
        let currency = Currency::parse(it.next()?)?;
        if it.next().is_some() {
            return None;
        }
        Some(AccountRef::new(
            Party::from_parts(kind, id)?,
            purpose,
            currency,
        ))
    }
}

impl fmt::Display for AccountRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}:{}",
            self.party.kind(),
            self.party.id(),
            self.purpose.as_str(),
            self.currency
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for p in [
            Party::Platform,
            Party::Org(7),
            Party::Account(9),
            Party::Agency(3),
        ] {
            for purpose in Purpose::ALL {
                let a = AccountRef::new(p, purpose, Currency::CNY);
                assert_eq!(AccountRef::parse(&a.code()), Some(a));
            }
        }
        assert_eq!(AccountRef::parse("org:1:pending"), None);
        assert_eq!(AccountRef::parse("org:x:pending:CNY"), None);
        assert_eq!(AccountRef::parse("bank:1:pending:CNY"), None);
    }
}
