//! Housekeeping on a timer: retention (recordings; chat, pins and moderation logs; finished
//! orders; access logs) and expired sessions.

use crate::config::{RecordingConfig, RetentionConfig};
use hawker_domain::UnixMillis;
use hawker_storage::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const EVERY: Duration = Duration::from_secs(3600);

pub fn spawn(
    store: Arc<dyn Store>,
    recording: RecordingConfig,
    retention: RetentionConfig,
    cancel: CancellationToken,
) {
    tokio::spawn(async move {
        loop {
            if let Err(e) = run_once(store.as_ref(), &recording).await {
                tracing::warn!(error = %e, "housekeeping failed; retrying next hour");
            }
            if let Err(e) = run_retention(store.as_ref(), &retention, UnixMillis::now()).await {
                tracing::warn!(error = %e, "retention failed; retrying next hour");
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

fn days_before(now: UnixMillis, days: u64) -> UnixMillis {
    now.plus_ms(-(days.min(1_000_000) as i64 * 86_400_000))
}

/// Deletes what `[retention]` no longer keeps, as of `now`: chat, pins, moderation-log lines
/// and viewer sessions older than `room_days`; orders in a final state whose final step is
/// older than `transaction_days`, with their items, events, payments and coupon uses;
/// access-log lines older than `access_days`. Ledger rows are never deleted (they are
/// immutable by trigger).
pub async fn run_retention(
    store: &dyn Store,
    cfg: &RetentionConfig,
    now: UnixMillis,
) -> anyhow::Result<hawker_storage::retention::Pruned> {
    let mut pruned = store
        .prune_room_logs(days_before(now, cfg.room_days))
        .await?;
    pruned.orders = store
        .prune_orders(days_before(now, cfg.transaction_days))
        .await?;
    pruned.access = store
        .prune_access_log(days_before(now, cfg.access_days))
        .await?;
    if pruned != Default::default() {
        tracing::info!(
            comments = pruned.comments,
            pins = pruned.pins,
            moderation = pruned.moderation,
            viewer_sessions = pruned.viewer_sessions,
            leads = pruned.leads,
            co_hosts = pruned.co_hosts,
            orders = pruned.orders,
            access = pruned.access,
            "records removed by retention"
        );
    }
    Ok(pruned)
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
