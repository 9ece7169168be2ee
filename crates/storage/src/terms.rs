//! Account restrictions for a time, and commission and fee terms more specific than the
//! configuration's defaults (per product, per show, per organisation).

use crate::{classify, Result, SqlStore};
use async_trait::async_trait;
use hawker_domain::{AccountId, ShowId, UnixMillis};
use sqlx::Row;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restriction {
    pub id: i64,
    pub account: AccountId,
    pub kind: String,
    pub starts_at: UnixMillis,
    pub ends_at: Option<UnixMillis>,
    pub reason: String,
}

#[async_trait]
pub trait TermsStore: Send + Sync {
    #[allow(clippy::too_many_arguments)]
    async fn restrict(
        &self,
        account: AccountId,
        kind: &str,
        starts_at: UnixMillis,
        ends_at: Option<UnixMillis>,
        reason: &str,
        by: AccountId,
        now: UnixMillis,
    ) -> Result<Restriction>;
    /// The restriction of `kind` in force at `at` that ends last, if any.
    async fn restriction_at(
        &self,
        account: AccountId,
        kind: &str,
        at: UnixMillis,
    ) -> Result<Option<Restriction>>;
    async fn set_product_commission(&self, product: i64, bps: Option<u32>) -> Result<bool>;
    async fn product_commission(&self, product: i64) -> Result<Option<u32>>;
    async fn set_show_commission(&self, show: ShowId, bps: Option<u32>) -> Result<bool>;
    async fn show_commission(&self, show: ShowId) -> Result<Option<u32>>;
    async fn set_org_fee(&self, org: i64, bps: Option<u32>) -> Result<bool>;
    async fn org_fee(&self, org: i64) -> Result<Option<u32>>;
}

async fn get_bps(s: &SqlStore, sql: &str, id: i64) -> Result<Option<u32>> {
    let r = sqlx::query(sql).bind(id).fetch_optional(s.pool()).await?;
    Ok(match r {
        Some(r) => r.try_get::<Option<i64>, _>(0)?.map(|v| v as u32),
        None => None,
    })
}

async fn set_bps(s: &SqlStore, sql: &str, id: i64, bps: Option<u32>) -> Result<bool> {
    let r = sqlx::query(sql)
        .bind(bps.map(|v| v as i64))
        .bind(id)
        .execute(s.pool())
        .await?;
    Ok(r.rows_affected() == 1)
}

#[async_trait]
impl TermsStore for SqlStore {
    async fn restrict(
        &self,
        account: AccountId,
        kind: &str,
        starts_at: UnixMillis,
        ends_at: Option<UnixMillis>,
        reason: &str,
        by: AccountId,
        now: UnixMillis,
    ) -> Result<Restriction> {
        let r = sqlx::query(
            "INSERT INTO account_restrictions (account_id, kind, starts_at, ends_at, reason, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(account.0)
        .bind(kind)
        .bind(starts_at.0)
        .bind(ends_at.map(|t| t.0))
        .bind(reason)
        .bind(by.0)
        .bind(now.0)
        .fetch_one(self.pool())
        .await
        .map_err(|e| classify(e, "restriction", "account"))?;
        Ok(Restriction {
            id: r.try_get(0)?,
            account,
            kind: kind.to_string(),
            starts_at,
            ends_at,
            reason: reason.to_string(),
        })
    }

    async fn restriction_at(
        &self,
        account: AccountId,
        kind: &str,
        at: UnixMillis,
    ) -> Result<Option<Restriction>> {
        let r = sqlx::query(
            "SELECT id, starts_at, ends_at, reason FROM account_restrictions WHERE account_id = $1 AND kind = $2 \
             AND starts_at <= $3 AND (ends_at IS NULL OR ends_at > $3) ORDER BY ends_at IS NULL DESC, ends_at DESC LIMIT 1",
        )
        .bind(account.0)
        .bind(kind)
        .bind(at.0)
        .fetch_optional(self.pool())
        .await?;
        r.map(|r| {
            Ok(Restriction {
                id: r.try_get(0)?,
                account,
                kind: kind.to_string(),
                starts_at: UnixMillis(r.try_get(1)?),
                ends_at: r.try_get::<Option<i64>, _>(2)?.map(UnixMillis),
                reason: r.try_get(3)?,
            })
        })
        .transpose()
    }

    async fn set_product_commission(&self, product: i64, bps: Option<u32>) -> Result<bool> {
        set_bps(
            self,
            "UPDATE products SET host_commission_bps = $1 WHERE id = $2",
            product,
            bps,
        )
        .await
    }

    async fn product_commission(&self, product: i64) -> Result<Option<u32>> {
        get_bps(
            self,
            "SELECT host_commission_bps FROM products WHERE id = $1",
            product,
        )
        .await
    }

    async fn set_show_commission(&self, show: ShowId, bps: Option<u32>) -> Result<bool> {
        set_bps(
            self,
            "UPDATE shows SET host_commission_bps = $1 WHERE id = $2",
            show.0,
            bps,
        )
        .await
    }

    async fn show_commission(&self, show: ShowId) -> Result<Option<u32>> {
        get_bps(
            self,
            "SELECT host_commission_bps FROM shows WHERE id = $1",
            show.0,
        )
        .await
    }

    async fn set_org_fee(&self, org: i64, bps: Option<u32>) -> Result<bool> {
        set_bps(
            self,
            "UPDATE organisations SET platform_fee_bps = $1 WHERE id = $2",
            org,
            bps,
        )
        .await
    }

    async fn org_fee(&self, org: i64) -> Result<Option<u32>> {
        get_bps(
            self,
            "SELECT platform_fee_bps FROM organisations WHERE id = $1",
            org,
        )
        .await
    }
}
