//! After the sale: the seller's and the buyer's steps on an order (ship, deliver, cancel,
//! returns, refunds), each checked by the order rules, and the platform's refunds.

use super::*;

impl Shop {
    pub(super) async fn move_order(
        &self,
        o: &Order,
        t: Transition,
        actor: ActorKind,
        who: &Account,
        note: &str,
        fields: TransitionFields,
    ) -> Result<Order, ShopError> {
        let to = next_state(o.state, t, actor)?;
        self.store
            .transition_order(
                o.id,
                o.state,
                to,
                actor,
                Some(who.id),
                note,
                &fields,
                UnixMillis::now(),
            )
            .await?;
        if matches!(to, OrderState::Cancelled | OrderState::Expired) {
            if let Some(sale) = o.flash_sale {
                self.engine.release(sale, o.buyer, o.id).await;
            }
        }
        self.store
            .order(o.id)
            .await?
            .ok_or(ShopError::NotFound("order"))
    }

    pub(super) async fn refund_payment(&self, o: &Order) -> Result<(), ShopError> {
        let now = UnixMillis::now();
        for p in self
            .store
            .payments_of_order(o.id)
            .await?
            .into_iter()
            .filter(|p| p.state == "succeeded")
        {
            self.provider
                .refund(&p.provider_ref, Money::new(p.amount_minor, p.currency))
                .await?;
            self.store
                .set_payment_state(p.id, "succeeded", "refunded", now)
                .await?;
        }
        Ok(())
    }

    /// Ops refunds an order after an upheld complaint: a paid order is cancelled with its
    /// payment refunded; a returned one refunded; later states follow the order rules (a
    /// shipped order must come back first).
    pub async fn refund_by_platform(
        &self,
        order: OrderId,
        ops: &Account,
        note: &str,
    ) -> Result<Order, ShopError> {
        if ops.role != Role::PlatformAdmin {
            return Err(ShopError::Forbidden("only ops refund on a complaint"));
        }
        let o = self
            .store
            .order(order)
            .await?
            .ok_or(ShopError::NotFound("order"))?;
        let action = if o.state == OrderState::Paid {
            MerchantAction::Cancel {
                reason: format!("complaint upheld: {note}"),
            }
        } else {
            MerchantAction::Refund
        };
        self.merchant(ops, order, action).await
    }

    pub async fn merchant(
        &self,
        who: &Account,
        order: OrderId,
        action: MerchantAction,
    ) -> Result<Order, ShopError> {
        let o = self
            .store
            .order(order)
            .await?
            .ok_or(ShopError::NotFound("order"))?;
        let role = match self.role_in(who, o.org).await? {
            Some(r) => r,
            // The buyer knows the order; to anyone else it does not exist.
            None if o.buyer == who.id => {
                return Err(ShopError::Forbidden(
                    "only the seller's staff fulfil orders",
                ))
            }
            None => return Err(ShopError::NotFound("order")),
        };
        if !role.fulfils() {
            return Err(ShopError::Forbidden(
                "your role in this shop does not include fulfilment",
            ));
        }
        let actor = if who.role == Role::PlatformAdmin {
            ActorKind::Platform
        } else {
            ActorKind::Merchant
        };
        if matches!(
            action,
            MerchantAction::ApproveReturn | MerchantAction::RejectReturn { .. }
        ) && self.claim_under_way(o.id).await?
        {
            return Err(invalid(
                "order",
                "a defect claim is under way on this order: answer the claim instead",
            ));
        }
        match action {
            MerchantAction::Ship { carrier, tracking } => {
                if carrier.trim().is_empty()
                    || tracking.trim().is_empty()
                    || carrier.len() > 100
                    || tracking.len() > 100
                {
                    return Err(invalid(
                        "tracking",
                        "carrier and tracking number are required",
                    ));
                }
                self.move_order(
                    &o,
                    Transition::Ship,
                    actor,
                    who,
                    "",
                    TransitionFields {
                        carrier: Some(carrier),
                        tracking: Some(tracking),
                        ..Default::default()
                    },
                )
                .await
            }
            MerchantAction::Deliver => {
                self.move_order(
                    &o,
                    Transition::Deliver,
                    actor,
                    who,
                    "",
                    TransitionFields {
                        delivered_at: Some(UnixMillis::now()),
                        ..Default::default()
                    },
                )
                .await
            }
            MerchantAction::Cancel { reason } => {
                let paid = o.state == OrderState::Paid;
                let out = self
                    .move_order(
                        &o,
                        Transition::Cancel,
                        actor,
                        who,
                        &reason,
                        TransitionFields::default(),
                    )
                    .await?;
                if paid {
                    self.refund_payment(&o).await?;
                }
                Ok(out)
            }
            MerchantAction::ApproveReturn => {
                self.move_order(
                    &o,
                    Transition::ApproveReturn,
                    actor,
                    who,
                    "",
                    TransitionFields::default(),
                )
                .await
            }
            MerchantAction::RejectReturn { reason } => {
                self.move_order(
                    &o,
                    Transition::RejectReturn,
                    actor,
                    who,
                    &reason,
                    TransitionFields::default(),
                )
                .await
            }
            MerchantAction::ReceiveReturn => {
                self.move_order(
                    &o,
                    Transition::ReceiveReturn,
                    actor,
                    who,
                    "",
                    TransitionFields::default(),
                )
                .await
            }
            MerchantAction::Refund => {
                next_state(o.state, Transition::Refund, actor)?;
                self.refund_payment(&o).await?;
                self.move_order(
                    &o,
                    Transition::Refund,
                    actor,
                    who,
                    "",
                    TransitionFields::default(),
                )
                .await
            }
        }
    }

    pub async fn buyer(
        &self,
        who: &Account,
        order: OrderId,
        action: BuyerAction,
    ) -> Result<Order, ShopError> {
        let o = self
            .store
            .order(order)
            .await?
            .ok_or(ShopError::NotFound("order"))?;
        if o.buyer != who.id {
            return Err(ShopError::NotFound("order"));
        }
        match action {
            BuyerAction::Cancel => {
                let paid = o.state == OrderState::Paid;
                let out = self
                    .move_order(
                        &o,
                        Transition::Cancel,
                        ActorKind::Buyer,
                        who,
                        "cancelled by the buyer",
                        TransitionFields::default(),
                    )
                    .await?;
                if paid {
                    self.refund_payment(&o).await?;
                }
                Ok(out)
            }
            BuyerAction::ConfirmDelivery => {
                self.move_order(
                    &o,
                    Transition::Deliver,
                    ActorKind::Buyer,
                    who,
                    "",
                    TransitionFields {
                        delivered_at: Some(UnixMillis::now()),
                        ..Default::default()
                    },
                )
                .await
            }
            BuyerAction::RequestReturn { reason } => {
                let items = self.store.order_items(o.id).await?;
                let class = items
                    .iter()
                    .map(|i| i.return_class)
                    .find(|c| c.is_exception())
                    .unwrap_or(ReturnClass::Normal);
                let delivered = o
                    .delivered_at
                    .ok_or_else(|| invalid("order", "not delivered yet"))?;
                self.cfg
                    .law
                    .may_return(class, false, delivered.0, UnixMillis::now().0)?;
                let reason = if reason.trim().is_empty() {
                    "no reason needed".to_string()
                } else {
                    reason.chars().take(500).collect()
                };
                self.move_order(
                    &o,
                    Transition::RequestReturn,
                    ActorKind::Buyer,
                    who,
                    &reason,
                    TransitionFields {
                        return_reason: Some(reason.clone()),
                        ..Default::default()
                    },
                )
                .await
            }
        }
    }
}
