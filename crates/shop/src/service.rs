//! The shop's operations, each authorised, validated against the commerce rules, and stored in
//! one transaction where money or stock is involved.

use crate::flash::{BuyResult, EngineError, FlashEngine, SaleListing};
use crate::payments::{PaymentError, PaymentProvider, PaymentStatus};
use hawker_commerce::catalog::ReturnClass;
use hawker_commerce::coupon::{CouponContext, CouponError};
use hawker_commerce::disclosure::DisclosureRules;
use hawker_commerce::flash::BuyRefusal;
use hawker_commerce::ids::OrderIdGen;
use hawker_commerce::law::{LawProfile, ReturnRefusal};
use hawker_commerce::order::{next_state, ActorKind, OrderError, OrderState, Transition};
use hawker_commerce::org::OrgRole;
use hawker_commerce::pricing::{check_reference, MisleadingReference};
use hawker_domain::{Account, Channel, ChannelId, Money, Role, Show, ShowId, UnixMillis};
use hawker_storage::shop::{
    FlashSale, FlashSaleId, NewFlashSale, NewOrder, Order, OrderId, OrderItem, PlaceError,
    TransitionFields,
};
use hawker_storage::{StorageError, Store};
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::Duration;

mod cases;
mod checkout;
mod coupons;
mod defects;
mod draws;
mod fulfilment;
mod gates;
mod leads;
mod payments;
mod sales;
mod showcase;
pub use cases::{ComplaintFiling, ComplaintVerdict, GuardianDecision, Resolution};
pub use coupons::{CouponAction, NewCoupon};
pub use defects::MAX_CLAIM_PHOTOS;
pub use draws::DrawRequest;
pub use gates::NewSlotRequest;
pub use showcase::{EntryDisclosure, PinnedCard, Shelf, ShelfCard, ShelfEntry};

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

/// A hook's work, handed back for the shop to await.
pub type Hook<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>;

/// What the rest of the platform hears from the shop (the live room shows it).
pub trait ShopEvents: Send + Sync + 'static {
    fn sale_remaining(&self, sale: &FlashSale, remaining: i64);
    fn order_paid(&self, order: &Order);
    /// The products pinned in the channel's room now, newest first. Awaited, so the answer
    /// to a pin follows the room's state (and two quick changes arrive in order).
    fn pinned(&self, channel: &Channel, cards: &[PinnedCard]) -> Hook<Result<(), String>>;
    /// The paid-promotion label, said in the channel's room now.
    fn paid_label(
        &self,
        channel: &Channel,
        rules: &DisclosureRules,
        title: &str,
        seller: &str,
    ) -> Hook<()>;
    /// A consult is over: its call (`Lead::call`) hangs up for both parties at once.
    fn call_over(&self, call: &str) -> Hook<()>;
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
    /// A product in a regulated category shown or pinned without its seller's approved
    /// credential for that category.
    #[error("\"{product}\" is in the regulated category {category}: {seller} needs an approved {category} credential before it can be shown or pinned")]
    CredentialRequired {
        product: String,
        category: &'static str,
        seller: String,
    },
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

    /// Runs the shop's timers until `cancel`: expiry every second, reconciliation and missed
    /// consults every 15 s, completion hourly.
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
                    // Consult requests nobody answered in time become missed leads.
                    if let Err(e) = me.expire_consults(UnixMillis::now()).await {
                        tracing::warn!(error = %e, "consult expiry failed");
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
    async fn show_and_channel(&self, show: ShowId) -> Result<(Show, Channel), ShopError> {
        let s = self
            .store
            .show(show)
            .await
            .map_err(ShopError::Storage)?
            .ok_or(ShopError::NotFound("show"))?;
        let c = self
            .store
            .channel(s.channel)
            .await
            .map_err(ShopError::Storage)?
            .ok_or(ShopError::NotFound("channel"))?;
        Ok((s, c))
    }

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
