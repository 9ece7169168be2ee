//! The ledger's record: accounts, transactions (unique posting keys with a fingerprint of what
//! they move) and entries. The caller's `hawker_money::Ledger` decides what may be posted; this
//! writes it, all of a batch or nothing, and answers replays of a posting key. On an SQLite
//! file the batch goes through the embedded writer connection (rusqlite, prepared statements),
//! the same one the flash-sale journal uses; elsewhere through sqlx.

use crate::journal::{with_flash_conn, FlashConn};
use crate::shop::{order_from, Order, OrgId, ORDER_COLS};
use crate::{Result, SqlStore, StorageError};
use async_trait::async_trait;
use hawker_domain::{AccountId, UnixMillis};
use hawker_money::{AccountRef, Posted, Transaction};
use sqlx::Row;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// One line of a statement: a transaction as it touched one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementLine {
    pub tx: i64,
    pub key: String,
    pub kind: String,
    pub at: UnixMillis,
    pub amount: i64,
    pub order: Option<i64>,
    pub show: Option<i64>,
    pub gift: Option<i64>,
    pub slot: Option<i64>,
    pub batch: Option<String>,
}

/// An agency's share of a streamer's earnings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgencyContract {
    pub id: i64,
    pub agency: OrgId,
    pub streamer: AccountId,
    pub share_bps: u32,
    pub starts_at: UnixMillis,
    pub ends_at: Option<UnixMillis>,
    pub created_by: AccountId,
    pub created_at: UnixMillis,
}

impl AgencyContract {
    pub fn in_force(&self, at: UnixMillis) -> bool {
        self.starts_at <= at && self.ends_at.is_none_or(|e| at < e)
    }
}

#[async_trait]
pub trait LedgerStore: Send + Sync {
    /// `(kind, fingerprint)` of the transaction posted under `key`, if any.
    async fn ledger_posted(&self, key: &str) -> Result<Option<(String, i64)>>;
    /// Orders whose payment succeeded (even if it went back since) and is not in the ledger
    /// yet (oldest first).
    /// With `since`, only payments changed since then (the index says which), so a frequent run
    /// costs what is new, not what is stored.
    async fn orders_unbooked(&self, since: Option<UnixMillis>, limit: i64) -> Result<Vec<Order>>;
    /// Cancelled, refunded or expired (a late payment sent back) orders whose payment is in
    /// the ledger and whose refund is not.
    /// With `since`, only payments refunded since then.
    async fn refunds_unbooked(&self, since: Option<UnixMillis>, limit: i64) -> Result<Vec<Order>>;
    /// Delivered (or completed) orders delivered in `[delivered_from, delivered_before)`,
    /// booked, unsettled.
    async fn orders_to_settle(
        &self,
        delivered_from: Option<UnixMillis>,
        delivered_before: UnixMillis,
        limit: i64,
    ) -> Result<Vec<Order>>;
    /// Parties the ledger pays nothing to.
    async fn blocked_parties(&self) -> Result<Vec<hawker_money::Party>>;
    async fn set_party_blocked(
        &self,
        party: hawker_money::Party,
        blocked: bool,
        reason: &str,
        by: AccountId,
        now: UnixMillis,
    ) -> Result<()>;
    /// Payout transactions of `batch` with neither a confirmation nor a failure posted.
    async fn payouts_unconfirmed(&self, batch: &str) -> Result<Vec<Transaction>>;
    #[allow(clippy::too_many_arguments)]
    async fn create_agency_contract(
        &self,
        agency: OrgId,
        streamer: AccountId,
        share_bps: u32,
        starts_at: UnixMillis,
        ends_at: Option<UnixMillis>,
        by: AccountId,
        now: UnixMillis,
    ) -> Result<AgencyContract>;
    async fn agency_contracts_of_streamer(
        &self,
        streamer: AccountId,
    ) -> Result<Vec<AgencyContract>>;
    async fn agency_contracts_of_agency(&self, agency: OrgId) -> Result<Vec<AgencyContract>>;
    /// Writes transactions in one database transaction. A posting key already stored with the
    /// same fingerprint is [`Posted::Already`] and writes nothing; with another fingerprint the
    /// whole batch fails with `Conflict { entity: "posting key" }`.
    async fn post_ledger(&self, txs: &[Transaction]) -> Result<Vec<Posted>>;
    /// Every account's balance, summed from its entries.
    async fn ledger_balances(&self) -> Result<Vec<(AccountRef, i64)>>;
    /// One account's lines in `[from, to)`, oldest first; only one show's when `show` is given.
    async fn ledger_statement(
        &self,
        account: &AccountRef,
        from: UnixMillis,
        to: UnixMillis,
        show: Option<i64>,
        limit: i64,
    ) -> Result<Vec<StatementLine>>;
}

