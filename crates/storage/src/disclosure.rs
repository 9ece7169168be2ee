//! Honesty of what is shown: each showcase entry's disclosure (sponsored, the host's statement of
//! use), virtual hosts, the paid label's repeats (one node wins each by compare-and-set),
//! sellers' credentials for regulated categories, and prize draws with their entries and
//! winners.
//!
//! Just over 800 lines: one trait's SQL for one concern (what a showcase discloses); its tests
//! are in `disclosure_tests.rs`.

use crate::{classify, Result, SqlStore, StorageError};
use async_trait::async_trait;
use hawker_commerce::catalog::Category;
use hawker_commerce::draw::EntryRoute;
use hawker_domain::{AccountId, ChannelId, Currency, Money, ShowId, UnixMillis};
use sqlx::any::AnyRow;
use sqlx::Row;

/// The stored disclosure of one product in one show's showcase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShowcaseEntry {
    pub show: ShowId,
    pub product: i64,
    pub sponsored: bool,
    pub sponsored_by: Option<AccountId>,
    pub host_used: bool,
    pub attested_at: Option<UnixMillis>,
    pub updated_at: UnixMillis,
}

/// A change to an entry: `None` leaves a field as it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EntryChange {
    pub sponsored: Option<bool>,
    pub host_used: Option<bool>,
}

