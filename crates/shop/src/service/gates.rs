//! The trust rules at the shop's doors, applied by the shop itself so that every caller (the
//! HTTP API, the CLI, a job, a test) meets them: a minor's purchases are capped; a seller past
//! the KYB thresholds without approved data, or whose owner may not sell, sells nothing; a card
//! of a closed account pays for nobody; a host under a feature limit takes no paid slots.

use super::{CheckoutItem, Shop, ShopError};
use crate::guard::TrustRefusal;
use hawker_commerce::org::OrgRole;
use hawker_domain::{Account, ShowId, UnixMillis};
use hawker_storage::shop::FlashSaleId;
use hawker_storage::slots::{NewSlot, Slot};
use hawker_trust::risk::LinkKind;

/// A brand's booking of a paid slot in a host's show.
#[derive(Debug, Clone)]
pub struct NewSlotRequest {
    /// The brand: an organisation the booker owns or manages.
    pub brand: i64,
    /// One of the brand's products.
    pub product: i64,
    pub fee_minor: i64,
    /// Commission for the host on the slot's sales (basis points, 1–8000).
    pub commission_bps: u32,
    pub guaranteed_gmv_minor: Option<i64>,
    pub return_cap_bps: Option<u32>,
}

impl Shop {
    /// Before a checkout: a minor's order is capped (priced at list price here: a coupon only
    /// lowers it); a seller whose owner is suspended or closed, or that owes KYB data, sells
    /// nothing.
    pub(super) async fn may_check_out(
        &self,
        buyer: &Account,
        items: &[CheckoutItem],
    ) -> Result<(), ShopError> {
        let g = &self.guard;
        let now = UnixMillis::now();
        let minor = g.is_minor(buyer.id, now).await?;
        let mut estimate: i64 = 0;
        let mut sellers = std::collections::BTreeSet::new();
        for i in items {
            let sku = self
                .store
                .sku(i.sku)
                .await
                .map_err(ShopError::Storage)?
                .ok_or(ShopError::NotFound("sku"))?;
            estimate = estimate.saturating_add(sku.price_minor.saturating_mul(i.quantity.max(0)));
            if let Some(p) = self
                .store
                .product(sku.product)
                .await
                .map_err(ShopError::Storage)?
            {
                sellers.insert(p.org);
            }
        }
        if minor {
            g.may_buy(buyer.id, estimate, now).await?;
        }
        for org in sellers {
            g.kyb_gate(org, now).await?;
            for m in self.store.members(org).await.map_err(ShopError::Storage)? {
                if m.role == OrgRole::Owner && !g.standing(m.account, now).await?.may_sell() {
                    return Err(TrustRefusal::SellerSuspended.into());
                }
            }
        }
        Ok(())
    }

    /// Before a flash-sale buy: a minor's purchase is capped (minority is answered from memory,
    /// so adults pay nothing for the check on this hot path).
    pub(super) async fn may_buy_from_sale(
        &self,
        buyer: &Account,
        sale: FlashSaleId,
        quantity: i64,
    ) -> Result<(), ShopError> {
        let g = &self.guard;
        if g.is_minor(buyer.id, UnixMillis::now()).await? {
            let sale = self
                .store
                .flash_sale(sale)
                .await
                .map_err(ShopError::Storage)?
                .ok_or(ShopError::NotFound("flash sale"))?;
            g.may_buy(
                buyer.id,
                sale.price_minor.saturating_mul(quantity),
                UnixMillis::now(),
            )
            .await?;
        }
        Ok(())
    }

    /// Before a payment: a closed account's card pays for nobody.
    pub(super) async fn may_pay_with(&self, card: &str) -> Result<(), ShopError> {
        let digits: String = card.chars().filter(char::is_ascii_digit).collect();
        if self
            .guard
            .blacklisted(&[(LinkKind::PaymentInstrument, &digits)])
            .await?
        {
            return Err(TrustRefusal::Blacklisted.into());
        }
        Ok(())
    }

    /// A brand books a paid slot in a host's show: the brand's owner or managers, for one of its
    /// products, with a host in full standing.
    pub async fn book_slot(
        &self,
        who: &Account,
        show: ShowId,
        req: NewSlotRequest,
    ) -> Result<Slot, ShopError> {
        self.staff(who, req.brand, |r| {
            matches!(r, OrgRole::Owner | OrgRole::Manager)
        })
        .await?;
        if req.fee_minor < 0 || !(1..=8_000).contains(&req.commission_bps) {
            return Err(ShopError::InvalidFields(
                "fee_minor at least 0; commission_bps 1 to 8000".into(),
            ));
        }
        if req.guaranteed_gmv_minor.is_some_and(|g| g <= 0)
            || req.return_cap_bps.is_some_and(|c| c > 10_000)
        {
            return Err(ShopError::InvalidFields(
                "guaranteed_gmv_minor above 0; return_cap_bps at most 10000".into(),
            ));
        }
        let (sh, c) = self.show_and_channel(show).await?;
        // A host under a feature limit (or worse) takes no paid slots.
        let standing = self.guard.standing(c.owner, UnixMillis::now()).await?;
        if !standing.full_features() {
            return Err(TrustRefusal::Sanctioned(
                standing.level.map_or("feature_limit", |l| l.as_str()),
            )
            .into());
        }
        let p = self
            .store
            .product(req.product)
            .await
            .map_err(ShopError::Storage)?
            .filter(|p| p.org == req.brand)
            .ok_or(ShopError::NotFound("product of this brand"))?;
        self.store
            .create_slot(&NewSlot {
                show: sh.id,
                host: c.owner,
                brand: req.brand,
                product: p.id,
                fee_minor: req.fee_minor,
                currency: p.currency,
                commission_bps: req.commission_bps,
                guaranteed_gmv_minor: req.guaranteed_gmv_minor,
                return_cap_bps: req.return_cap_bps,
                created_by: who.id,
                created_at: UnixMillis::now(),
            })
            .await
            .map_err(ShopError::Storage)
    }
}
