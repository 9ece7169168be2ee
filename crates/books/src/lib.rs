//! The books: the ledger at the edge. One `Ledger` in memory (restored from the stored entries
//! at start) checks every transaction before storage writes it and applies it after, under one
//! lock, so no two postings race on a balance.
//!
//! The ledger follows the orders: `catch_up` posts what each order's state implies and has not
//! been posted (paid → `order_paid`; cancelled or refunded after payment → `order_refunded`;
//! delivered and past the return window → `order_settled`). Posting keys make each exactly
//! once, so a crash between an order's transition and its posting loses nothing: the next run
//! posts it. Payout batches are keyed too: a batch re-run after a crash pays each party once.
//!
//! Long (~1.2k lines) on purpose: every posting goes through the one `Ledger` behind one lock,
//! and the checks before a write and the update after it belong beside that lock.

pub mod payouts;

use hawker_commerce::law::LawProfile;
use hawker_domain::{AccountId, Currency, ShowId, UnixMillis};
use hawker_money::postings::{self, EarningsAt, OrderTerms};
use hawker_money::postings::{Gift, GiftSplit};
use hawker_money::split::SplitError;
use hawker_money::{AccountRef, Ledger, LedgerError, Party, Posted, Purpose, Transaction};
use hawker_storage::gifts::{GiftRow, NewGift, TopUp};
use hawker_storage::shop::Order;
use hawker_storage::{StorageError, Store};
use hawker_trust::review::RiskState;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio::sync::Mutex;

/// Commission and fee terms (basis points), and payouts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MoneyConfig {
    /// The platform's fee on every order's total.
    pub platform_fee_bps: u32,
    /// A host's commission on orders from their show when the host is not staff of the seller
    /// (1–80%; a seller's own clerks and owners earn none).
    pub host_commission_bps: u32,
    /// Available balances below this (minor units) wait for the next payout batch.
    pub payout_minimum_minor: i64,
    /// Platform fee per product category (`food`, `cosmetics`, ...), where it differs from
    /// `platform_fee_bps`; an organisation's own rate (set by ops) comes first.
    pub category_fee_bps: std::collections::BTreeMap<String, u32>,
    pub gifts: GiftConfig,
}

/// Coins, gifts and their caps (all amounts in minor units of `currency`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GiftConfig {
    /// The money coins are bought with, and the price of one coin.
    pub currency: Currency,
    pub coin_price_minor: i64,
    /// The streamer's and the tax office's parts of a gift's value (the platform keeps the rest).
    pub streamer_bps: u32,
    pub tax_bps: u32,
    /// Gifts are credited late: the streamer's part becomes available after this many hours
    /// and can be taken back until then.
    pub credit_after_hours: u32,
    /// Caps per payer: one gift, a calendar day (UTC), 30 days; absent: the law profile's
    /// (`GiftCaps::for_law`).
    pub max_per_gift_minor: Option<i64>,
    pub max_per_day_minor: Option<i64>,
    pub max_per_month_minor: Option<i64>,
    /// A payer's daily spend above this raises an alert (log and metric).
    pub alert_daily_minor: Option<i64>,
    /// Most coins in one top-up.
    pub max_topup_coins: i64,
    /// A muted host earns no gifts for this multiple of the mute; absent: the law profile's
    /// (cn 3, none elsewhere).
    pub muted_tips_multiplier: Option<u32>,
}

impl Default for GiftConfig {
    fn default() -> Self {
        GiftConfig {
            currency: Currency::CNY,
            coin_price_minor: 10,
            streamer_bps: 4_000,
            tax_bps: 1_000,
            credit_after_hours: 72,
            max_per_gift_minor: None,
            max_per_day_minor: None,
            max_per_month_minor: None,
            alert_daily_minor: None,
            max_topup_coins: 100_000,
            muted_tips_multiplier: None,
        }
    }
}

