//! The flash-sale engine: one writer task owns every open sale's book. Buy requests queue to
//! it; it decides a whole queue-full at once, writes the accepted orders in one transaction
//! (the group commit: one fsync for many orders), and only then answers. A failed commit
//! undoes its reservations and answers "try again". Nothing is acknowledged that is not on disk;
//! at start the books are rebuilt from the stored orders.

use hawker_commerce::flash::{BuyOutcome, BuyRefusal, SaleBook, SaleTerms};
use hawker_commerce::ids::OrderIdGen;
use hawker_domain::{AccountId, UnixMillis};
use hawker_storage::shop::{
    FlashReservation, FlashSale, FlashSaleId, NewOrder, OrderId, OrderItem,
};
use hawker_storage::Store;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// What a buyer hears back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuyResult {
    Reserved {
        order: OrderId,
        expires_at: UnixMillis,
    },
    Repeat {
        order: OrderId,
    },
    Refused(BuyRefusal),
    NoSuchSale,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("the sale engine is busy; try again")]
    Busy,
    #[error("the order could not be stored; try again")]
    Storage,
    #[error("this idempotency key was already used for another order")]
    KeyReused,
    #[error("the sale engine stopped")]
    Stopped,
}

/// What the writer needs to turn a reservation into an order row.
#[derive(Debug, Clone)]
pub struct SaleListing {
    pub sale: FlashSale,
    pub product: i64,
    pub title: String,
    pub return_class: hawker_commerce::catalog::ReturnClass,
}

/// Stock left changed: the live room shows it.
pub type RemainingListener = Arc<dyn Fn(&SaleListing, i64) + Send + Sync>;

enum Cmd {
    Buy {
        sale: FlashSaleId,
        buyer: AccountId,
        quantity: i64,
        key: Option<String>,
        address: String,
        reply: oneshot::Sender<Result<BuyResult, EngineError>>,
    },
    Open(Box<SaleListing>, Vec<FlashReservation>),
    Release {
        sale: FlashSaleId,
        buyer: AccountId,
        order: OrderId,
    },
    Remaining(FlashSaleId, oneshot::Sender<Option<i64>>),
}

#[derive(Clone)]
pub struct FlashEngine {
    tx: mpsc::Sender<Cmd>,
}

const QUEUE: usize = 65_536;
const MAX_BATCH: usize = 8_192;
/// Buying paused this long: move journalled orders into the order tables.
const IDLE: Duration = Duration::from_millis(200);
/// Orders moved per transaction when idle: small enough that a buy arriving meanwhile waits
/// a fraction of a second at most.
const MATERIALISE_CHUNK: usize = 4_096;
/// Under load, a commit starts at most this soon after the previous one began; buys arriving
/// meanwhile join it. A commit's fixed cost (the write lock, the WAL frames of the tail pages,
/// the fsync) is then shared by more orders: in `hawker-bench flash` commits of ~25 orders cost
/// ~5 µs of CPU per order in that fixed part alone. A lone buyer never waits: the previous
/// commit is long past.
const GATHER: Duration = Duration::from_millis(2);

impl FlashEngine {
    pub fn start(
        store: Arc<dyn Store>,
        node: u32,
        reservation: Duration,
        on_remaining: RemainingListener,
    ) -> FlashEngine {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(writer(store, node, reservation, on_remaining, rx));
        FlashEngine { tx }
    }

    /// Opens (or re-opens after a restart) a sale with the orders already stored.
    pub async fn open(
        &self,
        listing: SaleListing,
        reservations: Vec<FlashReservation>,
    ) -> Result<(), EngineError> {
        self.tx
            .send(Cmd::Open(Box::new(listing), reservations))
            .await
            .map_err(|_| EngineError::Stopped)
    }

