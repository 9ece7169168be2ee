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

mod catalog;
mod coupons;
mod orders;
mod orgs;
mod payments;
mod sales;
mod showcase;

pub use catalog::CatalogStore;
pub use coupons::CouponStore;
pub use orders::OrderStore;
pub(crate) use orders::{step_order, OrderStep};
pub use orgs::OrgStore;
pub use payments::PaymentStore;
pub use sales::FlashSaleStore;
pub use showcase::ShowcaseStore;

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

/// Everything the shop stores, one trait per concern; `Store` carries them all.
pub trait ShopStore:
    OrgStore + CatalogStore + ShowcaseStore + FlashSaleStore + CouponStore + OrderStore + PaymentStore
{
}

impl<T> ShopStore for T where
    T: OrgStore
        + CatalogStore
        + ShowcaseStore
        + FlashSaleStore
        + CouponStore
        + OrderStore
        + PaymentStore
{
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
pub(crate) const ORDER_INSERT_COLS: &str = "id, buyer_id, org_id, store_id, channel_id, show_id, flash_sale_id, state, currency, subtotal_minor, discount_minor, total_minor, coupon_id, address, exceptions_acknowledged, idempotency_key, created_at, expires_at, updated_at";
const ORDER_INSERT_N: usize = 19;

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
