//! The SQL helpers every store uses, once: parameter lists for multi-row statements and
//! `IN (…)` lists, and the errors and decoders for values a row should never hold.

use crate::{Backend, Result, StorageError};
use hawker_domain::Currency;
use sqlx::any::AnyRow;
use sqlx::Row;

/// A stored value that breaks a rule: reported as corrupt, never unwrapped.
pub(crate) fn corrupt(what: &str, detail: impl std::fmt::Display) -> StorageError {
    StorageError::Corrupt(format!("{what}: {detail}"))
}

/// Column `i`, a text holding one of an enum's names, decoded once; any other text is corrupt.
pub(crate) fn named<T>(
    r: &AnyRow,
    i: usize,
    what: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<T> {
    let s: String = r.try_get(i)?;
    parse(&s).ok_or_else(|| corrupt(what, format!("{s:?}")))
}

pub(crate) fn currency(s: &str) -> Result<Currency> {
    Currency::parse(s).ok_or_else(|| corrupt("currency", format!("{s:?}")))
}

/// `($1, $2, …), (…)` for `rows` rows of `cols` columns; `(?, ?, …)` on SQLite, where sqlx
/// resolves each numbered parameter through `sqlite3_bind_parameter_name`, a linear scan, which
/// makes a statement of thousands of parameters quadratic (it was 57% of the flash-sale
/// writer's CPU in a profile).
pub(crate) fn values(rows: usize, cols: usize, backend: Backend) -> String {
    if backend == Backend::Sqlite {
        let row = format!("({})", vec!["?"; cols].join(", "));
        return vec![row; rows].join(", ");
    }
    let mut s = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            s.push_str(", ");
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push_str(", ");
            }
            s.push_str(&format!("${}", r * cols + c + 1));
        }
        s.push(')');
    }
    s
}

/// `$start, $start+1, …` (`n` of them), for an `IN (…)` list.
pub(crate) fn numbered(start: usize, n: usize) -> String {
    (start..start + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_lists() {
        assert_eq!(values(2, 2, Backend::Postgres), "($1, $2), ($3, $4)");
        assert_eq!(values(2, 2, Backend::Sqlite), "(?, ?), (?, ?)");
        assert_eq!(numbered(3, 3), "$3, $4, $5");
        assert_eq!(numbered(1, 0), "");
    }
}
