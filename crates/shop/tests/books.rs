//! The books against real storage (SQLite and PostgreSQL): orders paid, refunded, delivered and
//! settled become balanced ledger transactions exactly once; payouts are keyed by batch; a
//! restart restores the same balances.

use hawker_books::{Books, CatchUp, MoneyConfig};
use hawker_commerce::catalog::{Category, ReturnClass};
use hawker_commerce::law::LawProfile;
use hawker_commerce::order::{ActorKind, OrderState};
use hawker_commerce::org::OrgKind;
use hawker_domain::*;
use hawker_money::{AccountRef, Party, Purpose};
use hawker_storage::ledger::LedgerStore;
use hawker_storage::prelude::*;
use hawker_storage::shop::{NewOrder, NewProduct, OrderItem, TransitionFields};
use hawker_storage::{AccountStore, ChannelStore, NewAccount, NewChannel, SqlStore, Store};
use hawker_trust::review::{RiskState, RiskVerdict};
use std::sync::Arc;

const DAY: i64 = 86_400_000;

struct World {
    merchant_org: i64,
    store_id: i64,
    host: AccountId,
    agency_org: i64,
    buyer: AccountId,
    channel: ChannelId,
    sku: i64,
    product: i64,
}

async fn world(s: &SqlStore) -> World {
    let mk = |e: &str| NewAccount {
        email: Email::parse(e).unwrap(),
        display_name: DisplayName::parse("Someone").unwrap(),
        password: PasswordHash::from_stored("x".into()),
        role: Role::Streamer,
        created_at: UnixMillis(0),
    };
    let merchant = s.create_account(mk("owner@brand.example")).await.unwrap();
    let host = s.create_account(mk("host@live.example")).await.unwrap();
    let agent = s.create_account(mk("agent@mcn.example")).await.unwrap();
    let buyer = s.create_account(mk("buyer@example.com")).await.unwrap();
    let org = s
        .create_org("Brand", OrgKind::Business, merchant.id, UnixMillis(0))
        .await
        .unwrap();
    let agency = s
        .create_org("Star MCN", OrgKind::Business, agent.id, UnixMillis(0))
        .await
        .unwrap();
    let st = s
        .create_store(org.id, "Warehouse", "Hangzhou", UnixMillis(0))
        .await
        .unwrap();
    let ch = s
        .create_channel(NewChannel {
            slug: Slug::parse("host-live").unwrap(),
            title: "t".into(),
            owner: host.id,
            stream_key: StreamKey::generate(),
            created_at: UnixMillis(0),
        })
        .await
        .unwrap();
    let p = s
        .create_product(
            &NewProduct {
                org: org.id,
                title: "Serum".into(),
                description: String::new(),
                category: Category::Other,
                return_class: ReturnClass::Normal,
                currency: Currency::CNY,
                sponsored: false,
            },
            UnixMillis(0),
        )
        .await
        .unwrap();
    let sku = s
        .add_sku(p.id, "30 ml", 10_000, UnixMillis(0))
        .await
        .unwrap();
    s.create_agency_contract(
        agency.id,
        host.id,
        3_000,
        UnixMillis(0),
        None,
        agent.id,
        UnixMillis(0),
    )
    .await
    .unwrap();
    World {
        merchant_org: org.id,
        store_id: st.id,
        host: host.id,
        agency_org: agency.id,
        buyer: buyer.id,
        channel: ch.id,
        sku: sku.id,
        product: p.id,
    }
}

async fn paid_order(s: &SqlStore, w: &World, id: i64, total: i64) {
    paid_order_in(s, w, id, total, None, UnixMillis(10)).await
}

