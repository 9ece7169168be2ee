//! Token buckets with time passed in, for per-account and per-IP limits.

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Tokens available at once.
    pub burst: f64,
    /// Tokens regained per second.
    pub per_second: f64,
}

#[derive(Debug, Clone)]
pub struct Bucket {
    tokens: f64,
    updated_ms: u64,
}

impl Bucket {
    pub fn new(rate: Rate, now_ms: u64) -> Self {
        Bucket {
            tokens: rate.burst,
            updated_ms: now_ms,
        }
    }

    /// Takes one token if there is one.
    pub fn take(&mut self, rate: Rate, now_ms: u64) -> bool {
        let dt = now_ms.saturating_sub(self.updated_ms) as f64 / 1000.0;
        self.tokens = (self.tokens + dt * rate.per_second).min(rate.burst);
        self.updated_ms = now_ms.max(self.updated_ms);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Full again: the key can be forgotten.
    pub fn is_idle(&self, rate: Rate, now_ms: u64) -> bool {
        let dt = now_ms.saturating_sub(self.updated_ms) as f64 / 1000.0;
        self.tokens + dt * rate.per_second >= rate.burst
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_rate() {
        let r = Rate {
            burst: 3.0,
            per_second: 1.0,
        };
        let mut b = Bucket::new(r, 0);
        assert!(b.take(r, 0) && b.take(r, 0) && b.take(r, 0));
        assert!(!b.take(r, 10));
        assert!(b.take(r, 1010));
        assert!(!b.take(r, 1020));
        assert!(b.is_idle(r, 10_000));
    }
}
