//! An order's life:
//!
//! ```text
//! created ─pay─▶ paid ─ship─▶ shipped ─deliver─▶ delivered ─complete─▶ completed
//!    │             │                                 │
//!    ├─expire─▶ expired                              └─request return─▶ return_requested
//!    └─cancel─▶ cancelled ◀─cancel (before shipping)      ├─reject─▶ delivered
//!                                                         └─approve─▶ return_approved
//!                                                                 ─receive─▶ return_received
//!                                                                 ─refund─▶ refunded
//! ```
//! Every transition is made by an actor (buyer, merchant staff, the platform's jobs, the
//! payment provider) and recorded with the time.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderState {
    /// Placed (stock reserved), awaiting payment.
    Created,
    Paid,
    Shipped,
    Delivered,
    Completed,
    Cancelled,
    /// Not paid in time: the reservation is released.
    Expired,
    ReturnRequested,
    ReturnApproved,
    ReturnReceived,
    Refunded,
}

impl OrderState {
    pub const ALL: [OrderState; 11] = [
        OrderState::Created,
        OrderState::Paid,
        OrderState::Shipped,
        OrderState::Delivered,
        OrderState::Completed,
        OrderState::Cancelled,
        OrderState::Expired,
        OrderState::ReturnRequested,
        OrderState::ReturnApproved,
        OrderState::ReturnReceived,
        OrderState::Refunded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderState::Created => "created",
            OrderState::Paid => "paid",
            OrderState::Shipped => "shipped",
            OrderState::Delivered => "delivered",
            OrderState::Completed => "completed",
            OrderState::Cancelled => "cancelled",
            OrderState::Expired => "expired",
            OrderState::ReturnRequested => "return_requested",
            OrderState::ReturnApproved => "return_approved",
            OrderState::ReturnReceived => "return_received",
            OrderState::Refunded => "refunded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        OrderState::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// Does the order still hold its stock?
    pub fn holds_stock(self) -> bool {
        !matches!(
            self,
            OrderState::Cancelled | OrderState::Expired | OrderState::Refunded
        )
    }

    /// Counted as a sale (valid GMV subtracts cancels and returns).
    pub fn is_sale(self) -> bool {
        matches!(
            self,
            OrderState::Paid
                | OrderState::Shipped
                | OrderState::Delivered
                | OrderState::Completed
                | OrderState::ReturnRequested
        )
    }
}

/// Who moves an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    Buyer,
    /// Staff of the selling organisation with the right role.
    Merchant,
    /// The payment provider, through a verified webhook or reconciliation.
    Payments,
    /// Timers: reservation expiry, return windows.
    System,
    /// Platform operators.
    Platform,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    Pay,
    Ship,
    Deliver,
    Complete,
    Cancel,
    Expire,
    RequestReturn,
    ApproveReturn,
    RejectReturn,
    ReceiveReturn,
    Refund,
    /// A defect claim accepted or upheld without the goods coming back.
    RefundWithoutReturn,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    #[error("a {from} order cannot be {action}")]
    NotAllowed {
        from: &'static str,
        action: &'static str,
    },
    #[error("{0} may not do this")]
    WrongActor(&'static str),
}

impl Transition {
    pub fn as_str(self) -> &'static str {
        match self {
            Transition::Pay => "paid",
            Transition::Ship => "shipped",
            Transition::Deliver => "delivered",
            Transition::Complete => "completed",
            Transition::Cancel => "cancelled",
            Transition::Expire => "expired",
            Transition::RequestReturn => "returned",
            Transition::ApproveReturn => "approved for return",
            Transition::RejectReturn => "refused a return",
            Transition::ReceiveReturn => "received back",
            Transition::Refund => "refunded",
            Transition::RefundWithoutReturn => "refunded without a return",
        }
    }

    fn actors(self) -> &'static [ActorKind] {
        use ActorKind::*;
        match self {
            Transition::Pay => &[Payments],
            Transition::Ship => &[Merchant, Platform],
            Transition::Deliver => &[Merchant, Buyer, Platform],
            Transition::Complete => &[System, Buyer, Platform],
            Transition::Cancel => &[Buyer, Merchant, Platform],
            Transition::Expire => &[System],
            Transition::RequestReturn => &[Buyer, Platform],
            Transition::ApproveReturn | Transition::RejectReturn | Transition::ReceiveReturn => {
                &[Merchant, Platform]
            }
            Transition::Refund => &[Merchant, Platform, System],
            Transition::RefundWithoutReturn => &[Merchant, Platform],
        }
    }
}

/// The state after `t` from `from` by `actor`, or why not.
pub fn next_state(
    from: OrderState,
    t: Transition,
    actor: ActorKind,
) -> Result<OrderState, OrderError> {
    use OrderState::*;
    if !t.actors().contains(&actor) {
        return Err(OrderError::WrongActor(match actor {
            ActorKind::Buyer => "the buyer",
            ActorKind::Merchant => "the merchant",
            ActorKind::Payments => "the payment provider",
            ActorKind::System => "the system",
            ActorKind::Platform => "the platform",
        }));
    }
    let to = match (from, t) {
        (Created, Transition::Pay) => Paid,
        (Created, Transition::Cancel) => Cancelled,
        (Created, Transition::Expire) => Expired,
        (Paid, Transition::Cancel) => Cancelled,
        (Paid, Transition::Ship) => Shipped,
        (Shipped, Transition::Deliver) => Delivered,
        (Delivered, Transition::Complete) => Completed,
        (Delivered, Transition::RequestReturn) => ReturnRequested,
        (ReturnRequested, Transition::ApproveReturn) => ReturnApproved,
        (ReturnRequested, Transition::RejectReturn) => Delivered,
        (ReturnApproved, Transition::ReceiveReturn) => ReturnReceived,
        (ReturnReceived, Transition::Refund) => Refunded,
        (ReturnRequested, Transition::RefundWithoutReturn) => Refunded,
        _ => {
            return Err(OrderError::NotAllowed {
                from: from.as_str(),
                action: t.as_str(),
            })
        }
    };
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ActorKind::*;

    #[test]
    fn the_happy_path_and_the_return_path() {
        let mut s = OrderState::Created;
        for (t, a) in [
            (Transition::Pay, Payments),
            (Transition::Ship, Merchant),
            (Transition::Deliver, Buyer),
            (Transition::RequestReturn, Buyer),
            (Transition::ApproveReturn, Merchant),
            (Transition::ReceiveReturn, Merchant),
            (Transition::Refund, Merchant),
        ] {
            s = next_state(s, t, a).unwrap();
        }
        assert_eq!(s, OrderState::Refunded);
    }

    #[test]
    fn refusals() {
        assert!(
            next_state(OrderState::Shipped, Transition::Cancel, Buyer).is_err(),
            "no cancel after shipping"
        );
        assert!(
            next_state(OrderState::Created, Transition::Pay, Buyer).is_err(),
            "only the provider confirms payment"
        );
        assert!(
            next_state(OrderState::Created, Transition::Ship, Merchant).is_err(),
            "no shipping before payment"
        );
        assert!(
            next_state(OrderState::Paid, Transition::Expire, System).is_err(),
            "paid orders do not expire"
        );
        assert!(next_state(OrderState::Delivered, Transition::ApproveReturn, Merchant).is_err());
        assert!(next_state(
            OrderState::ReturnRequested,
            Transition::ApproveReturn,
            Buyer
        )
        .is_err());
    }

    #[test]
    fn names_round_trip() {
        for s in OrderState::ALL {
            assert_eq!(OrderState::parse(s.as_str()), Some(s));
        }
    }
}
