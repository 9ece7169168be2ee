//! Disclosure storage on both backends: showcase entries survive a re-set shelf, paid pins are
//! found by each of their three reasons, one claim per repeat interval, credentials reviewed
//! by compare-and-set and expiring, prize-draw entries closed before the winners are written.

use super::*;
use crate::both_backends;
use crate::prelude::*;
use crate::shop::NewProduct;
use crate::slots::{NewSlot, SlotStore};
use crate::{
    AccountStore, ChannelStore, NewAccount, NewChannel, NewShow, RoomStore, ShowStore,
    StoredComment,
};
use hawker_commerce::catalog::ReturnClass;
use hawker_commerce::org::OrgKind;
use hawker_domain::{DisplayName, Email, PasswordHash, Role, ShowState, Slug, StreamKey};

struct World {
    host: AccountId,
    viewer: AccountId,
    channel: ChannelId,
    show: ShowId,
    org: i64,
    /// honey (food), scarf (fashion), pan (home)
    products: [i64; 3],
}

async fn world(s: &SqlStore) -> World {
    let acct = |email: &'static str| NewAccount {
        email: Email::parse(email).unwrap(),
        display_name: DisplayName::parse("Li Wei").unwrap(),
        password: PasswordHash::from_stored("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        role: Role::Streamer,
        created_at: UnixMillis(1),
    };
    let host = s
        .create_account(acct("host@farm.example"))
        .await
        .unwrap()
        .id;
    let viewer = s
        .create_account(acct("viewer@farm.example"))
        .await
        .unwrap()
        .id;
    let channel = s
        .create_channel(NewChannel {
            slug: Slug::parse("farm").unwrap(),
            title: "Farm".into(),
            owner: host,
            stream_key: StreamKey::generate(),
            created_at: UnixMillis(1),
        })
        .await
        .unwrap()
        .id;
    let show = s
        .create_show(NewShow {
            channel,
            title: "Harvest".into(),
            state: ShowState::Live,
            scheduled_at: None,
            started_at: Some(UnixMillis(1_000)),
        })
        .await
        .unwrap()
        .id;
    let org = s
        .create_org("Orchard", OrgKind::Individual, host, UnixMillis(1))
        .await
        .unwrap()
        .id;
    let mut products = [0; 3];
    for (i, (title, category)) in [
        ("Honey", Category::Food),
        ("Scarf", Category::Fashion),
        ("Pan", Category::Home),
    ]
    .into_iter()
    .enumerate()
    {
        products[i] = s
            .create_product(
                &NewProduct {
                    org,
                    title: title.into(),
                    description: String::new(),
                    category,
                    return_class: ReturnClass::Normal,
                    currency: Currency::CNY,
                    sponsored: i == 2,
                },
                UnixMillis(1),
            )
            .await
            .unwrap()
            .id;
    }
    World {
        host,
        viewer,
        channel,
        show,
        org,
        products,
    }
}

