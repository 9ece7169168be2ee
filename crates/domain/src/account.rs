//! Accounts, roles and passwords.

use crate::{UnixMillis, ValidationError};
use argon2::password_hash::{rand_core::OsRng, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccountId(pub i64);

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What an account may do on the platform as a whole. Roles inside an organisation (owner,
/// manager, fulfilment, ...) are a separate, per-organisation grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Watches, chats and buys.
    Viewer,
    /// Owns channels and broadcasts.
    Streamer,
    /// Runs the platform: every channel, every account.
    PlatformAdmin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Streamer => "streamer",
            Role::PlatformAdmin => "platform_admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "viewer" => Some(Role::Viewer),
            "streamer" => Some(Role::Streamer),
            "platform_admin" => Some(Role::PlatformAdmin),
            _ => None,
        }
    }

    /// May this role own and broadcast on channels?
    pub fn may_broadcast(self) -> bool {
        matches!(self, Role::Streamer | Role::PlatformAdmin)
    }
}

/// A normalised (trimmed, lower-cased) e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let s = raw.trim().to_lowercase();
        let valid = s.len() <= 254
            && s.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !s.chars().any(|c| c.is_whitespace() || c.is_control())
            })
            && s.matches('@').count() == 1;
        if valid {
            Ok(Email(s))
        } else {
            Err(ValidationError::invalid(
                "email",
                "must be an address like name@example.com",
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The name shown beside a person's comments and on their channel.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let s = raw.trim();
        let chars = s.chars().count();
        if chars == 0 || chars > 60 {
            return Err(ValidationError::invalid(
                "display_name",
                "must be 1 to 60 characters",
            ));
        }
        if s.chars().any(|c| c.is_control()) {
            return Err(ValidationError::invalid(
                "display_name",
                "must not contain control characters",
            ));
        }
        Ok(DisplayName(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An argon2id PHC string. Never holds a plaintext password.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(..)")
    }
}

pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_BYTES: usize = 1024;

impl PasswordHash {
    /// Hashes with argon2id and the crate's defaults (19 MiB, 2 passes): OWASP's baseline.
    /// Takes tens of milliseconds on purpose; call it off the async executor.
    pub fn create(password: &str) -> Result<Self, ValidationError> {
        if password.chars().count() < MIN_PASSWORD_CHARS {
            return Err(ValidationError::invalid(
                "password",
                format!("must be at least {MIN_PASSWORD_CHARS} characters"),
            ));
        }
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(ValidationError::invalid("password", "is too long"));
        }
        let salt = SaltString::generate(&mut OsRng);
        let phc = Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| ValidationError::invalid("password", e.to_string()))?
            .to_string();
        Ok(PasswordHash(phc))
    }

    pub fn from_stored(phc: String) -> Self {
        PasswordHash(phc)
    }

    pub fn as_phc(&self) -> &str {
        &self.0
    }

    pub fn verify(&self, password: &str) -> bool {
        if password.len() > MAX_PASSWORD_BYTES {
            return false;
        }
        match argon2::password_hash::PasswordHash::new(&self.0) {
            Ok(parsed) => Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub email: Email,
    pub display_name: DisplayName,
    pub password: PasswordHash,
    pub role: Role,
    pub created_at: UnixMillis,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_round_trip_is_argon2id() {
        let h = PasswordHash::create("correct horse battery").unwrap();
        assert!(h.as_phc().starts_with("$argon2id$"));
        assert!(h.verify("correct horse battery"));
        assert!(!h.verify("correct horse batterx"));
        assert!(PasswordHash::create("short").is_err());
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Li@Farm.Example ").unwrap().as_str(),
            "li@farm.example"
        );
        for bad in ["", "a", "a@b", "@b.c", "a@@b.c", "a b@c.d", "a@.c", "a@c."] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn roles_round_trip() {
        for r in [Role::Viewer, Role::Streamer, Role::PlatformAdmin] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
    }
}
