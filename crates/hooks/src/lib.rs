//! Outbound webhooks for sellers' systems.
//!
//! The database's triggers write an outbox row in the same transaction as every order state
//! change and every show going live or ending (for organisations with a subscription), so no
//! code path can change an order without its event. The worker fans each event out to the
//! subscriptions that want its topic, fixing the body once, and sends each delivery signed
//! ([`signing`]), retrying on the [`retry`] plan for a day; every attempt is logged and a
//! delivery can be sent again from the merchant console.

pub mod retry;
mod service;
pub mod signing;

pub use retry::RetryPlan;
pub use service::{DeliveryDetail, Pass, WebhookConfig, WebhookError, Webhooks, TOPICS};
