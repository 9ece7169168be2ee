//! Persistence behind interfaces. One SQL dialect runs on both backends through sqlx's `Any`
//! driver: SQLite (a file in the data directory, WAL) by default, PostgreSQL when the URL says
//! `postgres://`. Times are BIGINT Unix milliseconds and flags BIGINT 0/1, so both agree to the
//! bit. DDL differs only in how ids are generated, hence two migration folders.
//!
//! Invariants the schema enforces, whichever node writes: e-mails, slugs and stream keys are
//! unique; a channel has at most one live show (partial unique index).

pub mod co_hosts;
pub mod defects;
pub mod disclosure;
pub mod gifts;
mod journal;
pub mod leads;
pub mod ledger;
pub mod retention;
mod room;
mod rows;
pub mod shop;
pub mod slots;
mod sql;
pub mod terms;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod trust;
pub mod webhooks;

use async_trait::async_trait;
use hawker_domain::{
    Account, AccountId, Channel, ChannelId, Email, Role, Show, ShowId, ShowState, Slug, StreamKey,
    TokenHash, UnixMillis,
};
use hawker_domain::{DisplayName, PasswordHash};
use rows::{AccountRow, ChannelRow, RecordingRow, ShowRow};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};
use std::path::Path;
use std::time::Duration;

