//! The events of the platform as ledger transactions. Pure functions: the caller supplies the
//! terms (commission, fees, contracts) and, for claw-backs, the balances.
//!
//! An order paid moves its total from the provider's clearing account into *pending* earnings
//! of the merchant (the residual), the host (commission) and the host's agency (its contract
//! share of the commission), and the platform's fees. When the return window closes, pending
//! becomes *available* (settlement); a flagged order's earnings become *held* instead. A
//! return before settlement reverses the payment; after it, the parties' available earnings
//! are clawed back (what was already paid out becomes *owed*). Gifts move coins out of a
//! wallet and their money value into pending earnings, credited late.

use crate::account::{AccountRef, Party, Purpose, COIN};
use crate::ledger::{Entry, Refs, Transaction};
use crate::split::{share, split, SplitError};
use hawker_domain::{Currency, UnixMillis};
use serde::{Deserialize, Serialize};

fn acct(party: Party, purpose: Purpose, currency: Currency) -> AccountRef {
    AccountRef::new(party, purpose, currency)
}

/// Entries without the zero lines (a 0% commission is no entry at all).
fn entries(lines: impl IntoIterator<Item = (AccountRef, i64)>) -> Vec<Entry> {
    lines
        .into_iter()
        .filter(|(_, a)| *a != 0)
        .map(|(account, amount)| Entry { account, amount })
        .collect()
}

// ------------------------------------------------------------------------------- orders

/// Who earns what from one order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderTerms {
    pub order: i64,
    pub show: Option<i64>,
    pub slot: Option<i64>,
    pub currency: Currency,
    /// What the buyer paid, in minor units.
    pub total: i64,
    /// Seller of record.
    pub merchant: i64,
    /// The host and their commission (basis points of the total, 1–80%).
    pub host: Option<(i64, u32)>,
    /// The host's agency and its share of the host's commission (basis points).
    pub agency: Option<(i64, u32)>,
    /// The platform's fee (basis points of the total).
    pub platform_fee_bps: u32,
}

/// The order's total, divided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OrderShares {
    pub merchant: i64,
    pub host: i64,
    pub agency: i64,
    pub platform: i64,
}

impl OrderTerms {
    pub fn shares(&self) -> Result<OrderShares, SplitError> {
        let commission_bps = self.host.map_or(0, |(_, b)| b);
        let (parts, merchant) = split(self.total, &[commission_bps, self.platform_fee_bps])?;
        let commission = parts[0];
        let agency = match (self.host, self.agency) {
            (Some(_), Some((_, bps))) if bps <= 10_000 => share(commission, bps),
            (Some(_), Some((_, bps))) => return Err(SplitError::OverAllocated(bps)),
            _ => 0,
        };
        Ok(OrderShares {
            merchant,
            host: commission - agency,
            agency,
            platform: parts[1],
        })
    }

    fn refs(&self) -> Refs {
        Refs {
            order: Some(self.order),
            show: self.show,
            slot: self.slot,
            ..Refs::default()
        }
    }

    /// The parties with earnings on this order and their shares.
    fn earners(&self, s: &OrderShares) -> Vec<(Party, i64)> {
        let mut v = vec![(Party::Org(self.merchant), s.merchant)];
        if let Some((h, _)) = self.host {
            v.push((Party::Account(h), s.host));
        }
        if let Some((a, _)) = self.agency {
            v.push((Party::Agency(a), s.agency));
        }
        v
    }
}

pub fn order_paid(t: &OrderTerms, at: UnixMillis) -> Result<Transaction, SplitError> {
    let s = t.shares()?;
    let c = t.currency;
    let mut lines = vec![(acct(Party::Platform, Purpose::Clearing, c), -t.total)];
    for (p, a) in t.earners(&s) {
        lines.push((acct(p, Purpose::Pending, c), a));
    }
    lines.push((acct(Party::Platform, Purpose::Fees, c), s.platform));
    Ok(Transaction {
        key: format!("order:{}:paid", t.order),
        kind: "order_paid".into(),
        at,
        entries: entries(lines),
        refs: t.refs(),
    })
}

