//! A benchmark prints no figure from a failed run. Everything a command measured is checked
//! here before it is printed: a refused or dropped publish, zero frames or deliveries, errors
//! where none are allowed, a number that is not finite. A failure ends the command with a
//! non-zero exit and a one-line reason (`main`), and no row is printed for that run.

use std::path::PathBuf;

/// A measured figure that must be a finite, positive number.
pub fn figure(what: &str, x: f64) -> anyhow::Result<f64> {
    anyhow::ensure!(
        x.is_finite() && x > 0.0,
        "{what} is {x}: the run measured nothing"
    );
    Ok(x)
}

/// A count that must reach `min` (frames decoded, deliveries, transactions).
pub fn at_least(what: &str, n: u64, min: u64) -> anyhow::Result<u64> {
    anyhow::ensure!(
        n >= min,
        "{what}: {n}, fewer than the {min} a valid run has"
    );
    Ok(n)
}

/// A count of errors that must be zero.
pub fn none(what: &str, n: u64) -> anyhow::Result<()> {
    anyhow::ensure!(n == 0, "{what}: {n}, where a valid run has none");
    Ok(())
}

/// `bench/out/NAME`, its folder created; the caller says where the report went.
pub fn out_file(name: &str) -> anyhow::Result<PathBuf> {
    let dir = crate::root().join("bench/out");
    std::fs::create_dir_all(&dir)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    Ok(dir.join(name))
}

/// Writes a report as JSON into `bench/out/NAME` and says so.
pub fn write_report(name: &str, report: &serde_json::Value) -> anyhow::Result<()> {
    let path = out_file(name)?;
    std::fs::write(&path, serde_json::to_vec_pretty(report)?)?;
    eprintln!("report: {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_figures_are_refused() {
        assert!(figure("cpu", f64::NAN).is_err());
        assert!(figure("cpu", f64::INFINITY).is_err());
        assert!(figure("cpu", 0.0).is_err());
        assert!(figure("cpu", 0.12).is_ok());
        assert!(at_least("frames", 0, 1).is_err());
        assert!(at_least("frames", 3, 1).is_ok());
        assert!(none("errors", 1).is_err());
        assert!(none("errors", 0).is_ok());
    }
}
