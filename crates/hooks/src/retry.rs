//! When a failed delivery is tried again: growing gaps (30 s, 2 min, 10 min, 30 min, 1 h, 2 h,
//! 4 h, then every 8 h) inside a window of a day from the event (or from a redelivery); the last
//! try falls at the window's end. Pure: time is passed in.

use hawker_domain::UnixMillis;
use std::time::Duration;

/// Multiples of the first gap: with 30 s, the gaps above.
const STEPS: [u64; 8] = [1, 4, 20, 60, 120, 240, 480, 960];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPlan {
    pub first_gap: Duration,
    pub window: Duration,
}

impl Default for RetryPlan {
    fn default() -> Self {
        RetryPlan {
            first_gap: Duration::from_secs(30),
            window: Duration::from_secs(24 * 3600),
        }
    }
}

impl RetryPlan {
    /// After the `attempts`-th failed try (1 for the first) at `now`: when to try again, or
    /// `None` when the window is over.
    pub fn next(
        &self,
        attempts: i64,
        window_from: UnixMillis,
        now: UnixMillis,
    ) -> Option<UnixMillis> {
        let end = window_from.0.saturating_add(self.window.as_millis() as i64);
        if now.0 >= end {
            return None;
        }
        let step = STEPS[(attempts.max(1) as usize - 1).min(STEPS.len() - 1)];
        let gap = (self.first_gap.as_millis() as i64).saturating_mul(step as i64);
        Some(UnixMillis(now.0.saturating_add(gap.max(1)).min(end)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_default_plan_retries_for_a_day_then_stops() {
        let plan = RetryPlan::default();
        let start = UnixMillis(1_000_000);
        let mut now = start;
        let mut tries = 1;
        let mut gaps = Vec::new();
        while let Some(next) = plan.next(tries, start, now) {
            gaps.push((next.0 - now.0) / 1000);
            now = next;
            tries += 1;
        }
        assert_eq!(&gaps[..7], &[30, 120, 600, 1800, 3600, 7200, 14400]);
        assert_eq!(
            now.0 - start.0,
            24 * 3600 * 1000,
            "the last try is at the window's end"
        );
        assert!(tries <= 12, "{tries} tries");
    }

    proptest! {
        #[test]
        fn the_next_try_is_later_and_inside_the_window(attempts in 0i64..100, from in 0i64..1_000_000_000, after in 0i64..200_000_000) {
            let plan = RetryPlan::default();
            let now = UnixMillis(from + after);
            match plan.next(attempts, UnixMillis(from), now) {
                Some(t) => {
                    prop_assert!(t.0 > now.0);
                    prop_assert!(t.0 <= from + 24 * 3600 * 1000);
                }
                None => prop_assert!(after >= 24 * 3600 * 1000),
            }
        }
    }
}