    pub async fn buy(
        &self,
        sale: FlashSaleId,
        buyer: AccountId,
        quantity: i64,
        key: Option<String>,
        address: String,
    ) -> Result<BuyResult, EngineError> {
        let (reply, rx) = oneshot::channel();
        // A key names one buy in one sale: stored under the sale's name, it never meets the
        // same buyer's checkout keys or another sale's in the orders' unique index.
        let key = key.map(|k| format!("flash-{sale}:{k}"));
        // A full queue means overload: say so at once instead of queueing without bound.
        self.tx
            .try_send(Cmd::Buy {
                sale,
                buyer,
                quantity,
                key,
                address,
                reply,
            })
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => EngineError::Busy,
                mpsc::error::TrySendError::Closed(_) => EngineError::Stopped,
            })?;
        rx.await.map_err(|_| EngineError::Stopped)?
    }

    /// An unpaid reservation expired or was cancelled: its stock returns to the sale.
    pub async fn release(&self, sale: FlashSaleId, buyer: AccountId, order: OrderId) {
        let _ = self.tx.send(Cmd::Release { sale, buyer, order }).await;
    }

    pub async fn remaining(&self, sale: FlashSaleId) -> Option<i64> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Cmd::Remaining(sale, tx)).await.ok()?;
        rx.await.ok().flatten()
    }
}

struct Book {
    listing: SaleListing,
    book: SaleBook,
}