async fn paid_order_in(
    s: &SqlStore,
    w: &World,
    id: i64,
    total: i64,
    show: Option<ShowId>,
    at: UnixMillis,
) {
    s.place_order(&NewOrder {
        id,
        buyer: w.buyer,
        org: w.merchant_org,
        store: w.store_id,
        channel: Some(w.channel),
        show,
        flash_sale: None,
        currency: Currency::CNY,
        subtotal_minor: total,
        discount_minor: 0,
        total_minor: total,
        coupon: None,
        address: "{}".into(),
        exceptions_acknowledged: false,
        idempotency_key: None,
        created_at: at,
        expires_at: None,
        items: vec![OrderItem {
            sku: w.sku,
            product: w.product,
            title: "Serum — 30 ml".into(),
            quantity: 1,
            unit_price_minor: total,
            return_class: ReturnClass::Normal,
        }],
        take_stock: false,
    })
    .await
    .unwrap();
    let p = s
        .create_payment(
            id,
            "sandbox",
            &format!("pay_{id}"),
            total,
            Currency::CNY,
            UnixMillis(11),
        )
        .await
        .unwrap();
    assert!(s
        .set_payment_state(p.id, "pending", "succeeded", UnixMillis(12))
        .await
        .unwrap());
    step(s, id, OrderState::Created, OrderState::Paid, None).await;
}

async fn step(s: &SqlStore, id: i64, from: OrderState, to: OrderState, delivered: Option<i64>) {
    s.transition_order(
        id,
        from,
        to,
        ActorKind::System,
        None,
        "test",
        &TransitionFields {
            delivered_at: delivered.map(UnixMillis),
            ..Default::default()
        },
        UnixMillis(20),
    )
    .await
    .unwrap();
}

/// What the shop does when a paid order is cancelled: the money goes back, then the step.
async fn cancel_paid(s: &SqlStore, id: i64) {
    let p = s.payments_of_order(id).await.unwrap().remove(0);
    assert!(s
        .set_payment_state(p.id, "succeeded", "refunded", UnixMillis(30))
        .await
        .unwrap());
    step(s, id, OrderState::Paid, OrderState::Cancelled, None).await;
}

fn cny(p: Party, purpose: Purpose) -> AccountRef {
    AccountRef::new(p, purpose, Currency::CNY)
}

