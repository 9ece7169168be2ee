//! Live-room persistence: follows, channel moderators, sanctions, the moderation log, chat,
//! blocked-word lists, and viewer sessions.

use crate::{classify, Result, SqlStore, StorageError};
use async_trait::async_trait;
use hawker_domain::{AccountId, ChannelId, ModeratorRights, SanctionKind, ShowId, UnixMillis};
use sqlx::Row;

/// One line of a room's moderation log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModerationEntry {
    pub channel: ChannelId,
    pub show: Option<ShowId>,
    pub actor: AccountId,
    /// `delete`, `mute`, `ban`, `filtered`, …
    pub action: String,
    pub target_account: Option<AccountId>,
    pub comment_id: Option<i64>,
    pub reason: Option<String>,
    pub detail: String,
    pub at: UnixMillis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredComment {
    pub id: i64,
    pub channel: ChannelId,
    pub show: Option<ShowId>,
    pub account: AccountId,
    pub author_name: String,
    pub text: String,
    pub at: UnixMillis,
    /// Written while its author was shadow-banned: nobody else saw it.
    pub shadow: bool,
    pub deleted_reason: Option<String>,
}

/// One connection's stay in a live show, as the room recorded it: the risk engine's evidence
/// of audiences that never play, join/leave bursts and near-zero dwell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewerSessionRow {
    pub show: ShowId,
    pub channel: ChannelId,
    /// None for a guest.
    pub account: Option<AccountId>,
    pub joined_at: UnixMillis,
    pub left_at: UnixMillis,
    /// Time the player advanced while it reported playing.
    pub played_ms: i64,
    /// The room counted it as a viewer (the origin delivered it media at least once).
    pub counted: bool,
    pub evidence: SessionEvidence,
}

