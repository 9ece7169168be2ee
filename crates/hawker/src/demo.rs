//! `hawker demo`: a server on a fresh data directory with a seeded world and a show already
//! live, published by a built-in encoder loop through the real RTMP ingest.

use crate::app::Running;
use hawker_broadcast::publisher::{self, Clip};
use hawker_domain::{DisplayName, Email, PasswordHash, Role, Slug, StreamKey, UnixMillis};
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

/// Once the demo show is live: the farmer's products on its shelf, the first one pinned, as
/// the host would do from the studio.
pub async fn stock_the_shelf(running: &Running, seeded: &Seeded) -> anyhow::Result<()> {
    let store: &dyn Store = running.store.as_ref();
    let channel = store
        .channel_by_slug(&Slug::parse(seeded.live_slug)?)
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo channel missing"))?;
    let mut show = None;
    for _ in 0..100 {
        show = store.live_show_of_channel(channel.id).await?;
        if show.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let show = show.ok_or_else(|| anyhow::anyhow!("the demo show did not go live"))?;
    store.set_shelf(show.id, &seeded.farm_products).await?;
    if let Some(first) = seeded.farm_products.first() {
        let now = UnixMillis::now();
        let offset = show.started_at.map_or(0, |t| now.0 - t.0);
        store.pin(show.id, *first, now, offset).await?;
        let product = store.product(*first).await?;
        let skus = store.skus_of_product(*first).await?;
        let org = store.channel_shop(channel.id).await?;
        let seller = match org {
            Some((o, _)) => store.org(o).await?.map(|o| o.name).unwrap_or_default(),
            None => String::new(),
        };
        if let Some(p) = product {
            let low = skus.iter().map(|s| s.price_minor).min().unwrap_or(0);
            running
                .rooms
                .set_state(
                    &channel,
                    hawker_room::room::StateChange::Pinned(vec![
                        hawker_room::protocol::PinnedProduct {
                            product_id: p.id,
                            title: p.title.clone(),
                            price: hawker_domain::Money::new(low, p.currency).to_string(),
                            seller,
                            image_url: None,
                            sponsored: p.sponsored,
                        },
                    ]),
                )
                .await?;
        }
    }
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
    s.push_str("\n  Go live yourself: log in as a demo streamer, open the studio, point OBS or\n");
    s.push_str(
        "    ffmpeg -re -i file.mp4 -c copy -f flv <server>/<key>  at the shown server and key.\n",
    );
    s.push_str("\nPress Ctrl-C to stop.\n");
    s
}
