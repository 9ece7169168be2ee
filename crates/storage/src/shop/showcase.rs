//! A show's shelf and its pins.

use super::*;

#[async_trait]
pub trait ShowcaseStore: Send + Sync {
    async fn set_shelf(&self, show: ShowId, products: &[ProductId]) -> Result<()>;
    async fn shelf(&self, show: ShowId) -> Result<Vec<ProductId>>;
    async fn pin(
        &self,
        show: ShowId,
        product: ProductId,
        now: UnixMillis,
        offset_ms: i64,
    ) -> Result<()>;
    async fn unpin(&self, show: ShowId, product: ProductId, now: UnixMillis) -> Result<bool>;
    async fn pins(&self, show: ShowId) -> Result<Vec<Pin>>;
    /// The show ended: every pin still up comes down at `at`. Returns how many.
    async fn close_open_pins(&self, show: ShowId, at: UnixMillis) -> Result<u64>;
}

#[async_trait]
impl ShowcaseStore for SqlStore {
    async fn set_shelf(&self, show: ShowId, products: &[ProductId]) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM show_products WHERE show_id = $1")
            .bind(show.0)
            .execute(&mut *tx)
            .await?;
        for (i, p) in products.iter().enumerate() {
            sqlx::query(
                "INSERT INTO show_products (show_id, product_id, position) VALUES ($1, $2, $3)",
            )
            .bind(show.0)
            .bind(*p)
            .bind(i as i64)
            .execute(&mut *tx)
            .await
            .map_err(|e| classify(e, "shelf entry", "show or product"))?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn shelf(&self, show: ShowId) -> Result<Vec<ProductId>> {
        let rows = sqlx::query(
            "SELECT product_id FROM show_products WHERE show_id = $1 ORDER BY position",
        )
        .bind(show.0)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    async fn pin(
        &self,
        show: ShowId,
        product: ProductId,
        now: UnixMillis,
        offset_ms: i64,
    ) -> Result<()> {
        sqlx::query("INSERT INTO pins (show_id, product_id, pinned_at, offset_ms, unpinned_at) VALUES ($1, $2, $3, $4, NULL)")
            .bind(show.0)
            .bind(product)
            .bind(now.0)
            .bind(offset_ms)
            .execute(self.pool())
            .await
            .map_err(|e| classify(e, "pin", "show or product"))?;
        Ok(())
    }

    async fn unpin(&self, show: ShowId, product: ProductId, now: UnixMillis) -> Result<bool> {
        let r = sqlx::query("UPDATE pins SET unpinned_at = $1 WHERE show_id = $2 AND product_id = $3 AND unpinned_at IS NULL")
            .bind(now.0)
            .bind(show.0)
            .bind(product)
            .execute(self.pool())
            .await?;
        Ok(r.rows_affected() > 0)
    }

    async fn close_open_pins(&self, show: ShowId, at: UnixMillis) -> Result<u64> {
        let r = sqlx::query(
            "UPDATE pins SET unpinned_at = $1 WHERE show_id = $2 AND unpinned_at IS NULL",
        )
        .bind(at.0)
        .bind(show.0)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected())
    }

    async fn pins(&self, show: ShowId) -> Result<Vec<Pin>> {
        let rows = sqlx::query("SELECT show_id, product_id, pinned_at, offset_ms, unpinned_at FROM pins WHERE show_id = $1 ORDER BY pinned_at, id").bind(show.0).fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                Ok(Pin {
                    show: ShowId(r.try_get(0)?),
                    product: r.try_get(1)?,
                    pinned_at: UnixMillis(r.try_get(2)?),
                    offset_ms: r.try_get(3)?,
                    unpinned_at: opt_ms(r.try_get(4)?),
                })
            })
            .collect()
    }
}
