//! Retention (PRODUCT.md §3) and a regulator's export: the access log, the deletes of the
//! retention job, and the reads that gather one show's records.
//!
//! What the job deletes and what it never touches:
//! - chat (`comments`), pins, the moderation log and viewer sessions older than
//!   `[retention] room_days`; with them, consult leads whose last step (ended, declined,
//!   cancelled, missed) is that old, and co-hosts' visits and statements;
//! - orders in a final state (completed, cancelled, expired, refunded) whose last change is
//!   older than `transaction_days`, with their items, events, payments and coupon uses. A table
//!   that references `orders` must be pruned here before them, or the delete fails;
//! - access-log lines older than `access_days`.
//! - Never the ledger: entries and transactions are the books of account, immutable by trigger,
//!   kept for the life of the installation. They keep the order id they were posted for, which
//!   outlives the order row.
//!
//! Deletes run in batches so that no transaction holds the writer for long (SQLite has one);
//! co-hosts' rows, a few per show, go in one statement each.
//!
//! Just over 800 lines, half of them the tests: one concern (what is kept how long, and the
//! reads a regulator's export makes of what is kept).

use crate::room::ModerationEntry;
use crate::shop::{order_from, Order, OrderEvent, OrderItem, Payment, ORDER_COLS};
use crate::sql::{corrupt, numbered, values};
use crate::{Backend, Result, SqlStore};
use async_trait::async_trait;
use hawker_commerce::catalog::ReturnClass;
use hawker_commerce::order::{ActorKind, OrderState};
use hawker_domain::{AccountId, ChannelId, Currency, ShowId, UnixMillis};
use sqlx::Row;

/// One line of the access log: who called which API route, from where, with what outcome.
/// Deliberately without the raw path, query string, headers or body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLine {
    pub at: UnixMillis,
    pub account: Option<AccountId>,
    pub ip: String,
    pub method: String,
    /// The route template (`/api/v1/orders/{id}`), never the path as sent.
    pub route: String,
    pub status: u16,
}

/// Rows the retention job deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub comments: u64,
    pub pins: u64,
    pub moderation: u64,
    pub viewer_sessions: u64,
    /// Consult leads in a final state.
    pub leads: u64,
    /// Co-hosts' visits to shows and their statements of use.
    pub co_hosts: u64,
    pub orders: u64,
    pub access: u64,
}

/// One order of a show, as a regulator's export lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportOrder {
    pub order: Order,
    pub items: Vec<OrderItem>,
    pub events: Vec<OrderEvent>,
    pub payments: Vec<Payment>,
}

/// The final order states: nothing moves an order on from these.
pub const FINAL_ORDER_STATES: [&str; 4] = ["completed", "cancelled", "expired", "refunded"];

#[async_trait]
pub trait RetentionStore: Send + Sync {
    /// Appends lines in one transaction.
    async fn append_access_log(&self, lines: &[AccessLine]) -> Result<()>;
    /// Newest first.
    async fn access_log(&self, limit: i64) -> Result<Vec<AccessLine>>;
    /// Deletes access-log lines older than `before`.
    async fn prune_access_log(&self, before: UnixMillis) -> Result<u64>;
    /// Deletes chat, pins, moderation-log lines, viewer sessions, consult leads in a final
    /// state and co-hosts' visits and statements older than `before`; fills in `comments`,
    /// `pins`, `moderation`, `viewer_sessions`, `leads` and `co_hosts`.
    async fn prune_room_logs(&self, before: UnixMillis) -> Result<Pruned>;
    /// Deletes orders in a final state last changed before `before`, with their items, events,
    /// payments and coupon uses. Never a ledger row.
    async fn prune_orders(&self, before: UnixMillis) -> Result<u64>;
    /// Every order placed in `show`, oldest first, with items, events and payments.
    async fn export_orders(&self, show: ShowId) -> Result<Vec<ExportOrder>>;
    /// The moderation log of a show: lines recorded for it, and the channel's lines without a
    /// show between `from` and `to` (inclusive), oldest first.
    async fn export_moderation(
        &self,
        show: ShowId,
        channel: ChannelId,
        from: UnixMillis,
        to: UnixMillis,
    ) -> Result<Vec<ModerationEntry>>;
}