async fn books_follow_orders(store: Arc<SqlStore>) {
    let w = world(&store).await;
    let cfg = MoneyConfig {
        payout_minimum_minor: 1_000,
        ..MoneyConfig::default()
    };
    let books = Books::open(
        store.clone() as Arc<dyn Store>,
        cfg.clone(),
        LawProfile::cn(),
    )
    .await
    .unwrap();
    let (org, host, agency) = (
        Party::Org(w.merchant_org),
        Party::Account(w.host.0),
        Party::Agency(w.agency_org),
    );
    paid_order(&store, &w, 1, 10_000).await;
    paid_order(&store, &w, 2, 10_001).await;
    let now = UnixMillis(100 * DAY);
    // The frequent run looks only at payments changed since its last run: these are older.
    assert_eq!(
        books
            .catch_up_since(Some(UnixMillis(1_000)), now)
            .await
            .unwrap(),
        CatchUp::default()
    );
    assert_eq!(
        books.catch_up(now).await.unwrap(),
        CatchUp {
            booked: 2,
            ..Default::default()
        }
    );
    assert_eq!(
        books.catch_up(now).await.unwrap(),
        CatchUp::default(),
        "once"
    );
    // 10,000: 20% commission (host 70% of it, agency 30%), 5% fee, the merchant the rest;
    // 10,001: every share rounds down, the merchant takes the extra fen.
    assert_eq!(
        books.balance(&cny(org, Purpose::Pending)).await,
        7_500 + 7_501
    );
    assert_eq!(books.balance(&cny(host, Purpose::Pending)).await, 1_400 * 2);
    assert_eq!(books.balance(&cny(agency, Purpose::Pending)).await, 600 * 2);
    assert_eq!(
        books.balance(&cny(Party::Platform, Purpose::Fees)).await,
        500 * 2
    );

    // Order 2 is cancelled after payment (its money went back): reversed from pending.
    cancel_paid(&store, 2).await;
    // Order 1 is delivered; the cn return window is 7 days.
    step(&store, 1, OrderState::Paid, OrderState::Shipped, None).await;
    step(
        &store,
        1,
        OrderState::Shipped,
        OrderState::Delivered,
        Some(now.0 - 6 * DAY),
    )
    .await;
    assert_eq!(
        books.catch_up(now).await.unwrap(),
        CatchUp {
            refunded: 1,
            ..Default::default()
        },
        "not settled inside the return window"
    );
    let later = UnixMillis(now.0 + 2 * DAY);
    assert_eq!(
        books.catch_up(later).await.unwrap(),
        CatchUp {
            settled: 1,
            ..Default::default()
        }
    );
    assert_eq!(books.balance(&cny(org, Purpose::Pending)).await, 0);
    assert_eq!(books.balance(&cny(org, Purpose::Available)).await, 7_500);
    assert_eq!(books.balance(&cny(host, Purpose::Available)).await, 1_400);
    assert_eq!(books.balance(&cny(agency, Purpose::Available)).await, 600);

    // A payout batch; the agency is below the minimum of 1,000 and waits.
    books
        .block(host, "under review", w.buyer, later)
        .await
        .unwrap();
    let reopened = Books::open(
        store.clone() as Arc<dyn Store>,
        cfg.clone(),
        LawProfile::cn(),
    )
    .await
    .unwrap();
    assert!(
        reopened.is_blocked(host).await,
        "a block survives a restart"
    );
    let paid = books.payout_batch("2026-11-w1", later).await.unwrap();
    assert_eq!(paid.len(), 1, "the blocked host is not paid: {paid:?}");
    books.unblock(host, w.buyer, later).await.unwrap();
    books.confirm_payouts(&paid, later).await.unwrap();
    assert_eq!(books.balance(&cny(org, Purpose::Available)).await, 0);
    // Re-running the batch pays nobody it paid, and now pays the unblocked host.
    let again = books.payout_batch("2026-11-w1", later).await.unwrap();
    assert_eq!(again.len(), 1);
    assert!(again[0].key.contains(":account:"));
    assert!(books
        .payout_batch("2026-11-w1", later)
        .await
        .unwrap()
        .is_empty());

    // Coins and gifts: a succeeded top-up is booked once; a gift is credited late.
    use hawker_storage::gifts::GiftStore;
    let t = store
        .create_topup(w.buyer, 500, 5_000, Currency::CNY, "sandbox", later)
        .await
        .unwrap();
    assert!(store
        .set_topup_state(t.id, "pending", "succeeded", later)
        .await
        .unwrap());
    assert_eq!(books.catch_up(later).await.unwrap().topups, 1);
    assert_eq!(books.catch_up(later).await.unwrap().topups, 0, "once");
    assert_eq!(books.coins(w.buyer).await, 500);
    let kind = store.gift_kinds().await.unwrap()[0].id;
    let g = books
        .send_gift(w.buyer, w.host, w.channel.0, None, kind, 100, later)
        .await
        .unwrap();
    assert_eq!(books.coins(w.buyer).await, 400);
    // 100 coins = ¥10.00: host 40% of which the agency takes 30%, tax 10%, platform the rest.
    assert_eq!(books.balance(&cny(host, Purpose::Pending)).await, 280);
    assert_eq!(books.balance(&cny(agency, Purpose::Pending)).await, 120);
    assert_eq!(
        books.catch_up(later).await.unwrap().gifts_settled,
        0,
        "credited late"
    );
    let after = UnixMillis(later.0 + 73 * 3_600_000);
    assert_eq!(books.catch_up(after).await.unwrap().gifts_settled, 1);
    assert_eq!(books.balance(&cny(host, Purpose::Pending)).await, 0);
    assert!(
        books.refund_gift(g.id, after).await.is_err(),
        "settled: no longer refundable here"
    );
    assert!(matches!(
        books
            .send_gift(w.buyer, w.host, w.channel.0, None, kind, 401, after)
            .await,
        Err(hawker_books::BooksError::NotEnoughCoins)
    ));

    // A restart restores the same balances from the stored entries.
    let reopened = Books::open(store.clone() as Arc<dyn Store>, cfg, LawProfile::cn())
        .await
        .unwrap();
    for p in [
        org,
        host,
        agency,
        Party::Platform,
        Party::Account(w.buyer.0),
    ] {
        assert_eq!(books.balances_of(p).await, reopened.balances_of(p).await);
    }
    let all: i64 = store
        .ledger_balances()
        .await
        .unwrap()
        .iter()
        .filter(|(a, _)| a.currency == Currency::CNY)
        .map(|(_, b)| b)
        .sum();
    assert_eq!(all, 0, "balanced");
}

#[tokio::test]
async fn books_follow_orders_on_sqlite() {
    let (s, _d) = hawker_storage::testing::sqlite_store().await;
    books_follow_orders(Arc::new(s)).await;
}