pub type Result<T> = std::result::Result<T, StorageError>;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("{entity} already exists")]
    Conflict { entity: &'static str },
    #[error("{entity} not found")]
    NotFound { entity: &'static str },
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database: {0}")]
    Embedded(#[from] rusqlite::Error),
}

/// Maps unique and foreign-key violations, which both backends report alike through sqlx.
pub(crate) fn classify(
    e: sqlx::Error,
    entity: &'static str,
    referenced: &'static str,
) -> StorageError {
    if let sqlx::Error::Database(db) = &e {
        if db.is_unique_violation() {
            return StorageError::Conflict { entity };
        }
        if db.is_foreign_key_violation() {
            return StorageError::NotFound { entity: referenced };
        }
    }
    StorageError::Database(e)
}

pub struct NewAccount {
    pub email: Email,
    pub display_name: DisplayName,
    pub password: PasswordHash,
    pub role: Role,
    pub created_at: UnixMillis,
}

pub struct NewChannel {
    pub slug: Slug,
    pub title: String,
    pub owner: AccountId,
    pub stream_key: StreamKey,
    pub created_at: UnixMillis,
}

pub struct NewShow {
    pub channel: ChannelId,
    pub title: String,
    pub state: ShowState,
    pub scheduled_at: Option<UnixMillis>,
    pub started_at: Option<UnixMillis>,
}

/// Where a show's recording lives and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    pub show: ShowId,
    pub dir: String,
    pub bytes: i64,
    pub duration_ms: i64,
    pub segments: i64,
    /// The show ended and the playlist carries EXT-X-ENDLIST.
    pub complete: bool,
    pub updated_at: UnixMillis,
}

#[async_trait]
pub trait AccountStore: Send + Sync {
    async fn create_account(&self, new: NewAccount) -> Result<Account>;
    async fn account(&self, id: AccountId) -> Result<Option<Account>>;
    async fn account_by_email(&self, email: &Email) -> Result<Option<Account>>;
    async fn set_role(&self, id: AccountId, role: Role) -> Result<()>;
    async fn count_accounts(&self) -> Result<i64>;
    async fn create_session(
        &self,
        account: AccountId,
        token: &TokenHash,
        expires_at: UnixMillis,
    ) -> Result<()>;
    /// None when the session is unknown or expired.
    async fn session_account(&self, token: &TokenHash, now: UnixMillis) -> Result<Option<Account>>;
    async fn delete_session(&self, token: &TokenHash) -> Result<()>;
    async fn delete_expired_sessions(&self, now: UnixMillis) -> Result<u64>;
    async fn create_api_token(
        &self,
        account: AccountId,
        token: &TokenHash,
        label: &str,
        now: UnixMillis,
    ) -> Result<()>;
    async fn api_token_account(&self, token: &TokenHash) -> Result<Option<Account>>;
}

#[async_trait]
pub trait ChannelStore: Send + Sync {
    async fn create_channel(&self, new: NewChannel) -> Result<Channel>;
    async fn channel(&self, id: ChannelId) -> Result<Option<Channel>>;
    async fn channel_by_slug(&self, slug: &Slug) -> Result<Option<Channel>>;
    async fn channel_by_stream_key(&self, key: &StreamKey) -> Result<Option<Channel>>;
    async fn channels_owned_by(&self, owner: AccountId) -> Result<Vec<Channel>>;
    /// Ordered by id.
    async fn list_channels(&self, limit: i64, offset: i64) -> Result<Vec<Channel>>;
    async fn rotate_stream_key(&self, id: ChannelId, key: &StreamKey) -> Result<()>;
}

#[async_trait]
pub trait ShowStore: Send + Sync {
    async fn create_show(&self, new: NewShow) -> Result<Show>;
    async fn show(&self, id: ShowId) -> Result<Option<Show>>;
    /// Saves state, times and title, only if the stored state is still `expected`
    /// (optimistic concurrency between nodes); Conflict otherwise.
    async fn save_show(&self, show: &Show, expected: ShowState) -> Result<()>;
    /// Newest first.
    async fn shows_of_channel(&self, channel: ChannelId, limit: i64) -> Result<Vec<Show>>;
    /// Live: newest start first; scheduled: soonest first; ended/cancelled: newest end first.
    async fn shows_in_state(&self, state: ShowState, limit: i64) -> Result<Vec<Show>>;
    async fn live_show_of_channel(&self, channel: ChannelId) -> Result<Option<Show>>;
    async fn upsert_recording(&self, rec: &Recording) -> Result<()>;
    async fn recording(&self, show: ShowId) -> Result<Option<Recording>>;
    /// Complete recordings whose show ended before `ended_before`, oldest first.
    async fn recordings_ended_before(
        &self,
        ended_before: UnixMillis,
        limit: i64,
    ) -> Result<Vec<Recording>>;
    async fn delete_recording(&self, show: ShowId) -> Result<()>;
}

pub use room::{
    ModerationEntry, ModeratorRow, RoomStore, SanctionRow, SessionEvidence, StoredComment,
    ViewerSessionRow,
};

pub use co_hosts::{CoHostStatement, CoHostStore, CoHostVisit};
pub use defects::DefectStore;
pub use leads::{Lead, LeadStep, LeadStore, NewLead};
pub use retention::RetentionStore;
pub use shop::{
    CatalogStore, CouponStore, FlashSaleStore, OrderStore, OrgStore, PaymentStore, ShopStore,
    ShowcaseStore,
};
pub use trust::{
    AuditStore, BusinessStore, CaseStore, IdentityStore, RiskStore, SanctionStore, TrustStore,
};
pub use webhooks::WebhookStore;

/// Every store trait, for code that calls a concrete `SqlStore` (tests, tools):
/// `use hawker_storage::prelude::*;`. Code holding a `dyn Store` needs none of them.
pub mod prelude {
    pub use crate::co_hosts::CoHostStore;
    pub use crate::defects::DefectStore;
    pub use crate::disclosure::DisclosureStore;
    pub use crate::gifts::GiftStore;
    pub use crate::leads::LeadStore;
    pub use crate::ledger::LedgerStore;
    pub use crate::slots::SlotStore;
    pub use crate::terms::TermsStore;
    pub use crate::{
        AccountStore, CatalogStore, ChannelStore, CouponStore, FlashSaleStore, OrderStore,
        OrgStore, PaymentStore, RetentionStore, RoomStore, ShopStore, ShowStore, ShowcaseStore,
        Store, TrustStore, WebhookStore,
    };
    pub use crate::{
        AuditStore, BusinessStore, CaseStore, IdentityStore, RiskStore, SanctionStore,
    };
}

pub trait Store:
    AccountStore
    + ChannelStore
    + ShowStore
    + RoomStore
    + ShopStore
    + ledger::LedgerStore
    + gifts::GiftStore
    + slots::SlotStore
    + disclosure::DisclosureStore
    + terms::TermsStore
    + trust::TrustStore
    + retention::RetentionStore
    + webhooks::WebhookStore
    + defects::DefectStore
    + leads::LeadStore
    + co_hosts::CoHostStore
{
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
    /// SQLite only: the file, for the flash-sale writer's own connection.
    sqlite_path: Option<std::path::PathBuf>,
    flash_conn: crate::journal::FlashConn,
    ledger_ids: crate::ledger::AccountIds,
}

/// Every SQLite connection, the pool's and the flash-sale writer's: wait for the writer instead
/// of failing, enforce foreign keys, and fsync every commit — an acknowledged order survives
/// power loss, not only a crash. Hot paths batch many rows per commit instead.
pub(crate) const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; \
     PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;";

/// Once per process, before SQLite initialises: no memory statistics. With them on, every
/// allocation inside SQLite takes a global mutex (mutexes were ~10% of a ledger batch in perf;
/// most of what remains is the page cache's own).
fn sqlite_process_config() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: sqlite3_config is only allowed before sqlite3_initialize; if SQLite is
        // already initialised it returns SQLITE_MISUSE and changes nothing.
        let rc =
            unsafe { rusqlite::ffi::sqlite3_config(rusqlite::ffi::SQLITE_CONFIG_MEMSTATUS, 0) };
        tracing::debug!(rc, "SQLite memory statistics off");
    });
}

