//! The shop's operations, each authorised, validated against the commerce rules, and stored in
//! one transaction where money or stock is involved.

use crate::flash::{BuyResult, EngineError, FlashEngine, SaleListing};
use crate::payments::{PaymentError, PaymentProvider, PaymentStatus};
use hawker_commerce::catalog::ReturnClass;
use hawker_commerce::coupon::{CouponContext, CouponError};
use hawker_commerce::flash::BuyRefusal;
use hawker_commerce::ids::OrderIdGen;
use hawker_commerce::law::{LawProfile, ReturnRefusal};
use hawker_commerce::order::{next_state, ActorKind, OrderError, OrderState, Transition};
use hawker_commerce::org::OrgRole;
use hawker_commerce::pricing::{check_reference, MisleadingReference};
use hawker_domain::{Account, ChannelId, Money, Role, ShowId, UnixMillis};
use hawker_storage::shop::{
    FlashSale, FlashSaleId, NewFlashSale, NewOrder, Order, OrderId, OrderItem, PlaceError,
    TransitionFields,
};
use hawker_storage::{StorageError, Store};
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::Duration;

mod cases;
mod coupons;
mod defects;
mod draws;
mod gates;
pub use cases::{ComplaintFiling, ComplaintVerdict, GuardianDecision, Resolution};
pub use coupons::{CouponAction, NewCoupon};
pub use defects::MAX_CLAIM_PHOTOS;
pub use draws::DrawRequest;
pub use gates::NewSlotRequest;

#[derive(Debug, Clone)]
pub struct ShopConfig {
    pub law: LawProfile,
    /// Unpaid orders keep their stock this long.
    pub reservation: Duration,
    /// Node id for order numbers (two ids are used: this one and the next).
    pub node: u32,
    /// Commission, fees and payouts (the books).
    pub money: hawker_books::MoneyConfig,
    /// Claims no product text may make (`[trust] banned_claims`).
    pub banned_claims: Vec<String>,
}

/// What the rest of the platform hears from the shop (the live room shows it).
pub trait ShopEvents: Send + Sync + 'static {
    fn sale_remaining(&self, sale: &FlashSale, remaining: i64);
    fn order_paid(&self, order: &Order);
}

