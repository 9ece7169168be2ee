//! Channels and their stream keys.

use crate::{AccountId, UnixMillis, ValidationError};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ChannelId(pub i64);

impl fmt::Display for ChannelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A channel's URL name: `/c/{slug}`, `/live/{slug}/index.m3u8`.
/// Lower-case ASCII letters, digits and single dashes, 2–40 long.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Slug(String);

impl Slug {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let ok = (2..=40).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !raw.starts_with('-')
            && !raw.ends_with('-')
            && !raw.contains("--");
        if ok {
            Ok(Slug(raw.to_string()))
        } else {
            Err(ValidationError::invalid(
                "slug",
                "must be 2-40 lower-case letters, digits and single dashes",
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The secret an encoder puts at the end of `rtmp://host/live/{key}`. Whoever holds it can
/// broadcast on the channel, so it is only ever printed in full to its owner: `Display` and
/// `Debug` show a short prefix (`live_Ab3…`) fit for logs.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct StreamKey(String);

const KEY_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
const KEY_RANDOM_CHARS: usize = 28; // 28 * log2(56) ≈ 162 bits

impl StreamKey {
    pub fn generate() -> Self {
        let mut rng = rand::thread_rng();
        let body: String = (0..KEY_RANDOM_CHARS)
            .map(|_| KEY_ALPHABET[rng.gen_range(0..KEY_ALPHABET.len())] as char)
            .collect();
        StreamKey(format!("live_{body}"))
    }

    /// A key as presented by an encoder or stored; no format is assumed beyond a sane length, so
    /// keys of older formats keep working.
    pub fn from_presented(s: &str) -> Option<Self> {
        let ok = (8..=128).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        ok.then(|| StreamKey(s.to_string()))
    }

    /// The full key, for its owner only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What logs show.
    pub fn redacted(&self) -> String {
        let prefix: String = self.0.chars().take(8).collect();
        format!("{prefix}…")
    }
}

impl fmt::Display for StreamKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for StreamKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StreamKey({})", self.redacted())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    pub id: ChannelId,
    pub slug: Slug,
    pub title: String,
    pub owner: AccountId,
    pub stream_key: StreamKey,
    pub created_at: UnixMillis,
}

pub fn validate_title(raw: &str) -> Result<String, ValidationError> {
    let t = raw.trim();
    let n = t.chars().count();
    if n == 0 || n > 120 || t.chars().any(|c| c.is_control()) {
        return Err(ValidationError::invalid(
            "title",
            "must be 1-120 characters without control characters",
        ));
    }
    Ok(t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for ok in ["li-farm", "ab", "store-065-clerk-4999"] {
            assert!(Slug::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["a", "-ab", "ab-", "a--b", "Ab", "a b", "ä", &"x".repeat(41)] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn stream_keys_never_print_in_full() {
        let k = StreamKey::generate();
        assert_eq!(k.expose().len(), 5 + KEY_RANDOM_CHARS);
        assert!(!format!("{k}").contains(&k.expose()[8..]));
        assert!(!format!("{k:?}").contains(&k.expose()[8..]));
        assert_ne!(k, StreamKey::generate());
        assert!(StreamKey::from_presented(k.expose()).is_some());
        assert!(StreamKey::from_presented("../../etc").is_none());
    }
}
