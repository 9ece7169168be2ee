//! Payments and top-ups through the provider, its signed webhooks, reconciliation, and the
//! order timers (reservations that expire, deliveries that complete).

use super::*;

impl Shop {
    pub async fn pay(
        &self,
        buyer: &Account,
        order: OrderId,
        card: &str,
    ) -> Result<hawker_storage::shop::Payment, ShopError> {
        self.may_pay_with(card).await?;
        let o = self
            .store
            .order(order)
            .await?
            .ok_or(ShopError::NotFound("order"))?;
        if o.buyer != buyer.id {
            return Err(ShopError::NotFound("order")); // someone else's order does not exist for you
        }
        if o.state != OrderState::Created {
            return Err(invalid(
                "order",
                format!("a {} order cannot be paid", o.state.as_str()),
            ));
        }
        if let Some(p) = self
            .store
            .payments_of_order(order)
            .await?
            .into_iter()
            .find(|p| p.state == "pending" || p.state == "succeeded")
        {
            return Ok(p); // paying twice starts nothing new
        }
        let amount = Money::new(o.total_minor, o.currency);
        let r = self.provider.authorise(o.id, amount, card).await?;
        Ok(self
            .store
            .create_payment(
                o.id,
                self.provider.name(),
                &r,
                o.total_minor,
                o.currency,
                UnixMillis::now(),
            )
            .await?)
    }

    /// A provider webhook: verified, de-duplicated, applied.
    pub async fn webhook(&self, signature: Option<&str>, body: &[u8]) -> Result<(), ShopError> {
        let now = UnixMillis::now();
        let ev = self
            .provider
            .verify_webhook(signature, body, now.0 / 1000)?;
        if !self
            .store
            .first_webhook(self.provider.name(), &ev.id, now)
            .await?
        {
            metrics::counter!("hawker_webhook_duplicates_total").increment(1);
            return Ok(()); // delivered before: already applied
        }
        self.apply_payment(&ev.payment_ref, ev.status).await
    }

