//! The SQLite flash-sale journal and its writer connection: a sale's group commit appends one
//! `flash_journal` row per order on a dedicated rusqlite connection (no sqlx round trips, cached
//! statements, no automatic checkpoints), and `move_flash_journal` later turns slices of the
//! journal into `orders`, `order_items` and `order_events` rows in one transaction, so each
//! order is in exactly one of the two places. The ledger's and the access log's batches share
//! the same writer connection (`with_flash_conn`).

use crate::shop::{NewOrder, OrderId, ORDER_INSERT_COLS};
use crate::{Result, SqlStore, StorageError};
use hawker_domain::UnixMillis;

/// The flash-sale writer's connection to an SQLite file, opened on first use: automatic
/// checkpoints off (the store's checkpoint task does them beside it, so a commit never waits for
/// one).
fn flash_connection(
    path: &std::path::Path,
    guard: &mut Option<rusqlite::Connection>,
) -> Result<()> {
    if guard.is_none() {
        let c = rusqlite::Connection::open(path)?;
        c.execute_batch(crate::SQLITE_PRAGMAS)?;
        // 64 MiB of page cache: the ledger's per-account index takes appends at one leaf per
        // active account (thousands), which a 2 MiB default cache re-reads on every batch.
        c.execute_batch("PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = -65536;")?;
        *guard = Some(c);
    }
    Ok(())
}

/// Runs `f` on the flash-sale writer's connection in the blocking pool.
pub(crate) async fn with_flash_conn<T: Send + 'static>(
    path: &std::path::Path,
    conn: &FlashConn,
    f: impl FnOnce(&mut rusqlite::Connection) -> Result<T> + Send + 'static,
) -> Result<T> {
    let (path, conn) = (path.to_path_buf(), conn.clone());
    tokio::task::spawn_blocking(move || -> Result<T> {
        let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
        flash_connection(&path, &mut guard)?;
        f(guard.as_mut().expect("opened above"))
    })
    .await
    .map_err(|e| StorageError::Corrupt(format!("flash writer: {e}")))?
}

pub(crate) type FlashConn = std::sync::Arc<std::sync::Mutex<Option<rusqlite::Connection>>>;

/// The flash-sale group commit on an SQLite file: one transaction appending one
/// `flash_journal` row per order. The journal's only key is the order id, which grows, so a
/// commit dirties a few tail pages however many orders it holds; the orders' own indexes (two
/// of them keyed by buyer, i.e. random) are written later by [`move_flash_journal`]. Measured in
/// `hawker-bench flash`: writing orders, items and events here directly cost ~39 µs per order,
/// most of it WAL frames of the buyer-keyed index pages each commit dirtied.
pub(crate) async fn place_flash_orders_sqlite(
    path: &std::path::Path,
    conn: &FlashConn,
    orders: std::sync::Arc<[NewOrder]>,
) -> Result<()> {
    with_flash_conn(path, conn, move |c| {
        let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        {
            let mut row = tx.prepare_cached(
                // An id already among the order rows is refused here, as the journal's own key
                // refuses one still in the journal: a row that could never move is never taken.
                "INSERT INTO flash_journal (order_id, sale_id, buyer_id, quantity, unit_price_minor, title, return_class, \
                 exceptions_acknowledged, idempotency_key, address, created_at, expires_at) \
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12 WHERE NOT EXISTS (SELECT 1 FROM orders WHERE id = ?1)",
            )?;
            for o in orders.iter() {
                let (Some(sale), [item], Some(expires)) = (o.flash_sale, o.items.as_slice(), o.expires_at)
                else {
                    return Err(StorageError::Corrupt(format!(
                        "flash order {} needs a sale, one item and an expiry",
                        o.id
                    )));
                };
                if row.execute(rusqlite::params![
                    o.id,
                    sale,
                    o.buyer.0,
                    item.quantity,
                    item.unit_price_minor,
                    item.title,
                    item.return_class.as_str(),
                    o.exceptions_acknowledged as i64,
                    o.idempotency_key,
                    o.address,
                    o.created_at.0,
                    expires.0,
                ])
                .map_err(|e| embedded(e, "order", "sale"))?
                    == 0
                {
                    return Err(StorageError::Conflict { entity: "order" });
                }
            }
        }
        tx.commit()?;
        Ok(())
    })
    .await
}

impl SqlStore {
    /// Moves a slice of the flash journal (SQLite files only; nothing elsewhere).
    pub(crate) async fn settle_journal(&self, slice: JournalSlice) -> Result<usize> {
        let Some(path) = &self.sqlite_path else {
            return Ok(0);
        };
        with_flash_conn(path, &self.flash_conn, move |c| {
            move_flash_journal(c, slice)
        })
        .await
    }

    /// Before a read over many orders: every journalled order becomes an order row.
    pub(crate) async fn materialise_all(&self) -> Result<()> {
        const CHUNK: usize = 20_000;
        while self.settle_journal(JournalSlice::Oldest(CHUNK)).await? == CHUNK {}
        Ok(())
    }

    /// Before a read or write of one order: if it is still journalled, it becomes a row now.
    pub(crate) async fn materialise_order(&self, id: OrderId) -> Result<bool> {
        Ok(self.settle_journal(JournalSlice::Order(id)).await? > 0)
    }
}