/// The embedded default: `{dir}/hawker.db`.
pub fn sqlite_url_for_dir(dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", dir.join("hawker.db").display())
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl SqlStore {
    /// Connects and migrates. `sqlite://path?mode=rwc` or `postgres://...`.
    pub async fn open(url: &str) -> Result<SqlStore> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(StorageError::Corrupt(format!(
                "storage URL must start with sqlite:// or postgres:// (got {})",
                url.split(':').next().unwrap_or("")
            )));
        };
        if backend == Backend::Sqlite {
            sqlite_process_config();
        }
        let span = tracing::debug_span!("storage_open", ?backend);
        let _g = span.enter();
        let opts = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 8 } else { 16 })
            .acquire_timeout(Duration::from_secs(10));
        let opts = if backend == Backend::Sqlite {
            opts.after_connect(|conn, _meta| {
                Box::pin(async move {
                    conn.execute(SQLITE_PRAGMAS).await?;
                    Ok(())
                })
            })
        } else {
            opts
        };
        let pool = opts.connect(url).await?;
        match backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&pool).await?,
        }
        if backend == Backend::Sqlite {
            // Checkpoints run here, beside the writers: the flash-sale writer's connection
            // turns its automatic ones off so a commit never waits for one (PASSIVE never
            // blocks a writer).
            let p = pool.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_millis(500));
                loop {
                    tick.tick().await;
                    if p.is_closed() {
                        return;
                    }
                    let _ = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                        .execute(&p)
                        .await;
                }
            });
        }
        let sqlite_path = (backend == Backend::Sqlite)
            .then(|| {
                let p = url
                    .trim_start_matches("sqlite://")
                    .trim_start_matches("sqlite:");
                let p = p.split('?').next().unwrap_or("");
                (!p.is_empty() && !p.contains(":memory:")).then(|| std::path::PathBuf::from(p))
            })
            .flatten();
        Ok(SqlStore {
            pool,
            backend,
            sqlite_path,
            flash_conn: Default::default(),
            ledger_ids: Default::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A transaction that writes. On SQLite it begins IMMEDIATE, taking the write lock at the
    /// start and waiting for another writer (`busy_timeout`); a deferred one that reads first
    /// fails at once with "database is locked" when it tries to write while another connection
    /// writes (schemathesis found it as a 500 under two parallel clients).
    pub(crate) async fn write_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }
}

impl Store for SqlStore {}

const CHANNEL_COLS: &str = "id, slug, title, owner_id, stream_key, created_at";
const SHOW_COLS: &str = "id, channel_id, title, state, scheduled_at, started_at, ended_at";
const RECORDING_COLS: &str = "show_id, dir, bytes, duration_ms, segments, complete, updated_at";

fn one_id(row: AnyRow) -> Result<i64> {
    row.try_get::<i64, _>(0).map_err(StorageError::from)
}