/// Account ids by account, shared by every writer of the store; filled after commits only.
pub(crate) type AccountIds = Arc<Mutex<HashMap<AccountRef, i64>>>;

fn ids_lock(ids: &AccountIds) -> std::sync::MutexGuard<'_, HashMap<AccountRef, i64>> {
    ids.lock().unwrap_or_else(|p| p.into_inner())
}

/// Accounts a batch created, with their ids: cached once the batch committed.
type NewAccountIds = Vec<(AccountRef, i64)>;

const TX_COLS: &str =
    "posting_key, kind, fingerprint, at, order_id, show_id, gift_id, slot_id, batch";

fn post_embedded(
    c: &mut rusqlite::Connection,
    known: &HashMap<AccountRef, i64>,
    txs: &[Transaction],
) -> Result<(Vec<Posted>, NewAccountIds)> {
    let db = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut created = Vec::new();
    let mut out = Vec::with_capacity(txs.len());
    {
        let mut ins_tx = db.prepare_cached(&format!(
            "INSERT INTO ledger_transactions ({TX_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(posting_key) DO NOTHING"
        ))?;
        let mut fp =
            db.prepare_cached("SELECT fingerprint FROM ledger_transactions WHERE posting_key = ?")?;
        let mut ins_acct = db.prepare_cached(
            "INSERT INTO ledger_accounts (code, party_kind, party_id, purpose, currency) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT(code) DO NOTHING",
        )?;
        let mut acct_id = db.prepare_cached("SELECT id FROM ledger_accounts WHERE code = ?")?;
        let mut ins_entry = db.prepare_cached(
            "INSERT INTO ledger_entries (tx_id, account_id, amount) VALUES (?, ?, ?)",
        )?;
        let mut local: HashMap<AccountRef, i64> = HashMap::new();
        for t in txs {
            let n = ins_tx.execute(rusqlite::params![
                t.key,
                t.kind,
                t.fingerprint(),
                t.at.0,
                t.refs.order,
                t.refs.show,
                t.refs.gift,
                t.refs.slot,
                t.refs.batch,
            ])?;
            if n == 0 {
                let f: i64 = fp.query_row([&t.key], |r| r.get(0))?;
                if f == t.fingerprint() {
                    out.push(Posted::Already);
                    continue;
                }
                return Err(StorageError::Conflict {
                    entity: "posting key",
                });
            }
            let id = db.last_insert_rowid();
            for (a, amount) in t.net() {
                if amount == 0 {
                    continue;
                }
                let aid = match known.get(&a).or_else(|| local.get(&a)) {
                    Some(i) => *i,
                    None => {
                        ins_acct.execute(rusqlite::params![
                            a.code(),
                            a.party.kind(),
                            a.party.id(),
                            a.purpose.as_str(),
                            a.currency.as_str(),
                        ])?;
                        let i: i64 = acct_id.query_row([a.code()], |r| r.get(0))?;
                        local.insert(a, i);
                        created.push((a, i));
                        i
                    }
                };
                ins_entry.execute(rusqlite::params![id, aid, amount])?;
            }
            out.push(Posted::New);
        }
    }
    db.commit()?;
    Ok((out, created))
}

