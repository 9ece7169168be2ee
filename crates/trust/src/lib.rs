//! Trust rules without I/O. `claims`: absolute and medical claims ("best", "No. 1", "cures",
//! "100% effective", 最佳, 第一, 治愈, ...) found in what is about to be published; `age`: who
//! may stream, gift or top up, from a verified date of birth, never a checkbox; `identity`: ID
//! numbers stored as a keyed hash plus the last four characters, never in full.

pub mod age;
pub mod claims;
pub mod identity;
pub mod risk;
