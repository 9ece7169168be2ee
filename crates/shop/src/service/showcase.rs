//! The showcase: a show's shelf and the products pinned in its room (three at most, the oldest
//! making way), what each card discloses (paid promotion — a paid slot, a sponsored entry or
//! product — and the host's statement of use, theirs alone to make), the paid-promotion label
//! the room hears when a paid product is pinned in a live show, and the credential a regulated
//! category needs before a product is shown or pinned. A co-host on air makes their own
//! statement of use, which the cards carry beside the host's while they are on. The room hears
//! through `ShopEvents`.

use super::{invalid, Shop, ShopError};
use hawker_commerce::disclosure::{CardDisclosure, DisclosureRules, ShowcaseFacts};
use hawker_commerce::org::OrgRole;
use hawker_domain::{
    Account, AccountId, Channel, Money, Role, Show, ShowId, ShowState, UnixMillis,
};
use hawker_storage::disclosure::{EntryChange, ShowcaseEntry};
use hawker_storage::shop::Product;
use std::collections::{HashMap, HashSet};

/// Products on one shelf at most.
const MAX_SHELF: usize = 100;
/// Products highlighted in the room at once.
const MAX_PINNED: usize = 3;

/// One item of a shelf being set: the product, and what its card should say (`None` leaves a
/// field as it is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShelfEntry {
    pub product: i64,
    pub change: EntryChange,
}

/// A show's shelf in order, each product with what its card discloses.
#[derive(Debug, Clone)]
pub struct Shelf {
    /// The store the channel sells from (whose stock the cards show), if any.
    pub store: Option<i64>,
    pub cards: Vec<ShelfCard>,
}

#[derive(Debug, Clone)]
pub struct ShelfCard {
    pub product: Product,
    pub disclosure: CardDisclosure,
    /// The showcase entry itself is marked sponsored (one of the reasons for paid promotion).
    pub showcase_sponsored: bool,
}

/// A product pinned in the room, as its card shows it.
#[derive(Debug, Clone)]
pub struct PinnedCard {
    pub product: i64,
    pub title: String,
    /// The lowest of its SKUs' prices.
    pub price: Money,
    /// The organisation that sells it (seller of record).
    pub seller: String,
    /// Its first image.
    pub image: Option<i64>,
    pub disclosure: CardDisclosure,
}

/// A showcase entry after a change, with what its card now discloses.
#[derive(Debug, Clone)]
pub struct EntryDisclosure {
    pub entry: ShowcaseEntry,
    pub disclosure: CardDisclosure,
}

/// What the cards of one show disclose.
struct Disclosures {
    rules: DisclosureRules,
    entries: HashMap<i64, ShowcaseEntry>,
    slots: HashSet<i64>,
    /// The guest on air now, with the products they stated having used.
    co_host: Option<(AccountId, HashSet<i64>)>,
}

impl Disclosures {
    fn card(&self, p: &Product) -> CardDisclosure {
        let e = self.entries.get(&p.id);
        self.rules.card(&ShowcaseFacts {
            paid_slot: self.slots.contains(&p.id),
            sponsored_entry: e.is_some_and(|e| e.sponsored),
            sponsored_product: p.sponsored,
            host_used: e.is_some_and(|e| e.host_used),
            co_host_used: self.co_host.as_ref().map(|(_, used)| used.contains(&p.id)),
        })
    }

    fn entry_sponsored(&self, product: i64) -> bool {
        self.entries.get(&product).is_some_and(|e| e.sponsored)
    }
}

/// Only the host may state having used a product: it is their own word.
fn check_attestation(who: &Account, c: &Channel, change: &EntryChange) -> Result<(), ShopError> {
    if change.host_used.is_some() && who.id != c.owner {
        return Err(ShopError::Forbidden(
            "only the host may state having used a product",
        ));
    }
    Ok(())
}

impl Shop {
    /// Host, a moderator with the pin right, or a platform admin.
    async fn may_pin(&self, who: &Account, c: &Channel) -> Result<(), ShopError> {
        if who.id == c.owner || who.role == Role::PlatformAdmin {
            return Ok(());
        }
        match self
            .store
            .moderator_rights(c.id, who.id)
            .await
            .map_err(ShopError::Storage)?
        {
            Some(r) if r.pin => Ok(()),
            _ => Err(ShopError::Forbidden(
                "the host and moderators with the pin right manage the shelf",
            )),
        }
    }

    async fn product_or_404(&self, id: i64) -> Result<Product, ShopError> {
        self.store
            .product(id)
            .await
            .map_err(ShopError::Storage)?
            .ok_or(ShopError::NotFound("product"))
    }

