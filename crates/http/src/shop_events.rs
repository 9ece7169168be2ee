//! What the shop tells the live room: remaining stock of a running flash sale, real purchases,
//! the pinned products' cards and the paid-promotion label. Sales and purchases are told from
//! the flash engine's single writer, so they never wait: each update is handed to a task, and
//! stock updates are thinned to a few per second per sale (the last one, and a sell-out, always
//! go through). Pins and labels are awaited by the shop's showcase workflow; an ended consult's
//! call is hung up here (the WebRTC server sits above the shop).

use hawker_commerce::disclosure::DisclosureRules;
use hawker_domain::{AccountId, Channel, Money, UnixMillis};
use hawker_hub::RoomHub;
use hawker_room::protocol::{PinnedProduct, SaleState};
use hawker_room::room::StateChange;
use hawker_rtc::RtcServer;
use hawker_shop::{Hook, PinnedCard, ShopEvents};
use hawker_storage::shop::{FlashSale, Order};
use hawker_storage::Store;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

const MIN_INTERVAL: Duration = Duration::from_millis(200);

pub struct RoomShopEvents {
    store: Arc<dyn Store>,
    rooms: RoomHub,
    /// Consult calls hang up through it.
    rtc: RtcServer,
    last: Arc<Mutex<HashMap<i64, Throttle>>>,
}

/// Per sale: when the room last heard, and the newest figure not yet sent.
struct Throttle {
    sent: Instant,
    pending: Option<(FlashSale, i64)>,
}

impl RoomShopEvents {
    pub fn new(store: Arc<dyn Store>, rooms: RoomHub, rtc: RtcServer) -> Arc<Self> {
        Arc::new(RoomShopEvents {
            store,
            rooms,
            rtc,
            last: Arc::new(Mutex::new(HashMap::new())),
        })
    }
}

/// The sale as the room shows it.
pub async fn announce_sale(
    store: &dyn Store,
    rooms: &RoomHub,
    sale: &FlashSale,
    remaining: i64,
) -> Result<(), String> {
    let channel = store
        .channel(sale.channel)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("channel gone")?;
    let product = store
        .sku(sale.sku)
        .await
        .map_err(|e| e.to_string())?
        .map_or(0, |s| s.product);
    let state = SaleState {
        sale_id: sale.id,
        product_id: product,
        price: Money::new(sale.price_minor, sale.currency).to_string(),
        starts_at_ms: sale.starts_at.map_or(0, |t| t.0.max(0) as u64),
        ends_at_ms: sale.ends_at.map_or(0, |t| t.0.max(0) as u64),
        remaining: remaining.max(0) as u64,
    };
    // A sale that has ended leaves the room's state.
    let over = sale.ends_at.is_some_and(|t| t.0 <= UnixMillis::now().0);
    rooms
        .set_state(&channel, StateChange::Sale((!over).then_some(state)))
        .await
        .map_err(|e| e.to_string())
}

/// A pinned card as the room and the pin API show it.
pub fn pinned_product(c: &PinnedCard) -> PinnedProduct {
    PinnedProduct {
        product_id: c.product,
        title: c.title.clone(),
        price: c.price.to_string(),
        seller: c.seller.clone(),
        image_url: c.image.map(|id| format!("/media/images/{id}")),
        sponsored: c.disclosure.paid_promotion,
        paid_promotion: c.disclosure.paid_promotion,
        label: c.disclosure.label.clone(),
        host_used: c.disclosure.host_used,
        attestation: c.disclosure.attestation.clone(),
        co_host_used: c.disclosure.co_host_used,
        co_host_attestation: c.disclosure.co_host_attestation.clone(),
    }
}

impl ShopEvents for RoomShopEvents {
    fn pinned(&self, channel: &Channel, cards: &[PinnedCard]) -> Hook<Result<(), String>> {
        let (rooms, channel) = (self.rooms.clone(), channel.clone());
        let pinned = cards.iter().map(pinned_product).collect();
        Box::pin(async move {
            rooms
                .set_state(&channel, StateChange::Pinned(pinned))
                .await
                .map_err(|e| e.to_string())
        })
    }

    fn paid_label(
        &self,
        channel: &Channel,
        rules: &DisclosureRules,
        title: &str,
        seller: &str,
    ) -> Hook<()> {
        let (rooms, channel, rules) = (self.rooms.clone(), channel.clone(), rules.clone());
        let (title, seller) = (title.to_string(), seller.to_string());
        Box::pin(async move {
            crate::paid_labels::announce(&rooms, &channel, &rules, &title, &seller).await;
        })
    }

    fn call_over(&self, call: &str) -> Hook<()> {
        let (rtc, call) = (self.rtc.clone(), call.to_string());
        Box::pin(async move {
            for party in rtc.parties(&call) {
                rtc.close_party(&call, party).await;
            }
        })
    }

    fn sale_remaining(&self, sale: &FlashSale, remaining: i64) {
        let now = Instant::now();
        let mut last = self.last.lock();
        let slot = last.entry(sale.id).or_insert(Throttle {
            sent: now - MIN_INTERVAL,
            pending: None,
        });
        if remaining > 0 && now.duration_since(slot.sent) < MIN_INTERVAL {
            // Too soon: keep the newest figure; one task sends it when the interval has passed.
            let first = slot.pending.is_none();
            slot.pending = Some((sale.clone(), remaining));
            if first {
                let wait = MIN_INTERVAL - now.duration_since(slot.sent);
                let (store, rooms, map, id) = (
                    self.store.clone(),
                    self.rooms.clone(),
                    self.last.clone(),
                    sale.id,
                );
                tokio::spawn(async move {
                    tokio::time::sleep(wait).await;
                    let newest = {
                        let mut m = map.lock();
                        m.get_mut(&id).and_then(|t| {
                            t.sent = Instant::now();
                            t.pending.take()
                        })
                    };
                    if let Some((sale, remaining)) = newest {
                        let _ = announce_sale(store.as_ref(), &rooms, &sale, remaining).await;
                    }
                });
            }
            return;
        }
        slot.sent = now;
        slot.pending = None;
        drop(last);
        let (store, rooms, sale) = (self.store.clone(), self.rooms.clone(), sale.clone());
        tokio::spawn(async move {
            if let Err(e) = announce_sale(store.as_ref(), &rooms, &sale, remaining).await {
                tracing::debug!(sale = sale.id, error = %e, "sale update not shown");
            }
        });
    }

    fn order_paid(&self, order: &Order) {
        let (store, rooms, order) = (self.store.clone(), self.rooms.clone(), order.clone());
        tokio::spawn(async move {
            let Some(channel) = order.channel else { return };
            let Ok(Some(channel)) = store.channel(channel).await else {
                return;
            };
            let buyer = match store.account(AccountId(order.buyer.0)).await {
                Ok(Some(a)) => a.display_name.as_str().to_string(),
                _ => return,
            };
            let title = match store.order_items(order.id).await {
                Ok(items) => items.first().map(|i| i.title.clone()).unwrap_or_default(),
                Err(_) => return,
            };
            let _ = rooms.event(&channel, "purchase", &buyer, &title).await;
        });
    }
}