    pub(super) async fn apply_payment(
        &self,
        payment_ref: &str,
        status: PaymentStatus,
    ) -> Result<(), ShopError> {
        let now = UnixMillis::now();
        let Some(p) = self
            .store
            .payment_by_ref(self.provider.name(), payment_ref)
            .await?
        else {
            if let Some(t) = self
                .store
                .topup_by_ref(self.provider.name(), payment_ref)
                .await?
            {
                return self.apply_topup(t, status).await;
            }
            return Err(ShopError::NotFound("payment"));
        };
        match status {
            PaymentStatus::Succeeded => {
                if !self
                    .store
                    .set_payment_state(p.id, "pending", "succeeded", now)
                    .await?
                {
                    return Ok(()); // already applied (webhook and reconciliation raced)
                }
                self.provider.capture(payment_ref).await?;
                let o = self
                    .store
                    .order(p.order)
                    .await?
                    .ok_or(ShopError::NotFound("order"))?;
                match self
                    .store
                    .transition_order(
                        o.id,
                        OrderState::Created,
                        OrderState::Paid,
                        ActorKind::Payments,
                        None,
                        self.provider.name(),
                        &TransitionFields::default(),
                        now,
                    )
                    .await
                {
                    Ok(()) => {
                        if let Some(o) = self.store.order(o.id).await? {
                            self.events.order_paid(&o);
                        }
                    }
                    Err(StorageError::Conflict { .. }) => {
                        // Money arrived for an order that expired or was cancelled meanwhile:
                        // it goes straight back.
                        tracing::warn!(
                            order = o.id,
                            state = o.state.as_str(),
                            "late payment refunded"
                        );
                        self.provider
                            .refund(payment_ref, Money::new(p.amount_minor, p.currency))
                            .await?;
                        self.store
                            .set_payment_state(p.id, "succeeded", "refunded", now)
                            .await?;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            PaymentStatus::Failed => {
                self.store
                    .set_payment_state(p.id, "pending", "failed", now)
                    .await?;
            }
            PaymentStatus::Pending | PaymentStatus::Refunded => {}
        }
        Ok(())
    }

    /// Payments whose webhook never came: ask the provider.
    /// Buys coins: the payment goes through the provider; the coins reach the wallet when it
    /// succeeds (webhook, or reconciliation when the webhook never comes).
    pub async fn top_up(
        &self,
        buyer: &Account,
        coins: i64,
        card: &str,
    ) -> Result<hawker_storage::gifts::TopUp, ShopError> {
        let g = &self.books.config().gifts;
        if !(1..=g.max_topup_coins).contains(&coins) {
            return Err(invalid(
                "coins",
                format!("1 to {} coins per top-up", g.max_topup_coins),
            ));
        }
        let amount = self
            .books
            .coin_value(coins)
            .ok_or_else(|| invalid("coins", "too many"))?;
        let t = self
            .store
            .create_topup(
                buyer.id,
                coins,
                amount,
                g.currency,
                self.provider.name(),
                UnixMillis::now(),
            )
            .await?;
        // Top-ups and orders share the provider's reference space: a top-up's reference says so.
        let r = self
            .provider
            .authorise(-t.id, Money::new(amount, g.currency), card)
            .await?;
        self.store.set_topup_ref(t.id, &r).await?;
        Ok(hawker_storage::gifts::TopUp {
            provider_ref: Some(r),
            ..t
        })
    }

    pub(super) async fn apply_topup(
        &self,
        t: hawker_storage::gifts::TopUp,
        status: PaymentStatus,
    ) -> Result<(), ShopError> {
        let now = UnixMillis::now();
        match status {
            PaymentStatus::Succeeded => {
                let moved = self
                    .store
                    .set_topup_state(t.id, "pending", "succeeded", now)
                    .await?;
                if moved {
                    if let Some(r) = &t.provider_ref {
                        self.provider.capture(r).await?;
                    }
                }
                if moved || t.state == "succeeded" {
                    // Exactly once by its posting key, whoever gets here first.
                    self.books.book_topup(&t).await?;
                }
            }
            PaymentStatus::Failed => {
                self.store
                    .set_topup_state(t.id, "pending", "failed", now)
                    .await?;
            }
            PaymentStatus::Pending | PaymentStatus::Refunded => {}
        }
        Ok(())
    }

    pub async fn reconcile(&self, older_than: Duration) -> Result<usize, ShopError> {
        let cutoff = UnixMillis::now().plus_ms(-(older_than.as_millis() as i64));
        let mut n = 0;
        for t in self.store.topups_pending(cutoff, 500).await? {
            let Some(r) = t.provider_ref.clone() else {
                continue;
            };
            let status = match self.provider.status(&r).await {
                Ok(s) => s,
                Err(PaymentError::Unknown(_)) => PaymentStatus::Failed,
                Err(e) => return Err(e.into()),
            };
            if status != PaymentStatus::Pending {
                self.apply_topup(t, status).await?;
                n += 1;
            }
        }
        for p in self.store.pending_payments(cutoff, 500).await? {
            let status = match self.provider.status(&p.provider_ref).await {
                Ok(s) => s,
                // The provider does not know it (lost before it reached them): it failed.
                Err(PaymentError::Unknown(_)) => PaymentStatus::Failed,
                Err(e) => return Err(e.into()),
            };
            if status != PaymentStatus::Pending {
                self.apply_payment(&p.provider_ref, status).await?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Unpaid orders past their reservation: expired, stock back where it came from.
    pub async fn expire_due(&self) -> Result<usize, ShopError> {
        let now = UnixMillis::now();
        let mut n = 0;
        for o in self.store.expired_reservations(now, 1000).await? {
            match self
                .store
                .transition_order(
                    o.id,
                    OrderState::Created,
                    OrderState::Expired,
                    ActorKind::System,
                    None,
                    "not paid in time",
                    &TransitionFields::default(),
                    now,
                )
                .await
            {
                Ok(()) => {
                    if let Some(sale) = o.flash_sale {
                        self.engine.release(sale, o.buyer, o.id).await;
                    }
                    n += 1;
                }
                Err(StorageError::Conflict { .. }) => {} // paid at the last moment
                Err(e) => return Err(e.into()),
            }
        }
        Ok(n)
    }

    /// Delivered orders whose return window has closed are complete.
    pub async fn complete_due(&self, orders: &[Order]) -> Result<usize, ShopError> {
        let now = UnixMillis::now();
        let mut n = 0;
        for o in orders.iter().filter(|o| o.state == OrderState::Delivered) {
            if let Some(d) = o.delivered_at {
                if now.0 > self.cfg.law.return_deadline(d.0) {
                    self.store
                        .transition_order(
                            o.id,
                            OrderState::Delivered,
                            OrderState::Completed,
                            ActorKind::System,
                            None,
                            "return window closed",
                            &TransitionFields::default(),
                            now,
                        )
                        .await?;
                    n += 1;
                }
            }
        }
        Ok(n)
    }
}
