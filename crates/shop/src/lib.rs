//! The shop at the edge: checkout and orders over storage, the flash-sale engine, payments
//! through a `PaymentProvider`, and the jobs that keep orders consistent (reservation expiry,
//! payment reconciliation, completion after the return window).

pub mod flash;
pub mod guard;
pub mod payments;
mod service;

pub use service::{
    BuyerAction, CheckoutItem, CheckoutRequest, ComplaintFiling, ComplaintVerdict, CouponAction,
    DrawRequest, EntryDisclosure, GuardianDecision, Hook, MerchantAction, NewCoupon,
    NewSaleRequest, NewSlotRequest, PinnedCard, Resolution, Shelf, ShelfCard, ShelfEntry, Shop,
    ShopConfig, ShopError, ShopEvents, MAX_CLAIM_PHOTOS,
};
