//! Seeded sellers and buyers: the demo world's shops (a department-store chain with stores and
//! clerks, a farmer, a car dealer), the generator for the chain's full size (65 stores, 5,000
//! clerks) and buyer accounts with sessions for load tests.

use hawker_commerce::catalog::{Category, ReturnClass};
use hawker_commerce::org::{OrgKind, OrgRole};
use hawker_domain::{
    Account, ChannelId, Currency, DisplayName, Email, PasswordHash, Role, SessionToken, Slug,
    StreamKey, UnixMillis,
};
use hawker_storage::disclosure::{CredentialState, NewCredential};
use hawker_storage::shop::{NewProduct, OrgId, StoreId};
use hawker_storage::{NewAccount, NewChannel, Store};

/// Cities of the chain's stores, cycled (with a number) for larger chains.
const CITIES: &[&str] = &[
    "Hangzhou", "Ningbo", "Wenzhou", "Shaoxing", "Jinhua", "Taizhou", "Huzhou", "Jiaxing",
    "Lishui", "Quzhou", "Zhoushan", "Hefei", "Wuhan", "Xi'an", "Beijing",
];

/// What each demo shop sells: (title, description, category, return class, SKUs as
/// (label, price in minor units, stock per store)).
type Item = (
    &'static str,
    &'static str,
    Category,
    ReturnClass,
    &'static [(&'static str, i64, i64)],
);

const INTIME_ITEMS: &[Item] = &[
    (
        "Freshwater pearl necklace",
        "Hand-knotted, 45 cm, 7–8 mm pearls. Certificate included.",
        Category::Jewellery,
        ReturnClass::Normal,
        &[("45 cm", 89_900, 40), ("50 cm", 99_900, 25)],
    ),
    (
        "Hetian jade bangle",
        "Nephrite, polished by hand; sizes measured at the counter.",
        Category::Jewellery,
        ReturnClass::Normal,
        &[("56 mm", 259_900, 8), ("58 mm", 259_900, 6)],
    ),
    (
        "Engraved silver pendant",
        "Your name engraved in our workshop; made to order.",
        Category::Jewellery,
        ReturnClass::CustomMade,
        &[("Sterling silver", 39_900, 100)],
    ),
    (
        "Hydrating face cream",
        "50 ml, for dry skin.",
        Category::Cosmetics,
        ReturnClass::Normal,
        &[("50 ml", 32_000, 200)],
    ),
];

const FARM_ITEMS: &[Item] = &[
    (
        "Juicy peaches, 5 kg crate",
        "Picked the morning we ship. Perishable: no returns without a defect.",
        Category::Food,
        ReturnClass::Perishable,
        &[("5 kg", 12_800, 300), ("10 kg", 23_800, 120)],
    ),
    (
        "Wild flower honey",
        "500 g jar from our own hives.",
        Category::Food,
        ReturnClass::Normal,
        &[("500 g", 6_800, 150)],
    ),
];

const AUTOHAUS_ITEMS: &[Item] = &[
    (
        "Test-drive booking with deposit",
        "Reserves a 45-minute test drive; the deposit counts toward the car.",
        Category::Vehicles,
        ReturnClass::Normal,
        &[("Weekday", 10_000, 50), ("Saturday", 10_000, 20)],
    ),
    (
        "Winter tyre set, 17\"",
        "Four tyres, fitted at the showroom.",
        Category::Vehicles,
        ReturnClass::Normal,
        &[("205/55 R17", 64_000, 30)],
    ),
];

/// One organisation of the seeded world.
pub struct SeededOrg {
    pub org: OrgId,
    pub stores: Vec<StoreId>,
    pub products: Vec<i64>,
}

pub async fn account(
    store: &dyn Store,
    email: &str,
    name: &str,
    role: Role,
    hash: &PasswordHash,
    now: UnixMillis,
) -> anyhow::Result<Account> {
    let e = Email::parse(email)?;
    if let Some(a) = store.account_by_email(&e).await? {
        return Ok(a);
    }
    Ok(store
        .create_account(NewAccount {
            email: e,
            display_name: DisplayName::parse(name)?,
            password: hash.clone(),
            role,
            created_at: now,
        })
        .await?)
}

