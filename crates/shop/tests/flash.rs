//! The flash-sale engine against real storage (SQLite file, PostgreSQL): many buyers at once,
//! never oversold, never above the per-buyer limit, every acknowledged order stored.

use hawker_commerce::catalog::{Category, ReturnClass};
use hawker_commerce::order::{ActorKind, OrderState};
use hawker_commerce::org::OrgKind;
use hawker_domain::*;
use hawker_shop::flash::{BuyResult, FlashEngine, SaleListing};
use hawker_storage::prelude::*;
use hawker_storage::shop::{NewFlashSale, NewProduct};
use hawker_storage::{AccountStore, ChannelStore, NewAccount, NewChannel, SqlStore, Store};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

async fn world(
    store: &SqlStore,
    buyers: usize,
    stock: i64,
    limit: i64,
) -> (SaleListing, Vec<AccountId>) {
    let mk = |i: usize| NewAccount {
        email: Email::parse(&format!("b{i}@example.com")).unwrap(),
        display_name: DisplayName::parse("Buyer").unwrap(),
        password: PasswordHash::from_stored("x".into()),
        role: Role::Viewer,
        created_at: UnixMillis(0),
    };
    let host = store
        .create_account(NewAccount {
            email: Email::parse("host@farm.example").unwrap(),
            ..mk(0)
        })
        .await
        .unwrap();
    let mut ids = Vec::new();
    for i in 1..=buyers {
        ids.push(store.create_account(mk(i)).await.unwrap().id);
    }
    let org = store
        .create_org("Li's orchard", OrgKind::Individual, host.id, UnixMillis(0))
        .await
        .unwrap();
    let st = store
        .create_store(org.id, "Orchard", "Pinggu", UnixMillis(0))
        .await
        .unwrap();
    let ch = store
        .create_channel(NewChannel {
            slug: Slug::parse("li-farm").unwrap(),
            title: "t".into(),
            owner: host.id,
            stream_key: StreamKey::generate(),
            created_at: UnixMillis(0),
        })
        .await
        .unwrap();
    let p = store
        .create_product(
            &NewProduct {
                org: org.id,
                title: "Peaches".into(),
                description: String::new(),
                category: Category::Food,
                return_class: ReturnClass::Perishable,
                currency: Currency::CNY,
                sponsored: false,
            },
            UnixMillis(0),
        )
        .await
        .unwrap();
    let sku = store
        .add_sku(p.id, "5 kg", 6_800, UnixMillis(0))
        .await
        .unwrap();
    let now = UnixMillis::now();
    let sale = store
        .create_flash_sale(
            &NewFlashSale {
                channel: ch.id,
                show: None,
                org: org.id,
                store: st.id,
                sku: sku.id,
                price_minor: 4_900,
                reference_minor: None,
                currency: Currency::CNY,
                total_stock: stock,
                per_buyer_limit: limit,
                duration_ms: 600_000,
                starts_at: Some(now),
                created_by: host.id,
            },
            now,
        )
        .await
        .unwrap();
    (
        SaleListing {
            product: p.id,
            title: "Peaches — 5 kg".into(),
            return_class: ReturnClass::Perishable,
            sale,
        },
        ids,
    )
}

/// An engine on `store`: node 1, ten-minute reservations, nobody listening for stock.
fn new_engine(store: &Arc<SqlStore>) -> FlashEngine {
    FlashEngine::start(
        store.clone() as Arc<dyn Store>,
        1,
        Duration::from_secs(600),
        Arc::new(|_: &SaleListing, _| {}),
    )
}

