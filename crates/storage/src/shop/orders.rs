//! Orders: placement in one transaction, reads, and state changes with their history.

use super::*;
use crate::journal::JournalSlice;

#[async_trait]
pub trait OrderStore: Send + Sync {
    async fn order_by_key(&self, buyer: AccountId, key: &str) -> Result<Option<Order>>;
    /// One transaction: stock, coupon budget and limit, idempotency, order, items, event.
    async fn place_order(&self, o: &NewOrder) -> std::result::Result<Order, PlaceError>;
    async fn order(&self, id: OrderId) -> Result<Option<Order>>;
    async fn order_items(&self, id: OrderId) -> Result<Vec<OrderItem>>;
    async fn order_events(&self, id: OrderId) -> Result<Vec<OrderEvent>>;
    async fn orders_of_buyer(&self, buyer: AccountId, limit: i64) -> Result<Vec<Order>>;
    async fn orders_of_org(
        &self,
        org: OrgId,
        f: &OrderFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Order>>;
    /// Moves an order from `from` to `to` if it is still in `from`; records the event; gives
    /// the items back to the store when an ordinary order stops holding stock.
    #[allow(clippy::too_many_arguments)]
    async fn transition_order(
        &self,
        id: OrderId,
        from: OrderState,
        to: OrderState,
        actor: ActorKind,
        actor_id: Option<AccountId>,
        note: &str,
        fields: &TransitionFields,
        now: UnixMillis,
    ) -> Result<()>;
    /// Unpaid orders whose reservation ran out.
    async fn expired_reservations(&self, now: UnixMillis, limit: i64) -> Result<Vec<Order>>;
}

#[async_trait]
impl OrderStore for SqlStore {
    async fn order_by_key(&self, buyer: AccountId, key: &str) -> Result<Option<Order>> {
        let r = sqlx::query(&format!(
            "SELECT {ORDER_COLS} FROM orders WHERE buyer_id = $1 AND idempotency_key = $2"
        ))
        .bind(buyer.0)
        .bind(key)
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(order_from).transpose()
    }

    async fn place_order(&self, o: &NewOrder) -> std::result::Result<Order, PlaceError> {
        if let Some(k) = &o.idempotency_key {
            if let Some(existing) = self.order_by_key(o.buyer, k).await? {
                return Err(PlaceError::Repeat(existing.id));
            }
        }
        let mut tx = self.write_tx().await?;
        if o.take_stock {
            for it in &o.items {
                let r = sqlx::query("UPDATE stock SET quantity = quantity - $1 WHERE sku_id = $2 AND store_id = $3 AND quantity >= $1")
                    .bind(it.quantity)
                    .bind(it.sku)
                    .bind(o.store)
                    .execute(&mut *tx)
                    .await?;
                if r.rows_affected() == 0 {
                    return Err(PlaceError::OutOfStock(it.sku));
                }
            }
        }
        if let Some(c) = o.coupon {
            // The update takes the coupon's row lock first (PostgreSQL), so concurrent orders
            // with one coupon see each other's redemptions when they count below.
            let r = sqlx::query("UPDATE coupons SET spent_minor = spent_minor + $1 WHERE id = $2 AND spent_minor + $1 <= budget_minor")
                .bind(o.discount_minor)
                .bind(c)
                .execute(&mut *tx)
                .await?;
            if r.rows_affected() == 0 {
                return Err(PlaceError::CouponBudgetSpent);
            }
            let row = sqlx::query("SELECT c.per_user_limit, (SELECT COUNT(*) FROM coupon_redemptions r WHERE r.coupon_id = c.id AND r.account_id = $1) FROM coupons c WHERE c.id = $2")
                .bind(o.buyer.0)
                .bind(c)
                .fetch_one(&mut *tx)
                .await?;
            let (limit, used): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
            if used >= limit {
                return Err(PlaceError::CouponUsedUp);
            }
        }
        let sql = format!(
            "INSERT INTO orders ({ORDER_INSERT_COLS}) VALUES {}",
            values(1, ORDER_INSERT_N, self.backend)
        );
        if let Err(e) = bind_order(sqlx::query(&sql), o).execute(&mut *tx).await {
            drop(tx);
            if let (sqlx::Error::Database(db), Some(k)) = (&e, &o.idempotency_key) {
                if db.is_unique_violation() {
                    if let Some(existing) = self.order_by_key(o.buyer, k).await? {
                        return Err(PlaceError::Repeat(existing.id));
                    }
                }
            }
            return Err(PlaceError::Storage(classify(
                e,
                "order",
                "buyer, organisation or store",
            )));
        }
        insert_items_and_events(&mut tx, std::slice::from_ref(o), self.backend).await?;
        if let Some(c) = o.coupon {
            sqlx::query("INSERT INTO coupon_redemptions (coupon_id, account_id, order_id, amount_minor, at) VALUES ($1, $2, $3, $4, $5)")
                .bind(c)
                .bind(o.buyer.0)
                .bind(o.id)
                .bind(o.discount_minor)
                .bind(o.created_at.0)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(self
            .order(o.id)
            .await?
            .ok_or(StorageError::NotFound { entity: "order" })?)
    }

    async fn order(&self, id: OrderId) -> Result<Option<Order>> {
        let q = format!("SELECT {ORDER_COLS} FROM orders WHERE id = $1");
        let mut r = sqlx::query(&q).bind(id).fetch_optional(self.pool()).await?;
        if r.is_none() {
            // Still journalled, or moved by a concurrent reader since the read above (then
            // `materialise_order` finds nothing to move): read again either way.
            self.materialise_order(id).await?;
            r = sqlx::query(&q).bind(id).fetch_optional(self.pool()).await?;
        }
        r.as_ref().map(order_from).transpose()
    }

    async fn order_items(&self, id: OrderId) -> Result<Vec<OrderItem>> {
        self.materialise_order(id).await?;
        let rows = sqlx::query("SELECT sku_id, product_id, title, quantity, unit_price_minor, return_class FROM order_items WHERE order_id = $1").bind(id).fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                let rc: String = r.try_get(5)?;
                Ok(OrderItem {
                    sku: r.try_get(0)?,
                    product: r.try_get(1)?,
                    title: r.try_get(2)?,
                    quantity: r.try_get(3)?,
                    unit_price_minor: r.try_get(4)?,
                    return_class: ReturnClass::parse(&rc)
                        .ok_or_else(|| corrupt("return class", &rc))?,
                })
            })
            .collect()
    }