    async fn on_shelf(&self, show: ShowId, product: i64) -> Result<bool, ShopError> {
        Ok(self
            .store
            .shelf(show)
            .await
            .map_err(ShopError::Storage)?
            .contains(&product))
    }

    /// The guest on air in `show` now (the latest to join, should two overlap).
    async fn co_host_on_air(&self, show: ShowId) -> Result<Option<AccountId>, ShopError> {
        Ok(self
            .store
            .co_hosts_of_show(show)
            .await
            .map_err(ShopError::Storage)?
            .into_iter()
            .filter(|v| v.left_at.is_none())
            .max_by_key(|v| v.joined_at)
            .map(|v| v.account))
    }

    async fn disclosures(&self, show: ShowId) -> Result<Disclosures, ShopError> {
        let store = &self.store;
        let co_host = match self.co_host_on_air(show).await? {
            Some(guest) => {
                let said = store
                    .co_host_statements(show)
                    .await
                    .map_err(ShopError::Storage)?
                    .into_iter()
                    .filter(|s| s.account == guest)
                    .map(|s| s.product)
                    .collect();
                Some((guest, said))
            }
            None => None,
        };
        Ok(Disclosures {
            co_host,
            rules: self.cfg.law.disclosure.clone(),
            entries: store
                .showcase_entries(show)
                .await
                .map_err(ShopError::Storage)?
                .into_iter()
                .map(|e| (e.product, e))
                .collect(),
            slots: store
                .paid_slot_products(show)
                .await
                .map_err(ShopError::Storage)?
                .into_iter()
                .collect(),
        })
    }

    /// Sets a show's shelf (the host, a moderator with the pin right, an admin): at most 100
    /// products, each once, each existing; a regulated one only with its seller's approved
    /// credential; the host's statement of use only from the host. Entries that say something
    /// are recorded, and the room's cards follow.
    pub async fn set_shelf(
        &self,
        who: &Account,
        show: ShowId,
        items: &[ShelfEntry],
    ) -> Result<(), ShopError> {
        let (s, c) = self.show_and_channel(show).await?;
        self.may_pin(who, &c).await?;
        let ids: Vec<i64> = items.iter().map(|i| i.product).collect();
        if ids.len() > MAX_SHELF {
            return Err(invalid("products", "a shelf holds at most 100"));
        }
        let mut seen = HashSet::new();
        if !ids.iter().all(|p| seen.insert(*p)) {
            return Err(invalid("products", "each product once"));
        }
        let mut products = Vec::with_capacity(ids.len());
        for p in &ids {
            products.push(self.product_or_404(*p).await?);
        }
        self.require_credentials(&products).await?;
        for i in items {
            check_attestation(who, &c, &i.change)?;
        }
        self.store
            .set_shelf(s.id, &ids)
            .await
            .map_err(ShopError::Storage)?;
        let now = UnixMillis::now();
        let mut changed = false;
        for i in items.iter().filter(|i| i.change != EntryChange::default()) {
            self.store
                .set_showcase_entry(s.id, i.product, i.change, who.id, now)
                .await
                .map_err(ShopError::Storage)?;
            changed = true;
        }
        if changed {
            self.refresh_pins(&s, &c).await?;
        }
        Ok(())
    }

    /// A show's shelf, each product with its card's disclosure.
    pub async fn shelf(&self, show: ShowId) -> Result<Shelf, ShopError> {
        let (s, c) = self.show_and_channel(show).await?;
        let store = &self.store;
        let shop = store.channel_shop(c.id).await.map_err(ShopError::Storage)?;
        let d = self.disclosures(s.id).await?;
        let mut cards = Vec::new();
        for id in store.shelf(s.id).await.map_err(ShopError::Storage)? {
            if let Some(p) = store.product(id).await.map_err(ShopError::Storage)? {
                cards.push(ShelfCard {
                    disclosure: d.card(&p),
                    showcase_sponsored: d.entry_sponsored(p.id),
                    product: p,
                });
            }
        }
        Ok(Shelf {
            store: shop.map(|(_, st)| st),
            cards,
        })
    }

