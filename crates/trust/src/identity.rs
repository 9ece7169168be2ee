//! Identity document numbers: never stored or shown in full. What is kept is a keyed hash
//! (HMAC-SHA256 under the platform's secret, so the same number always matches — a blacklist
//! can find it again — but the table alone reveals nothing) and the last four characters.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// What is stored of an ID number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdNumberRecord {
    pub keyed_hash: String,
    pub last4: String,
}

impl IdNumberRecord {
    /// Spaces and dashes ignored, letters upper-cased, so one document has one hash.
    pub fn new(key: &[u8], number: &str) -> Option<IdNumberRecord> {
        let canonical: String = number
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .flat_map(char::to_uppercase)
            .collect();
        if !(6..=32).contains(&canonical.chars().count())
            || !canonical.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return None;
        }
        let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
        mac.update(canonical.as_bytes());
        let last4: String = canonical.chars().skip(canonical.len() - 4).collect();
        Some(IdNumberRecord {
            keyed_hash: hex::encode(mac.finalize().into_bytes()),
            last4,
        })
    }

    /// For a reviewer's screen: `••••••••1234`.
    pub fn masked(&self) -> String {
        format!("••••••••{}", self.last4)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_document_one_hash_never_the_number() {
        let k = b"platform secret";
        let a = IdNumberRecord::new(k, "11010519491231002X").unwrap();
        let b = IdNumberRecord::new(k, "110105 19491231 002x").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.last4, "002X");
        assert_eq!(a.masked(), "••••••••002X");
        assert!(!a.keyed_hash.contains("19491231"));
        assert_ne!(
            a,
            IdNumberRecord::new(b"other key", "11010519491231002X").unwrap()
        );
        assert!(IdNumberRecord::new(k, "12").is_none());
        assert!(IdNumberRecord::new(k, "1101<script>").is_none());
    }
}
