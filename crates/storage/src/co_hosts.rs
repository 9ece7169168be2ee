//! Co-hosts: who appeared on air as a show's guest and when, and each guest's own statement of
//! having used a product of the showcase (the host's statement is the showcase entry's).

use crate::{classify, Result, SqlStore};
use async_trait::async_trait;
use hawker_domain::{AccountId, ShowId, UnixMillis};
use sqlx::Row;

/// One guest's time on air in one show (the latest, when they joined more than once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoHostVisit {
    pub show: ShowId,
    pub account: AccountId,
    pub joined_at: UnixMillis,
    /// None while on air.
    pub left_at: Option<UnixMillis>,
}

/// A guest states having used a product of the show's showcase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoHostStatement {
    pub show: ShowId,
    pub product: i64,
    pub account: AccountId,
    pub attested_at: UnixMillis,
}

#[async_trait]
pub trait CoHostStore: Send + Sync {
    /// `account` is on air in `show` from `at` (again, if they had left).
    async fn co_host_joined(&self, show: ShowId, account: AccountId, at: UnixMillis) -> Result<()>;
    /// Everyone on air in `show` leaves at `at`; how many did.
    async fn co_hosts_left(&self, show: ShowId, at: UnixMillis) -> Result<u64>;
    /// The show's guests, first joined first.
    async fn co_hosts_of_show(&self, show: ShowId) -> Result<Vec<CoHostVisit>>;
    /// `account` states (or withdraws) having used `product`.
    async fn set_co_host_statement(
        &self,
        show: ShowId,
        product: i64,
        account: AccountId,
        used: bool,
        at: UnixMillis,
    ) -> Result<()>;
    async fn co_host_statements(&self, show: ShowId) -> Result<Vec<CoHostStatement>>;
}

#[async_trait]
impl CoHostStore for SqlStore {
    async fn co_host_joined(&self, show: ShowId, account: AccountId, at: UnixMillis) -> Result<()> {
        sqlx::query(
            "INSERT INTO show_co_hosts (show_id, account_id, joined_at, left_at) VALUES ($1, $2, $3, NULL) \
             ON CONFLICT (show_id, account_id) DO UPDATE SET joined_at = excluded.joined_at, left_at = NULL",
        )
        .bind(show.0)
        .bind(account.0)
        .bind(at.0)
        .execute(self.pool())
        .await
        .map_err(|e| classify(e, "co-host", "show or account"))?;
        Ok(())
    }

    async fn co_hosts_left(&self, show: ShowId, at: UnixMillis) -> Result<u64> {
        let r = sqlx::query(
            "UPDATE show_co_hosts SET left_at = $1 WHERE show_id = $2 AND left_at IS NULL",
        )
        .bind(at.0)
        .bind(show.0)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected())
    }

    async fn co_hosts_of_show(&self, show: ShowId) -> Result<Vec<CoHostVisit>> {
        let rows = sqlx::query(
            "SELECT account_id, joined_at, left_at FROM show_co_hosts WHERE show_id = $1 \
             ORDER BY joined_at, account_id",
        )
        .bind(show.0)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CoHostVisit {
                    show,
                    account: AccountId(r.try_get(0)?),
                    joined_at: UnixMillis(r.try_get(1)?),
                    left_at: r.try_get::<Option<i64>, _>(2)?.map(UnixMillis),
                })
            })
            .collect()
    }

    async fn set_co_host_statement(
        &self,
        show: ShowId,
        product: i64,
        account: AccountId,
        used: bool,
        at: UnixMillis,
    ) -> Result<()> {
        let q = if used {
            // A statement already made keeps its first time.
            sqlx::query(
                "INSERT INTO co_host_statements (show_id, product_id, account_id, attested_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (show_id, product_id, account_id) DO NOTHING",
            )
            .bind(show.0)
            .bind(product)
            .bind(account.0)
            .bind(at.0)
        } else {
            sqlx::query(
                "DELETE FROM co_host_statements WHERE show_id = $1 AND product_id = $2 AND account_id = $3",
            )
            .bind(show.0)
            .bind(product)
            .bind(account.0)
        };
        q.execute(self.pool())
            .await
            .map_err(|e| classify(e, "co-host statement", "show, product or account"))?;
        Ok(())
    }

    async fn co_host_statements(&self, show: ShowId) -> Result<Vec<CoHostStatement>> {
        let rows = sqlx::query(
            "SELECT product_id, account_id, attested_at FROM co_host_statements WHERE show_id = $1 \
             ORDER BY product_id, account_id",
        )
        .bind(show.0)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CoHostStatement {
                    show,
                    product: r.try_get(0)?,
                    account: AccountId(r.try_get(1)?),
                    attested_at: UnixMillis(r.try_get(2)?),
                })
            })
            .collect()
    }
}