    /// The products pinned in a show now, newest first (three at most).
    pub async fn pinned_cards(&self, show: &Show) -> Result<Vec<PinnedCard>, ShopError> {
        let store = &self.store;
        let d = self.disclosures(show.id).await?;
        let mut current: Vec<i64> = Vec::new();
        for p in store.pins(show.id).await.map_err(ShopError::Storage)? {
            if p.unpinned_at.is_none() && !current.contains(&p.product) {
                current.push(p.product);
            }
        }
        let mut out = Vec::new();
        for id in current.iter().rev().take(MAX_PINNED) {
            let Some(p) = store.product(*id).await.map_err(ShopError::Storage)? else {
                continue;
            };
            let seller = store
                .org(p.org)
                .await
                .map_err(ShopError::Storage)?
                .ok_or(ShopError::NotFound("seller"))?;
            let skus = store
                .skus_of_product(p.id)
                .await
                .map_err(ShopError::Storage)?;
            let low = skus.iter().map(|s| s.price_minor).min().unwrap_or(0);
            let images = store.images(p.id).await.map_err(ShopError::Storage)?;
            out.push(PinnedCard {
                product: p.id,
                title: p.title.clone(),
                price: Money::new(low, p.currency),
                seller: seller.name,
                image: images.first().map(|(id, _, _)| *id),
                disclosure: d.card(&p),
            });
        }
        Ok(out)
    }

    /// The room shows the pinned cards as they are now; answers them.
    async fn show_pins(&self, s: &Show, c: &Channel) -> Result<Vec<PinnedCard>, ShopError> {
        let cards = self.pinned_cards(s).await?;
        self.events.pinned(c, &cards).await.map_err(|e| {
            tracing::error!(channel = %c.slug, error = %e, "pinned cards not shown in the room");
            ShopError::Internal("the room did not take the pins")
        })?;
        Ok(cards)
    }

    /// The room hears the pinned cards again (after a disclosure changed), if any is pinned.
    async fn refresh_pins(&self, s: &Show, c: &Channel) -> Result<(), ShopError> {
        let pins = self.store.pins(s.id).await.map_err(ShopError::Storage)?;
        if pins.iter().any(|p| p.unpinned_at.is_none()) {
            self.show_pins(s, c).await?;
        }
        Ok(())
    }

    /// Pins a product of the shelf: recorded with its time in the show and shown to every
    /// viewer at once; the oldest of three pins makes way. A paid product's label is heard in
    /// a live room at once (where the profile repeats it).
    pub async fn pin(
        &self,
        who: &Account,
        show: ShowId,
        product: i64,
    ) -> Result<Vec<PinnedCard>, ShopError> {
        let (s, c) = self.show_and_channel(show).await?;
        self.may_pin(who, &c).await?;
        if !self.on_shelf(s.id, product).await? {
            return Err(invalid("product", "put it on the show's shelf first"));
        }
        let p = self.product_or_404(product).await?;
        self.require_credentials(std::slice::from_ref(&p)).await?;
        let now = UnixMillis::now();
        let offset = s.started_at.map_or(0, |t| now.0 - t.0);
        let store = &self.store;
        let live: Vec<i64> = store
            .pins(s.id)
            .await
            .map_err(ShopError::Storage)?
            .into_iter()
            .filter(|p| p.unpinned_at.is_none())
            .map(|p| p.product)
            .collect();
        if live.len() >= MAX_PINNED {
            store
                .unpin(s.id, live[0], now)
                .await
                .map_err(ShopError::Storage)?;
        }
        store
            .pin(s.id, product, now, offset)
            .await
            .map_err(ShopError::Storage)?;
        let cards = self.show_pins(&s, &c).await?;
        self.announce_if_paid(&s, &c, &p).await?;
        Ok(cards)
    }

    /// Takes a pin down; the room's cards follow.
    pub async fn unpin(
        &self,
        who: &Account,
        show: ShowId,
        product: i64,
    ) -> Result<Vec<PinnedCard>, ShopError> {
        let (s, c) = self.show_and_channel(show).await?;
        self.may_pin(who, &c).await?;
        if !self
            .store
            .unpin(s.id, product, UnixMillis::now())
            .await
            .map_err(ShopError::Storage)?
        {
            return Err(ShopError::NotFound("pin"));
        }
        self.show_pins(&s, &c).await
    }