impl Default for MoneyConfig {
    fn default() -> Self {
        MoneyConfig {
            platform_fee_bps: 500,
            host_commission_bps: 2_000,
            payout_minimum_minor: 10_000,
            category_fee_bps: Default::default(),
            gifts: GiftConfig::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BooksError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Split(#[from] SplitError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("{0}")]
    Invalid(String),
    /// A payer's cap would be passed (`gift`, `day`, `month`).
    #[error("over the {which} spending cap of {cap_minor}")]
    OverCap { which: &'static str, cap_minor: i64 },
    #[error("not enough coins")]
    NotEnoughCoins,
    #[error("this host's tipping income is suspended until {until}")]
    TipsSuspended { until: i64 },
    /// The slot's show is held by the risk engine and ops have not decided yet: the slot
    /// closes (and any fee refund is settled) once they have.
    #[error("the show is held for review; the slot closes once ops have decided")]
    UnderReview,
}

/// A brand's slot report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotReport {
    pub slot: hawker_storage::slots::Slot,
    /// Paid orders of the slot's product placed while it was pinned.
    pub orders: usize,
    pub pinned_ms: i64,
    pub result: postings::SlotResult,
    /// What the brand paid: fee less refund, plus commission less claw-back.
    pub cost_minor: i64,
    /// Valid GMV per unit of cost, in basis points (10,000 = 1×).
    pub roi_bps: i64,
    /// `held_under_review` while the risk engine holds the show and ops have not decided (the
    /// figures are then what the slot earns if ops clear it: held orders are counted, not
    /// written off); `final` otherwise.
    pub status: &'static str,
}

/// Spending caps per payer on gifts, in minor units of the gift currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GiftCaps {
    pub per_gift: i64,
    pub per_day: i64,
    pub per_month: i64,
    pub alert_daily: i64,
}

impl GiftCaps {
    /// What a law profile starts from: `cn` ¥500 a gift, ¥2,000 a day, ¥10,000 in 30 days,
    /// an alert from ¥500 a day; elsewhere 1,000 / 5,000 / 20,000, alert from 1,000.
    pub fn for_law(law: &str) -> GiftCaps {
        match law {
            "cn" => GiftCaps {
                per_gift: 50_000,
                per_day: 200_000,
                per_month: 1_000_000,
                alert_daily: 50_000,
            },
            _ => GiftCaps {
                per_gift: 100_000,
                per_day: 500_000,
                per_month: 2_000_000,
                alert_daily: 100_000,
            },
        }
    }

    /// The law's caps with the configuration's overrides.
    pub fn resolve(cfg: &GiftConfig, law: &str) -> GiftCaps {
        let d = GiftCaps::for_law(law);
        GiftCaps {
            per_gift: cfg.max_per_gift_minor.unwrap_or(d.per_gift),
            per_day: cfg.max_per_day_minor.unwrap_or(d.per_day),
            per_month: cfg.max_per_month_minor.unwrap_or(d.per_month),
            alert_daily: cfg.alert_daily_minor.unwrap_or(d.alert_daily),
        }
    }
}

/// What one `catch_up` posted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CatchUp {
    pub booked: usize,
    pub refunded: usize,
    pub settled: usize,
    pub topups: usize,
    pub gifts_settled: usize,
}

/// Which pass the books' job runs now, as a function of time (ms) alone: everything at the
/// first run and every `full_every_ms` after the last full pass (the safety net: an order whose
/// return window closed while nothing else changed, a commit that landed behind the overlap),
/// otherwise what changed since the last pass, with `overlap_ms` for commits still in flight,
/// every `every_ms`. A failed pass is simply not marked as run, so it is due again.
#[derive(Debug, Clone)]
pub struct CatchUpSchedule {
    every_ms: i64,
    full_every_ms: i64,
    overlap_ms: i64,
    last: Option<i64>,
    last_full: Option<i64>,
}

/// A pass of the books' job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// Everything the orders imply.
    Full,
    /// What changed since this instant.
    Since(UnixMillis),
}

impl Default for CatchUpSchedule {
    /// Every 2 s, everything every 5 minutes, a minute of overlap.
    fn default() -> Self {
        CatchUpSchedule::new(2_000, 300_000, 60_000)
    }
}

impl CatchUpSchedule {
    pub fn new(every_ms: i64, full_every_ms: i64, overlap_ms: i64) -> Self {
        CatchUpSchedule {
            every_ms,
            full_every_ms,
            overlap_ms,
            last: None,
            last_full: None,
        }
    }

    /// The pass due at `now`, if any.
    pub fn due(&self, now: UnixMillis) -> Option<Pass> {
        match (self.last, self.last_full) {
            (_, None) => Some(Pass::Full),
            (_, Some(full)) if now.0 - full >= self.full_every_ms => Some(Pass::Full),
            (Some(last), _) if now.0 - last < self.every_ms => None,
            (Some(last), _) => Some(Pass::Since(UnixMillis(last - self.overlap_ms))),
            (None, Some(_)) => Some(Pass::Full),
        }
    }

    /// `pass` ran to the end at `now`.
    pub fn ran(&mut self, pass: Pass, now: UnixMillis) {
        self.last = Some(now.0);
        if pass == Pass::Full {
            self.last_full = Some(now.0);
        }
    }
}

pub struct Books {
    store: Arc<dyn Store>,
    /// Shared with the posting task (see `post`).
    ledger: Arc<Mutex<Ledger>>,
    cfg: MoneyConfig,
    law: LawProfile,
    /// One catch-up pass at a time: a pass reads what is missing, then posts it, and a refund
    /// or settlement computed by one pass must not be posted after another pass moved the same
    /// earnings (the job's pass and an explicit call, as the demo makes, once overdrew
    /// `pending` that way).
    passes: Mutex<()>,
}

const DAY_MS: i64 = 86_400_000;
const CHUNK: i64 = 1_000;

impl Books {
    /// Restores the balances from the stored entries.
    pub async fn open(
        store: Arc<dyn Store>,
        cfg: MoneyConfig,
        law: LawProfile,
    ) -> Result<Arc<Books>, BooksError> {
        if !(1..=8_000).contains(&cfg.host_commission_bps) || cfg.platform_fee_bps > 5_000 {
            return Err(BooksError::Invalid(
                "[money] host_commission_bps 1–8000 (1–80%), platform_fee_bps at most 5000".into(),
            ));
        }
        let mut ledger = Ledger::new();
        for (a, b) in store.ledger_balances().await? {
            ledger.restore(a, b);
        }
        for p in store.blocked_parties().await? {
            ledger.block(p);
        }
        Ok(Arc::new(Books {
            store,
            ledger: Arc::new(Mutex::new(ledger)),
            cfg,
            law,
            passes: Mutex::new(()),
        }))
    }

    pub fn config(&self) -> &MoneyConfig {
        &self.cfg
    }

