//! Products and their variants (SKUs): prices with their history, stock per store, images.

use super::*;

#[async_trait]
pub trait CatalogStore: Send + Sync {
    async fn create_product(&self, p: &NewProduct, now: UnixMillis) -> Result<Product>;
    async fn product(&self, id: ProductId) -> Result<Option<Product>>;
    async fn products_of_org(&self, org: OrgId) -> Result<Vec<Product>>;
    async fn add_sku(
        &self,
        product: ProductId,
        label: &str,
        price_minor: i64,
        now: UnixMillis,
    ) -> Result<Sku>;
    /// Changes a price and records it in the price history.
    async fn set_price(&self, sku: SkuId, price_minor: i64, now: UnixMillis) -> Result<()>;
    async fn sku(&self, id: SkuId) -> Result<Option<Sku>>;
    async fn skus_of_product(&self, product: ProductId) -> Result<Vec<Sku>>;
    /// `(at, price)` oldest first.
    async fn price_history(&self, sku: SkuId) -> Result<Vec<(i64, i64)>>;
    async fn set_stock(&self, sku: SkuId, store: StoreId, quantity: i64) -> Result<()>;
    async fn stock(&self, sku: SkuId, store: StoreId) -> Result<i64>;
    /// Takes `quantity` from a store's stock if it has that much.
    async fn take_stock(&self, sku: SkuId, store: StoreId, quantity: i64) -> Result<bool>;
    async fn add_image(
        &self,
        product: ProductId,
        file: &str,
        content_type: &str,
        now: UnixMillis,
    ) -> Result<i64>;
    /// `(image id, file, content type)`.
    async fn images(&self, product: ProductId) -> Result<Vec<(i64, String, String)>>;
    async fn image(&self, id: i64) -> Result<Option<(String, String)>>;
}

