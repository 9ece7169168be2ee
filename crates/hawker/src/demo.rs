//! `hawker demo`: a server on a fresh data directory with a seeded world and a show already
//! live, published by a built-in encoder loop through the real RTMP ingest.

use crate::app::Running;
use hawker_broadcast::publisher::{self, Clip};
use hawker_commerce::disclosure::ShowcaseFacts;
use hawker_domain::{DisplayName, Email, PasswordHash, Role, Slug, StreamKey, UnixMillis};
use hawker_storage::disclosure::EntryChange;
use hawker_storage::{NewAccount, NewChannel, NewShow, Store};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// The clip the built-in encoder loops: 6 s of H.264 + AAC made by `assets/make-demo-clip.sh`.
pub const DEMO_CLIP: &[u8] = include_bytes!("../assets/demo.flv");
pub const DEMO_PASSWORD: &str = "hawker-demo-2026";

pub struct DemoChannel {
    pub slug: &'static str,
    pub title: &'static str,
    pub owner: &'static str,
    pub email: &'static str,
    /// Upcoming shows: (title, hours from now).
    pub scheduled: &'static [(&'static str, i64)],
}

/// The people of PRODUCT.md's scenarios.
pub const CHANNELS: &[DemoChannel] = &[
    DemoChannel {
        slug: "li-wei-farm",
        title: "Li Wei's orchard — fresh from the field",
        owner: "Li Wei",
        email: "li.wei@farm.example",
        scheduled: &[("Harvest day: peaches by the crate", 20)],
    },
    DemoChannel {
        slug: "intime-hangzhou-anna",
        title: "Intime Hangzhou — Anna at the jewellery counter",
        owner: "Anna Zhou",
        email: "anna@intime.example",
        scheduled: &[
            ("Jade and pearls: ask me anything", 2),
            ("Weekend coupon hour", 48),
        ],
    },
    DemoChannel {
        slug: "autohaus-max",
        title: "Autohaus Max — test drives from the showroom",
        owner: "Max Becker",
        email: "max@autohaus.example",
        scheduled: &[("The new EV walk-around", 5)],
    },
];

pub struct Seeded {
    pub live_slug: &'static str,
    pub live_key: StreamKey,
    /// The farmer's products, put on the live show's shelf once it starts.
    pub farm_products: Vec<i64>,
}

/// Clerks and stores of the demo chain (the generator makes the full 65/5,000).
pub const DEMO_STORES: usize = 4;
pub const DEMO_CLERKS: usize = 36;

pub async fn seed(store: &dyn Store) -> anyhow::Result<Seeded> {
    let hash = tokio::task::spawn_blocking(|| PasswordHash::create(DEMO_PASSWORD)).await??;
    let now = UnixMillis::now();
    let mut live_key = None;
    let mut farm_products = Vec::new();
    for (i, c) in CHANNELS.iter().enumerate() {
        let account = match store.account_by_email(&Email::parse(c.email)?).await? {
            Some(a) => a,
            None => {
                store
                    .create_account(NewAccount {
                        email: Email::parse(c.email)?,
                        display_name: DisplayName::parse(c.owner)?,
                        password: hash.clone(),
                        role: Role::Streamer,
                        created_at: now,
                    })
                    .await?
            }
        };
        let channel = match store.channel_by_slug(&Slug::parse(c.slug)?).await? {
            Some(ch) => ch,
            None => {
                let ch = store
                    .create_channel(NewChannel {
                        slug: Slug::parse(c.slug)?,
                        title: c.title.to_string(),
                        owner: account.id,
                        stream_key: StreamKey::generate(),
                        created_at: now,
                    })
                    .await?;
                for (title, hours) in c.scheduled {
                    store
                        .create_show(NewShow {
                            channel: ch.id,
                            title: title.to_string(),
                            state: hawker_domain::ShowState::Scheduled,
                            scheduled_at: Some(now.plus_ms(hours * 3_600_000)),
                            started_at: None,
                        })
                        .await?;
                }
                ch
            }
        };
        // The shops: the farmer and the dealer sell for themselves; Anna is a clerk of the
        // department-store chain, selling from her store's stock.
        match i {
            0 => {
                farm_products = crate::seed::individual_shop(
                    store,
                    &account,
                    channel.id,
                    "Li Wei's Orchard",
                    "Fenghua",
                    false,
                )
                .await?
                .products;
            }
            1 => {
                crate::seed::department_store(
                    store,
                    DEMO_STORES,
                    DEMO_CLERKS,
                    Some((&account, channel.id)),
                    &hash,
                    |_| {},
                )
                .await?;
            }
            _ => {
                crate::seed::individual_shop(
                    store,
                    &account,
                    channel.id,
                    "Autohaus Max GmbH",
                    "Stuttgart",
                    true,
                )
                .await?;
            }
        }
        if live_key.is_none() {
            live_key = Some(channel.stream_key.clone());
        }
    }
    Ok(Seeded {
        live_slug: CHANNELS[0].slug,
        live_key: live_key.expect("at least one channel"),
        farm_products,
    })
}

