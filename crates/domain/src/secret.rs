//! Bearer secrets (session cookies, API tokens). Only their SHA-256 is stored, so a leaked
//! database does not let anyone log in; the plaintext exists once, in the response that creates it.

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::fmt;

/// Hex SHA-256 of a bearer secret: what the storage layer keeps and looks up.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(pub String);

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({}…)", &self.0[..8.min(self.0.len())])
    }
}

fn random_token(prefix: &str) -> String {
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    )
}

fn hash_token(token: &str) -> TokenHash {
    TokenHash::of_digest(&Sha256::digest(token.as_bytes()).into())
}

impl TokenHash {
    /// The stored form of a raw SHA-256 digest.
    pub fn of_digest(d: &[u8; 32]) -> TokenHash {
        TokenHash(hex::encode(d))
    }
}

macro_rules! bearer_secret {
    ($name:ident, $prefix:literal, $doc:literal) => {
        #[doc = $doc]
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            pub fn generate() -> Self {
                $name(random_token($prefix))
            }
            pub fn from_presented(s: &str) -> Self {
                $name(s.to_string())
            }
            pub fn hash(&self) -> TokenHash {
                hash_token(&self.0)
            }
            /// The raw SHA-256 of this secret: the key of in-memory caches (no hex string).
            pub fn digest(&self) -> [u8; 32] {
                Self::presented_digest(&self.0)
            }
            /// [`Self::digest`] of a secret as presented, without copying it first.
            pub fn presented_digest(s: &str) -> [u8; 32] {
                Sha256::digest(s.as_bytes()).into()
            }
            /// The plaintext, for the one response or file that hands it to its owner.
            pub fn expose(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(
                    f,
                    concat!(stringify!($name), "({}…)"),
                    &self.0[..$prefix.len().min(self.0.len())]
                )
            }
        }
    };
}

bearer_secret!(
    SessionToken,
    "hs_",
    "The value of a browser's session cookie."
);
bearer_secret!(
    ApiToken,
    "hk_",
    "A bearer token for the admin CLI and API clients."
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hash_stably() {
        let a = ApiToken::generate();
        let b = ApiToken::generate();
        assert_ne!(a, b);
        assert_eq!(a.hash(), ApiToken::from_presented(a.expose()).hash());
        assert!(!format!("{a:?}").contains(&a.expose()[4..]));
    }
}
