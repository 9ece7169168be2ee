//! `ledger`: balanced ledger transactions per second, durable, through the same path the
//! platform uses (the `hawker_money::Ledger` checks every transaction, storage writes the batch
//! in one database transaction, then the balances are applied), on the embedded SQLite file and
//! on PostgreSQL; then a settlement run over 1,000,000 paid orders (pending → available, one in
//! fifty flagged and held) with its time and peak resident memory.

use hawker_domain::{Currency, UnixMillis};
use hawker_money::postings::{self, OrderTerms};
use hawker_money::{Ledger, Transaction};
use hawker_storage::ledger::LedgerStore;
use hawker_storage::SqlStore;
use std::time::Instant;

/// The terms of order `i`: deterministic, so a run needs no list of orders in memory.
fn terms(i: i64) -> OrderTerms {
    OrderTerms {
        order: i,
        show: Some(1 + i % 500),
        slot: (i % 34 == 0).then_some(i % 34),
        currency: Currency::CNY,
        total: 1_000 + (i * 7_919) % 90_000,
        merchant: 1 + i % 65,
        host: Some((10_000 + i % 5_000, 1_000 + (i % 7) as u32 * 500)),
        agency: (i % 3 == 0).then_some((1 + i % 40, 3_000)),
        platform_fee_bps: 500,
    }
}

pub struct Run {
    pub transactions: u64,
    pub seconds: f64,
}

impl Run {
    pub fn per_second(&self) -> f64 {
        self.transactions as f64 / self.seconds
    }
}

/// Checks, writes (durably, one commit per batch) and applies `txs`.
async fn post(store: &SqlStore, ledger: &mut Ledger, txs: &[Transaction]) -> anyhow::Result<()> {
    for t in txs {
        ledger.check(t)?;
    }
    store.post_ledger(txs).await?;
    for t in txs {
        ledger.apply(t);
    }
    Ok(())
}

/// Posts `make(i)` for `i` in `1..=n`, `batch` per commit.
async fn run(
    store: &SqlStore,
    ledger: &mut Ledger,
    n: i64,
    batch: i64,
    make: impl Fn(i64) -> Result<Transaction, hawker_money::split::SplitError>,
) -> anyhow::Result<Run> {
    let t0 = Instant::now();
    let mut i = 1;
    while i <= n {
        let end = (i + batch).min(n + 1);
        let txs: Vec<Transaction> = (i..end).map(&make).collect::<Result<_, _>>()?;
        post(store, ledger, &txs).await?;
        i = end;
    }
    Ok(Run {
        transactions: n as u64,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

/// `n` orders paid.
pub async fn pay(store: &SqlStore, ledger: &mut Ledger, n: i64, batch: i64) -> anyhow::Result<Run> {
    run(store, ledger, n, batch, |o| {
        postings::order_paid(&terms(o), UnixMillis(o))
    })
    .await
}

/// Settles orders `1..=n`: their return windows closed; every fiftieth is flagged and held.
pub async fn settle(
    store: &SqlStore,
    ledger: &mut Ledger,
    n: i64,
    batch: i64,
) -> anyhow::Result<Run> {
    run(store, ledger, n, batch, |o| {
        postings::order_settled(&terms(o), o % 50 == 0, UnixMillis(n + o))
    })
    .await
}

/// The stored balances equal the in-memory ones and every currency sums to zero: the run
/// wrote what it claims.
pub async fn verify(store: &SqlStore, ledger: &Ledger) -> anyhow::Result<usize> {
    let stored = store.ledger_balances().await?;
    for (a, b) in &stored {
        anyhow::ensure!(
            ledger.balance(a) == *b,
            "{a}: stored {b}, in memory {}",
            ledger.balance(a)
        );
    }
    anyhow::ensure!(
        ledger.totals().values().all(|t| *t == 0),
        "unbalanced: {:?}",
        ledger.totals()
    );
    Ok(stored.len())
}

/// Peak resident memory of this process since the last reset, in bytes.
pub fn peak_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .unwrap_or(0)
        * 1024
}

/// Starts a new peak-memory measurement (Linux: writing 5 to clear_refs resets VmHWM).
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}
