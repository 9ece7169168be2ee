//! Organisations' business (KYB) profiles, their review and the sales that trigger it.

use super::*;

#[async_trait]
pub trait BusinessStore: Send + Sync {
    async fn submit_business(&self, b: &BusinessProfile) -> Result<()>;
    async fn business_profile(&self, org: OrgId) -> Result<Option<BusinessProfile>>;
    async fn business_profiles(
        &self,
        state: ReviewState,
        limit: i64,
    ) -> Result<Vec<BusinessProfile>>;
    async fn review_business(
        &self,
        org: OrgId,
        approve: bool,
        reason: Option<&str>,
        reviewer: AccountId,
        at: UnixMillis,
    ) -> Result<bool>;
    /// When the organisation was first found over the KYB thresholds (recorded now if never).
    async fn kyb_notice(&self, org: OrgId, duty: KybDuty, now: UnixMillis) -> Result<i64>;
    /// Paid-or-later orders of an organisation since `since`: (count, sum of totals).
    async fn org_sales_since(&self, org: OrgId, since: UnixMillis) -> Result<(i64, i64)>;
}

#[async_trait]
impl BusinessStore for SqlStore {
    async fn submit_business(&self, b: &BusinessProfile) -> Result<()> {
        sqlx::query(
            "INSERT INTO business_profiles (org_id, legal_name, registration_number, address, contact, payout_account_hash, payout_account_last4, state, submitted_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'submitted', $8) \
             ON CONFLICT (org_id) DO UPDATE SET legal_name = excluded.legal_name, registration_number = excluded.registration_number, address = excluded.address, contact = excluded.contact, \
             payout_account_hash = excluded.payout_account_hash, payout_account_last4 = excluded.payout_account_last4, state = 'submitted', reason = NULL, reviewer_id = NULL, submitted_at = excluded.submitted_at, reviewed_at = NULL",
        )
        .bind(b.org)
        .bind(&b.legal_name)
        .bind(&b.registration_number)
        .bind(&b.address)
        .bind(&b.contact)
        .bind(&b.payout_account_hash)
        .bind(&b.payout_account_last4)
        .bind(b.submitted_at)
        .execute(self.pool())
        .await
        .map_err(|e| classify(e, "business profile", "organisation"))?;
        Ok(())
    }

    async fn business_profile(&self, org: OrgId) -> Result<Option<BusinessProfile>> {
        let r = sqlx::query(&format!(
            "SELECT {BIZ_COLS} FROM business_profiles WHERE org_id = $1"
        ))
        .bind(org)
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(biz_from).transpose()
    }

    async fn business_profiles(
        &self,
        state: ReviewState,
        limit: i64,
    ) -> Result<Vec<BusinessProfile>> {
        let rows = sqlx::query(&format!(
            "SELECT {BIZ_COLS} FROM business_profiles WHERE state = $1 ORDER BY submitted_at LIMIT $2"
        ))
        .bind(state.as_str())
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(biz_from).collect()
    }

    async fn review_business(
        &self,
        org: OrgId,
        approve: bool,
        reason: Option<&str>,
        reviewer: AccountId,
        at: UnixMillis,
    ) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE business_profiles SET state = $1, reason = $2, reviewer_id = $3, reviewed_at = $4 WHERE org_id = $5 AND state = 'submitted'",
        )
        .bind(ReviewState::decided(approve).as_str())
        .bind(reason)
        .bind(reviewer.0)
        .bind(at.0)
        .bind(org)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    async fn kyb_notice(&self, org: OrgId, duty: KybDuty, now: UnixMillis) -> Result<i64> {
        sqlx::query(
            "INSERT INTO kyb_notices (org_id, duty, noticed_at) VALUES ($1, $2, $3) ON CONFLICT (org_id) DO NOTHING",
        )
        .bind(org)
        .bind(duty.as_str())
        .bind(now.0)
        .execute(self.pool())
        .await
        .map_err(|e| classify(e, "KYB notice", "organisation"))?;
        let r = sqlx::query("SELECT noticed_at FROM kyb_notices WHERE org_id = $1")
            .bind(org)
            .fetch_one(self.pool())
            .await?;
        Ok(r.try_get(0)?)
    }

    async fn org_sales_since(&self, org: OrgId, since: UnixMillis) -> Result<(i64, i64)> {
        let r = sqlx::query(
            "SELECT COUNT(*), CAST(COALESCE(SUM(total_minor), 0) AS BIGINT) FROM orders WHERE org_id = $1 AND created_at >= $2 \
             AND state NOT IN ('created', 'expired', 'cancelled', 'refunded')",
        )
        .bind(org)
        .bind(since.0)
        .fetch_one(self.pool())
        .await?;
        Ok((r.try_get(0)?, r.try_get(1)?))
    }
}
