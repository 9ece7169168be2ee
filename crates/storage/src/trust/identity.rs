//! Real-name checks and each account's trust profile (training, broadcast check, minor mode).

use super::*;

#[async_trait]
pub trait IdentityStore: Send + Sync {
    async fn submit_identity(&self, c: &NewIdentityCheck) -> Result<IdentityCheck>;
    async fn identity_check(&self, id: i64) -> Result<Option<IdentityCheck>>;
    async fn latest_identity(&self, account: AccountId) -> Result<Option<IdentityCheck>>;
    /// Checks in a state, oldest first (the review queue).
    async fn identity_checks(&self, state: ReviewState, limit: i64) -> Result<Vec<IdentityCheck>>;
    /// Decides a submitted check; an approval also fills the account's trust profile. False
    /// when the check was not waiting for review.
    async fn review_identity(
        &self,
        id: i64,
        approve: bool,
        reason: Option<&str>,
        reviewer: AccountId,
        at: UnixMillis,
    ) -> Result<bool>;
    /// Accounts whose approved identity has this hash.
    async fn accounts_with_identity(&self, id_hash: &str) -> Result<Vec<AccountId>>;
    async fn trust_profile(&self, account: AccountId) -> Result<TrustProfile>;
    /// Accounts that may be minors: in minor mode, or verified with a date of birth after
    /// `born_after` (`YYYY-MM-DD`): (account, date of birth if verified, minor mode).
    async fn minor_candidates(
        &self,
        born_after: &str,
    ) -> Result<Vec<(AccountId, Option<String>, bool)>>;
    async fn set_training_passed(&self, account: AccountId, at: UnixMillis) -> Result<()>;
    async fn set_broadcast_check(&self, account: AccountId, at: UnixMillis) -> Result<()>;
    async fn set_minor_mode(&self, account: AccountId, on: bool) -> Result<()>;
}

#[async_trait]
impl IdentityStore for SqlStore {
    async fn submit_identity(&self, c: &NewIdentityCheck) -> Result<IdentityCheck> {
        let r = sqlx::query(&format!(
            "INSERT INTO identity_checks (account_id, legal_name, id_hash, id_last4, birth_date, phone, document_file, document_type, guardian_name, guardian_consent, state, submitted_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'submitted', $11) RETURNING {CHECK_COLS}"
        ))
        .bind(c.account.0)
        .bind(&c.legal_name)
        .bind(&c.id_hash)
        .bind(&c.id_last4)
        .bind(&c.birth_date)
        .bind(&c.phone)
        .bind(&c.document_file)
        .bind(&c.document_type)
        .bind(&c.guardian_name)
        .bind(c.guardian_consent as i64)
        .bind(c.submitted_at.0)
        .fetch_one(self.pool())
        .await
        .map_err(|e| classify(e, "identity check", "account"))?;
        check_from(&r)
    }

