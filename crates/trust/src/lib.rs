//! Trust rules without I/O. `claims`: absolute and medical claims ("best", "No. 1", "cures",
//! "100% effective", 最佳, 第一, 治愈, ...) found in what is about to be published; `age`: who
//! may stream, gift or top up, from a verified date of birth, never a checkbox; `identity`: ID
//! numbers stored as a keyed hash plus the last four characters, never in full; `policy`: the
//! numbers of a law profile; `sanctions`: the ladder and what each rung takes away;
//! `training`: the rules course and its quiz; `complaints`: reasons, deadlines and the states of
//! complaints and guardians' claims; `review`: the states of what ops review (real-name checks,
//! KYB data, a show's risk assessment); `risk` and `engine`: explainable integrity signals and
//! the per-show assessment that holds earnings.

/// `ALL`, `as_str` and `parse` for an enum stored and sent as snake_case names: one name per
/// variant, the same in the database and on the wire.
macro_rules! names {
    ($t:ident { $($v:ident => $s:literal),+ $(,)? }) => {
        impl $t {
            pub const ALL: &'static [$t] = &[$($t::$v),+];
            pub fn as_str(self) -> &'static str {
                match self {
                    $($t::$v => $s),+
                }
            }
            pub fn parse(s: &str) -> Option<$t> {
                Self::ALL.iter().copied().find(|x| x.as_str() == s)
            }
        }
    };
}

pub mod age;
pub mod claims;
pub mod complaints;
pub mod engine;
pub mod identity;
pub mod policy;
pub mod review;
pub mod risk;
pub mod sanctions;
pub mod training;
