//! The flash-sale engine: one writer task owns every open sale's book. Buy requests queue to
//! it; it decides everything waiting at once, in memory, and writes the accepted orders in one
//! transaction (the group commit: one fsync for many orders). While that commit runs, the
//! next attempts are decided and gather into the next batch, which starts the moment the
//! previous commit lands: batches grow with the load, and a lone buyer never waits for a
//! timer. A buyer hears "reserved" (or, for a repeated key, "already yours") only once the
//! order's commit has landed; a failed commit undoes its reservations and answers "try again".
//! Nothing is acknowledged that is not on disk; at start the books are rebuilt from the stored
//! orders.

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
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

type Reply = oneshot::Sender<Result<BuyResult, EngineError>>;

/// Orders decided and waiting for their commit, with who to answer when it lands.
#[derive(Default)]
struct Batch {
    orders: Vec<NewOrder>,
    /// The reply of each entry of `orders`, at the same index.
    replies: Vec<Reply>,
    /// Repeated keys whose order may not be durable yet: answered with this batch's commit,
    /// which lands after every earlier one.
    repeats: Vec<(OrderId, Reply)>,
}

impl Batch {
    fn is_empty(&self) -> bool {
        self.orders.is_empty() && self.repeats.is_empty()
    }
}

/// A commit that finished: its batch, the orders it wrote, and how it went.
struct Commit {
    batch: Batch,
    orders: Arc<[NewOrder]>,
    started: std::time::Instant,
    result: hawker_storage::Result<()>,
}

/// A commit under way.
type InFlight = std::pin::Pin<Box<dyn std::future::Future<Output = Commit> + Send>>;

async fn writer(
    store: Arc<dyn Store>,
    node: u32,
    reservation: Duration,
    on_remaining: RemainingListener,
    mut rx: mpsc::Receiver<Cmd>,
) {
    let mut books: HashMap<FlashSaleId, Book> = HashMap::new();
    let mut ids = OrderIdGen::new(node);
    let mut cmds = Vec::with_capacity(MAX_BATCH);
    let mut next = Batch::default();
    let mut in_flight: Option<InFlight> = None;
    // Orders acknowledged into the store's journal and not yet moved into the order tables
    // (SQLite); the move waits until buying pauses, so it never competes with a sale.
    let mut journalled: usize = 0;
    // Set while moving the journal after a pause: the next chunk follows at once unless a
    // command is waiting (the pause was already observed).
    let mut moving = false;
    // Orders whose commit failed, and why: a repeat that joined a later batch while the order
    // was in flight hears the same. (Their keys are forgotten by the book, so later repeats
    // are decided afresh.) Only grows when the store refuses orders.
    let mut failed = HashMap::new();
    let mut open = true;
    while open || in_flight.is_some() || !next.is_empty() {
        let idle = in_flight.is_none() && next.is_empty() && journalled > 0;
        let pause = if moving && rx.is_empty() {
            Duration::ZERO
        } else {
            IDLE
        };
        tokio::select! {
            biased;
            done = async { in_flight.as_mut().expect("guarded").await }, if in_flight.is_some() => {
                in_flight = None;
                journalled += landed(&store, &mut books, &mut failed, done, &on_remaining).await;
            }
            n = rx.recv_many(&mut cmds, MAX_BATCH), if open => {
                moving = false;
                if n == 0 {
                    open = false;
                }
                decide(
                    &mut books,
                    &mut ids,
                    reservation,
                    in_flight.is_some(),
                    cmds.drain(..),
                    &mut next,
                    &on_remaining,
                );
            }
            _ = tokio::time::sleep(pause), if idle && open => {
                moving = true;
                match store.materialise_flash_orders(MATERIALISE_CHUNK).await {
                    Ok(n) if n < MATERIALISE_CHUNK => journalled = 0,
                    Ok(n) => journalled = journalled.saturating_sub(n).max(1),
                    Err(e) => {
                        tracing::error!(
                            error = %e,
                            "moving flash orders out of the journal failed; reads will retry"
                        );
                        journalled = 0;
                    }
                }
            }
        }
        // One commit at a time; the next batch gathers while it runs, so its size follows
        // the load: the busier the sale, the more orders share one fsync.
        if in_flight.is_none() && !next.is_empty() {
            let mut batch = std::mem::take(&mut next);
            let orders: Arc<[NewOrder]> = std::mem::take(&mut batch.orders).into();
            let started = std::time::Instant::now();
            // A task of its own, so the commit progresses (PostgreSQL's round trips too)
            // while this loop decides the next attempts.
            let commit = tokio::spawn({
                let (store, orders) = (store.clone(), orders.clone());
                async move { store.place_flash_orders(orders).await }
            });
            in_flight = Some(Box::pin(async move {
                let result = commit.await.unwrap_or_else(|e| {
                    Err(hawker_storage::StorageError::Corrupt(format!(
                        "flash commit task: {e}"
                    )))
                });
                Commit {
                    batch,
                    orders,
                    started,
                    result,
                }
            }));
        }
    }
}