#[async_trait]
impl AccountStore for SqlStore {
    async fn create_account(&self, new: NewAccount) -> Result<Account> {
        let row = sqlx::query(
            "INSERT INTO accounts (email, display_name, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(new.email.as_str())
        .bind(new.display_name.as_str())
        .bind(new.password.as_phc())
        .bind(new.role.as_str())
        .bind(new.created_at.0)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| classify(e, "account", "account"))?;
        Ok(Account {
            id: AccountId(one_id(row)?),
            email: new.email,
            display_name: new.display_name,
            password: new.password,
            role: new.role,
            created_at: new.created_at,
        })
    }

    async fn account(&self, id: AccountId) -> Result<Option<Account>> {
        Ok(self
            .accounts("WHERE a.id = $1", vec![Bind::Int(id.0)])
            .await?
            .pop())
    }

    async fn account_by_email(&self, email: &Email) -> Result<Option<Account>> {
        Ok(self
            .accounts(
                "WHERE a.email = $1",
                vec![Bind::Text(email.as_str().into())],
            )
            .await?
            .pop())
    }

    async fn set_role(&self, id: AccountId, role: Role) -> Result<()> {
        let r = sqlx::query("UPDATE accounts SET role = $1 WHERE id = $2")
            .bind(role.as_str())
            .bind(id.0)
            .execute(&self.pool)
            .await?;
        if r.rows_affected() == 0 {
            return Err(StorageError::NotFound { entity: "account" });
        }
        Ok(())
    }

    async fn count_accounts(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) FROM accounts")
            .fetch_one(&self.pool)
            .await?;
        one_id(row)
    }

    async fn create_session(
        &self,
        account: AccountId,
        token: &TokenHash,
        expires_at: UnixMillis,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, account_id, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(token.0.as_str())
        .bind(account.0)
        .bind(expires_at.0)
        .execute(&self.pool)
        .await
        .map_err(|e| classify(e, "session", "account"))?;
        Ok(())
    }

    async fn session_account(&self, token: &TokenHash, now: UnixMillis) -> Result<Option<Account>> {
        Ok(self
            .accounts(
                "JOIN sessions s ON s.account_id = a.id WHERE s.token_hash = $1 AND s.expires_at > $2",
                vec![Bind::Text(token.0.clone()), Bind::Int(now.0)],
            )
            .await?
            .pop())
    }

    async fn delete_session(&self, token: &TokenHash) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token.0.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_expired_sessions(&self, now: UnixMillis) -> Result<u64> {
        let r = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now.0)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected())
    }

    async fn create_api_token(
        &self,
        account: AccountId,
        token: &TokenHash,
        label: &str,
        now: UnixMillis,
    ) -> Result<()> {
        sqlx::query("INSERT INTO api_tokens (token_hash, account_id, label, created_at) VALUES ($1, $2, $3, $4)")
            .bind(token.0.as_str())
            .bind(account.0)
            .bind(label)
            .bind(now.0)
            .execute(&self.pool)
            .await
            .map_err(|e| classify(e, "api token", "account"))?;
        Ok(())
    }

    async fn api_token_account(&self, token: &TokenHash) -> Result<Option<Account>> {
        Ok(self
            .accounts(
                "JOIN api_tokens t ON t.account_id = a.id WHERE t.token_hash = $1",
                vec![Bind::Text(token.0.clone())],
            )
            .await?
            .pop())
    }
}

/// Binds a list of parameters in order: the row helpers below share one query builder.
fn bind_all<'q, O>(
    mut q: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    binds: Vec<Bind>,
) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>> {
    for b in binds {
        q = match b {
            Bind::Int(i) => q.bind(i),
            Bind::Text(s) => q.bind(s),
        };
    }
    q
}

impl SqlStore {
    async fn accounts(&self, clause: &str, binds: Vec<Bind>) -> Result<Vec<Account>> {
        let sql = format!(
            "SELECT a.id, a.email, a.display_name, a.password_hash, a.role, a.created_at FROM accounts a {clause}"
        );
        bind_all(sqlx::query_as::<_, AccountRow>(&sql), binds)
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(AccountRow::into_domain)
            .collect()
    }

