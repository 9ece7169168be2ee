//! Money: integer minor units with an ISO 4217 currency. Never a float, never a sum of
//! different currencies.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An ISO 4217 code, three upper-case letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    pub const CNY: Currency = Currency(*b"CNY");
    pub const EUR: Currency = Currency(*b"EUR");
    pub const USD: Currency = Currency(*b"USD");
    /// Hawker coins: the viewers' gift currency (an X code, as ISO 4217 reserves for such).
    pub const COIN: Currency = Currency(*b"XHC");

    pub fn parse(s: &str) -> Option<Currency> {
        let b = s.as_bytes();
        (b.len() == 3 && b.iter().all(u8::is_ascii_uppercase)).then(|| Currency([b[0], b[1], b[2]]))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// Minor units per major unit (¥1 = 100 fen; ¥ JPY has none).
    pub fn minor_digits(self) -> u32 {
        match &self.0 {
            b"JPY" | b"KRW" | b"VND" | b"XHC" => 0,
            b"BHD" | b"KWD" | b"OMR" => 3,
            _ => 2,
        }
    }

    pub fn symbol(self) -> &'static str {
        match &self.0 {
            b"CNY" => "¥",
            b"EUR" => "€",
            b"USD" => "$",
            b"GBP" => "£",
            b"JPY" => "¥",
            _ => "",
        }
    }
}

impl TryFrom<String> for Currency {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Currency::parse(&s).ok_or_else(|| format!("{s:?} is not a currency code"))
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.as_str().to_string()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("cannot combine {0} and {1}")]
    CurrencyMismatch(Currency, Currency),
    #[error("amount out of range")]
    Overflow,
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    pub fn zero(currency: Currency) -> Money {
        Money { minor: 0, currency }
    }

    fn same(self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch(self.currency, other.currency))
        }
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same(other)?;
        Ok(Money::new(
            self.minor
                .checked_add(other.minor)
                .ok_or(MoneyError::Overflow)?,
            self.currency,
        ))
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same(other)?;
        Ok(Money::new(
            self.minor
                .checked_sub(other.minor)
                .ok_or(MoneyError::Overflow)?,
            self.currency,
        ))
    }

    pub fn checked_mul(self, n: i64) -> Result<Money, MoneyError> {
        Ok(Money::new(
            self.minor.checked_mul(n).ok_or(MoneyError::Overflow)?,
            self.currency,
        ))
    }

    /// `basis_points`/10,000 of the amount, rounded half away from zero.
    pub fn percent_bp(self, basis_points: i64) -> Result<Money, MoneyError> {
        let p = (self.minor as i128) * (basis_points as i128);
        let q = if p >= 0 {
            (p + 5_000) / 10_000
        } else {
            (p - 5_000) / 10_000
        };
        Ok(Money::new(
            i64::try_from(q).map_err(|_| MoneyError::Overflow)?,
            self.currency,
        ))
    }

    pub fn is_negative(self) -> bool {
        self.minor < 0
    }
}

impl fmt::Display for Money {
    /// `¥12.80`, `€0.99`, `¥1200` (JPY).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.currency.minor_digits();
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        let sym = self.currency.symbol();
        let code = if sym.is_empty() {
            format!("{} ", self.currency)
        } else {
            String::new()
        };
        if d == 0 {
            write!(f, "{sign}{code}{sym}{abs}")
        } else {
            let p = 10u64.pow(d);
            write!(
                f,
                "{sign}{code}{sym}{}.{:0width$}",
                abs / p,
                abs % p,
                width = d as usize
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_and_display() {
        let a = Money::new(1280, Currency::CNY);
        assert_eq!(a.to_string(), "¥12.80");
        assert_eq!(
            a.checked_add(Money::new(20, Currency::CNY)).unwrap().minor,
            1300
        );
        assert!(a.checked_add(Money::new(1, Currency::EUR)).is_err());
        assert_eq!(
            Money::new(1005, Currency::EUR)
                .percent_bp(1_000)
                .unwrap()
                .minor,
            101,
            "10% of €10.05 rounds half up"
        );
        assert_eq!(Money::new(-5, Currency::USD).to_string(), "-$0.05");
        assert_eq!(
            Money::new(1200, Currency::parse("JPY").unwrap()).to_string(),
            "¥1200"
        );
        assert!(Money::new(i64::MAX, Currency::EUR)
            .checked_add(Money::new(1, Currency::EUR))
            .is_err());
        assert!(Currency::parse("eur").is_none());
        assert_eq!(
            serde_json::from_str::<Currency>("\"CNY\"").unwrap(),
            Currency::CNY
        );
    }
}
