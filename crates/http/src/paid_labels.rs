//! The paid-promotion label repeated in the live room while a paid product is pinned (`eu`/`us`:
//! every 5 minutes by default; `cn` keeps it on the card instead). Every node runs the job; a
//! compare-and-set on the last announcement in storage lets exactly one node announce each
//! repeat, and the room shares it with the others over the bus.

use hawker_commerce::disclosure::DisclosureRules;
use hawker_domain::{Channel, UnixMillis};
use hawker_hub::RoomHub;
use hawker_storage::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Who the announcement is from, as the room shows it.
pub const BY: &str = "Hawker";

/// Announces the label for one pinned paid product.
pub async fn announce(
    rooms: &RoomHub,
    channel: &Channel,
    rules: &DisclosureRules,
    title: &str,
    seller: &str,
) {
    let text = rules.announcement(title, seller);
    if let Err(e) = rooms.notice(channel, BY, &text).await {
        tracing::warn!(channel = %channel.slug, error = %e, "paid label not announced");
    }
}

/// One pass: every paid product pinned in a live show whose label is due.
pub async fn repeat_due(
    store: &dyn Store,
    rooms: &RoomHub,
    rules: &DisclosureRules,
    now: UnixMillis,
) -> hawker_storage::Result<usize> {
    if !rules.repeats() {
        return Ok(0);
    }
    let mut n = 0;
    for pin in store.live_paid_pins().await? {
        let not_after = UnixMillis(now.0 - rules.repeat_ms());
        if !store
            .claim_label_repeat(pin.show, pin.product, now, not_after)
            .await?
        {
            continue;
        }
        let Some(channel) = store.channel(pin.channel).await? else {
            continue;
        };
        announce(rooms, &channel, rules, &pin.title, &pin.seller).await;
        n += 1;
    }
    Ok(n)
}

/// Runs [`repeat_due`] a few times per interval until `stop`.
pub fn spawn(
    store: Arc<dyn Store>,
    rooms: RoomHub,
    rules: DisclosureRules,
    stop: CancellationToken,
) {
    if !rules.repeats() {
        return;
    }
    let tick = Duration::from_millis((rules.repeat_ms() as u64 / 4).clamp(250, 15_000));
    tokio::spawn(async move {
        let mut every = tokio::time::interval(tick);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = every.tick() => {}
                _ = stop.cancelled() => return,
            }
            if let Err(e) = repeat_due(store.as_ref(), &rooms, &rules, UnixMillis::now()).await {
                tracing::warn!(error = %e, "paid label repeats failed; retrying");
            }
        }
    });
}