    async fn channels(&self, clause: &str, binds: Vec<Bind>) -> Result<Vec<Channel>> {
        let sql = format!("SELECT {CHANNEL_COLS} FROM channels {clause}");
        bind_all(sqlx::query_as::<_, ChannelRow>(&sql), binds)
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(ChannelRow::into_domain)
            .collect()
    }

    async fn shows(&self, clause: &str, binds: Vec<Bind>) -> Result<Vec<Show>> {
        let sql = format!("SELECT {SHOW_COLS} FROM shows {clause}");
        bind_all(sqlx::query_as::<_, ShowRow>(&sql), binds)
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(ShowRow::into_domain)
            .collect()
    }
}

enum Bind {
    Int(i64),
    Text(String),
}

#[async_trait]
impl ChannelStore for SqlStore {
    async fn create_channel(&self, new: NewChannel) -> Result<Channel> {
        let row = sqlx::query(
            "INSERT INTO channels (slug, title, owner_id, stream_key, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(new.slug.as_str())
        .bind(new.title.as_str())
        .bind(new.owner.0)
        .bind(new.stream_key.expose())
        .bind(new.created_at.0)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| classify(e, "channel", "account"))?;
        Ok(Channel {
            id: ChannelId(one_id(row)?),
            slug: new.slug,
            title: new.title,
            owner: new.owner,
            stream_key: new.stream_key,
            created_at: new.created_at,
        })
    }

    async fn channel(&self, id: ChannelId) -> Result<Option<Channel>> {
        Ok(self
            .channels("WHERE id = $1", vec![Bind::Int(id.0)])
            .await?
            .pop())
    }

    async fn channel_by_slug(&self, slug: &Slug) -> Result<Option<Channel>> {
        Ok(self
            .channels("WHERE slug = $1", vec![Bind::Text(slug.as_str().into())])
            .await?
            .pop())
    }

    async fn channel_by_stream_key(&self, key: &StreamKey) -> Result<Option<Channel>> {
        Ok(self
            .channels(
                "WHERE stream_key = $1",
                vec![Bind::Text(key.expose().into())],
            )
            .await?
            .pop())
    }

    async fn channels_owned_by(&self, owner: AccountId) -> Result<Vec<Channel>> {
        self.channels("WHERE owner_id = $1 ORDER BY id", vec![Bind::Int(owner.0)])
            .await
    }

    async fn list_channels(&self, limit: i64, offset: i64) -> Result<Vec<Channel>> {
        self.channels(
            "ORDER BY id LIMIT $1 OFFSET $2",
            vec![Bind::Int(limit), Bind::Int(offset)],
        )
        .await
    }

    async fn rotate_stream_key(&self, id: ChannelId, key: &StreamKey) -> Result<()> {
        let r = sqlx::query("UPDATE channels SET stream_key = $1 WHERE id = $2")
            .bind(key.expose())
            .bind(id.0)
            .execute(&self.pool)
            .await
            .map_err(|e| classify(e, "stream key", "channel"))?;
        if r.rows_affected() == 0 {
            return Err(StorageError::NotFound { entity: "channel" });
        }
        Ok(())
    }
}

#[async_trait]
impl ShowStore for SqlStore {
    async fn create_show(&self, new: NewShow) -> Result<Show> {
        let row = sqlx::query(
            "INSERT INTO shows (channel_id, title, state, scheduled_at, started_at, ended_at) VALUES ($1, $2, $3, $4, $5, NULL) RETURNING id",
        )
        .bind(new.channel.0)
        .bind(new.title.as_str())
        .bind(new.state.as_str())
        .bind(new.scheduled_at.map(|t| t.0))
        .bind(new.started_at.map(|t| t.0))
        .fetch_one(&self.pool)
        .await
        .map_err(|e| classify(e, "show", "channel"))?;
        Ok(Show {
            id: ShowId(one_id(row)?),
            channel: new.channel,
            title: new.title,
            state: new.state,
            scheduled_at: new.scheduled_at,
            started_at: new.started_at,
            ended_at: None,
        })
    }

