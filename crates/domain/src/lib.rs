//! The nouns every other Hawker crate speaks: who someone is ([`Account`], [`Role`]), where they
//! broadcast ([`Channel`], [`StreamKey`]) and what they broadcast ([`Show`] and its life cycle).
//!
//! Plain data and rules only: no I/O, no clock. Time is passed in as [`UnixMillis`].

pub mod account;
pub mod channel;
pub mod moderation;
pub mod money;
pub mod secret;
pub mod show;
pub mod text;

pub use account::{Account, AccountId, DisplayName, Email, PasswordHash, Role};
pub use channel::{Channel, ChannelId, Slug, StreamKey};
pub use moderation::{ModeratorRights, SanctionKind};
pub use money::{Currency, Money, MoneyError};
pub use secret::{ApiToken, SessionToken, TokenHash};
pub use show::{Show, ShowId, ShowState, ShowTransitionError};

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch, UTC. Stored as a 64-bit integer in every backend so that
/// SQLite and PostgreSQL agree to the millisecond.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnixMillis(pub i64);

impl UnixMillis {
    pub fn now() -> Self {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        UnixMillis(d.as_millis() as i64)
    }

    pub fn plus_ms(self, ms: i64) -> Self {
        UnixMillis(self.0.saturating_add(ms))
    }
}

/// Rejections of user-supplied values; each carries a stable machine code for problem+json.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
}

impl ValidationError {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        ValidationError::Invalid {
            field,
            reason: reason.into(),
        }
    }
}
