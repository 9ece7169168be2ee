//! Honest reference prices: a "was" price shown beside a discount must not exceed the lowest
//! price of the previous 7 days (the EU Omnibus rule; the other profiles use it too).

pub const REFERENCE_WINDOW_MS: i64 = 7 * 86_400_000;

/// The lowest price (minor units) in force during the 7 days before `now`, given the price
/// changes `(at_ms, price)` sorted by time; the price in force at the window's start counts.
pub fn lowest_recent_price(changes: &[(i64, i64)], now_ms: i64) -> Option<i64> {
    let start = now_ms - REFERENCE_WINDOW_MS;
    let before = changes
        .iter()
        .rfind(|(at, _)| *at <= start)
        .map(|(_, p)| *p);
    changes
        .iter()
        .filter(|(at, _)| *at > start && *at <= now_ms)
        .map(|(_, p)| *p)
        .chain(before)
        .min()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a reference price of {shown} is above the lowest price of the last 7 days ({lowest})")]
pub struct MisleadingReference {
    pub shown: i64,
    pub lowest: i64,
}

/// Checks a reference ("was") price before it is shown.
pub fn check_reference(
    shown: i64,
    changes: &[(i64, i64)],
    now_ms: i64,
) -> Result<(), MisleadingReference> {
    match lowest_recent_price(changes, now_ms) {
        Some(lowest) if shown > lowest => Err(MisleadingReference { shown, lowest }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    const DAY: i64 = 86_400_000;

    #[test]
    fn the_price_raised_before_a_sale_cannot_be_the_reference() {
        let now = 30 * DAY;
        // ¥60 for weeks, raised to ¥100 three days ago, "sale" at ¥70 now.
        let changes = [(0, 6_000), (now - 3 * DAY, 10_000)];
        assert_eq!(lowest_recent_price(&changes, now), Some(6_000));
        assert!(check_reference(10_000, &changes, now).is_err());
        assert!(check_reference(6_000, &changes, now).is_ok());
        // A price older than the window no longer counts.
        let changes = [(0, 5_000), (now - 8 * DAY, 9_000)];
        assert_eq!(lowest_recent_price(&changes, now), Some(9_000));
        assert!(
            check_reference(9_000, &[], now).is_ok(),
            "no history: nothing to compare"
        );
    }
}