/// The return window closed: pending earnings become available, or held when the trust rules
/// flagged the order.
pub fn order_settled(
    t: &OrderTerms,
    held: bool,
    at: UnixMillis,
) -> Result<Transaction, SplitError> {
    let s = t.shares()?;
    let c = t.currency;
    let to = if held {
        Purpose::Held
    } else {
        Purpose::Available
    };
    let mut lines = Vec::new();
    for (p, a) in t.earners(&s) {
        lines.push((acct(p, Purpose::Pending, c), -a));
        lines.push((acct(p, to, c), a));
    }
    Ok(Transaction {
        key: format!("order:{}:settled", t.order),
        kind: if held { "order_held" } else { "order_settled" }.into(),
        at,
        entries: entries(lines),
        refs: t.refs(),
    })
}

/// Held earnings released to available (the flag was cleared).
pub fn order_released(t: &OrderTerms, at: UnixMillis) -> Result<Transaction, SplitError> {
    let s = t.shares()?;
    let c = t.currency;
    let mut lines = Vec::new();
    for (p, a) in t.earners(&s) {
        lines.push((acct(p, Purpose::Held, c), -a));
        lines.push((acct(p, Purpose::Available, c), a));
    }
    Ok(Transaction {
        key: format!("order:{}:released", t.order),
        kind: "order_released".into(),
        at,
        entries: entries(lines),
        refs: t.refs(),
    })
}

/// Where an order's earnings are when it is refunded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EarningsAt {
    Pending,
    Held,
    Available,
}

/// The buyer gets the whole total back. From pending or held earnings, the payment is simply
/// reversed. From available earnings, each party's share is clawed back as far as its balance
/// goes (`available` tells it) and the rest is recorded as owed. A sale in a paid slot keeps the
/// host's commission: the brand owes it.
pub fn order_refunded(
    t: &OrderTerms,
    at_stage: EarningsAt,
    available: impl Fn(&AccountRef) -> i64,
    at: UnixMillis,
) -> Result<Transaction, SplitError> {
    let s = t.shares()?;
    let c = t.currency;
    let mut lines = vec![(acct(Party::Platform, Purpose::Clearing, c), t.total)];
    let mut earners = t.earners(&s);
    if t.slot.is_some() {
        // A slot's sale keeps its commission when returned: the brand owes it (returns up to
        // the slot's return-rate cap are the brand's risk; the slot's close claws back the
        // commission on returns above the cap).
        earners.truncate(1);
        lines.push((
            acct(Party::Org(t.merchant), Purpose::Owed, c),
            -(s.host + s.agency),
        ));
    }
    for (p, a) in earners {
        match at_stage {
            EarningsAt::Pending => lines.push((acct(p, Purpose::Pending, c), -a)),
            EarningsAt::Held => lines.push((acct(p, Purpose::Held, c), -a)),
            EarningsAt::Available => {
                let from = acct(p, Purpose::Available, c);
                let take = available(&from).clamp(0, a);
                lines.push((from, -take));
                lines.push((acct(p, Purpose::Owed, c), -(a - take)));
            }
        }
    }
    lines.push((acct(Party::Platform, Purpose::Fees, c), -s.platform));
    Ok(Transaction {
        key: format!("order:{}:refunded", t.order),
        kind: "order_refunded".into(),
        at,
        entries: entries(lines),
        refs: t.refs(),
    })
}

// ------------------------------------------------------------------------------- coins, gifts

/// A viewer buys coins: the money goes to the provider's clearing account and becomes the
/// platform's liability; the coins are issued into the wallet.
pub fn coins_topped_up(
    topup: i64,
    viewer: i64,
    paid_minor: i64,
    currency: Currency,
    coins: i64,
    at: UnixMillis,
) -> Transaction {
    Transaction {
        key: format!("topup:{topup}"),
        kind: "coins_topped_up".into(),
        at,
        entries: entries([
            (
                acct(Party::Platform, Purpose::Clearing, currency),
                -paid_minor,
            ),
            (
                acct(Party::Platform, Purpose::CoinLiability, currency),
                paid_minor,
            ),
            (acct(Party::Platform, Purpose::CoinIssuance, COIN), -coins),
            (acct(Party::Account(viewer), Purpose::Wallet, COIN), coins),
        ]),
        refs: Refs::default(),
    }
}

