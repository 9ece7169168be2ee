//! The operators' audit log.

use super::*;

#[async_trait]
pub trait AuditStore: Send + Sync {
    async fn audit(
        &self,
        actor: Option<AccountId>,
        action: &str,
        subject: &str,
        detail: &str,
        at: UnixMillis,
    ) -> Result<()>;
    async fn audit_log(&self, limit: i64) -> Result<Vec<AuditEntry>>;
}

#[async_trait]
impl AuditStore for SqlStore {
    async fn audit(
        &self,
        actor: Option<AccountId>,
        action: &str,
        subject: &str,
        detail: &str,
        at: UnixMillis,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO ops_audit (actor_id, action, subject, detail, at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(actor.map(|a| a.0))
        .bind(action)
        .bind(subject)
        .bind(detail)
        .bind(at.0)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn audit_log(&self, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT id, actor_id, action, subject, detail, at FROM ops_audit ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.try_get(0)?,
                    actor: account_opt(r, 1)?,
                    action: r.try_get(2)?,
                    subject: r.try_get(3)?,
                    detail: r.try_get(4)?,
                    at: r.try_get(5)?,
                })
            })
            .collect()
    }
}