async fn products(
    store: &dyn Store,
    org: OrgId,
    stores: &[StoreId],
    items: &[Item],
    currency: Currency,
    now: UnixMillis,
) -> anyhow::Result<Vec<i64>> {
    let mut out = Vec::new();
    for (title, description, category, return_class, skus) in items {
        let p = store
            .create_product(
                &NewProduct {
                    org,
                    title: title.to_string(),
                    description: description.to_string(),
                    category: *category,
                    return_class: *return_class,
                    currency,
                    sponsored: false,
                },
                now,
            )
            .await?;
        for (label, price, stock) in *skus {
            let sku = store.add_sku(p.id, label, *price, now).await?;
            for st in stores {
                store.set_stock(sku.id, *st, *stock).await?;
            }
        }
        out.push(p.id);
    }
    Ok(out)
}

/// Approved credentials of `org` for every regulated category among `items`, so the demo's
/// food and cosmetics can be shown and pinned. No document is on file (a seeded world has none
/// to show); the platform admin, when there is one, is recorded as the reviewer.
async fn approved_credentials(
    store: &dyn Store,
    org: OrgId,
    items: &[Item],
    uploader: &Account,
    now: UnixMillis,
) -> anyhow::Result<()> {
    let reviewer = match store
        .account_by_email(&Email::parse(crate::admin::ADMIN_EMAIL)?)
        .await?
    {
        Some(a) => a.id,
        None => uploader.id,
    };
    let mut done: Vec<Category> = Vec::new();
    for (_, _, category, _, _) in items {
        if !category.regulated() || done.contains(category) {
            continue;
        }
        done.push(*category);
        let c = store
            .add_credential(&NewCredential {
                org,
                category: *category,
                file: String::new(),
                content_type: "application/pdf".into(),
                valid_until: None,
                uploaded_by: uploader.id,
                uploaded_at: now,
            })
            .await?;
        store
            .review_credential(
                c.id,
                CredentialState::Pending,
                CredentialState::Approved,
                reviewer,
                Some("seeded with the demo world"),
                now,
            )
            .await?;
    }
    Ok(())
}

/// A one-person shop for the owner of `channel` (the fast-track farmer, the dealer).
pub async fn individual_shop(
    store: &dyn Store,
    owner: &Account,
    channel: ChannelId,
    name: &str,
    city: &str,
    business: bool,
) -> anyhow::Result<SeededOrg> {
    let now = UnixMillis::now();
    if let Some(m) = store.memberships(owner.id).await?.into_iter().next() {
        let stores = store.stores(m.org.id).await?.iter().map(|s| s.id).collect();
        let products = store
            .products_of_org(m.org.id)
            .await?
            .iter()
            .map(|p| p.id)
            .collect();
        return Ok(SeededOrg {
            org: m.org.id,
            stores,
            products,
        });
    }
    let kind = if business {
        OrgKind::Business
    } else {
        OrgKind::Individual
    };
    let org = store.create_org(name, kind, owner.id, now).await?;
    let st = store.create_store(org.id, "Main store", city, now).await?;
    store.set_channel_shop(channel, org.id, st.id).await?;
    let (items, currency) = if business {
        (AUTOHAUS_ITEMS, Currency::EUR)
    } else {
        (FARM_ITEMS, Currency::CNY)
    };
    let products = products(store, org.id, &[st.id], items, currency, now).await?;
    approved_credentials(store, org.id, items, owner, now).await?;
    Ok(SeededOrg {
        org: org.id,
        stores: vec![st.id],
        products,
    })
}

