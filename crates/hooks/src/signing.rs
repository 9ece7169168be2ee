//! The `Hawker-Signature` header, shaped like Stripe's: `t=<unix seconds>,v1=<hex>`, where
//! `v1` is HMAC-SHA256 over `"{t}.{body}"` with the subscription's secret. The timestamp inside
//! the signed bytes lets a receiver refuse replays older than a few minutes.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The header name receivers read.
pub const HEADER: &str = "Hawker-Signature";

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The header value for `body` sent at `timestamp` (Unix seconds).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let tag = mac(secret, timestamp, body).finalize().into_bytes();
    format!("t={timestamp},v1={}", hex::encode(tag))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature header is malformed")]
    Malformed,
    #[error("the signature is older than the tolerance")]
    Stale,
    #[error("no signature matches")]
    Mismatch,
}

/// What a receiver does: parse the header, check the age, compare every `v1` in constant time.
pub fn verify(
    secret: &str,
    header: &str,
    body: &[u8],
    now: i64,
    tolerance_s: i64,
) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut tags = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => timestamp = v.parse::<i64>().ok(),
            Some(("v1", v)) => tags.push(hex::decode(v).map_err(|_| SignatureError::Malformed)?),
            _ => {}
        }
    }
    let t = timestamp.ok_or(SignatureError::Malformed)?;
    if tags.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if (now - t).abs() > tolerance_s {
        return Err(SignatureError::Stale);
    }
    let expected = mac(secret, t, body);
    if tags
        .iter()
        .any(|tag| expected.clone().verify_slice(tag).is_ok())
    {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_signature_verifies_and_nothing_else_does() {
        let h = sign("whsec_a", 1_700_000_000, b"{\"x\":1}");
        assert!(h.starts_with("t=1700000000,v1="));
        assert_eq!(
            verify("whsec_a", &h, b"{\"x\":1}", 1_700_000_010, 300),
            Ok(())
        );
        assert_eq!(
            verify("whsec_b", &h, b"{\"x\":1}", 1_700_000_010, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify("whsec_a", &h, b"{\"x\":2}", 1_700_000_010, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify("whsec_a", &h, b"{\"x\":1}", 1_700_000_400, 300),
            Err(SignatureError::Stale)
        );
        // The timestamp is signed: moving it forward breaks the tag.
        let moved = h.replace("t=1700000000", "t=1700000300");
        assert_eq!(
            verify("whsec_a", &moved, b"{\"x\":1}", 1_700_000_300, 300),
            Err(SignatureError::Mismatch)
        );
    }

    proptest! {
        #[test]
        fn any_header_is_answered_without_panicking(h in ".{0,200}", body in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = verify("s", &h, &body, 0, 300);
        }

        #[test]
        fn every_signed_body_verifies(body in proptest::collection::vec(any::<u8>(), 0..512), t in 0i64..4_000_000_000) {
            let h = sign("secret", t, &body);
            prop_assert_eq!(verify("secret", &h, &body, t, 0), Ok(()));
        }
    }
}
