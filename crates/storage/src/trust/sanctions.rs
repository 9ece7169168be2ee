//! Sanctions, the blacklist, and the attribute signals that link accounts.

use super::*;

#[async_trait]
pub trait SanctionStore: Send + Sync {
    async fn add_sanction(
        &self,
        account: AccountId,
        level: SanctionLevel,
        reason: &str,
        until: Option<UnixMillis>,
        actor: Option<AccountId>,
        at: UnixMillis,
    ) -> Result<i64>;
    async fn sanctions_of(&self, account: AccountId) -> Result<Vec<SanctionRecord>>;
    async fn sanction(&self, id: i64) -> Result<Option<SanctionRecord>>;
    async fn lift_sanction(&self, id: i64, at: UnixMillis) -> Result<bool>;
    async fn blacklist(
        &self,
        kind: BlacklistKind,
        value_hash: &str,
        account: Option<AccountId>,
        reason: &str,
        at: UnixMillis,
    ) -> Result<()>;
    /// The first of `values` (kind, hash) that is blacklisted.
    async fn blacklisted(
        &self,
        values: &[(BlacklistKind, String)],
    ) -> Result<Option<(BlacklistKind, String)>>;
    /// Remembers that an account was seen with an attribute value (already a keyed hash).
    async fn record_signal(
        &self,
        account: AccountId,
        kind: LinkKind,
        value_hash: &str,
        at: UnixMillis,
    ) -> Result<()>;
    /// Every attribute value of these accounts: (account, kind, hash).
    async fn signals_of(
        &self,
        accounts: &[AccountId],
    ) -> Result<Vec<(AccountId, LinkKind, String)>>;
    /// For each (kind, value hash): how many accounts on the platform were seen with it.
    async fn signal_popularity(
        &self,
        values: &[(LinkKind, String)],
    ) -> Result<Vec<(LinkKind, String, i64)>>;
}

#[async_trait]
impl SanctionStore for SqlStore {
    async fn add_sanction(
        &self,
        account: AccountId,
        level: SanctionLevel,
        reason: &str,
        until: Option<UnixMillis>,
        actor: Option<AccountId>,
        at: UnixMillis,
    ) -> Result<i64> {
        let r = sqlx::query(
            "INSERT INTO account_sanctions (account_id, level, reason, until_at, actor_id, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(account.0)
        .bind(level.as_str())
        .bind(reason)
        .bind(until.map(|u| u.0))
        .bind(actor.map(|a| a.0))
        .bind(at.0)
        .fetch_one(self.pool())
        .await
        .map_err(|e| classify(e, "sanction", "account"))?;
        Ok(r.try_get(0)?)
    }

    async fn sanctions_of(&self, account: AccountId) -> Result<Vec<SanctionRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {SANCTION_COLS} FROM account_sanctions WHERE account_id = $1 ORDER BY id"
        ))
        .bind(account.0)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(sanction_from).collect()
    }

    async fn sanction(&self, id: i64) -> Result<Option<SanctionRecord>> {
        let r = sqlx::query(&format!(
            "SELECT {SANCTION_COLS} FROM account_sanctions WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(sanction_from).transpose()
    }

    async fn lift_sanction(&self, id: i64, at: UnixMillis) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE account_sanctions SET lifted_at = $1 WHERE id = $2 AND lifted_at IS NULL AND level <> 'closure'",
        )
        .bind(at.0)
        .bind(id)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    async fn blacklist(
        &self,
        kind: BlacklistKind,
        value_hash: &str,
        account: Option<AccountId>,
        reason: &str,
        at: UnixMillis,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO blacklist (kind, value_hash, account_id, reason, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (kind, value_hash) DO NOTHING",
        )
        .bind(kind.as_str())
        .bind(value_hash)
        .bind(account.map(|a| a.0))
        .bind(reason)
        .bind(at.0)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn blacklisted(
        &self,
        values: &[(BlacklistKind, String)],
    ) -> Result<Option<(BlacklistKind, String)>> {
        for (k, v) in values {
            let hit = sqlx::query("SELECT 1 FROM blacklist WHERE kind = $1 AND value_hash = $2")
                .bind(k.as_str())
                .bind(v)
                .fetch_optional(self.pool())
                .await?;
            if hit.is_some() {
                return Ok(Some((*k, v.clone())));
            }
        }
        Ok(None)
    }

    async fn record_signal(
        &self,
        account: AccountId,
        kind: LinkKind,
        value_hash: &str,
        at: UnixMillis,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO account_signals (account_id, kind, value_hash, first_seen, last_seen) VALUES ($1, $2, $3, $4, $4) \
             ON CONFLICT (account_id, kind, value_hash) DO UPDATE SET last_seen = excluded.last_seen",
        )
        .bind(account.0)
        .bind(kind.as_str())
        .bind(value_hash)
        .bind(at.0)
        .execute(self.pool())
        .await
        .map_err(|e| classify(e, "signal", "account"))?;
        Ok(())
    }

    async fn signal_popularity(
        &self,
        values: &[(LinkKind, String)],
    ) -> Result<Vec<(LinkKind, String, i64)>> {
        let mut out = Vec::new();
        for chunk in values.chunks(500) {
            let sql = format!(
                "SELECT kind, value_hash, COUNT(DISTINCT account_id) FROM account_signals WHERE value_hash IN ({}) GROUP BY kind, value_hash",
                numbered(1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for (_, v) in chunk {
                q = q.bind(v.as_str());
            }
            for r in q.fetch_all(self.pool()).await? {
                // A value of a kind asked about: other kinds sharing a hash are not counted.
                let k: String = r.try_get(0)?;
                let v: String = r.try_get(1)?;
                if let Some((ck, _)) = chunk.iter().find(|(ck, cv)| ck.as_str() == k && *cv == v) {
                    out.push((*ck, v, r.try_get(2)?));
                }
            }
        }
        Ok(out)
    }

    async fn signals_of(
        &self,
        accounts: &[AccountId],
    ) -> Result<Vec<(AccountId, LinkKind, String)>> {
        let mut out = Vec::new();
        for chunk in accounts.chunks(500) {
            let sql = format!(
                "SELECT account_id, kind, value_hash FROM account_signals WHERE account_id IN ({})",
                numbered(1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for a in chunk {
                q = q.bind(a.0);
            }
            for r in q.fetch_all(self.pool()).await? {
                out.push((
                    AccountId(r.try_get(0)?),
                    named(&r, 1, "signal kind", LinkKind::parse)?,
                    r.try_get(2)?,
                ));
            }
        }
        Ok(out)
    }
}
