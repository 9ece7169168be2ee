//! Paid slots and the sales that count for them.

use crate::{classify, Result, SqlStore, StorageError};
use async_trait::async_trait;
use hawker_domain::{AccountId, Currency, ShowId, UnixMillis};
use sqlx::any::AnyRow;
use sqlx::Row;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSlot {
    pub show: ShowId,
    pub host: AccountId,
    pub brand: i64,
    pub product: i64,
    pub fee_minor: i64,
    pub currency: Currency,
    pub commission_bps: u32,
    pub guaranteed_gmv_minor: Option<i64>,
    pub return_cap_bps: Option<u32>,
    pub created_by: AccountId,
    pub created_at: UnixMillis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub id: i64,
    pub slot: NewSlot,
    /// `booked`, `fee_received`, `closed`, `cancelled`.
    pub state: String,
}

/// One order line of the slot's product in its show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotSale {
    pub order: i64,
    pub state: String,
    pub created_at: UnixMillis,
    pub amount_minor: i64,
}

#[async_trait]
pub trait SlotStore: Send + Sync {
    async fn create_slot(&self, s: &NewSlot) -> Result<Slot>;
    async fn slot(&self, id: i64) -> Result<Option<Slot>>;
    async fn slots_of_show(&self, show: ShowId) -> Result<Vec<Slot>>;
    /// A brand's slots, newest first.
    async fn slots_of_brand(&self, brand: i64, limit: i64) -> Result<Vec<Slot>>;
    async fn set_slot_state(&self, id: i64, from: &str, to: &str) -> Result<bool>;
    /// Paid order lines of `product` in `show` (whatever became of them since).
    async fn slot_sales(&self, show: ShowId, product: i64) -> Result<Vec<SlotSale>>;
}

const SLOT_COLS: &str = "id, show_id, host_id, brand_org_id, product_id, fee_minor, currency, commission_bps, guaranteed_gmv_minor, return_cap_bps, state, created_by, created_at";

fn slot_from(r: &AnyRow) -> Result<Slot> {
    let c: String = r.try_get(6)?;
    Ok(Slot {
        id: r.try_get(0)?,
        slot: NewSlot {
            show: ShowId(r.try_get(1)?),
            host: AccountId(r.try_get(2)?),
            brand: r.try_get(3)?,
            product: r.try_get(4)?,
            fee_minor: r.try_get(5)?,
            currency: Currency::parse(&c)
                .ok_or_else(|| StorageError::Corrupt(format!("currency {c:?}")))?,
            commission_bps: r.try_get::<i64, _>(7)? as u32,
            guaranteed_gmv_minor: r.try_get(8)?,
            return_cap_bps: r.try_get::<Option<i64>, _>(9)?.map(|v| v as u32),
            created_by: AccountId(r.try_get(11)?),
            created_at: UnixMillis(r.try_get(12)?),
        },
        state: r.try_get(10)?,
    })
}

#[async_trait]
impl SlotStore for SqlStore {
    async fn create_slot(&self, s: &NewSlot) -> Result<Slot> {
        let r = sqlx::query(&format!(
            "INSERT INTO slots (show_id, host_id, brand_org_id, product_id, fee_minor, currency, commission_bps, guaranteed_gmv_minor, return_cap_bps, state, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'booked', $10, $11) RETURNING {SLOT_COLS}"
        ))
        .bind(s.show.0)
        .bind(s.host.0)
        .bind(s.brand)
        .bind(s.product)
        .bind(s.fee_minor)
        .bind(s.currency.as_str())
        .bind(s.commission_bps as i64)
        .bind(s.guaranteed_gmv_minor)
        .bind(s.return_cap_bps.map(|v| v as i64))
        .bind(s.created_by.0)
        .bind(s.created_at.0)
        .fetch_one(self.pool())
        .await
        .map_err(|e| classify(e, "slot", "show, host, brand or product"))?;
        slot_from(&r)
    }

    async fn slot(&self, id: i64) -> Result<Option<Slot>> {
        let r = sqlx::query(&format!("SELECT {SLOT_COLS} FROM slots WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        r.as_ref().map(slot_from).transpose()
    }

    async fn slots_of_show(&self, show: ShowId) -> Result<Vec<Slot>> {
        let rows = sqlx::query(&format!(
            "SELECT {SLOT_COLS} FROM slots WHERE show_id = $1 ORDER BY id"
        ))
        .bind(show.0)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(slot_from).collect()
    }

    async fn slots_of_brand(&self, brand: i64, limit: i64) -> Result<Vec<Slot>> {
        let rows = sqlx::query(&format!(
            "SELECT {SLOT_COLS} FROM slots WHERE brand_org_id = $1 ORDER BY id DESC LIMIT $2"
        ))
        .bind(brand)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(slot_from).collect()
    }

    async fn set_slot_state(&self, id: i64, from: &str, to: &str) -> Result<bool> {
        let r = sqlx::query("UPDATE slots SET state = $1 WHERE id = $2 AND state = $3")
            .bind(to)
            .bind(id)
            .bind(from)
            .execute(self.pool())
            .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn slot_sales(&self, show: ShowId, product: i64) -> Result<Vec<SlotSale>> {
        let rows = sqlx::query(
            "SELECT o.id, o.state, o.created_at, i.quantity * i.unit_price_minor FROM orders o JOIN order_items i ON i.order_id = o.id \
             WHERE o.show_id = $1 AND i.product_id = $2 \
             AND EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id AND p.state IN ('succeeded', 'refunded')) ORDER BY o.id",
        )
        .bind(show.0)
        .bind(product)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SlotSale {
                    order: r.try_get(0)?,
                    state: r.try_get(1)?,
                    created_at: UnixMillis(r.try_get(2)?),
                    amount_minor: r.try_get(3)?,
                })
            })
            .collect()
    }
}
