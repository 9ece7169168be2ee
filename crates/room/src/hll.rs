//! HyperLogLog: unique viewers of a show in 16 KiB, mergeable across nodes by taking the
//! register-wise maximum (Flajolet et al. 2007, with the small-range correction).

const P: u32 = 14;
const M: usize = 1 << P;

#[derive(Clone)]
pub struct Hll {
    registers: Vec<u8>,
}

impl std::fmt::Debug for Hll {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Hll(~{})", self.estimate())
    }
}

impl Default for Hll {
    fn default() -> Self {
        Hll {
            registers: vec![0; M],
        }
    }
}

/// 64-bit FNV-1a followed by a murmur finaliser: stable across processes and nodes (unlike
/// std's randomly seeded hasher), which merging requires.
pub fn hash64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

impl Hll {
    /// Adds an item; returns the (register, value) that changed, if one did.
    pub fn add(&mut self, item: &[u8]) -> Option<(u16, u8)> {
        let h = hash64(item);
        let idx = (h >> (64 - P)) as usize;
        let rank = ((h << P) | (1 << (P - 1))).leading_zeros() as u8 + 1;
        if rank > self.registers[idx] {
            self.registers[idx] = rank;
            Some((idx as u16, rank))
        } else {
            None
        }
    }

    /// Applies registers from another node.
    pub fn merge(&mut self, changes: &[(u16, u8)]) {
        for &(i, v) in changes {
            if let Some(r) = self.registers.get_mut(i as usize) {
                *r = (*r).max(v);
            }
        }
    }

    pub fn estimate(&self) -> u64 {
        let m = M as f64;
        let alpha = 0.7213 / (1.0 + 1.079 / m);
        let sum: f64 = self.registers.iter().map(|&r| 2f64.powi(-(r as i32))).sum();
        let raw = alpha * m * m / sum;
        let zeros = self.registers.iter().filter(|&&r| r == 0).count();
        if raw <= 2.5 * m && zeros > 0 {
            (m * (m / zeros as f64).ln()).round() as u64
        } else {
            raw.round() as u64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_within_two_percent_and_merges() {
        let mut a = Hll::default();
        let mut b = Hll::default();
        let mut changes = Vec::new();
        for i in 0..100_000u32 {
            a.add(format!("viewer-{i}").as_bytes());
            if let Some(c) = b.add(format!("viewer-{}", i + 50_000).as_bytes()) {
                changes.push(c);
            }
        }
        let e = a.estimate() as f64;
        assert!((e - 100_000.0).abs() / 100_000.0 < 0.02, "{e}");
        a.merge(&changes);
        let e = a.estimate() as f64;
        assert!((e - 150_000.0).abs() / 150_000.0 < 0.02, "{e}");
        let mut small = Hll::default();
        for i in 0..10u32 {
            small.add(&i.to_le_bytes());
            small.add(&i.to_le_bytes());
        }
        assert_eq!(small.estimate(), 10);
    }
}
