//! Random sequences of orders, returns, gifts, settlements and payouts against the ledger:
//! whatever happens, every accepted transaction balances per currency, no balance held for a
//! party goes below zero, posting a key twice changes nothing, and replaying what was accepted
//! gives the same balances.

use hawker_domain::{Currency, UnixMillis};
use hawker_money::postings::{self, EarningsAt, Gift, GiftSplit, OrderTerms};
use hawker_money::{AccountRef, Ledger, LedgerError, Party, Purpose, Transaction};
use proptest::prelude::*;
use std::collections::HashMap;

#[derive(Debug, Clone)]
enum Op {
    Pay {
        total: i64,
        host_bps: u32,
        agency: bool,
        fee_bps: u32,
        slot: bool,
    },
    Settle {
        order: usize,
        flagged: bool,
    },
    Refund {
        order: usize,
    },
    TopUp {
        viewer: i64,
        coins: i64,
    },
    Gift {
        viewer: i64,
        coins: i64,
    },
    SettleGift {
        gift: usize,
    },
    RefundGift {
        gift: usize,
    },
    Payout {
        party: u8,
        amount: i64,
        confirm: bool,
    },
    Block {
        party: u8,
    },
    Replay {
        tx: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (
            1i64..1_000_000,
            100u32..8_000,
            any::<bool>(),
            0u32..2_000,
            any::<bool>()
        )
            .prop_map(|(total, host_bps, agency, fee_bps, slot)| Op::Pay {
                total,
                host_bps,
                agency,
                fee_bps,
                slot
            }),
        (0usize..50, any::<bool>()).prop_map(|(order, flagged)| Op::Settle { order, flagged }),
        (0usize..50).prop_map(|order| Op::Refund { order }),
        (1i64..4, 1i64..10_000).prop_map(|(viewer, coins)| Op::TopUp { viewer, coins }),
        (1i64..4, 1i64..5_000).prop_map(|(viewer, coins)| Op::Gift { viewer, coins }),
        (0usize..50).prop_map(|gift| Op::SettleGift { gift }),
        (0usize..50).prop_map(|gift| Op::RefundGift { gift }),
        (0u8..4, 1i64..500_000, any::<bool>()).prop_map(|(party, amount, confirm)| Op::Payout {
            party,
            amount,
            confirm
        }),
        (0u8..8).prop_map(|party| Op::Block { party }),
        (0usize..200).prop_map(|tx| Op::Replay { tx }),
    ]
}

/// The storage side, modelled: posting keys are unique; a replay with the same entries is
/// "already posted", with others a conflict.
#[derive(Default)]
struct Books {
    ledger: Ledger,
    keys: HashMap<String, i64>,
    accepted: Vec<Transaction>,
}

impl Books {
    fn post(&mut self, tx: Transaction) -> Result<bool, LedgerError> {
        if let Some(f) = self.keys.get(&tx.key) {
            return if *f == tx.fingerprint() {
                Ok(false)
            } else {
                Err(LedgerError::KeyConflict(tx.key))
            };
        }
        self.ledger.check(&tx)?;
        self.ledger.apply(&tx);
        self.keys.insert(tx.key.clone(), tx.fingerprint());
        self.accepted.push(tx);
        Ok(true)
    }
}

const CNY: Currency = Currency::CNY;

