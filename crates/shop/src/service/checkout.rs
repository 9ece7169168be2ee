//! Checkout: the buyer's order from the catalog, priced on the server, with its stock and
//! coupon taken in one transaction; the delivery address and idempotency key checked here.

use super::*;

/// A delivery address as the buyer sent it: an object with a name, a first line and a city
/// (each at most 200 characters), at most 2,000 bytes in all. Checked without building a JSON
/// tree (a tree and its re-serialisation were ~1 µs of every flash-sale buy) and stored as
/// sent; readers parse it (`address_key` folds spelling for the risk links).
pub(super) fn check_address(raw: &serde_json::value::RawValue) -> Result<String, ShopError> {
    use std::borrow::Cow;
    #[derive(serde::Deserialize)]
    struct Lines<'a> {
        #[serde(default, borrow)]
        name: Option<Cow<'a, str>>,
        #[serde(default, borrow)]
        line1: Option<Cow<'a, str>>,
        #[serde(default, borrow)]
        city: Option<Cow<'a, str>>,
    }
    let shape = || invalid("address", "an object with name, line1, city");
    let text = raw.get();
    // A struct also deserialises from an array: only an object is an address.
    if !text.starts_with('{') {
        return Err(shape());
    }
    let lines: Lines = serde_json::from_str(text).map_err(|_| shape())?;
    for (f, v) in [
        ("name", &lines.name),
        ("line1", &lines.line1),
        ("city", &lines.city),
    ] {
        let v = v.as_deref().unwrap_or("").trim();
        if v.is_empty() || v.chars().count() > 200 {
            return Err(invalid(
                "address",
                format!("{f} is required (at most 200 characters)"),
            ));
        }
    }
    if text.len() > 2_000 {
        return Err(invalid("address", "too long"));
    }
    Ok(text.to_string())
}

pub(super) fn check_key(k: &Option<String>) -> Result<(), ShopError> {
    match k {
        Some(k) if k.is_empty() || k.len() > 100 || !k.bytes().all(|b| b.is_ascii_graphic()) => {
            Err(invalid("idempotency_key", "1–100 visible ASCII characters"))
        }
        _ => Ok(()),
    }
}

