//! Coupons and campaigns: what a coupon takes off an order, and when it may not be used.

use hawker_domain::{Money, MoneyError};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Discount {
    /// A fixed amount off, in minor units of the coupon's currency.
    Fixed { minor: i64 },
    /// A share off, in basis points (1,000 = 10 %).
    Percent { basis_points: i64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CouponScope {
    /// Only for orders placed from a live stream of the issuing channel.
    Stream,
    /// Anywhere in the issuer's shop.
    Store,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coupon {
    pub code: String,
    pub discount: Discount,
    pub currency: hawker_domain::Currency,
    pub min_spend_minor: i64,
    /// Times one account may use it.
    pub per_user_limit: i64,
    /// Total discount the campaign may give; `spent` counts what it has given.
    pub budget_minor: i64,
    pub spent_minor: i64,
    pub scope: CouponScope,
    /// `None`: the platform's coupon (any organisation); else the issuing organisation.
    pub issuer_org: Option<i64>,
    /// For stream coupons: the channel whose streams it works in.
    pub channel: Option<i64>,
    pub valid_from_ms: i64,
    pub valid_to_ms: i64,
    /// Paused by its issuer: refused until resumed (ending a coupon closes its window).
    pub paused: bool,
}

/// Where the order is being placed.
#[derive(Debug, Clone, Copy)]
pub struct CouponContext {
    pub now_ms: i64,
    pub org: i64,
    /// The channel whose live show the order comes from, if any.
    pub from_stream_of: Option<i64>,
    /// Times this account has used the coupon.
    pub used_by_buyer: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CouponError {
    #[error("the coupon is not valid now")]
    NotValidNow,
    #[error("the coupon is paused by its issuer")]
    Paused,
    #[error("the coupon is another seller's: it works only on that seller's products")]
    OtherSeller,
    #[error("the coupon needs a spend of at least {0}")]
    BelowMinimum(String),
    #[error("you have used this coupon as often as allowed")]
    UsedUp,
    #[error("the campaign's budget is spent")]
    BudgetSpent,
    #[error("the coupon is not for this shop or stream")]
    WrongPlace,
    #[error("the coupon is in another currency")]
    Currency,
    #[error(transparent)]
    Money(#[from] MoneyError),
}

impl Coupon {
    /// The discount on `subtotal`, capped by the order and by what is left of the budget.
    pub fn discount_for(&self, subtotal: Money, ctx: &CouponContext) -> Result<Money, CouponError> {
        // Whose coupon it is comes first: another seller's coupon is refused as such, whatever
        // its currency or window.
        if let Some(org) = self.issuer_org {
            if org != ctx.org {
                return Err(CouponError::OtherSeller);
            }
        }
        if self.paused {
            return Err(CouponError::Paused);
        }
        if ctx.now_ms < self.valid_from_ms || ctx.now_ms >= self.valid_to_ms {
            return Err(CouponError::NotValidNow);
        }
        if subtotal.currency != self.currency {
            return Err(CouponError::Currency);
        }
        if self.scope == CouponScope::Stream
            && (ctx.from_stream_of.is_none()
                || (self.channel.is_some() && self.channel != ctx.from_stream_of))
        {
            return Err(CouponError::WrongPlace);
        }
        if subtotal.minor < self.min_spend_minor {
            return Err(CouponError::BelowMinimum(
                Money::new(self.min_spend_minor, self.currency).to_string(),
            ));
        }
        if ctx.used_by_buyer >= self.per_user_limit {
            return Err(CouponError::UsedUp);
        }
        let left = self.budget_minor - self.spent_minor;
        if left <= 0 {
            return Err(CouponError::BudgetSpent);
        }
        let raw = match self.discount {
            Discount::Fixed { minor } => Money::new(minor, self.currency),
            Discount::Percent { basis_points } => subtotal.percent_bp(basis_points)?,
        };
        Ok(Money::new(
            raw.minor.clamp(0, subtotal.minor).min(left),
            self.currency,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hawker_domain::Currency;

    fn coupon() -> Coupon {
        Coupon {
            code: "PEACH10".into(),
            discount: Discount::Percent {
                basis_points: 1_000,
            },
            currency: Currency::CNY,
            min_spend_minor: 5_000,
            per_user_limit: 1,
            budget_minor: 100_000,
            spent_minor: 0,
            scope: CouponScope::Stream,
            issuer_org: Some(1),
            channel: Some(9),
            valid_from_ms: 0,
            valid_to_ms: 1_000,
            paused: false,
        }
    }

    fn ctx() -> CouponContext {
        CouponContext {
            now_ms: 10,
            org: 1,
            from_stream_of: Some(9),
            used_by_buyer: 0,
        }
    }

    #[test]
    fn rules() {
        let c = coupon();
        let cny = |m| Money::new(m, Currency::CNY);
        assert_eq!(c.discount_for(cny(8_000), &ctx()).unwrap().minor, 800);
        assert!(matches!(
            c.discount_for(cny(4_999), &ctx()),
            Err(CouponError::BelowMinimum(_))
        ));
        assert_eq!(
            c.discount_for(
                cny(8_000),
                &CouponContext {
                    now_ms: 1_000,
                    ..ctx()
                }
            ),
            Err(CouponError::NotValidNow)
        );
        assert_eq!(
            c.discount_for(
                cny(8_000),
                &CouponContext {
                    used_by_buyer: 1,
                    ..ctx()
                }
            ),
            Err(CouponError::UsedUp)
        );
        assert_eq!(
            c.discount_for(
                cny(8_000),
                &CouponContext {
                    from_stream_of: None,
                    ..ctx()
                }
            ),
            Err(CouponError::WrongPlace)
        );
        assert_eq!(
            c.discount_for(cny(8_000), &CouponContext { org: 2, ..ctx() }),
            Err(CouponError::OtherSeller)
        );
        // Another seller's coupon in another currency is refused as another seller's.
        assert_eq!(
            c.discount_for(
                Money::new(8_000, Currency::EUR),
                &CouponContext { org: 2, ..ctx() }
            ),
            Err(CouponError::OtherSeller)
        );
        let paused = Coupon {
            paused: true,
            ..coupon()
        };
        assert_eq!(
            paused.discount_for(cny(8_000), &ctx()),
            Err(CouponError::Paused)
        );
        assert_eq!(
            c.discount_for(Money::new(8_000, Currency::EUR), &ctx()),
            Err(CouponError::Currency)
        );
        let nearly_spent = Coupon {
            spent_minor: 99_950,
            ..coupon()
        };
        assert_eq!(
            nearly_spent.discount_for(cny(8_000), &ctx()).unwrap().minor,
            50,
            "capped by the budget left"
        );
        let big = Coupon {
            discount: Discount::Fixed { minor: 1_000_000 },
            ..coupon()
        };
        assert_eq!(
            big.discount_for(cny(8_000), &ctx()).unwrap().minor,
            8_000,
            "never below zero"
        );
    }
}