#[async_trait]
impl CatalogStore for SqlStore {
    async fn create_product(&self, p: &NewProduct, now: UnixMillis) -> Result<Product> {
        let r = sqlx::query("INSERT INTO products (org_id, title, description, category, return_class, currency, sponsored, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
            .bind(p.org)
            .bind(p.title.as_str())
            .bind(p.description.as_str())
            .bind(p.category.as_str())
            .bind(p.return_class.as_str())
            .bind(p.currency.as_str().to_string())
            .bind(p.sponsored as i64)
            .bind(now.0)
            .fetch_one(self.pool())
            .await
            .map_err(|e| classify(e, "product", "organisation"))?;
        Ok(Product {
            id: r.try_get(0)?,
            org: p.org,
            title: p.title.clone(),
            description: p.description.clone(),
            category: p.category,
            return_class: p.return_class,
            currency: p.currency,
            sponsored: p.sponsored,
            created_at: now,
        })
    }

    async fn product(&self, id: ProductId) -> Result<Option<Product>> {
        let r = sqlx::query(&format!(
            "SELECT {PRODUCT_COLS} FROM products WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(product_from).transpose()
    }

    async fn products_of_org(&self, org: OrgId) -> Result<Vec<Product>> {
        let rows = sqlx::query(&format!(
            "SELECT {PRODUCT_COLS} FROM products WHERE org_id = $1 ORDER BY id"
        ))
        .bind(org)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(product_from).collect()
    }

    async fn add_sku(
        &self,
        product: ProductId,
        label: &str,
        price_minor: i64,
        now: UnixMillis,
    ) -> Result<Sku> {
        let mut tx = self.write_tx().await?;
        let r = sqlx::query("INSERT INTO skus (product_id, label, price_minor, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
            .bind(product)
            .bind(label)
            .bind(price_minor)
            .bind(now.0)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| classify(e, "sku", "product"))?;
        let id: i64 = r.try_get(0)?;
        sqlx::query("INSERT INTO price_history (sku_id, at, price_minor) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(now.0)
            .bind(price_minor)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Sku {
            id,
            product,
            label: label.into(),
            price_minor,
        })
    }

    async fn set_price(&self, sku: SkuId, price_minor: i64, now: UnixMillis) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let r = sqlx::query("UPDATE skus SET price_minor = $1 WHERE id = $2")
            .bind(price_minor)
            .bind(sku)
            .execute(&mut *tx)
            .await?;
        if r.rows_affected() == 0 {
            return Err(StorageError::NotFound { entity: "sku" });
        }
        sqlx::query("INSERT INTO price_history (sku_id, at, price_minor) VALUES ($1, $2, $3)")
            .bind(sku)
            .bind(now.0)
            .bind(price_minor)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn sku(&self, id: SkuId) -> Result<Option<Sku>> {
        let r = sqlx::query("SELECT id, product_id, label, price_minor FROM skus WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        r.map(|r| {
            Ok(Sku {
                id: r.try_get(0)?,
                product: r.try_get(1)?,
                label: r.try_get(2)?,
                price_minor: r.try_get(3)?,
            })
        })
        .transpose()
    }

    async fn skus_of_product(&self, product: ProductId) -> Result<Vec<Sku>> {
        let rows = sqlx::query(
            "SELECT id, product_id, label, price_minor FROM skus WHERE product_id = $1 ORDER BY id",
        )
        .bind(product)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Sku {
                    id: r.try_get(0)?,
                    product: r.try_get(1)?,
                    label: r.try_get(2)?,
                    price_minor: r.try_get(3)?,
                })
            })
            .collect()
    }

    async fn price_history(&self, sku: SkuId) -> Result<Vec<(i64, i64)>> {
        let rows =
            sqlx::query("SELECT at, price_minor FROM price_history WHERE sku_id = $1 ORDER BY at")
                .bind(sku)
                .fetch_all(self.pool())
                .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    async fn set_stock(&self, sku: SkuId, store: StoreId, quantity: i64) -> Result<()> {
        if quantity < 0 {
            return Err(StorageError::Corrupt("negative stock".into()));
        }
        sqlx::query("INSERT INTO stock (sku_id, store_id, quantity) VALUES ($1, $2, $3) ON CONFLICT (sku_id, store_id) DO UPDATE SET quantity = excluded.quantity")
            .bind(sku)
            .bind(store)
            .bind(quantity)
            .execute(self.pool())
            .await
            .map_err(|e| classify(e, "stock", "sku or store"))?;
        Ok(())
    }

    async fn stock(&self, sku: SkuId, store: StoreId) -> Result<i64> {
        let r = sqlx::query("SELECT quantity FROM stock WHERE sku_id = $1 AND store_id = $2")
            .bind(sku)
            .bind(store)
            .fetch_optional(self.pool())
            .await?;
        Ok(match r {
            Some(r) => r.try_get(0)?,
            None => 0,
        })
    }

    async fn take_stock(&self, sku: SkuId, store: StoreId, quantity: i64) -> Result<bool> {
        let r = sqlx::query("UPDATE stock SET quantity = quantity - $1 WHERE sku_id = $2 AND store_id = $3 AND quantity >= $1")
            .bind(quantity)
            .bind(sku)
            .bind(store)
            .execute(self.pool())
            .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn add_image(
        &self,
        product: ProductId,
        file: &str,
        content_type: &str,
        now: UnixMillis,
    ) -> Result<i64> {
        let r = sqlx::query("INSERT INTO product_images (product_id, file, content_type, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
            .bind(product)
            .bind(file)
            .bind(content_type)
            .bind(now.0)
            .fetch_one(self.pool())
            .await
            .map_err(|e| classify(e, "image", "product"))?;
        Ok(r.try_get(0)?)
    }

    async fn images(&self, product: ProductId) -> Result<Vec<(i64, String, String)>> {
        let rows = sqlx::query(
            "SELECT id, file, content_type FROM product_images WHERE product_id = $1 ORDER BY id",
        )
        .bind(product)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect()
    }

    async fn image(&self, id: i64) -> Result<Option<(String, String)>> {
        let r = sqlx::query("SELECT file, content_type FROM product_images WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        r.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
    }
}