    /// Checks, stores and applies `txs`, all or nothing. A key already stored with the same
    /// entries is `Posted::Already`, even where the balances would no longer allow it.
    ///
    /// The work runs in a task of its own: a caller that goes away (an HTTP client hanging up,
    /// a timeout) cannot stop it between the write and the in-memory update, which would leave
    /// the balances unlike the stored entries. Found by the interrupted-run test.
    pub async fn post(&self, txs: &[Transaction]) -> Result<Vec<Posted>, BooksError> {
        let (ledger, store, txs) = (self.ledger.clone(), self.store.clone(), txs.to_vec());
        tokio::spawn(async move {
            let mut ledger = ledger.lock_owned().await;
            post_locked(&mut ledger, store.as_ref(), &txs).await
        })
        .await
        .map_err(|e| BooksError::Invalid(format!("posting task: {e}")))?
    }

    pub async fn balance(&self, a: &AccountRef) -> i64 {
        self.ledger.lock().await.balance(a)
    }

    /// Every account of `party` with its balance.
    pub async fn balances_of(&self, party: Party) -> Vec<(AccountRef, i64)> {
        let ledger = self.ledger.lock().await;
        let mut v: Vec<(AccountRef, i64)> = ledger
            .balances()
            .filter(|(a, _)| a.party == party)
            .map(|(a, b)| (*a, *b))
            .collect();
        v.sort();
        v
    }

    /// Who earns what on `o`: the seller of record; the show's host unless they are the
    /// seller's own staff, or the slot's host for a slot sale; the host's agency under a
    /// contract in force when the order was placed. Each line's commission is the first of:
    /// the slot's (for the slot's product while pinned), the product's, the show's, the
    /// configured default; each line's platform fee the organisation's, the category's, or the
    /// default. The order's rates are the lines' weighted by their amounts.
    pub async fn terms_for(&self, o: &Order) -> Result<OrderTerms, BooksError> {
        let items = self.store.order_items(o.id).await?;
        let mut host: Option<AccountId> = None;
        if let Some(ch) = o.channel {
            if let Some(c) = self.store.channel(ch).await? {
                if self.store.membership(o.org, c.owner).await?.is_none() {
                    host = Some(c.owner);
                }
            }
        }
        // A sale of a slot's product while it was pinned in the slot's show.
        let mut slot = None;
        if let Some(show) = o.show {
            let slots = self.store.slots_of_show(show).await?;
            if slots.iter().any(|s| s.state != "cancelled") {
                let pins = self.store.pins(show).await?;
                slot = slots.into_iter().find(|s| {
                    s.state != "cancelled"
                        && items.iter().any(|i| i.product == s.slot.product)
                        && pins.iter().any(|p| {
                            p.product == s.slot.product
                                && p.pinned_at <= o.created_at
                                && p.unpinned_at.is_none_or(|u| o.created_at < u)
                        })
                });
            }
        }
        // The channel's host (not the seller's staff) earns on the other lines.
        let channel_host = host;
        if let Some(s) = &slot {
            host = Some(s.slot.host);
        }
        let show_bps = match o.show {
            Some(sh) if host.is_some() => self.store.show_commission(sh).await?,
            _ => None,
        };
        let org_fee = self.store.org_fee(o.org).await?;
        let (mut weight, mut commission_w, mut fee_w) = (0i128, 0i128, 0i128);
        for i in &items {
            let line = (i.quantity * i.unit_price_minor).max(0) as i128;
            let commission = match &slot {
                Some(s) if s.slot.product == i.product => s.slot.commission_bps,
                _ if channel_host.is_some() && channel_host == host => {
                    match self.store.product_commission(i.product).await? {
                        Some(b) => b,
                        None => show_bps.unwrap_or(self.cfg.host_commission_bps),
                    }
                }
                _ => 0,
            };
            let fee = match org_fee {
                Some(f) => f,
                None => {
                    let category = self
                        .store
                        .product(i.product)
                        .await?
                        .map(|p| p.category.as_str().to_string());
                    category
                        .and_then(|c| self.cfg.category_fee_bps.get(&c).copied())
                        .unwrap_or(self.cfg.platform_fee_bps)
                }
            };
            weight += line;
            commission_w += line * commission as i128;
            fee_w += line * fee as i128;
        }
        let avg = |w: i128| if weight > 0 { (w / weight) as u32 } else { 0 };
        let commission_bps = avg(commission_w);
        let host = host.filter(|_| commission_bps > 0);
        let agency = match host {
            Some(h) => self.agency_of(h, o.created_at).await?,
            None => None,
        };
        Ok(OrderTerms {
            order: o.id,
            show: o.show.map(|s| s.0),
            slot: slot.map(|s| s.id),
            currency: o.currency,
            total: o.total_minor,
            merchant: o.org,
            host: host.map(|h| (h.0, commission_bps)),
            agency,
            platform_fee_bps: avg(fee_w),
        })
    }

    /// The agency under contract with `streamer` at `at` (the newest contract in force) and
    /// its share of the streamer's earnings.
    async fn agency_of(
        &self,
        streamer: AccountId,
        at: UnixMillis,
    ) -> Result<Option<(i64, u32)>, BooksError> {
        Ok(self
            .store
            .agency_contracts_of_streamer(streamer)
            .await?
            .into_iter()
            .filter(|k| k.in_force(at))
            .max_by_key(|k| k.id)
            .map(|k| (k.agency, k.share_bps)))
    }