    async fn show(&self, id: ShowId) -> Result<Option<Show>> {
        Ok(self
            .shows("WHERE id = $1", vec![Bind::Int(id.0)])
            .await?
            .pop())
    }

    async fn save_show(&self, show: &Show, expected: ShowState) -> Result<()> {
        let r = sqlx::query(
            "UPDATE shows SET title = $1, state = $2, scheduled_at = $3, started_at = $4, ended_at = $5 WHERE id = $6 AND state = $7",
        )
        .bind(show.title.as_str())
        .bind(show.state.as_str())
        .bind(show.scheduled_at.map(|t| t.0))
        .bind(show.started_at.map(|t| t.0))
        .bind(show.ended_at.map(|t| t.0))
        .bind(show.id.0)
        .bind(expected.as_str())
        .execute(&self.pool)
        .await
        .map_err(|e| classify(e, "show", "channel"))?;
        if r.rows_affected() == 0 {
            return Err(StorageError::Conflict { entity: "show" });
        }
        Ok(())
    }

    async fn shows_of_channel(&self, channel: ChannelId, limit: i64) -> Result<Vec<Show>> {
        self.shows(
            "WHERE channel_id = $1 ORDER BY id DESC LIMIT $2",
            vec![Bind::Int(channel.0), Bind::Int(limit)],
        )
        .await
    }

    async fn shows_in_state(&self, state: ShowState, limit: i64) -> Result<Vec<Show>> {
        let order = match state {
            ShowState::Live => "started_at DESC, id DESC",
            ShowState::Scheduled => "scheduled_at ASC, id ASC",
            ShowState::Ended | ShowState::Cancelled => "ended_at DESC, id DESC",
        };
        self.shows(
            &format!("WHERE state = $1 ORDER BY {order} LIMIT $2"),
            vec![Bind::Text(state.as_str().into()), Bind::Int(limit)],
        )
        .await
    }

    async fn live_show_of_channel(&self, channel: ChannelId) -> Result<Option<Show>> {
        Ok(self
            .shows(
                "WHERE channel_id = $1 AND state = 'live'",
                vec![Bind::Int(channel.0)],
            )
            .await?
            .pop())
    }

    async fn upsert_recording(&self, rec: &Recording) -> Result<()> {
        sqlx::query(
            "INSERT INTO recordings (show_id, dir, bytes, duration_ms, segments, complete, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (show_id) DO UPDATE SET dir = excluded.dir, bytes = excluded.bytes, duration_ms = excluded.duration_ms, \
             segments = excluded.segments, complete = excluded.complete, updated_at = excluded.updated_at",
        )
        .bind(rec.show.0)
        .bind(rec.dir.as_str())
        .bind(rec.bytes)
        .bind(rec.duration_ms)
        .bind(rec.segments)
        .bind(rec.complete as i64)
        .bind(rec.updated_at.0)
        .execute(&self.pool)
        .await
        .map_err(|e| classify(e, "recording", "show"))?;
        Ok(())
    }

    async fn recording(&self, show: ShowId) -> Result<Option<Recording>> {
        let sql = format!("SELECT {RECORDING_COLS} FROM recordings WHERE show_id = $1");
        let row = sqlx::query_as::<_, RecordingRow>(&sql)
            .bind(show.0)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(RecordingRow::into_domain))
    }

    async fn recordings_ended_before(
        &self,
        ended_before: UnixMillis,
        limit: i64,
    ) -> Result<Vec<Recording>> {
        let sql = format!(
            "SELECT {} FROM recordings r JOIN shows s ON s.id = r.show_id \
             WHERE r.complete = 1 AND s.ended_at IS NOT NULL AND s.ended_at < $1 ORDER BY s.ended_at ASC, r.show_id ASC LIMIT $2",
            RECORDING_COLS.split(", ").map(|c| format!("r.{c}")).collect::<Vec<_>>().join(", ")
        );
        let rows = sqlx::query_as::<_, RecordingRow>(&sql)
            .bind(ended_before.0)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(RecordingRow::into_domain).collect())
    }

    async fn delete_recording(&self, show: ShowId) -> Result<()> {
        sqlx::query("DELETE FROM recordings WHERE show_id = $1")
            .bind(show.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