/// A paid product pinned now in a live show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaidPin {
    pub show: ShowId,
    pub channel: ChannelId,
    pub product: i64,
    pub title: String,
    pub seller: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCredential {
    pub org: i64,
    pub category: Category,
    /// File name in the credentials directory.
    pub file: String,
    pub content_type: String,
    pub valid_until: Option<UnixMillis>,
    pub uploaded_by: AccountId,
    pub uploaded_at: UnixMillis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialState {
    Pending,
    Approved,
    Rejected,
    Revoked,
}

impl CredentialState {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialState::Pending => "pending",
            CredentialState::Approved => "approved",
            CredentialState::Rejected => "rejected",
            CredentialState::Revoked => "revoked",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => CredentialState::Pending,
            "approved" => CredentialState::Approved,
            "rejected" => CredentialState::Rejected,
            "revoked" => CredentialState::Revoked,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub id: i64,
    pub credential: NewCredential,
    pub state: CredentialState,
    pub reviewed_by: Option<AccountId>,
    pub reviewed_at: Option<UnixMillis>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDraw {
    pub show: ShowId,
    pub created_by: AccountId,
    pub prize_description: String,
    pub prize: Money,
    pub winners: u32,
    pub keyword: Option<String>,
    pub free_entry: bool,
    pub buyers_only: bool,
    /// The law profile it was created under.
    pub law: String,
    /// 64 hex digits; shown only once drawn.
    pub seed: String,
    /// SHA-256 of the seed, hex; public from the start.
    pub seed_commitment: String,
    pub created_at: UnixMillis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrawState {
    Open,
    /// Entries closed; keyword entries being collected and winners picked.
    Closing,
    Drawn,
    Cancelled,
}

impl DrawState {
    pub fn as_str(self) -> &'static str {
        match self {
            DrawState::Open => "open",
            DrawState::Closing => "closing",
            DrawState::Drawn => "drawn",
            DrawState::Cancelled => "cancelled",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "open" => DrawState::Open,
            "closing" => DrawState::Closing,
            "drawn" => DrawState::Drawn,
            "cancelled" => DrawState::Cancelled,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draw {
    pub id: i64,
    pub draw: NewDraw,
    pub state: DrawState,
    pub closed_at: Option<UnixMillis>,
    pub drawn_at: Option<UnixMillis>,
    pub algorithm: Option<String>,
    pub entrants: Option<i64>,
    pub entrants_digest: Option<String>,
    /// Account ids in the order drawn (empty until drawn).
    pub winners: Vec<AccountId>,
}

/// How an entry attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryOutcome {
    Entered,
    AlreadyEntered,
    /// The draw is not open (closed, drawn, cancelled) or does not exist.
    NotOpen,
}

/// The result of a draw, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrawResult {
    pub winners: Vec<AccountId>,
    pub entrants: i64,
    pub entrants_digest: String,
    pub algorithm: String,
    pub drawn_at: UnixMillis,
}

#[async_trait]
pub trait DisclosureStore: Send + Sync {
    /// Creates or changes an entry's disclosure; `by` is recorded for a change of `sponsored`.
    async fn set_showcase_entry(
        &self,
        show: ShowId,
        product: i64,
        change: EntryChange,
        by: AccountId,
        now: UnixMillis,
    ) -> Result<ShowcaseEntry>;
    async fn showcase_entries(&self, show: ShowId) -> Result<Vec<ShowcaseEntry>>;
    /// Products a paid slot of `show` books (any state but cancelled).
    async fn paid_slot_products(&self, show: ShowId) -> Result<Vec<i64>>;

    async fn set_virtual_host(&self, channel: ChannelId, on: bool) -> Result<()>;
    async fn virtual_host(&self, channel: ChannelId) -> Result<bool>;

    /// Paid products pinned now in live shows (a paid slot, a sponsored entry or product).
    async fn live_paid_pins(&self) -> Result<Vec<PaidPin>>;
    /// Records an announcement of the paid label at `now` unless one was made after
    /// `not_after`; true when this caller should announce.
    async fn claim_label_repeat(
        &self,
        show: ShowId,
        product: i64,
        now: UnixMillis,
        not_after: UnixMillis,
    ) -> Result<bool>;

    async fn add_credential(&self, c: &NewCredential) -> Result<Credential>;
    async fn credential(&self, id: i64) -> Result<Option<Credential>>;
    /// Newest first.
    async fn credentials_of_org(&self, org: i64) -> Result<Vec<Credential>>;
    /// Oldest first: the review queue.
    async fn credentials_in_state(
        &self,
        state: CredentialState,
        limit: i64,
    ) -> Result<Vec<Credential>>;
    /// Compare-and-set on the state; false when it was not `from`.
    async fn review_credential(
        &self,
        id: i64,
        from: CredentialState,
        to: CredentialState,
        by: AccountId,
        reason: Option<&str>,
        now: UnixMillis,
    ) -> Result<bool>;
    /// An approved credential of `org` for `category`, valid at `now`.
    async fn has_approved_credential(
        &self,
        org: i64,
        category: Category,
        now: UnixMillis,
    ) -> Result<bool>;

    async fn create_draw(&self, d: &NewDraw) -> Result<Draw>;
    async fn draw(&self, id: i64) -> Result<Option<Draw>>;
    /// Oldest first.
    async fn draws_of_show(&self, show: ShowId) -> Result<Vec<Draw>>;
    /// Enters `account` while the draw is open.
    async fn enter_draw(
        &self,
        id: i64,
        account: AccountId,
        route: EntryRoute,
        now: UnixMillis,
    ) -> Result<EntryOutcome>;
    async fn draw_entry_count(&self, id: i64) -> Result<i64>;
    /// Whether `account` entered, and how.
    async fn draw_entry(&self, id: i64, account: AccountId) -> Result<Option<EntryRoute>>;
    /// open → closing at `now` (entries stop); false when not open.
    async fn close_draw(&self, id: i64, now: UnixMillis) -> Result<bool>;
    /// open → cancelled; false when not open.
    async fn cancel_draw(&self, id: i64) -> Result<bool>;
    /// Enters the authors of the show's visible comments between `from` and `until` that
    /// contain `keyword` (case-insensitive for ASCII letters on both backends), only those
    /// with a paid order in the show when `buyers_only`; returns how many new entries.
    async fn add_keyword_entries(
        &self,
        id: i64,
        show: ShowId,
        keyword: &str,
        from: UnixMillis,
        until: UnixMillis,
        buyers_only: bool,
    ) -> Result<u64>;
    /// Entrants' account ids, ascending.
    async fn draw_entrants(&self, id: i64) -> Result<Vec<i64>>;
    /// closing → drawn with the winners, in one transaction; false when not closing.
    async fn complete_draw(&self, id: i64, r: &DrawResult) -> Result<bool>;
    /// A paid order of `account` in `show` (for buyers-only draws).
    async fn has_paid_order_in_show(&self, account: AccountId, show: ShowId) -> Result<bool>;
}

fn flag(b: bool) -> i64 {
    b as i64
}

fn ms(v: Option<i64>) -> Option<UnixMillis> {
    v.map(UnixMillis)
}

fn entry_from(r: &AnyRow) -> Result<ShowcaseEntry> {
    Ok(ShowcaseEntry {
        show: ShowId(r.try_get(0)?),
        product: r.try_get(1)?,
        sponsored: r.try_get::<i64, _>(2)? != 0,
        sponsored_by: r.try_get::<Option<i64>, _>(3)?.map(AccountId),
        host_used: r.try_get::<i64, _>(4)? != 0,
        attested_at: ms(r.try_get(5)?),
        updated_at: UnixMillis(r.try_get(6)?),
    })
}

const ENTRY_COLS: &str =
    "show_id, product_id, sponsored, sponsored_by, host_used, attested_at, updated_at";

const CREDENTIAL_COLS: &str = "id, org_id, category, file, content_type, valid_until, state, uploaded_by, uploaded_at, reviewed_by, reviewed_at, reason";

fn credential_from(r: &AnyRow) -> Result<Credential> {
    let cat: String = r.try_get(2)?;
    let st: String = r.try_get(6)?;
    Ok(Credential {
        id: r.try_get(0)?,
        credential: NewCredential {
            org: r.try_get(1)?,
            category: Category::parse(&cat)
                .ok_or_else(|| StorageError::Corrupt(format!("credential category {cat:?}")))?,
            file: r.try_get(3)?,
            content_type: r.try_get(4)?,
            valid_until: ms(r.try_get(5)?),
            uploaded_by: AccountId(r.try_get(7)?),
            uploaded_at: UnixMillis(r.try_get(8)?),
        },
        state: CredentialState::parse(&st)
            .ok_or_else(|| StorageError::Corrupt(format!("credential state {st:?}")))?,
        reviewed_by: r.try_get::<Option<i64>, _>(9)?.map(AccountId),
        reviewed_at: ms(r.try_get(10)?),
        reason: r.try_get(11)?,
    })
}

const DRAW_COLS: &str = "id, show_id, created_by, prize_description, prize_minor, currency, winners, keyword, free_entry, buyers_only, law, seed, seed_commitment, state, created_at, closed_at, drawn_at, algorithm, entrants, entrants_digest";

fn draw_from(r: &AnyRow) -> Result<Draw> {
    let c: String = r.try_get(5)?;
    let st: String = r.try_get(13)?;
    let currency =
        Currency::parse(&c).ok_or_else(|| StorageError::Corrupt(format!("currency {c:?}")))?;
    Ok(Draw {
        id: r.try_get(0)?,
        draw: NewDraw {
            show: ShowId(r.try_get(1)?),
            created_by: AccountId(r.try_get(2)?),
            prize_description: r.try_get(3)?,
            prize: Money::new(r.try_get(4)?, currency),
            winners: u32::try_from(r.try_get::<i64, _>(6)?)
                .map_err(|_| StorageError::Corrupt("draw winners".into()))?,
            keyword: r.try_get(7)?,
            free_entry: r.try_get::<i64, _>(8)? != 0,
            buyers_only: r.try_get::<i64, _>(9)? != 0,
            law: r.try_get(10)?,
            seed: r.try_get(11)?,
            seed_commitment: r.try_get(12)?,
            created_at: UnixMillis(r.try_get(14)?),
        },
        state: DrawState::parse(&st)
            .ok_or_else(|| StorageError::Corrupt(format!("draw state {st:?}")))?,
        closed_at: ms(r.try_get(15)?),
        drawn_at: ms(r.try_get(16)?),
        algorithm: r.try_get(17)?,
        entrants: r.try_get(18)?,
        entrants_digest: r.try_get(19)?,
        winners: Vec::new(),
    })
}

impl SqlStore {
    async fn with_winners(&self, mut d: Draw) -> Result<Draw> {
        if d.state == DrawState::Drawn {
            let rows = sqlx::query(
                "SELECT account_id FROM prize_draw_winners WHERE draw_id = $1 ORDER BY position",
            )
            .bind(d.id)
            .fetch_all(self.pool())
            .await?;
            d.winners = rows
                .iter()
                .map(|r| Ok(AccountId(r.try_get(0)?)))
                .collect::<Result<_>>()?;
        }
        Ok(d)
    }
}

#[async_trait]
impl DisclosureStore for SqlStore {
    async fn set_showcase_entry(
        &self,
        show: ShowId,
        product: i64,
        change: EntryChange,
        by: AccountId,
        now: UnixMillis,
    ) -> Result<ShowcaseEntry> {
        let mut tx = self.write_tx().await?;
        let old = sqlx::query(&format!(
            "SELECT {ENTRY_COLS} FROM showcase_disclosures WHERE show_id = $1 AND product_id = $2"
        ))
        .bind(show.0)
        .bind(product)
        .fetch_optional(&mut *tx)
        .await?;
        let old = old.as_ref().map(entry_from).transpose()?;
        let mut e = old.unwrap_or(ShowcaseEntry {
            show,
            product,
            sponsored: false,
            sponsored_by: None,
            host_used: false,
            attested_at: None,
            updated_at: now,
        });
        if let Some(s) = change.sponsored {
            if s != e.sponsored {
                e.sponsored = s;
                e.sponsored_by = Some(by);
            }
        }
        if let Some(u) = change.host_used {
            if u != e.host_used {
                e.host_used = u;
                e.attested_at = u.then_some(now);
            }
        }
        e.updated_at = now;
        sqlx::query(
            "INSERT INTO showcase_disclosures (show_id, product_id, sponsored, sponsored_by, host_used, attested_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (show_id, product_id) DO UPDATE SET \
             sponsored = excluded.sponsored, sponsored_by = excluded.sponsored_by, host_used = excluded.host_used, \
             attested_at = excluded.attested_at, updated_at = excluded.updated_at",
        )
        .bind(show.0)
        .bind(product)
        .bind(flag(e.sponsored))
        .bind(e.sponsored_by.map(|a| a.0))
        .bind(flag(e.host_used))
        .bind(e.attested_at.map(|t| t.0))
        .bind(now.0)
        .execute(&mut *tx)
        .await
        .map_err(|err| classify(err, "showcase entry", "show or product"))?;
        tx.commit().await?;
        Ok(e)
    }

    async fn showcase_entries(&self, show: ShowId) -> Result<Vec<ShowcaseEntry>> {
        let rows = sqlx::query(&format!(
            "SELECT {ENTRY_COLS} FROM showcase_disclosures WHERE show_id = $1 ORDER BY product_id"
        ))
        .bind(show.0)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(entry_from).collect()
    }

    async fn paid_slot_products(&self, show: ShowId) -> Result<Vec<i64>> {
        let rows = sqlx::query(
            "SELECT DISTINCT product_id FROM slots WHERE show_id = $1 AND state <> 'cancelled' ORDER BY product_id",
        )
        .bind(show.0)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    async fn set_virtual_host(&self, channel: ChannelId, on: bool) -> Result<()> {
        let r = sqlx::query("UPDATE channels SET virtual_host = $1 WHERE id = $2")
            .bind(flag(on))
            .bind(channel.0)
            .execute(self.pool())
            .await?;
        if r.rows_affected() == 0 {
            return Err(StorageError::NotFound { entity: "channel" });
        }
        Ok(())
    }

    async fn virtual_host(&self, channel: ChannelId) -> Result<bool> {
        let r = sqlx::query("SELECT virtual_host FROM channels WHERE id = $1")
            .bind(channel.0)
            .fetch_optional(self.pool())
            .await?;
        Ok(match r {
            Some(r) => r.try_get::<i64, _>(0)? != 0,
            None => false,
        })
    }

    async fn live_paid_pins(&self) -> Result<Vec<PaidPin>> {
        let rows = sqlx::query(
            "SELECT DISTINCT s.id, s.channel_id, p.id, p.title, o.name FROM pins pi \
             JOIN shows s ON s.id = pi.show_id AND s.state = 'live' \
             JOIN products p ON p.id = pi.product_id \
             JOIN organisations o ON o.id = p.org_id \
             LEFT JOIN showcase_disclosures d ON d.show_id = pi.show_id AND d.product_id = pi.product_id \
             WHERE pi.unpinned_at IS NULL AND (p.sponsored = 1 OR d.sponsored = 1 OR EXISTS \
               (SELECT 1 FROM slots sl WHERE sl.show_id = pi.show_id AND sl.product_id = pi.product_id AND sl.state <> 'cancelled')) \
             ORDER BY s.id, p.id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PaidPin {
                    show: ShowId(r.try_get(0)?),
                    channel: ChannelId(r.try_get(1)?),
                    product: r.try_get(2)?,
                    title: r.try_get(3)?,
                    seller: r.try_get(4)?,
                })
            })
            .collect()
    }

    async fn claim_label_repeat(
        &self,
        show: ShowId,
        product: i64,
        now: UnixMillis,
        not_after: UnixMillis,
    ) -> Result<bool> {
        let r = sqlx::query(
            "INSERT INTO paid_label_repeats (show_id, product_id, announced_at) VALUES ($1, $2, $3) \
             ON CONFLICT (show_id, product_id) DO UPDATE SET announced_at = excluded.announced_at \
             WHERE paid_label_repeats.announced_at <= $4",
        )
        .bind(show.0)
        .bind(product)
        .bind(now.0)
        .bind(not_after.0)
        .execute(self.pool())
        .await
        .map_err(|e| classify(e, "label repeat", "show or product"))?;
        Ok(r.rows_affected() == 1)
    }

    async fn add_credential(&self, c: &NewCredential) -> Result<Credential> {
        let r = sqlx::query(&format!(
            "INSERT INTO credentials (org_id, category, file, content_type, valid_until, state, uploaded_by, uploaded_at) \
             VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7) RETURNING {CREDENTIAL_COLS}"
        ))
        .bind(c.org)
        .bind(c.category.as_str())
        .bind(c.file.as_str())
        .bind(c.content_type.as_str())
        .bind(c.valid_until.map(|t| t.0))
        .bind(c.uploaded_by.0)
        .bind(c.uploaded_at.0)
        .fetch_one(self.pool())
        .await
        .map_err(|e| classify(e, "credential", "organisation or account"))?;
        credential_from(&r)
    }

    async fn credential(&self, id: i64) -> Result<Option<Credential>> {
        let r = sqlx::query(&format!(
            "SELECT {CREDENTIAL_COLS} FROM credentials WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(credential_from).transpose()
    }

    async fn credentials_of_org(&self, org: i64) -> Result<Vec<Credential>> {
        let rows = sqlx::query(&format!(
            "SELECT {CREDENTIAL_COLS} FROM credentials WHERE org_id = $1 ORDER BY id DESC"
        ))
        .bind(org)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(credential_from).collect()
    }

    async fn credentials_in_state(
        &self,
        state: CredentialState,
        limit: i64,
    ) -> Result<Vec<Credential>> {
        let rows = sqlx::query(&format!(
            "SELECT {CREDENTIAL_COLS} FROM credentials WHERE state = $1 ORDER BY uploaded_at, id LIMIT $2"
        ))
        .bind(state.as_str())
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(credential_from).collect()
    }

    async fn review_credential(
        &self,
        id: i64,
        from: CredentialState,
        to: CredentialState,
        by: AccountId,
        reason: Option<&str>,
        now: UnixMillis,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE credentials SET state = $1, reviewed_by = $2, reviewed_at = $3, reason = $4 WHERE id = $5 AND state = $6",
        )
        .bind(to.as_str())
        .bind(by.0)
        .bind(now.0)
        .bind(reason)
        .bind(id)
        .bind(from.as_str())
        .execute(self.pool())
        .await
        .map_err(|e| classify(e, "credential", "account"))?;
        Ok(r.rows_affected() == 1)
    }

    async fn has_approved_credential(
        &self,
        org: i64,
        category: Category,
        now: UnixMillis,
    ) -> Result<bool> {
        let r = sqlx::query(
            "SELECT 1 FROM credentials WHERE org_id = $1 AND category = $2 AND state = 'approved' \
             AND (valid_until IS NULL OR valid_until > $3) LIMIT 1",
        )
        .bind(org)
        .bind(category.as_str())
        .bind(now.0)
        .fetch_optional(self.pool())
        .await?;
        Ok(r.is_some())
    }

    async fn create_draw(&self, d: &NewDraw) -> Result<Draw> {
        let r = sqlx::query(&format!(
            "INSERT INTO prize_draws (show_id, created_by, prize_description, prize_minor, currency, winners, keyword, free_entry, buyers_only, law, seed, seed_commitment, state, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'open', $13) RETURNING {DRAW_COLS}"
        ))
        .bind(d.show.0)
        .bind(d.created_by.0)
        .bind(d.prize_description.as_str())
        .bind(d.prize.minor)
        .bind(d.prize.currency.as_str())
        .bind(d.winners as i64)
        .bind(d.keyword.as_deref())
        .bind(flag(d.free_entry))
        .bind(flag(d.buyers_only))
        .bind(d.law.as_str())
        .bind(d.seed.as_str())
        .bind(d.seed_commitment.as_str())
        .bind(d.created_at.0)
        .fetch_one(self.pool())
        .await
        .map_err(|e| classify(e, "prize draw", "show or account"))?;
        draw_from(&r)
    }

    async fn draw(&self, id: i64) -> Result<Option<Draw>> {
        let r = sqlx::query(&format!(
            "SELECT {DRAW_COLS} FROM prize_draws WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        match r {
            Some(r) => Ok(Some(self.with_winners(draw_from(&r)?).await?)),
            None => Ok(None),
        }
    }

    async fn draws_of_show(&self, show: ShowId) -> Result<Vec<Draw>> {
        let rows = sqlx::query(&format!(
            "SELECT {DRAW_COLS} FROM prize_draws WHERE show_id = $1 ORDER BY id"
        ))
        .bind(show.0)
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(self.with_winners(draw_from(r)?).await?);
        }
        Ok(out)
    }

    async fn enter_draw(
        &self,
        id: i64,
        account: AccountId,
        route: EntryRoute,
        now: UnixMillis,
    ) -> Result<EntryOutcome> {
        let r = sqlx::query(
            "INSERT INTO prize_draw_entries (draw_id, account_id, route, entered_at) \
             SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM prize_draws WHERE id = $1 AND state = 'open') \
             ON CONFLICT (draw_id, account_id) DO NOTHING",
        )
        .bind(id)
        .bind(account.0)
        .bind(route.as_str())
        .bind(now.0)
        .execute(self.pool())
        .await
        .map_err(|e| classify(e, "draw entry", "draw or account"))?;
        if r.rows_affected() == 1 {
            return Ok(EntryOutcome::Entered);
        }
        let open = sqlx::query("SELECT state FROM prize_draws WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .map(|r| r.try_get::<String, _>(0))
            .transpose()?;
        Ok(match open.as_deref() {
            Some("open") => EntryOutcome::AlreadyEntered,
            _ => EntryOutcome::NotOpen,
        })
    }

    async fn draw_entry_count(&self, id: i64) -> Result<i64> {
        let r = sqlx::query("SELECT COUNT(*) FROM prize_draw_entries WHERE draw_id = $1")
            .bind(id)
            .fetch_one(self.pool())
            .await?;
        Ok(r.try_get(0)?)
    }

    async fn draw_entry(&self, id: i64, account: AccountId) -> Result<Option<EntryRoute>> {
        let r = sqlx::query(
            "SELECT route FROM prize_draw_entries WHERE draw_id = $1 AND account_id = $2",
        )
        .bind(id)
        .bind(account.0)
        .fetch_optional(self.pool())
        .await?;
        match r {
            Some(r) => {
                let s: String = r.try_get(0)?;
                Ok(Some(EntryRoute::parse(&s).ok_or_else(|| {
                    StorageError::Corrupt(format!("entry route {s:?}"))
                })?))
            }
            None => Ok(None),
        }
    }

    async fn close_draw(&self, id: i64, now: UnixMillis) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE prize_draws SET state = 'closing', closed_at = $1 WHERE id = $2 AND state = 'open'",
        )
        .bind(now.0)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn cancel_draw(&self, id: i64) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE prize_draws SET state = 'cancelled' WHERE id = $1 AND state = 'open'",
        )
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn add_keyword_entries(
        &self,
        id: i64,
        show: ShowId,
        keyword: &str,
        from: UnixMillis,
        until: UnixMillis,
        buyers_only: bool,
    ) -> Result<u64> {
        // The keyword holds no LIKE wildcards (the domain refuses % and _).
        let pattern = format!("%{}%", keyword.to_lowercase());
        let r = sqlx::query(
            "INSERT INTO prize_draw_entries (draw_id, account_id, route, entered_at) \
             SELECT $1, c.account_id, 'keyword', MIN(c.at) FROM comments c \
             WHERE c.show_id = $2 AND c.at >= $3 AND c.at <= $4 AND c.shadow = 0 AND c.deleted_reason IS NULL \
             AND lower(c.text) LIKE $5 \
             AND EXISTS (SELECT 1 FROM accounts a WHERE a.id = c.account_id) \
             AND ($6 = 0 OR EXISTS (SELECT 1 FROM orders o WHERE o.buyer_id = c.account_id AND o.show_id = $2 \
                  AND EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id AND p.state = 'succeeded'))) \
             GROUP BY c.account_id \
             ON CONFLICT (draw_id, account_id) DO NOTHING",
        )
        .bind(id)
        .bind(show.0)
        .bind(from.0)
        .bind(until.0)
        .bind(pattern)
        .bind(flag(buyers_only))
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected())
    }

    async fn draw_entrants(&self, id: i64) -> Result<Vec<i64>> {
        let rows = sqlx::query(
            "SELECT account_id FROM prize_draw_entries WHERE draw_id = $1 ORDER BY account_id",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    async fn complete_draw(&self, id: i64, r: &DrawResult) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE prize_draws SET state = 'drawn', drawn_at = $1, algorithm = $2, entrants = $3, entrants_digest = $4 \
             WHERE id = $5 AND state = 'closing'",
        )
        .bind(r.drawn_at.0)
        .bind(r.algorithm.as_str())
        .bind(r.entrants)
        .bind(r.entrants_digest.as_str())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        for (i, w) in r.winners.iter().enumerate() {
            sqlx::query(
                "INSERT INTO prize_draw_winners (draw_id, position, account_id) VALUES ($1, $2, $3)",
            )
            .bind(id)
            .bind(i as i64)
            .bind(w.0)
            .execute(&mut *tx)
            .await
            .map_err(|e| classify(e, "draw winner", "account"))?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn has_paid_order_in_show(&self, account: AccountId, show: ShowId) -> Result<bool> {
        let r = sqlx::query(
            "SELECT 1 FROM orders o WHERE o.buyer_id = $1 AND o.show_id = $2 \
             AND EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id AND p.state = 'succeeded') LIMIT 1",
        )
        .bind(account.0)
        .bind(show.0)
        .fetch_optional(self.pool())
        .await?;
        Ok(r.is_some())
    }
}

#[cfg(test)]
#[path = "disclosure_tests.rs"]
mod tests;
