//! The flash-sale book: stock, per-buyer limits and idempotency for one sale, decided in
//! memory by a single writer. The writer makes the accepted reservations durable in one group
//! commit and only then acknowledges them; if the commit fails it undoes them here.
//! Rebuilt from the stored orders at start, so a crash loses nothing acknowledged.

use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleTerms {
    pub id: i64,
    pub total_stock: i64,
    pub per_buyer_limit: i64,
    pub starts_at_ms: i64,
    pub ends_at_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuyOutcome {
    /// A new reservation under `order_id` (to be committed).
    Reserved {
        order_id: i64,
    },
    /// The same idempotency key bought before: the same order, nothing new.
    Repeat {
        order_id: i64,
    },
    Refused(BuyRefusal),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BuyRefusal {
    #[error("the sale has not started yet")]
    NotStarted { starts_at_ms: i64 },
    #[error("the sale has ended")]
    Ended,
    #[error("sold out")]
    SoldOut,
    #[error("at most {limit} per buyer")]
    OverLimit { limit: i64 },
    #[error("quantity must be at least 1")]
    BadQuantity,
}

impl BuyRefusal {
    pub fn code(self) -> &'static str {
        match self {
            BuyRefusal::NotStarted { .. } => "sale_not_started",
            BuyRefusal::Ended => "sale_ended",
            BuyRefusal::SoldOut => "sold_out",
            BuyRefusal::OverLimit { .. } => "over_buyer_limit",
            BuyRefusal::BadQuantity => "bad_quantity",
        }
    }
}

#[derive(Debug, Default, Clone)]
struct Buyer {
    quantity: i64,
    /// (hash of idempotency key, order id, quantity) of the buyer's live reservations.
    orders: Vec<(u64, i64, i64)>,
    /// (hash of idempotency key, order id) of released reservations: a key names one order
    /// for good, so its repeat is that order again, never a second one.
    released: Vec<(u64, i64)>,
}

/// FNV-1a: stable, cheap, and keys are already per buyer.
pub fn key_hash(key: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.as_bytes() {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    h
}

#[derive(Debug)]
pub struct SaleBook {
    terms: SaleTerms,
    remaining: i64,
    buyers: HashMap<i64, Buyer>,
}

impl SaleBook {
    pub fn new(terms: SaleTerms) -> Self {
        SaleBook {
            remaining: terms.total_stock,
            terms,
            buyers: HashMap::new(),
        }
    }

    pub fn terms(&self) -> &SaleTerms {
        &self.terms
    }

    pub fn remaining(&self) -> i64 {
        self.remaining
    }

    pub fn sold(&self) -> i64 {
        self.terms.total_stock - self.remaining
    }

    /// Replays a stored reservation (at start-up).
    pub fn restore(&mut self, buyer: i64, quantity: i64, key: Option<&str>, order_id: i64) {
        self.remaining -= quantity;
        let b = self.buyers.entry(buyer).or_default();
        b.quantity += quantity;
        b.orders.push((key.map_or(0, key_hash), order_id, quantity));
    }

    /// Replays a released (expired, cancelled) reservation's key (at start-up).
    pub fn restore_released(&mut self, buyer: i64, key: Option<&str>, order_id: i64) {
        if let Some(k) = key {
            let b = self.buyers.entry(buyer).or_default();
            b.released.push((key_hash(k), order_id));
        }
    }

    pub fn try_buy(
        &mut self,
        buyer: i64,
        quantity: i64,
        key: Option<&str>,
        now_ms: i64,
        order_id: impl FnOnce() -> i64,
    ) -> BuyOutcome {
        let kh = key.map(key_hash);
        if let (Some(kh), Some(b)) = (kh, self.buyers.get(&buyer)) {
            if let Some((_, id, _)) = b.orders.iter().find(|(h, _, _)| *h == kh) {
                return BuyOutcome::Repeat { order_id: *id };
            }
            if let Some((_, id)) = b.released.iter().find(|(h, _)| *h == kh) {
                return BuyOutcome::Repeat { order_id: *id };
            }
        }
        if quantity < 1 {
            return BuyOutcome::Refused(BuyRefusal::BadQuantity);
        }
        if now_ms < self.terms.starts_at_ms {
            return BuyOutcome::Refused(BuyRefusal::NotStarted {
                starts_at_ms: self.terms.starts_at_ms,
            });
        }
        if now_ms >= self.terms.ends_at_ms {
            return BuyOutcome::Refused(BuyRefusal::Ended);
        }
        let already = self.buyers.get(&buyer).map_or(0, |b| b.quantity);
        if already + quantity > self.terms.per_buyer_limit {
            return BuyOutcome::Refused(BuyRefusal::OverLimit {
                limit: self.terms.per_buyer_limit,
            });
        }
        if quantity > self.remaining {
            return BuyOutcome::Refused(BuyRefusal::SoldOut);
        }
        let id = order_id();
        self.remaining -= quantity;
        let b = self.buyers.entry(buyer).or_default();
        b.quantity += quantity;
        b.orders.push((kh.unwrap_or(0), id, quantity));
        BuyOutcome::Reserved { order_id: id }
    }

    /// Takes back a reservation that expired or was cancelled: its stock returns, and its key
    /// goes on naming that order.
    pub fn release(&mut self, buyer: i64, order_id: i64) -> bool {
        self.take_back(buyer, order_id, true)
    }

    /// Takes back a reservation whose order was never stored (its commit failed): its stock
    /// returns and its key is forgotten, so the buyer's retry with that key is decided afresh
    /// instead of naming an order that does not exist.
    pub fn forget(&mut self, buyer: i64, order_id: i64) -> bool {
        self.take_back(buyer, order_id, false)
    }

    fn take_back(&mut self, buyer: i64, order_id: i64, keep_key: bool) -> bool {
        let Some(b) = self.buyers.get_mut(&buyer) else {
            return false;
        };
        let Some(i) = b.orders.iter().position(|(_, id, _)| *id == order_id) else {
            return false;
        };
        let (kh, id, q) = b.orders.swap_remove(i);
        b.quantity -= q;
        self.remaining += q;
        if kh != 0 && keep_key {
            b.released.push((kh, id));
        }
        if b.orders.is_empty() && b.released.is_empty() {
            self.buyers.remove(&buyer);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn terms(stock: i64, limit: i64) -> SaleTerms {
        SaleTerms {
            id: 1,
            total_stock: stock,
            per_buyer_limit: limit,
            starts_at_ms: 100,
            ends_at_ms: 1_000,
        }
    }

    #[test]
    fn window_limit_stock_and_idempotency() {
        let mut b = SaleBook::new(terms(3, 2));
        let mut next = 0;
        let mut id = || {
            next += 1;
            next
        };
        assert!(matches!(
            b.try_buy(7, 1, None, 99, &mut id),
            BuyOutcome::Refused(BuyRefusal::NotStarted { .. })
        ));
        assert_eq!(
            b.try_buy(7, 2, Some("k1"), 100, &mut id),
            BuyOutcome::Reserved { order_id: 1 }
        );
        assert_eq!(
            b.try_buy(7, 2, Some("k1"), 101, &mut id),
            BuyOutcome::Repeat { order_id: 1 },
            "same key, same order"
        );
        assert_eq!(
            b.try_buy(7, 1, Some("k2"), 102, &mut id),
            BuyOutcome::Refused(BuyRefusal::OverLimit { limit: 2 })
        );
        assert_eq!(
            b.try_buy(8, 2, None, 103, &mut id),
            BuyOutcome::Refused(BuyRefusal::SoldOut)
        );
        assert_eq!(
            b.try_buy(8, 1, None, 104, &mut id),
            BuyOutcome::Reserved { order_id: 2 }
        );
        assert_eq!(b.remaining(), 0);
        assert!(b.release(7, 1), "the reservation expired");
        assert_eq!(b.remaining(), 2);
        assert_eq!(
            b.try_buy(7, 1, Some("k1"), 106, &mut id),
            BuyOutcome::Repeat { order_id: 1 },
            "a released order's key still names it"
        );
        assert_eq!(b.remaining(), 2);
        // An order whose commit failed is forgotten, key and all: the retry is a new order.
        assert_eq!(
            b.try_buy(10, 1, Some("k9"), 106, &mut id),
            BuyOutcome::Reserved { order_id: 3 }
        );
        assert!(b.forget(10, 3));
        assert_eq!(b.remaining(), 2);
        assert_eq!(
            b.try_buy(10, 1, Some("k9"), 107, &mut id),
            BuyOutcome::Reserved { order_id: 4 },
            "not a repeat of the order that was never stored"
        );
        assert!(b.forget(10, 4));
        assert_eq!(
            b.try_buy(9, 0, None, 105, &mut id),
            BuyOutcome::Refused(BuyRefusal::BadQuantity)
        );
        assert_eq!(
            b.try_buy(9, 1, None, 1_000, &mut id),
            BuyOutcome::Refused(BuyRefusal::Ended)
        );
    }

    proptest! {
        /// Whatever buyers do, and whatever is released, nothing is oversold and no buyer is
        /// above the limit: stock + sold = initial at every step.
        #[test]
        fn never_oversold(ops in prop::collection::vec((0i64..20, 0i64..5, any::<bool>(), 0u8..4), 1..400), stock in 0i64..50, limit in 1i64..6) {
            let mut b = SaleBook::new(terms(stock, limit));
            let mut next = 0i64;
            let mut live: Vec<(i64, i64, i64)> = Vec::new();
            for (buyer, qty, release, key) in ops {
                if release && !live.is_empty() {
                    let (bu, id, _) = live.remove((buyer as usize) % live.len());
                    prop_assert!(b.release(bu, id));
                } else {
                    let k = format!("k{key}");
                    if let BuyOutcome::Reserved { order_id } = b.try_buy(buyer, qty, Some(&k), 500, || { next += 1; next }) {
                        live.push((buyer, order_id, qty));
                    }
                }
                let sold: i64 = live.iter().map(|(_, _, q)| q).sum();
                prop_assert_eq!(b.remaining() + sold, stock);
                prop_assert!(b.remaining() >= 0);
                for buyer in 0..20 {
                    let mine: i64 = live.iter().filter(|(bu, _, _)| *bu == buyer).map(|(_, _, q)| q).sum();
                    prop_assert!(mine <= limit);
                }
            }
        }
    }
}