    /// Days after delivery until earnings settle: the return window of the law profile.
    pub fn settle_after_ms(&self) -> i64 {
        let days = if self.law.no_reason_return_days > 0 {
            self.law.no_reason_return_days
        } else {
            self.law.merchant_policy_days
        };
        days as i64 * DAY_MS
    }

    /// Posts what the orders' states imply and the ledger does not have yet.
    pub async fn catch_up(&self, now: UnixMillis) -> Result<CatchUp, BooksError> {
        self.catch_up_since(None, now).await
    }

    /// Runs the pass `schedule` says is due at `now` (none: nothing to do yet) and marks it run.
    pub async fn catch_up_on(
        &self,
        schedule: &mut CatchUpSchedule,
        now: UnixMillis,
    ) -> Result<Option<CatchUp>, BooksError> {
        let Some(pass) = schedule.due(now) else {
            return Ok(None);
        };
        let since = match pass {
            Pass::Full => None,
            Pass::Since(t) => Some(t),
        };
        let done = self.catch_up_since(since, now).await?;
        schedule.ran(pass, now);
        Ok(Some(done))
    }

    /// The same, looking only at what changed since `since` (payments, top-ups) and at orders
    /// whose return window closed since then: what the job runs every few seconds, with a full
    /// `catch_up` at start and now and then as the safety net.
    pub async fn catch_up_since(
        &self,
        since: Option<UnixMillis>,
        now: UnixMillis,
    ) -> Result<CatchUp, BooksError> {
        let _one_pass = self.passes.lock().await;
        let mut done = CatchUp::default();
        loop {
            let orders = self.store.orders_unbooked(since, CHUNK).await?;
            let mut txs = Vec::with_capacity(orders.len());
            for o in &orders {
                let t = self.terms_for(o).await?;
                txs.push(postings::order_paid(&t, o.updated_at)?);
            }
            self.post(&txs).await?;
            done.booked += txs.len();
            if (orders.len() as i64) < CHUNK {
                break;
            }
        }
        for o in self.store.refunds_unbooked(since, CHUNK).await? {
            let t = self.terms_for(&o).await?;
            let stage = match self
                .store
                .ledger_posted(&format!("order:{}:settled", o.id))
                .await?
            {
                None => EarningsAt::Pending,
                Some((kind, _)) if kind == "order_held" => EarningsAt::Held,
                Some(_) => EarningsAt::Available,
            };
            let tx = {
                let ledger = self.ledger.lock().await;
                postings::order_refunded(&t, stage, |a| ledger.balance(a), now)?
            };
            self.post(&[tx]).await?;
            done.refunded += 1;
        }
        loop {
            let due = self
                .store
                .orders_to_settle(
                    since.map(|t| UnixMillis(t.0 - self.settle_after_ms())),
                    UnixMillis(now.0 - self.settle_after_ms()),
                    CHUNK,
                )
                .await?;
            let mut txs = Vec::with_capacity(due.len());
            // Earnings of orders the risk engine flagged, or of held shows, move to `held`.
            let held = self
                .store
                .orders_held(&due.iter().map(|o| o.id).collect::<Vec<_>>())
                .await?;
            for o in &due {
                let t = self.terms_for(o).await?;
                txs.push(postings::order_settled(&t, held.contains(&o.id), now)?);
            }
            self.post(&txs).await?;
            done.settled += txs.len();
            if (due.len() as i64) < CHUNK {
                break;
            }
        }
        self.catch_up_gifts(since, now, &mut done).await?;
        Ok(done)
    }

    /// Ops cleared a held show: the earnings its orders settled into `held` become available
    /// (once per order, by posting key). Orders not yet settled settle normally later.
    pub async fn release_held(&self, show: ShowId, now: UnixMillis) -> Result<usize, BooksError> {
        let mut txs = Vec::new();
        for o in self.store.show_orders(show).await? {
            let settled = self
                .store
                .ledger_posted(&format!("order:{}:settled", o.order))
                .await?;
            if !matches!(settled, Some((kind, _)) if kind == "order_held")
                || self
                    .store
                    .ledger_posted(&format!("order:{}:released", o.order))
                    .await?
                    .is_some()
            {
                continue;
            }
            let Some(order) = self.store.order(o.order).await? else {
                continue;
            };
            let t = self.terms_for(&order).await?;
            txs.push(postings::order_released(&t, now)?);
        }
        let posted = self.post(&txs).await?;
        Ok(posted.len())
    }

    /// Pays out every available balance at or above the minimum (parties other than the
    /// platform, not blocked), in one transaction under the batch key. Re-running a batch
    /// (after a crash, say) pays nobody twice: a party this batch already paid is skipped.
    pub async fn payout_batch(
        &self,
        batch: &str,
        now: UnixMillis,
    ) -> Result<Vec<Transaction>, BooksError> {
        if batch.is_empty() || batch.len() > 64 || batch.contains(':') {
            return Err(BooksError::Invalid(
                "batch: 1 to 64 characters, no colon".into(),
            ));
        }
        let due: Vec<(AccountRef, i64)> = {
            let ledger = self.ledger.lock().await;
            ledger
                .balances()
                .filter(|(a, b)| {
                    a.purpose == Purpose::Available
                        && a.party != Party::Platform
                        && **b >= self.cfg.payout_minimum_minor
                        && !ledger.is_blocked(a.party)
                })
                .map(|(a, b)| (*a, *b))
                .collect()
        };
        let mut txs = Vec::new();
        for (a, amount) in due {
            let tx = postings::payout(batch, a.party, amount, a.currency, now);
            if self.store.ledger_posted(&tx.key).await?.is_none() {
                txs.push(tx);
            }
        }
        txs.sort_by(|a, b| a.key.cmp(&b.key));
        self.post(&txs).await?;
        Ok(txs)
    }