impl Shop {
    pub async fn checkout(
        &self,
        buyer: &Account,
        req: CheckoutRequest,
    ) -> Result<Order, ShopError> {
        self.may_check_out(buyer, &req.items).await?;
        check_key(&req.idempotency_key)?;
        if let Some(k) = &req.idempotency_key {
            if let Some(o) = self.store.order_by_key(buyer.id, k).await? {
                return Ok(o);
            }
        }
        if req.items.is_empty() || req.items.len() > 50 {
            return Err(invalid("items", "1 to 50 items"));
        }
        let address = check_address(&req.address)?;
        let mut items = Vec::new();
        let mut org = None;
        let mut currency = None;
        let mut exceptions = false;
        for it in &req.items {
            if !(1..=999).contains(&it.quantity) {
                return Err(invalid("quantity", "1 to 999"));
            }
            let sku = self
                .store
                .sku(it.sku)
                .await?
                .ok_or(ShopError::NotFound("sku"))?;
            let product = self
                .store
                .product(sku.product)
                .await?
                .ok_or(ShopError::NotFound("product"))?;
            // One seller of record per order: the organisation whose goods these are.
            if *org.get_or_insert(product.org) != product.org {
                return Err(invalid(
                    "items",
                    "all items of an order come from one seller",
                ));
            }
            if *currency.get_or_insert(product.currency) != product.currency {
                return Err(invalid("items", "one currency per order"));
            }
            exceptions |= product.return_class.is_exception();
            // Prices come from the catalog, never from the request.
            items.push(OrderItem {
                sku: sku.id,
                product: product.id,
                title: format!("{} — {}", product.title, sku.label),
                quantity: it.quantity,
                unit_price_minor: sku.price_minor,
                return_class: product.return_class,
            });
        }
        if exceptions && !req.acknowledge_exceptions {
            return Err(invalid("acknowledge_exceptions", "this order contains goods that cannot be returned without a defect; confirm that you have read this"));
        }
        let (org, currency) = (
            org.expect("items are not empty"),
            currency.expect("items are not empty"),
        );
        let store = match req.channel {
            Some(ch) => match self.store.channel_shop(ch).await? {
                Some((o, s)) if o == org => s,
                _ => self.default_store(org).await?,
            },
            None => self.default_store(org).await?,
        };
        let subtotal = items
            .iter()
            .try_fold(Money::zero(currency), |acc, i| {
                acc.checked_add(Money::new(i.unit_price_minor, currency).checked_mul(i.quantity)?)
            })
            .map_err(|_| invalid("items", "amount too large"))?;
        let now = UnixMillis::now();
        let (coupon, discount) = match &req.coupon {
            Some(code) if !code.trim().is_empty() => {
                let c = self
                    .store
                    .coupon_by_code(&code.trim().to_uppercase())
                    .await?
                    .ok_or(ShopError::NotFound("coupon"))?;
                let used = self.store.coupon_uses(c.id, buyer.id).await?;
                let d = c.coupon.discount_for(
                    subtotal,
                    &CouponContext {
                        now_ms: now.0,
                        org,
                        from_stream_of: req.channel.map(|c| c.0),
                        used_by_buyer: used,
                    },
                )?;
                (Some(c.id), d.minor)
            }
            _ => (None, 0),
        };
        let id = self.ids.lock().next(now.0);
        let order = NewOrder {
            id,
            buyer: buyer.id,
            org,
            store,
            channel: req.channel,
            show: req.show,
            flash_sale: None,
            currency,
            subtotal_minor: subtotal.minor,
            discount_minor: discount,
            total_minor: subtotal.minor - discount,
            coupon,
            address,
            exceptions_acknowledged: exceptions,
            idempotency_key: req.idempotency_key.clone(),
            created_at: now,
            expires_at: Some(now.plus_ms(self.cfg.reservation.as_millis() as i64)),
            items,
            take_stock: true,
        };
        match self.store.place_order(&order).await {
            Ok(o) => Ok(o),
            Err(PlaceError::Repeat(existing)) => self
                .store
                .order(existing)
                .await?
                .ok_or(ShopError::NotFound("order")),
            Err(PlaceError::OutOfStock(_)) => Err(ShopError::OutOfStock),
            Err(PlaceError::CouponBudgetSpent) => Err(CouponError::BudgetSpent.into()),
            Err(PlaceError::CouponUsedUp) => Err(CouponError::UsedUp.into()),
            Err(PlaceError::Storage(e)) => Err(e.into()),
        }
    }

    pub(super) async fn default_store(&self, org: i64) -> Result<i64, ShopError> {
        self.store
            .stores(org)
            .await?
            .first()
            .map(|s| s.id)
            .ok_or(ShopError::NotFound("store"))
    }
}

#[cfg(test)]
mod address_tests {
    use super::*;

    fn raw(s: &str) -> Box<serde_json::value::RawValue> {
        serde_json::value::RawValue::from_string(s.to_string()).unwrap()
    }

    #[test]
    fn addresses_are_objects_with_name_line_and_city() {
        let ok = r#"{"name":"Ann","line1":"1 Lake Rd","city":"Hangzhou","postcode":"310000"}"#;
        assert_eq!(check_address(&raw(ok)).unwrap(), ok, "stored as sent");
        let escaped = r#"{"name":"A\"nn","line1":"1 Lake Rd","city":"Hang\u007Ahou"}"#;
        assert!(check_address(&raw(escaped)).is_ok(), "escapes are fine");
        for bad in [
            r#"["Ann","1 Lake Rd","Hangzhou"]"#, // a struct would take an array
            r#""Ann, 1 Lake Rd, Hangzhou""#,
            r#"{"name":"Ann","line1":"1 Lake Rd"}"#,
            r#"{"name":"  ","line1":"1 Lake Rd","city":"Hangzhou"}"#,
            r#"{"name":1,"line1":"1 Lake Rd","city":"Hangzhou"}"#,
            "null",
        ] {
            assert!(check_address(&raw(bad)).is_err(), "{bad}");
        }
        let long = format!(
            r#"{{"name":"Ann","line1":"1 Lake Rd","city":"Hangzhou","note":"{}"}}"#,
            "x".repeat(2_000)
        );
        assert!(check_address(&raw(&long)).is_err(), "too long");
        let name = format!(r#"{{"name":"{}","line1":"1","city":"H"}}"#, "é".repeat(201));
        assert!(check_address(&raw(&name)).is_err(), "over 200 characters");
    }
}
