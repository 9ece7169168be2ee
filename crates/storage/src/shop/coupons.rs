//! Coupon campaigns and their uses.

use super::*;

#[async_trait]
pub trait CouponStore: Send + Sync {
    async fn create_coupon(&self, c: &Coupon, now: UnixMillis) -> Result<CouponRow>;
    async fn coupon_by_code(&self, code: &str) -> Result<Option<CouponRow>>;
    async fn coupon_uses(&self, coupon: CouponId, account: AccountId) -> Result<i64>;
    /// An organisation's coupons, newest first, with how often each was redeemed.
    async fn coupons_of_org(&self, org: i64) -> Result<Vec<CouponListing>>;
    async fn coupon(&self, id: CouponId) -> Result<Option<CouponRow>>;
    async fn set_coupon_paused(&self, id: CouponId, paused: bool) -> Result<()>;
    /// Closes the coupon's window at `now` (never reopens one that already closed).
    async fn end_coupon(&self, id: CouponId, now: UnixMillis) -> Result<()>;
}

#[async_trait]
impl CouponStore for SqlStore {
    async fn create_coupon(&self, c: &Coupon, now: UnixMillis) -> Result<CouponRow> {
        let (kind, value) = match c.discount {
            Discount::Fixed { minor } => ("fixed", minor),
            Discount::Percent { basis_points } => ("percent", basis_points),
        };
        let scope = match c.scope {
            CouponScope::Stream => "stream",
            CouponScope::Store => "store",
        };
        let r = sqlx::query(
            "INSERT INTO coupons (code, issuer_org, channel_id, kind, value, currency, min_spend_minor, per_user_limit, budget_minor, spent_minor, scope, valid_from, valid_to, created_at, paused) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
        )
        .bind(c.code.as_str())
        .bind(c.issuer_org)
        .bind(c.channel)
        .bind(kind)
        .bind(value)
        .bind(c.currency.as_str().to_string())
        .bind(c.min_spend_minor)
        .bind(c.per_user_limit)
        .bind(c.budget_minor)
        .bind(c.spent_minor)
        .bind(scope)
        .bind(c.valid_from_ms)
        .bind(c.valid_to_ms)
        .bind(now.0)
        .bind(c.paused as i64)
        .fetch_one(self.pool())
        .await
        .map_err(|e| classify(e, "coupon", "organisation or channel"))?;
        Ok(CouponRow {
            id: r.try_get(0)?,
            coupon: c.clone(),
        })
    }

    async fn coupon_by_code(&self, code: &str) -> Result<Option<CouponRow>> {
        let r = sqlx::query(&format!(
            "SELECT {COUPON_COLS} FROM coupons WHERE code = $1"
        ))
        .bind(code)
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(coupon_from).transpose()
    }

    async fn coupons_of_org(&self, org: i64) -> Result<Vec<CouponListing>> {
        let rows = sqlx::query(&format!(
            "SELECT {COUPON_COLS}, (SELECT COUNT(*) FROM coupon_redemptions r WHERE r.coupon_id = coupons.id) \
             FROM coupons WHERE issuer_org = $1 ORDER BY id DESC LIMIT 500"
        ))
        .bind(org)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CouponListing {
                    row: coupon_from(r)?,
                    redemptions: r.try_get(15)?,
                })
            })
            .collect()
    }

    async fn coupon(&self, id: CouponId) -> Result<Option<CouponRow>> {
        let r = sqlx::query(&format!("SELECT {COUPON_COLS} FROM coupons WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        r.as_ref().map(coupon_from).transpose()
    }

    async fn set_coupon_paused(&self, id: CouponId, paused: bool) -> Result<()> {
        sqlx::query("UPDATE coupons SET paused = $1 WHERE id = $2")
            .bind(paused as i64)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn end_coupon(&self, id: CouponId, now: UnixMillis) -> Result<()> {
        sqlx::query("UPDATE coupons SET valid_to = $1 WHERE id = $2 AND valid_to > $1")
            .bind(now.0)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn coupon_uses(&self, coupon: CouponId, account: AccountId) -> Result<i64> {
        let r = sqlx::query(
            "SELECT COUNT(*) FROM coupon_redemptions WHERE coupon_id = $1 AND account_id = $2",
        )
        .bind(coupon)
        .bind(account.0)
        .fetch_one(self.pool())
        .await?;
        Ok(r.try_get(0)?)
    }
}