#[tokio::test]
async fn books_follow_orders_on_postgres() {
    books_follow_orders(Arc::new(hawker_storage::testing::postgres_store().await)).await;
}

async fn slots_pay_by_the_pin_window(store: Arc<SqlStore>) {
    use hawker_storage::slots::{NewSlot, SlotStore};
    use hawker_storage::ShowStore;
    let w = world(&store).await;
    let books = Books::open(
        store.clone() as Arc<dyn Store>,
        MoneyConfig::default(),
        LawProfile::cn(),
    )
    .await
    .unwrap();
    let show = store
        .create_show(hawker_storage::NewShow {
            channel: w.channel,
            title: "Brand day".into(),
            state: ShowState::Live,
            scheduled_at: None,
            started_at: Some(UnixMillis(0)),
        })
        .await
        .unwrap();
    let slot = store
        .create_slot(&NewSlot {
            show: show.id,
            host: w.host,
            brand: w.merchant_org,
            product: w.product,
            fee_minor: 2_000,
            currency: Currency::CNY,
            commission_bps: 3_000,
            guaranteed_gmv_minor: Some(30_000),
            return_cap_bps: Some(4_000),
            created_by: w.host,
            created_at: UnixMillis(0),
        })
        .await
        .unwrap();
    store
        .pin(show.id, w.product, UnixMillis(1_000), 1_000)
        .await
        .unwrap();
    store
        .unpin(show.id, w.product, UnixMillis(5_000))
        .await
        .unwrap();
    // Two sales while pinned, one after.
    paid_order_in(&store, &w, 11, 10_000, Some(show.id), UnixMillis(2_000)).await;
    paid_order_in(&store, &w, 12, 10_000, Some(show.id), UnixMillis(3_000)).await;
    paid_order_in(&store, &w, 13, 10_000, Some(show.id), UnixMillis(6_000)).await;
    let now = UnixMillis(10_000);
    assert_eq!(books.catch_up(now).await.unwrap().booked, 3);
    let host = Party::Account(w.host.0);
    // Slot sales: 30% commission, of which the agency 30%: host 2,100 each; the later sale the
    // ordinary 20%: host 1,400.
    assert_eq!(
        books.balance(&cny(host, Purpose::Pending)).await,
        2 * 2_100 + 1_400
    );
    // A slot sale returned keeps its commission: the brand owes it.
    cancel_paid(&store, 12).await;
    assert_eq!(books.catch_up(now).await.unwrap().refunded, 1);
    assert_eq!(
        books.balance(&cny(host, Purpose::Pending)).await,
        2 * 2_100 + 1_400
    );
    assert_eq!(
        books
            .balance(&cny(Party::Org(w.merchant_org), Purpose::Owed))
            .await,
        -3_000
    );
    let r = books.slot_report(slot.id, now).await.unwrap();
    assert_eq!((r.orders, r.pinned_ms), (2, 4_000));
    assert_eq!(r.result.gmv_minor, 20_000);
    assert_eq!(r.result.returned_minor, 10_000);
    assert_eq!(r.result.return_rate_bps, 5_000);
    assert_eq!(r.result.valid_gmv_minor, 10_000);
    assert_eq!(r.result.commission_minor, 6_000);
    // Returns above the 40% cap: 10,000 − 8,000; 30% of that comes back.
    assert_eq!(r.result.clawback_minor, 600);
    // Two thirds of the ¥300 guarantee missed: two thirds of the fee back.
    assert_eq!(r.result.fee_refund_minor, 1_333);
    assert_eq!(r.status, "final");
    assert!(books.close_slot(slot.id, now).await.is_err(), "no fee yet");
    books.slot_fee_received(slot.id, now).await.unwrap();
    // The risk engine holds the show, flagging the slot's kept sale: a question, not a
    // verdict. The report counts the sale and says the show is under review; closing waits.
    {
        use hawker_storage::trust::RiskFlag;
        store
            .save_assessment(
                show.id,
                7_500,
                true,
                "[]",
                &[RiskFlag {
                    order: 11,
                    show: show.id,
                    buyer: w.buyer,
                    why: "test".into(),
                    state: RiskState::Open,
                }],
                now,
            )
            .await
            .unwrap();
    }
    let held = books.slot_report(slot.id, now).await.unwrap();
    assert_eq!(held.status, "held_under_review");
    assert_eq!(
        held.result.valid_gmv_minor, 10_000,
        "not written off while under review"
    );
    assert!(matches!(
        books.close_slot(slot.id, now).await,
        Err(hawker_books::BooksError::UnderReview)
    ));
    assert_eq!(
        store.slot(slot.id).await.unwrap().unwrap().state,
        "fee_received"
    );
    // Ops clear the show: the slot closes on its figures.
    {
        assert!(store
            .review_assessment(show.id, RiskVerdict::Cleared, w.host, now)
            .await
            .unwrap());
    }
    assert_eq!(
        books.slot_report(slot.id, now).await.unwrap().status,
        "final"
    );
    books.close_slot(slot.id, now).await.unwrap();
    assert_eq!(store.slot(slot.id).await.unwrap().unwrap().state, "closed");
    // The host's statement for this show: three sales, the fee, the close.
    let lines = store
        .ledger_statement(
            &cny(host, Purpose::Pending),
            UnixMillis(0),
            UnixMillis(i64::MAX),
            Some(show.id.0),
            100,
        )
        .await
        .unwrap();
    let kinds: Vec<&str> = lines.iter().map(|l| l.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "order_paid",
            "order_paid",
            "order_paid",
            "slot_fee",
            "slot_closed"
        ]
    );
    assert!(store
        .ledger_statement(
            &cny(host, Purpose::Pending),
            UnixMillis(0),
            UnixMillis(i64::MAX),
            Some(show.id.0 + 1),
            100,
        )
        .await
        .unwrap()
        .is_empty());
    let all: i64 = store
        .ledger_balances()
        .await
        .unwrap()
        .iter()
        .filter(|(a, _)| a.currency == Currency::CNY)
        .map(|(_, b)| b)
        .sum();
    assert_eq!(all, 0, "balanced");
}