    async fn order_events(&self, id: OrderId) -> Result<Vec<OrderEvent>> {
        self.materialise_order(id).await?;
        let rows = sqlx::query("SELECT from_state, to_state, actor_kind, actor_id, note, at FROM order_events WHERE order_id = $1 ORDER BY id").bind(id).fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                let from: Option<String> = r.try_get(0)?;
                let to: String = r.try_get(1)?;
                let actor: String = r.try_get(2)?;
                Ok(OrderEvent {
                    from: from
                        .map(|f| OrderState::parse(&f).ok_or_else(|| corrupt("order state", &f)))
                        .transpose()?,
                    to: OrderState::parse(&to).ok_or_else(|| corrupt("order state", &to))?,
                    actor_kind: actor_parse(&actor)?,
                    actor: r.try_get::<Option<i64>, _>(3)?.map(AccountId),
                    note: r.try_get(4)?,
                    at: UnixMillis(r.try_get(5)?),
                })
            })
            .collect()
    }

    async fn orders_of_buyer(&self, buyer: AccountId, limit: i64) -> Result<Vec<Order>> {
        self.materialise_all().await?;
        let rows = sqlx::query(&format!("SELECT {ORDER_COLS} FROM orders WHERE buyer_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2")).bind(buyer.0).bind(limit).fetch_all(self.pool()).await?;
        rows.iter().map(order_from).collect()
    }

    async fn orders_of_org(
        &self,
        org: OrgId,
        f: &OrderFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Order>> {
        self.materialise_all().await?;
        let search = f.search.as_deref().map(str::trim).filter(|q| !q.is_empty());
        let rows = sqlx::query(&format!(
            "SELECT {ORDER_COLS} FROM orders WHERE org_id = $1 AND ($2 IS NULL OR state = $2) AND ($3 IS NULL OR show_id = $3) \
             AND ($4 IS NULL OR created_at >= $4) AND ($5 IS NULL OR created_at < $5) \
             AND ($8 IS NULL OR id = $9 OR buyer_id IN (SELECT id FROM accounts WHERE LOWER(email) LIKE $8 ESCAPE '\\')) \
             ORDER BY created_at DESC, id DESC LIMIT $6 OFFSET $7"
        ))
        .bind(org)
        .bind(f.state.map(|s| s.as_str()))
        .bind(f.show.map(|s| s.0))
        .bind(f.from.map(|t| t.0))
        .bind(f.to.map(|t| t.0))
        .bind(limit)
        .bind(offset)
        // The e-mail as a LIKE pattern with its wildcards escaped; the id when it is a number.
        .bind(search.as_ref().map(|q| {
            let q = q.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            format!("%{q}%")
        }))
        .bind(search.as_ref().and_then(|q| q.parse::<i64>().ok()))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(order_from).collect()
    }

    async fn transition_order(
        &self,
        id: OrderId,
        from: OrderState,
        to: OrderState,
        actor: ActorKind,
        actor_id: Option<AccountId>,
        note: &str,
        fields: &TransitionFields,
        now: UnixMillis,
    ) -> Result<()> {
        self.materialise_order(id).await?;
        let mut tx = self.write_tx().await?;
        step_order(
            &mut tx,
            &OrderStep {
                id,
                from,
                to,
                actor,
                actor_id,
                note,
                fields,
                restock: true,
                now,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn expired_reservations(&self, now: UnixMillis, limit: i64) -> Result<Vec<Order>> {
        // Only the journal's expired rows move: moving all of it would put every buyer-keyed
        // index write of a running sale on this job (measured: 13% of the server's CPU).
        self.settle_journal(JournalSlice::ExpiredBy {
            now,
            limit: limit.max(0) as usize,
        })
        .await?;
        let rows = sqlx::query(&format!("SELECT {ORDER_COLS} FROM orders WHERE state = 'created' AND expires_at IS NOT NULL AND expires_at <= $1 ORDER BY expires_at LIMIT $2"))
            .bind(now.0)
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(order_from).collect()
    }
}

/// One step of an order, taken inside a caller's transaction.
pub(crate) struct OrderStep<'a> {
    pub id: OrderId,
    pub from: OrderState,
    pub to: OrderState,
    pub actor: ActorKind,
    pub actor_id: Option<AccountId>,
    pub note: &'a str,
    pub fields: &'a TransitionFields,
    /// Leaving the states that hold stock puts an ordinary order's items back on the store's
    /// shelf. A defect claim's steps do not: a defect refund leaves the goods with the buyer,
    /// and goods that come back go through the return steps, which restock.
    pub restock: bool,
    pub now: UnixMillis,
}

/// An order's step: compare-and-set on its state (`Conflict` when it is not in `from`), the
/// fields the step sets, its history line, the stock it gives back (see `restock`), and the
/// coupon of an order that never went through.
pub(crate) async fn step_order(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    s: &OrderStep<'_>,
) -> Result<()> {
    let f = s.fields;
    let r = sqlx::query(
        "UPDATE orders SET state = $1, updated_at = $2, carrier = COALESCE($3, carrier), tracking = COALESCE($4, tracking), \
         delivered_at = COALESCE($5, delivered_at), return_reason = COALESCE($6, return_reason) WHERE id = $7 AND state = $8",
    )
    .bind(s.to.as_str())
    .bind(s.now.0)
    .bind(f.carrier.as_deref())
    .bind(f.tracking.as_deref())
    .bind(f.delivered_at.map(|t| t.0))
    .bind(f.return_reason.as_deref())
    .bind(s.id)
    .bind(s.from.as_str())
    .execute(&mut **tx)
    .await?;
    if r.rows_affected() == 0 {
        return Err(StorageError::Conflict {
            entity: "order state",
        });
    }
    sqlx::query("INSERT INTO order_events (order_id, from_state, to_state, actor_kind, actor_id, note, at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(s.id)
        .bind(s.from.as_str())
        .bind(s.to.as_str())
        .bind(actor_str(s.actor))
        .bind(s.actor_id.map(|a| a.0))
        .bind(s.note)
        .bind(s.now.0)
        .execute(&mut **tx)
        .await?;
    if s.restock && s.from.holds_stock() && !s.to.holds_stock() {
        // An ordinary order's items go back on the store's shelf; a flash sale's stock
        // is its own and the sale engine releases it.
        sqlx::query(
            "UPDATE stock SET quantity = quantity + (SELECT COALESCE(SUM(i.quantity), 0) FROM order_items i JOIN orders o ON o.id = i.order_id \
             WHERE i.order_id = $1 AND i.sku_id = stock.sku_id AND o.flash_sale_id IS NULL) \
             WHERE store_id = (SELECT store_id FROM orders WHERE id = $1) AND sku_id IN (SELECT sku_id FROM order_items WHERE order_id = $1)",
        )
        .bind(s.id)
        .execute(&mut **tx)
        .await?;
    }
    if matches!(s.to, OrderState::Cancelled | OrderState::Expired) {
        // An order that never went through gives its coupon back: the campaign's budget
        // and the buyer's use (the order row keeps its discount and coupon for the record).
        sqlx::query(
            "UPDATE coupons SET spent_minor = spent_minor - (SELECT COALESCE(SUM(r.amount_minor), 0) FROM coupon_redemptions r WHERE r.order_id = $1 AND r.coupon_id = coupons.id) \
             WHERE id IN (SELECT coupon_id FROM coupon_redemptions WHERE order_id = $1)",
        )
        .bind(s.id)
        .execute(&mut **tx)
        .await?;
        sqlx::query("DELETE FROM coupon_redemptions WHERE order_id = $1")
            .bind(s.id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}
