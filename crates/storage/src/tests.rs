use crate::both_backends;
use crate::prelude::*;
use crate::*;
use hawker_domain::{ApiToken, ModeratorRights, SanctionKind, SessionToken};

fn hash() -> PasswordHash {
    // A fixed PHC string: hashing is the domain's job, storage only keeps it.
    PasswordHash::from_stored(
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
            .into(),
    )
}

async fn account(s: &dyn Store, email: &str, role: Role) -> Account {
    s.create_account(NewAccount {
        email: Email::parse(email).unwrap(),
        display_name: DisplayName::parse("Li Wei").unwrap(),
        password: hash(),
        role,
        created_at: UnixMillis(1_000),
    })
    .await
    .unwrap()
}

async fn channel(s: &dyn Store, slug: &str, owner: AccountId) -> Channel {
    s.create_channel(NewChannel {
        slug: Slug::parse(slug).unwrap(),
        title: format!("{slug} title"),
        owner,
        stream_key: StreamKey::generate(),
        created_at: UnixMillis(2_000),
    })
    .await
    .unwrap()
}

fn new_show(
    channel: ChannelId,
    state: ShowState,
    scheduled: Option<i64>,
    started: Option<i64>,
) -> NewShow {
    NewShow {
        channel,
        title: "Harvest".into(),
        state,
        scheduled_at: scheduled.map(UnixMillis),
        started_at: started.map(UnixMillis),
    }
}