/// How a gift's money value is divided (basis points; the platform takes the residual).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GiftSplit {
    pub streamer_bps: u32,
    pub tax_bps: u32,
    /// The agency's share of the streamer's part, when there is a contract.
    pub agency_bps: u32,
}

impl Default for GiftSplit {
    /// Kuaishou-like: streamer 40%, tax 10%, platform the rest (50%).
    fn default() -> Self {
        GiftSplit {
            streamer_bps: 4_000,
            tax_bps: 1_000,
            agency_bps: 0,
        }
    }
}

/// One gift sent in a live room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gift {
    pub id: i64,
    pub show: Option<i64>,
    pub viewer: i64,
    pub streamer: i64,
    pub agency: Option<i64>,
    pub coins: i64,
    /// The money the coins stand for (coins × the price they were bought at).
    pub value_minor: i64,
    pub currency: Currency,
    pub split: GiftSplit,
}

impl Gift {
    /// (streamer, agency, tax, platform)
    pub fn shares(&self) -> Result<(i64, i64, i64, i64), SplitError> {
        let (parts, platform) = split(
            self.value_minor,
            &[self.split.streamer_bps, self.split.tax_bps],
        )?;
        let agency = if self.agency.is_some() {
            share(parts[0], self.split.agency_bps.min(10_000))
        } else {
            0
        };
        Ok((parts[0] - agency, agency, parts[1], platform))
    }

    fn refs(&self) -> Refs {
        Refs {
            gift: Some(self.id),
            show: self.show,
            ..Refs::default()
        }
    }

    fn earners(&self) -> Result<Vec<(Party, i64)>, SplitError> {
        let (s, a, _, _) = self.shares()?;
        let mut v = vec![(Party::Account(self.streamer), s)];
        if let Some(ag) = self.agency {
            v.push((Party::Agency(ag), a));
        }
        Ok(v)
    }
}

pub fn gift_sent(g: &Gift, at: UnixMillis) -> Result<Transaction, SplitError> {
    let (_, _, tax, platform) = g.shares()?;
    let c = g.currency;
    let mut lines = vec![
        (
            acct(Party::Account(g.viewer), Purpose::Wallet, COIN),
            -g.coins,
        ),
        (acct(Party::Platform, Purpose::CoinIssuance, COIN), g.coins),
        (
            acct(Party::Platform, Purpose::CoinLiability, c),
            -g.value_minor,
        ),
    ];
    for (p, a) in g.earners()? {
        lines.push((acct(p, Purpose::Pending, c), a));
    }
    lines.push((acct(Party::Platform, Purpose::TaxWithheld, c), tax));
    lines.push((acct(Party::Platform, Purpose::GiftRevenue, c), platform));
    Ok(Transaction {
        key: format!("gift:{}:sent", g.id),
        kind: "gift_sent".into(),
        at,
        entries: entries(lines),
        refs: g.refs(),
    })
}

/// The late-credit delay passed: the streamer's (and agency's) pending part becomes available.
pub fn gift_settled(g: &Gift, at: UnixMillis) -> Result<Transaction, SplitError> {
    let c = g.currency;
    let mut lines = Vec::new();
    for (p, a) in g.earners()? {
        lines.push((acct(p, Purpose::Pending, c), -a));
        lines.push((acct(p, Purpose::Available, c), a));
    }
    Ok(Transaction {
        key: format!("gift:{}:settled", g.id),
        kind: "gift_settled".into(),
        at,
        entries: entries(lines),
        refs: g.refs(),
    })
}

/// A pending gift taken back (the host broke the rules; a minor's spending): the sent
/// transaction reversed, coins back in the wallet.
pub fn gift_refunded(g: &Gift, at: UnixMillis) -> Result<Transaction, SplitError> {
    Ok(gift_sent(g, at)?.reversal(format!("gift:{}:refunded", g.id), "gift_refunded", at))
}

