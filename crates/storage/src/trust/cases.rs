//! Complaints and guardians' claims, and what a buyer has spent (the minors' rules).

use super::*;

#[async_trait]
pub trait CaseStore: Send + Sync {
    async fn file_complaint(&self, c: &NewComplaint<'_>) -> Result<Complaint>;
    async fn complaint(&self, id: i64) -> Result<Option<Complaint>>;
    /// Complaints in a state, earliest deadline first.
    async fn complaints(&self, state: ComplaintState, limit: i64) -> Result<Vec<Complaint>>;
    /// Decides an open complaint (`state`: upheld or dismissed). False when it was not open.
    async fn resolve_complaint(
        &self,
        id: i64,
        state: ComplaintState,
        outcome: &str,
        actor: AccountId,
        at: UnixMillis,
    ) -> Result<bool>;
    /// Complaints against an account upheld since `since`.
    async fn upheld_complaints_since(&self, subject: AccountId, since: UnixMillis) -> Result<i64>;
    async fn file_guardian_claim(
        &self,
        claimant: AccountId,
        minor: AccountId,
        evidence: &str,
        at: UnixMillis,
    ) -> Result<GuardianClaim>;
    async fn guardian_claim(&self, id: i64) -> Result<Option<GuardianClaim>>;
    async fn guardian_claims(
        &self,
        state: GuardianClaimState,
        limit: i64,
    ) -> Result<Vec<GuardianClaim>>;
    async fn decide_guardian_claim(
        &self,
        id: i64,
        approve: bool,
        reason: Option<&str>,
        refunded_coins: i64,
        reviewer: AccountId,
        at: UnixMillis,
    ) -> Result<bool>;
    /// What a buyer's orders since `since` add up to (not cancelled or expired).
    async fn buyer_spent_since(&self, buyer: AccountId, since: UnixMillis) -> Result<i64>;
}

#[async_trait]
impl CaseStore for SqlStore {
    async fn file_complaint(&self, c: &NewComplaint<'_>) -> Result<Complaint> {
        let r = sqlx::query(&format!(
            "INSERT INTO complaints (reporter_id, target_kind, target_id, subject_account_id, order_id, reason, details, state, deadline_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $9) RETURNING {COMPLAINT_COLS}"
        ))
        .bind(c.reporter.0)
        .bind(c.target.as_str())
        .bind(c.target_id)
        .bind(c.subject.map(|s| s.0))
        .bind(c.order)
        .bind(c.reason.as_str())
        .bind(c.details)
        .bind(c.deadline.0)
        .bind(c.at.0)
        .fetch_one(self.pool())
        .await
        .map_err(|e| classify(e, "complaint", "account"))?;
        complaint_from(&r)
    }

    async fn complaint(&self, id: i64) -> Result<Option<Complaint>> {
        let r = sqlx::query(&format!(
            "SELECT {COMPLAINT_COLS} FROM complaints WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(complaint_from).transpose()
    }

    async fn complaints(&self, state: ComplaintState, limit: i64) -> Result<Vec<Complaint>> {
        let rows = sqlx::query(&format!(
            "SELECT {COMPLAINT_COLS} FROM complaints WHERE state = $1 ORDER BY deadline_at, id LIMIT $2"
        ))
        .bind(state.as_str())
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(complaint_from).collect()
    }

    async fn resolve_complaint(
        &self,
        id: i64,
        state: ComplaintState,
        outcome: &str,
        actor: AccountId,
        at: UnixMillis,
    ) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE complaints SET state = $1, outcome = $2, resolved_by = $3, resolved_at = $4 WHERE id = $5 AND state = 'open'",
        )
        .bind(state.as_str())
        .bind(outcome)
        .bind(actor.0)
        .bind(at.0)
        .bind(id)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    async fn upheld_complaints_since(&self, subject: AccountId, since: UnixMillis) -> Result<i64> {
        let r = sqlx::query(
            "SELECT COUNT(*) FROM complaints WHERE subject_account_id = $1 AND state = 'upheld' AND resolved_at >= $2",
        )
        .bind(subject.0)
        .bind(since.0)
        .fetch_one(self.pool())
        .await?;
        Ok(r.try_get(0)?)
    }

    async fn file_guardian_claim(
        &self,
        claimant: AccountId,
        minor: AccountId,
        evidence: &str,
        at: UnixMillis,
    ) -> Result<GuardianClaim> {
        let r = sqlx::query(&format!(
            "INSERT INTO guardian_claims (claimant_id, minor_id, evidence, state, created_at) VALUES ($1, $2, $3, 'open', $4) RETURNING {CLAIM_COLS}"
        ))
        .bind(claimant.0)
        .bind(minor.0)
        .bind(evidence)
        .bind(at.0)
        .fetch_one(self.pool())
        .await
        .map_err(|e| classify(e, "guardian claim", "account"))?;
        claim_from(&r)
    }

    async fn guardian_claim(&self, id: i64) -> Result<Option<GuardianClaim>> {
        let r = sqlx::query(&format!(
            "SELECT {CLAIM_COLS} FROM guardian_claims WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(claim_from).transpose()
    }

    async fn guardian_claims(
        &self,
        state: GuardianClaimState,
        limit: i64,
    ) -> Result<Vec<GuardianClaim>> {
        let rows = sqlx::query(&format!(
            "SELECT {CLAIM_COLS} FROM guardian_claims WHERE state = $1 ORDER BY created_at, id LIMIT $2"
        ))
        .bind(state.as_str())
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(claim_from).collect()
    }

    async fn decide_guardian_claim(
        &self,
        id: i64,
        approve: bool,
        reason: Option<&str>,
        refunded_coins: i64,
        reviewer: AccountId,
        at: UnixMillis,
    ) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE guardian_claims SET state = $1, reason = $2, refunded_coins = $3, reviewer_id = $4, reviewed_at = $5 WHERE id = $6 AND state = 'open'",
        )
        .bind(GuardianClaimState::decided(approve).as_str())
        .bind(reason)
        .bind(refunded_coins)
        .bind(reviewer.0)
        .bind(at.0)
        .bind(id)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    async fn buyer_spent_since(&self, buyer: AccountId, since: UnixMillis) -> Result<i64> {
        let r = sqlx::query(
            "SELECT CAST(COALESCE(SUM(total_minor), 0) AS BIGINT) FROM orders WHERE buyer_id = $1 AND created_at >= $2 AND state NOT IN ('cancelled', 'expired')",
        )
        .bind(buyer.0)
        .bind(since.0)
        .fetch_one(self.pool())
        .await?;
        Ok(r.try_get(0)?)
    }
}
