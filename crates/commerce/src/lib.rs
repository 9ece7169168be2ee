//! The shop's rules, without I/O: who in an organisation may do what, what a product is, how an
//! order moves, when a return is allowed under each law profile, what a coupon takes off, what
//! reference price may be shown, the flash-sale book that never oversells, what a product card
//! must disclose (paid promotion, the host's use) and the rules and winner selection of prize
//! draws.
//! Money is always `hawker_domain::Money`: integer minor units with a currency.

pub mod catalog;
pub mod coupon;
pub mod defect;
pub mod disclosure;
pub mod draw;
pub mod flash;
pub mod ids;
pub mod law;
pub mod lead;
pub mod order;
pub mod org;
pub mod pricing;