/// A settled gift taken back (an approved guardian claim): coins back in the payer's wallet,
/// the platform's and tax shares reversed, and the earners' shares taken from their available
/// earnings as far as they go, the rest owed.
pub fn gift_clawed_back(
    g: &Gift,
    available: impl Fn(&AccountRef) -> i64,
    at: UnixMillis,
) -> Result<Transaction, SplitError> {
    let (_, _, tax, platform) = g.shares()?;
    let c = g.currency;
    let mut lines = vec![
        (
            acct(Party::Account(g.viewer), Purpose::Wallet, COIN),
            g.coins,
        ),
        (acct(Party::Platform, Purpose::CoinIssuance, COIN), -g.coins),
        (
            acct(Party::Platform, Purpose::CoinLiability, c),
            g.value_minor,
        ),
        (acct(Party::Platform, Purpose::TaxWithheld, c), -tax),
        (acct(Party::Platform, Purpose::GiftRevenue, c), -platform),
    ];
    for (p, a) in g.earners()? {
        take_back(&mut lines, p, a, c, &available);
    }
    Ok(Transaction {
        key: format!("gift:{}:clawed_back", g.id),
        kind: "gift_clawed_back".into(),
        at,
        entries: entries(lines),
        refs: g.refs(),
    })
}

// ------------------------------------------------------------------------------- payouts

/// A party's available earnings leave for its bank account, in transit until confirmed.
pub fn payout(
    batch: &str,
    party: Party,
    amount: i64,
    currency: Currency,
    at: UnixMillis,
) -> Transaction {
    Transaction {
        key: format!("payout:{batch}:{}:{}:{currency}", party.kind(), party.id()),
        kind: "payout".into(),
        at,
        entries: entries([
            (acct(party, Purpose::Available, currency), -amount),
            (acct(party, Purpose::PayoutsInTransit, currency), amount),
        ]),
        refs: Refs {
            batch: Some(batch.to_string()),
            ..Refs::default()
        },
    }
}

/// The payout provider confirmed: the money left the platform's clearing account.
pub fn payout_confirmed(p: &Transaction, at: UnixMillis) -> Transaction {
    let moved: Vec<Entry> = p.entries.iter().filter(|e| e.amount > 0).copied().collect();
    let mut lines = Vec::new();
    for e in moved {
        lines.push((e.account, -e.amount));
        lines.push((
            acct(Party::Platform, Purpose::Clearing, e.account.currency),
            e.amount,
        ));
    }
    Transaction {
        key: format!("{}:confirmed", p.key),
        kind: "payout_confirmed".into(),
        at,
        entries: entries(lines),
        refs: p.refs.clone(),
    }
}

/// The payout failed: the money is available again.
pub fn payout_failed(p: &Transaction, at: UnixMillis) -> Transaction {
    p.reversal(format!("{}:failed", p.key), "payout_failed", at)
}

// ------------------------------------------------------------------------------- paid slots

/// Takes `amount` from `party`'s available earnings as far as they go, the rest as owed.
fn take_back(
    lines: &mut Vec<(AccountRef, i64)>,
    party: Party,
    amount: i64,
    currency: Currency,
    available: &impl Fn(&AccountRef) -> i64,
) {
    let from = acct(party, Purpose::Available, currency);
    let take = available(&from).clamp(0, amount);
    lines.push((from, -take));
    lines.push((acct(party, Purpose::Owed, currency), -(amount - take)));
}

/// The brand's slot fee arrived (ops recorded the transfer): the host's part pending until the
/// slot closes, the platform's fee share at once.
pub fn slot_fee_received(
    slot: i64,
    show: i64,
    host: i64,
    fee: i64,
    currency: Currency,
    platform_bps: u32,
    at: UnixMillis,
) -> Transaction {
    let platform = share(fee, platform_bps);
    Transaction {
        key: format!("slot:{slot}:fee"),
        kind: "slot_fee".into(),
        at,
        entries: entries([
            (acct(Party::Platform, Purpose::Clearing, currency), -fee),
            (
                acct(Party::Account(host), Purpose::Pending, currency),
                fee - platform,
            ),
            (acct(Party::Platform, Purpose::Fees, currency), platform),
        ]),
        refs: Refs {
            slot: Some(slot),
            show: Some(show),
            ..Refs::default()
        },
    }
}

/// What closing a slot moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotClose {
    pub slot: i64,
    pub show: i64,
    pub host: i64,
    pub brand: i64,
    pub agency: Option<(i64, u32)>,
    pub currency: Currency,
    pub fee: i64,
    pub platform_bps: u32,
    pub result: SlotResult,
}