async fn writer(
    store: Arc<dyn Store>,
    node: u32,
    reservation: Duration,
    on_remaining: RemainingListener,
    mut rx: mpsc::Receiver<Cmd>,
) {
    let mut books: HashMap<FlashSaleId, Book> = HashMap::new();
    let mut ids = OrderIdGen::new(node);
    let mut batch = Vec::with_capacity(MAX_BATCH);
    // Orders acknowledged into the store's journal and not yet moved into the order tables
    // (SQLite); the move waits until buying pauses, so it never competes with a sale.
    let mut journalled: usize = 0;
    let mut last_commit = tokio::time::Instant::now();
    // Set while moving the journal after a pause: the next chunk follows at once unless a
    // command is waiting (the pause was already observed).
    let mut moving = false;
    loop {
        let received = if journalled == 0 {
            rx.recv_many(&mut batch, MAX_BATCH).await
        } else {
            let pause = if moving && rx.is_empty() {
                Duration::ZERO
            } else {
                IDLE
            };
            match tokio::time::timeout(pause, rx.recv_many(&mut batch, MAX_BATCH)).await {
                Ok(n) => {
                    moving = false;
                    n
                }
                Err(_) => {
                    moving = true;
                    match store.materialise_flash_orders(MATERIALISE_CHUNK).await {
                        Ok(n) if n < MATERIALISE_CHUNK => journalled = 0,
                        Ok(n) => journalled = journalled.saturating_sub(n).max(1),
                        Err(e) => {
                            tracing::error!(error = %e, "moving flash orders out of the journal failed; reads will retry");
                            journalled = 0;
                        }
                    }
                    continue;
                }
            }
        };
        if received == 0 {
            return;
        }
        let since = last_commit.elapsed();
        if since < GATHER && batch.len() < MAX_BATCH {
            tokio::time::sleep(GATHER - since).await;
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(cmd) => batch.push(cmd),
                    Err(_) => break,
                }
            }
        }
        let now = UnixMillis::now();
        let mut orders: Vec<NewOrder> = Vec::new();
        // The reply of each entry of `orders`, at the same index, waiting for the commit.
        let mut waiting = Vec::new();
        let mut touched = HashSet::new();
        for cmd in batch.drain(..) {
            match cmd {
                Cmd::Open(listing, reservations) => {
                    let s = &listing.sale;
                    let mut book = SaleBook::new(SaleTerms {
                        id: s.id,
                        total_stock: s.total_stock,
                        per_buyer_limit: s.per_buyer_limit,
                        starts_at_ms: s.starts_at.map_or(i64::MAX, |t| t.0),
                        ends_at_ms: s.ends_at.map_or(i64::MAX, |t| t.0),
                    });
                    for r in reservations {
                        if r.live {
                            book.restore(r.buyer.0, r.quantity, r.key.as_deref(), r.order);
                        } else {
                            book.restore_released(r.buyer.0, r.key.as_deref(), r.order);
                        }
                    }
                    touched.insert(s.id);
                    books.insert(
                        s.id,
                        Book {
                            listing: *listing,
                            book,
                        },
                    );
                }
                Cmd::Release { sale, buyer, order } => {
                    if let Some(b) = books.get_mut(&sale) {
                        if b.book.release(buyer.0, order) {
                            touched.insert(sale);
                        }
                    }
                }
                Cmd::Remaining(sale, reply) => {
                    let _ = reply.send(books.get(&sale).map(|b| b.book.remaining()));
                }
                Cmd::Buy {
                    sale,
                    buyer,
                    quantity,
                    key,
                    address,
                    reply,
                } => {
                    let Some(b) = books.get_mut(&sale) else {
                        let _ = reply.send(Ok(BuyResult::NoSuchSale));
                        continue;
                    };
                    let outcome = b
                        .book
                        .try_buy(buyer.0, quantity, key.as_deref(), now.0, || ids.next(now.0));
                    match outcome {
                        BuyOutcome::Reserved { order_id } => {
                            let s = &b.listing.sale;
                            let total = s.price_minor * quantity;
                            orders.push(NewOrder {
                                id: order_id,
                                buyer,
                                org: s.org,
                                store: s.store,
                                channel: Some(s.channel),
                                show: s.show,
                                flash_sale: Some(s.id),
                                currency: s.currency,
                                subtotal_minor: total,
                                discount_minor: 0,
                                total_minor: total,
                                coupon: None,
                                address,
                                exceptions_acknowledged: b.listing.return_class.is_exception(),
                                idempotency_key: key,
                                created_at: now,
                                expires_at: Some(now.plus_ms(reservation.as_millis() as i64)),
                                items: vec![OrderItem {
                                    sku: s.sku,
                                    product: b.listing.product,
                                    title: b.listing.title.clone(),
                                    quantity,
                                    unit_price_minor: s.price_minor,
                                    return_class: b.listing.return_class,
                                }],
                                take_stock: false,
                            });
                            touched.insert(sale);
                            waiting.push(reply);
                        }
                        BuyOutcome::Repeat { order_id } => {
                            let _ = reply.send(Ok(BuyResult::Repeat { order: order_id }));
                        }
                        BuyOutcome::Refused(r) => {
                            let _ = reply.send(Ok(BuyResult::Refused(r)));
                        }
                    }
                }
            }
        }
        if !orders.is_empty() {
            last_commit = tokio::time::Instant::now();
            let n = orders.len();
            let started = std::time::Instant::now();
            let orders: Arc<[NewOrder]> = orders.into();
            match store.place_flash_orders(orders.clone()).await {
                Ok(()) => {
                    journalled += n;
                    metrics::histogram!("hawker_flash_commit_orders").record(n as f64);
                    metrics::histogram!("hawker_flash_commit_seconds")
                        .record(started.elapsed().as_secs_f64());
                    for (reply, order) in waiting.into_iter().zip(orders.iter()) {
                        let _ = reply.send(Ok(BuyResult::Reserved {
                            order: order.id,
                            expires_at: order.expires_at.expect("flash orders expire"),
                        }));
                    }
                }
                Err(e) => {
                    // One bad order (an idempotency key this buyer already used elsewhere, a
                    // row that changed meanwhile) must not fail the others: commit one by one,
                    // so each buyer hears their own outcome.
                    tracing::warn!(error = %e, orders = n, "group commit failed; committing one by one");
                    for (reply, order) in waiting.into_iter().zip(orders.iter()) {
                        let result = match store
                            .place_flash_orders(Arc::from([order.clone()]))
                            .await
                        {
                            Ok(()) => {
                                journalled += 1;
                                Ok(BuyResult::Reserved {
                                    order: order.id,
                                    expires_at: order.expires_at.expect("flash orders expire"),
                                })
                            }
                            Err(e) => {
                                let sale = order.flash_sale.expect("flash orders name their sale");
                                if let Some(b) = books.get_mut(&sale) {
                                    b.book.release(order.buyer.0, order.id);
                                }
                                // Order ids are unique by construction (one generator per
                                // node); a conflict is the buyer's (buyer, key) pair.
                                Err(match e {
                                    hawker_storage::StorageError::Conflict { .. } => {
                                        EngineError::KeyReused
                                    }
                                    e => {
                                        tracing::error!(error = %e, order = order.id, "flash-sale order not stored; reservation undone");
                                        EngineError::Storage
                                    }
                                })
                            }
                        };
                        let _ = reply.send(result);
                    }
                }
            }
        }
        for sale in touched {
            if let Some(b) = books.get(&sale) {
                on_remaining(&b.listing, b.book.remaining());
            }
        }
    }
}