#[derive(Debug, thiserror::Error)]
pub enum ShopError {
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("not enough stock")]
    OutOfStock,
    #[error(transparent)]
    Coupon(#[from] CouponError),
    #[error(transparent)]
    Sale(BuyRefusal),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Order(#[from] OrderError),
    #[error(transparent)]
    Return(#[from] ReturnRefusal),
    #[error(transparent)]
    Reference(#[from] MisleadingReference),
    #[error("payment: {0}")]
    Payment(#[from] PaymentError),
    #[error("the order changed meanwhile; reload it")]
    Conflict,
    #[error("{0}")]
    Taken(&'static str),
    #[error("storage: {0}")]
    Storage(StorageError),
    #[error(transparent)]
    Books(#[from] hawker_books::BooksError),
    #[error(transparent)]
    Claim(#[from] hawker_commerce::defect::ClaimError),
    #[error("the {days}-day window to claim a defect has closed")]
    DefectWindowClosed { days: u32 },
    /// Refused by the platform's trust rules (`Guard`).
    #[error(transparent)]
    Trust(#[from] crate::guard::TrustRefusal),
    /// Fields that are wrong together; the text names them.
    #[error("{0}")]
    InvalidFields(String),
    /// The thing is past the state the request needs (decided, drawn, closed).
    #[error("{detail}")]
    State { code: &'static str, detail: String },
    /// A prize draw the law profile does not allow (its code is the rule's).
    #[error("{detail}")]
    Draw { code: &'static str, detail: String },
    /// A step that failed for a reason the caller cannot act on (logged where it happened).
    #[error("{0}")]
    Internal(&'static str),
}

impl From<StorageError> for ShopError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Conflict { .. } => ShopError::Conflict,
            StorageError::NotFound { entity } => ShopError::NotFound(entity),
            e => ShopError::Storage(e),
        }
    }
}

fn invalid(field: &'static str, reason: impl Into<String>) -> ShopError {
    ShopError::Invalid {
        field,
        reason: reason.into(),
    }
}

#[derive(Debug, Clone)]
pub struct CheckoutItem {
    pub sku: i64,
    pub quantity: i64,
}

#[derive(Debug, Clone)]
pub struct CheckoutRequest {
    pub items: Vec<CheckoutItem>,
    pub coupon: Option<String>,
    /// JSON the buyer entered: name, address lines, city, postcode, phone.
    pub address: Box<serde_json::value::RawValue>,
    pub idempotency_key: Option<String>,
    /// The channel whose live show the buyer is watching (for stream coupons, attribution).
    pub channel: Option<ChannelId>,
    pub show: Option<ShowId>,
    /// The buyer confirmed the return exceptions shown (perishable, custom-made, digital).
    pub acknowledge_exceptions: bool,
}

#[derive(Debug, Clone)]
pub struct NewSaleRequest {
    pub channel: ChannelId,
    pub show: Option<ShowId>,
    pub sku: i64,
    pub price_minor: i64,
    /// A "was" price to show; refused if above the lowest price of the last 7 days.
    pub reference_minor: Option<i64>,
    pub stock: i64,
    pub per_buyer_limit: i64,
    pub duration_s: i64,
    /// Seconds of countdown before it opens; None: start later by hand or on schedule.
    pub countdown_s: Option<i64>,
    /// A scheduled opening (at least 10 s ahead, at most 7 days); excludes `countdown_s`.
    pub starts_at: Option<UnixMillis>,
}

#[derive(Debug, Clone)]
pub enum MerchantAction {
    Ship { carrier: String, tracking: String },
    Deliver,
    Cancel { reason: String },
    ApproveReturn,
    RejectReturn { reason: String },
    ReceiveReturn,
    Refund,
}

#[derive(Debug, Clone)]
pub enum BuyerAction {
    Cancel,
    ConfirmDelivery,
    RequestReturn { reason: String },
}

pub struct Shop {
    store: Arc<dyn Store>,
    engine: FlashEngine,
    provider: Arc<dyn PaymentProvider>,
    cfg: ShopConfig,
    ids: Mutex<OrderIdGen>,
    events: Arc<dyn ShopEvents>,
    books: Arc<hawker_books::Books>,
    claims: hawker_trust::claims::ClaimsCheck,
    /// Where payouts go: the sandbox by default (a bank's payout API in production).
    payouts: Arc<dyn hawker_books::payouts::PayoutProvider>,
    /// The trust rules every purchase, booking and case decision passes.
    guard: Arc<crate::guard::Guard>,
}

/// A delivery address as the buyer sent it: an object with a name, a first line and a city
/// (each at most 200 characters), at most 2,000 bytes in all. Checked without building a JSON
/// tree (a tree and its re-serialisation were ~1 µs of every flash-sale buy) and stored as
/// sent; readers parse it (`address_key` folds spelling for the risk links).
fn check_address(raw: &serde_json::value::RawValue) -> Result<String, ShopError> {
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

fn check_key(k: &Option<String>) -> Result<(), ShopError> {
    match k {
        Some(k) if k.is_empty() || k.len() > 100 || !k.bytes().all(|b| b.is_ascii_graphic()) => {
            Err(invalid("idempotency_key", "1–100 visible ASCII characters"))
        }
        _ => Ok(()),
    }
}

impl Shop {
    pub async fn start(
        store: Arc<dyn Store>,
        provider: Arc<dyn PaymentProvider>,
        cfg: ShopConfig,
        events: Arc<dyn ShopEvents>,
        guard: Arc<crate::guard::Guard>,
    ) -> Result<Arc<Shop>, ShopError> {
        let ev = events.clone();
        let engine = FlashEngine::start(
            store.clone(),
            cfg.node * 2,
            cfg.reservation,
            Arc::new(move |l: &SaleListing, remaining| ev.sale_remaining(&l.sale, remaining)),
        );
        let books =
            hawker_books::Books::open(store.clone(), cfg.money.clone(), cfg.law.clone()).await?;
        let shop = Arc::new(Shop {
            ids: Mutex::new(OrderIdGen::new(cfg.node * 2 + 1)),
            books,
            claims: hawker_trust::claims::ClaimsCheck::new(&cfg.banned_claims),
            payouts: Arc::new(hawker_books::payouts::SandboxPayouts::new()),
            store,
            engine,
            provider,
            cfg,
            events,
            guard,
        });
        for sale in shop.store.open_flash_sales(UnixMillis::now()).await? {
            shop.open_in_engine(sale).await?;
        }
        Ok(shop)
    }

    pub fn law(&self) -> &LawProfile {
        &self.cfg.law
    }

    /// The banned-claims check for what is about to be published.
    pub fn claims(&self) -> &hawker_trust::claims::ClaimsCheck {
        &self.claims
    }

    /// The ledger: balances, statements, payouts.
    pub fn books(&self) -> &Arc<hawker_books::Books> {
        &self.books
    }

    pub fn payouts(&self) -> &Arc<dyn hawker_books::payouts::PayoutProvider> {
        &self.payouts
    }

    pub fn engine(&self) -> &FlashEngine {
        &self.engine
    }

    /// The trust rules the shop applies.
    pub fn guard(&self) -> &Arc<crate::guard::Guard> {
        &self.guard
    }

    async fn open_in_engine(&self, sale: FlashSale) -> Result<(), ShopError> {
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

    /// The seller-side role of `account` in `org`, if any (platform admins count as owners).
    async fn role_in(&self, account: &Account, org: i64) -> Result<Option<OrgRole>, ShopError> {
        if account.role == Role::PlatformAdmin {
            return Ok(Some(OrgRole::Owner));
        }
        Ok(self
            .store
            .membership(org, account.id)
            .await?
            .map(|m| m.role))
    }

    // ------------------------------------------------------------------ checkout

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

    async fn default_store(&self, org: i64) -> Result<i64, ShopError> {
        self.store
            .stores(org)
            .await?
            .first()
            .map(|s| s.id)
            .ok_or(ShopError::NotFound("store"))
    }

    // ------------------------------------------------------------------ flash sales

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

    // ------------------------------------------------------------------ payments

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

    async fn apply_payment(
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

    async fn apply_topup(
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

    // ------------------------------------------------------------------ after the sale

    async fn move_order(
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

    async fn refund_payment(&self, o: &Order) -> Result<(), ShopError> {
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

    /// Runs the shop's timers until `cancel`: expiry every second, reconciliation every
    /// 15 s, completion hourly.
    pub fn spawn_jobs(self: &Arc<Self>, cancel: tokio_util::sync::CancellationToken) {
        let me = self.clone();
        tokio::spawn(async move {
            let mut tick = 0u64;
            let mut books = hawker_books::CatchUpSchedule::default();
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = cancel.cancelled() => return,
                }
                tick += 1;
                if let Err(e) = me.expire_due().await {
                    tracing::warn!(error = %e, "reservation expiry failed");
                }
                if tick.is_multiple_of(15) {
                    if let Err(e) = me.reconcile(Duration::from_secs(30)).await {
                        tracing::warn!(error = %e, "payment reconciliation failed");
                    }
                }
                // The ledger follows the orders (paid, refunded, settled), on the schedule's
                // passes (`CatchUpSchedule`: incremental every 2 s, everything every 5 min).
                match me.books.catch_up_on(&mut books, UnixMillis::now()).await {
                    Ok(Some(c)) if c != hawker_books::CatchUp::default() => {
                        tracing::debug!(?c, "books caught up");
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "books catch-up failed"),
                }
            }
        });
    }

    /// Whether `card` is an instrument many share (see `PaymentProvider::shared_instrument`).
    pub fn shared_instrument(&self, card: &str) -> bool {
        self.provider.shared_instrument(card)
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Allowed to act for `org` with `pred`?
    pub async fn staff(
        &self,
        who: &Account,
        org: i64,
        pred: impl Fn(OrgRole) -> bool,
    ) -> Result<OrgRole, ShopError> {
        match self.role_in(who, org).await? {
            Some(r) if pred(r) => Ok(r),
            Some(_) => Err(ShopError::Forbidden(
                "your role in this shop does not allow this",
            )),
            None => Err(ShopError::Forbidden("only the seller's staff may do this")),
        }
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