/// Closes a slot: the host's fee becomes available less the pro-rata refund for a missed
/// guarantee (back to the brand, shared with the platform's fee in proportion), and the
/// commission on returns above the cap comes back from the host (and its agency) to the brand.
pub fn slot_closed(
    c: &SlotClose,
    available: impl Fn(&AccountRef) -> i64,
    at: UnixMillis,
) -> Transaction {
    let cur = c.currency;
    let host = Party::Account(c.host);
    let host_fee = c.fee - share(c.fee, c.platform_bps);
    let refund = c.result.fee_refund_minor.clamp(0, c.fee);
    let refund_platform = share(refund, c.platform_bps);
    let refund_host = refund - refund_platform;
    let mut lines = vec![
        (acct(host, Purpose::Pending, cur), -host_fee),
        (acct(host, Purpose::Available, cur), host_fee - refund_host),
        (acct(Party::Platform, Purpose::Fees, cur), -refund_platform),
        (acct(Party::Platform, Purpose::Clearing, cur), refund),
    ];
    let claw = c.result.clawback_minor.max(0);
    if claw > 0 {
        let agency_part = c.agency.map_or(0, |(_, bps)| share(claw, bps));
        // The host's part of the fee just became available above, so count it in.
        let host_avail = |a: &AccountRef| {
            available(a)
                + if *a == acct(host, Purpose::Available, cur) {
                    host_fee - refund_host
                } else {
                    0
                }
        };
        take_back(&mut lines, host, claw - agency_part, cur, &host_avail);
        if let Some((agency, _)) = c.agency {
            take_back(
                &mut lines,
                Party::Agency(agency),
                agency_part,
                cur,
                &available,
            );
        }
        lines.push((acct(Party::Org(c.brand), Purpose::Owed, cur), claw));
    }
    // Net per account so an account touched twice is one line.
    let mut net: std::collections::BTreeMap<AccountRef, i64> = Default::default();
    for (a, v) in lines {
        *net.entry(a).or_insert(0) += v;
    }
    Transaction {
        key: format!("slot:{}:closed", c.slot),
        kind: "slot_closed".into(),
        at,
        entries: entries(net),
        refs: Refs {
            slot: Some(c.slot),
            show: Some(c.show),
            ..Refs::default()
        },
    }
}

/// A brand's booking of a slot in a host's show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotTerms {
    pub fee_minor: i64,
    pub commission_bps: u32,
    /// Valid GMV the host promised; the fee is refunded pro rata when it is missed.
    pub guaranteed_gmv_minor: Option<i64>,
    /// Above this return rate (basis points of GMV), commission on the excess returns is
    /// clawed back.
    pub return_cap_bps: Option<u32>,
}

/// What a slot earned, from the orders placed while its product was pinned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SlotResult {
    pub gmv_minor: i64,
    pub returned_minor: i64,
    /// GMV net of returns, cancels and flagged orders.
    pub valid_gmv_minor: i64,
    /// Commission paid on the slot's sales (before the claw-back).
    pub commission_minor: i64,
    pub fee_refund_minor: i64,
    pub clawback_minor: i64,
    /// Return rate in basis points of GMV.
    pub return_rate_bps: u32,
}

