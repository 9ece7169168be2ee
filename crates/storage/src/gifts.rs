//! Gifts: the catalogue, coin top-ups and gifts sent. Money itself moves only in the ledger;
//! these rows record what happened (and their states drive the ledger's catch-up).

use crate::sql::currency;
use crate::{classify, Result, SqlStore};
use async_trait::async_trait;
use hawker_domain::{AccountId, Currency, UnixMillis};
use sqlx::any::AnyRow;
use sqlx::Row;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GiftKind {
    pub id: i64,
    pub name: String,
    pub animation: String,
    pub coins: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopUp {
    pub id: i64,
    pub account: AccountId,
    pub coins: i64,
    pub amount_minor: i64,
    pub currency: Currency,
    pub provider: String,
    pub provider_ref: Option<String>,
    /// `pending`, `succeeded`, `failed`.
    pub state: String,
    pub created_at: UnixMillis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGift {
    pub show: Option<i64>,
    pub channel: i64,
    pub viewer: AccountId,
    pub streamer: AccountId,
    pub agency: Option<i64>,
    pub kind: i64,
    pub coins: i64,
    pub value_minor: i64,
    pub currency: Currency,
    pub streamer_bps: u32,
    pub tax_bps: u32,
    pub agency_bps: u32,
    pub created_at: UnixMillis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GiftRow {
    pub id: i64,
    pub gift: NewGift,
    /// `pending` (sent, credited late), `settled`, `refunded`, `refused` (not sent).
    pub state: String,
}

#[async_trait]
pub trait GiftStore: Send + Sync {
    async fn gift_kinds(&self) -> Result<Vec<GiftKind>>;
    async fn gift_kind(&self, id: i64) -> Result<Option<GiftKind>>;
    async fn create_topup(
        &self,
        account: AccountId,
        coins: i64,
        amount_minor: i64,
        currency: Currency,
        provider: &str,
        now: UnixMillis,
    ) -> Result<TopUp>;
    async fn set_topup_ref(&self, id: i64, provider_ref: &str) -> Result<()>;
    async fn topup_by_ref(&self, provider: &str, provider_ref: &str) -> Result<Option<TopUp>>;
    /// Compare-and-set on the top-up's state.
    async fn set_topup_state(&self, id: i64, from: &str, to: &str, now: UnixMillis)
        -> Result<bool>;
    /// Succeeded top-ups whose coins are not in the ledger yet (with `since`: changed since).
    async fn topups_unbooked(&self, since: Option<UnixMillis>, limit: i64) -> Result<Vec<TopUp>>;
    /// Pending top-ups started before `before` (for reconciliation with the provider).
    async fn topups_pending(&self, before: UnixMillis, limit: i64) -> Result<Vec<TopUp>>;
    async fn create_gift(&self, g: &NewGift) -> Result<GiftRow>;
    async fn gift(&self, id: i64) -> Result<Option<GiftRow>>;
    async fn set_gift_state(&self, id: i64, from: &str, to: &str) -> Result<bool>;
    /// Money value of the gifts `viewer` sent since `since` (not refused, not refunded).
    async fn gift_spend(&self, viewer: AccountId, since: UnixMillis) -> Result<i64>;
    /// A payer's gifts, newest first.
    async fn gifts_of_payer(&self, viewer: AccountId, limit: i64) -> Result<Vec<GiftRow>>;
    /// Gifts in `state` sent before `before`, oldest first.
    async fn gifts_in_state(
        &self,
        state: &str,
        before: UnixMillis,
        limit: i64,
    ) -> Result<Vec<GiftRow>>;
}

const TOPUP_COLS: &str =
    "id, account_id, coins, amount_minor, currency, provider, provider_ref, state, created_at";
const GIFT_COLS: &str = "id, show_id, channel_id, viewer_id, streamer_id, agency_org_id, kind_id, coins, value_minor, currency, streamer_bps, tax_bps, agency_bps, state, created_at";

fn topup_from(r: &AnyRow) -> Result<TopUp> {
    Ok(TopUp {
        id: r.try_get(0)?,
        account: AccountId(r.try_get(1)?),
        coins: r.try_get(2)?,
        amount_minor: r.try_get(3)?,
        currency: currency(&r.try_get::<String, _>(4)?)?,
        provider: r.try_get(5)?,
        provider_ref: r.try_get(6)?,
        state: r.try_get(7)?,
        created_at: UnixMillis(r.try_get(8)?),
    })
}

fn gift_from(r: &AnyRow) -> Result<GiftRow> {
    Ok(GiftRow {
        id: r.try_get(0)?,
        gift: NewGift {
            show: r.try_get(1)?,
            channel: r.try_get(2)?,
            viewer: AccountId(r.try_get(3)?),
            streamer: AccountId(r.try_get(4)?),
            agency: r.try_get(5)?,
            kind: r.try_get(6)?,
            coins: r.try_get(7)?,
            value_minor: r.try_get(8)?,
            currency: currency(&r.try_get::<String, _>(9)?)?,
            streamer_bps: r.try_get::<i64, _>(10)? as u32,
            tax_bps: r.try_get::<i64, _>(11)? as u32,
            agency_bps: r.try_get::<i64, _>(12)? as u32,
            created_at: UnixMillis(r.try_get(14)?),
        },
        state: r.try_get(13)?,
    })
}

#[async_trait]
impl GiftStore for SqlStore {
    async fn gift_kinds(&self) -> Result<Vec<GiftKind>> {
        let rows = sqlx::query(
            "SELECT id, name, animation, coins FROM gift_kinds WHERE active = 1 ORDER BY coins, id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(GiftKind {
                    id: r.try_get(0)?,
                    name: r.try_get(1)?,
                    animation: r.try_get(2)?,
                    coins: r.try_get(3)?,
                })
            })
            .collect()
    }

    async fn gift_kind(&self, id: i64) -> Result<Option<GiftKind>> {
        Ok(self.gift_kinds().await?.into_iter().find(|k| k.id == id))
    }

    async fn create_topup(
        &self,
        account: AccountId,
        coins: i64,
        amount_minor: i64,
        currency: Currency,
        provider: &str,
        now: UnixMillis,
    ) -> Result<TopUp> {
        let r = sqlx::query(&format!(
            "INSERT INTO coin_topups (account_id, coins, amount_minor, currency, provider, provider_ref, state, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, NULL, 'pending', $6, $6) RETURNING {TOPUP_COLS}"
        ))
        .bind(account.0)
        .bind(coins)
        .bind(amount_minor)
        .bind(currency.as_str())
        .bind(provider)
        .bind(now.0)
        .fetch_one(self.pool())
        .await
        .map_err(|e| classify(e, "top-up", "account"))?;
        topup_from(&r)
    }

    async fn set_topup_ref(&self, id: i64, provider_ref: &str) -> Result<()> {
        sqlx::query("UPDATE coin_topups SET provider_ref = $1 WHERE id = $2")
            .bind(provider_ref)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn topup_by_ref(&self, provider: &str, provider_ref: &str) -> Result<Option<TopUp>> {
        let r = sqlx::query(&format!(
            "SELECT {TOPUP_COLS} FROM coin_topups WHERE provider = $1 AND provider_ref = $2"
        ))
        .bind(provider)
        .bind(provider_ref)
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(topup_from).transpose()
    }

    async fn set_topup_state(
        &self,
        id: i64,
        from: &str,
        to: &str,
        now: UnixMillis,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE coin_topups SET state = $1, updated_at = $2 WHERE id = $3 AND state = $4",
        )
        .bind(to)
        .bind(now.0)
        .bind(id)
        .bind(from)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn topups_unbooked(&self, since: Option<UnixMillis>, limit: i64) -> Result<Vec<TopUp>> {
        let recent = if since.is_some() {
            "AND c.updated_at >= $2"
        } else {
            ""
        };
        let q = format!(
            "SELECT {TOPUP_COLS} FROM coin_topups c WHERE c.state = 'succeeded' {recent} AND NOT EXISTS \
             (SELECT 1 FROM ledger_transactions t WHERE t.posting_key = 'topup:' || CAST(c.id AS TEXT)) ORDER BY c.id LIMIT $1"
        );
        let q = sqlx::query(&q).bind(limit);
        let rows = match since {
            Some(t) => q.bind(t.0),
            None => q,
        }
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(topup_from).collect()
    }

    async fn topups_pending(&self, before: UnixMillis, limit: i64) -> Result<Vec<TopUp>> {
        let rows = sqlx::query(&format!(
            "SELECT {TOPUP_COLS} FROM coin_topups WHERE state = 'pending' AND provider_ref IS NOT NULL AND created_at < $1 ORDER BY id LIMIT $2"
        ))
        .bind(before.0)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(topup_from).collect()
    }

    async fn create_gift(&self, g: &NewGift) -> Result<GiftRow> {
        let r = sqlx::query(&format!(
            "INSERT INTO gifts (show_id, channel_id, viewer_id, streamer_id, agency_org_id, kind_id, coins, value_minor, currency, streamer_bps, tax_bps, agency_bps, state, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'pending', $13) RETURNING {GIFT_COLS}"
        ))
        .bind(g.show)
        .bind(g.channel)
        .bind(g.viewer.0)
        .bind(g.streamer.0)
        .bind(g.agency)
        .bind(g.kind)
        .bind(g.coins)
        .bind(g.value_minor)
        .bind(g.currency.as_str())
        .bind(g.streamer_bps as i64)
        .bind(g.tax_bps as i64)
        .bind(g.agency_bps as i64)
        .bind(g.created_at.0)
        .fetch_one(self.pool())
        .await
        .map_err(|e| classify(e, "gift", "show, channel, account or gift kind"))?;
        gift_from(&r)
    }

    async fn gift(&self, id: i64) -> Result<Option<GiftRow>> {
        let r = sqlx::query(&format!("SELECT {GIFT_COLS} FROM gifts WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        r.as_ref().map(gift_from).transpose()
    }

    async fn set_gift_state(&self, id: i64, from: &str, to: &str) -> Result<bool> {
        let r = sqlx::query("UPDATE gifts SET state = $1 WHERE id = $2 AND state = $3")
            .bind(to)
            .bind(id)
            .bind(from)
            .execute(self.pool())
            .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn gift_spend(&self, viewer: AccountId, since: UnixMillis) -> Result<i64> {
        let r = sqlx::query(
            "SELECT CAST(COALESCE(SUM(value_minor), 0) AS BIGINT) FROM gifts WHERE viewer_id = $1 AND created_at >= $2 AND state IN ('pending', 'settled')",
        )
        .bind(viewer.0)
        .bind(since.0)
        .fetch_one(self.pool())
        .await?;
        Ok(r.try_get(0)?)
    }

    async fn gifts_of_payer(&self, viewer: AccountId, limit: i64) -> Result<Vec<GiftRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {GIFT_COLS} FROM gifts WHERE viewer_id = $1 ORDER BY id DESC LIMIT $2"
        ))
        .bind(viewer.0)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(gift_from).collect()
    }

    async fn gifts_in_state(
        &self,
        state: &str,
        before: UnixMillis,
        limit: i64,
    ) -> Result<Vec<GiftRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {GIFT_COLS} FROM gifts WHERE state = $1 AND created_at < $2 ORDER BY id LIMIT $3"
        ))
        .bind(state)
        .bind(before.0)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(gift_from).collect()
    }
}
