//! Coupon campaigns: created, listed, paused, resumed and ended by their issuer (an
//! organisation's catalog managers, or platform admins for the platform's own). Redemption is
//! part of checkout; a cancelled or expired order gives its coupon back in storage, in the
//! same transaction as its state change.

use super::{invalid, Shop, ShopError};
use hawker_commerce::coupon::{Coupon, CouponScope, Discount};
use hawker_commerce::org::OrgRole;
use hawker_domain::{Account, Currency, Role, UnixMillis};
use hawker_storage::shop::{CouponListing, CouponRow};

/// A campaign as its issuer asks for it.
#[derive(Debug, Clone)]
pub struct NewCoupon {
    pub code: String,
    pub discount: Discount,
    pub currency: Currency,
    pub min_spend_minor: i64,
    pub per_user_limit: i64,
    pub budget_minor: i64,
    pub scope: CouponScope,
    /// For stream coupons: the channel whose shows it works in.
    pub channel: Option<i64>,
    pub valid_from_ms: i64,
    pub valid_to_ms: i64,
}

/// What an issuer does to a running campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CouponAction {
    Pause,
    Resume,
    /// Closes the window now; an ended coupon is never valid again.
    End,
}

impl Shop {
    /// `issuer`: the organisation, or `None` for a platform coupon (platform admins only).
    pub async fn create_coupon(
        &self,
        who: &Account,
        issuer: Option<i64>,
        c: NewCoupon,
        now: UnixMillis,
    ) -> Result<CouponRow, ShopError> {
        self.may_issue(who, issuer).await?;
        let code = c.code.trim().to_uppercase();
        if !(3..=40).contains(&code.len())
            || !code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(invalid("code", "3 to 40 letters, digits or dashes"));
        }
        match c.discount {
            Discount::Fixed { minor } if minor <= 0 => {
                return Err(invalid("discount", "above zero"))
            }
            Discount::Percent { basis_points } if !(1..=9_000).contains(&basis_points) => {
                return Err(invalid("discount", "0.01% to 90%"))
            }
            _ => {}
        }
        if c.budget_minor <= 0 {
            return Err(invalid("budget_minor", "above zero"));
        }
        if c.per_user_limit < 1 {
            return Err(invalid("per_user_limit", "at least 1"));
        }
        if c.min_spend_minor < 0 {
            return Err(invalid("min_spend_minor", "zero or more"));
        }
        if c.valid_to_ms <= c.valid_from_ms {
            return Err(invalid("valid_to", "after valid_from"));
        }
        self.store
            .create_coupon(
                &Coupon {
                    code,
                    discount: c.discount,
                    currency: c.currency,
                    min_spend_minor: c.min_spend_minor,
                    per_user_limit: c.per_user_limit,
                    budget_minor: c.budget_minor,
                    spent_minor: 0,
                    scope: c.scope,
                    issuer_org: issuer,
                    channel: c.channel,
                    valid_from_ms: c.valid_from_ms,
                    valid_to_ms: c.valid_to_ms,
                    paused: false,
                },
                now,
            )
            .await
            .map_err(|e| match e {
                hawker_storage::StorageError::Conflict { .. } => {
                    ShopError::Taken("a coupon with this code exists")
                }
                e => e.into(),
            })
    }

    /// The organisation's campaigns with what each has given and how often it was used.
    pub async fn coupons(&self, who: &Account, org: i64) -> Result<Vec<CouponListing>, ShopError> {
        self.may_issue(who, Some(org)).await?;
        Ok(self.store.coupons_of_org(org).await?)
    }

    pub async fn change_coupon(
        &self,
        who: &Account,
        org: i64,
        id: i64,
        action: CouponAction,
        now: UnixMillis,
    ) -> Result<CouponRow, ShopError> {
        self.may_issue(who, Some(org)).await?;
        let c = self
            .store
            .coupon(id)
            .await?
            .filter(|c| c.coupon.issuer_org == Some(org))
            .ok_or(ShopError::NotFound("coupon"))?;
        match action {
            CouponAction::Pause | CouponAction::Resume => {
                if now.0 >= c.coupon.valid_to_ms {
                    return Err(invalid("coupon", "it has ended"));
                }
                self.store
                    .set_coupon_paused(id, action == CouponAction::Pause)
                    .await?
            }
            CouponAction::End => self.store.end_coupon(id, now).await?,
        }
        self.store
            .coupon(id)
            .await?
            .ok_or(ShopError::NotFound("coupon"))
    }

    async fn may_issue(&self, who: &Account, issuer: Option<i64>) -> Result<(), ShopError> {
        match issuer {
            Some(org) => self
                .staff(who, org, OrgRole::manages_catalog)
                .await
                .map(|_| ()),
            None if who.role == Role::PlatformAdmin => Ok(()),
            None => Err(ShopError::Forbidden(
                "only platform admins issue platform coupons",
            )),
        }
    }
}