both_backends!(showcase_entries_and_paid_pins, |store| async move {
    let s = store.as_ref();
    let w = world(s).await;
    let [honey, scarf, pan] = w.products;
    s.set_shelf(w.show, &[honey, scarf, pan]).await.unwrap();
    assert!(s.showcase_entries(w.show).await.unwrap().is_empty());

    // The host attests; the merchant marks the scarf sponsored; both kept across a re-set shelf.
    let e = s
        .set_showcase_entry(
            w.show,
            honey,
            EntryChange {
                host_used: Some(true),
                sponsored: None,
            },
            w.host,
            UnixMillis(2_000),
        )
        .await
        .unwrap();
    assert!(e.host_used && !e.sponsored);
    assert_eq!(e.attested_at, Some(UnixMillis(2_000)));
    s.set_showcase_entry(
        w.show,
        scarf,
        EntryChange {
            sponsored: Some(true),
            host_used: None,
        },
        w.viewer,
        UnixMillis(2_100),
    )
    .await
    .unwrap();
    s.set_shelf(w.show, &[scarf, honey]).await.unwrap();
    let entries = s.showcase_entries(w.show).await.unwrap();
    assert_eq!(entries.len(), 2);
    let honey_e = entries.iter().find(|e| e.product == honey).unwrap();
    assert!(
        honey_e.host_used,
        "an attestation outlives re-setting the shelf"
    );
    let scarf_e = entries.iter().find(|e| e.product == scarf).unwrap();
    assert!(scarf_e.sponsored && scarf_e.sponsored_by == Some(w.viewer));
    // Leaving a field out leaves it; withdrawing the attestation clears its time.
    let e = s
        .set_showcase_entry(
            w.show,
            honey,
            EntryChange {
                host_used: Some(false),
                sponsored: None,
            },
            w.host,
            UnixMillis(2_200),
        )
        .await
        .unwrap();
    assert!(!e.host_used && e.attested_at.is_none() && !e.sponsored);
    let missing = s
        .set_showcase_entry(
            w.show,
            999_999,
            EntryChange::default(),
            w.host,
            UnixMillis(1),
        )
        .await;
    assert!(matches!(missing, Err(StorageError::NotFound { .. })));

    // Paid pins: nothing pinned, nothing paid.
    assert!(s.live_paid_pins().await.unwrap().is_empty());
    for p in [honey, scarf, pan] {
        s.pin(w.show, p, UnixMillis(3_000), 2_000).await.unwrap();
    }
    // The scarf (sponsored entry) and the pan (sponsored product); not the honey — yet.
    let paid: Vec<i64> = s
        .live_paid_pins()
        .await
        .unwrap()
        .iter()
        .map(|p| p.product)
        .collect();
    assert_eq!(paid, vec![scarf, pan]);
    // A paid slot makes the honey paid too; a cancelled one would not.
    let slot = s
        .create_slot(&NewSlot {
            show: w.show,
            host: w.host,
            brand: w.org,
            product: honey,
            fee_minor: 100,
            currency: Currency::CNY,
            commission_bps: 1_000,
            guaranteed_gmv_minor: None,
            return_cap_bps: None,
            created_by: w.host,
            created_at: UnixMillis(3_100),
        })
        .await
        .unwrap();
    assert_eq!(s.paid_slot_products(w.show).await.unwrap(), vec![honey]);
    let pins = s.live_paid_pins().await.unwrap();
    assert_eq!(pins.len(), 3);
    assert_eq!(pins[0].seller, "Orchard");
    assert_eq!(pins[0].channel, w.channel);
    s.set_slot_state(slot.id, "booked", "cancelled")
        .await
        .unwrap();
    assert!(s.paid_slot_products(w.show).await.unwrap().is_empty());
    s.unpin(w.show, pan, UnixMillis(3_200)).await.unwrap();
    let paid: Vec<i64> = s
        .live_paid_pins()
        .await
        .unwrap()
        .iter()
        .map(|p| p.product)
        .collect();
    assert_eq!(
        paid,
        vec![scarf],
        "unpinned and cancelled-slot products are not"
    );

    // One announcement per interval, whoever asks.
    assert!(s
        .claim_label_repeat(w.show, scarf, UnixMillis(10_000), UnixMillis(0))
        .await
        .unwrap());
    assert!(!s
        .claim_label_repeat(
            w.show,
            scarf,
            UnixMillis(10_001),
            UnixMillis(10_001 - 5_000)
        )
        .await
        .unwrap());
    assert!(s
        .claim_label_repeat(
            w.show,
            scarf,
            UnixMillis(15_000),
            UnixMillis(15_000 - 5_000)
        )
        .await
        .unwrap());

    // Virtual hosts.
    assert!(!s.virtual_host(w.channel).await.unwrap());
    s.set_virtual_host(w.channel, true).await.unwrap();
    assert!(s.virtual_host(w.channel).await.unwrap());
    assert!(s.set_virtual_host(ChannelId(999_999), true).await.is_err());
});

