//! Payments and the provider's webhook events (each applied once).

use super::*;

#[async_trait]
pub trait PaymentStore: Send + Sync {
    async fn create_payment(
        &self,
        order: OrderId,
        provider: &str,
        provider_ref: &str,
        amount_minor: i64,
        currency: Currency,
        now: UnixMillis,
    ) -> Result<Payment>;
    async fn payment_by_ref(&self, provider: &str, provider_ref: &str) -> Result<Option<Payment>>;
    async fn payments_of_order(&self, order: OrderId) -> Result<Vec<Payment>>;
    /// Compare-and-set on the payment's state.
    async fn set_payment_state(
        &self,
        id: i64,
        from: &str,
        to: &str,
        now: UnixMillis,
    ) -> Result<bool>;
    async fn pending_payments(&self, older_than: UnixMillis, limit: i64) -> Result<Vec<Payment>>;
    /// True the first time an event id is seen.
    async fn first_webhook(&self, provider: &str, event_id: &str, now: UnixMillis) -> Result<bool>;
}

#[async_trait]
impl PaymentStore for SqlStore {
    async fn create_payment(
        &self,
        order: OrderId,
        provider: &str,
        provider_ref: &str,
        amount_minor: i64,
        currency: Currency,
        now: UnixMillis,
    ) -> Result<Payment> {
        self.materialise_order(order).await?;
        let r = sqlx::query("INSERT INTO payments (order_id, provider, provider_ref, state, amount_minor, currency, created_at, updated_at) VALUES ($1, $2, $3, 'pending', $4, $5, $6, $6) RETURNING id")
            .bind(order)
            .bind(provider)
            .bind(provider_ref)
            .bind(amount_minor)
            .bind(currency.as_str().to_string())
            .bind(now.0)
            .fetch_one(self.pool())
            .await
            .map_err(|e| classify(e, "payment", "order"))?;
        Ok(Payment {
            id: r.try_get(0)?,
            order,
            provider: provider.into(),
            provider_ref: provider_ref.into(),
            state: "pending".into(),
            amount_minor,
            currency,
            created_at: now,
            updated_at: now,
        })
    }

    async fn payment_by_ref(&self, provider: &str, provider_ref: &str) -> Result<Option<Payment>> {
        let r = sqlx::query(&format!(
            "SELECT {PAYMENT_COLS} FROM payments WHERE provider = $1 AND provider_ref = $2"
        ))
        .bind(provider)
        .bind(provider_ref)
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(payment_from).transpose()
    }

    async fn payments_of_order(&self, order: OrderId) -> Result<Vec<Payment>> {
        let rows = sqlx::query(&format!(
            "SELECT {PAYMENT_COLS} FROM payments WHERE order_id = $1 ORDER BY id"
        ))
        .bind(order)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(payment_from).collect()
    }

    async fn set_payment_state(
        &self,
        id: i64,
        from: &str,
        to: &str,
        now: UnixMillis,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE payments SET state = $1, updated_at = $2 WHERE id = $3 AND state = $4",
        )
        .bind(to)
        .bind(now.0)
        .bind(id)
        .bind(from)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn pending_payments(&self, older_than: UnixMillis, limit: i64) -> Result<Vec<Payment>> {
        let rows = sqlx::query(&format!("SELECT {PAYMENT_COLS} FROM payments WHERE state = 'pending' AND updated_at <= $1 ORDER BY updated_at LIMIT $2")).bind(older_than.0).bind(limit).fetch_all(self.pool()).await?;
        rows.iter().map(payment_from).collect()
    }

    async fn first_webhook(&self, provider: &str, event_id: &str, now: UnixMillis) -> Result<bool> {
        let r = sqlx::query("INSERT INTO webhook_events (provider, event_id, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING").bind(provider).bind(event_id).bind(now.0).execute(self.pool()).await?;
        Ok(r.rows_affected() == 1)
    }
}