async fn stampede(store: Arc<SqlStore>) {
    let (listing, buyers) = world(&store, 60, 100, 3).await;
    let sale = listing.sale.id;
    let engine = new_engine(&store);
    engine.open(listing, vec![]).await.unwrap();
    // 60 buyers × 6 attempts of 1–2 items each, all at once.
    let mut tasks = Vec::new();
    for (i, b) in buyers.iter().enumerate() {
        for a in 0..6 {
            let (e, b) = (engine.clone(), *b);
            tasks.push(tokio::spawn(async move {
                let q = 1 + ((i + a) % 2) as i64;
                (
                    b,
                    q,
                    e.buy(sale, b, q, Some(format!("k{a}")), "{}".into()).await,
                )
            }));
        }
    }
    let mut acked: HashMap<i64, (AccountId, i64)> = HashMap::new();
    for t in tasks {
        let (b, q, r) = t.await.unwrap();
        if let Ok(BuyResult::Reserved { order, .. }) = r.map_err(|e| panic!("{e}")) {
            acked.insert(order, (b, q));
        }
    }
    let sold: i64 = acked.values().map(|(_, q)| q).sum();
    assert_eq!(sold, 100, "the whole stock sells, not one item more");
    assert_eq!(engine.remaining(sale).await, Some(0));
    let mut per_buyer: HashMap<AccountId, i64> = HashMap::new();
    for (b, q) in acked.values() {
        *per_buyer.entry(*b).or_default() += q;
    }
    assert!(per_buyer.values().all(|q| *q <= 3));
    // Every acknowledged order is stored, and nothing else.
    let stored = store.flash_reservations(sale).await.unwrap();
    assert_eq!(stored.len(), acked.len());
    for r in &stored {
        assert!(r.live);
        assert_eq!(acked.get(&r.order), Some(&(r.buyer, r.quantity)));
    }
    // A repeated request with the same key is the same order.
    let (id, (b, _)) = acked.iter().next().unwrap();
    let key = stored
        .iter()
        .find(|r| r.order == *id)
        .unwrap()
        .key
        .clone()
        .and_then(|k| k.split_once(':').map(|(_, k)| k.to_string()));
    assert!(key.is_some(), "stored under the sale's name");
    assert_eq!(
        engine
            .buy(sale, *b, 1, key.clone(), "{}".into())
            .await
            .unwrap(),
        BuyResult::Repeat { order: *id }
    );
    // A released reservation goes back on sale.
    engine.release(sale, *b, *id).await;
    assert_eq!(engine.remaining(sale).await, Some(acked[id].1));
    // Its key still names that order, now and after a restart: never a second order.
    let remaining = engine.remaining(sale).await.unwrap();
    assert_eq!(
        engine.buy(sale, *b, 1, key.clone(), "{}".into()).await,
        Ok(BuyResult::Repeat { order: *id })
    );
    assert_eq!(engine.remaining(sale).await, Some(remaining));
    assert!(matches!(
        engine
            .buy(sale, *b, 1, Some("fresh-key".into()), "{}".into())
            .await,
        Ok(BuyResult::Reserved { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stampede_on_sqlite() {
    let (s, _d) = hawker_storage::testing::sqlite_store().await;
    stampede(Arc::new(s)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stampede_on_postgres() {
    stampede(Arc::new(hawker_storage::testing::postgres_store().await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_rebuilds_the_book_from_stored_orders() {
    let (s, _d) = hawker_storage::testing::sqlite_store().await;
    let store = Arc::new(s);
    let (listing, buyers) = world(&store, 5, 10, 2).await;
    let sale = listing.sale.id;
    let engine = new_engine(&store);
    engine.open(listing.clone(), vec![]).await.unwrap();
    let mut first = Vec::new();
    for b in &buyers {
        first.push(
            engine
                .buy(sale, *b, 2, Some("a".into()), "{}".into())
                .await
                .unwrap(),
        );
    }
    // The last buyer's reservation expires: its 2 items go back, its key stays spent.
    let BuyResult::Reserved { order: expired, .. } = first[4] else {
        panic!("reserved: {:?}", first[4]);
    };
    let t = UnixMillis::now();
    store
        .transition_order(
            expired,
            OrderState::Created,
            OrderState::Expired,
            ActorKind::System,
            None,
            "reservation ran out",
            &Default::default(),
            t,
        )
        .await
        .unwrap();
    drop(engine);
    // A new engine (a restarted server) knows the sale is sold out and who bought what.
    let engine = new_engine(&store);
    engine
        .open(listing, store.flash_reservations(sale).await.unwrap())
        .await
        .unwrap();
    assert_eq!(engine.remaining(sale).await, Some(2));
    assert!(matches!(
        engine
            .buy(sale, buyers[0], 1, Some("a".into()), "{}".into())
            .await
            .unwrap(),
        BuyResult::Repeat { .. }
    ));
    assert_eq!(
        engine
            .buy(sale, buyers[4], 1, Some("a".into()), "{}".into())
            .await
            .unwrap(),
        BuyResult::Repeat { order: expired },
        "an expired order's key still names it after a restart"
    );
    assert_eq!(engine.remaining(sale).await, Some(2));
    // Every acknowledged order is an order row with its item and its audit event.
    for r in &first {
        let BuyResult::Reserved { order, .. } = r else {
            panic!("reserved: {r:?}")
        };
        assert!(store.order(*order).await.unwrap().is_some());
        assert_eq!(store.order_items(*order).await.unwrap().len(), 1);
        assert!(!store.order_events(*order).await.unwrap().is_empty());
    }
}

/// Commits are pipelined (the next batch is decided while one is on its way to disk), so a key
/// repeated while its order is in flight must wait for that order's commit: every answer, first
/// or repeated, names an order the store already holds when the answer arrives. Three readers
/// of each fresh order at once also check that a read racing another's move out of the
/// journal still finds it. (On SQLite a read waits for the writer's connection, so PostgreSQL is
/// where an early answer shows.)
async fn repeated_keys(store: Arc<SqlStore>) {
    let (listing, buyers) = world(&store, 40, 1_000, 5).await;
    let sale = listing.sale.id;
    let engine = new_engine(&store);
    engine.open(listing, vec![]).await.unwrap();
    let mut tasks = Vec::new();
    for round in 0..5 {
        for b in &buyers {
            // The same buy sent three times at once: one order, two repeats.
            for _ in 0..3 {
                let (e, st, b) = (engine.clone(), store.clone(), *b);
                tasks.push(tokio::spawn(async move {
                    let order = match e
                        .buy(sale, b, 1, Some(format!("r{round}")), "{}".into())
                        .await
                        .unwrap()
                    {
                        BuyResult::Reserved { order, .. } | BuyResult::Repeat { order } => order,
                        other => panic!("{other:?}"),
                    };
                    (order, st.order(order).await.unwrap().is_some())
                }));
            }
        }
    }
    let mut orders = std::collections::HashSet::new();
    for t in tasks {
        let (order, stored) = t.await.unwrap();
        assert!(stored, "order {order} was answered before it was stored");
        orders.insert(order);
    }
    assert_eq!(orders.len(), 5 * 40, "one order per buyer and key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_key_is_answered_only_once_its_order_is_stored_on_sqlite() {
    let (s, _d) = hawker_storage::testing::sqlite_store().await;
    repeated_keys(Arc::new(s)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_key_is_answered_only_once_its_order_is_stored_on_postgres() {
    repeated_keys(Arc::new(hawker_storage::testing::postgres_store().await)).await;
}