    /// Runs a payout batch to the end: new payouts posted, each (and any left unconfirmed by an
    /// earlier, interrupted run of the same batch) sent through the provider and confirmed or
    /// reversed. Returns `(paid, failed)` transactions.
    pub async fn run_payouts(
        &self,
        batch: &str,
        provider: &dyn crate::payouts::PayoutProvider,
        now: UnixMillis,
    ) -> Result<(Vec<Transaction>, Vec<Transaction>), BooksError> {
        self.payout_batch(batch, now).await?;
        let (mut paid, mut failed) = (Vec::new(), Vec::new());
        for p in self.store.payouts_unconfirmed(batch).await? {
            let Some(e) = p.entries.iter().find(|e| e.amount > 0) else {
                continue;
            };
            let money = hawker_domain::Money::new(e.amount, e.account.currency);
            match provider
                .pay(&p.key, e.account.party, money)
                .await
                .map_err(|e| BooksError::Invalid(e.to_string()))?
            {
                crate::payouts::PayoutStatus::Paid => {
                    self.post(&[postings::payout_confirmed(&p, now)]).await?;
                    paid.push(p);
                }
                crate::payouts::PayoutStatus::Failed(why) => {
                    tracing::warn!(key = %p.key, %why, "payout failed; the money is available again");
                    self.post(&[postings::payout_failed(&p, now)]).await?;
                    failed.push(p);
                }
            }
        }
        Ok((paid, failed))
    }

    /// The payout provider confirmed these payouts (the sandbox does at once).
    pub async fn confirm_payouts(
        &self,
        payouts: &[Transaction],
        now: UnixMillis,
    ) -> Result<(), BooksError> {
        let txs: Vec<Transaction> = payouts
            .iter()
            .map(|p| postings::payout_confirmed(p, now))
            .collect();
        self.post(&txs).await?;
        Ok(())
    }

    fn gift_of(row: &GiftRow) -> Gift {
        let g = &row.gift;
        Gift {
            id: row.id,
            show: g.show,
            viewer: g.viewer.0,
            streamer: g.streamer.0,
            agency: g.agency,
            coins: g.coins,
            value_minor: g.value_minor,
            currency: g.currency,
            split: GiftSplit {
                streamer_bps: g.streamer_bps,
                tax_bps: g.tax_bps,
                agency_bps: g.agency_bps,
            },
        }
    }

    /// Mutes a host for `minutes` and suspends their tipping income for the configured
    /// multiple of it (cn: 3×). Returns when the suspension ends, if there is one.
    pub async fn mute_host(
        &self,
        host: AccountId,
        minutes: i64,
        reason: &str,
        by: AccountId,
        now: UnixMillis,
    ) -> Result<Option<UnixMillis>, BooksError> {
        if !(1..=60 * 24 * 365).contains(&minutes) || reason.trim().is_empty() {
            return Err(BooksError::Invalid(
                "minutes 1 to 525600 and a reason".into(),
            ));
        }
        let ends = UnixMillis(now.0 + minutes * 60_000);
        self.store
            .restrict(host, "mute", now, Some(ends), reason, by, now)
            .await?;
        let multiplier = self
            .cfg
            .gifts
            .muted_tips_multiplier
            .unwrap_or(if self.law.name == "cn" { 3 } else { 0 });
        if multiplier == 0 {
            return Ok(None);
        }
        let until = UnixMillis(now.0 + minutes * 60_000 * multiplier as i64);
        self.store
            .restrict(host, "tips_suspended", now, Some(until), reason, by, now)
            .await?;
        Ok(Some(until))
    }

    /// Coins in `viewer`'s wallet.
    pub async fn coins(&self, viewer: AccountId) -> i64 {
        self.balance(&AccountRef::new(
            Party::Account(viewer.0),
            Purpose::Wallet,
            hawker_money::account::COIN,
        ))
        .await
    }

    /// The money a number of coins stands for.
    pub fn coin_value(&self, coins: i64) -> Option<i64> {
        coins.checked_mul(self.cfg.gifts.coin_price_minor)
    }

    /// A top-up whose payment succeeded: its coins into the wallet.
    pub async fn book_topup(&self, t: &TopUp) -> Result<Posted, BooksError> {
        let tx = postings::coins_topped_up(
            t.id,
            t.account.0,
            t.amount_minor,
            t.currency,
            t.coins,
            t.created_at,
        );
        Ok(self.post(&[tx]).await?[0])
    }

