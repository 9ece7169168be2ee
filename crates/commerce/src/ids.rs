//! Order numbers: unique across nodes and restarts, ordered by time, and exact as JavaScript
//! numbers (53 bits): milliseconds since 2026 (38 bits, until 2034), node (5 bits), sequence
//! (10 bits, 1,024 per millisecond per node).

const EPOCH_MS: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const NODE_BITS: u32 = 5;
const SEQ_BITS: u32 = 10;

#[derive(Debug)]
pub struct OrderIdGen {
    node: u64,
    last: u64,
}

impl OrderIdGen {
    pub fn new(node: u32) -> Self {
        OrderIdGen {
            node: node as u64 & ((1 << NODE_BITS) - 1),
            last: 0,
        }
    }

    /// The next id at wall time `now_ms`; never repeats and never goes backwards, even if the
    /// clock does.
    pub fn next(&mut self, now_ms: i64) -> i64 {
        let ms = (now_ms - EPOCH_MS).max(0) as u64;
        let candidate = (ms << (NODE_BITS + SEQ_BITS)) | (self.node << SEQ_BITS);
        let id = if candidate > self.last {
            candidate
        } else {
            // Same millisecond (or a clock step back): next sequence number, borrowing
            // from the next millisecond when the sequence is used up.
            let next = self.last + 1;
            if (next >> SEQ_BITS) & ((1 << NODE_BITS) - 1) != self.node {
                ((next >> (NODE_BITS + SEQ_BITS)) + 1) << (NODE_BITS + SEQ_BITS)
                    | (self.node << SEQ_BITS)
            } else {
                next
            }
        };
        self.last = id;
        id as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_increasing_and_js_safe() {
        let mut g = OrderIdGen::new(3);
        let now = EPOCH_MS + 1_000;
        let ids: Vec<i64> = (0..5_000).map(|_| g.next(now)).collect();
        assert!(ids.windows(2).all(|w| w[1] > w[0]));
        assert!(
            ids.iter().all(|i| ((*i as u64) >> SEQ_BITS) & 31 == 3),
            "the node never changes"
        );
        assert!(
            g.next(now - 10_000) > *ids.last().unwrap(),
            "clock going back"
        );
        let far = g.next(EPOCH_MS + 8 * 365 * 86_400_000);
        assert!(far < (1i64 << 53));
        let mut other = OrderIdGen::new(4);
        assert_ne!(other.next(now), ids[0]);
    }
}