impl SlotTerms {
    /// `gmv`: orders in the slot's window; `returned`: their later returns and cancels;
    /// `flagged`: GMV the trust rules flagged (not returned, but not valid either).
    pub fn result(&self, gmv: i64, returned: i64, flagged: i64) -> SlotResult {
        let returned = returned.clamp(0, gmv);
        let valid = (gmv - returned - flagged).max(0);
        let rate = if gmv > 0 {
            ((returned as i128 * 10_000) / gmv as i128) as u32
        } else {
            0
        };
        // Commission is paid on every sale (flagged ones aside) as it happens, and a returned
        // sale keeps it: returns are the brand's risk up to the cap; above it the commission on
        // the excess comes back.
        let commission = share((gmv - flagged).max(0), self.commission_bps);
        let clawback = match self.return_cap_bps {
            Some(cap) if rate > cap => {
                let allowed = share(gmv, cap);
                share(returned - allowed, self.commission_bps)
            }
            _ => 0,
        };
        let fee_refund = match self.guaranteed_gmv_minor {
            Some(g) if g > 0 && valid < g => {
                ((self.fee_minor as i128 * (g - valid) as i128) / g as i128) as i64
            }
            _ => 0,
        };
        SlotResult {
            gmv_minor: gmv,
            returned_minor: returned,
            valid_gmv_minor: valid,
            commission_minor: commission,
            fee_refund_minor: fee_refund,
            clawback_minor: clawback,
            return_rate_bps: rate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_earnings_are_released_or_refunded_from_held() {
        let t = OrderTerms {
            order: 9,
            show: None,
            slot: None,
            currency: Currency::CNY,
            total: 10_000,
            merchant: 1,
            host: Some((2, 2_000)),
            agency: None,
            platform_fee_bps: 500,
        };
        let at = UnixMillis(0);
        let mut l = crate::Ledger::new();
        l.post(&order_paid(&t, at).unwrap()).unwrap();
        l.post(&order_settled(&t, true, at).unwrap()).unwrap();
        let held = acct(Party::Org(1), Purpose::Held, Currency::CNY);
        assert_eq!(l.balance(&held), 7_500);
        let mut refunded = l.clone();
        refunded
            .post(&order_refunded(&t, EarningsAt::Held, |a| l.balance(a), at).unwrap())
            .unwrap();
        assert_eq!(refunded.balance(&held), 0);
        l.post(&order_released(&t, at).unwrap()).unwrap();
        assert_eq!(l.balance(&held), 0);
        assert_eq!(
            l.balance(&acct(Party::Account(2), Purpose::Available, Currency::CNY)),
            2_000
        );
    }

    #[test]
    fn slot_result_guarantee_and_return_cap() {
        let t = SlotTerms {
            fee_minor: 100_000,
            commission_bps: 2_000,
            guaranteed_gmv_minor: Some(1_000_000),
            return_cap_bps: Some(4_000),
        };
        // ¥6,000 sold, ¥3,000 returned (50%, above the 40% cap), ¥3,000 valid of ¥10,000 promised.
        let r = t.result(600_000, 300_000, 0);
        assert_eq!(r.valid_gmv_minor, 300_000);
        assert_eq!(r.return_rate_bps, 5_000);
        assert_eq!(r.commission_minor, 120_000);
        // Returns above the cap: 300,000 − 40% × 600,000 = 60,000; 20% of that comes back.
        assert_eq!(r.clawback_minor, 12_000);
        // 70% of the guarantee missed: 70% of the fee back.
        assert_eq!(r.fee_refund_minor, 70_000);
        // Within the cap, met guarantee: nothing back.
        let r = t.result(1_500_000, 150_000, 0);
        assert_eq!((r.clawback_minor, r.fee_refund_minor), (0, 0));
    }

    #[test]
    fn closing_a_slot_balances_and_never_overdraws() {
        let result = SlotTerms {
            fee_minor: 100_000,
            commission_bps: 2_000,
            guaranteed_gmv_minor: Some(1_000_000),
            return_cap_bps: Some(4_000),
        }
        .result(600_000, 300_000, 0);
        let close = SlotClose {
            slot: 1,
            show: 2,
            host: 3,
            brand: 4,
            agency: Some((5, 3_000)),
            currency: Currency::CNY,
            fee: 100_000,
            platform_bps: 500,
            result,
        };
        let mut l = crate::Ledger::new();
        l.post(&slot_fee_received(
            1,
            2,
            3,
            100_000,
            Currency::CNY,
            500,
            UnixMillis(0),
        ))
        .unwrap();
        // The host has nothing else available: the claw-back beyond the fee becomes owed.
        let tx = slot_closed(&close, |a| l.balance(a), UnixMillis(1));
        l.post(&tx).unwrap();
        let host_avail = l.balance(&acct(Party::Account(3), Purpose::Available, Currency::CNY));
        // Fee 100,000 less 5% platform = 95,000; refund 70,000 of which the host's 66,500;
        // claw-back 12,000, the agency's 30% (3,600) owed by it, the host's 8,400 from available.
        assert_eq!(host_avail, 95_000 - 66_500 - 8_400);
        assert_eq!(
            l.balance(&acct(Party::Agency(5), Purpose::Owed, Currency::CNY)),
            -3_600
        );
        assert_eq!(
            l.balance(&acct(Party::Org(4), Purpose::Owed, Currency::CNY)),
            12_000
        );
        assert!(l.totals().values().all(|t| *t == 0));
    }
}
