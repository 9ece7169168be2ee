//! Shop persistence: organisations, stores and staff, the catalog with stock and price
//! history, showcases and pins, flash sales, coupons, orders with their audit trail, and
//! payments. Order placement is one transaction: stock, coupon budget, per-user limit,
//! idempotency and the order itself succeed or fail together.

use crate::sql::{corrupt, currency, values};
use crate::{classify, Backend, Result, SqlStore, StorageError};
use async_trait::async_trait;
use hawker_commerce::catalog::{Category, ReturnClass};
use hawker_commerce::coupon::{Coupon, CouponScope, Discount};
use hawker_commerce::order::{ActorKind, OrderState};
use hawker_commerce::org::{OrgKind, OrgRole};
use hawker_domain::{AccountId, ChannelId, Currency, ShowId, UnixMillis};
use sqlx::any::AnyRow;
use sqlx::Row;

pub type OrgId = i64;
pub type StoreId = i64;
pub type ProductId = i64;
pub type SkuId = i64;
pub type OrderId = i64;
pub type FlashSaleId = i64;
pub type CouponId = i64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    pub id: OrgId,
    pub name: String,
    pub kind: OrgKind,
    pub created_at: UnixMillis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    pub id: StoreId,
    pub org: OrgId,
    pub name: String,
    pub city: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub org: Org,
    pub account: AccountId,
    pub role: OrgRole,
    pub store: Option<StoreId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProduct {
    pub org: OrgId,
    pub title: String,
    pub description: String,
    pub category: Category,
    pub return_class: ReturnClass,
    pub currency: Currency,
    /// Paid promotion: labelled wherever it is shown.
    pub sponsored: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub id: ProductId,
    pub org: OrgId,
    pub title: String,
    pub description: String,
    pub category: Category,
    pub return_class: ReturnClass,
    pub currency: Currency,
    pub sponsored: bool,
    pub created_at: UnixMillis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sku {
    pub id: SkuId,
    pub product: ProductId,
    pub label: String,
    pub price_minor: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    pub show: ShowId,
    pub product: ProductId,
    pub pinned_at: UnixMillis,
    /// Milliseconds into the show.
    pub offset_ms: i64,
    pub unpinned_at: Option<UnixMillis>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFlashSale {
    pub channel: ChannelId,
    pub show: Option<ShowId>,
    pub org: OrgId,
    pub store: StoreId,
    pub sku: SkuId,
    pub price_minor: i64,
    /// The "was" price shown, already checked against the last 7 days.
    pub reference_minor: Option<i64>,
    pub currency: Currency,
    pub total_stock: i64,
    pub per_buyer_limit: i64,
    pub duration_ms: i64,
    pub starts_at: Option<UnixMillis>,
    pub created_by: AccountId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlashSale {
    pub id: FlashSaleId,
    pub channel: ChannelId,
    pub show: Option<ShowId>,
    pub org: OrgId,
    pub store: StoreId,
    pub sku: SkuId,
    pub price_minor: i64,
    pub reference_minor: Option<i64>,
    pub currency: Currency,
    pub total_stock: i64,
    pub per_buyer_limit: i64,
    pub starts_at: Option<UnixMillis>,
    pub ends_at: Option<UnixMillis>,
    pub duration_ms: i64,
    pub created_by: AccountId,
    pub created_at: UnixMillis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderItem {
    pub sku: SkuId,
    pub product: ProductId,
    pub title: String,
    pub quantity: i64,
    pub unit_price_minor: i64,
    pub return_class: ReturnClass,
}

/// A flash-sale order as the sale engine rebuilds its book from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlashReservation {
    pub order: OrderId,
    pub buyer: AccountId,
    pub quantity: i64,
    pub key: Option<String>,
    /// Holds stock (not cancelled, expired or refunded).
    pub live: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    pub id: OrderId,
    pub buyer: AccountId,
    pub org: OrgId,
    pub store: StoreId,
    pub channel: Option<ChannelId>,
    pub show: Option<ShowId>,
    pub flash_sale: Option<FlashSaleId>,
    pub currency: Currency,
    pub subtotal_minor: i64,
    pub discount_minor: i64,
    pub total_minor: i64,
    pub coupon: Option<CouponId>,
    /// The shipping address, as the buyer gave it (JSON).
    pub address: String,
    pub exceptions_acknowledged: bool,
    pub idempotency_key: Option<String>,
    pub created_at: UnixMillis,
    /// Unpaid orders expire then and release their stock.
    pub expires_at: Option<UnixMillis>,
    pub items: Vec<OrderItem>,
    /// Take the items from the store's stock (ordinary orders); flash sales hold their own.
    pub take_stock: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: OrderId,
    pub buyer: AccountId,
    pub org: OrgId,
    pub store: StoreId,
    pub channel: Option<ChannelId>,
    pub show: Option<ShowId>,
    pub flash_sale: Option<FlashSaleId>,
    pub state: OrderState,
    pub currency: Currency,
    pub subtotal_minor: i64,
    pub discount_minor: i64,
    pub total_minor: i64,
    pub coupon: Option<CouponId>,
    pub address: String,
    pub exceptions_acknowledged: bool,
    pub idempotency_key: Option<String>,
    pub created_at: UnixMillis,
    pub expires_at: Option<UnixMillis>,
    pub updated_at: UnixMillis,
    pub carrier: Option<String>,
    pub tracking: Option<String>,
    pub delivered_at: Option<UnixMillis>,
    pub return_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderEvent {
    pub from: Option<OrderState>,
    pub to: OrderState,
    pub actor_kind: ActorKind,
    pub actor: Option<AccountId>,
    pub note: String,
    pub at: UnixMillis,
}

/// Fields a transition may set besides the state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransitionFields {
    pub carrier: Option<String>,
    pub tracking: Option<String>,
    pub delivered_at: Option<UnixMillis>,
    pub return_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OrderFilter {
    pub state: Option<OrderState>,
    pub show: Option<ShowId>,
    pub from: Option<UnixMillis>,
    pub to: Option<UnixMillis>,
    /// An order id, or part of the buyer's e-mail address (case-insensitive).
    pub search: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PlaceError {
    #[error("not enough stock of SKU {0}")]
    OutOfStock(SkuId),
    #[error("the coupon's budget is spent")]
    CouponBudgetSpent,
    #[error("you have used this coupon as often as allowed")]
    CouponUsedUp,
    /// The idempotency key was used before: here is that order.
    #[error("already placed as order {0}")]
    Repeat(OrderId),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<sqlx::Error> for PlaceError {
    fn from(e: sqlx::Error) -> Self {
        PlaceError::Storage(StorageError::Database(e))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CouponRow {
    pub id: CouponId,
    pub coupon: Coupon,
}

#[derive(Debug, Clone)]
pub struct CouponListing {
    pub row: CouponRow,
    /// Orders that used it and did not fall through (cancelled and expired ones gave it back).
    pub redemptions: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub id: i64,
    pub order: OrderId,
    pub provider: String,
    pub provider_ref: String,
    /// `pending`, `succeeded`, `failed`, `refunded`.
    pub state: String,
    pub amount_minor: i64,
    pub currency: Currency,
    pub created_at: UnixMillis,
    pub updated_at: UnixMillis,
}

#[async_trait]
pub trait ShopStore: Send + Sync {
    async fn create_org(
        &self,
        name: &str,
        kind: OrgKind,
        owner: AccountId,
        now: UnixMillis,
    ) -> Result<Org>;
    async fn org(&self, id: OrgId) -> Result<Option<Org>>;
    async fn memberships(&self, account: AccountId) -> Result<Vec<Membership>>;
    async fn membership(&self, org: OrgId, account: AccountId) -> Result<Option<Membership>>;
    async fn members(&self, org: OrgId) -> Result<Vec<Membership>>;
    async fn add_member(
        &self,
        org: OrgId,
        account: AccountId,
        role: OrgRole,
        store: Option<StoreId>,
        now: UnixMillis,
    ) -> Result<()>;
    async fn create_store(
        &self,
        org: OrgId,
        name: &str,
        city: &str,
        now: UnixMillis,
    ) -> Result<Store>;
    async fn store(&self, id: StoreId) -> Result<Option<Store>>;
    async fn stores(&self, org: OrgId) -> Result<Vec<Store>>;
    async fn set_channel_shop(&self, channel: ChannelId, org: OrgId, store: StoreId) -> Result<()>;
    async fn channel_shop(&self, channel: ChannelId) -> Result<Option<(OrgId, StoreId)>>;

    async fn create_product(&self, p: &NewProduct, now: UnixMillis) -> Result<Product>;
    async fn product(&self, id: ProductId) -> Result<Option<Product>>;
    async fn products_of_org(&self, org: OrgId) -> Result<Vec<Product>>;
    async fn add_sku(
        &self,
        product: ProductId,
        label: &str,
        price_minor: i64,
        now: UnixMillis,
    ) -> Result<Sku>;
    /// Changes a price and records it in the price history.
    async fn set_price(&self, sku: SkuId, price_minor: i64, now: UnixMillis) -> Result<()>;
    async fn sku(&self, id: SkuId) -> Result<Option<Sku>>;
    async fn skus_of_product(&self, product: ProductId) -> Result<Vec<Sku>>;
    /// `(at, price)` oldest first.
    async fn price_history(&self, sku: SkuId) -> Result<Vec<(i64, i64)>>;
    async fn set_stock(&self, sku: SkuId, store: StoreId, quantity: i64) -> Result<()>;
    async fn stock(&self, sku: SkuId, store: StoreId) -> Result<i64>;
    /// Takes `quantity` from a store's stock if it has that much.
    async fn take_stock(&self, sku: SkuId, store: StoreId, quantity: i64) -> Result<bool>;
    async fn add_image(
        &self,
        product: ProductId,
        file: &str,
        content_type: &str,
        now: UnixMillis,
    ) -> Result<i64>;
    /// `(image id, file, content type)`.
    async fn images(&self, product: ProductId) -> Result<Vec<(i64, String, String)>>;
    async fn image(&self, id: i64) -> Result<Option<(String, String)>>;

    async fn set_shelf(&self, show: ShowId, products: &[ProductId]) -> Result<()>;
    async fn shelf(&self, show: ShowId) -> Result<Vec<ProductId>>;
    async fn pin(
        &self,
        show: ShowId,
        product: ProductId,
        now: UnixMillis,
        offset_ms: i64,
    ) -> Result<()>;
    async fn unpin(&self, show: ShowId, product: ProductId, now: UnixMillis) -> Result<bool>;
    async fn pins(&self, show: ShowId) -> Result<Vec<Pin>>;
    /// The show ended: every pin still up comes down at `at`. Returns how many.
    async fn close_open_pins(&self, show: ShowId, at: UnixMillis) -> Result<u64>;

    async fn create_flash_sale(&self, s: &NewFlashSale, now: UnixMillis) -> Result<FlashSale>;
    async fn flash_sale(&self, id: FlashSaleId) -> Result<Option<FlashSale>>;
    async fn start_flash_sale(
        &self,
        id: FlashSaleId,
        starts_at: UnixMillis,
        ends_at: UnixMillis,
    ) -> Result<()>;
    /// Sales not yet over at `now` (scheduled or open).
    async fn open_flash_sales(&self, now: UnixMillis) -> Result<Vec<FlashSale>>;
    async fn flash_sales_of_channel(
        &self,
        channel: ChannelId,
        limit: i64,
    ) -> Result<Vec<FlashSale>>;
    /// Every order of the sale: those that hold stock (`live`) and those released, whose
    /// idempotency keys still name them.
    async fn flash_reservations(&self, sale: FlashSaleId) -> Result<Vec<FlashReservation>>;
    /// Moves up to `max` flash-sale orders from the SQLite journal into the order tables (see
    /// `place_flash_orders`); how many it moved. Nothing to do on PostgreSQL. Every read of
    /// orders does this as needed, so it only decides *when* the work is done.
    async fn materialise_flash_orders(&self, max: usize) -> Result<usize>;

    async fn create_coupon(&self, c: &Coupon, now: UnixMillis) -> Result<CouponRow>;
    async fn coupon_by_code(&self, code: &str) -> Result<Option<CouponRow>>;
    async fn coupon_uses(&self, coupon: CouponId, account: AccountId) -> Result<i64>;
    /// An organisation's coupons, newest first, with how often each was redeemed.
    async fn coupons_of_org(&self, org: i64) -> Result<Vec<CouponListing>>;
    async fn coupon(&self, id: CouponId) -> Result<Option<CouponRow>>;
    async fn set_coupon_paused(&self, id: CouponId, paused: bool) -> Result<()>;
    /// Closes the coupon's window at `now` (never reopens one that already closed).
    async fn end_coupon(&self, id: CouponId, now: UnixMillis) -> Result<()>;

    async fn order_by_key(&self, buyer: AccountId, key: &str) -> Result<Option<Order>>;
    /// One transaction: stock, coupon budget and limit, idempotency, order, items, event.
    async fn place_order(&self, o: &NewOrder) -> std::result::Result<Order, PlaceError>;
    /// Many flash-sale orders in one transaction (the group commit): all or none. Durable when
    /// it returns. On an SQLite file they are appended to a journal and become order rows later
    /// (`materialise_flash_orders`); on PostgreSQL they are order rows at once. Shared, so the
    /// SQLite writer thread reads the batch without a copy.
    async fn place_flash_orders(&self, orders: std::sync::Arc<[NewOrder]>) -> Result<()>;
    async fn order(&self, id: OrderId) -> Result<Option<Order>>;
    async fn order_items(&self, id: OrderId) -> Result<Vec<OrderItem>>;
    async fn order_events(&self, id: OrderId) -> Result<Vec<OrderEvent>>;
    async fn orders_of_buyer(&self, buyer: AccountId, limit: i64) -> Result<Vec<Order>>;
    async fn orders_of_org(
        &self,
        org: OrgId,
        f: &OrderFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Order>>;
    /// Moves an order from `from` to `to` if it is still in `from`; records the event; gives
    /// the items back to the store when an ordinary order stops holding stock.
    #[allow(clippy::too_many_arguments)]
    async fn transition_order(
        &self,
        id: OrderId,
        from: OrderState,
        to: OrderState,
        actor: ActorKind,
        actor_id: Option<AccountId>,
        note: &str,
        fields: &TransitionFields,
        now: UnixMillis,
    ) -> Result<()>;
    /// Unpaid orders whose reservation ran out.
    async fn expired_reservations(&self, now: UnixMillis, limit: i64) -> Result<Vec<Order>>;

    async fn create_payment(
        &self,
        order: OrderId,
        provider: &str,
        provider_ref: &str,
        amount_minor: i64,
        currency: Currency,
        now: UnixMillis,
    ) -> Result<Payment>;
    async fn payment_by_ref(&self, provider: &str, provider_ref: &str) -> Result<Option<Payment>>;
    async fn payments_of_order(&self, order: OrderId) -> Result<Vec<Payment>>;
    /// Compare-and-set on the payment's state.
    async fn set_payment_state(
        &self,
        id: i64,
        from: &str,
        to: &str,
        now: UnixMillis,
    ) -> Result<bool>;
    async fn pending_payments(&self, older_than: UnixMillis, limit: i64) -> Result<Vec<Payment>>;
    /// True the first time an event id is seen.
    async fn first_webhook(&self, provider: &str, event_id: &str, now: UnixMillis) -> Result<bool>;
}

fn opt_ms(v: Option<i64>) -> Option<UnixMillis> {
    v.map(UnixMillis)
}

const ORG_COLS: &str = "o.id, o.name, o.kind, o.created_at";
fn org_from(r: &AnyRow, at: usize) -> Result<Org> {
    let kind: String = r.try_get(at + 2)?;
    Ok(Org {
        id: r.try_get(at)?,
        name: r.try_get(at + 1)?,
        kind: OrgKind::parse(&kind).ok_or_else(|| corrupt("organisation kind", &kind))?,
        created_at: UnixMillis(r.try_get(at + 3)?),
    })
}

fn membership_from(r: &AnyRow) -> Result<Membership> {
    let role: String = r.try_get(4)?;
    Ok(Membership {
        org: org_from(r, 0)?,
        role: OrgRole::parse(&role).ok_or_else(|| corrupt("role", &role))?,
        account: AccountId(r.try_get(5)?),
        store: r.try_get(6)?,
    })
}

const PRODUCT_COLS: &str =
    "id, org_id, title, description, category, return_class, currency, sponsored, created_at";
fn product_from(r: &AnyRow) -> Result<Product> {
    let cat: String = r.try_get(4)?;
    let rc: String = r.try_get(5)?;
    let cur: String = r.try_get(6)?;
    Ok(Product {
        id: r.try_get(0)?,
        org: r.try_get(1)?,
        title: r.try_get(2)?,
        description: r.try_get(3)?,
        category: Category::parse(&cat).ok_or_else(|| corrupt("category", &cat))?,
        return_class: ReturnClass::parse(&rc).ok_or_else(|| corrupt("return class", &rc))?,
        currency: currency(&cur)?,
        sponsored: r.try_get::<i64, _>(7)? != 0,
        created_at: UnixMillis(r.try_get(8)?),
    })
}

const FLASH_COLS: &str = "id, channel_id, show_id, org_id, store_id, sku_id, price_minor, reference_minor, currency, total_stock, per_buyer_limit, starts_at, ends_at, duration_ms, created_by, created_at";
fn flash_from(r: &AnyRow) -> Result<FlashSale> {
    let cur: String = r.try_get(8)?;
    Ok(FlashSale {
        id: r.try_get(0)?,
        channel: ChannelId(r.try_get(1)?),
        show: r.try_get::<Option<i64>, _>(2)?.map(ShowId),
        org: r.try_get(3)?,
        store: r.try_get(4)?,
        sku: r.try_get(5)?,
        price_minor: r.try_get(6)?,
        reference_minor: r.try_get(7)?,
        currency: currency(&cur)?,
        total_stock: r.try_get(9)?,
        per_buyer_limit: r.try_get(10)?,
        starts_at: opt_ms(r.try_get(11)?),
        ends_at: opt_ms(r.try_get(12)?),
        duration_ms: r.try_get(13)?,
        created_by: AccountId(r.try_get(14)?),
        created_at: UnixMillis(r.try_get(15)?),
    })
}

pub(crate) const ORDER_COLS: &str = "id, buyer_id, org_id, store_id, channel_id, show_id, flash_sale_id, state, currency, subtotal_minor, discount_minor, total_minor, coupon_id, address, exceptions_acknowledged, idempotency_key, created_at, expires_at, updated_at, carrier, tracking, delivered_at, return_reason";
pub(crate) fn order_from(r: &AnyRow) -> Result<Order> {
    let state: String = r.try_get(7)?;
    let cur: String = r.try_get(8)?;
    Ok(Order {
        id: r.try_get(0)?,
        buyer: AccountId(r.try_get(1)?),
        org: r.try_get(2)?,
        store: r.try_get(3)?,
        channel: r.try_get::<Option<i64>, _>(4)?.map(ChannelId),
        show: r.try_get::<Option<i64>, _>(5)?.map(ShowId),
        flash_sale: r.try_get(6)?,
        state: OrderState::parse(&state).ok_or_else(|| corrupt("order state", &state))?,
        currency: currency(&cur)?,
        subtotal_minor: r.try_get(9)?,
        discount_minor: r.try_get(10)?,
        total_minor: r.try_get(11)?,
        coupon: r.try_get(12)?,
        address: r.try_get(13)?,
        exceptions_acknowledged: r.try_get::<i64, _>(14)? != 0,
        idempotency_key: r.try_get(15)?,
        created_at: UnixMillis(r.try_get(16)?),
        expires_at: opt_ms(r.try_get(17)?),
        updated_at: UnixMillis(r.try_get(18)?),
        carrier: r.try_get(19)?,
        tracking: r.try_get(20)?,
        delivered_at: opt_ms(r.try_get(21)?),
        return_reason: r.try_get(22)?,
    })
}

const COUPON_COLS: &str = "id, code, issuer_org, channel_id, kind, value, currency, min_spend_minor, per_user_limit, budget_minor, spent_minor, scope, valid_from, valid_to, paused";
fn coupon_from(r: &AnyRow) -> Result<CouponRow> {
    let kind: String = r.try_get(4)?;
    let value: i64 = r.try_get(5)?;
    let cur: String = r.try_get(6)?;
    let scope: String = r.try_get(11)?;
    Ok(CouponRow {
        id: r.try_get(0)?,
        coupon: Coupon {
            code: r.try_get(1)?,
            issuer_org: r.try_get(2)?,
            channel: r.try_get(3)?,
            discount: match kind.as_str() {
                "fixed" => Discount::Fixed { minor: value },
                "percent" => Discount::Percent {
                    basis_points: value,
                },
                _ => return Err(corrupt("coupon kind", &kind)),
            },
            currency: currency(&cur)?,
            min_spend_minor: r.try_get(7)?,
            per_user_limit: r.try_get(8)?,
            budget_minor: r.try_get(9)?,
            spent_minor: r.try_get(10)?,
            scope: match scope.as_str() {
                "stream" => CouponScope::Stream,
                "store" => CouponScope::Store,
                _ => return Err(corrupt("coupon scope", &scope)),
            },
            valid_from_ms: r.try_get(12)?,
            valid_to_ms: r.try_get(13)?,
            paused: r.try_get::<i64, _>(14)? != 0,
        },
    })
}

const PAYMENT_COLS: &str =
    "id, order_id, provider, provider_ref, state, amount_minor, currency, created_at, updated_at";
fn payment_from(r: &AnyRow) -> Result<Payment> {
    let cur: String = r.try_get(6)?;
    Ok(Payment {
        id: r.try_get(0)?,
        order: r.try_get(1)?,
        provider: r.try_get(2)?,
        provider_ref: r.try_get(3)?,
        state: r.try_get(4)?,
        amount_minor: r.try_get(5)?,
        currency: currency(&cur)?,
        created_at: UnixMillis(r.try_get(7)?),
        updated_at: UnixMillis(r.try_get(8)?),
    })
}

pub(crate) fn actor_str(a: ActorKind) -> &'static str {
    match a {
        ActorKind::Buyer => "buyer",
        ActorKind::Merchant => "merchant",
        ActorKind::Payments => "payments",
        ActorKind::System => "system",
        ActorKind::Platform => "platform",
    }
}
fn actor_parse(s: &str) -> Result<ActorKind> {
    Ok(match s {
        "buyer" => ActorKind::Buyer,
        "merchant" => ActorKind::Merchant,
        "payments" => ActorKind::Payments,
        "system" => ActorKind::System,
        "platform" => ActorKind::Platform,
        _ => return Err(corrupt("actor", s)),
    })
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

fn bind_order<'q>(q: AnyQuery<'q>, o: &'q NewOrder) -> AnyQuery<'q> {
    q.bind(o.id)
        .bind(o.buyer.0)
        .bind(o.org)
        .bind(o.store)
        .bind(o.channel.map(|c| c.0))
        .bind(o.show.map(|s| s.0))
        .bind(o.flash_sale)
        .bind(OrderState::Created.as_str())
        .bind(o.currency.as_str().to_string())
        .bind(o.subtotal_minor)
        .bind(o.discount_minor)
        .bind(o.total_minor)
        .bind(o.coupon)
        .bind(o.address.as_str())
        .bind(o.exceptions_acknowledged as i64)
        .bind(o.idempotency_key.as_deref())
        .bind(o.created_at.0)
        .bind(o.expires_at.map(|t| t.0))
        .bind(o.created_at.0)
}
const ORDER_INSERT_COLS: &str = "id, buyer_id, org_id, store_id, channel_id, show_id, flash_sale_id, state, currency, subtotal_minor, discount_minor, total_minor, coupon_id, address, exceptions_acknowledged, idempotency_key, created_at, expires_at, updated_at";
const ORDER_INSERT_N: usize = 19;

#[async_trait]
impl ShopStore for SqlStore {
    async fn create_org(
        &self,
        name: &str,
        kind: OrgKind,
        owner: AccountId,
        now: UnixMillis,
    ) -> Result<Org> {
        let mut tx = self.write_tx().await?;
        let row = sqlx::query(
            "INSERT INTO organisations (name, kind, created_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(name)
        .bind(kind.as_str())
        .bind(now.0)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get(0)?;
        sqlx::query("INSERT INTO org_members (org_id, account_id, role, store_id, created_at) VALUES ($1, $2, 'owner', NULL, $3)")
            .bind(id)
            .bind(owner.0)
            .bind(now.0)
            .execute(&mut *tx)
            .await
            .map_err(|e| classify(e, "membership", "account"))?;
        tx.commit().await?;
        Ok(Org {
            id,
            name: name.to_string(),
            kind,
            created_at: now,
        })
    }

    async fn org(&self, id: OrgId) -> Result<Option<Org>> {
        let r = sqlx::query(&format!(
            "SELECT {ORG_COLS} FROM organisations o WHERE o.id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        r.map(|r| org_from(&r, 0)).transpose()
    }

    async fn memberships(&self, account: AccountId) -> Result<Vec<Membership>> {
        let rows = sqlx::query(&format!("SELECT {ORG_COLS}, m.role, m.account_id, m.store_id FROM org_members m JOIN organisations o ON o.id = m.org_id WHERE m.account_id = $1 ORDER BY o.id"))
            .bind(account.0)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(membership_from).collect()
    }

    async fn membership(&self, org: OrgId, account: AccountId) -> Result<Option<Membership>> {
        let r = sqlx::query(&format!("SELECT {ORG_COLS}, m.role, m.account_id, m.store_id FROM org_members m JOIN organisations o ON o.id = m.org_id WHERE m.org_id = $1 AND m.account_id = $2"))
            .bind(org)
            .bind(account.0)
            .fetch_optional(self.pool())
            .await?;
        r.as_ref().map(membership_from).transpose()
    }

    async fn members(&self, org: OrgId) -> Result<Vec<Membership>> {
        let rows = sqlx::query(&format!("SELECT {ORG_COLS}, m.role, m.account_id, m.store_id FROM org_members m JOIN organisations o ON o.id = m.org_id WHERE m.org_id = $1 ORDER BY m.account_id"))
            .bind(org)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(membership_from).collect()
    }

    async fn add_member(
        &self,
        org: OrgId,
        account: AccountId,
        role: OrgRole,
        store: Option<StoreId>,
        now: UnixMillis,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO org_members (org_id, account_id, role, store_id, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (org_id, account_id) DO UPDATE SET role = excluded.role, store_id = excluded.store_id",
        )
        .bind(org)
        .bind(account.0)
        .bind(role.as_str())
        .bind(store)
        .bind(now.0)
        .execute(self.pool())
        .await
        .map_err(|e| classify(e, "membership", "account, organisation or store"))?;
        Ok(())
    }

    async fn create_store(
        &self,
        org: OrgId,
        name: &str,
        city: &str,
        now: UnixMillis,
    ) -> Result<Store> {
        let r = sqlx::query("INSERT INTO stores (org_id, name, city, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
            .bind(org)
            .bind(name)
            .bind(city)
            .bind(now.0)
            .fetch_one(self.pool())
            .await
            .map_err(|e| classify(e, "store", "organisation"))?;
        Ok(Store {
            id: r.try_get(0)?,
            org,
            name: name.into(),
            city: city.into(),
        })
    }

    async fn store(&self, id: StoreId) -> Result<Option<Store>> {
        let r = sqlx::query("SELECT id, org_id, name, city FROM stores WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        r.map(|r| {
            Ok(Store {
                id: r.try_get(0)?,
                org: r.try_get(1)?,
                name: r.try_get(2)?,
                city: r.try_get(3)?,
            })
        })
        .transpose()
    }

    async fn stores(&self, org: OrgId) -> Result<Vec<Store>> {
        let rows =
            sqlx::query("SELECT id, org_id, name, city FROM stores WHERE org_id = $1 ORDER BY id")
                .bind(org)
                .fetch_all(self.pool())
                .await?;
        rows.iter()
            .map(|r| {
                Ok(Store {
                    id: r.try_get(0)?,
                    org: r.try_get(1)?,
                    name: r.try_get(2)?,
                    city: r.try_get(3)?,
                })
            })
            .collect()
    }

    async fn set_channel_shop(&self, channel: ChannelId, org: OrgId, store: StoreId) -> Result<()> {
        sqlx::query("INSERT INTO channel_shops (channel_id, org_id, store_id) VALUES ($1, $2, $3) ON CONFLICT (channel_id) DO UPDATE SET org_id = excluded.org_id, store_id = excluded.store_id")
            .bind(channel.0)
            .bind(org)
            .bind(store)
            .execute(self.pool())
            .await
            .map_err(|e| classify(e, "channel shop", "channel, organisation or store"))?;
        Ok(())
    }

    async fn channel_shop(&self, channel: ChannelId) -> Result<Option<(OrgId, StoreId)>> {
        let r = sqlx::query("SELECT org_id, store_id FROM channel_shops WHERE channel_id = $1")
            .bind(channel.0)
            .fetch_optional(self.pool())
            .await?;
        r.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
    }

    async fn create_product(&self, p: &NewProduct, now: UnixMillis) -> Result<Product> {
        let r = sqlx::query("INSERT INTO products (org_id, title, description, category, return_class, currency, sponsored, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
            .bind(p.org)
            .bind(p.title.as_str())
            .bind(p.description.as_str())
            .bind(p.category.as_str())
            .bind(p.return_class.as_str())
            .bind(p.currency.as_str().to_string())
            .bind(p.sponsored as i64)
            .bind(now.0)
            .fetch_one(self.pool())
            .await
            .map_err(|e| classify(e, "product", "organisation"))?;
        Ok(Product {
            id: r.try_get(0)?,
            org: p.org,
            title: p.title.clone(),
            description: p.description.clone(),
            category: p.category,
            return_class: p.return_class,
            currency: p.currency,
            sponsored: p.sponsored,
            created_at: now,
        })
    }

    async fn product(&self, id: ProductId) -> Result<Option<Product>> {
        let r = sqlx::query(&format!(
            "SELECT {PRODUCT_COLS} FROM products WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(product_from).transpose()
    }

    async fn products_of_org(&self, org: OrgId) -> Result<Vec<Product>> {
        let rows = sqlx::query(&format!(
            "SELECT {PRODUCT_COLS} FROM products WHERE org_id = $1 ORDER BY id"
        ))
        .bind(org)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(product_from).collect()
    }

    async fn add_sku(
        &self,
        product: ProductId,
        label: &str,
        price_minor: i64,
        now: UnixMillis,
    ) -> Result<Sku> {
        let mut tx = self.write_tx().await?;
        let r = sqlx::query("INSERT INTO skus (product_id, label, price_minor, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
            .bind(product)
            .bind(label)
            .bind(price_minor)
            .bind(now.0)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| classify(e, "sku", "product"))?;
        let id: i64 = r.try_get(0)?;
        sqlx::query("INSERT INTO price_history (sku_id, at, price_minor) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(now.0)
            .bind(price_minor)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Sku {
            id,
            product,
            label: label.into(),
            price_minor,
        })
    }

    async fn set_price(&self, sku: SkuId, price_minor: i64, now: UnixMillis) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let r = sqlx::query("UPDATE skus SET price_minor = $1 WHERE id = $2")
            .bind(price_minor)
            .bind(sku)
            .execute(&mut *tx)
            .await?;
        if r.rows_affected() == 0 {
            return Err(StorageError::NotFound { entity: "sku" });
        }
        sqlx::query("INSERT INTO price_history (sku_id, at, price_minor) VALUES ($1, $2, $3)")
            .bind(sku)
            .bind(now.0)
            .bind(price_minor)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn sku(&self, id: SkuId) -> Result<Option<Sku>> {
        let r = sqlx::query("SELECT id, product_id, label, price_minor FROM skus WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        r.map(|r| {
            Ok(Sku {
                id: r.try_get(0)?,
                product: r.try_get(1)?,
                label: r.try_get(2)?,
                price_minor: r.try_get(3)?,
            })
        })
        .transpose()
    }

    async fn skus_of_product(&self, product: ProductId) -> Result<Vec<Sku>> {
        let rows = sqlx::query(
            "SELECT id, product_id, label, price_minor FROM skus WHERE product_id = $1 ORDER BY id",
        )
        .bind(product)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Sku {
                    id: r.try_get(0)?,
                    product: r.try_get(1)?,
                    label: r.try_get(2)?,
                    price_minor: r.try_get(3)?,
                })
            })
            .collect()
    }

    async fn price_history(&self, sku: SkuId) -> Result<Vec<(i64, i64)>> {
        let rows =
            sqlx::query("SELECT at, price_minor FROM price_history WHERE sku_id = $1 ORDER BY at")
                .bind(sku)
                .fetch_all(self.pool())
                .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    async fn set_stock(&self, sku: SkuId, store: StoreId, quantity: i64) -> Result<()> {
        if quantity < 0 {
            return Err(StorageError::Corrupt("negative stock".into()));
        }
        sqlx::query("INSERT INTO stock (sku_id, store_id, quantity) VALUES ($1, $2, $3) ON CONFLICT (sku_id, store_id) DO UPDATE SET quantity = excluded.quantity")
            .bind(sku)
            .bind(store)
            .bind(quantity)
            .execute(self.pool())
            .await
            .map_err(|e| classify(e, "stock", "sku or store"))?;
        Ok(())
    }

    async fn stock(&self, sku: SkuId, store: StoreId) -> Result<i64> {
        let r = sqlx::query("SELECT quantity FROM stock WHERE sku_id = $1 AND store_id = $2")
            .bind(sku)
            .bind(store)
            .fetch_optional(self.pool())
            .await?;
        Ok(match r {
            Some(r) => r.try_get(0)?,
            None => 0,
        })
    }

    async fn take_stock(&self, sku: SkuId, store: StoreId, quantity: i64) -> Result<bool> {
        let r = sqlx::query("UPDATE stock SET quantity = quantity - $1 WHERE sku_id = $2 AND store_id = $3 AND quantity >= $1")
            .bind(quantity)
            .bind(sku)
            .bind(store)
            .execute(self.pool())
            .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn add_image(
        &self,
        product: ProductId,
        file: &str,
        content_type: &str,
        now: UnixMillis,
    ) -> Result<i64> {
        let r = sqlx::query("INSERT INTO product_images (product_id, file, content_type, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
            .bind(product)
            .bind(file)
            .bind(content_type)
            .bind(now.0)
            .fetch_one(self.pool())
            .await
            .map_err(|e| classify(e, "image", "product"))?;
        Ok(r.try_get(0)?)
    }

    async fn images(&self, product: ProductId) -> Result<Vec<(i64, String, String)>> {
        let rows = sqlx::query(
            "SELECT id, file, content_type FROM product_images WHERE product_id = $1 ORDER BY id",
        )
        .bind(product)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect()
    }

    async fn image(&self, id: i64) -> Result<Option<(String, String)>> {
        let r = sqlx::query("SELECT file, content_type FROM product_images WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        r.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
    }

    async fn set_shelf(&self, show: ShowId, products: &[ProductId]) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM show_products WHERE show_id = $1")
            .bind(show.0)
            .execute(&mut *tx)
            .await?;
        for (i, p) in products.iter().enumerate() {
            sqlx::query(
                "INSERT INTO show_products (show_id, product_id, position) VALUES ($1, $2, $3)",
            )
            .bind(show.0)
            .bind(*p)
            .bind(i as i64)
            .execute(&mut *tx)
            .await
            .map_err(|e| classify(e, "shelf entry", "show or product"))?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn shelf(&self, show: ShowId) -> Result<Vec<ProductId>> {
        let rows = sqlx::query(
            "SELECT product_id FROM show_products WHERE show_id = $1 ORDER BY position",
        )
        .bind(show.0)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    async fn pin(
        &self,
        show: ShowId,
        product: ProductId,
        now: UnixMillis,
        offset_ms: i64,
    ) -> Result<()> {
        sqlx::query("INSERT INTO pins (show_id, product_id, pinned_at, offset_ms, unpinned_at) VALUES ($1, $2, $3, $4, NULL)")
            .bind(show.0)
            .bind(product)
            .bind(now.0)
            .bind(offset_ms)
            .execute(self.pool())
            .await
            .map_err(|e| classify(e, "pin", "show or product"))?;
        Ok(())
    }

    async fn unpin(&self, show: ShowId, product: ProductId, now: UnixMillis) -> Result<bool> {
        let r = sqlx::query("UPDATE pins SET unpinned_at = $1 WHERE show_id = $2 AND product_id = $3 AND unpinned_at IS NULL")
            .bind(now.0)
            .bind(show.0)
            .bind(product)
            .execute(self.pool())
            .await?;
        Ok(r.rows_affected() > 0)
    }

    async fn close_open_pins(&self, show: ShowId, at: UnixMillis) -> Result<u64> {
        let r = sqlx::query(
            "UPDATE pins SET unpinned_at = $1 WHERE show_id = $2 AND unpinned_at IS NULL",
        )
        .bind(at.0)
        .bind(show.0)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected())
    }

    async fn pins(&self, show: ShowId) -> Result<Vec<Pin>> {
        let rows = sqlx::query("SELECT show_id, product_id, pinned_at, offset_ms, unpinned_at FROM pins WHERE show_id = $1 ORDER BY pinned_at, id").bind(show.0).fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                Ok(Pin {
                    show: ShowId(r.try_get(0)?),
                    product: r.try_get(1)?,
                    pinned_at: UnixMillis(r.try_get(2)?),
                    offset_ms: r.try_get(3)?,
                    unpinned_at: opt_ms(r.try_get(4)?),
                })
            })
            .collect()
    }

    async fn create_flash_sale(&self, s: &NewFlashSale, now: UnixMillis) -> Result<FlashSale> {
        let ends = s.starts_at.map(|t| t.plus_ms(s.duration_ms));
        let r = sqlx::query(
            "INSERT INTO flash_sales (channel_id, show_id, org_id, store_id, sku_id, price_minor, reference_minor, currency, total_stock, per_buyer_limit, starts_at, ends_at, duration_ms, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
        )
        .bind(s.channel.0)
        .bind(s.show.map(|x| x.0))
        .bind(s.org)
        .bind(s.store)
        .bind(s.sku)
        .bind(s.price_minor)
        .bind(s.reference_minor)
        .bind(s.currency.as_str().to_string())
        .bind(s.total_stock)
        .bind(s.per_buyer_limit)
        .bind(s.starts_at.map(|t| t.0))
        .bind(ends.map(|t| t.0))
        .bind(s.duration_ms)
        .bind(s.created_by.0)
        .bind(now.0)
        .fetch_one(self.pool())
        .await
        .map_err(|e| classify(e, "flash sale", "channel, show, sku or store"))?;
        Ok(FlashSale {
            id: r.try_get(0)?,
            channel: s.channel,
            show: s.show,
            org: s.org,
            store: s.store,
            sku: s.sku,
            price_minor: s.price_minor,
            reference_minor: s.reference_minor,
            currency: s.currency,
            total_stock: s.total_stock,
            per_buyer_limit: s.per_buyer_limit,
            starts_at: s.starts_at,
            ends_at: ends,
            duration_ms: s.duration_ms,
            created_by: s.created_by,
            created_at: now,
        })
    }

    async fn flash_sale(&self, id: FlashSaleId) -> Result<Option<FlashSale>> {
        let r = sqlx::query(&format!(
            "SELECT {FLASH_COLS} FROM flash_sales WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(flash_from).transpose()
    }

    async fn start_flash_sale(
        &self,
        id: FlashSaleId,
        starts_at: UnixMillis,
        ends_at: UnixMillis,
    ) -> Result<()> {
        let r = sqlx::query("UPDATE flash_sales SET starts_at = $1, ends_at = $2 WHERE id = $3")
            .bind(starts_at.0)
            .bind(ends_at.0)
            .bind(id)
            .execute(self.pool())
            .await?;
        if r.rows_affected() == 0 {
            return Err(StorageError::NotFound {
                entity: "flash sale",
            });
        }
        Ok(())
    }

    async fn open_flash_sales(&self, now: UnixMillis) -> Result<Vec<FlashSale>> {
        let rows = sqlx::query(&format!("SELECT {FLASH_COLS} FROM flash_sales WHERE ends_at IS NULL OR ends_at > $1 ORDER BY id")).bind(now.0).fetch_all(self.pool()).await?;
        rows.iter().map(flash_from).collect()
    }

    async fn flash_sales_of_channel(
        &self,
        channel: ChannelId,
        limit: i64,
    ) -> Result<Vec<FlashSale>> {
        let rows = sqlx::query(&format!(
            "SELECT {FLASH_COLS} FROM flash_sales WHERE channel_id = $1 ORDER BY id DESC LIMIT $2"
        ))
        .bind(channel.0)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(flash_from).collect()
    }

    async fn flash_reservations(&self, sale: FlashSaleId) -> Result<Vec<FlashReservation>> {
        self.materialise_all().await?;
        let rows = sqlx::query(
            "SELECT o.id, o.buyer_id, i.quantity, o.idempotency_key, o.state FROM orders o JOIN order_items i ON i.order_id = o.id \
             WHERE o.flash_sale_id = $1 ORDER BY o.id",
        )
        .bind(sale)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let state: String = r.try_get(4)?;
                Ok(FlashReservation {
                    order: r.try_get(0)?,
                    buyer: AccountId(r.try_get(1)?),
                    quantity: r.try_get(2)?,
                    key: r.try_get(3)?,
                    live: !matches!(state.as_str(), "cancelled" | "expired" | "refunded"),
                })
            })
            .collect()
    }

    async fn materialise_flash_orders(&self, max: usize) -> Result<usize> {
        self.settle_journal(JournalSlice::Oldest(max)).await
    }

    async fn create_coupon(&self, c: &Coupon, now: UnixMillis) -> Result<CouponRow> {
        let (kind, value) = match c.discount {
            Discount::Fixed { minor } => ("fixed", minor),
            Discount::Percent { basis_points } => ("percent", basis_points),
        };
        let scope = match c.scope {
            CouponScope::Stream => "stream",
            CouponScope::Store => "store",
        };
        let r = sqlx::query(
            "INSERT INTO coupons (code, issuer_org, channel_id, kind, value, currency, min_spend_minor, per_user_limit, budget_minor, spent_minor, scope, valid_from, valid_to, created_at, paused) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
        )
        .bind(c.code.as_str())
        .bind(c.issuer_org)
        .bind(c.channel)
        .bind(kind)
        .bind(value)
        .bind(c.currency.as_str().to_string())
        .bind(c.min_spend_minor)
        .bind(c.per_user_limit)
        .bind(c.budget_minor)
        .bind(c.spent_minor)
        .bind(scope)
        .bind(c.valid_from_ms)
        .bind(c.valid_to_ms)
        .bind(now.0)
        .bind(c.paused as i64)
        .fetch_one(self.pool())
        .await
        .map_err(|e| classify(e, "coupon", "organisation or channel"))?;
        Ok(CouponRow {
            id: r.try_get(0)?,
            coupon: c.clone(),
        })
    }

    async fn coupon_by_code(&self, code: &str) -> Result<Option<CouponRow>> {
        let r = sqlx::query(&format!(
            "SELECT {COUPON_COLS} FROM coupons WHERE code = $1"
        ))
        .bind(code)
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(coupon_from).transpose()
    }

    async fn coupons_of_org(&self, org: i64) -> Result<Vec<CouponListing>> {
        let rows = sqlx::query(&format!(
            "SELECT {COUPON_COLS}, (SELECT COUNT(*) FROM coupon_redemptions r WHERE r.coupon_id = coupons.id) \
             FROM coupons WHERE issuer_org = $1 ORDER BY id DESC LIMIT 500"
        ))
        .bind(org)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CouponListing {
                    row: coupon_from(r)?,
                    redemptions: r.try_get(15)?,
                })
            })
            .collect()
    }

    async fn coupon(&self, id: CouponId) -> Result<Option<CouponRow>> {
        let r = sqlx::query(&format!("SELECT {COUPON_COLS} FROM coupons WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        r.as_ref().map(coupon_from).transpose()
    }

    async fn set_coupon_paused(&self, id: CouponId, paused: bool) -> Result<()> {
        sqlx::query("UPDATE coupons SET paused = $1 WHERE id = $2")
            .bind(paused as i64)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn end_coupon(&self, id: CouponId, now: UnixMillis) -> Result<()> {
        sqlx::query("UPDATE coupons SET valid_to = $1 WHERE id = $2 AND valid_to > $1")
            .bind(now.0)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn coupon_uses(&self, coupon: CouponId, account: AccountId) -> Result<i64> {
        let r = sqlx::query(
            "SELECT COUNT(*) FROM coupon_redemptions WHERE coupon_id = $1 AND account_id = $2",
        )
        .bind(coupon)
        .bind(account.0)
        .fetch_one(self.pool())
        .await?;
        Ok(r.try_get(0)?)
    }

    async fn order_by_key(&self, buyer: AccountId, key: &str) -> Result<Option<Order>> {
        let r = sqlx::query(&format!(
            "SELECT {ORDER_COLS} FROM orders WHERE buyer_id = $1 AND idempotency_key = $2"
        ))
        .bind(buyer.0)
        .bind(key)
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(order_from).transpose()
    }

    async fn place_order(&self, o: &NewOrder) -> std::result::Result<Order, PlaceError> {
        if let Some(k) = &o.idempotency_key {
            if let Some(existing) = self.order_by_key(o.buyer, k).await? {
                return Err(PlaceError::Repeat(existing.id));
            }
        }
        let mut tx = self.write_tx().await?;
        if o.take_stock {
            for it in &o.items {
                let r = sqlx::query("UPDATE stock SET quantity = quantity - $1 WHERE sku_id = $2 AND store_id = $3 AND quantity >= $1")
                    .bind(it.quantity)
                    .bind(it.sku)
                    .bind(o.store)
                    .execute(&mut *tx)
                    .await?;
                if r.rows_affected() == 0 {
                    return Err(PlaceError::OutOfStock(it.sku));
                }
            }
        }
        if let Some(c) = o.coupon {
            // The update takes the coupon's row lock first (PostgreSQL), so concurrent orders
            // with one coupon see each other's redemptions when they count below.
            let r = sqlx::query("UPDATE coupons SET spent_minor = spent_minor + $1 WHERE id = $2 AND spent_minor + $1 <= budget_minor")
                .bind(o.discount_minor)
                .bind(c)
                .execute(&mut *tx)
                .await?;
            if r.rows_affected() == 0 {
                return Err(PlaceError::CouponBudgetSpent);
            }
            let row = sqlx::query("SELECT c.per_user_limit, (SELECT COUNT(*) FROM coupon_redemptions r WHERE r.coupon_id = c.id AND r.account_id = $1) FROM coupons c WHERE c.id = $2")
                .bind(o.buyer.0)
                .bind(c)
                .fetch_one(&mut *tx)
                .await?;
            let (limit, used): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
            if used >= limit {
                return Err(PlaceError::CouponUsedUp);
            }
        }
        let sql = format!(
            "INSERT INTO orders ({ORDER_INSERT_COLS}) VALUES {}",
            values(1, ORDER_INSERT_N, self.backend)
        );
        if let Err(e) = bind_order(sqlx::query(&sql), o).execute(&mut *tx).await {
            drop(tx);
            if let (sqlx::Error::Database(db), Some(k)) = (&e, &o.idempotency_key) {
                if db.is_unique_violation() {
                    if let Some(existing) = self.order_by_key(o.buyer, k).await? {
                        return Err(PlaceError::Repeat(existing.id));
                    }
                }
            }
            return Err(PlaceError::Storage(classify(
                e,
                "order",
                "buyer, organisation or store",
            )));
        }
        insert_items_and_events(&mut tx, std::slice::from_ref(o), self.backend).await?;
        if let Some(c) = o.coupon {
            sqlx::query("INSERT INTO coupon_redemptions (coupon_id, account_id, order_id, amount_minor, at) VALUES ($1, $2, $3, $4, $5)")
                .bind(c)
                .bind(o.buyer.0)
                .bind(o.id)
                .bind(o.discount_minor)
                .bind(o.created_at.0)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(self
            .order(o.id)
            .await?
            .ok_or(StorageError::NotFound { entity: "order" })?)
    }

    async fn place_flash_orders(&self, orders: std::sync::Arc<[NewOrder]>) -> Result<()> {
        if orders.is_empty() {
            return Ok(());
        }
        if let Some(path) = &self.sqlite_path {
            return place_flash_orders_sqlite(path, &self.flash_conn, orders).await;
        }
        let mut tx = self.write_tx().await?;
        for chunk in orders.chunks(200) {
            let sql = format!(
                "INSERT INTO orders ({ORDER_INSERT_COLS}) VALUES {}",
                values(chunk.len(), ORDER_INSERT_N, self.backend)
            );
            let mut q = sqlx::query(&sql);
            for o in chunk {
                q = bind_order(q, o);
            }
            q.execute(&mut *tx)
                .await
                .map_err(|e| classify(e, "order", "buyer, organisation or store"))?;
        }
        insert_items_and_events(&mut tx, &orders, self.backend).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn order(&self, id: OrderId) -> Result<Option<Order>> {
        let q = format!("SELECT {ORDER_COLS} FROM orders WHERE id = $1");
        let mut r = sqlx::query(&q).bind(id).fetch_optional(self.pool()).await?;
        if r.is_none() {
            // Still journalled, or moved by a concurrent reader since the read above (then
            // `materialise_order` finds nothing to move): read again either way.
            self.materialise_order(id).await?;
            r = sqlx::query(&q).bind(id).fetch_optional(self.pool()).await?;
        }
        r.as_ref().map(order_from).transpose()
    }

    async fn order_items(&self, id: OrderId) -> Result<Vec<OrderItem>> {
        self.materialise_order(id).await?;
        let rows = sqlx::query("SELECT sku_id, product_id, title, quantity, unit_price_minor, return_class FROM order_items WHERE order_id = $1").bind(id).fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                let rc: String = r.try_get(5)?;
                Ok(OrderItem {
                    sku: r.try_get(0)?,
                    product: r.try_get(1)?,
                    title: r.try_get(2)?,
                    quantity: r.try_get(3)?,
                    unit_price_minor: r.try_get(4)?,
                    return_class: ReturnClass::parse(&rc)
                        .ok_or_else(|| corrupt("return class", &rc))?,
                })
            })
            .collect()
    }

    async fn order_events(&self, id: OrderId) -> Result<Vec<OrderEvent>> {
        self.materialise_order(id).await?;
        let rows = sqlx::query("SELECT from_state, to_state, actor_kind, actor_id, note, at FROM order_events WHERE order_id = $1 ORDER BY id").bind(id).fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                let from: Option<String> = r.try_get(0)?;
                let to: String = r.try_get(1)?;
                let actor: String = r.try_get(2)?;
                Ok(OrderEvent {
                    from: from
                        .map(|f| OrderState::parse(&f).ok_or_else(|| corrupt("order state", &f)))
                        .transpose()?,
                    to: OrderState::parse(&to).ok_or_else(|| corrupt("order state", &to))?,
                    actor_kind: actor_parse(&actor)?,
                    actor: r.try_get::<Option<i64>, _>(3)?.map(AccountId),
                    note: r.try_get(4)?,
                    at: UnixMillis(r.try_get(5)?),
                })
            })
            .collect()
    }

    async fn orders_of_buyer(&self, buyer: AccountId, limit: i64) -> Result<Vec<Order>> {
        self.materialise_all().await?;
        let rows = sqlx::query(&format!("SELECT {ORDER_COLS} FROM orders WHERE buyer_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2")).bind(buyer.0).bind(limit).fetch_all(self.pool()).await?;
        rows.iter().map(order_from).collect()
    }

    async fn orders_of_org(
        &self,
        org: OrgId,
        f: &OrderFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Order>> {
        self.materialise_all().await?;
        let search = f.search.as_deref().map(str::trim).filter(|q| !q.is_empty());
        let rows = sqlx::query(&format!(
            "SELECT {ORDER_COLS} FROM orders WHERE org_id = $1 AND ($2 IS NULL OR state = $2) AND ($3 IS NULL OR show_id = $3) \
             AND ($4 IS NULL OR created_at >= $4) AND ($5 IS NULL OR created_at < $5) \
             AND ($8 IS NULL OR id = $9 OR buyer_id IN (SELECT id FROM accounts WHERE LOWER(email) LIKE $8 ESCAPE '\\')) \
             ORDER BY created_at DESC, id DESC LIMIT $6 OFFSET $7"
        ))
        .bind(org)
        .bind(f.state.map(|s| s.as_str()))
        .bind(f.show.map(|s| s.0))
        .bind(f.from.map(|t| t.0))
        .bind(f.to.map(|t| t.0))
        .bind(limit)
        .bind(offset)
        // The e-mail as a LIKE pattern with its wildcards escaped; the id when it is a number.
        .bind(search.as_ref().map(|q| {
            let q = q.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            format!("%{q}%")
        }))
        .bind(search.as_ref().and_then(|q| q.parse::<i64>().ok()))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(order_from).collect()
    }

    async fn transition_order(
        &self,
        id: OrderId,
        from: OrderState,
        to: OrderState,
        actor: ActorKind,
        actor_id: Option<AccountId>,
        note: &str,
        fields: &TransitionFields,
        now: UnixMillis,
    ) -> Result<()> {
        self.materialise_order(id).await?;
        let mut tx = self.write_tx().await?;
        let r = sqlx::query(
            "UPDATE orders SET state = $1, updated_at = $2, carrier = COALESCE($3, carrier), tracking = COALESCE($4, tracking), \
             delivered_at = COALESCE($5, delivered_at), return_reason = COALESCE($6, return_reason) WHERE id = $7 AND state = $8",
        )
        .bind(to.as_str())
        .bind(now.0)
        .bind(fields.carrier.as_deref())
        .bind(fields.tracking.as_deref())
        .bind(fields.delivered_at.map(|t| t.0))
        .bind(fields.return_reason.as_deref())
        .bind(id)
        .bind(from.as_str())
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 0 {
            return Err(StorageError::Conflict {
                entity: "order state",
            });
        }
        sqlx::query("INSERT INTO order_events (order_id, from_state, to_state, actor_kind, actor_id, note, at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(id)
            .bind(from.as_str())
            .bind(to.as_str())
            .bind(actor_str(actor))
            .bind(actor_id.map(|a| a.0))
            .bind(note)
            .bind(now.0)
            .execute(&mut *tx)
            .await?;
        if from.holds_stock() && !to.holds_stock() {
            // An ordinary order's items go back on the store's shelf; a flash sale's stock
            // is its own and the sale engine releases it.
            sqlx::query(
                "UPDATE stock SET quantity = quantity + (SELECT COALESCE(SUM(i.quantity), 0) FROM order_items i JOIN orders o ON o.id = i.order_id \
                 WHERE i.order_id = $1 AND i.sku_id = stock.sku_id AND o.flash_sale_id IS NULL) \
                 WHERE store_id = (SELECT store_id FROM orders WHERE id = $1) AND sku_id IN (SELECT sku_id FROM order_items WHERE order_id = $1)",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        if matches!(to, OrderState::Cancelled | OrderState::Expired) {
            // An order that never went through gives its coupon back: the campaign's budget
            // and the buyer's use (the order row keeps its discount and coupon for the record).
            sqlx::query(
                "UPDATE coupons SET spent_minor = spent_minor - (SELECT COALESCE(SUM(r.amount_minor), 0) FROM coupon_redemptions r WHERE r.order_id = $1 AND r.coupon_id = coupons.id) \
                 WHERE id IN (SELECT coupon_id FROM coupon_redemptions WHERE order_id = $1)",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM coupon_redemptions WHERE order_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn expired_reservations(&self, now: UnixMillis, limit: i64) -> Result<Vec<Order>> {
        // Only the journal's expired rows move: moving all of it would put every buyer-keyed
        // index write of a running sale on this job (measured: 13% of the server's CPU).
        self.settle_journal(JournalSlice::ExpiredBy {
            now,
            limit: limit.max(0) as usize,
        })
        .await?;
        let rows = sqlx::query(&format!("SELECT {ORDER_COLS} FROM orders WHERE state = 'created' AND expires_at IS NOT NULL AND expires_at <= $1 ORDER BY expires_at LIMIT $2"))
            .bind(now.0)
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(order_from).collect()
    }

    async fn create_payment(
        &self,
        order: OrderId,
        provider: &str,
        provider_ref: &str,
        amount_minor: i64,
        currency: Currency,
        now: UnixMillis,
    ) -> Result<Payment> {
        self.materialise_order(order).await?;
        let r = sqlx::query("INSERT INTO payments (order_id, provider, provider_ref, state, amount_minor, currency, created_at, updated_at) VALUES ($1, $2, $3, 'pending', $4, $5, $6, $6) RETURNING id")
            .bind(order)
            .bind(provider)
            .bind(provider_ref)
            .bind(amount_minor)
            .bind(currency.as_str().to_string())
            .bind(now.0)
            .fetch_one(self.pool())
            .await
            .map_err(|e| classify(e, "payment", "order"))?;
        Ok(Payment {
            id: r.try_get(0)?,
            order,
            provider: provider.into(),
            provider_ref: provider_ref.into(),
            state: "pending".into(),
            amount_minor,
            currency,
            created_at: now,
            updated_at: now,
        })
    }

    async fn payment_by_ref(&self, provider: &str, provider_ref: &str) -> Result<Option<Payment>> {
        let r = sqlx::query(&format!(
            "SELECT {PAYMENT_COLS} FROM payments WHERE provider = $1 AND provider_ref = $2"
        ))
        .bind(provider)
        .bind(provider_ref)
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(payment_from).transpose()
    }

    async fn payments_of_order(&self, order: OrderId) -> Result<Vec<Payment>> {
        let rows = sqlx::query(&format!(
            "SELECT {PAYMENT_COLS} FROM payments WHERE order_id = $1 ORDER BY id"
        ))
        .bind(order)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(payment_from).collect()
    }

    async fn set_payment_state(
        &self,
        id: i64,
        from: &str,
        to: &str,
        now: UnixMillis,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE payments SET state = $1, updated_at = $2 WHERE id = $3 AND state = $4",
        )
        .bind(to)
        .bind(now.0)
        .bind(id)
        .bind(from)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn pending_payments(&self, older_than: UnixMillis, limit: i64) -> Result<Vec<Payment>> {
        let rows = sqlx::query(&format!("SELECT {PAYMENT_COLS} FROM payments WHERE state = 'pending' AND updated_at <= $1 ORDER BY updated_at LIMIT $2")).bind(older_than.0).bind(limit).fetch_all(self.pool()).await?;
        rows.iter().map(payment_from).collect()
    }

    async fn first_webhook(&self, provider: &str, event_id: &str, now: UnixMillis) -> Result<bool> {
        let r = sqlx::query("INSERT INTO webhook_events (provider, event_id, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING").bind(provider).bind(event_id).bind(now.0).execute(self.pool()).await?;
        Ok(r.rows_affected() == 1)
    }
}

async fn insert_items_and_events(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    orders: &[NewOrder],
    backend: Backend,
) -> Result<()> {
    let items: Vec<(&NewOrder, &OrderItem)> = orders
        .iter()
        .flat_map(|o| o.items.iter().map(move |i| (o, i)))
        .collect();
    for chunk in items.chunks(400) {
        let sql = format!("INSERT INTO order_items (order_id, sku_id, product_id, title, quantity, unit_price_minor, return_class) VALUES {}", values(chunk.len(), 7, backend));
        let mut q = sqlx::query(&sql);
        for (o, i) in chunk {
            q = q
                .bind(o.id)
                .bind(i.sku)
                .bind(i.product)
                .bind(i.title.as_str())
                .bind(i.quantity)
                .bind(i.unit_price_minor)
                .bind(i.return_class.as_str());
        }
        q.execute(&mut **tx)
            .await
            .map_err(|e| classify(e, "order item", "sku or product"))?;
    }
    for chunk in orders.chunks(500) {
        let sql = format!("INSERT INTO order_events (order_id, from_state, to_state, actor_kind, actor_id, note, at) VALUES {}", values(chunk.len(), 7, backend));
        let mut q = sqlx::query(&sql);
        for o in chunk {
            q = q
                .bind(o.id)
                .bind(None::<String>)
                .bind("created")
                .bind("buyer")
                .bind(Some(o.buyer.0))
                .bind("placed")
                .bind(o.created_at.0);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// The flash-sale writer's connection to an SQLite file, opened on first use: automatic
/// checkpoints off (the store's checkpoint task does them beside it, so a commit never waits for
/// one).
fn flash_connection(
    path: &std::path::Path,
    guard: &mut Option<rusqlite::Connection>,
) -> Result<()> {
    if guard.is_none() {
        let c = rusqlite::Connection::open(path)?;
        c.execute_batch(crate::SQLITE_PRAGMAS)?;
        // 64 MiB of page cache: the ledger's per-account index takes appends at one leaf per
        // active account (thousands), which a 2 MiB default cache re-reads on every batch.
        c.execute_batch("PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = -65536;")?;
        *guard = Some(c);
    }
    Ok(())
}

/// Runs `f` on the flash-sale writer's connection in the blocking pool.
pub(crate) async fn with_flash_conn<T: Send + 'static>(
    path: &std::path::Path,
    conn: &FlashConn,
    f: impl FnOnce(&mut rusqlite::Connection) -> Result<T> + Send + 'static,
) -> Result<T> {
    let (path, conn) = (path.to_path_buf(), conn.clone());
    tokio::task::spawn_blocking(move || -> Result<T> {
        let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
        flash_connection(&path, &mut guard)?;
        f(guard.as_mut().expect("opened above"))
    })
    .await
    .map_err(|e| StorageError::Corrupt(format!("flash writer: {e}")))?
}

pub(crate) type FlashConn = std::sync::Arc<std::sync::Mutex<Option<rusqlite::Connection>>>;

/// The flash-sale group commit on an SQLite file: one transaction appending one
/// `flash_journal` row per order. The journal's only key is the order id, which grows, so a
/// commit dirties a few tail pages however many orders it holds; the orders' own indexes (two
/// of them keyed by buyer, i.e. random) are written later by [`move_flash_journal`]. Measured in
/// `hawker-bench flash`: writing orders, items and events here directly cost ~39 µs per order,
/// most of it WAL frames of the buyer-keyed index pages each commit dirtied.
async fn place_flash_orders_sqlite(
    path: &std::path::Path,
    conn: &FlashConn,
    orders: std::sync::Arc<[NewOrder]>,
) -> Result<()> {
    with_flash_conn(path, conn, move |c| {
        let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        {
            let mut row = tx.prepare_cached(
                // An id already among the order rows is refused here, as the journal's own key
                // refuses one still in the journal: a row that could never move is never taken.
                "INSERT INTO flash_journal (order_id, sale_id, buyer_id, quantity, unit_price_minor, title, return_class, \
                 exceptions_acknowledged, idempotency_key, address, created_at, expires_at) \
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12 WHERE NOT EXISTS (SELECT 1 FROM orders WHERE id = ?1)",
            )?;
            for o in orders.iter() {
                let (Some(sale), [item], Some(expires)) = (o.flash_sale, o.items.as_slice(), o.expires_at)
                else {
                    return Err(StorageError::Corrupt(format!(
                        "flash order {} needs a sale, one item and an expiry",
                        o.id
                    )));
                };
                if row.execute(rusqlite::params![
                    o.id,
                    sale,
                    o.buyer.0,
                    item.quantity,
                    item.unit_price_minor,
                    item.title,
                    item.return_class.as_str(),
                    o.exceptions_acknowledged as i64,
                    o.idempotency_key,
                    o.address,
                    o.created_at.0,
                    expires.0,
                ])
                .map_err(|e| embedded(e, "order", "sale"))?
                    == 0
                {
                    return Err(StorageError::Conflict { entity: "order" });
                }
            }
        }
        tx.commit()?;
        Ok(())
    })
    .await
}

impl SqlStore {
    /// Moves a slice of the flash journal (SQLite files only; nothing elsewhere).
    async fn settle_journal(&self, slice: JournalSlice) -> Result<usize> {
        let Some(path) = &self.sqlite_path else {
            return Ok(0);
        };
        with_flash_conn(path, &self.flash_conn, move |c| {
            move_flash_journal(c, slice)
        })
        .await
    }

    /// Before a read over many orders: every journalled order becomes an order row.
    async fn materialise_all(&self) -> Result<()> {
        const CHUNK: usize = 20_000;
        while self.settle_journal(JournalSlice::Oldest(CHUNK)).await? == CHUNK {}
        Ok(())
    }

    /// Before a read or write of one order: if it is still journalled, it becomes a row now.
    pub(crate) async fn materialise_order(&self, id: OrderId) -> Result<bool> {
        Ok(self.settle_journal(JournalSlice::Order(id)).await? > 0)
    }
}

/// Which journal rows to move.
#[derive(Debug, Clone, Copy)]
pub(crate) enum JournalSlice {
    /// The oldest `n`.
    Oldest(usize),
    /// One order, if it is still in the journal.
    Order(OrderId),
    /// The oldest rows, at most `limit`, up to the first whose reservation has not expired at
    /// `now`. Rows are appended in id order by one writer with one reservation length, so
    /// their expiries rise with their ids: the expired ones are a prefix, and finding them
    /// reads one row past it instead of the whole journal. (After a restart with a shorter
    /// reservation, rows behind a longer-lived one wait for it: late, never early.)
    ExpiredBy { now: UnixMillis, limit: usize },
}

/// Moves journal rows into `orders`, `order_items` and `order_events` and deletes them from the
/// journal, all in one transaction: a flash order is in exactly one of the two places, and a
/// crash at any point leaves it in one of them. Set-based statements over the slice, on the
/// writer's connection (the one that appends), so the two never wait on each other's locks.
fn move_flash_journal(c: &mut rusqlite::Connection, slice: JournalSlice) -> Result<usize> {
    // Most calls find nothing to move: answer that without taking the write lock.
    let any: bool = match slice {
        JournalSlice::Oldest(_) => c
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM flash_journal)")?
            .query_row([], |r| r.get(0))?,
        JournalSlice::Order(id) => c
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM flash_journal WHERE order_id = ?)")?
            .query_row([id], |r| r.get(0))?,
        JournalSlice::ExpiredBy { now, .. } => c
            .prepare_cached(
                "SELECT COALESCE((SELECT expires_at <= ? FROM flash_journal ORDER BY order_id LIMIT 1), 0)",
            )?
            .query_row([now.0], |r| r.get(0))?,
    };
    if !any {
        return Ok(0);
    }
    let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let (cond, arg) = match slice {
        JournalSlice::Oldest(n) => {
            let upto: Option<i64> = tx.query_row(
                "SELECT MAX(order_id) FROM (SELECT order_id FROM flash_journal ORDER BY order_id LIMIT ?)",
                [n as i64],
                |r| r.get(0),
            )?;
            let Some(upto) = upto else {
                return Ok(0);
            };
            ("j.order_id <= ?1", upto)
        }
        JournalSlice::Order(id) => ("j.order_id = ?1", id),
        JournalSlice::ExpiredBy { now, limit } => {
            let mut upto = None;
            {
                let mut rows = tx.prepare_cached(
                    "SELECT order_id, expires_at FROM flash_journal ORDER BY order_id LIMIT ?",
                )?;
                let mut rows = rows.query([limit as i64])?;
                while let Some(r) = rows.next()? {
                    if r.get::<_, i64>(1)? > now.0 {
                        break;
                    }
                    upto = Some(r.get::<_, i64>(0)?);
                }
            }
            let Some(upto) = upto else {
                return Ok(0);
            };
            ("j.order_id <= ?1", upto)
        }
    };
    let moved = tx
        .prepare_cached(&format!(
            "INSERT INTO orders ({ORDER_INSERT_COLS}) \
             SELECT j.order_id, j.buyer_id, s.org_id, s.store_id, s.channel_id, s.show_id, j.sale_id, 'created', s.currency, \
             j.unit_price_minor * j.quantity, 0, j.unit_price_minor * j.quantity, NULL, j.address, j.exceptions_acknowledged, \
             j.idempotency_key, j.created_at, j.expires_at, j.created_at \
             FROM flash_journal j JOIN flash_sales s ON s.id = j.sale_id WHERE {cond} ORDER BY j.order_id"
        ))?
        .execute([arg])
        .map_err(|e| embedded(e, "order", "buyer, organisation or store"))?;
    tx.prepare_cached(&format!(
        "INSERT INTO order_items (order_id, sku_id, product_id, title, quantity, unit_price_minor, return_class) \
         SELECT j.order_id, s.sku_id, k.product_id, j.title, j.quantity, j.unit_price_minor, j.return_class \
         FROM flash_journal j JOIN flash_sales s ON s.id = j.sale_id JOIN skus k ON k.id = s.sku_id WHERE {cond} ORDER BY j.order_id"
    ))?
    .execute([arg])
    .map_err(|e| embedded(e, "order item", "sku or product"))?;
    tx.prepare_cached(&format!(
        "INSERT INTO order_events (order_id, from_state, to_state, actor_kind, actor_id, note, at) \
         SELECT j.order_id, NULL, 'created', 'buyer', j.buyer_id, 'placed', j.created_at FROM flash_journal j WHERE {cond} ORDER BY j.order_id"
    ))?
    .execute([arg])?;
    let deleted = tx
        .prepare_cached(&format!("DELETE FROM flash_journal AS j WHERE {cond}"))?
        .execute([arg])?;
    if deleted != moved {
        // A journal row whose sale is gone: keep everything where it was and say so.
        return Err(StorageError::Corrupt(format!(
            "flash journal: {deleted} rows, {moved} orders (a sale missing?)"
        )));
    }
    tx.commit()?;
    Ok(moved)
}

fn embedded(e: rusqlite::Error, entity: &'static str, referenced: &'static str) -> StorageError {
    if let rusqlite::Error::SqliteFailure(f, _) = &e {
        match f.extended_code {
            rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                return StorageError::Conflict { entity }
            }
            rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY => {
                return StorageError::NotFound { entity: referenced }
            }
            _ => {}
        }
    }
    StorageError::Embedded(e)
}
