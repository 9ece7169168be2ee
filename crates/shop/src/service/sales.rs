//! Flash sales: announced, started, and bought through the engine's single writer.

use super::checkout::{check_address, check_key};
use super::*;

impl Shop {
    pub(super) async fn open_in_engine(&self, sale: FlashSale) -> Result<(), ShopError> {
        let sku = self
            .store
            .sku(sale.sku)
            .await?
            .ok_or(ShopError::NotFound("sku"))?;
        let product = self
            .store
            .product(sku.product)
            .await?
            .ok_or(ShopError::NotFound("product"))?;
        let reservations = self.store.flash_reservations(sale.id).await?;
        let listing = SaleListing {
            product: product.id,
            title: format!("{} — {}", product.title, sku.label),
            return_class: product.return_class,
            sale,
        };
        self.engine.open(listing, reservations).await?;
        Ok(())
    }

    pub async fn create_sale(
        &self,
        actor: &Account,
        req: NewSaleRequest,
    ) -> Result<FlashSale, ShopError> {
        let (org, store) = self.store.channel_shop(req.channel).await?.ok_or(invalid(
            "channel",
            "the channel does not sell for a shop yet",
        ))?;
        let role = self.role_in(actor, org).await?.ok_or(ShopError::Forbidden(
            "only the seller's staff run its flash sales",
        ))?;
        if !role.sells() {
            return Err(ShopError::Forbidden(
                "your role in this shop does not include selling",
            ));
        }
        let sku = self
            .store
            .sku(req.sku)
            .await?
            .ok_or(ShopError::NotFound("sku"))?;
        let product = self
            .store
            .product(sku.product)
            .await?
            .ok_or(ShopError::NotFound("product"))?;
        if product.org != org {
            return Err(invalid("sku", "the product belongs to another seller"));
        }
        if req.price_minor <= 0 || req.price_minor > sku.price_minor {
            return Err(invalid(
                "price_minor",
                "a sale price is above zero and not above the regular price",
            ));
        }
        if !(1..=1_000_000_000).contains(&req.stock) {
            return Err(invalid("stock", "1 or more"));
        }
        if req.per_buyer_limit < 1 {
            return Err(invalid("per_buyer_limit", "1 or more"));
        }
        if !(60..=20 * 60).contains(&req.duration_s) {
            return Err(invalid("duration_s", "1 to 20 minutes"));
        }
        if let Some(c) = req.countdown_s {
            if !(10..=300).contains(&c) {
                return Err(invalid("countdown_s", "10 to 300 seconds"));
            }
        }
        let now = UnixMillis::now();
        let starts_at = match (req.countdown_s, req.starts_at) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "starts_at",
                    "give a countdown or a start time, not both",
                ))
            }
            (Some(c), None) => Some(now.plus_ms(c * 1000)),
            (None, Some(t)) if t.0 >= now.0 + 10_000 && t.0 <= now.0 + 7 * 86_400_000 => Some(t),
            (None, Some(_)) => return Err(invalid("starts_at", "10 seconds to 7 days from now")),
            (None, None) => None,
        };
        // The "was" price: never above the lowest price of the last 7 days.
        let history = self.store.price_history(sku.id).await?;
        let reference = match req.reference_minor {
            Some(r) => {
                check_reference(r, &history, now.0)?;
                Some(r)
            }
            None => hawker_commerce::pricing::lowest_recent_price(&history, now.0)
                .filter(|low| *low > req.price_minor),
        };
        // The sale's stock is set aside from the store's, so both can never sell the same item.
        if !self.store.take_stock(sku.id, store, req.stock).await? {
            return Err(ShopError::OutOfStock);
        }
        let sale = self
            .store
            .create_flash_sale(
                &NewFlashSale {
                    channel: req.channel,
                    show: req.show,
                    org,
                    store,
                    sku: sku.id,
                    price_minor: req.price_minor,
                    reference_minor: reference,
                    currency: product.currency,
                    total_stock: req.stock,
                    per_buyer_limit: req.per_buyer_limit,
                    duration_ms: req.duration_s * 1000,
                    starts_at,
                    created_by: actor.id,
                },
                now,
            )
            .await?;
        self.open_in_engine(sale.clone()).await?;
        tracing::info!(sale = sale.id, channel = %req.channel, stock = req.stock, "flash sale created");
        Ok(sale)
    }

    /// Starts a sale created without a start: a countdown, then it opens.
    pub async fn start_sale(
        &self,
        actor: &Account,
        sale: FlashSaleId,
        countdown_s: i64,
    ) -> Result<FlashSale, ShopError> {
        let s = self
            .store
            .flash_sale(sale)
            .await?
            .ok_or(ShopError::NotFound("flash sale"))?;
        let role = self
            .role_in(actor, s.org)
            .await?
            .ok_or(ShopError::Forbidden(
                "only the seller's staff run its flash sales",
            ))?;
        if !role.sells() {
            return Err(ShopError::Forbidden(
                "your role in this shop does not include selling",
            ));
        }
        if s.starts_at.is_some() {
            return Err(invalid("sale", "already started"));
        }
        if !(10..=300).contains(&countdown_s) {
            return Err(invalid("countdown_s", "10 to 300 seconds"));
        }
        let starts = UnixMillis::now().plus_ms(countdown_s * 1000);
        self.store
            .start_flash_sale(sale, starts, starts.plus_ms(s.duration_ms))
            .await?;
        let s = self
            .store
            .flash_sale(sale)
            .await?
            .ok_or(ShopError::NotFound("flash sale"))?;
        self.open_in_engine(s.clone()).await?;
        Ok(s)
    }

    pub async fn buy(
        &self,
        buyer: &Account,
        sale: FlashSaleId,
        quantity: i64,
        key: Option<String>,
        address: &serde_json::value::RawValue,
    ) -> Result<BuyResult, ShopError> {
        self.may_buy_from_sale(buyer, sale, quantity).await?;
        check_key(&key)?;
        let address = check_address(address)?;
        if !(1..=999).contains(&quantity) {
            return Err(invalid("quantity", "1 to 999"));
        }
        match self
            .engine
            .buy(sale, buyer.id, quantity, key, address)
            .await?
        {
            BuyResult::NoSuchSale => Err(ShopError::NotFound("flash sale")),
            BuyResult::Refused(r) => Err(ShopError::Sale(r)),
            r => Ok(r),
        }
    }
}