    /// Sends a gift: caps checked against what the payer already sent, coins out of the
    /// wallet, the value split into pending earnings (credited late).
    #[allow(clippy::too_many_arguments)]
    pub async fn send_gift(
        &self,
        viewer: AccountId,
        streamer: AccountId,
        channel: i64,
        show: Option<i64>,
        kind: i64,
        coins: i64,
        now: UnixMillis,
    ) -> Result<GiftRow, BooksError> {
        let c = &self.cfg.gifts;
        let caps = GiftCaps::resolve(c, &self.law.name);
        let value = self
            .coin_value(coins)
            .ok_or_else(|| BooksError::Invalid("too many coins".into()))?;
        if value > caps.per_gift {
            return Err(BooksError::OverCap {
                which: "gift",
                cap_minor: caps.per_gift,
            });
        }
        let day_start = UnixMillis(now.0 - now.0.rem_euclid(DAY_MS));
        let today = self.store.gift_spend(viewer, day_start).await?;
        if today + value > caps.per_day {
            return Err(BooksError::OverCap {
                which: "day",
                cap_minor: caps.per_day,
            });
        }
        let month = self
            .store
            .gift_spend(viewer, UnixMillis(now.0 - 30 * DAY_MS))
            .await?;
        if month + value > caps.per_month {
            return Err(BooksError::OverCap {
                which: "month",
                cap_minor: caps.per_month,
            });
        }
        if let Some(r) = self
            .store
            .restriction_at(streamer, "tips_suspended", now)
            .await?
        {
            return Err(BooksError::TipsSuspended {
                until: r.ends_at.map_or(i64::MAX, |t| t.0),
            });
        }
        if self.coins(viewer).await < coins {
            return Err(BooksError::NotEnoughCoins);
        }
        let agency = self.agency_of(streamer, now).await?;
        let row = self
            .store
            .create_gift(&NewGift {
                show,
                channel,
                viewer,
                streamer,
                agency: agency.map(|(a, _)| a),
                kind,
                coins,
                value_minor: value,
                currency: c.currency,
                streamer_bps: c.streamer_bps,
                tax_bps: c.tax_bps,
                agency_bps: agency.map_or(0, |(_, bps)| bps),
                created_at: now,
            })
            .await?;
        match self
            .post(&[postings::gift_sent(&Self::gift_of(&row), now)?])
            .await
        {
            Ok(_) => {}
            Err(e) => {
                self.store
                    .set_gift_state(row.id, "pending", "refused")
                    .await?;
                return Err(match e {
                    BooksError::Ledger(LedgerError::Overdraw { ref account, .. })
                        if account.contains(":wallet:") =>
                    {
                        BooksError::NotEnoughCoins
                    }
                    e => e,
                });
            }
        }
        if today < caps.alert_daily && today + value >= caps.alert_daily {
            metrics::counter!("hawker_gift_spend_alerts_total").increment(1);
            tracing::warn!(
                viewer = viewer.0,
                spent_today_minor = today + value,
                "a payer passed the daily gift alert threshold"
            );
        }
        Ok(row)
    }

    /// Takes back a gift still pending (the host broke the rules; a minor's spending): coins
    /// back in the wallet, the earnings reversed. Settled gifts cannot be taken back here.
    pub async fn refund_gift(&self, id: i64, now: UnixMillis) -> Result<GiftRow, BooksError> {
        let row = self
            .store
            .gift(id)
            .await?
            .ok_or_else(|| BooksError::Invalid("no such gift".into()))?;
        if row.state != "pending" {
            return Err(BooksError::Invalid(format!(
                "a {} gift cannot be taken back",
                row.state
            )));
        }
        self.post(&[postings::gift_refunded(&Self::gift_of(&row), now)?])
            .await?;
        self.store.set_gift_state(id, "pending", "refunded").await?;
        Ok(GiftRow {
            state: "refunded".into(),
            ..row
        })
    }

    /// Takes back a gift whatever its stage (an approved guardian claim): a pending one is
    /// refunded, a settled one clawed back from the earners (beyond their balance: owed).
    pub async fn take_back_gift(&self, id: i64, now: UnixMillis) -> Result<GiftRow, BooksError> {
        let row = self
            .store
            .gift(id)
            .await?
            .ok_or_else(|| BooksError::Invalid("no such gift".into()))?;
        if row.state == "pending" {
            return self.refund_gift(id, now).await;
        }
        if row.state != "settled" {
            return Err(BooksError::Invalid(format!(
                "a {} gift cannot be taken back",
                row.state
            )));
        }
        let tx = {
            let ledger = self.ledger.lock().await;
            postings::gift_clawed_back(&Self::gift_of(&row), |a| ledger.balance(a), now)?
        };
        self.post(&[tx]).await?;
        self.store.set_gift_state(id, "settled", "refunded").await?;
        Ok(GiftRow {
            state: "refunded".into(),
            ..row
        })
    }

    /// Coins of succeeded top-ups into wallets; gifts past the late-credit delay settled (a
    /// gift row whose posting never happened — a crash between the two — is refused).
    async fn catch_up_gifts(
        &self,
        since: Option<UnixMillis>,
        now: UnixMillis,
        done: &mut CatchUp,
    ) -> Result<(), BooksError> {
        for t in self.store.topups_unbooked(since, CHUNK).await? {
            self.book_topup(&t).await?;
            done.topups += 1;
        }
        let due = UnixMillis(now.0 - self.cfg.gifts.credit_after_hours as i64 * 3_600_000);
        for row in self.store.gifts_in_state("pending", due, CHUNK).await? {
            if self
                .store
                .ledger_posted(&format!("gift:{}:sent", row.id))
                .await?
                .is_none()
            {
                self.store
                    .set_gift_state(row.id, "pending", "refused")
                    .await?;
                continue;
            }
            self.post(&[postings::gift_settled(&Self::gift_of(&row), now)?])
                .await?;
            self.store
                .set_gift_state(row.id, "pending", "settled")
                .await?;
            done.gifts_settled += 1;
        }
        Ok(())
    }

