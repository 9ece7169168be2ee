//! Housekeeping on a timer: recording retention and expired sessions.

use crate::config::RecordingConfig;
use hawker_domain::UnixMillis;
use hawker_storage::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const EVERY: Duration = Duration::from_secs(3600);

pub fn spawn(store: Arc<dyn Store>, recording: RecordingConfig, cancel: CancellationToken) {
    tokio::spawn(async move {
        loop {
            if let Err(e) = run_once(store.as_ref(), &recording).await {
                tracing::warn!(error = %e, "housekeeping failed; retrying next hour");
            }
            tokio::select! {
                _ = tokio::time::sleep(EVERY) => {}
                _ = cancel.cancelled() => return,
            }
        }
    });
}

/// Deletes recordings past retention (and the oldest beyond the disk cap) and expired sessions.
pub async fn run_once(store: &dyn Store, cfg: &RecordingConfig) -> anyhow::Result<()> {
    let now = UnixMillis::now();
    store.delete_expired_sessions(now).await?;
    let cutoff = now.plus_ms(-(cfg.retention_days as i64 * 86_400_000));
    let mut deleted = 0;
    for rec in store.recordings_ended_before(cutoff, 1000).await? {
        remove(store, &rec).await?;
        deleted += 1;
    }
    if cfg.max_bytes > 0 {
        let all = store.recordings_ended_before(now, 100_000).await?;
        let mut total: u64 = all.iter().map(|r| r.bytes.max(0) as u64).sum();
        for rec in &all {
            if total <= cfg.max_bytes {
                break;
            }
            total -= rec.bytes.max(0) as u64;
            remove(store, rec).await?;
            deleted += 1;
        }
    }
    if deleted > 0 {
        tracing::info!(deleted, "recordings removed by retention");
    }
    Ok(())
}

async fn remove(store: &dyn Store, rec: &hawker_storage::Recording) -> anyhow::Result<()> {
    match tokio::fs::remove_dir_all(&rec.dir).await {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e.into()),
    }
    store.delete_recording(rec.show).await?;
    Ok(())
}