    /// Changes one showcase entry's disclosure: `sponsored` by the host, a moderator with the
    /// pin right, an admin or the seller's catalog managers; `host_used` by the host alone. A
    /// pinned product that becomes sponsored has its label heard at once.
    pub async fn set_showcase_entry(
        &self,
        who: &Account,
        show: ShowId,
        product: i64,
        change: EntryChange,
    ) -> Result<EntryDisclosure, ShopError> {
        let (s, c) = self.show_and_channel(show).await?;
        let p = self.product_or_404(product).await?;
        if !self.on_shelf(s.id, p.id).await? {
            return Err(ShopError::NotFound("showcase entry"));
        }
        check_attestation(who, &c, &change)?;
        if change.sponsored.is_some()
            && self.may_pin(who, &c).await.is_err()
            && self
                .staff(who, p.org, OrgRole::manages_catalog)
                .await
                .is_err()
        {
            return Err(ShopError::Forbidden(
                "the host, moderators with the pin right and the seller's catalog managers mark paid promotion",
            ));
        }
        let entry = self
            .store
            .set_showcase_entry(s.id, p.id, change, who.id, UnixMillis::now())
            .await
            .map_err(ShopError::Storage)?;
        self.refresh_pins(&s, &c).await?;
        if change.sponsored == Some(true) {
            let pinned_now = self
                .store
                .pins(s.id)
                .await
                .map_err(ShopError::Storage)?
                .iter()
                .any(|x| x.product == p.id && x.unpinned_at.is_none());
            if pinned_now {
                self.announce_if_paid(&s, &c, &p).await?;
            }
        }
        let disclosure = self.disclosures(s.id).await?.card(&p);
        Ok(EntryDisclosure { entry, disclosure })
    }

    /// A guest is on air in the channel's live show now (`Some`), or no guest is (`None`):
    /// kept with the show (who appeared, from when to when), and the pinned cards carry the
    /// guest's own statements while they are on. Nothing to keep when no show is live.
    pub async fn co_host_on_air_changed(
        &self,
        channel: &Channel,
        guest: Option<AccountId>,
    ) -> Result<(), ShopError> {
        let store = &self.store;
        let Some(s) = store
            .live_show_of_channel(channel.id)
            .await
            .map_err(ShopError::Storage)?
        else {
            return Ok(());
        };
        let now = UnixMillis::now();
        store
            .co_hosts_left(s.id, now)
            .await
            .map_err(ShopError::Storage)?;
        if let Some(g) = guest {
            store
                .co_host_joined(s.id, g, now)
                .await
                .map_err(ShopError::Storage)?;
        }
        self.refresh_pins(&s, channel).await
    }

    /// The co-host on air states (or withdraws) having used a product of the show's shelf.
    /// Theirs alone to make, as the host's is the host's: nobody states it for them.
    pub async fn set_co_host_statement(
        &self,
        who: &Account,
        show: ShowId,
        product: i64,
        used: bool,
    ) -> Result<CardDisclosure, ShopError> {
        let (s, c) = self.show_and_channel(show).await?;
        if s.state != ShowState::Live || self.co_host_on_air(s.id).await? != Some(who.id) {
            return Err(ShopError::Forbidden(
                "only the co-host on air in this show states their own use of a product",
            ));
        }
        let p = self.product_or_404(product).await?;
        if !self.on_shelf(s.id, p.id).await? {
            return Err(ShopError::NotFound("showcase entry"));
        }
        self.store
            .set_co_host_statement(s.id, p.id, who.id, used, UnixMillis::now())
            .await
            .map_err(ShopError::Storage)?;
        self.refresh_pins(&s, &c).await?;
        Ok(self.disclosures(s.id).await?.card(&p))
    }

    /// When a paid product has just been pinned (or become paid while pinned) in a live show:
    /// the room hears the label at once, where the profile repeats it (one node per repeat).
    async fn announce_if_paid(&self, s: &Show, c: &Channel, p: &Product) -> Result<(), ShopError> {
        let d = self.disclosures(s.id).await?;
        if !d.card(p).paid_promotion || !d.rules.repeats() || s.state != ShowState::Live {
            return Ok(());
        }
        let store = &self.store;
        let seller = store
            .org(p.org)
            .await
            .map_err(ShopError::Storage)?
            .map(|o| o.name)
            .unwrap_or_default();
        let now = UnixMillis::now();
        if store
            .claim_label_repeat(s.id, p.id, now, now)
            .await
            .map_err(ShopError::Storage)?
        {
            self.events.paid_label(c, &d.rules, &p.title, &seller).await;
        }
        Ok(())
    }

    /// The gate before a showcase or a pin: every product in a regulated category needs an
    /// approved, unexpired credential of its organisation for that category.
    async fn require_credentials(&self, products: &[Product]) -> Result<(), ShopError> {
        let now = UnixMillis::now();
        for p in products {
            if p.category.regulated()
                && !self
                    .store
                    .has_approved_credential(p.org, p.category, now)
                    .await
                    .map_err(ShopError::Storage)?
            {
                let seller = self
                    .store
                    .org(p.org)
                    .await
                    .map_err(ShopError::Storage)?
                    .map(|o| o.name)
                    .unwrap_or_else(|| "the seller".into());
                return Err(ShopError::CredentialRequired {
                    product: p.title.clone(),
                    category: p.category.as_str(),
                    seller,
                });
            }
        }
        Ok(())
    }
}