impl SqlStore {
    async fn post_pooled(&self, txs: &[Transaction]) -> Result<Vec<Posted>> {
        let known = ids_lock(&self.ledger_ids).clone();
        let mut created = Vec::new();
        let mut local: HashMap<AccountRef, i64> = HashMap::new();
        let mut db = self.write_tx().await?;
        let mut out = Vec::with_capacity(txs.len());
        for t in txs {
            let row = sqlx::query(&format!(
                "INSERT INTO ledger_transactions ({TX_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (posting_key) DO NOTHING RETURNING id"
            ))
            .bind(&t.key)
            .bind(&t.kind)
            .bind(t.fingerprint())
            .bind(t.at.0)
            .bind(t.refs.order)
            .bind(t.refs.show)
            .bind(t.refs.gift)
            .bind(t.refs.slot)
            .bind(t.refs.batch.as_deref())
            .fetch_optional(&mut *db)
            .await?;
            let Some(row) = row else {
                let f: i64 = sqlx::query(
                    "SELECT fingerprint FROM ledger_transactions WHERE posting_key = $1",
                )
                .bind(&t.key)
                .fetch_one(&mut *db)
                .await?
                .try_get(0)?;
                if f == t.fingerprint() {
                    out.push(Posted::Already);
                    continue;
                }
                return Err(StorageError::Conflict {
                    entity: "posting key",
                });
            };
            let id: i64 = row.try_get(0)?;
            for (a, amount) in t.net() {
                if amount == 0 {
                    continue;
                }
                let aid = match known.get(&a).or_else(|| local.get(&a)) {
                    Some(i) => *i,
                    None => {
                        sqlx::query(
                            "INSERT INTO ledger_accounts (code, party_kind, party_id, purpose, currency) VALUES ($1, $2, $3, $4, $5) \
                             ON CONFLICT (code) DO NOTHING",
                        )
                        .bind(a.code())
                        .bind(a.party.kind())
                        .bind(a.party.id())
                        .bind(a.purpose.as_str())
                        .bind(a.currency.as_str())
                        .execute(&mut *db)
                        .await?;
                        let i: i64 = sqlx::query("SELECT id FROM ledger_accounts WHERE code = $1")
                            .bind(a.code())
                            .fetch_one(&mut *db)
                            .await?
                            .try_get(0)?;
                        local.insert(a, i);
                        created.push((a, i));
                        i
                    }
                };
                sqlx::query(
                    "INSERT INTO ledger_entries (tx_id, account_id, amount) VALUES ($1, $2, $3)",
                )
                .bind(id)
                .bind(aid)
                .bind(amount)
                .execute(&mut *db)
                .await?;
            }
            out.push(Posted::New);
        }
        db.commit().await?;
        ids_lock(&self.ledger_ids).extend(created);
        Ok(out)
    }
}

pub(crate) async fn post_on_file(
    path: &std::path::Path,
    conn: &FlashConn,
    ids: &AccountIds,
    txs: &[Transaction],
) -> Result<Vec<Posted>> {
    let known = ids_lock(ids).clone();
    let txs = txs.to_vec();
    let (out, created) =
        with_flash_conn(path, conn, move |c| post_embedded(c, &known, &txs)).await?;
    ids_lock(ids).extend(created);
    Ok(out)
}

const CONTRACT_COLS: &str =
    "id, agency_org_id, streamer_id, share_bps, starts_at, ends_at, created_by, created_at";

fn contract_from(r: &sqlx::any::AnyRow) -> Result<AgencyContract> {
    Ok(AgencyContract {
        id: r.try_get(0)?,
        agency: r.try_get(1)?,
        streamer: AccountId(r.try_get(2)?),
        share_bps: r.try_get::<i64, _>(3)? as u32,
        starts_at: UnixMillis(r.try_get(4)?),
        ends_at: r.try_get::<Option<i64>, _>(5)?.map(UnixMillis),
        created_by: AccountId(r.try_get(6)?),
        created_at: UnixMillis(r.try_get(7)?),
    })
}