    /// A slot's result from the orders placed while its product was pinned in its show.
    pub async fn slot_report(&self, id: i64, now: UnixMillis) -> Result<SlotReport, BooksError> {
        let slot = self
            .store
            .slot(id)
            .await?
            .ok_or_else(|| BooksError::Invalid("no such slot".into()))?;
        let pins: Vec<(i64, i64)> = self
            .store
            .pins(slot.slot.show)
            .await?
            .into_iter()
            .filter(|p| p.product == slot.slot.product)
            .map(|p| (p.pinned_at.0, p.unpinned_at.unwrap_or(now).0))
            .collect();
        let sales: Vec<_> = self
            .store
            .slot_sales(slot.slot.show, slot.slot.product)
            .await?
            .into_iter()
            .filter(|s| {
                pins.iter()
                    .any(|(a, b)| *a <= s.created_at.0 && s.created_at.0 < *b)
            })
            .collect();
        let gmv: i64 = sales.iter().map(|s| s.amount_minor).sum();
        let returned: i64 = sales
            .iter()
            .filter(|s| matches!(s.state.as_str(), "refunded" | "cancelled" | "expired"))
            .map(|s| s.amount_minor)
            .sum();
        let terms = postings::SlotTerms {
            fee_minor: slot.slot.fee_minor,
            commission_bps: slot.slot.commission_bps,
            guaranteed_gmv_minor: slot.slot.guaranteed_gmv_minor,
            return_cap_bps: slot.slot.return_cap_bps,
        };
        // A hold is a question, not a verdict: while ops review the show, the report shows what
        // the slot earns if they clear it and says it is under review.
        let under_review = self
            .store
            .assessment(slot.slot.show)
            .await?
            .is_some_and(|a| a.hold && a.state == RiskState::Open);
        // Orders the risk engine flagged (and ops did not clear) are not valid GMV either.
        let held = self
            .store
            .orders_held(&sales.iter().map(|s| s.order).collect::<Vec<_>>())
            .await?;
        let flagged: i64 = sales
            .iter()
            .filter(|s| held.contains(&s.order) && !under_review)
            .filter(|s| !matches!(s.state.as_str(), "refunded" | "cancelled" | "expired"))
            .map(|s| s.amount_minor)
            .sum();
        let result = terms.result(gmv, returned, flagged);
        let cost = slot.slot.fee_minor - result.fee_refund_minor + result.commission_minor
            - result.clawback_minor;
        Ok(SlotReport {
            orders: sales.len(),
            pinned_ms: pins.iter().map(|(a, b)| b - a).sum(),
            roi_bps: if cost > 0 {
                ((result.valid_gmv_minor as i128 * 10_000) / cost as i128) as i64
            } else {
                0
            },
            cost_minor: cost,
            result,
            status: if under_review {
                "held_under_review"
            } else {
                "final"
            },
            slot,
        })
    }

    /// Ops recorded the brand's transfer of the slot fee.
    pub async fn slot_fee_received(&self, id: i64, now: UnixMillis) -> Result<(), BooksError> {
        let slot = self
            .store
            .slot(id)
            .await?
            .ok_or_else(|| BooksError::Invalid("no such slot".into()))?;
        if slot.state != "booked" && slot.state != "fee_received" {
            return Err(BooksError::Invalid(format!(
                "a {} slot takes no fee",
                slot.state
            )));
        }
        self.post(&[postings::slot_fee_received(
            id,
            slot.slot.show.0,
            slot.slot.host.0,
            slot.slot.fee_minor,
            slot.slot.currency,
            self.cfg.platform_fee_bps,
            now,
        )])
        .await?;
        self.store
            .set_slot_state(id, "booked", "fee_received")
            .await?;
        Ok(())
    }

    /// Closes a slot after its orders' return windows: fee to the host less the refund for a
    /// missed guarantee; commission on returns above the cap back to the brand.
    pub async fn close_slot(&self, id: i64, now: UnixMillis) -> Result<SlotReport, BooksError> {
        let report = self.slot_report(id, now).await?;
        if report.status == "held_under_review" {
            return Err(BooksError::UnderReview);
        }
        let slot = &report.slot;
        if slot.state != "fee_received" && slot.state != "closed" {
            return Err(BooksError::Invalid(format!(
                "a {} slot cannot close (its fee must be received first)",
                slot.state
            )));
        }
        let agency = self.agency_of(slot.slot.host, now).await?;
        let close = postings::SlotClose {
            slot: id,
            show: slot.slot.show.0,
            host: slot.slot.host.0,
            brand: slot.slot.brand,
            agency,
            currency: slot.slot.currency,
            fee: slot.slot.fee_minor,
            platform_bps: self.cfg.platform_fee_bps,
            result: report.result,
        };
        let tx = {
            let ledger = self.ledger.lock().await;
            postings::slot_closed(&close, |a| ledger.balance(a), now)
        };
        self.post(&[tx]).await?;
        self.store
            .set_slot_state(id, "fee_received", "closed")
            .await?;
        Ok(report)
    }

    /// Nothing more becomes available to, or is paid out to, `party` (trust rules, ops); kept
    /// across restarts.
    pub async fn block(
        &self,
        party: Party,
        reason: &str,
        by: AccountId,
        now: UnixMillis,
    ) -> Result<(), BooksError> {
        self.store
            .set_party_blocked(party, true, reason, by, now)
            .await?;
        self.ledger.lock().await.block(party);
        Ok(())
    }

