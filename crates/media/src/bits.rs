//! A bit reader for H.264/HEVC parameter sets and AAC configs: exp-Golomb codes, emulation
//! prevention removed up front. Every read is checked; running off the end is an error.

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("bitstream ended early")]
pub struct BitsExhausted;

pub struct BitReader<'a> {
    data: &'a [u8],
    pos: usize, // in bits
}

impl<'a> BitReader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        BitReader { data, pos: 0 }
    }

    pub fn bit(&mut self) -> Result<u32, BitsExhausted> {
        let byte = *self.data.get(self.pos / 8).ok_or(BitsExhausted)?;
        let b = (byte >> (7 - (self.pos % 8))) & 1;
        self.pos += 1;
        Ok(b as u32)
    }

    pub fn flag(&mut self) -> Result<bool, BitsExhausted> {
        Ok(self.bit()? == 1)
    }

    /// Up to 32 bits, most significant first.
    pub fn bits(&mut self, n: u32) -> Result<u32, BitsExhausted> {
        let mut v: u64 = 0;
        for _ in 0..n {
            v = (v << 1) | self.bit()? as u64;
        }
        Ok(v as u32)
    }

    pub fn skip(&mut self, n: usize) -> Result<(), BitsExhausted> {
        if self.pos + n > self.data.len() * 8 {
            return Err(BitsExhausted);
        }
        self.pos += n;
        Ok(())
    }

    /// Unsigned exp-Golomb, ue(v). Codes longer than 32 bits are malformed for every syntax
    /// element we read.
    pub fn ue(&mut self) -> Result<u32, BitsExhausted> {
        let mut zeros = 0;
        while self.bit()? == 0 {
            zeros += 1;
            if zeros > 31 {
                return Err(BitsExhausted);
            }
        }
        let rest = self.bits(zeros)? as u64;
        Ok(((1u64 << zeros) - 1 + rest) as u32)
    }

    /// Signed exp-Golomb, se(v).
    pub fn se(&mut self) -> Result<i32, BitsExhausted> {
        let k = self.ue()? as i64;
        Ok(if k % 2 == 1 { (k + 1) / 2 } else { -(k / 2) } as i32)
    }
}

/// A NAL unit's payload without emulation-prevention bytes (00 00 03 → 00 00).
pub fn unescape_rbsp(nal: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(nal.len());
    let mut zeros = 0;
    for &b in nal {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_golomb() {
        // 1 | 010 | 011 | 00100 → ue 0, 1, 2, 3
        let mut r = BitReader::new(&[0b1010_0110, 0b0100_0000]);
        assert_eq!(
            [
                r.ue().unwrap(),
                r.ue().unwrap(),
                r.ue().unwrap(),
                r.ue().unwrap()
            ],
            [0, 1, 2, 3]
        );
        let mut r = BitReader::new(&[0b0100_1100, 0b1000_0000]);
        assert_eq!([r.se().unwrap(), r.se().unwrap()], [1, -1]);
        assert!(BitReader::new(&[0, 0, 0, 0, 0]).ue().is_err());
    }

    #[test]
    fn emulation_prevention() {
        assert_eq!(unescape_rbsp(&[0, 0, 3, 1, 0, 0, 3]), vec![0, 0, 1, 0, 0]);
    }
}
