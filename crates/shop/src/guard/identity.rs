//! Real-name checks: submitted by the account, reviewed by ops, or completed by the operator
//! from the CLI (audited as an operator review).

use super::*;

impl Guard {
    /// A real-name check submitted for review. Refused for a blacklisted identity.
    pub async fn submit_identity(
        &self,
        account: AccountId,
        s: IdentitySubmission,
        now: UnixMillis,
    ) -> Result<hawker_storage::trust::IdentityCheck, TrustRefusal> {
        let name = s.legal_name.trim();
        if name.chars().count() < 2
            || name.chars().count() > 100
            || name.chars().any(char::is_control)
        {
            return Err(invalid("legal_name", "2 to 100 characters"));
        }
        let id = IdNumberRecord::new(&self.key, &s.id_number)
            .ok_or_else(|| invalid("id_number", "6 to 32 letters and digits"))?;
        let born = Date::parse(s.birth_date.trim())
            .ok_or_else(|| invalid("birth_date", "a date as YYYY-MM-DD"))?;
        let today = Date::from_unix_ms(now.0);
        if born > today {
            return Err(invalid("birth_date", "is in the future"));
        }
        if let Some(p) = &s.phone {
            let digits = p.chars().filter(char::is_ascii_digit).count();
            if !(6..=15).contains(&digits) || p.len() > 32 {
                return Err(invalid("phone", "6 to 15 digits"));
            }
        }
        let age = born.age_on(today);
        if age < self.policy.adult_age
            && s.guardian_consent
            && s.guardian_name
                .as_deref()
                .is_none_or(|g| g.trim().is_empty())
        {
            return Err(invalid(
                "guardian_name",
                "the guardian who consents must be named",
            ));
        }
        if self
            .store
            .blacklisted(&[(BlacklistKind::Identity, id.keyed_hash.clone())])
            .await?
            .is_some()
        {
            self.store
                .audit(
                    Some(account),
                    "identity_refused_blacklisted",
                    &format!("account:{account}"),
                    "identity matches a closed account",
                    now,
                )
                .await?;
            return Err(TrustRefusal::Blacklisted);
        }
        if let Some(c) = self.store.latest_identity(account).await? {
            if matches!(c.state, ReviewState::Submitted | ReviewState::Approved) {
                return Err(TrustRefusal::Conflict(
                    "a verification is already under review or approved",
                ));
            }
        }
        let check = self
            .store
            .submit_identity(&NewIdentityCheck {
                account,
                legal_name: name.to_string(),
                id_hash: id.keyed_hash,
                id_last4: id.last4,
                birth_date: s.birth_date.trim().to_string(),
                phone: s.phone,
                document_file: s.document_file,
                document_type: s.document_type,
                guardian_name: s.guardian_name.filter(|g| !g.trim().is_empty()),
                guardian_consent: s.guardian_consent,
                submitted_at: now,
            })
            .await?;
        tracing::info!(account = %account, check = check.id, "identity submitted for review");
        Ok(check)
    }

    /// A reviewer's decision, audited.
    pub async fn review_identity(
        &self,
        id: i64,
        approve: bool,
        reason: Option<&str>,
        reviewer: AccountId,
        now: UnixMillis,
    ) -> Result<(), TrustRefusal> {
        if !approve && reason.is_none_or(|r| r.trim().is_empty()) {
            return Err(invalid(
                "reason",
                "a rejection needs a reason the applicant can act on",
            ));
        }
        let check = self
            .store
            .identity_check(id)
            .await?
            .ok_or(TrustRefusal::NotFound("verification"))?;
        if !self
            .store
            .review_identity(id, approve, reason, reviewer, now)
            .await?
        {
            return Err(TrustRefusal::Conflict(
                "this verification was already decided",
            ));
        }
        self.refresh_minor(check.account).await?;
        self.store
            .audit(
                Some(reviewer),
                if approve {
                    "identity_approved"
                } else {
                    "identity_rejected"
                },
                &format!("account:{}", check.account),
                reason.unwrap_or(""),
                now,
            )
            .await?;
        Ok(())
    }

    /// The operator's own check of someone they know (themselves, a colleague, a store's clerk):
    /// the details are recorded as a submission, approved by `operator` at once, and the rules
    /// course is marked passed on the operator's word; the audit log says so. This is how a
    /// self-hoster gets their own channels past the go-live rules without a second reviewer
    /// (`hawker account verify EMAIL`). Refused like a submission (blacklist, bad details) and
    /// when a check is already approved; a waiting one is decided by this review.
    pub async fn verify_by_operator(
        &self,
        account: AccountId,
        s: IdentitySubmission,
        operator: AccountId,
        now: UnixMillis,
    ) -> Result<StreamerStatus, TrustRefusal> {
        if let Some(c) = self.store.latest_identity(account).await? {
            if c.state == ReviewState::Submitted {
                self.store
                    .review_identity(
                        c.id,
                        false,
                        Some("superseded by the operator's check"),
                        operator,
                        now,
                    )
                    .await?;
            }
        }
        let check = self.submit_identity(account, s, now).await?;
        self.review_identity(
            check.id,
            true,
            Some("verified by the operator"),
            operator,
            now,
        )
        .await?;
        if self.policy.training_required
            && self
                .store
                .trust_profile(account)
                .await?
                .training_passed_at
                .is_none()
        {
            self.store.set_training_passed(account, now).await?;
            self.store
                .audit(
                    Some(operator),
                    "training_attested_by_operator",
                    &format!("account:{account}"),
                    "the operator attests the platform-rules course",
                    now,
                )
                .await?;
        }
        self.streamer_status(account, now).await
    }
}
