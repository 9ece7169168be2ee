//! Exact splits. The remainder rule: every share is `total × basis points / 10,000` rounded
//! toward zero, and the residual party (the merchant for an order, the platform for a gift)
//! receives what is left, so the parts always sum to the whole, to the minor unit.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    #[error("shares add up to {0} basis points, above 10,000")]
    OverAllocated(u32),
    #[error("amount below zero")]
    Negative,
}

/// One share of `total`, rounded toward zero.
pub fn share(total: i64, bps: u32) -> i64 {
    ((total as i128 * bps as i128) / 10_000) as i64
}

/// The shares for `bps` and, last, the residual.
pub fn split(total: i64, bps: &[u32]) -> Result<(Vec<i64>, i64), SplitError> {
    if total < 0 {
        return Err(SplitError::Negative);
    }
    let sum: u32 = bps.iter().sum();
    if sum > 10_000 {
        return Err(SplitError::OverAllocated(sum));
    }
    let parts: Vec<i64> = bps.iter().map(|b| share(total, *b)).collect();
    let residual = total - parts.iter().sum::<i64>();
    Ok((parts, residual))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn remainder_goes_to_the_residual() {
        // ¥0.99 gift, 40% streamer, 10% tax: 39 + 9, platform 51.
        assert_eq!(split(99, &[4_000, 1_000]).unwrap(), (vec![39, 9], 51));
        assert_eq!(
            split(100, &[10_001]),
            Err(SplitError::OverAllocated(10_001))
        );
        assert_eq!(split(-1, &[1]), Err(SplitError::Negative));
    }

    proptest! {
        #[test]
        fn parts_sum_to_the_whole(total in 0i64..i64::MAX / 2, a in 0u32..5_000, b in 0u32..5_000) {
            let (parts, residual) = split(total, &[a, b]).unwrap();
            prop_assert_eq!(parts.iter().sum::<i64>() + residual, total);
            prop_assert!(residual >= 0);
            prop_assert!(parts.iter().all(|p| *p >= 0));
        }
    }
}
