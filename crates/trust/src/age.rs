//! Age from a verified date of birth, never a checkbox: calendar dates and the refusals. The
//! ages themselves are the law profile's (`policy::TrustPolicy::may_stream`, `may_spend_coins`).

use serde::{Deserialize, Serialize};

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    /// `YYYY-MM-DD`, a real calendar date.
    pub fn parse(s: &str) -> Option<Date> {
        let mut it = s.split('-');
        let year: i32 = it.next()?.parse().ok()?;
        let month: u32 = it.next()?.parse().ok()?;
        let day: u32 = it.next()?.parse().ok()?;
        if it.next().is_some() || !(1..=12).contains(&month) || !(1900..=9999).contains(&year) {
            return None;
        }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days = match month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        (1..=days)
            .contains(&day)
            .then_some(Date { year, month, day })
    }

    /// Full years from `self` (a birth date) to `on`; a 29 February birthday counts from
    /// 1 March in other years.
    pub fn age_on(self, on: Date) -> i32 {
        let mut age = on.year - self.year;
        if (on.month, on.day) < (self.month, self.day) {
            age -= 1;
        }
        age.max(0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AgeRefusal {
    #[error("streamers must be at least 16")]
    TooYoungToStream,
    #[error("a streamer aged 16 or 17 needs a guardian's consent on record")]
    NeedsGuardianConsent,
    #[error("minors cannot send gifts or buy coins")]
    MinorSpending,
    #[error("a verified age is needed to send gifts or buy coins")]
    AgeUnknown,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    #[test]
    fn ages_and_rules() {
        assert_eq!(d("2010-11-26").age_on(d("2026-11-25")), 15);
        assert_eq!(d("2010-11-25").age_on(d("2026-11-25")), 16);
        assert_eq!(d("2008-02-29").age_on(d("2026-02-28")), 17);
        assert_eq!(d("2008-02-29").age_on(d("2026-03-01")), 18);
        assert!(Date::parse("2026-02-29").is_none());
        assert!(Date::parse("2024-02-29").is_some());
        assert!(Date::parse("2024-13-01").is_none());
        assert!(Date::parse("24-1-1x").is_none());
    }
}

impl Date {
    /// The UTC calendar date of a Unix time in milliseconds (Howard Hinnant's civil_from_days).
    pub fn from_unix_ms(ms: i64) -> Date {
        let z = ms.div_euclid(86_400_000) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }

    /// Milliseconds at 00:00 UTC of this date.
    pub fn start_ms(self) -> i64 {
        let y = self.year as i64 - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = self.month as i64;
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + self.day as i64 - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        (era * 146_097 + doe - 719_468) * 86_400_000
    }
}

#[cfg(test)]
mod civil_tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_dates() {
        assert_eq!(Date::from_unix_ms(0), Date::parse("1970-01-01").unwrap());
        assert_eq!(
            Date::from_unix_ms(1_795_564_800_000),
            Date::parse("2026-11-25").unwrap()
        );
        assert_eq!(
            Date::parse("2024-02-29").unwrap().start_ms(),
            1_709_164_800_000
        );
    }

    proptest! {
        #[test]
        fn round_trip(days in -25_000i64..2_900_000) {
            let ms = days * 86_400_000;
            let d = Date::from_unix_ms(ms + 12_345);
            prop_assert_eq!(d.start_ms(), ms);
            prop_assert_eq!(Date::parse(&format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)).filter(|_| d.year >= 1900), if d.year >= 1900 { Some(d) } else { None });
        }
    }
}
