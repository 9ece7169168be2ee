//! Money without I/O. Every movement of money is a [`Transaction`]: entries on [`AccountRef`]s
//! that sum to zero per currency. The [`Ledger`] state machine checks and applies them (balance,
//! overdraw, idempotent posting keys); storage writes what it accepted. [`postings`] turns the
//! events of the shop (an order paid, returned, settled; a gift; a payout) into transactions,
//! and [`split`] divides an amount exactly.

pub mod account;
pub mod ledger;
pub mod postings;
pub mod split;

pub use account::{AccountRef, Party, Purpose};
pub use ledger::{Entry, Ledger, LedgerError, Posted, Transaction};
