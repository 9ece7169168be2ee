//! Trust rules without I/O. `claims`: absolute and medical claims ("best", "No. 1", "cures",
//! "100% effective", 最佳, 第一, 治愈, ...) found in what is about to be published; `age`: who
//! may stream, gift or top up, from a verified date of birth, never a checkbox; `identity`: ID
//! numbers stored as a keyed hash plus the last four characters, never in full; `policy`: the
//! numbers of a law profile; `sanctions`: the ladder and what each rung takes away;
//! `training`: the rules course and its quiz; `complaints`: reasons and deadlines; `risk` and
//! `engine`: explainable integrity signals and the per-show assessment that holds earnings.

pub mod age;
pub mod claims;
pub mod complaints;
pub mod engine;
pub mod identity;
pub mod policy;
pub mod risk;
pub mod sanctions;
pub mod training;