/// What a session showed about itself, for the bot signals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionEvidence {
    /// The client's network (IPv4 /24, IPv6 /48).
    pub network: String,
    /// Media deliveries the origin reported for it.
    pub media_deliveries: i64,
    /// Heartbeats it sent.
    pub heartbeats: i64,
    /// Standard deviation of its heartbeat intervals.
    pub cadence_jitter_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SanctionRow {
    pub account: AccountId,
    pub kind: SanctionKind,
    pub until: Option<UnixMillis>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModeratorRow {
    pub account: AccountId,
    pub display_name: String,
    pub rights: ModeratorRights,
}

#[async_trait]
pub trait RoomStore: Send + Sync {
    /// True when the follow is new.
    async fn follow(&self, account: AccountId, channel: ChannelId, now: UnixMillis)
        -> Result<bool>;
    async fn unfollow(&self, account: AccountId, channel: ChannelId) -> Result<bool>;
    async fn followed_channels(&self, account: AccountId) -> Result<Vec<ChannelId>>;
    async fn follower_count(&self, channel: ChannelId) -> Result<i64>;

    async fn set_moderator(
        &self,
        channel: ChannelId,
        account: AccountId,
        rights: ModeratorRights,
        by: AccountId,
        now: UnixMillis,
    ) -> Result<()>;
    async fn remove_moderator(&self, channel: ChannelId, account: AccountId) -> Result<bool>;
    async fn moderators(&self, channel: ChannelId) -> Result<Vec<ModeratorRow>>;
    async fn moderator_rights(
        &self,
        channel: ChannelId,
        account: AccountId,
    ) -> Result<Option<ModeratorRights>>;

    async fn save_sanction(
        &self,
        channel: ChannelId,
        s: &SanctionRow,
        by: AccountId,
        now: UnixMillis,
    ) -> Result<()>;
    async fn remove_sanction(
        &self,
        channel: ChannelId,
        account: AccountId,
        kind: SanctionKind,
    ) -> Result<()>;
    /// Sanctions in force (mutes that have not expired).
    async fn sanctions(&self, channel: ChannelId, now: UnixMillis) -> Result<Vec<SanctionRow>>;

    async fn log_moderation(&self, e: &ModerationEntry) -> Result<()>;
    /// Newest first.
    async fn moderation_log(&self, channel: ChannelId, limit: i64) -> Result<Vec<ModerationEntry>>;

    /// Idempotent: a comment already stored is left as it is.
    async fn save_comments(&self, comments: &[StoredComment]) -> Result<()>;
    async fn mark_comment_deleted(&self, channel: ChannelId, id: i64, reason: &str) -> Result<()>;
    /// Oldest first.
    async fn comments_of_show(&self, show: ShowId, limit: i64) -> Result<Vec<StoredComment>>;

    /// Appends viewer sessions in one transaction (the hub's batches of records).
    async fn save_viewer_sessions(&self, sessions: &[ViewerSessionRow]) -> Result<()>;
    /// A show's viewer sessions in the order they joined, at most `limit`.
    async fn viewer_sessions_of_show(
        &self,
        show: ShowId,
        limit: i64,
    ) -> Result<Vec<ViewerSessionRow>>;

    /// `None` is the platform-wide list.
    async fn keywords(&self, channel: Option<ChannelId>) -> Result<Vec<String>>;
    /// Returns how many were new.
    async fn add_keywords(
        &self,
        channel: Option<ChannelId>,
        words: &[String],
        by: AccountId,
        now: UnixMillis,
    ) -> Result<usize>;
    async fn remove_keyword(&self, channel: Option<ChannelId>, word: &str) -> Result<bool>;
}

/// Viewer sessions per insert statement.
const SESSION_ROWS: usize = 100;

fn flag(b: bool) -> i64 {
    b as i64
}

fn rights_from(row: &sqlx::any::AnyRow, offset: usize) -> Result<ModeratorRights> {
    let f = |i: usize| -> Result<bool> { Ok(row.try_get::<i64, _>(offset + i)? != 0) };
    Ok(ModeratorRights {
        pin: f(0)?,
        mute: f(1)?,
        ban: f(2)?,
        delete: f(3)?,
        announce: f(4)?,
    })
}

fn comment_from(r: &sqlx::any::AnyRow) -> Result<StoredComment> {
    Ok(StoredComment {
        id: r.try_get(0)?,
        channel: ChannelId(r.try_get(1)?),
        show: r.try_get::<Option<i64>, _>(2)?.map(ShowId),
        account: AccountId(r.try_get(3)?),
        author_name: r.try_get(4)?,
        text: r.try_get(5)?,
        at: UnixMillis(r.try_get(6)?),
        shadow: r.try_get::<i64, _>(7)? != 0,
        deleted_reason: r.try_get(8)?,
    })
}

#[async_trait]
impl RoomStore for SqlStore {
    async fn follow(
        &self,
        account: AccountId,
        channel: ChannelId,
        now: UnixMillis,
    ) -> Result<bool> {
        let r = sqlx::query("INSERT INTO follows (account_id, channel_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(account.0)
            .bind(channel.0)
            .bind(now.0)
            .execute(self.pool())
            .await
            .map_err(|e| classify(e, "follow", "channel"))?;
        Ok(r.rows_affected() == 1)
    }

    async fn unfollow(&self, account: AccountId, channel: ChannelId) -> Result<bool> {
        let r = sqlx::query("DELETE FROM follows WHERE account_id = $1 AND channel_id = $2")
            .bind(account.0)
            .bind(channel.0)
            .execute(self.pool())
            .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn followed_channels(&self, account: AccountId) -> Result<Vec<ChannelId>> {
        let rows =
            sqlx::query("SELECT channel_id FROM follows WHERE account_id = $1 ORDER BY channel_id")
                .bind(account.0)
                .fetch_all(self.pool())
                .await?;
        rows.iter().map(|r| Ok(ChannelId(r.try_get(0)?))).collect()
    }

    async fn follower_count(&self, channel: ChannelId) -> Result<i64> {
        let r = sqlx::query("SELECT COUNT(*) FROM follows WHERE channel_id = $1")
            .bind(channel.0)
            .fetch_one(self.pool())
            .await?;
        Ok(r.try_get(0)?)
    }

    async fn set_moderator(
        &self,
        channel: ChannelId,
        account: AccountId,
        rights: ModeratorRights,
        by: AccountId,
        now: UnixMillis,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO channel_moderators (channel_id, account_id, can_pin, can_mute, can_ban, can_delete, can_announce, granted_by, granted_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (channel_id, account_id) DO UPDATE SET \
             can_pin = excluded.can_pin, can_mute = excluded.can_mute, can_ban = excluded.can_ban, can_delete = excluded.can_delete, \
             can_announce = excluded.can_announce, granted_by = excluded.granted_by, granted_at = excluded.granted_at",
        )
        .bind(channel.0)
        .bind(account.0)
        .bind(flag(rights.pin))
        .bind(flag(rights.mute))
        .bind(flag(rights.ban))
        .bind(flag(rights.delete))
        .bind(flag(rights.announce))
        .bind(by.0)
        .bind(now.0)
        .execute(self.pool())
        .await
        .map_err(|e| classify(e, "moderator", "account or channel"))?;
        Ok(())
    }

    async fn remove_moderator(&self, channel: ChannelId, account: AccountId) -> Result<bool> {
        let r =
            sqlx::query("DELETE FROM channel_moderators WHERE channel_id = $1 AND account_id = $2")
                .bind(channel.0)
                .bind(account.0)
                .execute(self.pool())
                .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn moderators(&self, channel: ChannelId) -> Result<Vec<ModeratorRow>> {
        let rows = sqlx::query(
            "SELECT m.account_id, a.display_name, m.can_pin, m.can_mute, m.can_ban, m.can_delete, m.can_announce \
             FROM channel_moderators m JOIN accounts a ON a.id = m.account_id WHERE m.channel_id = $1 ORDER BY m.account_id",
        )
        .bind(channel.0)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ModeratorRow {
                    account: AccountId(r.try_get(0)?),
                    display_name: r.try_get(1)?,
                    rights: rights_from(r, 2)?,
                })
            })
            .collect()
    }

    async fn moderator_rights(
        &self,
        channel: ChannelId,
        account: AccountId,
    ) -> Result<Option<ModeratorRights>> {
        let row = sqlx::query("SELECT can_pin, can_mute, can_ban, can_delete, can_announce FROM channel_moderators WHERE channel_id = $1 AND account_id = $2")
            .bind(channel.0)
            .bind(account.0)
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| rights_from(&r, 0)).transpose()
    }

    async fn save_sanction(
        &self,
        channel: ChannelId,
        s: &SanctionRow,
        by: AccountId,
        now: UnixMillis,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO room_sanctions (channel_id, account_id, kind, until_ms, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (channel_id, account_id, kind) DO UPDATE SET until_ms = excluded.until_ms, created_by = excluded.created_by, created_at = excluded.created_at",
        )
        .bind(channel.0)
        .bind(s.account.0)
        .bind(s.kind.as_str())
        .bind(s.until.map(|u| u.0))
        .bind(by.0)
        .bind(now.0)
        .execute(self.pool())
        .await
        .map_err(|e| classify(e, "sanction", "account or channel"))?;
        Ok(())
    }

    async fn remove_sanction(
        &self,
        channel: ChannelId,
        account: AccountId,
        kind: SanctionKind,
    ) -> Result<()> {
        sqlx::query(
            "DELETE FROM room_sanctions WHERE channel_id = $1 AND account_id = $2 AND kind = $3",
        )
        .bind(channel.0)
        .bind(account.0)
        .bind(kind.as_str())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn sanctions(&self, channel: ChannelId, now: UnixMillis) -> Result<Vec<SanctionRow>> {
        let rows = sqlx::query(
            "SELECT account_id, kind, until_ms FROM room_sanctions WHERE channel_id = $1 AND (until_ms IS NULL OR until_ms > $2) ORDER BY account_id, kind",
        )
        .bind(channel.0)
        .bind(now.0)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get(1)?;
                Ok(SanctionRow {
                    account: AccountId(r.try_get(0)?),
                    kind: SanctionKind::parse(&kind)
                        .ok_or_else(|| StorageError::Corrupt(format!("sanction kind {kind}")))?,
                    until: r.try_get::<Option<i64>, _>(2)?.map(UnixMillis),
                })
            })
            .collect()
    }

    async fn log_moderation(&self, e: &ModerationEntry) -> Result<()> {
        sqlx::query(
            "INSERT INTO moderation_log (channel_id, show_id, actor_id, action, target_account, comment_id, reason, detail, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(e.channel.0)
        .bind(e.show.map(|s| s.0))
        .bind(e.actor.0)
        .bind(e.action.as_str())
        .bind(e.target_account.map(|a| a.0))
        .bind(e.comment_id)
        .bind(e.reason.as_deref())
        .bind(e.detail.as_str())
        .bind(e.at.0)
        .execute(self.pool())
        .await
        .map_err(|err| classify(err, "moderation entry", "channel"))?;
        Ok(())
    }

    async fn moderation_log(&self, channel: ChannelId, limit: i64) -> Result<Vec<ModerationEntry>> {
        let rows = sqlx::query(
            "SELECT channel_id, show_id, actor_id, action, target_account, comment_id, reason, detail, at FROM moderation_log \
             WHERE channel_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
        )
        .bind(channel.0)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ModerationEntry {
                    channel: ChannelId(r.try_get(0)?),
                    show: r.try_get::<Option<i64>, _>(1)?.map(ShowId),
                    actor: AccountId(r.try_get(2)?),
                    action: r.try_get(3)?,
                    target_account: r.try_get::<Option<i64>, _>(4)?.map(AccountId),
                    comment_id: r.try_get(5)?,
                    reason: r.try_get(6)?,
                    detail: r.try_get(7)?,
                    at: UnixMillis(r.try_get(8)?),
                })
            })
            .collect()
    }

    async fn save_comments(&self, comments: &[StoredComment]) -> Result<()> {
        if comments.is_empty() {
            return Ok(());
        }
        let mut tx = self.write_tx().await?;
        for c in comments {
            sqlx::query(
                "INSERT INTO comments (id, channel_id, show_id, account_id, author_name, text, at, shadow, deleted_reason) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING",
            )
            .bind(c.id)
            .bind(c.channel.0)
            .bind(c.show.map(|s| s.0))
            .bind(c.account.0)
            .bind(c.author_name.as_str())
            .bind(c.text.as_str())
            .bind(c.at.0)
            .bind(flag(c.shadow))
            .bind(c.deleted_reason.as_deref())
            .execute(&mut *tx)
            .await
            .map_err(|e| classify(e, "comment", "channel"))?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn mark_comment_deleted(&self, channel: ChannelId, id: i64, reason: &str) -> Result<()> {
        sqlx::query("UPDATE comments SET deleted_reason = $1 WHERE channel_id = $2 AND id = $3")
            .bind(reason)
            .bind(channel.0)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn comments_of_show(&self, show: ShowId, limit: i64) -> Result<Vec<StoredComment>> {
        let rows = sqlx::query(
            "SELECT id, channel_id, show_id, account_id, author_name, text, at, shadow, deleted_reason FROM comments \
             WHERE show_id = $1 ORDER BY at ASC, id ASC LIMIT $2",
        )
        .bind(show.0)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(comment_from).collect()
    }

    async fn save_viewer_sessions(&self, sessions: &[ViewerSessionRow]) -> Result<()> {
        if sessions.is_empty() {
            return Ok(());
        }
        let mut tx = self.write_tx().await?;
        for chunk in sessions.chunks(SESSION_ROWS) {
            let sql = format!(
                "INSERT INTO viewer_sessions (show_id, channel_id, account_id, joined_at, left_at, played_ms, counted, network, media_deliveries, heartbeats, cadence_jitter_ms) VALUES {}",
                crate::sql::values(chunk.len(), 11, self.backend())
            );
            let mut q = sqlx::query(&sql);
            for v in chunk {
                q = q
                    .bind(v.show.0)
                    .bind(v.channel.0)
                    .bind(v.account.map(|a| a.0))
                    .bind(v.joined_at.0)
                    .bind(v.left_at.0)
                    .bind(v.played_ms)
                    .bind(flag(v.counted))
                    .bind(v.evidence.network.as_str())
                    .bind(v.evidence.media_deliveries)
                    .bind(v.evidence.heartbeats)
                    .bind(v.evidence.cadence_jitter_ms);
            }
            q.execute(&mut *tx)
                .await
                .map_err(|e| classify(e, "viewer session", "channel"))?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn viewer_sessions_of_show(
        &self,
        show: ShowId,
        limit: i64,
    ) -> Result<Vec<ViewerSessionRow>> {
        let rows = sqlx::query(
            "SELECT show_id, channel_id, account_id, joined_at, left_at, played_ms, counted, network, media_deliveries, heartbeats, cadence_jitter_ms FROM viewer_sessions \
             WHERE show_id = $1 ORDER BY joined_at, id LIMIT $2",
        )
        .bind(show.0)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ViewerSessionRow {
                    show: ShowId(r.try_get(0)?),
                    channel: ChannelId(r.try_get(1)?),
                    account: r.try_get::<Option<i64>, _>(2)?.map(AccountId),
                    joined_at: UnixMillis(r.try_get(3)?),
                    left_at: UnixMillis(r.try_get(4)?),
                    played_ms: r.try_get(5)?,
                    counted: r.try_get::<i64, _>(6)? != 0,
                    evidence: SessionEvidence {
                        network: r.try_get(7)?,
                        media_deliveries: r.try_get(8)?,
                        heartbeats: r.try_get(9)?,
                        cadence_jitter_ms: r.try_get(10)?,
                    },
                })
            })
            .collect()
    }

    async fn keywords(&self, channel: Option<ChannelId>) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT keyword FROM keywords WHERE COALESCE(channel_id, 0) = $1 ORDER BY keyword",
        )
        .bind(channel.map_or(0, |c| c.0))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    async fn add_keywords(
        &self,
        channel: Option<ChannelId>,
        words: &[String],
        by: AccountId,
        now: UnixMillis,
    ) -> Result<usize> {
        let mut added = 0;
        let mut tx = self.write_tx().await?;
        // One statement that writes from the start: a read followed by a write in a deferred
        // SQLite transaction fails at once (SQLITE_BUSY_SNAPSHOT) when another writer committed
        // in between, whatever the busy timeout.
        for w in words {
            let n = sqlx::query(
                "INSERT INTO keywords (channel_id, keyword, created_by, created_at) \
                 SELECT CAST($1 AS BIGINT), $2, CAST($3 AS BIGINT), CAST($4 AS BIGINT) \
                 WHERE NOT EXISTS (SELECT 1 FROM keywords WHERE COALESCE(channel_id, 0) = $5 AND keyword = $2)",
            )
            .bind(channel.map(|c| c.0))
            .bind(w.as_str())
            .bind(by.0)
            .bind(now.0)
            .bind(channel.map_or(0, |c| c.0))
            .execute(&mut *tx)
            .await
            .map_err(|e| classify(e, "keyword", "channel"))?
            .rows_affected();
            added += n as usize;
        }
        tx.commit().await?;
        Ok(added)
    }

    async fn remove_keyword(&self, channel: Option<ChannelId>, word: &str) -> Result<bool> {
        let r =
            sqlx::query("DELETE FROM keywords WHERE COALESCE(channel_id, 0) = $1 AND keyword = $2")
                .bind(channel.map_or(0, |c| c.0))
                .bind(word)
                .execute(self.pool())
                .await?;
        Ok(r.rows_affected() > 0)
    }
}