/// Once the demo show is live: the farmer's products on its shelf and pinned, with their
/// disclosure, as the host would do from the studio.
/// The demo channel and its show once the built-in encoder has it live (polled every 100 ms,
/// `tries` times).
async fn live_show(
    store: &dyn Store,
    slug: &str,
    tries: usize,
) -> anyhow::Result<(hawker_domain::Channel, hawker_domain::Show)> {
    let channel = store
        .channel_by_slug(&Slug::parse(slug)?)
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo channel {slug} missing"))?;
    for _ in 0..tries {
        if let Some(show) = store.live_show_of_channel(channel.id).await? {
            return Ok((channel, show));
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    anyhow::bail!("the demo show on {slug} did not go live")
}

pub async fn stock_the_shelf(running: &Running, seeded: &Seeded) -> anyhow::Result<()> {
    let store: &dyn Store = running.store.as_ref();
    let (channel, show) = live_show(store, seeded.live_slug, 100).await?;
    store.set_shelf(show.id, &seeded.farm_products).await?;
    // The peaches take video consults: a viewer can *Talk to the seller* from the pinned card
    // and the farmer answers in the merchant console.
    if let Some(first) = seeded.farm_products.first() {
        store.set_consultable(*first, true).await?;
    }
    // Disclosure: the host has used the peaches (and says so); the honey is a paid promotion
    // in this show. Both are pinned, the honey last, so the card shows its "Ad" label and the
    // room repeats it.
    let now = UnixMillis::now();
    let offset = show.started_at.map_or(0, |t| now.0 - t.0);
    let law = running.shop.law();
    let mut pinned = Vec::new();
    for (i, id) in seeded.farm_products.iter().take(2).enumerate() {
        let change = if i == 0 {
            EntryChange {
                host_used: Some(true),
                sponsored: None,
            }
        } else {
            EntryChange {
                sponsored: Some(true),
                host_used: None,
            }
        };
        let entry = store
            .set_showcase_entry(show.id, *id, change, channel.owner, now)
            .await?;
        store.pin(show.id, *id, now, offset).await?;
        let Some(p) = store.product(*id).await? else {
            continue;
        };
        let skus = store.skus_of_product(*id).await?;
        let seller = store.org(p.org).await?.map(|o| o.name).unwrap_or_default();
        let card = law.disclosure.card(&ShowcaseFacts {
            paid_slot: false,
            sponsored_entry: entry.sponsored,
            sponsored_product: p.sponsored,
            host_used: entry.host_used,
            co_host_used: None,
        });
        let low = skus.iter().map(|s| s.price_minor).min().unwrap_or(0);
        pinned.insert(
            0,
            hawker_room::protocol::PinnedProduct {
                product_id: p.id,
                title: p.title.clone(),
                price: hawker_domain::Money::new(low, p.currency).to_string(),
                seller,
                image_url: None,
                sponsored: card.paid_promotion,
                paid_promotion: card.paid_promotion,
                label: card.label,
                host_used: card.host_used,
                attestation: card.attestation,
                co_host_used: None,
                co_host_attestation: None,
            },
        );
    }
    if !pinned.is_empty() {
        running
            .rooms
            .set_state(&channel, hawker_room::room::StateChange::Pinned(pinned))
            .await?;
    }
    Ok(())
}

/// A past show of the farm with a recording and two products pinned at their moments, so the
/// demo has a shoppable replay: the clip published once through the real ingest (6 s), the
/// peaches pinned after a second, the honey after three, the show ended at once.
pub async fn record_a_replay(running: &Running, seeded: &Seeded) -> anyhow::Result<()> {
    let clip = Arc::new(Clip::parse(bytes::Bytes::from_static(DEMO_CLIP))?);
    let url = format!("rtmp://{}/live/{}", running.rtmp, seeded.live_key.expose());
    let publishing = tokio::spawn(async move {
        publisher::publish(
            &url,
            clip,
            publisher::PublishOptions {
                loops: Some(1),
                video_sent: None,
            },
            CancellationToken::new(),
        )
        .await
    });
    let store: &dyn Store = running.store.as_ref();
    let (_, mut show) = live_show(store, seeded.live_slug, 50).await?;
    show.title = "Yesterday at the orchard: peaches and honey".into();
    store
        .save_show(&show, hawker_domain::ShowState::Live)
        .await?;
    store.set_shelf(show.id, &seeded.farm_products).await?;
    let started = show.started_at.map_or(0, |t| t.0);
    for (i, id) in seeded.farm_products.iter().take(2).enumerate() {
        tokio::time::sleep(std::time::Duration::from_millis(if i == 0 {
            1_000
        } else {
            2_000
        }))
        .await;
        let now = UnixMillis::now();
        if i > 0 {
            store
                .unpin(show.id, seeded.farm_products[i - 1], now)
                .await?;
        }
        store.pin(show.id, *id, now, now.0 - started).await?;
    }
    publishing.await??;
    anyhow::ensure!(
        running.broadcaster.end_now(seeded.live_slug).await,
        "the replay show did not end"
    );
    Ok(())
}

/// Starts the built-in encoder on the seeded live channel.
pub fn start_publisher(
    running: &Running,
    seeded: &Seeded,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let clip = Arc::new(Clip::parse(bytes::Bytes::from_static(DEMO_CLIP))?);
    let url = format!("rtmp://{}/live/{}", running.rtmp, seeded.live_key.expose());
    tokio::spawn(publisher::publish_forever(url, clip, cancel));
    Ok(())
}

pub fn banner(running: &Running, seeded: &Seeded, data: &std::path::Path) -> String {
    let base = &running.public_url;
    let mut s = String::new();
    s.push_str("\nHawker demo is running.\n\n");
    s.push_str(&format!("  Home (live & upcoming)  {base}/\n"));
    s.push_str(&format!(
        "  Live show (watch)       {base}/c/{}\n",
        seeded.live_slug
    ));
    s.push_str(&format!(
        "  LL-HLS playlist         {base}/live/{}/index.m3u8\n",
        seeded.live_slug
    ));
    s.push_str(&format!(
        "  Streamer studio         {base}/studio   (log in below)\n"
    ));
    s.push_str(&format!(
        "  Merchant console        {base}/shop     Buyer's orders  {base}/orders     Earnings  {base}/earnings\n"
    ));
    s.push_str(
        "  Buy from the show: press Buy on the pinned card; sandbox card 4242 4242 4242 4242\n",
    );
    s.push_str(&format!(
        "  Ops console             {base}/ops      ({DEMO_OPS_EMAIL}: verifications, the fraud queue with an honest show and a brushing ring, complaints)\n"
    ));
    s.push_str(&format!("  Metrics                 {base}/metrics\n"));
    s.push_str(&format!(
        "  RTMP ingest             {}\n\n",
        running.rtmp_url
    ));
    s.push_str("  Demo accounts (password: ");
    s.push_str(DEMO_PASSWORD);
    s.push_str(")\n");
    for c in CHANNELS {
        s.push_str(&format!(
            "    {:<24} {}  → {base}/c/{}\n",
            c.email, c.owner, c.slug
        ));
    }
    s.push_str(&format!(
        "\n  Admin: {} (password in {}), API token in {}\n",
        crate::admin::ADMIN_EMAIL,
        data.join(crate::admin::PASSWORD_FILE).display(),
        running.admin_token_file.display()
    ));
    s.push_str(
        "\n  Go live yourself: log in as a demo streamer, open the studio and press *Go live\n",
    );
    s.push_str(
        "    from this browser* (camera, WebRTC), or point OBS 30+ (WHIP) at the studio's\n",
    );
    s.push_str("    WHIP URL, or OBS/ffmpeg (RTMP) at the shown server and key:\n");
    s.push_str("    ffmpeg -re -i file.mp4 -c copy -f flv <server>/<key>\n");
    s.push_str(
        "  Talk to the seller: the pinned peaches take video consults; the farmer answers\n",
    );
    s.push_str(&format!("    in the merchant console ({base}/shop).\n"));
    s.push_str("\nPress Ctrl-C to stop.\n");
    s
}

/// The ops console's demo login.
pub const DEMO_OPS_EMAIL: &str = "ops@hawker.example";

/// The trust side of the demo world: the streamers verified (real-name checks approved by the
/// demo ops account, the rules course passed), one applicant waiting in the review queue, and
/// two ended shows on the farmer's channel — one honest, one with a brushing ring (six accounts
/// on two phones and one card, ordering over and over, praising in chorus, returning after the
/// show) — assessed by the risk engine so the fraud queue tells them apart. Both have an
/// audience: the honest one viewers who play and stay; the ring's also a swarm of sockets
/// that come in waves, never play and leave within seconds.
pub async fn trust_world(running: &Running) -> anyhow::Result<()> {
    use hawker_shop::guard::IdentitySubmission;
    use hawker_trust::risk::LinkKind;
    let store: &dyn Store = running.store.as_ref();
    let g = &running.guard;
    let hash = tokio::task::spawn_blocking(|| PasswordHash::create(DEMO_PASSWORD)).await??;
    let now = UnixMillis::now();
    let ops = crate::seed::account(
        store,
        DEMO_OPS_EMAIL,
        "Ops reviewer",
        Role::PlatformAdmin,
        &hash,
        now,
    )
    .await?;
    let people = [
        (
            CHANNELS[0].email,
            "Li Wei",
            "330283198703150017",
            "1987-03-15",
        ),
        (
            CHANNELS[1].email,
            "Anna Chen",
            "330106199511020028",
            "1995-11-02",
        ),
        (CHANNELS[2].email, "Max Becker", "L01X00T47", "1979-06-30"),
    ];
    for (email, name, id, born) in people {
        let Some(a) = store.account_by_email(&Email::parse(email)?).await? else {
            continue;
        };
        if g.profile(a.id).await?.verified_at.is_some() {
            continue;
        }
        let c = g
            .submit_identity(
                a.id,
                IdentitySubmission {
                    legal_name: name.into(),
                    id_number: id.into(),
                    birth_date: born.into(),
                    phone: None,
                    document_file: None,
                    document_type: Some("national_id".into()),
                    guardian_name: None,
                    guardian_consent: false,
                },
                now,
            )
            .await?;
        g.review_identity(c.id, true, None, ops.id, now).await?;
        g.pass_training(a.id, &hawker_trust::training::answer_key(), now)
            .await?;
    }
    // A new streamer waiting for review: the ops console's first queue item.
    let newcomer = crate::seed::account(
        store,
        "mei@newseller.example",
        "Mei",
        Role::Streamer,
        &hash,
        now,
    )
    .await?;
    if store.latest_identity(newcomer.id).await?.is_none() {
        g.submit_identity(
            newcomer.id,
            IdentitySubmission {
                legal_name: "Zhang Mei".into(),
                id_number: "330104200109120044".into(),
                birth_date: "2001-09-12".into(),
                phone: Some("+86 138 0000 0000".into()),
                document_file: None,
                document_type: Some("national_id".into()),
                guardian_name: None,
                guardian_consent: false,
            },
            now,
        )
        .await?;
    }

    // Two ended shows of the farmer with orders, signals and chat.
    let farm = store
        .channel_by_slug(&Slug::parse(CHANNELS[0].slug)?)
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo channel missing"))?;
    let existing = store.shows_of_channel(farm.id, 50).await?;
    if existing
        .iter()
        .any(|s| s.title.starts_with("Integrity demo"))
    {
        return Ok(());
    }
    let Some((org, shop_store)) = store.channel_shop(farm.id).await? else {
        return Ok(());
    };
    let product = store
        .products_of_org(org)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("the farm has no products"))?;
    let sku = store
        .skus_of_product(product.id)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("the farm product has no SKU"))?;
    let day = 86_400_000;
    let mut ids = hawker_commerce::ids::OrderIdGen::new(31);
    let make_show = |title: &str, days_ago: i64| NewShow {
        channel: farm.id,
        title: title.to_string(),
        state: hawker_domain::ShowState::Ended,
        scheduled_at: None,
        started_at: Some(UnixMillis(now.0 - days_ago * day)),
    };
    for (title, ring) in [
        ("Integrity demo: an honest evening of peaches", false),
        ("Integrity demo: the show with a brushing ring", true),
    ] {
        let mut show = store
            // Three weeks back, so the kept orders' return windows (eu: 14 days after
            // delivery) have closed and the books settle them: the honest show's into
            // `available`, the held ring's into `held`.
            .create_show(make_show(title, if ring { 20 } else { 21 }))
            .await?;
        let start = show.started_at.map_or(now.0, |t| t.0);
        let end = start + 3_600_000;
        show.ended_at = Some(UnixMillis(end));
        store
            .save_show(&show, hawker_domain::ShowState::Ended)
            .await?;
        let buyers: Vec<(String, usize)> = if ring {
            (1..=6)
                .map(|i| (format!("ring{i}@brush.example"), 6))
                .collect()
        } else {
            (1..=20)
                .map(|i| (format!("neighbour{i}@village.example"), 1))
                .collect()
        };
        let mut chat = Vec::new();
        let session =
            |account: Option<hawker_domain::AccountId>, joined: i64, dwell: i64, played: i64| {
                hawker_storage::ViewerSessionRow {
                    show: show.id,
                    channel: farm.id,
                    account,
                    joined_at: UnixMillis(joined),
                    left_at: UnixMillis((joined + dwell).min(end)),
                    played_ms: played.min(dwell),
                    counted: played > 0,
                    // Players fetch media about once a second, from many networks, with a
                    // browser's timer drift; the swarm's sockets beat like a script from one
                    // rented network and fetch nothing.
                    evidence: if played > 0 {
                        hawker_storage::SessionEvidence {
                            network: format!(
                                "10.{}.{}.0/24",
                                (joined / 1_000) % 250,
                                (joined / 250_000) % 250
                            ),
                            media_deliveries: played / 1_000,
                            heartbeats: dwell / 5_000,
                            cadence_jitter_ms: Some(45),
                        }
                    } else {
                        hawker_storage::SessionEvidence {
                            network: "198.51.100.0/24".into(),
                            media_deliveries: 0,
                            heartbeats: dwell / 5_000,
                            cadence_jitter_ms: (dwell >= 20_000).then_some(0),
                        }
                    },
                }
            };
        let mut sessions = Vec::new();
        for (i, (email, n)) in buyers.iter().enumerate() {
            let b = crate::seed::account(
                store,
                email,
                &format!("Buyer {}", i + 1),
                Role::Viewer,
                &hash,
                now,
            )
            .await?;
            let (device, card) = if ring {
                (
                    format!("ring-phone-{}", i % 2),
                    "4000056655665556".to_string(),
                )
            } else {
                (format!("phone-of-{email}"), format!("40000000000{:05}", i))
            };
            // Every buyer watched for a while before buying.
            let joined = start + 60_000 + i as i64 * 20_000;
            let dwell = 1_500_000 + (i as i64 % 5) * 300_000;
            sessions.push(session(Some(b.id), joined, dwell, dwell - 30_000));
            g.seen(b.id, LinkKind::Device, &device, now).await?;
            g.seen(b.id, LinkKind::PaymentInstrument, &card, now)
                .await?;
            g.seen(
                b.id,
                LinkKind::Network,
                if ring {
                    "10.9.8.0/24"
                } else {
                    "203.0.113.0/24"
                },
                now,
            )
            .await?;
            for k in 0..*n {
                let at = start + 600_000 + (i * 10 + k) as i64 * 30_000;
                let id = ids.next(at);
                let total = sku.price_minor;
                store
                    .place_order(&hawker_storage::shop::NewOrder {
                        id,
                        buyer: b.id,
                        org,
                        store: shop_store,
                        channel: Some(farm.id),
                        show: Some(show.id),
                        flash_sale: None,
                        currency: product.currency,
                        subtotal_minor: total,
                        discount_minor: 0,
                        total_minor: total,
                        coupon: None,
                        address: serde_json::json!({"name": email, "line1": format!("{} Orchard Road", i + 1), "city": "Fenghua"}).to_string(),
                        exceptions_acknowledged: true,
                        idempotency_key: None,
                        created_at: UnixMillis(at),
                        expires_at: None,
                        items: vec![hawker_storage::shop::OrderItem {
                            sku: sku.id,
                            product: product.id,
                            title: product.title.clone(),
                            quantity: 1,
                            unit_price_minor: total,
                            return_class: product.return_class,
                        }],
                        take_stock: false,
                    })
                    .await
                    .map_err(|e| anyhow::anyhow!("demo order: {e}"))?;
                use hawker_commerce::order::{ActorKind, OrderState};
                let fields = hawker_storage::shop::TransitionFields::default();
                // Paid through the sandbox provider, as a buyer pays.
                let payment = store
                    .create_payment(
                        id,
                        "sandbox",
                        &format!("demo_{id}"),
                        total,
                        product.currency,
                        UnixMillis(at + 500),
                    )
                    .await?;
                store
                    .set_payment_state(payment.id, "pending", "succeeded", UnixMillis(at + 900))
                    .await?;
                store
                    .transition_order(
                        id,
                        OrderState::Created,
                        OrderState::Paid,
                        ActorKind::System,
                        None,
                        "demo",
                        &fields,
                        UnixMillis(at + 1_000),
                    )
                    .await?;
                // The ring cancels most of its orders the morning after; the rest are
                // shipped and delivered two days after the show.
                if !ring || k % 3 == 0 {
                    let delivered = end + 2 * 86_400_000;
                    for (from, to, at) in [
                        (OrderState::Paid, OrderState::Shipped, end + 86_400_000),
                        (OrderState::Shipped, OrderState::Delivered, delivered),
                    ] {
                        store
                            .transition_order(
                                id,
                                from,
                                to,
                                ActorKind::System,
                                None,
                                "demo",
                                &hawker_storage::shop::TransitionFields {
                                    delivered_at: (to == OrderState::Delivered)
                                        .then_some(UnixMillis(delivered)),
                                    ..Default::default()
                                },
                                UnixMillis(at),
                            )
                            .await?;
                    }
                }
                if ring && k % 3 != 0 {
                    // The money goes back first, as the shop cancels a paid order.
                    store
                        .set_payment_state(
                            payment.id,
                            "succeeded",
                            "refunded",
                            UnixMillis(end + 8 * 3_600_000),
                        )
                        .await?;
                    store
                        .transition_order(
                            id,
                            OrderState::Paid,
                            OrderState::Cancelled,
                            ActorKind::Buyer,
                            Some(b.id),
                            "changed my mind",
                            &fields,
                            UnixMillis(end + 8 * 3_600_000),
                        )
                        .await?;
                }
            }
            chat.push(hawker_storage::StoredComment {
                // Distinct per show and line: a stored id is written once.
                id: show.id.0 * 1_000 + i as i64 + 1,
                channel: farm.id,
                show: Some(show.id),
                account: b.id,
                author_name: format!("Buyer {}", i + 1),
                text: if ring {
                    "Best host ever, buy now!!".into()
                } else {
                    format!("Are the peaches from row {}? How sweet are they?", i + 1)
                },
                at: UnixMillis(start + 300_000 + i as i64 * 10_000),
                shadow: false,
                deleted_reason: None,
            });
        }
        // Guests: most play and stay; a few never start the player (autoplay blocked) and a
        // few leave at once.
        for k in 0..40i64 {
            let joined = start + 30_000 + k * 85_000;
            let dwell = 180_000 + (k * 7 % 11) * 240_000;
            let (dwell, played) = match k % 10 {
                3 => (60_000 + k * 5_000, 0),
                7 if k < 30 => (2_000 + k * 50, 0),
                _ => (dwell, dwell - 20_000),
            };
            sessions.push(session(None, joined, dwell, played));
        }
        if ring {
            // The swarm: eight waves of thirty sockets, each wave within 3 s, gone in 2-15 s.
            for wave in 0..8i64 {
                for k in 0..30i64 {
                    let joined = start + 300_000 + wave * 360_000 + k * 100;
                    sessions.push(session(None, joined, 2_000 + (k * 450) % 13_000, 0));
                }
            }
        }
        store.save_comments(&chat).await?;
        store.save_viewer_sessions(&sessions).await?;
        let a = g.assess_show(show.id, now).await?;
        tracing::info!(show = %show.id, score = a.score, hold = a.hold, "demo show assessed");
    }
    // The books follow at once (the job's incremental passes look at recent changes only):
    // the ring's kept orders settle into `held`, the honest show's into `available`.
    running.shop.books().catch_up(now).await?;
    Ok(())
}