both_backends!(credentials_reviewed_once_and_expire, |store| async move {
    let s = store.as_ref();
    let w = world(s).await;
    let new = |category, valid_until| NewCredential {
        org: w.org,
        category,
        file: "1-abc.png".into(),
        content_type: "image/png".into(),
        valid_until,
        uploaded_by: w.host,
        uploaded_at: UnixMillis(5_000),
    };
    let food = s.add_credential(&new(Category::Food, None)).await.unwrap();
    assert_eq!(food.state, CredentialState::Pending);
    assert!(!s
        .has_approved_credential(w.org, Category::Food, UnixMillis(6_000))
        .await
        .unwrap());
    let queue = s
        .credentials_in_state(CredentialState::Pending, 10)
        .await
        .unwrap();
    assert_eq!(queue, vec![food.clone()]);
    assert!(s
        .review_credential(
            food.id,
            CredentialState::Pending,
            CredentialState::Approved,
            w.viewer,
            None,
            UnixMillis(6_000)
        )
        .await
        .unwrap());
    // A second decision finds it no longer pending.
    assert!(!s
        .review_credential(
            food.id,
            CredentialState::Pending,
            CredentialState::Rejected,
            w.viewer,
            Some("blurred"),
            UnixMillis(6_001)
        )
        .await
        .unwrap());
    let got = s.credential(food.id).await.unwrap().unwrap();
    assert_eq!(got.state, CredentialState::Approved);
    assert_eq!(got.reviewed_by, Some(w.viewer));
    assert!(s
        .has_approved_credential(w.org, Category::Food, UnixMillis(6_000))
        .await
        .unwrap());
    assert!(
        !s.has_approved_credential(w.org, Category::Health, UnixMillis(6_000))
            .await
            .unwrap(),
        "per category"
    );
    assert!(
        !s.has_approved_credential(w.org + 1, Category::Food, UnixMillis(6_000))
            .await
            .unwrap(),
        "per organisation"
    );
    // A licence valid until a date stops counting then.
    let health = s
        .add_credential(&new(Category::Health, Some(UnixMillis(10_000))))
        .await
        .unwrap();
    s.review_credential(
        health.id,
        CredentialState::Pending,
        CredentialState::Approved,
        w.viewer,
        None,
        UnixMillis(6_000),
    )
    .await
    .unwrap();
    assert!(s
        .has_approved_credential(w.org, Category::Health, UnixMillis(9_999))
        .await
        .unwrap());
    assert!(!s
        .has_approved_credential(w.org, Category::Health, UnixMillis(10_000))
        .await
        .unwrap());
    // Revoked: gone.
    s.review_credential(
        food.id,
        CredentialState::Approved,
        CredentialState::Revoked,
        w.viewer,
        Some("licence withdrawn"),
        UnixMillis(7_000),
    )
    .await
    .unwrap();
    assert!(!s
        .has_approved_credential(w.org, Category::Food, UnixMillis(7_000))
        .await
        .unwrap());
    let mine = s.credentials_of_org(w.org).await.unwrap();
    assert_eq!(mine.len(), 2);
    assert_eq!(mine[1].reason.as_deref(), Some("licence withdrawn"));
});

both_backends!(prize_draw_entries_and_winners, |store| async move {
    let s = store.as_ref();
    let w = world(s).await;
    let d = s
        .create_draw(&NewDraw {
            show: w.show,
            created_by: w.host,
            prize_description: "A crate of peaches".into(),
            prize: Money::new(20_000, Currency::CNY),
            winners: 1,
            keyword: Some("Peach".into()),
            free_entry: true,
            buyers_only: false,
            law: "cn".into(),
            seed: "00".repeat(32),
            seed_commitment: "ab".repeat(32),
            created_at: UnixMillis(5_000),
        })
        .await
        .unwrap();
    assert_eq!(d.state, DrawState::Open);
    assert_eq!(
        s.enter_draw(d.id, w.viewer, EntryRoute::Free, UnixMillis(5_100))
            .await
            .unwrap(),
        EntryOutcome::Entered
    );
    assert_eq!(
        s.enter_draw(d.id, w.viewer, EntryRoute::Free, UnixMillis(5_200))
            .await
            .unwrap(),
        EntryOutcome::AlreadyEntered
    );
    assert_eq!(
        s.enter_draw(999_999, w.viewer, EntryRoute::Free, UnixMillis(5_200))
            .await
            .unwrap(),
        EntryOutcome::NotOpen
    );
    // Comments: the host says the keyword in time, shadow-banned and removed comments and
    // those before the draw or after it closed do not count.
    let comment = |id: i64, account: AccountId, text: &str, at: i64, shadow: bool| StoredComment {
        id,
        channel: w.channel,
        show: Some(w.show),
        account,
        author_name: "x".into(),
        text: text.into(),
        at: UnixMillis(at),
        shadow,
        deleted_reason: None,
    };
    s.save_comments(&[
        comment(1, w.host, "PEACH please", 4_000, false),
        comment(2, w.host, "i want a peach!", 6_000, false),
        comment(3, w.viewer, "peach", 6_100, false),
    ])
    .await
    .unwrap();
    assert!(s.close_draw(d.id, UnixMillis(7_000)).await.unwrap());
    assert!(!s.close_draw(d.id, UnixMillis(7_001)).await.unwrap());
    assert_eq!(
        s.enter_draw(d.id, w.host, EntryRoute::Free, UnixMillis(7_100))
            .await
            .unwrap(),
        EntryOutcome::NotOpen,
        "entries stop once closing"
    );
    let none = s
        .add_keyword_entries(
            d.id,
            w.show,
            "Peach",
            UnixMillis(5_000),
            UnixMillis(7_000),
            true,
        )
        .await
        .unwrap();
    assert_eq!(none, 0, "buyers only: nobody here has paid for anything");
    let added = s
        .add_keyword_entries(
            d.id,
            w.show,
            "Peach",
            UnixMillis(5_000),
            UnixMillis(7_000),
            false,
        )
        .await
        .unwrap();
    assert_eq!(added, 1, "the host, once; the viewer entered already");
    assert_eq!(
        s.draw_entry(d.id, w.host).await.unwrap(),
        Some(EntryRoute::Keyword)
    );
    assert_eq!(
        s.draw_entry(d.id, w.viewer).await.unwrap(),
        Some(EntryRoute::Free)
    );
    let mut entrants = vec![w.host.0, w.viewer.0];
    entrants.sort();
    assert_eq!(s.draw_entrants(d.id).await.unwrap(), entrants);
    assert_eq!(s.draw_entry_count(d.id).await.unwrap(), 2);
    let result = DrawResult {
        winners: vec![w.viewer],
        entrants: 2,
        entrants_digest: "cd".repeat(32),
        algorithm: "chacha20-fisher-yates-v1".into(),
        drawn_at: UnixMillis(7_500),
    };
    assert!(s.complete_draw(d.id, &result).await.unwrap());
    assert!(!s.complete_draw(d.id, &result).await.unwrap(), "drawn once");
    let got = s.draw(d.id).await.unwrap().unwrap();
    assert_eq!(got.state, DrawState::Drawn);
    assert_eq!(got.winners, vec![w.viewer]);
    assert_eq!(got.entrants, Some(2));
    assert_eq!(got.closed_at, Some(UnixMillis(7_000)));
    assert_eq!(s.draws_of_show(w.show).await.unwrap(), vec![got]);
    assert!(!s.cancel_draw(d.id).await.unwrap());
    assert!(!s.has_paid_order_in_show(w.viewer, w.show).await.unwrap());
});