/// Which journal rows to move.
#[derive(Debug, Clone, Copy)]
pub(crate) enum JournalSlice {
    /// The oldest `n`.
    Oldest(usize),
    /// One order, if it is still in the journal.
    Order(OrderId),
    /// The oldest rows, at most `limit`, up to the first whose reservation has not expired at
    /// `now`. Rows are appended in id order by one writer with one reservation length, so
    /// their expiries rise with their ids: the expired ones are a prefix, and finding them
    /// reads one row past it instead of the whole journal. (After a restart with a shorter
    /// reservation, rows behind a longer-lived one wait for it: late, never early.)
    ExpiredBy { now: UnixMillis, limit: usize },
}

/// Moves journal rows into `orders`, `order_items` and `order_events` and deletes them from the
/// journal, all in one transaction: a flash order is in exactly one of the two places, and a
/// crash at any point leaves it in one of them. Set-based statements over the slice, on the
/// writer's connection (the one that appends), so the two never wait on each other's locks.
fn move_flash_journal(c: &mut rusqlite::Connection, slice: JournalSlice) -> Result<usize> {
    // Most calls find nothing to move: answer that without taking the write lock.
    let any: bool = match slice {
        JournalSlice::Oldest(_) => c
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM flash_journal)")?
            .query_row([], |r| r.get(0))?,
        JournalSlice::Order(id) => c
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM flash_journal WHERE order_id = ?)")?
            .query_row([id], |r| r.get(0))?,
        JournalSlice::ExpiredBy { now, .. } => c
            .prepare_cached(
                "SELECT COALESCE((SELECT expires_at <= ? FROM flash_journal ORDER BY order_id LIMIT 1), 0)",
            )?
            .query_row([now.0], |r| r.get(0))?,
    };
    if !any {
        return Ok(0);
    }
    let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let (cond, arg) = match slice {
        JournalSlice::Oldest(n) => {
            let upto: Option<i64> = tx.query_row(
                "SELECT MAX(order_id) FROM (SELECT order_id FROM flash_journal ORDER BY order_id LIMIT ?)",
                [n as i64],
                |r| r.get(0),
            )?;
            let Some(upto) = upto else {
                return Ok(0);
            };
            ("j.order_id <= ?1", upto)
        }
        JournalSlice::Order(id) => ("j.order_id = ?1", id),
        JournalSlice::ExpiredBy { now, limit } => {
            let mut upto = None;
            {
                let mut rows = tx.prepare_cached(
                    "SELECT order_id, expires_at FROM flash_journal ORDER BY order_id LIMIT ?",
                )?;
                let mut rows = rows.query([limit as i64])?;
                while let Some(r) = rows.next()? {
                    if r.get::<_, i64>(1)? > now.0 {
                        break;
                    }
                    upto = Some(r.get::<_, i64>(0)?);
                }
            }
            let Some(upto) = upto else {
                return Ok(0);
            };
            ("j.order_id <= ?1", upto)
        }
    };
    let moved = tx
        .prepare_cached(&format!(
            "INSERT INTO orders ({ORDER_INSERT_COLS}) \
             SELECT j.order_id, j.buyer_id, s.org_id, s.store_id, s.channel_id, s.show_id, j.sale_id, 'created', s.currency, \
             j.unit_price_minor * j.quantity, 0, j.unit_price_minor * j.quantity, NULL, j.address, j.exceptions_acknowledged, \
             j.idempotency_key, j.created_at, j.expires_at, j.created_at \
             FROM flash_journal j JOIN flash_sales s ON s.id = j.sale_id WHERE {cond} ORDER BY j.order_id"
        ))?
        .execute([arg])
        .map_err(|e| embedded(e, "order", "buyer, organisation or store"))?;
    tx.prepare_cached(&format!(
        "INSERT INTO order_items (order_id, sku_id, product_id, title, quantity, unit_price_minor, return_class) \
         SELECT j.order_id, s.sku_id, k.product_id, j.title, j.quantity, j.unit_price_minor, j.return_class \
         FROM flash_journal j JOIN flash_sales s ON s.id = j.sale_id JOIN skus k ON k.id = s.sku_id WHERE {cond} ORDER BY j.order_id"
    ))?
    .execute([arg])
    .map_err(|e| embedded(e, "order item", "sku or product"))?;
    tx.prepare_cached(&format!(
        "INSERT INTO order_events (order_id, from_state, to_state, actor_kind, actor_id, note, at) \
         SELECT j.order_id, NULL, 'created', 'buyer', j.buyer_id, 'placed', j.created_at FROM flash_journal j WHERE {cond} ORDER BY j.order_id"
    ))?
    .execute([arg])?;
    let deleted = tx
        .prepare_cached(&format!("DELETE FROM flash_journal AS j WHERE {cond}"))?
        .execute([arg])?;
    if deleted != moved {
        // A journal row whose sale is gone: keep everything where it was and say so.
        return Err(StorageError::Corrupt(format!(
            "flash journal: {deleted} rows, {moved} orders (a sale missing?)"
        )));
    }
    tx.commit()?;
    Ok(moved)
}

fn embedded(e: rusqlite::Error, entity: &'static str, referenced: &'static str) -> StorageError {
    if let rusqlite::Error::SqliteFailure(f, _) = &e {
        match f.extended_code {
            rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                return StorageError::Conflict { entity }
            }
            rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY => {
                return StorageError::NotFound { entity: referenced }
            }
            _ => {}
        }
    }
    StorageError::Embedded(e)
}