fn party(i: u8) -> Party {
    match i % 4 {
        0 => Party::Org(1),
        1 => Party::Account(10),
        2 => Party::Agency(20),
        _ => Party::Account(11),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn the_ledger_holds_whatever_happens(ops in prop::collection::vec(op(), 1..120)) {
        let mut b = Books::default();
        let mut orders: Vec<(OrderTerms, EarningsAt, bool)> = Vec::new();
        let mut gifts: Vec<(Gift, bool)> = Vec::new();
        let at = UnixMillis(1);
        for op in ops {
            let r = match op {
                Op::Pay { total, host_bps, agency, fee_bps, slot } => {
                    let t = OrderTerms {
                        order: orders.len() as i64 + 1,
                        show: Some(1),
                        slot: slot.then_some(7),
                        currency: CNY,
                        total,
                        merchant: 1,
                        host: Some((10, host_bps)),
                        agency: agency.then_some((20, 3_000)),
                        platform_fee_bps: fee_bps,
                    };
                    let s = t.shares().unwrap();
                    prop_assert_eq!(s.merchant + s.host + s.agency + s.platform, total);
                    let tx = postings::order_paid(&t, at).unwrap();
                    orders.push((t, EarningsAt::Pending, false));
                    b.post(tx).map(|_| ())
                }
                Op::Settle { order, flagged } => match orders.get_mut(order) {
                    Some((t, stage @ EarningsAt::Pending, false)) => {
                        let tx = postings::order_settled(t, flagged, at).unwrap();
                        let r = b.post(tx).map(|_| ());
                        if r.is_ok() {
                            *stage = if flagged { EarningsAt::Held } else { EarningsAt::Available };
                        }
                        r
                    }
                    _ => Ok(()),
                },
                Op::Refund { order } => match orders.get_mut(order) {
                    Some((t, stage, refunded @ false)) => {
                        let ledger = b.ledger.clone();
                        let tx = postings::order_refunded(t, *stage, |a| ledger.balance(a), at).unwrap();
                        let r = b.post(tx).map(|_| ());
                        if r.is_ok() {
                            *refunded = true;
                        }
                        r
                    }
                    _ => Ok(()),
                },
                Op::TopUp { viewer, coins } => {
                    let n = b.accepted.len() as i64;
                    b.post(postings::coins_topped_up(n, viewer, coins * 10, CNY, coins, at)).map(|_| ())
                }
                Op::Gift { viewer, coins } => {
                    let g = Gift {
                        id: gifts.len() as i64 + 1,
                        show: Some(1),
                        viewer,
                        streamer: 10,
                        agency: Some(20),
                        coins,
                        value_minor: coins * 10,
                        currency: CNY,
                        split: GiftSplit { agency_bps: 2_500, ..GiftSplit::default() },
                    };
                    let tx = postings::gift_sent(&g, at).unwrap();
                    let r = b.post(tx);
                    if r.is_ok() {
                        gifts.push((g, false));
                    } else {
                        // Not enough coins is the only reason to refuse a gift here.
                        prop_assert!(matches!(r, Err(LedgerError::Overdraw { ref account, .. }) if account.contains(":wallet:")), "{:?}", r);
                    }
                    r.map(|_| ())
                }
                Op::SettleGift { gift } => match gifts.get_mut(gift) {
                    Some((g, done @ false)) => {
                        let r = b.post(postings::gift_settled(g, at).unwrap()).map(|_| ());
                        if r.is_ok() { *done = true; }
                        r
                    }
                    _ => Ok(()),
                },
                Op::RefundGift { gift } => match gifts.get_mut(gift) {
                    Some((g, done @ false)) => {
                        let r = b.post(postings::gift_refunded(g, at).unwrap()).map(|_| ());
                        if r.is_ok() { *done = true; }
                        r
                    }
                    _ => Ok(()),
                },
                Op::Payout { party: p, amount, confirm } => {
                    let who = party(p);
                    let batch = format!("b{}", b.accepted.len());
                    let tx = postings::payout(&batch, who, amount, CNY, at);
                    let r = b.post(tx.clone());
                    match r {
                        Ok(_) => {
                            let follow = if confirm { postings::payout_confirmed(&tx, at) } else { postings::payout_failed(&tx, at) };
                            prop_assert!(b.post(follow).is_ok());
                        }
                        Err(LedgerError::Overdraw { .. }) => {
                            prop_assert!(b.ledger.balance(&AccountRef::new(who, Purpose::Available, CNY)) < amount);
                        }
                        Err(LedgerError::Blocked { .. }) => prop_assert!(b.ledger.is_blocked(who)),
                        Err(e) => prop_assert!(false, "unexpected {e}"),
                    }
                    Ok(())
                }
                Op::Block { party: p } => {
                    if p < 4 { b.ledger.block(party(p)) } else { b.ledger.unblock(party(p)) }
                    Ok(())
                }
                Op::Replay { tx } => {
                    if let Some(t) = b.accepted.get(tx).cloned() {
                        let before: HashMap<AccountRef, i64> = b.ledger.balances().map(|(a, v)| (*a, *v)).collect();
                        prop_assert_eq!(b.post(t.clone()), Ok(false), "posting twice changes nothing");
                        let after: HashMap<AccountRef, i64> = b.ledger.balances().map(|(a, v)| (*a, *v)).collect();
                        prop_assert_eq!(before, after);
                        let mut other = t;
                        other.entries.reverse();
                        other.entries[0].amount += 1;
                        other.entries[1].amount -= 1;
                        prop_assert!(matches!(b.post(other), Err(LedgerError::KeyConflict(_)) | Ok(false)));
                    }
                    Ok(())
                }
            };
            // Builders never produce an unbalanced or malformed transaction.
            if let Err(e) = &r {
                prop_assert!(matches!(e, LedgerError::Overdraw { .. } | LedgerError::Blocked { .. }), "{e}");
            }
            // Every balance held for a party is at or above zero; every currency sums to zero.
            for (a, v) in b.ledger.balances() {
                prop_assert!(*v >= 0 || a.purpose.may_go_negative(), "{a} = {v}");
            }
            prop_assert!(b.ledger.totals().values().all(|t| *t == 0));
        }
        // The ledger replays to the same balances.
        let mut replay = Ledger::new();
        for tx in &b.accepted {
            replay.apply(tx);
            let per: HashMap<Currency, i64> = tx.entries.iter().fold(HashMap::new(), |mut m, e| {
                *m.entry(e.account.currency).or_default() += e.amount;
                m
            });
            prop_assert!(per.values().all(|s| *s == 0));
        }
        let a: HashMap<AccountRef, i64> = b.ledger.balances().map(|(a, v)| (*a, *v)).collect();
        let r: HashMap<AccountRef, i64> = replay.balances().map(|(a, v)| (*a, *v)).collect();
        prop_assert_eq!(a, r);
    }
}

#[test]
fn refused_postings_change_nothing() {
    let mut l = Ledger::new();
    let at = UnixMillis(0);
    let unbalanced = Transaction {
        key: "x".into(),
        kind: "test".into(),
        at,
        entries: vec![hawker_money::Entry {
            account: AccountRef::new(Party::Org(1), Purpose::Available, CNY),
            amount: 5,
        }],
        refs: Default::default(),
    };
    assert_eq!(
        l.post(&unbalanced),
        Err(LedgerError::Unbalanced {
            currency: CNY,
            sum: 5
        })
    );
    let overdraw = postings::payout("b1", Party::Org(1), 100, CNY, at);
    assert!(matches!(
        l.post(&overdraw),
        Err(LedgerError::Overdraw { .. })
    ));
    assert_eq!(l.balances().count(), 0);
}