    async fn identity_check(&self, id: i64) -> Result<Option<IdentityCheck>> {
        let r = sqlx::query(&format!(
            "SELECT {CHECK_COLS} FROM identity_checks WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(check_from).transpose()
    }

    async fn latest_identity(&self, account: AccountId) -> Result<Option<IdentityCheck>> {
        let r = sqlx::query(&format!(
            "SELECT {CHECK_COLS} FROM identity_checks WHERE account_id = $1 ORDER BY id DESC LIMIT 1"
        ))
        .bind(account.0)
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(check_from).transpose()
    }

    async fn identity_checks(&self, state: ReviewState, limit: i64) -> Result<Vec<IdentityCheck>> {
        let rows = sqlx::query(&format!(
            "SELECT {CHECK_COLS} FROM identity_checks WHERE state = $1 ORDER BY submitted_at, id LIMIT $2"
        ))
        .bind(state.as_str())
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(check_from).collect()
    }

    async fn review_identity(
        &self,
        id: i64,
        approve: bool,
        reason: Option<&str>,
        reviewer: AccountId,
        at: UnixMillis,
    ) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let r = sqlx::query(&format!(
            "UPDATE identity_checks SET state = $1, reason = $2, reviewer_id = $3, reviewed_at = $4 \
             WHERE id = $5 AND state = 'submitted' RETURNING {CHECK_COLS}"
        ))
        .bind(ReviewState::decided(approve).as_str())
        .bind(reason)
        .bind(reviewer.0)
        .bind(at.0)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(r) = r else {
            return Ok(false);
        };
        let c = check_from(&r)?;
        if approve {
            sqlx::query(
                "INSERT INTO trust_profiles (account_id, birth_date, id_hash, guardian_consent, verified_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (account_id) DO UPDATE SET birth_date = excluded.birth_date, id_hash = excluded.id_hash, guardian_consent = excluded.guardian_consent, verified_at = excluded.verified_at",
            )
            .bind(c.account.0)
            .bind(&c.birth_date)
            .bind(&c.id_hash)
            .bind(c.guardian_consent as i64)
            .bind(at.0)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn accounts_with_identity(&self, id_hash: &str) -> Result<Vec<AccountId>> {
        let rows = sqlx::query("SELECT account_id FROM trust_profiles WHERE id_hash = $1")
            .bind(id_hash)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(|r| Ok(AccountId(r.try_get(0)?))).collect()
    }

    async fn trust_profile(&self, account: AccountId) -> Result<TrustProfile> {
        let r = sqlx::query(
            "SELECT birth_date, id_hash, guardian_consent, verified_at, training_passed_at, broadcast_check_at, minor_mode FROM trust_profiles WHERE account_id = $1",
        )
        .bind(account.0)
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = r else {
            return Ok(TrustProfile::default());
        };
        Ok(TrustProfile {
            birth_date: r.try_get(0)?,
            id_hash: r.try_get(1)?,
            guardian_consent: r.try_get::<i64, _>(2)? != 0,
            verified_at: r.try_get(3)?,
            training_passed_at: r.try_get(4)?,
            broadcast_check_at: r.try_get(5)?,
            minor_mode: r.try_get::<i64, _>(6)? != 0,
        })
    }

    async fn minor_candidates(
        &self,
        born_after: &str,
    ) -> Result<Vec<(AccountId, Option<String>, bool)>> {
        let rows = sqlx::query(
            "SELECT account_id, CASE WHEN verified_at IS NULL THEN NULL ELSE birth_date END, minor_mode FROM trust_profiles \
             WHERE minor_mode <> 0 OR (verified_at IS NOT NULL AND birth_date > $1)",
        )
        .bind(born_after)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    AccountId(r.try_get(0)?),
                    r.try_get(1)?,
                    r.try_get::<i64, _>(2)? != 0,
                ))
            })
            .collect()
    }

    async fn set_training_passed(&self, account: AccountId, at: UnixMillis) -> Result<()> {
        sqlx::query(
            "INSERT INTO trust_profiles (account_id, training_passed_at) VALUES ($1, $2) \
             ON CONFLICT (account_id) DO UPDATE SET training_passed_at = excluded.training_passed_at",
        )
        .bind(account.0)
        .bind(at.0)
        .execute(self.pool())
        .await
        .map_err(|e| classify(e, "trust profile", "account"))?;
        Ok(())
    }

    async fn set_broadcast_check(&self, account: AccountId, at: UnixMillis) -> Result<()> {
        sqlx::query(
            "INSERT INTO trust_profiles (account_id, broadcast_check_at) VALUES ($1, $2) \
             ON CONFLICT (account_id) DO UPDATE SET broadcast_check_at = excluded.broadcast_check_at",
        )
        .bind(account.0)
        .bind(at.0)
        .execute(self.pool())
        .await
        .map_err(|e| classify(e, "trust profile", "account"))?;
        Ok(())
    }

    async fn set_minor_mode(&self, account: AccountId, on: bool) -> Result<()> {
        sqlx::query(
            "INSERT INTO trust_profiles (account_id, minor_mode) VALUES ($1, $2) \
             ON CONFLICT (account_id) DO UPDATE SET minor_mode = excluded.minor_mode",
        )
        .bind(account.0)
        .bind(on as i64)
        .execute(self.pool())
        .await
        .map_err(|e| classify(e, "trust profile", "account"))?;
        Ok(())
    }
}