/// Decides a queue-full of commands against the books. Accepted orders join `next`;
/// refusals are answered at once.
fn decide(
    books: &mut HashMap<FlashSaleId, Book>,
    ids: &mut OrderIdGen,
    reservation: Duration,
    // A commit is on its way to disk.
    in_flight: bool,
    cmds: impl Iterator<Item = Cmd>,
    next: &mut Batch,
    on_remaining: &RemainingListener,
) {
    let now = UnixMillis::now();
    // Sales whose stock changed without an order to commit (opened, released).
    let mut touched = HashSet::new();
    for cmd in cmds {
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
                        next.orders.push(NewOrder {
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
                        next.replies.push(reply);
                    }
                    // The first order may still be on its way to disk (in flight or in `next`):
                    // the answer waits for the next commit to land, unless nothing is pending.
                    BuyOutcome::Repeat { order_id } if !in_flight && next.is_empty() => {
                        let _ = reply.send(Ok(BuyResult::Repeat { order: order_id }));
                    }
                    BuyOutcome::Repeat { order_id } => next.repeats.push((order_id, reply)),
                    BuyOutcome::Refused(r) => {
                        let _ = reply.send(Ok(BuyResult::Refused(r)));
                    }
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

/// A commit finished: answer its buyers. Returns how many orders it journalled.
async fn landed(
    store: &Arc<dyn Store>,
    books: &mut HashMap<FlashSaleId, Book>,
    failed: &mut HashMap<OrderId, EngineError>,
    done: Commit,
    on_remaining: &RemainingListener,
) -> usize {
    let Commit {
        batch,
        orders,
        started,
        result,
    } = done;
    let n = orders.len();
    let mut journalled = 0;
    match result {
        Ok(()) => {
            journalled = n;
            if n > 0 {
                metrics::histogram!("hawker_flash_commit_orders").record(n as f64);
                metrics::histogram!("hawker_flash_commit_seconds")
                    .record(started.elapsed().as_secs_f64());
            }
            for (reply, order) in batch.replies.into_iter().zip(orders.iter()) {
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
            for (reply, order) in batch.replies.into_iter().zip(orders.iter()) {
                let result = match store.place_flash_orders(Arc::from([order.clone()])).await {
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
                            b.book.forget(order.buyer.0, order.id);
                        }
                        // Order ids are unique by construction (one generator per
                        // node); a conflict is the buyer's (buyer, key) pair.
                        let err = match e {
                            hawker_storage::StorageError::Conflict { .. } => EngineError::KeyReused,
                            e => {
                                tracing::error!(error = %e, order = order.id, "flash-sale order not stored; reservation undone");
                                EngineError::Storage
                            }
                        };
                        failed.insert(order.id, err);
                        Err(err)
                    }
                };
                let _ = reply.send(result);
            }
        }
    }
    for (order, reply) in batch.repeats {
        let _ = reply.send(if let Some(err) = failed.get(&order) {
            Err(*err)
        } else {
            Ok(BuyResult::Repeat { order })
        });
    }
    // The sales whose stock this batch took: the room hears what is left.
    let touched: HashSet<FlashSaleId> = orders.iter().filter_map(|o| o.flash_sale).collect();
    for sale in touched {
        if let Some(b) = books.get(&sale) {
            on_remaining(&b.listing, b.book.remaining());
        }
    }
    journalled
}