    pub async fn unblock(
        &self,
        party: Party,
        by: AccountId,
        now: UnixMillis,
    ) -> Result<(), BooksError> {
        self.store
            .set_party_blocked(party, false, "", by, now)
            .await?;
        self.ledger.lock().await.unblock(party);
        Ok(())
    }

    pub async fn is_blocked(&self, party: Party) -> bool {
        self.ledger.lock().await.is_blocked(party)
    }
}

/// `Books::post` under the ledger's lock.
async fn post_locked(
    ledger: &mut Ledger,
    store: &dyn Store,
    txs: &[Transaction],
) -> Result<Vec<Posted>, BooksError> {
    let mut out: Vec<Option<Posted>> = vec![None; txs.len()];
    let mut todo: Vec<usize> = Vec::new();
    let undo = |ledger: &mut Ledger, todo: &[usize]| {
        for i in todo.iter().rev() {
            ledger.unapply(&txs[*i]);
        }
    };
    for (i, t) in txs.iter().enumerate() {
        match ledger.check(t) {
            Ok(()) => {
                ledger.apply(t);
                todo.push(i);
            }
            Err(e) => match store.ledger_posted(&t.key).await {
                Ok(Some((_, f))) if f == t.fingerprint() => out[i] = Some(Posted::Already),
                Ok(Some(_)) => {
                    undo(ledger, &todo);
                    return Err(LedgerError::KeyConflict(t.key.clone()).into());
                }
                Ok(None) => {
                    undo(ledger, &todo);
                    return Err(e.into());
                }
                Err(s) => {
                    undo(ledger, &todo);
                    return Err(s.into());
                }
            },
        }
    }
    let batch: Vec<Transaction> = todo.iter().map(|i| txs[*i].clone()).collect();
    match store.post_ledger(&batch).await {
        Ok(posted) => {
            for (i, p) in todo.iter().zip(posted) {
                if p == Posted::Already {
                    ledger.unapply(&txs[*i]); // stored before: applied at restore
                }
                out[*i] = Some(p);
            }
            Ok(out
                .into_iter()
                .map(|p| p.unwrap_or(Posted::Already))
                .collect())
        }
        Err(e) => {
            undo(ledger, &todo);
            Err(match e {
                StorageError::Conflict { .. } => {
                    LedgerError::KeyConflict("a key in the batch".into()).into()
                }
                e => e.into(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gift_caps_follow_the_law_profile_unless_configured() {
        let mut g = GiftConfig::default();
        assert_eq!(GiftCaps::resolve(&g, "cn").per_gift, 50_000);
        assert_eq!(GiftCaps::resolve(&g, "eu").per_gift, 100_000);
        g.max_per_day_minor = Some(7);
        let cn = GiftCaps::resolve(&g, "cn");
        assert_eq!((cn.per_day, cn.per_month), (7, 1_000_000));
    }
}

#[cfg(test)]
mod schedule_tests {
    use super::*;

    /// The job ticks every second for an hour; the passes it runs.
    fn passes(schedule: &mut CatchUpSchedule, from: i64, seconds: i64) -> Vec<(i64, Pass)> {
        let mut ran = Vec::new();
        for s in 0..seconds {
            let now = UnixMillis(from + s * 1000);
            if let Some(p) = schedule.due(now) {
                schedule.ran(p, now);
                ran.push((now.0, p));
            }
        }
        ran
    }

    #[test]
    fn a_full_pass_at_start_and_every_five_minutes_incremental_in_between() {
        let mut sched = CatchUpSchedule::default();
        let t0 = 1_700_000_000_000;
        let ran = passes(&mut sched, t0, 3600);
        let full: Vec<i64> = ran
            .iter()
            .filter(|(_, p)| *p == Pass::Full)
            .map(|(t, _)| (t - t0) / 1000)
            .collect();
        assert_eq!(full, (0..12).map(|i| i * 300).collect::<Vec<_>>());
        // Every other second otherwise, each looking back to the last pass less a minute.
        let incremental: Vec<&(i64, Pass)> = ran.iter().filter(|(_, p)| *p != Pass::Full).collect();
        assert_eq!(incremental.len(), 1800 - 12);
        for w in ran.windows(2) {
            assert_eq!(w[1].0 - w[0].0, 2000, "a pass every 2 s");
            if let Pass::Since(t) = w[1].1 {
                assert_eq!(t.0, w[0].0 - 60_000);
            }
        }
    }

    #[test]
    fn a_failed_pass_is_due_again() {
        let mut sched = CatchUpSchedule::default();
        let t0 = 1_000_000;
        assert_eq!(sched.due(UnixMillis(t0)), Some(Pass::Full));
        // Not marked as run (it failed): still due, and still the full one.
        assert_eq!(sched.due(UnixMillis(t0 + 1000)), Some(Pass::Full));
        sched.ran(Pass::Full, UnixMillis(t0 + 1000));
        assert_eq!(sched.due(UnixMillis(t0 + 2000)), None);
        assert_eq!(
            sched.due(UnixMillis(t0 + 3000)),
            Some(Pass::Since(UnixMillis(t0 + 1000 - 60_000)))
        );
        assert_eq!(sched.due(UnixMillis(t0 + 301_000)), Some(Pass::Full));
    }
}