#[tokio::test]
async fn slots_pay_by_the_pin_window_on_sqlite() {
    let (s, _d) = hawker_storage::testing::sqlite_store().await;
    slots_pay_by_the_pin_window(Arc::new(s)).await;
}

#[tokio::test]
async fn slots_pay_by_the_pin_window_on_postgres() {
    slots_pay_by_the_pin_window(Arc::new(hawker_storage::testing::postgres_store().await)).await;
}

/// Settlement and payouts interrupted at arbitrary points (the task dropped mid-way, as a
/// crash would leave it: each batch committed or not) and run again complete exactly once.
async fn interrupted_runs_complete_exactly_once(store: Arc<SqlStore>) {
    use hawker_storage::ledger::LedgerStore;
    let w = world(&store).await;
    let cfg = MoneyConfig {
        payout_minimum_minor: 1,
        ..MoneyConfig::default()
    };
    let books = Books::open(
        store.clone() as Arc<dyn Store>,
        cfg.clone(),
        LawProfile::cn(),
    )
    .await
    .unwrap();
    let n = 600i64;
    for i in 0..n {
        paid_order(&store, &w, 1_000 + i, 1_000 + i).await;
        step(
            &store,
            1_000 + i,
            OrderState::Paid,
            OrderState::Shipped,
            None,
        )
        .await;
        step(
            &store,
            1_000 + i,
            OrderState::Shipped,
            OrderState::Delivered,
            Some(0),
        )
        .await;
    }
    let now = UnixMillis(30 * DAY);
    // Interrupt the catch-up again and again, each time later. The budget grows by half each
    // time, not by a constant: a run that needs T ms is then cut ~log(T) times, not T/3 times
    // (a quadratic wait that took the PostgreSQL run past 15 minutes on a slow day).
    let mut budget = 1u64;
    loop {
        let r = tokio::time::timeout(
            std::time::Duration::from_millis(budget),
            books.catch_up(now),
        )
        .await;
        if let Ok(done) = r {
            done.unwrap();
            break;
        }
        budget = budget * 3 / 2 + 1;
    }
    assert!(budget > 1, "the run was interrupted at least once");
    assert_eq!(books.catch_up(now).await.unwrap(), CatchUp::default());
    for i in [0, n / 2, n - 1] {
        assert_eq!(
            store
                .ledger_posted(&format!("order:{}:settled", 1_000 + i))
                .await
                .unwrap()
                .map(|(k, _)| k),
            Some("order_settled".to_string())
        );
    }
    // The same for a payout batch through the sandbox provider, then the balances agree with
    // a fresh restore.
    let bank = hawker_books::payouts::SandboxPayouts::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_millis(1),
        books.run_payouts("crash-test", &bank, now),
    )
    .await;
    books.run_payouts("crash-test", &bank, now).await.unwrap();
    let (again, failed) = books.run_payouts("crash-test", &bank, now).await.unwrap();
    assert!(again.is_empty() && failed.is_empty());
    assert_eq!(bank.paid_count(), 3, "merchant, host and agency, once each");
    let reopened = Books::open(store.clone() as Arc<dyn Store>, cfg, LawProfile::cn())
        .await
        .unwrap();
    let org = Party::Org(w.merchant_org);
    assert_eq!(
        books.balances_of(org).await,
        reopened.balances_of(org).await
    );
    assert_eq!(reopened.balance(&cny(org, Purpose::Available)).await, 0);
    let merchant_total: i64 = (0..n)
        .map(|i| {
            let total = 1_000 + i;
            total - total * 2_000 / 10_000 - total * 500 / 10_000
        })
        .sum();
    assert_eq!(
        reopened.balance(&cny(org, Purpose::PayoutsInTransit)).await,
        0,
        "confirmed"
    );
    let paid_out: i64 = store
        .ledger_statement(
            &cny(org, Purpose::PayoutsInTransit),
            UnixMillis(0),
            UnixMillis(i64::MAX),
            None,
            100,
        )
        .await
        .unwrap()
        .iter()
        .filter(|l| l.amount > 0)
        .map(|l| l.amount)
        .sum();
    assert_eq!(
        paid_out, merchant_total,
        "every settled order paid out once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupted_runs_complete_exactly_once_on_sqlite() {
    let (s, _d) = hawker_storage::testing::sqlite_store().await;
    interrupted_runs_complete_exactly_once(Arc::new(s)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupted_runs_complete_exactly_once_on_postgres() {
    interrupted_runs_complete_exactly_once(Arc::new(
        hawker_storage::testing::postgres_store().await,
    ))
    .await;
}

/// Commission by product, then show, then the default; the platform fee by organisation, then
/// category, then the default; a muted host's gifts suspended for three times the mute (cn).
async fn terms_and_mutes(store: Arc<SqlStore>) {
    use hawker_storage::gifts::GiftStore;
    use hawker_storage::terms::TermsStore;
    use hawker_storage::ShowStore;
    let w = world(&store).await;
    let cfg = MoneyConfig {
        category_fee_bps: [("other".to_string(), 800)].into_iter().collect(),
        ..MoneyConfig::default()
    };
    let books = Books::open(store.clone() as Arc<dyn Store>, cfg, LawProfile::cn())
        .await
        .unwrap();
    let show = store
        .create_show(hawker_storage::NewShow {
            channel: w.channel,
            title: "Evening".into(),
            state: ShowState::Live,
            scheduled_at: None,
            started_at: Some(UnixMillis(0)),
        })
        .await
        .unwrap();
    let host = Party::Account(w.host.0);
    let fees = cny(Party::Platform, Purpose::Fees);
    let now = UnixMillis(DAY);
    // The product's rate: 10%, of which the agency 30%; the category's fee: 8%.
    store
        .set_product_commission(w.product, Some(1_000))
        .await
        .unwrap();
    paid_order_in(&store, &w, 21, 10_000, Some(show.id), UnixMillis(100)).await;
    books.catch_up(now).await.unwrap();
    assert_eq!(books.balance(&cny(host, Purpose::Pending)).await, 700);
    assert_eq!(books.balance(&fees).await, 800);
    // The show's rate when the product has none; the organisation's own fee first.
    store.set_product_commission(w.product, None).await.unwrap();
    store
        .set_show_commission(show.id, Some(2_500))
        .await
        .unwrap();
    store.set_org_fee(w.merchant_org, Some(300)).await.unwrap();
    paid_order_in(&store, &w, 22, 10_000, Some(show.id), UnixMillis(200)).await;
    books.catch_up(now).await.unwrap();
    assert_eq!(
        books.balance(&cny(host, Purpose::Pending)).await,
        700 + 1_750
    );
    assert_eq!(books.balance(&fees).await, 800 + 300);

    // A ten-minute mute: no gifts for thirty.
    let t = store
        .create_topup(w.buyer, 100, 1_000, Currency::CNY, "sandbox", now)
        .await
        .unwrap();
    store
        .set_topup_state(t.id, "pending", "succeeded", now)
        .await
        .unwrap();
    books.catch_up(now).await.unwrap();
    let until = books
        .mute_host(w.host, 10, "misleading claim", w.buyer, now)
        .await
        .unwrap();
    assert_eq!(until, Some(UnixMillis(now.0 + 30 * 60_000)));
    let kind = store.gift_kinds().await.unwrap()[0].id;
    let gift = |at: UnixMillis| books.send_gift(w.buyer, w.host, w.channel.0, None, kind, 1, at);
    assert!(matches!(
        gift(UnixMillis(now.0 + 20 * 60_000)).await,
        Err(hawker_books::BooksError::TipsSuspended { .. })
    ));
    gift(UnixMillis(now.0 + 31 * 60_000)).await.unwrap();
}

#[tokio::test]
async fn terms_and_mutes_on_sqlite() {
    let (s, _d) = hawker_storage::testing::sqlite_store().await;
    terms_and_mutes(Arc::new(s)).await;
}

#[tokio::test]
async fn terms_and_mutes_on_postgres() {
    terms_and_mutes(Arc::new(hawker_storage::testing::postgres_store().await)).await;
}

/// A show the risk engine holds: its orders settle into `held`, not `available`; an order of
/// another show settles normally; ops clears the show and the held earnings become available,
/// once.
async fn risk_holds_settlement(store: Arc<SqlStore>) {
    use hawker_shop::guard::Guard;

    use hawker_storage::{NewShow, ShowStore};
    use hawker_trust::risk::LinkKind;
    let w = world(&store).await;
    let books = Books::open(
        store.clone() as Arc<dyn Store>,
        MoneyConfig::default(),
        LawProfile::cn(),
    )
    .await
    .unwrap();
    let guard = Guard::new(
        store.clone() as Arc<dyn Store>,
        hawker_trust::policy::TrustPolicy::for_law("cn"),
        b"test key".to_vec(),
        true,
    );
    let mut show = store
        .create_show(NewShow {
            channel: w.channel,
            title: "Serum night".into(),
            state: ShowState::Live,
            scheduled_at: None,
            started_at: Some(UnixMillis(5)),
        })
        .await
        .unwrap();
    paid_order_in(&store, &w, 1, 10_000, Some(show.id), UnixMillis(10)).await;
    paid_order_in(&store, &w, 2, 10_000, Some(show.id), UnixMillis(11)).await;
    paid_order(&store, &w, 3, 10_000).await;
    show.end(UnixMillis(100)).unwrap();
    store.save_show(&show, ShowState::Live).await.unwrap();
    // The buyer ships to the host's own door.
    let now = UnixMillis(1_000);
    guard
        .seen(w.buyer, LinkKind::ShippingAddress, "1 host street", now)
        .await
        .unwrap();
    guard
        .seen(w.host, LinkKind::ShippingAddress, "1 host street", now)
        .await
        .unwrap();
    assert_eq!(guard.assess_changed(now).await.unwrap(), 1);
    let a = store.assessment(show.id).await.unwrap().unwrap();
    assert!(a.hold && a.state == RiskState::Open, "{a:?}");
    assert_eq!(store.risk_flags(show.id).await.unwrap().len(), 2);
    assert_eq!(
        guard.assess_changed(now).await.unwrap(),
        0,
        "nothing changed since"
    );

    for id in [1, 2, 3] {
        step(&store, id, OrderState::Paid, OrderState::Shipped, None).await;
        step(
            &store,
            id,
            OrderState::Shipped,
            OrderState::Delivered,
            Some(DAY),
        )
        .await;
    }
    let later = UnixMillis(30 * DAY);
    books.catch_up(later).await.unwrap();
    let host = Party::Account(w.host.0);
    assert_eq!(books.balance(&cny(host, Purpose::Held)).await, 1_400 * 2);
    assert_eq!(books.balance(&cny(host, Purpose::Available)).await, 1_400);
    assert_eq!(
        books
            .balance(&cny(Party::Org(w.merchant_org), Purpose::Held))
            .await,
        7_500 * 2
    );

    assert!(store
        .review_assessment(show.id, RiskVerdict::Cleared, w.buyer, later)
        .await
        .unwrap());
    assert_eq!(books.release_held(show.id, later).await.unwrap(), 2);
    assert_eq!(books.release_held(show.id, later).await.unwrap(), 0, "once");
    assert_eq!(books.balance(&cny(host, Purpose::Held)).await, 0);
    assert_eq!(
        books.balance(&cny(host, Purpose::Available)).await,
        1_400 * 3
    );
    assert!(store.orders_held(&[1, 2, 3]).await.unwrap().is_empty());
}

#[tokio::test]
async fn risk_holds_settlement_on_sqlite() {
    let (s, _d) = hawker_storage::testing::sqlite_store().await;
    risk_holds_settlement(Arc::new(s)).await;
}

#[tokio::test]
async fn risk_holds_settlement_on_postgres() {
    risk_holds_settlement(Arc::new(hawker_storage::testing::postgres_store().await)).await;
}

/// The job's schedule, time passed in: an order whose return window closes while the job runs
/// is settled by the next pass, and one whose window had already closed before the passes'
/// look-back (a delivery recorded late, back-dated by the carrier) by the full pass within
/// five minutes — no restart needed for either.
async fn due_orders_settle_without_a_restart(store: Arc<SqlStore>) {
    use hawker_books::CatchUpSchedule;
    let w = world(&store).await;
    let books = Books::open(
        store.clone() as Arc<dyn Store>,
        MoneyConfig::default(),
        LawProfile::cn(),
    )
    .await
    .unwrap();
    let mut schedule = CatchUpSchedule::default();
    let t0 = 100 * DAY;
    paid_order(&store, &w, 1, 10_000).await;
    step(&store, 1, OrderState::Paid, OrderState::Shipped, None).await;
    // Delivered so that the cn window (7 days) closes 10 s after t0.
    step(
        &store,
        1,
        OrderState::Shipped,
        OrderState::Delivered,
        Some(t0 - 7 * DAY + 10_000),
    )
    .await;
    let mut settled_at = None;
    let mut t = t0;
    while t < t0 + 30_000 {
        if let Some(c) = books
            .catch_up_on(&mut schedule, UnixMillis(t))
            .await
            .unwrap()
        {
            if c.settled > 0 {
                assert!(settled_at.is_none(), "settled once");
                settled_at = Some(t);
            }
        }
        t += 1_000;
    }
    let settled_at = settled_at.expect("the due order settled while the job ran");
    assert!(
        (t0 + 10_000..=t0 + 12_000).contains(&settled_at),
        "by the first pass after the window closed: {}",
        settled_at - t0
    );

    // A delivery recorded now whose window closed a day ago: before any incremental look-back.
    paid_order(&store, &w, 2, 10_000).await;
    step(&store, 2, OrderState::Paid, OrderState::Shipped, None).await;
    step(
        &store,
        2,
        OrderState::Shipped,
        OrderState::Delivered,
        Some(t - 8 * DAY),
    )
    .await;
    let mut settled_at = None;
    let start = t;
    while t < start + 600_000 && settled_at.is_none() {
        if let Some(c) = books
            .catch_up_on(&mut schedule, UnixMillis(t))
            .await
            .unwrap()
        {
            if c.settled > 0 {
                settled_at = Some(t);
            }
        }
        t += 1_000;
    }
    let settled_at = settled_at.expect("the full pass settled the late delivery");
    assert!(
        settled_at - start <= 300_000,
        "within five minutes: {} s",
        (settled_at - start) / 1000
    );
    let org = Party::Org(w.merchant_org);
    assert_eq!(books.balance(&cny(org, Purpose::Pending)).await, 0);
}

#[tokio::test]
async fn due_orders_settle_without_a_restart_on_sqlite() {
    let (s, _d) = hawker_storage::testing::sqlite_store().await;
    due_orders_settle_without_a_restart(Arc::new(s)).await;
}

#[tokio::test]
async fn due_orders_settle_without_a_restart_on_postgres() {
    due_orders_settle_without_a_restart(Arc::new(hawker_storage::testing::postgres_store().await))
        .await;
}