/// The department-store chain: `stores` locations, `clerks` staff streamers spread over them,
/// each with a channel selling from their store's stock. `lead` (if given) is the first clerk,
/// at the first store. Idempotent by e-mail and slug, so it can be re-run to grow a chain.
pub async fn department_store(
    store: &dyn Store,
    stores: usize,
    clerks: usize,
    lead: Option<(&Account, ChannelId)>,
    hash: &PasswordHash,
    progress: impl Fn(usize),
) -> anyhow::Result<SeededOrg> {
    anyhow::ensure!(
        stores >= 1 && clerks >= 1,
        "at least one store and one clerk"
    );
    let now = UnixMillis::now();
    let owner = account(
        store,
        "owner@intime.example",
        "Intime Retail",
        Role::Streamer,
        hash,
        now,
    )
    .await?;
    let org = match store.memberships(owner.id).await?.into_iter().next() {
        Some(m) => m.org,
        None => {
            store
                .create_org("Intime Department Stores", OrgKind::Business, owner.id, now)
                .await?
        }
    };
    let mut ids: Vec<StoreId> = store.stores(org.id).await?.iter().map(|s| s.id).collect();
    while ids.len() < stores {
        let i = ids.len();
        let city = CITIES[i % CITIES.len()];
        let name = if i < CITIES.len() {
            format!("Intime {city}")
        } else {
            format!("Intime {city} {}", i / CITIES.len() + 1)
        };
        ids.push(store.create_store(org.id, &name, city, now).await?.id);
    }
    let manager = account(
        store,
        "manager@intime.example",
        "Chen Jing",
        Role::Streamer,
        hash,
        now,
    )
    .await?;
    if store.membership(org.id, manager.id).await?.is_none() {
        store
            .add_member(org.id, manager.id, OrgRole::Manager, None, now)
            .await?;
    }
    let fulfil = account(
        store,
        "warehouse@intime.example",
        "Intime Warehouse",
        Role::Viewer,
        hash,
        now,
    )
    .await?;
    if store.membership(org.id, fulfil.id).await?.is_none() {
        store
            .add_member(org.id, fulfil.id, OrgRole::Fulfilment, None, now)
            .await?;
    }
    let mut products_ids: Vec<i64> = store
        .products_of_org(org.id)
        .await?
        .iter()
        .map(|p| p.id)
        .collect();
    if products_ids.is_empty() {
        products_ids = products(store, org.id, &ids, INTIME_ITEMS, Currency::CNY, now).await?;
        approved_credentials(store, org.id, INTIME_ITEMS, &owner, now).await?;
    }
    if let Some((a, ch)) = lead {
        if store.membership(org.id, a.id).await?.is_none() {
            store
                .add_member(org.id, a.id, OrgRole::StaffStreamer, Some(ids[0]), now)
                .await?;
        }
        store.set_channel_shop(ch, org.id, ids[0]).await?;
    }
    for i in 0..clerks {
        let email = format!("clerk{:04}@intime.example", i + 1);
        let clerk = account(
            store,
            &email,
            &format!("Clerk {:04}", i + 1),
            Role::Streamer,
            hash,
            now,
        )
        .await?;
        let at = ids[i % ids.len()];
        if store.membership(org.id, clerk.id).await?.is_none() {
            store
                .add_member(org.id, clerk.id, OrgRole::StaffStreamer, Some(at), now)
                .await?;
        }
        let slug = Slug::parse(&format!("intime-clerk-{:04}", i + 1))?;
        let ch = match store.channel_by_slug(&slug).await? {
            Some(c) => c,
            None => {
                store
                    .create_channel(NewChannel {
                        slug,
                        title: format!("Intime — Clerk {:04} at the counter", i + 1),
                        owner: clerk.id,
                        stream_key: StreamKey::generate(),
                        created_at: now,
                    })
                    .await?
            }
        };
        store.set_channel_shop(ch.id, org.id, at).await?;
        progress(i + 1);
    }
    Ok(SeededOrg {
        org: org.id,
        stores: ids,
        products: products_ids,
    })
}

/// Viewer accounts `buyer{n}@load.example` with a fresh 30-day session each; returns the
/// session tokens (cookie values), in order. For load tests and the crash test only.
pub async fn buyers(
    store: &dyn Store,
    count: usize,
    hash: &PasswordHash,
) -> anyhow::Result<Vec<String>> {
    let now = UnixMillis::now();
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let a = account(
            store,
            &format!("buyer{}@load.example", i + 1),
            &format!("Buyer {}", i + 1),
            Role::Viewer,
            hash,
            now,
        )
        .await?;
        let token = SessionToken::generate();
        store
            .create_session(a.id, &token.hash(), now.plus_ms(30 * 86_400_000))
            .await?;
        out.push(token.expose().to_string());
    }
    Ok(out)
}
