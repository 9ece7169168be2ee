//! Flash sales, their reservations and the group commit of their orders.

use super::*;
use crate::journal::{place_flash_orders_sqlite, JournalSlice};

#[async_trait]
pub trait FlashSaleStore: Send + Sync {
    async fn create_flash_sale(&self, s: &NewFlashSale, now: UnixMillis) -> Result<FlashSale>;
    async fn flash_sale(&self, id: FlashSaleId) -> Result<Option<FlashSale>>;
    async fn start_flash_sale(
        &self,
        id: FlashSaleId,
        starts_at: UnixMillis,
        ends_at: UnixMillis,
    ) -> Result<()>;
    /// Sales not yet over at `now` (scheduled or open).
    async fn open_flash_sales(&self, now: UnixMillis) -> Result<Vec<FlashSale>>;
    async fn flash_sales_of_channel(
        &self,
        channel: ChannelId,
        limit: i64,
    ) -> Result<Vec<FlashSale>>;
    /// Every order of the sale: those that hold stock (`live`) and those released, whose
    /// idempotency keys still name them.
    async fn flash_reservations(&self, sale: FlashSaleId) -> Result<Vec<FlashReservation>>;
    /// Moves up to `max` flash-sale orders from the SQLite journal into the order tables (see
    /// `place_flash_orders`); how many it moved. Nothing to do on PostgreSQL. Every read of
    /// orders does this as needed, so it only decides *when* the work is done.
    async fn materialise_flash_orders(&self, max: usize) -> Result<usize>;
    /// Many flash-sale orders in one transaction (the group commit): all or none. Durable when
    /// it returns. On an SQLite file they are appended to a journal and become order rows later
    /// (`materialise_flash_orders`); on PostgreSQL they are order rows at once. Shared, so the
    /// SQLite writer thread reads the batch without a copy.
    async fn place_flash_orders(&self, orders: std::sync::Arc<[NewOrder]>) -> Result<()>;
}

#[async_trait]
impl FlashSaleStore for SqlStore {
    async fn create_flash_sale(&self, s: &NewFlashSale, now: UnixMillis) -> Result<FlashSale> {
        let ends = s.starts_at.map(|t| t.plus_ms(s.duration_ms));
        let r = sqlx::query(
            "INSERT INTO flash_sales (channel_id, show_id, org_id, store_id, sku_id, price_minor, reference_minor, currency, total_stock, per_buyer_limit, starts_at, ends_at, duration_ms, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
        )
        .bind(s.channel.0)
        .bind(s.show.map(|x| x.0))
        .bind(s.org)
        .bind(s.store)
        .bind(s.sku)
        .bind(s.price_minor)
        .bind(s.reference_minor)
        .bind(s.currency.as_str().to_string())
        .bind(s.total_stock)
        .bind(s.per_buyer_limit)
        .bind(s.starts_at.map(|t| t.0))
        .bind(ends.map(|t| t.0))
        .bind(s.duration_ms)
        .bind(s.created_by.0)
        .bind(now.0)
        .fetch_one(self.pool())
        .await
        .map_err(|e| classify(e, "flash sale", "channel, show, sku or store"))?;
        Ok(FlashSale {
            id: r.try_get(0)?,
            channel: s.channel,
            show: s.show,
            org: s.org,
            store: s.store,
            sku: s.sku,
            price_minor: s.price_minor,
            reference_minor: s.reference_minor,
            currency: s.currency,
            total_stock: s.total_stock,
            per_buyer_limit: s.per_buyer_limit,
            starts_at: s.starts_at,
            ends_at: ends,
            duration_ms: s.duration_ms,
            created_by: s.created_by,
            created_at: now,
        })
    }

    async fn flash_sale(&self, id: FlashSaleId) -> Result<Option<FlashSale>> {
        let r = sqlx::query(&format!(
            "SELECT {FLASH_COLS} FROM flash_sales WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(flash_from).transpose()
    }

    async fn start_flash_sale(
        &self,
        id: FlashSaleId,
        starts_at: UnixMillis,
        ends_at: UnixMillis,
    ) -> Result<()> {
        let r = sqlx::query("UPDATE flash_sales SET starts_at = $1, ends_at = $2 WHERE id = $3")
            .bind(starts_at.0)
            .bind(ends_at.0)
            .bind(id)
            .execute(self.pool())
            .await?;
        if r.rows_affected() == 0 {
            return Err(StorageError::NotFound {
                entity: "flash sale",
            });
        }
        Ok(())
    }

    async fn open_flash_sales(&self, now: UnixMillis) -> Result<Vec<FlashSale>> {
        let rows = sqlx::query(&format!("SELECT {FLASH_COLS} FROM flash_sales WHERE ends_at IS NULL OR ends_at > $1 ORDER BY id")).bind(now.0).fetch_all(self.pool()).await?;
        rows.iter().map(flash_from).collect()
    }

    async fn flash_sales_of_channel(
        &self,
        channel: ChannelId,
        limit: i64,
    ) -> Result<Vec<FlashSale>> {
        let rows = sqlx::query(&format!(
            "SELECT {FLASH_COLS} FROM flash_sales WHERE channel_id = $1 ORDER BY id DESC LIMIT $2"
        ))
        .bind(channel.0)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(flash_from).collect()
    }

    async fn flash_reservations(&self, sale: FlashSaleId) -> Result<Vec<FlashReservation>> {
        self.materialise_all().await?;
        let rows = sqlx::query(
            "SELECT o.id, o.buyer_id, i.quantity, o.idempotency_key, o.state FROM orders o JOIN order_items i ON i.order_id = o.id \
             WHERE o.flash_sale_id = $1 ORDER BY o.id",
        )
        .bind(sale)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let state: String = r.try_get(4)?;
                Ok(FlashReservation {
                    order: r.try_get(0)?,
                    buyer: AccountId(r.try_get(1)?),
                    quantity: r.try_get(2)?,
                    key: r.try_get(3)?,
                    live: !matches!(state.as_str(), "cancelled" | "expired" | "refunded"),
                })
            })
            .collect()
    }

    async fn materialise_flash_orders(&self, max: usize) -> Result<usize> {
        self.settle_journal(JournalSlice::Oldest(max)).await
    }

    async fn place_flash_orders(&self, orders: std::sync::Arc<[NewOrder]>) -> Result<()> {
        if orders.is_empty() {
            return Ok(());
        }
        if let Some(path) = &self.sqlite_path {
            return place_flash_orders_sqlite(path, &self.flash_conn, orders).await;
        }
        let mut tx = self.write_tx().await?;
        for chunk in orders.chunks(200) {
            let sql = format!(
                "INSERT INTO orders ({ORDER_INSERT_COLS}) VALUES {}",
                values(chunk.len(), ORDER_INSERT_N, self.backend)
            );
            let mut q = sqlx::query(&sql);
            for o in chunk {
                q = bind_order(q, o);
            }
            q.execute(&mut *tx)
                .await
                .map_err(|e| classify(e, "order", "buyer, organisation or store"))?;
        }
        insert_items_and_events(&mut tx, &orders, self.backend).await?;
        tx.commit().await?;
        Ok(())
    }
}