both_backends!(co_host_visits_and_statements, |store| async move {
    let s = store.as_ref();
    let w = world(s).await;
    let [honey, scarf, _] = w.products;
    assert!(s.co_hosts_of_show(w.show).await.unwrap().is_empty());
    s.co_host_joined(w.show, w.viewer, UnixMillis(2_000))
        .await
        .unwrap();
    let on = s.co_hosts_of_show(w.show).await.unwrap();
    assert_eq!(on.len(), 1);
    assert_eq!(
        (on[0].account, on[0].joined_at, on[0].left_at),
        (w.viewer, UnixMillis(2_000), None)
    );
    // A statement keeps its first time; withdrawing removes it; another product is its own.
    for at in [3_000, 3_500] {
        s.set_co_host_statement(w.show, honey, w.viewer, true, UnixMillis(at))
            .await
            .unwrap();
    }
    s.set_co_host_statement(w.show, scarf, w.viewer, true, UnixMillis(3_600))
        .await
        .unwrap();
    s.set_co_host_statement(w.show, scarf, w.viewer, false, UnixMillis(3_700))
        .await
        .unwrap();
    let said = s.co_host_statements(w.show).await.unwrap();
    assert_eq!(said.len(), 1, "{said:?}");
    assert_eq!(
        (said[0].product, said[0].account, said[0].attested_at),
        (honey, w.viewer, UnixMillis(3_000))
    );
    // Leaving closes the visit; joining again reopens it; nobody else is touched.
    assert_eq!(s.co_hosts_left(w.show, UnixMillis(4_000)).await.unwrap(), 1);
    assert_eq!(s.co_hosts_left(w.show, UnixMillis(4_100)).await.unwrap(), 0);
    assert_eq!(
        s.co_hosts_of_show(w.show).await.unwrap()[0].left_at,
        Some(UnixMillis(4_000))
    );
    s.co_host_joined(w.show, w.viewer, UnixMillis(5_000))
        .await
        .unwrap();
    let again = &s.co_hosts_of_show(w.show).await.unwrap()[0];
    assert_eq!((again.joined_at, again.left_at), (UnixMillis(5_000), None));
    // A statement about a product that does not exist is refused, not kept.
    let missing = s
        .set_co_host_statement(w.show, 999_999, w.viewer, true, UnixMillis(6_000))
        .await;
    assert!(matches!(missing, Err(StorageError::NotFound { .. })));
    // Retention: the statement (3,000) goes; the visit on air now stays.
    assert_eq!(
        s.prune_room_logs(UnixMillis(4_500)).await.unwrap().co_hosts,
        1
    );
    assert!(s.co_host_statements(w.show).await.unwrap().is_empty());
    assert_eq!(s.co_hosts_of_show(w.show).await.unwrap().len(), 1);
});