/// Rows per delete statement: short transactions, so live writers barely wait.
const BATCH: i64 = 2_000;
/// Orders per delete transaction (each takes five statements over an id list).
const ORDER_BATCH: usize = 500;
/// Access-log rows per insert statement.
const INSERT_ROWS: usize = 100;

fn actor_kind(s: &str) -> Result<ActorKind> {
    Ok(match s {
        "buyer" => ActorKind::Buyer,
        "merchant" => ActorKind::Merchant,
        "payments" => ActorKind::Payments,
        "system" => ActorKind::System,
        "platform" => ActorKind::Platform,
        _ => return Err(corrupt("actor", s)),
    })
}

fn order_state(s: &str) -> Result<OrderState> {
    OrderState::parse(s).ok_or_else(|| corrupt("order state", s))
}

fn final_states_sql() -> String {
    FINAL_ORDER_STATES
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl SqlStore {
    /// Consult leads whose final step (ended, declined, cancelled, missed) is before `before`;
    /// one still open is never pruned, however old.
    async fn prune_final_leads(&self, before: UnixMillis) -> Result<u64> {
        let sql = "DELETE FROM leads WHERE id IN (SELECT id FROM leads WHERE state IN \
                   ('ended', 'declined', 'cancelled', 'missed') AND updated_at < $1 LIMIT $2)";
        let mut total = 0;
        loop {
            let n = sqlx::query(sql)
                .bind(before.0)
                .bind(BATCH)
                .execute(self.pool())
                .await?
                .rows_affected();
            total += n;
            if n < BATCH as u64 {
                return Ok(total);
            }
        }
    }

    /// Co-hosts' statements made before `before`, and visits that ended before it.
    async fn prune_co_hosts(&self, before: UnixMillis) -> Result<u64> {
        let said = sqlx::query("DELETE FROM co_host_statements WHERE attested_at < $1")
            .bind(before.0)
            .execute(self.pool())
            .await?
            .rows_affected();
        let visits =
            sqlx::query("DELETE FROM show_co_hosts WHERE left_at IS NOT NULL AND left_at < $1")
                .bind(before.0)
                .execute(self.pool())
                .await?
                .rows_affected();
        Ok(said + visits)
    }

    /// Deletes rows of `table` whose `at_col` is before `before`, `BATCH` at a time.
    async fn prune_table(&self, table: &str, at_col: &str, before: UnixMillis) -> Result<u64> {
        let sql = format!(
            "DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE {at_col} < $1 LIMIT $2)"
        );
        let mut total = 0;
        loop {
            let n = sqlx::query(&sql)
                .bind(before.0)
                .bind(BATCH)
                .execute(self.pool())
                .await?
                .rows_affected();
            total += n;
            if n < BATCH as u64 {
                return Ok(total);
            }
        }
    }
}

#[async_trait]
impl RetentionStore for SqlStore {
    async fn append_access_log(&self, lines: &[AccessLine]) -> Result<()> {
        if lines.is_empty() {
            return Ok(());
        }
        if let Some(path) = &self.sqlite_path {
            // An SQLite file takes one writer at a time. Appended through the flash-sale
            // writer's connection, a batch queues behind a group commit on a mutex instead of
            // meeting it as SQLITE_BUSY and sleeping in the busy handler; prepared multi-row
            // statements (one AUTOINCREMENT update per statement, not per row), bound without
            // the pool's per-value copies.
            let lines = lines.to_vec();
            return crate::journal::with_flash_conn(path, &self.flash_conn, move |c| {
                let sql = |rows: usize| {
                    format!(
                        "INSERT INTO access_log (at, account_id, ip, method, route, status) VALUES {}",
                        values(rows, 6, Backend::Sqlite)
                    )
                };
                let full = sql(INSERT_ROWS);
                let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                for chunk in lines.chunks(INSERT_ROWS) {
                    let mut st = if chunk.len() == INSERT_ROWS {
                        tx.prepare_cached(&full)?
                    } else {
                        tx.prepare_cached(&sql(chunk.len()))?
                    };
                    let mut i = 0;
                    for l in chunk {
                        st.raw_bind_parameter(i + 1, l.at.0)?;
                        st.raw_bind_parameter(i + 2, l.account.map(|a| a.0))?;
                        st.raw_bind_parameter(i + 3, l.ip.as_str())?;
                        st.raw_bind_parameter(i + 4, l.method.as_str())?;
                        st.raw_bind_parameter(i + 5, l.route.as_str())?;
                        st.raw_bind_parameter(i + 6, l.status as i64)?;
                        i += 6;
                    }
                    st.raw_execute()?;
                }
                tx.commit()?;
                Ok(())
            })
            .await;
        }
        let mut tx = self.write_tx().await?;
        for chunk in lines.chunks(INSERT_ROWS) {
            let sql = format!(
                "INSERT INTO access_log (at, account_id, ip, method, route, status) VALUES {}",
                values(chunk.len(), 6, self.backend())
            );
            let mut q = sqlx::query(&sql);
            for l in chunk {
                q = q
                    .bind(l.at.0)
                    .bind(l.account.map(|a| a.0))
                    .bind(l.ip.as_str())
                    .bind(l.method.as_str())
                    .bind(l.route.as_str())
                    .bind(l.status as i64);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn access_log(&self, limit: i64) -> Result<Vec<AccessLine>> {
        let rows = sqlx::query(
            "SELECT at, account_id, ip, method, route, status FROM access_log ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AccessLine {
                    at: UnixMillis(r.try_get(0)?),
                    account: r.try_get::<Option<i64>, _>(1)?.map(AccountId),
                    ip: r.try_get(2)?,
                    method: r.try_get(3)?,
                    route: r.try_get(4)?,
                    status: r.try_get::<i64, _>(5)? as u16,
                })
            })
            .collect()
    }

    async fn prune_access_log(&self, before: UnixMillis) -> Result<u64> {
        self.prune_table("access_log", "at", before).await
    }

    async fn prune_room_logs(&self, before: UnixMillis) -> Result<Pruned> {
        Ok(Pruned {
            comments: self.prune_table("comments", "at", before).await?,
            pins: self.prune_table("pins", "pinned_at", before).await?,
            moderation: self.prune_table("moderation_log", "at", before).await?,
            viewer_sessions: self
                .prune_table("viewer_sessions", "left_at", before)
                .await?,
            leads: self.prune_final_leads(before).await?,
            co_hosts: self.prune_co_hosts(before).await?,
            ..Pruned::default()
        })
    }

    async fn prune_orders(&self, before: UnixMillis) -> Result<u64> {
        // The predicate matches the partial index `orders_final` word for word. Without
        // statistics SQLite would rather walk `orders_state_expiry` over every final order.
        let hint = match self.backend() {
            Backend::Sqlite => " INDEXED BY orders_final",
            Backend::Postgres => "",
        };
        let pick = format!(
            "SELECT id FROM orders{hint} WHERE state IN ({}) AND updated_at < $1 ORDER BY updated_at LIMIT $2",
            final_states_sql()
        );
        let mut total = 0;
        loop {
            let ids: Vec<i64> = sqlx::query(&pick)
                .bind(before.0)
                .bind(ORDER_BATCH as i64)
                .fetch_all(self.pool())
                .await?
                .iter()
                .map(|r| r.try_get::<i64, _>(0))
                .collect::<std::result::Result<_, _>>()?;
            if ids.is_empty() {
                return Ok(total);
            }
            let list = numbered(1, ids.len());
            let mut tx = self.write_tx().await?;
            // Children first (foreign keys). A coupon use goes with its order: a coupon still
            // valid years later would count one use fewer for that buyer.
            // A defect claim's photos go before the claim, the claim before its order.
            let photos = format!(
                "DELETE FROM defect_claim_photos WHERE claim_id IN (SELECT id FROM defect_claims WHERE order_id IN ({list}))"
            );
            let mut q = sqlx::query(&photos);
            for id in &ids {
                q = q.bind(*id);
            }
            q.execute(&mut *tx).await?;
            for table in [
                "order_items",
                "order_events",
                "payments",
                "coupon_redemptions",
                "defect_claims",
            ] {
                let sql = format!("DELETE FROM {table} WHERE order_id IN ({list})");
                let mut q = sqlx::query(&sql);
                for id in &ids {
                    q = q.bind(*id);
                }
                q.execute(&mut *tx).await?;
            }
            // Final states are terminal, so the rows picked above are still final here.
            let sql = format!("DELETE FROM orders WHERE id IN ({list})");
            let mut q = sqlx::query(&sql);
            for id in &ids {
                q = q.bind(*id);
            }
            total += q.execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            if ids.len() < ORDER_BATCH {
                return Ok(total);
            }
        }
    }

    async fn export_orders(&self, show: ShowId) -> Result<Vec<ExportOrder>> {
        // Flash-sale orders still in the SQLite journal become order rows first.
        const CHUNK: usize = 20_000;
        while crate::shop::FlashSaleStore::materialise_flash_orders(self, CHUNK).await? == CHUNK {}
        let rows = sqlx::query(&format!(
            "SELECT {ORDER_COLS} FROM orders WHERE show_id = $1 ORDER BY created_at, id"
        ))
        .bind(show.0)
        .fetch_all(self.pool())
        .await?;
        let mut out: Vec<ExportOrder> = rows
            .iter()
            .map(|r| {
                Ok(ExportOrder {
                    order: order_from(r)?,
                    items: Vec::new(),
                    events: Vec::new(),
                    payments: Vec::new(),
                })
            })
            .collect::<Result<_>>()?;
        let index: std::collections::HashMap<i64, usize> = out
            .iter()
            .enumerate()
            .map(|(i, o)| (o.order.id, i))
            .collect();

        let items = sqlx::query(
            "SELECT i.order_id, i.sku_id, i.product_id, i.title, i.quantity, i.unit_price_minor, i.return_class \
             FROM order_items i JOIN orders o ON o.id = i.order_id WHERE o.show_id = $1",
        )
        .bind(show.0)
        .fetch_all(self.pool())
        .await?;
        for r in &items {
            let Some(&i) = index.get(&r.try_get::<i64, _>(0)?) else {
                continue;
            };
            let rc: String = r.try_get(6)?;
            out[i].items.push(OrderItem {
                sku: r.try_get(1)?,
                product: r.try_get(2)?,
                title: r.try_get(3)?,
                quantity: r.try_get(4)?,
                unit_price_minor: r.try_get(5)?,
                return_class: ReturnClass::parse(&rc)
                    .ok_or_else(|| corrupt("return class", &rc))?,
            });
        }

        let events = sqlx::query(
            "SELECT e.order_id, e.from_state, e.to_state, e.actor_kind, e.actor_id, e.note, e.at \
             FROM order_events e JOIN orders o ON o.id = e.order_id WHERE o.show_id = $1 ORDER BY e.id",
        )
        .bind(show.0)
        .fetch_all(self.pool())
        .await?;
        for r in &events {
            let Some(&i) = index.get(&r.try_get::<i64, _>(0)?) else {
                continue;
            };
            let from: Option<String> = r.try_get(1)?;
            let to: String = r.try_get(2)?;
            let actor: String = r.try_get(3)?;
            out[i].events.push(OrderEvent {
                from: from.as_deref().map(order_state).transpose()?,
                to: order_state(&to)?,
                actor_kind: actor_kind(&actor)?,
                actor: r.try_get::<Option<i64>, _>(4)?.map(AccountId),
                note: r.try_get(5)?,
                at: UnixMillis(r.try_get(6)?),
            });
        }

        let payments = sqlx::query(
            "SELECT p.id, p.order_id, p.provider, p.provider_ref, p.state, p.amount_minor, p.currency, p.created_at, p.updated_at \
             FROM payments p JOIN orders o ON o.id = p.order_id WHERE o.show_id = $1 ORDER BY p.id",
        )
        .bind(show.0)
        .fetch_all(self.pool())
        .await?;
        for r in &payments {
            let order: i64 = r.try_get(1)?;
            let Some(&i) = index.get(&order) else {
                continue;
            };
            let cur: String = r.try_get(6)?;
            out[i].payments.push(Payment {
                id: r.try_get(0)?,
                order,
                provider: r.try_get(2)?,
                provider_ref: r.try_get(3)?,
                state: r.try_get(4)?,
                amount_minor: r.try_get(5)?,
                currency: Currency::parse(&cur).ok_or_else(|| corrupt("currency", &cur))?,
                created_at: UnixMillis(r.try_get(7)?),
                updated_at: UnixMillis(r.try_get(8)?),
            });
        }
        Ok(out)
    }

    async fn export_moderation(
        &self,
        show: ShowId,
        channel: ChannelId,
        from: UnixMillis,
        to: UnixMillis,
    ) -> Result<Vec<ModerationEntry>> {
        let rows = sqlx::query(
            "SELECT channel_id, show_id, actor_id, action, target_account, comment_id, reason, detail, at FROM moderation_log \
             WHERE show_id = $1 OR (channel_id = $2 AND show_id IS NULL AND at >= $3 AND at <= $4) ORDER BY at, id",
        )
        .bind(show.0)
        .bind(channel.0)
        .bind(from.0)
        .bind(to.0)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ModerationEntry {
                    channel: ChannelId(r.try_get(0)?),
                    show: r.try_get::<Option<i64>, _>(1)?.map(ShowId),
                    actor: AccountId(r.try_get(2)?),
                    action: r.try_get(3)?,
                    target_account: r.try_get::<Option<i64>, _>(4)?.map(AccountId),
                    comment_id: r.try_get(5)?,
                    reason: r.try_get(6)?,
                    detail: r.try_get(7)?,
                    at: UnixMillis(r.try_get(8)?),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::both_backends;
    use crate::shop::{NewOrder, NewProduct, TransitionFields};
    use crate::*;
    use hawker_commerce::catalog::Category;
    use hawker_commerce::org::OrgKind;

    /// Before the cutoff ("old") and after it ("young").
    const CUTOFF: UnixMillis = UnixMillis(1_000_000);
    const OLD: i64 = 500_000;
    const YOUNG: i64 = 2_000_000;

    async fn account(s: &dyn Store, email: &str) -> AccountId {
        s.create_account(NewAccount {
            email: Email::parse(email).unwrap(),
            display_name: DisplayName::parse("Li Wei").unwrap(),
            password: PasswordHash::from_stored("x".into()),
            role: Role::Streamer,
            created_at: UnixMillis(1),
        })
        .await
        .unwrap()
        .id
    }

    async fn count(s: &SqlStore, table: &str) -> i64 {
        sqlx::query(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(s.pool())
            .await
            .unwrap()
            .try_get(0)
            .unwrap()
    }

    /// Moves an order along `path`, each step at `at`.
    async fn walk(s: &dyn Store, id: i64, path: &[OrderState], at: i64) {
        for w in path.windows(2) {
            s.transition_order(
                id,
                w[0],
                w[1],
                ActorKind::System,
                None,
                "test",
                &TransitionFields::default(),
                UnixMillis(at),
            )
            .await
            .unwrap();
        }
    }

    both_backends!(
        retention_deletes_old_rows_and_keeps_young_ones,
        |store| async move {
            use crate::ledger::LedgerStore;
            use hawker_money::postings::{self, OrderTerms};
            use OrderState::*;
            let s: &SqlStore = &store;
            let owner = account(s, "li@farm.example").await;
            let buyer = account(s, "mei@example.com").await;
            let ch = s
                .create_channel(NewChannel {
                    slug: Slug::parse("li-farm").unwrap(),
                    title: "t".into(),
                    owner,
                    stream_key: StreamKey::generate(),
                    created_at: UnixMillis(1),
                })
                .await
                .unwrap();
            let show = s
                .create_show(NewShow {
                    channel: ch.id,
                    title: "Harvest".into(),
                    state: ShowState::Live,
                    scheduled_at: None,
                    started_at: Some(UnixMillis(OLD - 1000)),
                })
                .await
                .unwrap();
            let org = s
                .create_org("Orchard", OrgKind::Individual, owner, UnixMillis(1))
                .await
                .unwrap();
            let st = s
                .create_store(org.id, "Farm", "Fenghua", UnixMillis(1))
                .await
                .unwrap();
            let p = s
                .create_product(
                    &NewProduct {
                        org: org.id,
                        title: "Honey".into(),
                        description: String::new(),
                        category: Category::Food,
                        return_class: ReturnClass::Normal,
                        currency: Currency::CNY,
                        sponsored: false,
                    },
                    UnixMillis(1),
                )
                .await
                .unwrap();
            let sku = s
                .add_sku(p.id, "500 g", 6_800, UnixMillis(1))
                .await
                .unwrap();
            s.set_stock(sku.id, st.id, 100).await.unwrap();

            // Chat, pins and moderation lines: one old and one young of each.
            let comment = |id: i64, at: i64| StoredComment {
                id,
                channel: ch.id,
                show: Some(show.id),
                account: buyer,
                author_name: "Mei".into(),
                text: format!("comment {id}"),
                at: UnixMillis(at),
                shadow: false,
                deleted_reason: None,
            };
            s.save_comments(&[comment(1, OLD), comment(2, YOUNG)])
                .await
                .unwrap();
            s.pin(show.id, p.id, UnixMillis(OLD), 0).await.unwrap();
            s.pin(show.id, p.id, UnixMillis(YOUNG), YOUNG - OLD)
                .await
                .unwrap();
            // Viewer sessions go by the time they ended.
            let session = |joined: i64, left: i64| crate::ViewerSessionRow {
                show: show.id,
                channel: ch.id,
                account: None,
                joined_at: UnixMillis(joined),
                left_at: UnixMillis(left),
                played_ms: 0,
                counted: false,
                evidence: Default::default(),
            };
            s.save_viewer_sessions(&[session(OLD - 10, OLD), session(OLD, YOUNG)])
                .await
                .unwrap();
            for at in [OLD, YOUNG] {
                s.log_moderation(&ModerationEntry {
                    channel: ch.id,
                    show: Some(show.id),
                    actor: owner,
                    action: "delete".into(),
                    target_account: Some(buyer),
                    comment_id: Some(1),
                    reason: Some("spam".into()),
                    detail: String::new(),
                    at: UnixMillis(at),
                })
                .await
                .unwrap();
            }
            // Access lines.
            let line = |at: i64, route: &str| AccessLine {
                at: UnixMillis(at),
                account: Some(buyer),
                ip: "203.0.113.9".into(),
                method: "GET".into(),
                route: route.into(),
                status: 200,
            };
            let many: Vec<AccessLine> = (0..250).map(|i| line(OLD + i, "/api/v1/me")).collect();
            s.append_access_log(&many).await.unwrap();
            s.append_access_log(&[line(YOUNG, "/api/v1/orders/{id}")])
                .await
                .unwrap();

            // Orders: (id, path, time of its last step). Final and old ones go; young ones and
            // unfinished ones stay, however old.
            let orders: [(i64, &[OrderState], i64); 5] = [
                (11, &[Created, Cancelled], OLD),
                (12, &[Created, Paid, Shipped, Delivered, Completed], OLD),
                (13, &[Created, Paid, Shipped], OLD),
                (14, &[Created, Cancelled], YOUNG),
                (15, &[Created, Expired], OLD),
            ];
            for (id, path, at) in orders {
                s.place_order(&NewOrder {
                    id,
                    buyer,
                    org: org.id,
                    store: st.id,
                    channel: Some(ch.id),
                    show: Some(show.id),
                    flash_sale: None,
                    currency: Currency::CNY,
                    subtotal_minor: 6_800,
                    discount_minor: 0,
                    total_minor: 6_800,
                    coupon: None,
                    address: "{}".into(),
                    exceptions_acknowledged: false,
                    idempotency_key: Some(format!("k{id}")),
                    created_at: UnixMillis(OLD - 100),
                    expires_at: None,
                    items: vec![OrderItem {
                        sku: sku.id,
                        product: p.id,
                        title: "Honey".into(),
                        quantity: 1,
                        unit_price_minor: 6_800,
                        return_class: ReturnClass::Normal,
                    }],
                    take_stock: true,
                })
                .await
                .unwrap();
                s.create_payment(
                    id,
                    "sandbox",
                    &format!("pay-{id}"),
                    6_800,
                    Currency::CNY,
                    UnixMillis(OLD - 50),
                )
                .await
                .unwrap();
                walk(s, id, path, at).await;
            }
            // The completed order was booked: its ledger rows outlive it.
            let terms = OrderTerms {
                order: 12,
                show: Some(show.id.0),
                slot: None,
                currency: Currency::CNY,
                total: 6_800,
                merchant: org.id,
                host: None,
                agency: None,
                platform_fee_bps: 500,
            };
            s.post_ledger(&[postings::order_paid(&terms, UnixMillis(OLD)).unwrap()])
                .await
                .unwrap();
            let ledger_before = (
                count(s, "ledger_transactions").await,
                count(s, "ledger_entries").await,
            );
            assert!(ledger_before.0 == 1 && ledger_before.1 > 0);

            // The export sees all five orders, with their items, events and payments.
            let exported = s.export_orders(show.id).await.unwrap();
            assert_eq!(
                exported.iter().map(|o| o.order.id).collect::<Vec<_>>(),
                [11, 12, 13, 14, 15]
            );
            let completed = &exported[1];
            assert_eq!(completed.items[0].title, "Honey");
            assert_eq!(
                completed.events.iter().map(|e| e.to).collect::<Vec<_>>(),
                [Created, Paid, Shipped, Delivered, Completed]
            );
            assert_eq!(completed.payments[0].provider_ref, "pay-12");
            let moderation = s
                .export_moderation(show.id, ch.id, UnixMillis(0), UnixMillis(YOUNG))
                .await
                .unwrap();
            assert_eq!(moderation.len(), 2);

            // The job's deletes.
            let room = s.prune_room_logs(CUTOFF).await.unwrap();
            assert_eq!(
                (
                    room.comments,
                    room.pins,
                    room.moderation,
                    room.viewer_sessions
                ),
                (1, 1, 1, 1)
            );
            let sessions = s.viewer_sessions_of_show(show.id, 10).await.unwrap();
            assert_eq!(
                sessions.iter().map(|v| v.left_at).collect::<Vec<_>>(),
                [UnixMillis(YOUNG)]
            );
            let comments = s.comments_of_show(show.id, 10).await.unwrap();
            assert_eq!(comments.iter().map(|c| c.id).collect::<Vec<_>>(), [2]);
            let pins = s.pins(show.id).await.unwrap();
            assert_eq!(
                pins.iter().map(|p| p.pinned_at).collect::<Vec<_>>(),
                [UnixMillis(YOUNG)]
            );
            let log = s.moderation_log(ch.id, 10).await.unwrap();
            assert_eq!(
                log.iter().map(|m| m.at).collect::<Vec<_>>(),
                [UnixMillis(YOUNG)]
            );

            assert_eq!(s.prune_access_log(CUTOFF).await.unwrap(), 250);
            let access = s.access_log(10).await.unwrap();
            assert_eq!(access.len(), 1);
            assert_eq!(access[0].route, "/api/v1/orders/{id}");
            assert_eq!(access[0].account, Some(buyer));

            assert_eq!(s.prune_orders(CUTOFF).await.unwrap(), 3);
            for gone in [11, 12, 15] {
                assert_eq!(s.order(gone).await.unwrap(), None, "order {gone}");
                assert!(s.order_items(gone).await.unwrap().is_empty());
                assert!(s.order_events(gone).await.unwrap().is_empty());
                assert!(s.payments_of_order(gone).await.unwrap().is_empty());
            }
            for kept in [13, 14] {
                let o = s.order(kept).await.unwrap().expect("kept");
                assert_eq!(s.order_items(kept).await.unwrap().len(), 1);
                assert!(!s.order_events(kept).await.unwrap().is_empty());
                assert_eq!(s.payments_of_order(kept).await.unwrap().len(), 1, "{o:?}");
            }
            // The books of account are untouched, and could not be deleted if anyone tried.
            assert_eq!(
                (
                    count(s, "ledger_transactions").await,
                    count(s, "ledger_entries").await
                ),
                ledger_before
            );
            assert!(sqlx::query("DELETE FROM ledger_entries")
                .execute(s.pool())
                .await
                .is_err());
            // Access lines are never rewritten.
            assert!(sqlx::query("UPDATE access_log SET route = 'x'")
                .execute(s.pool())
                .await
                .is_err());
            // A second pass finds nothing more.
            assert_eq!(s.prune_orders(CUTOFF).await.unwrap(), 0);
            assert_eq!(s.prune_room_logs(CUTOFF).await.unwrap(), Pruned::default());
        }
    );
}