/// The order columns prefixed with `o.`, for queries that join.
fn qualified_order_cols() -> String {
    ORDER_COLS
        .split(", ")
        .map(|c| format!("o.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn key_sql(alias: &str, step: &str) -> String {
    format!("'order:' || CAST({alias}.id AS TEXT) || ':{step}'")
}

#[async_trait]
impl LedgerStore for SqlStore {
    async fn ledger_posted(&self, key: &str) -> Result<Option<(String, i64)>> {
        let r =
            sqlx::query("SELECT kind, fingerprint FROM ledger_transactions WHERE posting_key = $1")
                .bind(key)
                .fetch_optional(self.pool())
                .await?;
        r.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
    }

    async fn blocked_parties(&self) -> Result<Vec<hawker_money::Party>> {
        let rows = sqlx::query("SELECT party_kind, party_id FROM blocked_parties")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get(0)?;
                hawker_money::Party::from_parts(&kind, r.try_get(1)?)
                    .ok_or_else(|| StorageError::Corrupt(format!("party kind {kind:?}")))
            })
            .collect()
    }

    async fn set_party_blocked(
        &self,
        party: hawker_money::Party,
        blocked: bool,
        reason: &str,
        by: AccountId,
        now: UnixMillis,
    ) -> Result<()> {
        if blocked {
            sqlx::query(
                "INSERT INTO blocked_parties (party_kind, party_id, reason, created_by, created_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (party_kind, party_id) DO NOTHING",
            )
            .bind(party.kind())
            .bind(party.id())
            .bind(reason)
            .bind(by.0)
            .bind(now.0)
            .execute(self.pool())
            .await?;
        } else {
            sqlx::query("DELETE FROM blocked_parties WHERE party_kind = $1 AND party_id = $2")
                .bind(party.kind())
                .bind(party.id())
                .execute(self.pool())
                .await?;
        }
        Ok(())
    }

    async fn payouts_unconfirmed(&self, batch: &str) -> Result<Vec<Transaction>> {
        let rows = sqlx::query(
            "SELECT t.id, t.posting_key, t.kind, t.at, a.code, e.amount FROM ledger_transactions t \
             JOIN ledger_entries e ON e.tx_id = t.id JOIN ledger_accounts a ON a.id = e.account_id \
             WHERE t.batch = $1 AND t.kind = 'payout' \
             AND NOT EXISTS (SELECT 1 FROM ledger_transactions c WHERE c.posting_key IN (t.posting_key || ':confirmed', t.posting_key || ':failed')) \
             ORDER BY t.id",
        )
        .bind(batch)
        .fetch_all(self.pool())
        .await?;
        let mut out: Vec<(i64, Transaction)> = Vec::new();
        for r in &rows {
            let id: i64 = r.try_get(0)?;
            let code: String = r.try_get(4)?;
            let account = AccountRef::parse(&code)
                .ok_or_else(|| StorageError::Corrupt(format!("ledger account {code:?}")))?;
            let entry = hawker_money::Entry {
                account,
                amount: r.try_get(5)?,
            };
            match out.last_mut() {
                Some((last, t)) if *last == id => t.entries.push(entry),
                _ => out.push((
                    id,
                    Transaction {
                        key: r.try_get(1)?,
                        kind: r.try_get(2)?,
                        at: UnixMillis(r.try_get(3)?),
                        entries: vec![entry],
                        refs: hawker_money::ledger::Refs {
                            batch: Some(batch.to_string()),
                            ..Default::default()
                        },
                    },
                )),
            }
        }
        Ok(out.into_iter().map(|(_, t)| t).collect())
    }

    async fn orders_unbooked(&self, since: Option<UnixMillis>, limit: i64) -> Result<Vec<Order>> {
        let recent = if since.is_some() {
            "AND p.updated_at >= $2"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {} FROM orders o WHERE o.id IN (SELECT p.order_id FROM payments p WHERE p.state IN ('succeeded', 'refunded') {recent}) \
             AND NOT EXISTS (SELECT 1 FROM ledger_transactions t WHERE t.posting_key = {}) ORDER BY o.id LIMIT $1",
            qualified_order_cols(),
            key_sql("o", "paid")
        );
        let rows = sqlx::query(&sql).bind(limit);
        let rows = match since {
            Some(t) => rows.bind(t.0),
            None => rows,
        }
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(order_from).collect()
    }

    async fn refunds_unbooked(&self, since: Option<UnixMillis>, limit: i64) -> Result<Vec<Order>> {
        let recent = if since.is_some() {
            "AND p.updated_at >= $2"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {} FROM orders o WHERE o.id IN (SELECT p.order_id FROM payments p WHERE p.state = 'refunded' {recent}) \
             AND o.state IN ('cancelled', 'refunded', 'expired') \
             AND EXISTS (SELECT 1 FROM ledger_transactions t WHERE t.posting_key = {}) \
             AND NOT EXISTS (SELECT 1 FROM ledger_transactions t WHERE t.posting_key = {}) ORDER BY o.id LIMIT $1",
            qualified_order_cols(),
            key_sql("o", "paid"),
            key_sql("o", "refunded")
        );
        let rows = sqlx::query(&sql).bind(limit);
        let rows = match since {
            Some(t) => rows.bind(t.0),
            None => rows,
        }
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(order_from).collect()
    }

    async fn orders_to_settle(
        &self,
        delivered_from: Option<UnixMillis>,
        delivered_before: UnixMillis,
        limit: i64,
    ) -> Result<Vec<Order>> {
        let from = if delivered_from.is_some() {
            "AND o.delivered_at >= $3"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {} FROM orders o WHERE o.delivered_at IS NOT NULL AND o.delivered_at < $1 {from} \
             AND o.state IN ('delivered', 'completed') \
             AND EXISTS (SELECT 1 FROM ledger_transactions t WHERE t.posting_key = {}) \
             AND NOT EXISTS (SELECT 1 FROM ledger_transactions t WHERE t.posting_key = {}) ORDER BY o.id LIMIT $2",
            qualified_order_cols(),
            key_sql("o", "paid"),
            key_sql("o", "settled")
        );
        let rows = sqlx::query(&sql).bind(delivered_before.0).bind(limit);
        let rows = match delivered_from {
            Some(t) => rows.bind(t.0),
            None => rows,
        }
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(order_from).collect()
    }

    async fn create_agency_contract(
        &self,
        agency: OrgId,
        streamer: AccountId,
        share_bps: u32,
        starts_at: UnixMillis,
        ends_at: Option<UnixMillis>,
        by: AccountId,
        now: UnixMillis,
    ) -> Result<AgencyContract> {
        let r = sqlx::query(&format!(
            "INSERT INTO agency_contracts (agency_org_id, streamer_id, share_bps, starts_at, ends_at, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {CONTRACT_COLS}"
        ))
        .bind(agency)
        .bind(streamer.0)
        .bind(share_bps as i64)
        .bind(starts_at.0)
        .bind(ends_at.map(|t| t.0))
        .bind(by.0)
        .bind(now.0)
        .fetch_one(self.pool())
        .await
        .map_err(|e| crate::classify(e, "agency contract", "agency or streamer"))?;
        contract_from(&r)
    }

    async fn agency_contracts_of_streamer(
        &self,
        streamer: AccountId,
    ) -> Result<Vec<AgencyContract>> {
        let rows = sqlx::query(&format!(
            "SELECT {CONTRACT_COLS} FROM agency_contracts WHERE streamer_id = $1 ORDER BY id"
        ))
        .bind(streamer.0)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(contract_from).collect()
    }

    async fn agency_contracts_of_agency(&self, agency: OrgId) -> Result<Vec<AgencyContract>> {
        let rows = sqlx::query(&format!(
            "SELECT {CONTRACT_COLS} FROM agency_contracts WHERE agency_org_id = $1 ORDER BY id"
        ))
        .bind(agency)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(contract_from).collect()
    }

    async fn post_ledger(&self, txs: &[Transaction]) -> Result<Vec<Posted>> {
        if txs.is_empty() {
            return Ok(Vec::new());
        }
        match &self.sqlite_path {
            Some(path) => post_on_file(path, &self.flash_conn, &self.ledger_ids, txs).await,
            None => self.post_pooled(txs).await,
        }
    }

    async fn ledger_balances(&self) -> Result<Vec<(AccountRef, i64)>> {
        let rows = sqlx::query(
            "SELECT a.code, CAST(SUM(e.amount) AS BIGINT) FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id GROUP BY a.code ORDER BY a.code",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let code: String = r.try_get(0)?;
                let account = AccountRef::parse(&code)
                    .ok_or_else(|| StorageError::Corrupt(format!("ledger account {code:?}")))?;
                Ok((account, r.try_get(1)?))
            })
            .collect()
    }

    async fn ledger_statement(
        &self,
        account: &AccountRef,
        from: UnixMillis,
        to: UnixMillis,
        show: Option<i64>,
        limit: i64,
    ) -> Result<Vec<StatementLine>> {
        let rows = sqlx::query(
            "SELECT t.id, t.posting_key, t.kind, t.at, e.amount, t.order_id, t.show_id, t.gift_id, t.slot_id, t.batch \
             FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.tx_id \
             WHERE e.account_id = (SELECT id FROM ledger_accounts WHERE code = $1) AND t.at >= $2 AND t.at < $3 \
             AND ($4 IS NULL OR t.show_id = $4) ORDER BY t.id LIMIT $5",
        )
        .bind(account.code())
        .bind(from.0)
        .bind(to.0)
        .bind(show)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StatementLine {
                    tx: r.try_get(0)?,
                    key: r.try_get(1)?,
                    kind: r.try_get(2)?,
                    at: UnixMillis(r.try_get(3)?),
                    amount: r.try_get(4)?,
                    order: r.try_get(5)?,
                    show: r.try_get(6)?,
                    gift: r.try_get(7)?,
                    slot: r.try_get(8)?,
                    batch: r.try_get(9)?,
                })
            })
            .collect()
    }
}