both_backends!(accounts_round_trip_and_conflict, |store| async move {
    let s = store.as_ref();
    let a = account(s, "li@farm.example", Role::Streamer).await;
    assert_eq!(s.account(a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(s.account_by_email(&a.email).await.unwrap(), Some(a.clone()));
    assert_eq!(s.account(AccountId(999_999)).await.unwrap(), None);
    let dup = s
        .create_account(NewAccount {
            email: Email::parse("LI@farm.example").unwrap(),
            display_name: DisplayName::parse("x").unwrap(),
            password: hash(),
            role: Role::Viewer,
            created_at: UnixMillis(1),
        })
        .await;
    assert!(matches!(
        dup,
        Err(StorageError::Conflict { entity: "account" })
    ));
    s.set_role(a.id, Role::PlatformAdmin).await.unwrap();
    assert_eq!(
        s.account(a.id).await.unwrap().unwrap().role,
        Role::PlatformAdmin
    );
    assert!(matches!(
        s.set_role(AccountId(424_242), Role::Viewer).await,
        Err(StorageError::NotFound { .. })
    ));
    assert_eq!(s.count_accounts().await.unwrap(), 1);
});

both_backends!(sessions_expire_and_tokens_resolve, |store| async move {
    let s = store.as_ref();
    let a = account(s, "anna@intime.example", Role::Viewer).await;
    let t = SessionToken::generate();
    s.create_session(a.id, &t.hash(), UnixMillis(10_000))
        .await
        .unwrap();
    assert_eq!(
        s.session_account(&t.hash(), UnixMillis(9_999))
            .await
            .unwrap()
            .map(|x| x.id),
        Some(a.id)
    );
    assert_eq!(
        s.session_account(&t.hash(), UnixMillis(10_000))
            .await
            .unwrap(),
        None,
        "expired"
    );
    assert_eq!(
        s.session_account(&SessionToken::generate().hash(), UnixMillis(0))
            .await
            .unwrap(),
        None
    );
    let t2 = SessionToken::generate();
    s.create_session(a.id, &t2.hash(), UnixMillis(50_000))
        .await
        .unwrap();
    assert_eq!(
        s.delete_expired_sessions(UnixMillis(20_000)).await.unwrap(),
        1
    );
    s.delete_session(&t2.hash()).await.unwrap();
    assert_eq!(
        s.session_account(&t2.hash(), UnixMillis(0)).await.unwrap(),
        None
    );

    let api = ApiToken::generate();
    s.create_api_token(a.id, &api.hash(), "cli", UnixMillis(1))
        .await
        .unwrap();
    assert_eq!(
        s.api_token_account(&api.hash())
            .await
            .unwrap()
            .map(|x| x.id),
        Some(a.id)
    );
    assert_eq!(
        s.api_token_account(&ApiToken::generate().hash())
            .await
            .unwrap(),
        None
    );
    let orphan = s
        .create_api_token(
            AccountId(777_777),
            &ApiToken::generate().hash(),
            "x",
            UnixMillis(1),
        )
        .await;
    assert!(
        matches!(orphan, Err(StorageError::NotFound { entity: "account" })),
        "{orphan:?}"
    );
});

both_backends!(channels_keys_and_lookups, |store| async move {
    let s = store.as_ref();
    let a = account(s, "max@autohaus.example", Role::Streamer).await;
    let b = account(s, "other@autohaus.example", Role::Streamer).await;
    let c1 = channel(s, "autohaus-max", a.id).await;
    let c2 = channel(s, "autohaus-two", a.id).await;
    let c3 = channel(s, "other", b.id).await;
    assert_eq!(s.channel(c1.id).await.unwrap(), Some(c1.clone()));
    assert_eq!(s.channel_by_slug(&c2.slug).await.unwrap(), Some(c2.clone()));
    assert_eq!(
        s.channel_by_stream_key(&c3.stream_key).await.unwrap(),
        Some(c3.clone())
    );
    assert_eq!(
        s.channels_owned_by(a.id).await.unwrap(),
        vec![c1.clone(), c2.clone()]
    );
    assert_eq!(
        s.list_channels(2, 1).await.unwrap(),
        vec![c2.clone(), c3.clone()]
    );
    let dup = s
        .create_channel(NewChannel {
            slug: c1.slug.clone(),
            title: "t".into(),
            owner: a.id,
            stream_key: StreamKey::generate(),
            created_at: UnixMillis(0),
        })
        .await;
    assert!(matches!(
        dup,
        Err(StorageError::Conflict { entity: "channel" })
    ));
    let new_key = StreamKey::generate();
    s.rotate_stream_key(c1.id, &new_key).await.unwrap();
    assert_eq!(
        s.channel_by_stream_key(&c1.stream_key).await.unwrap(),
        None,
        "old key is dead"
    );
    assert_eq!(
        s.channel_by_stream_key(&new_key)
            .await
            .unwrap()
            .map(|c| c.id),
        Some(c1.id)
    );
    assert!(matches!(
        s.rotate_stream_key(ChannelId(987_654), &StreamKey::generate())
            .await,
        Err(StorageError::NotFound { .. })
    ));
    let orphan = s
        .create_channel(NewChannel {
            slug: Slug::parse("no-owner").unwrap(),
            title: "t".into(),
            owner: AccountId(555_555),
            stream_key: StreamKey::generate(),
            created_at: UnixMillis(0),
        })
        .await;
    assert!(
        matches!(orphan, Err(StorageError::NotFound { entity: "account" })),
        "{orphan:?}"
    );
});

both_backends!(shows_life_cycle_and_ordering, |store| async move {
    let s = store.as_ref();
    let a = account(s, "li@farm.example", Role::Streamer).await;
    let c = channel(s, "li-farm", a.id).await;
    let later = s
        .create_show(new_show(c.id, ShowState::Scheduled, Some(9_000), None))
        .await
        .unwrap();
    let sooner = s
        .create_show(new_show(c.id, ShowState::Scheduled, Some(5_000), None))
        .await
        .unwrap();
    let scheduled: Vec<_> = s
        .shows_in_state(ShowState::Scheduled, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|x| x.id)
        .collect();
    assert_eq!(scheduled, vec![sooner.id, later.id]);

    let mut live = sooner.clone();
    live.go_live(UnixMillis(5_100)).unwrap();
    s.save_show(&live, ShowState::Scheduled).await.unwrap();
    assert_eq!(s.show(live.id).await.unwrap(), Some(live.clone()));
    assert_eq!(
        s.live_show_of_channel(c.id).await.unwrap().map(|x| x.id),
        Some(live.id)
    );
    // Another node trying the same transition from a stale read loses.
    assert!(matches!(
        s.save_show(&live, ShowState::Scheduled).await,
        Err(StorageError::Conflict { entity: "show" })
    ));
    // A second live show for the channel is refused by the index.
    let second = s
        .create_show(new_show(c.id, ShowState::Live, None, Some(6_000)))
        .await;
    assert!(
        matches!(second, Err(StorageError::Conflict { .. })),
        "{second:?}"
    );
    let mut other_live = later.clone();
    other_live.go_live(UnixMillis(6_000)).unwrap();
    assert!(matches!(
        s.save_show(&other_live, ShowState::Scheduled).await,
        Err(StorageError::Conflict { .. })
    ));

    live.end(UnixMillis(8_000)).unwrap();
    s.save_show(&live, ShowState::Live).await.unwrap();
    assert_eq!(s.live_show_of_channel(c.id).await.unwrap(), None);
    assert_eq!(
        s.shows_of_channel(c.id, 10)
            .await
            .unwrap()
            .first()
            .map(|x| x.id),
        Some(live.id),
        "newest first"
    );
    assert_eq!(
        s.shows_in_state(ShowState::Ended, 10).await.unwrap(),
        vec![live.clone()]
    );
    assert_eq!(s.show(ShowId(31_337)).await.unwrap(), None);
    let orphan = s
        .create_show(new_show(
            ChannelId(31_337),
            ShowState::Scheduled,
            Some(1),
            None,
        ))
        .await;
    assert!(
        matches!(orphan, Err(StorageError::NotFound { entity: "channel" })),
        "{orphan:?}"
    );
});

both_backends!(recordings_upsert_list_delete, |store| async move {
    let s = store.as_ref();
    let a = account(s, "li@farm.example", Role::Streamer).await;
    let c = channel(s, "li-farm", a.id).await;
    let mut shows = Vec::new();
    for (i, ended) in [(0, 3_000), (1, 1_000), (2, 2_000)] {
        let mut sh = s
            .create_show(new_show(c.id, ShowState::Scheduled, Some(i), None))
            .await
            .unwrap();
        sh.go_live(UnixMillis(ended - 500)).unwrap();
        s.save_show(&sh, ShowState::Scheduled).await.unwrap();
        sh.end(UnixMillis(ended)).unwrap();
        s.save_show(&sh, ShowState::Live).await.unwrap();
        shows.push(sh);
    }
    let rec = |sh: &Show, complete: bool| Recording {
        show: sh.id,
        dir: format!("/rec/{}", sh.id),
        bytes: 10,
        duration_ms: 2000,
        segments: 1,
        complete,
        updated_at: UnixMillis(1),
    };
    s.upsert_recording(&rec(&shows[0], false)).await.unwrap();
    s.upsert_recording(&rec(&shows[0], true)).await.unwrap();
    s.upsert_recording(&rec(&shows[1], true)).await.unwrap();
    s.upsert_recording(&rec(&shows[2], false)).await.unwrap();
    assert_eq!(
        s.recording(shows[0].id).await.unwrap(),
        Some(rec(&shows[0], true))
    );
    let old: Vec<_> = s
        .recordings_ended_before(UnixMillis(5_000), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.show)
        .collect();
    assert_eq!(
        old,
        vec![shows[1].id, shows[0].id],
        "complete only, oldest first"
    );
    assert_eq!(
        s.recordings_ended_before(UnixMillis(2_000), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    s.delete_recording(shows[1].id).await.unwrap();
    assert_eq!(s.recording(shows[1].id).await.unwrap(), None);
    let orphan = s
        .upsert_recording(&Recording {
            show: ShowId(99_999),
            ..rec(&shows[0], true)
        })
        .await;
    assert!(
        matches!(orphan, Err(StorageError::NotFound { entity: "show" })),
        "{orphan:?}"
    );
});

#[tokio::test]
async fn sqlite_file_is_wal_and_reopens_with_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url_for_dir(dir.path());
    {
        let s = SqlStore::open(&url).await.unwrap();
        account(&s, "li@farm.example", Role::Viewer).await;
        let mode: (String,) = sqlx::query_as("PRAGMA journal_mode")
            .fetch_one(s.pool())
            .await
            .unwrap();
        assert_eq!(mode.0.to_lowercase(), "wal");
        // Every pooled connection fsyncs each commit (FULL = 2) and enforces foreign keys.
        let mut c = s.pool().acquire().await.unwrap();
        let sync: (i64,) = sqlx::query_as("PRAGMA synchronous")
            .fetch_one(&mut *c)
            .await
            .unwrap();
        let fk: (i64,) = sqlx::query_as("PRAGMA foreign_keys")
            .fetch_one(&mut *c)
            .await
            .unwrap();
        assert_eq!((sync.0, fk.0), (2, 1));
        drop(c);
        s.pool().close().await;
    }
    let s = SqlStore::open(&url).await.unwrap(); // migrations run again: a no-op
    assert_eq!(s.count_accounts().await.unwrap(), 1);
    assert_eq!(s.backend(), Backend::Sqlite);
    s.ping().await.unwrap();
}

#[tokio::test]
async fn unknown_url_scheme_is_refused() {
    assert!(matches!(
        SqlStore::open("mysql://x").await,
        Err(StorageError::Corrupt(_))
    ));
}

both_backends!(live_room_persistence, |store| async move {
    let s = store.as_ref();
    let host = account(s, "host@farm.example", Role::Streamer).await;
    let fan = account(s, "fan@example.com", Role::Viewer).await;
    let c = channel(s, "li-farm", host.id).await;
    let c2 = channel(s, "other-farm", host.id).await;

    // Follows.
    assert!(s.follow(fan.id, c.id, UnixMillis(1)).await.unwrap());
    assert!(
        !s.follow(fan.id, c.id, UnixMillis(2)).await.unwrap(),
        "following twice is one follow"
    );
    s.follow(fan.id, c2.id, UnixMillis(3)).await.unwrap();
    assert_eq!(
        s.followed_channels(fan.id).await.unwrap(),
        vec![c.id, c2.id]
    );
    assert_eq!(s.follower_count(c.id).await.unwrap(), 1);
    assert!(s.unfollow(fan.id, c2.id).await.unwrap());
    assert!(!s.unfollow(fan.id, c2.id).await.unwrap());
    assert!(matches!(
        s.follow(fan.id, ChannelId(9_999), UnixMillis(1)).await,
        Err(StorageError::NotFound { .. })
    ));

    // Moderators.
    let rights = ModeratorRights {
        mute: true,
        delete: true,
        ..Default::default()
    };
    s.set_moderator(c.id, fan.id, rights, host.id, UnixMillis(5))
        .await
        .unwrap();
    assert_eq!(
        s.moderator_rights(c.id, fan.id).await.unwrap(),
        Some(rights)
    );
    s.set_moderator(c.id, fan.id, ModeratorRights::ALL, host.id, UnixMillis(6))
        .await
        .unwrap();
    let mods = s.moderators(c.id).await.unwrap();
    assert_eq!(mods.len(), 1);
    assert_eq!(mods[0].rights, ModeratorRights::ALL);
    assert_eq!(mods[0].display_name, "Li Wei");
    assert!(s.remove_moderator(c.id, fan.id).await.unwrap());
    assert_eq!(s.moderator_rights(c.id, fan.id).await.unwrap(), None);

    // Sanctions: an expired mute is not in force.
    s.save_sanction(
        c.id,
        &SanctionRow {
            account: fan.id,
            kind: SanctionKind::Mute,
            until: Some(UnixMillis(1_000)),
        },
        host.id,
        UnixMillis(1),
    )
    .await
    .unwrap();
    s.save_sanction(
        c.id,
        &SanctionRow {
            account: fan.id,
            kind: SanctionKind::Ban,
            until: None,
        },
        host.id,
        UnixMillis(1),
    )
    .await
    .unwrap();
    assert_eq!(s.sanctions(c.id, UnixMillis(500)).await.unwrap().len(), 2);
    assert_eq!(s.sanctions(c.id, UnixMillis(1_000)).await.unwrap().len(), 1);
    s.remove_sanction(c.id, fan.id, SanctionKind::Ban)
        .await
        .unwrap();
    assert!(s
        .sanctions(c.id, UnixMillis(1_000))
        .await
        .unwrap()
        .is_empty());

    // Moderation log, newest first.
    for (i, action) in ["mute", "delete"].into_iter().enumerate() {
        s.log_moderation(&ModerationEntry {
            channel: c.id,
            show: None,
            actor: host.id,
            action: action.into(),
            target_account: Some(fan.id),
            comment_id: Some(42),
            reason: Some("spam".into()),
            detail: String::new(),
            at: UnixMillis(10 + i as i64),
        })
        .await
        .unwrap();
    }
    let log = s.moderation_log(c.id, 10).await.unwrap();
    assert_eq!(
        log.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        vec!["delete", "mute"]
    );

    // Chat, idempotent writes, deletions kept with their reason.
    let sh = s
        .create_show(new_show(c.id, ShowState::Live, None, Some(1)))
        .await
        .unwrap();
    let comment = |id: i64, at: i64| StoredComment {
        id,
        channel: c.id,
        show: Some(sh.id),
        account: fan.id,
        author_name: "fan".into(),
        text: format!("comment {id}"),
        at: UnixMillis(at),
        shadow: false,
        deleted_reason: None,
    };
    s.save_comments(&[comment(9_007_199_254_740_000, 2), comment(5, 1)])
        .await
        .unwrap();
    s.save_comments(&[comment(5, 1)]).await.unwrap();
    s.mark_comment_deleted(c.id, 5, "spam").await.unwrap();
    let chat = s.comments_of_show(sh.id, 10).await.unwrap();
    assert_eq!(chat.len(), 2);
    assert_eq!(chat[0].id, 5);
    assert_eq!(chat[0].deleted_reason.as_deref(), Some("spam"));
    assert_eq!(chat[1].id, 9_007_199_254_740_000);

    // Keyword lists: platform (None) and per channel, deduplicated.
    let words: Vec<String> = (0..250).map(|i| format!("word{i}")).collect();
    assert_eq!(
        s.add_keywords(Some(c.id), &words, host.id, UnixMillis(1))
            .await
            .unwrap(),
        250
    );
    assert_eq!(
        s.add_keywords(Some(c.id), &words[..10], host.id, UnixMillis(1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        s.add_keywords(None, &["scam".to_string()], host.id, UnixMillis(1))
            .await
            .unwrap(),
        1
    );
    assert_eq!(s.keywords(Some(c.id)).await.unwrap().len(), 250);
    assert_eq!(s.keywords(None).await.unwrap(), vec!["scam".to_string()]);
    assert!(s.remove_keyword(Some(c.id), "word7").await.unwrap());
    assert_eq!(s.keywords(Some(c.id)).await.unwrap().len(), 249);
});

both_backends!(viewer_sessions_round_trip, |store| async move {
    let s = store.as_ref();
    let host = account(s, "host@farm.example", Role::Streamer).await;
    let fan = account(s, "fan@example.com", Role::Viewer).await;
    let c = channel(s, "li-farm", host.id).await;
    let show = s
        .create_show(new_show(c.id, ShowState::Live, None, Some(1)))
        .await
        .unwrap();
    let other = s
        .create_show(new_show(c.id, ShowState::Scheduled, Some(9), None))
        .await
        .unwrap();
    let session =
        |show: ShowId, account: Option<AccountId>, joined: i64, played: i64| ViewerSessionRow {
            show,
            channel: c.id,
            account,
            joined_at: UnixMillis(joined),
            left_at: UnixMillis(joined + 60_000),
            played_ms: played,
            counted: played > 0,
            evidence: Default::default(),
        };
    // More than one insert statement's worth, out of order, guests and an account.
    let mut batch: Vec<ViewerSessionRow> = (0..250)
        .rev()
        .map(|i| session(show.id, None, 1_000 + i, 0))
        .collect();
    batch.push(session(show.id, Some(fan.id), 500, 59_000));
    batch.push(session(other.id, Some(fan.id), 2_000, 1));
    s.save_viewer_sessions(&batch).await.unwrap();
    s.save_viewer_sessions(&[]).await.unwrap();

    let got = s.viewer_sessions_of_show(show.id, 1_000).await.unwrap();
    assert_eq!(got.len(), 251);
    assert_eq!(got[0], session(show.id, Some(fan.id), 500, 59_000));
    assert!(got[0].counted && !got[1].counted);
    assert_eq!(got[1].account, None);
    assert!(
        got.windows(2).all(|w| w[0].joined_at <= w[1].joined_at),
        "in the order they joined"
    );
    assert_eq!(
        s.viewer_sessions_of_show(show.id, 10).await.unwrap().len(),
        10
    );
    assert_eq!(
        s.viewer_sessions_of_show(other.id, 10).await.unwrap(),
        vec![session(other.id, Some(fan.id), 2_000, 1)]
    );
    assert!(s
        .viewer_sessions_of_show(ShowId(9_999), 10)
        .await
        .unwrap()
        .is_empty());
    // A session of an unknown channel fails its batch, and nothing of it is kept.
    let mut bad = session(other.id, None, 3_000, 0);
    bad.channel = ChannelId(9_999);
    assert!(matches!(
        s.save_viewer_sessions(&[session(other.id, None, 3_000, 0), bad])
            .await,
        Err(StorageError::NotFound { .. })
    ));
    assert_eq!(
        s.viewer_sessions_of_show(other.id, 10).await.unwrap().len(),
        1
    );
});

mod shop_tests {
    use super::*;
    use crate::shop::*;
    use hawker_commerce::catalog::{Category, ReturnClass};
    use hawker_commerce::coupon::{Coupon, CouponScope, Discount};
    use hawker_commerce::order::{ActorKind, OrderState};
    use hawker_commerce::org::{OrgKind, OrgRole};
    use hawker_domain::Currency;

    fn new_order(
        id: i64,
        buyer: AccountId,
        org: OrgId,
        store: StoreId,
        sku: &Sku,
        qty: i64,
        key: Option<&str>,
    ) -> NewOrder {
        NewOrder {
            id,
            buyer,
            org,
            store,
            channel: None,
            show: None,
            flash_sale: None,
            currency: Currency::CNY,
            subtotal_minor: sku.price_minor * qty,
            discount_minor: 0,
            total_minor: sku.price_minor * qty,
            coupon: None,
            address: r#"{"name":"Ann","line1":"1 Lake Rd","city":"Hangzhou"}"#.into(),
            exceptions_acknowledged: false,
            idempotency_key: key.map(str::to_string),
            created_at: UnixMillis(1_000),
            expires_at: Some(UnixMillis(2_000)),
            items: vec![OrderItem {
                sku: sku.id,
                product: sku.product,
                title: "Peaches".into(),
                quantity: qty,
                unit_price_minor: sku.price_minor,
                return_class: ReturnClass::Perishable,
            }],
            take_stock: true,
        }
    }

    both_backends!(shop_persistence, |store| async move {
        let s = store.as_ref();
        let owner = account(s, "owner@intime.example", Role::Streamer).await;
        let buyer = account(s, "buyer@example.com", Role::Viewer).await;
        let org = s
            .create_org("Intime", OrgKind::Business, owner.id, UnixMillis(1))
            .await
            .unwrap();
        let st = s
            .create_store(org.id, "Hangzhou Wulin", "Hangzhou", UnixMillis(1))
            .await
            .unwrap();
        let clerk = account(s, "anna@intime.example", Role::Streamer).await;
        s.add_member(
            org.id,
            clerk.id,
            OrgRole::StaffStreamer,
            Some(st.id),
            UnixMillis(2),
        )
        .await
        .unwrap();
        assert_eq!(
            s.membership(org.id, owner.id).await.unwrap().unwrap().role,
            OrgRole::Owner
        );
        let m = s.memberships(clerk.id).await.unwrap();
        assert_eq!(
            (m[0].role, m[0].store),
            (OrgRole::StaffStreamer, Some(st.id))
        );
        assert_eq!(s.members(org.id).await.unwrap().len(), 2);
        assert_eq!(s.stores(org.id).await.unwrap(), vec![st.clone()]);
        let ch = channel(s, "intime-anna", clerk.id).await;
        s.set_channel_shop(ch.id, org.id, st.id).await.unwrap();
        assert_eq!(s.channel_shop(ch.id).await.unwrap(), Some((org.id, st.id)));

        // Catalog, prices with history, stock per store.
        let p = s
            .create_product(
                &NewProduct {
                    org: org.id,
                    title: "Peaches".into(),
                    description: "5 kg".into(),
                    category: Category::Food,
                    return_class: ReturnClass::Perishable,
                    currency: Currency::CNY,
                    sponsored: false,
                },
                UnixMillis(5),
            )
            .await
            .unwrap();
        assert_eq!(s.product(p.id).await.unwrap(), Some(p.clone()));
        let sku = s
            .add_sku(p.id, "5 kg box", 6_800, UnixMillis(5))
            .await
            .unwrap();
        s.set_price(sku.id, 7_800, UnixMillis(9)).await.unwrap();
        assert_eq!(
            s.price_history(sku.id).await.unwrap(),
            vec![(5, 6_800), (9, 7_800)]
        );
        let sku = s.sku(sku.id).await.unwrap().unwrap();
        assert_eq!(sku.price_minor, 7_800);
        s.set_stock(sku.id, st.id, 3).await.unwrap();
        assert_eq!(s.stock(sku.id, st.id).await.unwrap(), 3);
        let img = s
            .add_image(p.id, "1.jpg", "image/jpeg", UnixMillis(5))
            .await
            .unwrap();
        assert_eq!(
            s.image(img).await.unwrap(),
            Some(("1.jpg".into(), "image/jpeg".into()))
        );

        // Showcase and pins.
        let sh = s
            .create_show(new_show(ch.id, ShowState::Live, None, Some(10)))
            .await
            .unwrap();
        s.set_shelf(sh.id, &[p.id]).await.unwrap();
        assert_eq!(s.shelf(sh.id).await.unwrap(), vec![p.id]);
        s.pin(sh.id, p.id, UnixMillis(20), 10).await.unwrap();
        assert!(s.unpin(sh.id, p.id, UnixMillis(30)).await.unwrap());
        let pins = s.pins(sh.id).await.unwrap();
        assert_eq!(
            (pins[0].offset_ms, pins[0].unpinned_at),
            (10, Some(UnixMillis(30)))
        );

        // An order takes stock atomically; too much is refused with nothing written.
        let o = s
            .place_order(&new_order(
                101,
                buyer.id,
                org.id,
                st.id,
                &sku,
                2,
                Some("k1"),
            ))
            .await
            .unwrap();
        assert_eq!((o.state, o.total_minor), (OrderState::Created, 15_600));
        assert_eq!(s.stock(sku.id, st.id).await.unwrap(), 1);
        assert!(matches!(
            s.place_order(&new_order(
                102,
                buyer.id,
                org.id,
                st.id,
                &sku,
                2,
                Some("k2")
            ))
            .await,
            Err(PlaceError::OutOfStock(_))
        ));
        assert_eq!(s.order(102).await.unwrap(), None, "nothing half-written");
        assert_eq!(s.stock(sku.id, st.id).await.unwrap(), 1);
        // The same idempotency key returns the first order.
        assert!(matches!(
            s.place_order(&new_order(
                103,
                buyer.id,
                org.id,
                st.id,
                &sku,
                1,
                Some("k1")
            ))
            .await,
            Err(PlaceError::Repeat(101))
        ));
        assert_eq!(s.order_items(101).await.unwrap()[0].quantity, 2);

        // Coupons: budget and per-user limit, checked in the order's transaction.
        let c = s
            .create_coupon(
                &Coupon {
                    code: "LAKE5".into(),
                    discount: Discount::Fixed { minor: 500 },
                    currency: Currency::CNY,
                    min_spend_minor: 0,
                    per_user_limit: 1,
                    budget_minor: 800,
                    spent_minor: 0,
                    scope: CouponScope::Store,
                    issuer_org: Some(org.id),
                    channel: None,
                    valid_from_ms: 0,
                    valid_to_ms: i64::MAX,
                    paused: false,
                },
                UnixMillis(1),
            )
            .await
            .unwrap();
        s.set_stock(sku.id, st.id, 10).await.unwrap();
        let mut with_coupon = new_order(104, buyer.id, org.id, st.id, &sku, 1, Some("k4"));
        with_coupon.coupon = Some(c.id);
        with_coupon.discount_minor = 500;
        s.place_order(&with_coupon).await.unwrap();
        assert_eq!(s.coupon_uses(c.id, buyer.id).await.unwrap(), 1);
        let mut again = new_order(105, buyer.id, org.id, st.id, &sku, 1, Some("k5"));
        again.coupon = Some(c.id);
        again.discount_minor = 100;
        assert!(matches!(
            s.place_order(&again).await,
            Err(PlaceError::CouponUsedUp)
        ));
        let mut other = new_order(106, owner.id, org.id, st.id, &sku, 1, Some("k6"));
        other.coupon = Some(c.id);
        other.discount_minor = 500;
        assert!(matches!(
            s.place_order(&other).await,
            Err(PlaceError::CouponBudgetSpent)
        ));
        assert_eq!(
            s.coupon_by_code("LAKE5")
                .await
                .unwrap()
                .unwrap()
                .coupon
                .spent_minor,
            500
        );
        assert_eq!(
            s.stock(sku.id, st.id).await.unwrap(),
            9,
            "refused orders gave their stock back"
        );

        // Transitions: audited, optimistic, and a cancel returns the stock.
        s.transition_order(
            104,
            OrderState::Created,
            OrderState::Cancelled,
            ActorKind::Buyer,
            Some(buyer.id),
            "changed my mind",
            &TransitionFields::default(),
            UnixMillis(50),
        )
        .await
        .unwrap();
        assert_eq!(s.stock(sku.id, st.id).await.unwrap(), 10);
        // The cancelled order gave its coupon back: the budget and the buyer's use.
        let lake = s.coupon_by_code("LAKE5").await.unwrap().unwrap();
        assert_eq!(lake.coupon.spent_minor, 0);
        assert_eq!(s.coupon_uses(c.id, buyer.id).await.unwrap(), 0);
        // So does one that expires unpaid.
        let mut retry = new_order(107, buyer.id, org.id, st.id, &sku, 1, Some("k7"));
        retry.coupon = Some(c.id);
        retry.discount_minor = 500;
        s.place_order(&retry).await.unwrap();
        assert_eq!(s.coupon_uses(c.id, buyer.id).await.unwrap(), 1);
        s.transition_order(
            107,
            OrderState::Created,
            OrderState::Expired,
            ActorKind::System,
            None,
            "reservation expired",
            &TransitionFields::default(),
            UnixMillis(60),
        )
        .await
        .unwrap();
        let lake = s.coupon_by_code("LAKE5").await.unwrap().unwrap();
        assert_eq!(lake.coupon.spent_minor, 0);
        assert_eq!(s.coupon_uses(c.id, buyer.id).await.unwrap(), 0);
        assert_eq!(s.coupons_of_org(org.id).await.unwrap()[0].redemptions, 0);
        s.set_coupon_paused(c.id, true).await.unwrap();
        assert!(s.coupon(c.id).await.unwrap().unwrap().coupon.paused);
        s.end_coupon(c.id, UnixMillis(70)).await.unwrap();
        assert_eq!(
            s.coupon(c.id).await.unwrap().unwrap().coupon.valid_to_ms,
            70
        );
        assert!(matches!(
            s.transition_order(
                104,
                OrderState::Created,
                OrderState::Paid,
                ActorKind::Payments,
                None,
                "",
                &TransitionFields::default(),
                UnixMillis(51)
            )
            .await,
            Err(StorageError::Conflict { .. })
        ));
        s.transition_order(
            101,
            OrderState::Created,
            OrderState::Paid,
            ActorKind::Payments,
            None,
            "sandbox",
            &TransitionFields::default(),
            UnixMillis(60),
        )
        .await
        .unwrap();
        s.transition_order(
            101,
            OrderState::Paid,
            OrderState::Shipped,
            ActorKind::Merchant,
            Some(clerk.id),
            "",
            &TransitionFields {
                carrier: Some("SF Express".into()),
                tracking: Some("SF123".into()),
                ..Default::default()
            },
            UnixMillis(70),
        )
        .await
        .unwrap();
        let shipped = s.order(101).await.unwrap().unwrap();
        assert_eq!(
            (shipped.carrier.as_deref(), shipped.tracking.as_deref()),
            (Some("SF Express"), Some("SF123"))
        );
        let ev = s.order_events(101).await.unwrap();
        assert_eq!(
            ev.iter().map(|e| e.to).collect::<Vec<_>>(),
            vec![OrderState::Created, OrderState::Paid, OrderState::Shipped]
        );
        assert_eq!(ev[2].actor, Some(clerk.id));

        // Merchant lists with filters; buyer's own list.
        let paid_or_later = s
            .orders_of_org(
                org.id,
                &OrderFilter {
                    state: Some(OrderState::Shipped),
                    ..Default::default()
                },
                10,
                0,
            )
            .await
            .unwrap();
        assert_eq!(
            paid_or_later.iter().map(|o| o.id).collect::<Vec<_>>(),
            vec![101]
        );
        assert_eq!(
            s.orders_of_org(org.id, &OrderFilter::default(), 10, 0)
                .await
                .unwrap()
                .len(),
            3,
            "101, the cancelled 104 and the expired 107"
        );
        // Search: an order id, or part of the buyer's e-mail (its wildcards taken literally).
        let search = |q: &str| OrderFilter {
            search: Some(q.to_string()),
            ..Default::default()
        };
        let found = s
            .orders_of_org(org.id, &search("104"), 10, 0)
            .await
            .unwrap();
        assert_eq!(found.iter().map(|o| o.id).collect::<Vec<_>>(), vec![104]);
        let found = s
            .orders_of_org(org.id, &search(" Buyer@Example"), 10, 0)
            .await
            .unwrap();
        assert_eq!(found.len(), 3);
        for q in ["buyer%", "b_yer", "nobody@example.com"] {
            assert!(
                s.orders_of_org(org.id, &search(q), 10, 0)
                    .await
                    .unwrap()
                    .is_empty(),
                "{q}"
            );
        }
        assert_eq!(s.orders_of_buyer(buyer.id, 10).await.unwrap().len(), 3);

        // Flash sale: a group commit of many orders, then its reservations.
        let fs = s
            .create_flash_sale(
                &NewFlashSale {
                    channel: ch.id,
                    show: Some(sh.id),
                    org: org.id,
                    store: st.id,
                    sku: sku.id,
                    price_minor: 5_000,
                    reference_minor: Some(6_800),
                    currency: Currency::CNY,
                    total_stock: 100,
                    per_buyer_limit: 2,
                    duration_ms: 60_000,
                    starts_at: None,
                    created_by: clerk.id,
                },
                UnixMillis(80),
            )
            .await
            .unwrap();
        s.start_flash_sale(fs.id, UnixMillis(100), UnixMillis(160_000))
            .await
            .unwrap();
        assert_eq!(s.open_flash_sales(UnixMillis(200)).await.unwrap().len(), 1);
        let batch: Vec<NewOrder> = (0..450)
            .map(|i| NewOrder {
                flash_sale: Some(fs.id),
                take_stock: false,
                idempotency_key: Some(format!("f{i}")),
                ..new_order(1_000 + i, buyer.id, org.id, st.id, &sku, 1, None)
            })
            .collect();
        s.place_flash_orders(batch.clone().into()).await.unwrap();
        assert!(
            s.expired_reservations(UnixMillis(1_999), 10_000)
                .await
                .unwrap()
                .is_empty(),
            "none expired yet"
        );
        // Readable at once, one order at a time (on SQLite it is still in the journal)...
        let o = s.order(1_449).await.unwrap().expect("acknowledged order");
        assert_eq!(
            (o.flash_sale, o.total_minor),
            (Some(fs.id), batch[449].total_minor)
        );
        assert_eq!(s.order_items(1_449).await.unwrap(), batch[449].items);
        assert_eq!(s.order_events(1_449).await.unwrap().len(), 1);
        // ... and all together.
        assert_eq!(s.materialise_flash_orders(100).await.unwrap() % 100, 0);
        let all = s.flash_reservations(fs.id).await.unwrap();
        assert_eq!(all.len(), 450);
        assert!(all.iter().all(|r| r.live && r.quantity == 1));
        assert_eq!(
            s.materialise_flash_orders(100).await.unwrap(),
            0,
            "nothing left"
        );
        assert_eq!(
            s.stock(sku.id, st.id).await.unwrap(),
            10,
            "flash orders do not touch store stock"
        );
        let dup = vec![NewOrder {
            flash_sale: Some(fs.id),
            take_stock: false,
            ..new_order(1_000, buyer.id, org.id, st.id, &sku, 1, None)
        }];
        assert!(
            s.place_flash_orders(dup.into()).await.is_err(),
            "a batch with a taken id fails whole"
        );
        // The same with the taken id inside a longer batch: nothing of it is written.
        let mixed: Vec<NewOrder> = (0..40)
            .map(|i| NewOrder {
                flash_sale: Some(fs.id),
                take_stock: false,
                ..new_order(
                    if i == 7 { 1_000 } else { 2_000 + i },
                    buyer.id,
                    org.id,
                    st.id,
                    &sku,
                    1,
                    None,
                )
            })
            .collect();
        assert!(s.place_flash_orders(mixed.into()).await.is_err());
        assert!(
            s.order(2_000).await.unwrap().is_none(),
            "the batch left nothing behind"
        );
        // Unpaid reservations past their time.
        let due = s
            .expired_reservations(UnixMillis(2_000), 10_000)
            .await
            .unwrap();
        assert_eq!(
            due.len(),
            450,
            "created flash orders expire; paid and cancelled ones do not"
        );
        // Journalled reservations expire too, and only those due leave the journal.
        let later: Vec<NewOrder> = (0..6)
            .map(|i| NewOrder {
                flash_sale: Some(fs.id),
                take_stock: false,
                idempotency_key: Some(format!("g{i}")),
                expires_at: Some(UnixMillis(if i < 4 { 3_000 } else { 9_000 })),
                ..new_order(3_000 + i, buyer.id, org.id, st.id, &sku, 1, None)
            })
            .collect();
        s.place_flash_orders(later.clone().into()).await.unwrap();
        let due = s
            .expired_reservations(UnixMillis(3_000), 10_000)
            .await
            .unwrap();
        assert_eq!(due.len(), 454, "the four due journalled orders join them");
        let journalled = if store.backend() == Backend::Sqlite {
            2
        } else {
            0
        };
        assert_eq!(
            s.materialise_flash_orders(100).await.unwrap(),
            journalled,
            "the two not yet due stayed in the journal (SQLite has one)"
        );
        for o in &later {
            s.transition_order(
                o.id,
                OrderState::Created,
                OrderState::Cancelled,
                ActorKind::Buyer,
                Some(buyer.id),
                "test",
                &TransitionFields::default(),
                UnixMillis(3_001),
            )
            .await
            .unwrap();
        }

        // Payments: compare-and-set, pending list, webhook de-duplication.
        let pay = s
            .create_payment(
                101,
                "sandbox",
                "pi_1",
                15_600,
                Currency::CNY,
                UnixMillis(55),
            )
            .await
            .unwrap();
        assert_eq!(
            s.payment_by_ref("sandbox", "pi_1")
                .await
                .unwrap()
                .unwrap()
                .id,
            pay.id
        );
        assert_eq!(
            s.pending_payments(UnixMillis(60), 10).await.unwrap().len(),
            1
        );
        assert!(s
            .set_payment_state(pay.id, "pending", "succeeded", UnixMillis(61))
            .await
            .unwrap());
        assert!(!s
            .set_payment_state(pay.id, "pending", "failed", UnixMillis(62))
            .await
            .unwrap());
        assert!(s
            .first_webhook("sandbox", "evt_1", UnixMillis(1))
            .await
            .unwrap());
        assert!(!s
            .first_webhook("sandbox", "evt_1", UnixMillis(2))
            .await
            .unwrap());
    });
}

both_backends!(ledger_posts_once_and_sums_balances, |store| async move {
    use crate::ledger::LedgerStore;
    use hawker_domain::Currency;
    use hawker_money::postings::{self, OrderTerms};
    use hawker_money::{AccountRef, Party, Posted, Purpose};
    let s = &*store;
    let terms = |order: i64| OrderTerms {
        order,
        show: Some(5),
        slot: None,
        currency: Currency::CNY,
        total: 10_000,
        merchant: 1,
        host: Some((10, 2_000)),
        agency: Some((20, 3_000)),
        platform_fee_bps: 500,
    };
    let paid: Vec<_> = (1..=3)
        .map(|o| postings::order_paid(&terms(o), UnixMillis(100 + o)).unwrap())
        .collect();
    assert_eq!(s.post_ledger(&paid).await.unwrap(), vec![Posted::New; 3]);
    // The same keys again: nothing written.
    assert_eq!(
        s.post_ledger(&paid[..2]).await.unwrap(),
        vec![Posted::Already; 2]
    );
    // A key reused for other entries fails the whole batch, the good one in it included.
    let settled = postings::order_settled(&terms(1), false, UnixMillis(200)).unwrap();
    let mut forged = paid[2].clone();
    forged.entries[0].amount -= 1;
    forged.entries[1].amount += 1;
    assert!(matches!(
        s.post_ledger(&[settled.clone(), forged]).await,
        Err(StorageError::Conflict {
            entity: "posting key"
        })
    ));
    let merchant_pending = AccountRef::new(Party::Org(1), Purpose::Pending, Currency::CNY);
    let balances: std::collections::HashMap<_, _> =
        s.ledger_balances().await.unwrap().into_iter().collect();
    // 10,000 − 20% commission − 5% fee = 7,500 each; host 1,400 and agency 600 of the 2,000.
    assert_eq!(balances[&merchant_pending], 3 * 7_500);
    assert_eq!(
        balances[&AccountRef::new(Party::Account(10), Purpose::Pending, Currency::CNY)],
        3 * 1_400
    );
    assert_eq!(
        balances[&AccountRef::new(Party::Agency(20), Purpose::Pending, Currency::CNY)],
        3 * 600
    );
    assert_eq!(balances.values().sum::<i64>(), 0, "balanced");
    assert!(!balances.contains_key(&AccountRef::new(
        Party::Org(1),
        Purpose::Available,
        Currency::CNY
    )));
    // Settled after all: the statement of the merchant's pending account shows every line.
    s.post_ledger(&[settled]).await.unwrap();
    let lines = s
        .ledger_statement(
            &merchant_pending,
            UnixMillis(0),
            UnixMillis(1_000),
            None,
            100,
        )
        .await
        .unwrap();
    assert_eq!(
        lines
            .iter()
            .map(|l| (l.kind.as_str(), l.amount, l.order))
            .collect::<Vec<_>>(),
        vec![
            ("order_paid", 7_500, Some(1)),
            ("order_paid", 7_500, Some(2)),
            ("order_paid", 7_500, Some(3)),
            ("order_settled", -7_500, Some(1)),
        ]
    );
    // Entries are immutable in the database itself.
    assert!(sqlx::query("UPDATE ledger_entries SET amount = amount + 1")
        .execute(s.pool())
        .await
        .is_err());
    assert!(sqlx::query("DELETE FROM ledger_transactions")
        .execute(s.pool())
        .await
        .is_err());
});

both_backends!(trust_records_round_trip, |store| async move {
    use crate::trust::{NewComplaint, NewIdentityCheck};
    use hawker_trust::complaints::{ComplaintReason, ComplaintState, ComplaintTarget};
    use hawker_trust::review::{ReviewState, RiskState, RiskVerdict};
    use hawker_trust::risk::LinkKind;
    use hawker_trust::sanctions::{BlacklistKind, SanctionLevel};
    let s = store.as_ref();
    let li = account(s, "li@farm.example", Role::Streamer).await;
    let ops = account(s, "ops@hawker.example", Role::PlatformAdmin).await;
    assert_eq!(s.trust_profile(li.id).await.unwrap(), Default::default());
    let c = s
        .submit_identity(&NewIdentityCheck {
            account: li.id,
            legal_name: "Li Wei".into(),
            id_hash: "h-li".into(),
            id_last4: "0017".into(),
            birth_date: "1987-03-15".into(),
            phone: None,
            document_file: Some("1-abc.png".into()),
            document_type: Some("national_id".into()),
            guardian_name: None,
            guardian_consent: false,
            submitted_at: UnixMillis(10),
        })
        .await
        .unwrap();
    assert_eq!(
        s.identity_checks(ReviewState::Submitted, 10).await.unwrap(),
        vec![c.clone()]
    );
    assert!(s
        .review_identity(c.id, true, None, ops.id, UnixMillis(20))
        .await
        .unwrap());
    assert!(!s
        .review_identity(c.id, false, Some("x"), ops.id, UnixMillis(21))
        .await
        .unwrap());
    let p = s.trust_profile(li.id).await.unwrap();
    assert_eq!(
        (p.birth_date.as_deref(), p.verified_at),
        (Some("1987-03-15"), Some(20))
    );
    assert_eq!(s.accounts_with_identity("h-li").await.unwrap(), vec![li.id]);
    s.set_training_passed(li.id, UnixMillis(30)).await.unwrap();
    s.set_broadcast_check(li.id, UnixMillis(31)).await.unwrap();
    s.set_minor_mode(li.id, true).await.unwrap();
    let p = s.trust_profile(li.id).await.unwrap();
    // Minor mode makes a candidate whatever the age; an adult's verified birth date does not.
    assert_eq!(
        s.minor_candidates("2008-11-26").await.unwrap(),
        vec![(li.id, Some("1987-03-15".to_string()), true)]
    );
    s.set_minor_mode(li.id, false).await.unwrap();
    assert!(s.minor_candidates("2008-11-26").await.unwrap().is_empty());
    assert_eq!(s.minor_candidates("1980-01-01").await.unwrap().len(), 1);
    s.set_minor_mode(li.id, true).await.unwrap();
    assert_eq!(
        (
            p.training_passed_at,
            p.broadcast_check_at,
            p.minor_mode,
            p.verified_at
        ),
        (Some(30), Some(31), true, Some(20))
    );

    // Sanctions, lifting (never a closure), the blacklist, signals.
    let w = s
        .add_sanction(
            li.id,
            SanctionLevel::Warning,
            "claims",
            None,
            Some(ops.id),
            UnixMillis(40),
        )
        .await
        .unwrap();
    let cl = s
        .add_sanction(
            li.id,
            SanctionLevel::Closure,
            "fraud",
            None,
            Some(ops.id),
            UnixMillis(41),
        )
        .await
        .unwrap();
    assert!(s.lift_sanction(w, UnixMillis(50)).await.unwrap());
    assert!(!s.lift_sanction(cl, UnixMillis(50)).await.unwrap());
    let levels: Vec<SanctionLevel> = s
        .sanctions_of(li.id)
        .await
        .unwrap()
        .iter()
        .map(|r| r.level)
        .collect();
    assert_eq!(levels, [SanctionLevel::Warning, SanctionLevel::Closure]);
    let identity = BlacklistKind::Identity;
    s.blacklist(identity, "h-li", Some(li.id), "fraud", UnixMillis(42))
        .await
        .unwrap();
    s.blacklist(identity, "h-li", Some(li.id), "again", UnixMillis(43))
        .await
        .unwrap();
    let probe = vec![
        (BlacklistKind::Link(LinkKind::Device), "d1".to_string()),
        (identity, "h-li".to_string()),
    ];
    assert_eq!(
        s.blacklisted(&probe).await.unwrap(),
        Some((identity, "h-li".into()))
    );
    for (who, at) in [(li.id, 1), (li.id, 2), (ops.id, 2)] {
        s.record_signal(who, LinkKind::Device, "d1", UnixMillis(at))
            .await
            .unwrap();
    }
    let mut sig = s.signals_of(&[li.id, ops.id]).await.unwrap();
    sig.sort();
    assert_eq!(
        sig,
        [
            (li.id, LinkKind::Device, "d1".to_string()),
            (ops.id, LinkKind::Device, "d1".to_string())
        ]
    );
    assert_eq!(
        s.signal_popularity(&[(LinkKind::Device, "d1".into())])
            .await
            .unwrap(),
        [(LinkKind::Device, "d1".to_string(), 2)]
    );

    // Complaints and guardian claims.
    let due = UnixMillis(1_000);
    let cp = s
        .file_complaint(&NewComplaint {
            reporter: ops.id,
            target: ComplaintTarget::Seller,
            target_id: 5,
            subject: Some(li.id),
            order: None,
            reason: ComplaintReason::Counterfeit,
            details: "fake pearls",
            deadline: due,
            at: UnixMillis(60),
        })
        .await
        .unwrap();
    assert_eq!(
        (cp.target_kind, cp.reason, cp.state),
        (
            ComplaintTarget::Seller,
            ComplaintReason::Counterfeit,
            ComplaintState::Open
        )
    );
    assert_eq!(
        s.complaints(ComplaintState::Open, 10).await.unwrap(),
        vec![cp.clone()]
    );
    let upheld = ComplaintState::Upheld;
    assert!(s
        .resolve_complaint(cp.id, upheld, "confirmed", ops.id, UnixMillis(70))
        .await
        .unwrap());
    let dismissed = ComplaintState::Dismissed;
    assert!(!s
        .resolve_complaint(cp.id, dismissed, "no", ops.id, UnixMillis(71))
        .await
        .unwrap());
    assert_eq!(
        s.upheld_complaints_since(li.id, UnixMillis(0))
            .await
            .unwrap(),
        1
    );
    let gc = s
        .file_guardian_claim(ops.id, li.id, "bank statement", UnixMillis(80))
        .await
        .unwrap();
    assert!(s
        .decide_guardian_claim(gc.id, true, None, 30, ops.id, UnixMillis(90))
        .await
        .unwrap());
    assert_eq!(
        s.guardian_claim(gc.id)
            .await
            .unwrap()
            .unwrap()
            .refunded_coins,
        30
    );
    // A state no rule knows is reported as corrupt, never guessed at.
    sqlx::query("UPDATE guardian_claims SET state = 'pondering'")
        .execute(s.pool())
        .await
        .unwrap();
    assert!(matches!(
        s.guardian_claim(gc.id).await,
        Err(StorageError::Corrupt(_))
    ));

    // Assessments keep ops' decision when the engine runs again; nothing unknown is held.
    let ch = channel(s, "li-farm", li.id).await;
    let show = s
        .create_show(new_show(ch.id, ShowState::Ended, None, Some(1)))
        .await
        .unwrap();
    s.save_assessment(show.id, 9_000, true, "[]", &[], UnixMillis(100))
        .await
        .unwrap();
    assert_eq!(
        s.assessment(show.id).await.unwrap().unwrap().state,
        RiskState::Open
    );
    assert!(s
        .review_assessment(show.id, RiskVerdict::Cleared, ops.id, UnixMillis(110))
        .await
        .unwrap());
    s.save_assessment(show.id, 9_500, true, "[]", &[], UnixMillis(120))
        .await
        .unwrap();
    let a = s.assessment(show.id).await.unwrap().unwrap();
    assert_eq!((a.state, a.score_bps), (RiskState::Cleared, 9_500));
    assert!(s.orders_held(&[1, 2, 3]).await.unwrap().is_empty());
    assert_eq!(s.buyer_spent_since(li.id, UnixMillis(0)).await.unwrap(), 0);
    assert_eq!(s.org_sales_since(1, UnixMillis(0)).await.unwrap(), (0, 0));
    assert!(s
        .shows_to_assess(UnixMillis(0), 10)
        .await
        .unwrap()
        .is_empty());
    s.audit(
        Some(ops.id),
        "identity_approved",
        "account:1",
        "",
        UnixMillis(5),
    )
    .await
    .unwrap();
    assert_eq!(
        s.audit_log(10).await.unwrap()[0].action,
        "identity_approved"
    );
});
