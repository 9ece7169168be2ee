//! The trust rules applied to accounts over storage: real-name checks and their review, who
//! may go live (verified, old enough, trained, not sanctioned, re-checked where the law wants
//! it), who may gift, top up or buy (minors), sanctions and the blacklist, the attributes the
//! risk engine links accounts by, complaints, and the per-show risk assessment. The rules
//! themselves are `hawker_trust`'s plain functions; this is where they meet the records.

use hawker_domain::{AccountId, ShowId, UnixMillis};
use hawker_storage::trust::{NewIdentityCheck, RiskFlag, TrustProfile};
use hawker_storage::{StorageError, Store};
use hawker_trust::age::{AgeRefusal, Date};
use hawker_trust::engine::{assess, Assessment, ShowEvidence, ShowOrder, ViewerSession};
use hawker_trust::identity::IdNumberRecord;
use hawker_trust::policy::{KybDuty, TrustPolicy};
use hawker_trust::review::ReviewState;
use hawker_trust::risk::LinkKind;
use hawker_trust::sanctions::{BlacklistKind, Sanction, SanctionLevel, Standing};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use std::collections::BTreeSet;
use std::sync::Arc;

mod identity;
mod risk;

/// Why the platform refuses; each has a stable code for the API.
#[derive(Debug, thiserror::Error)]
pub enum TrustRefusal {
    #[error("real-name verification is required first")]
    NotVerified,
    #[error("the real-name verification is waiting for review")]
    VerificationPending,
    #[error(transparent)]
    Age(#[from] AgeRefusal),
    #[error("the platform-rules course must be passed before the first broadcast")]
    TrainingNeeded,
    #[error("a fresh identity re-check is required before each broadcast")]
    RecheckNeeded,
    #[error("the identity re-check failed")]
    RecheckFailed,
    #[error("the account is under a {0} sanction")]
    Sanctioned(&'static str),
    #[error("this identity, device or payment instrument belongs to a closed account")]
    Blacklisted,
    #[error("{0}")]
    MinorLimit(String),
    #[error("the seller passed the yearly thresholds for business verification and its KYB data is not approved")]
    KybRequired,
    #[error("this seller may not sell at the moment")]
    SellerSuspended,
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(&'static str),
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
}

impl TrustRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            TrustRefusal::NotVerified => "verification_required",
            TrustRefusal::VerificationPending => "verification_pending",
            TrustRefusal::Age(AgeRefusal::TooYoungToStream) => "too_young_to_stream",
            TrustRefusal::Age(AgeRefusal::NeedsGuardianConsent) => "guardian_consent_required",
            TrustRefusal::Age(AgeRefusal::MinorSpending) => "minor_spending",
            TrustRefusal::Age(AgeRefusal::AgeUnknown) => "age_unverified",
            TrustRefusal::TrainingNeeded => "training_required",
            TrustRefusal::RecheckNeeded => "recheck_required",
            TrustRefusal::RecheckFailed => "recheck_failed",
            TrustRefusal::Sanctioned(_) => "sanctioned",
            TrustRefusal::Blacklisted => "blacklisted",
            TrustRefusal::MinorLimit(_) => "minor_limit",
            TrustRefusal::KybRequired => "kyb_required",
            TrustRefusal::SellerSuspended => "seller_suspended",
            TrustRefusal::Invalid { .. } => "invalid_field",
            TrustRefusal::NotFound(_) => "not_found",
            TrustRefusal::Conflict(_) => "conflict",
            TrustRefusal::Storage(_) => "internal",
        }
    }
}

impl TrustRefusal {
    /// What the refused person (or the operator) does next, for refusals of going live.
    pub fn next_step(&self) -> Option<&'static str> {
        Some(match self {
            TrustRefusal::NotVerified => "submit the real-name details in the studio (/studio), or an operator runs `hawker account verify EMAIL --legal-name NAME --birth-date YYYY-MM-DD --id-number NUMBER`",
            TrustRefusal::VerificationPending => "wait for ops to review the details in /ops, or an operator runs `hawker account verify EMAIL ...`",
            TrustRefusal::TrainingNeeded => "pass the platform-rules course in the studio (/studio)",
            TrustRefusal::RecheckNeeded | TrustRefusal::RecheckFailed => "re-check the identity document number in the studio (/studio) just before going live",
            TrustRefusal::Age(AgeRefusal::NeedsGuardianConsent) => "submit the details again with a guardian's consent",
            TrustRefusal::Sanctioned(_) => "see the sanction and how to appeal in the studio (/studio)",
            _ => return None,
        })
    }
}

/// What the studio shows a streamer about going live.
#[derive(Debug, Clone, Serialize)]
pub struct StreamerStatus {
    /// `none`, `submitted`, `approved`, `rejected`.
    pub verification: &'static str,
    pub rejection_reason: Option<String>,
    pub age: Option<i32>,
    pub training_passed: bool,
    pub recheck_required: bool,
    pub recheck_fresh: bool,
    pub sanction: Option<&'static str>,
    pub minor_mode: bool,
    /// `None` when going live is allowed; the refusal's code otherwise.
    pub blocked_by: Option<&'static str>,
    pub blocked_reason: Option<String>,
    /// What to do about `blocked_by`.
    pub next_step: Option<&'static str>,
}

pub struct Guard {
    store: Arc<dyn Store>,
    policy: TrustPolicy,
    key: Vec<u8>,
    /// Broadcasts need verification, training and (cn) a re-check. On by default.
    gate_broadcasts: bool,
    /// Every account that is (or may still be) a minor: in minor mode, or with a verified date
    /// of birth less than `adult_age` years ago when loaded. Held in memory so the flash-sale
    /// path never asks storage: an adult is not in it at all. Loaded at the first question,
    /// updated here when a verification or minor mode changes, reloaded every minute (other
    /// nodes' changes).
    minors: parking_lot::RwLock<Option<MinorIndex>>,
    /// Organisations whose KYB standing was checked, until when it stands (a year's sales are
    /// summed at most every `kyb_recheck_seconds` per seller).
    kyb_checked: parking_lot::Mutex<std::collections::HashMap<i64, (bool, i64)>>,
}

#[derive(Default)]
struct MinorIndex {
    /// Account → (verified date of birth, minor mode).
    accounts: std::collections::HashMap<AccountId, (Option<Date>, bool)>,
}
/// Viewer sessions an assessment reads at most: the first to join, in a show with more.
const MAX_SESSIONS: i64 = 200_000;

pub struct IdentitySubmission {
    pub legal_name: String,
    pub id_number: String,
    pub birth_date: String,
    pub phone: Option<String>,
    pub document_file: Option<String>,
    pub document_type: Option<String>,
    pub guardian_name: Option<String>,
    pub guardian_consent: bool,
}

fn invalid(field: &'static str, reason: impl Into<String>) -> TrustRefusal {
    TrustRefusal::Invalid {
        field,
        reason: reason.into(),
    }
}

impl Guard {
    pub fn new(
        store: Arc<dyn Store>,
        policy: TrustPolicy,
        key: Vec<u8>,
        gate_broadcasts: bool,
    ) -> Arc<Guard> {
        Arc::new(Guard {
            store,
            policy,
            key,
            gate_broadcasts,
            minors: parking_lot::RwLock::new(None),
            kyb_checked: Default::default(),
        })
    }

    pub fn policy(&self) -> &TrustPolicy {
        &self.policy
    }

    /// A keyed hash of an attribute value (device id, network, address, card): links between
    /// accounts are found without keeping the values.
    pub fn hash(&self, kind: &str, value: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length");
        mac.update(kind.as_bytes());
        mac.update(b"\0");
        mac.update(value.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    /// A payout account number as stored: keyed hash and last four (like an ID number).
    pub fn account_number(&self, number: &str) -> Option<IdNumberRecord> {
        IdNumberRecord::new(&self.key, number)
    }

    pub async fn profile(&self, account: AccountId) -> Result<TrustProfile, TrustRefusal> {
        Ok(self.store.trust_profile(account).await?)
    }

    /// Age from the verified date of birth; `None` when unverified.
    pub async fn age(
        &self,
        account: AccountId,
        now: UnixMillis,
    ) -> Result<Option<i32>, TrustRefusal> {
        let p = self.store.trust_profile(account).await?;
        Ok(Self::age_of(&p, now))
    }

    fn age_of(p: &TrustProfile, now: UnixMillis) -> Option<i32> {
        p.verified_at?;
        let born = Date::parse(p.birth_date.as_deref()?)?;
        Some(born.age_on(Date::from_unix_ms(now.0)))
    }

    pub async fn standing(
        &self,
        account: AccountId,
        now: UnixMillis,
    ) -> Result<Standing, TrustRefusal> {
        let s: Vec<Sanction> = self
            .store
            .sanctions_of(account)
            .await?
            .into_iter()
            .map(|r| Sanction {
                level: r.level,
                until: r.until,
                lifted: r.lifted_at.is_some(),
            })
            .collect();
        Ok(Standing::of(&s, now.0))
    }

    /// Everything that decides whether `account` may go live now.
    pub async fn streamer_status(
        &self,
        account: AccountId,
        now: UnixMillis,
    ) -> Result<StreamerStatus, TrustRefusal> {
        let p = self.store.trust_profile(account).await?;
        let latest = self.store.latest_identity(account).await?;
        let standing = self.standing(account, now).await?;
        let mut st = StreamerStatus {
            verification: latest.as_ref().map_or("none", |c| c.state.as_str()),
            rejection_reason: latest.as_ref().and_then(|c| c.reason.clone()),
            age: Self::age_of(&p, now),
            training_passed: p.training_passed_at.is_some(),
            recheck_required: self.policy.recheck_before_broadcast,
            recheck_fresh: self.policy.recheck_fresh(p.broadcast_check_at, now.0),
            sanction: standing.level.map(SanctionLevel::as_str),
            minor_mode: p.minor_mode,
            blocked_by: None,
            blocked_reason: None,
            next_step: None,
        };
        if let Err(e) = self.go_live_rule(&p, latest.as_ref().map(|c| c.state), standing, now) {
            st.blocked_by = Some(e.code());
            st.blocked_reason = Some(e.to_string());
            st.next_step = e.next_step();
        }
        Ok(st)
    }

    fn go_live_rule(
        &self,
        p: &TrustProfile,
        latest: Option<ReviewState>,
        standing: Standing,
        now: UnixMillis,
    ) -> Result<(), TrustRefusal> {
        if let Err(l) = standing.may_go_live() {
            return Err(TrustRefusal::Sanctioned(l.as_str()));
        }
        if !self.gate_broadcasts {
            return Ok(());
        }
        let Some(age) = Self::age_of(p, now) else {
            return Err(if latest == Some(ReviewState::Submitted) {
                TrustRefusal::VerificationPending
            } else {
                TrustRefusal::NotVerified
            });
        };
        self.policy.may_stream(age, p.guardian_consent)?;
        if self.policy.training_required && p.training_passed_at.is_none() {
            return Err(TrustRefusal::TrainingNeeded);
        }
        if self.policy.recheck_before_broadcast
            && !self.policy.recheck_fresh(p.broadcast_check_at, now.0)
        {
            return Err(TrustRefusal::RecheckNeeded);
        }
        Ok(())
    }

    /// Asked at ingest for the channel's owner.
    pub async fn may_go_live(
        &self,
        account: AccountId,
        now: UnixMillis,
    ) -> Result<(), TrustRefusal> {
        let p = self.store.trust_profile(account).await?;
        let latest = self.store.latest_identity(account).await?;
        let standing = self.standing(account, now).await?;
        self.go_live_rule(&p, latest.as_ref().map(|c| c.state), standing, now)
    }

    /// The re-check before a broadcast: the person at the camera proves the verified identity
    /// by its document number (compared as keyed hashes); passing opens a window to go live.
    pub async fn recheck(
        &self,
        account: AccountId,
        id_number: &str,
        now: UnixMillis,
    ) -> Result<(), TrustRefusal> {
        let p = self.store.trust_profile(account).await?;
        let Some(stored) = p.id_hash.as_deref().filter(|_| p.verified_at.is_some()) else {
            return Err(TrustRefusal::NotVerified);
        };
        let ok = IdNumberRecord::new(&self.key, id_number).is_some_and(|r| r.keyed_hash == stored);
        self.store
            .audit(
                Some(account),
                if ok {
                    "recheck_passed"
                } else {
                    "recheck_failed"
                },
                &format!("account:{account}"),
                "",
                now,
            )
            .await?;
        if !ok {
            return Err(TrustRefusal::RecheckFailed);
        }
        self.store.set_broadcast_check(account, now).await?;
        Ok(())
    }

    pub async fn pass_training(
        &self,
        account: AccountId,
        answers: &[usize],
        now: UnixMillis,
    ) -> Result<hawker_trust::training::Grade, TrustRefusal> {
        let g = hawker_trust::training::grade(answers, self.policy.training_pass_bps);
        if g.passed {
            self.store.set_training_passed(account, now).await?;
        }
        Ok(g)
    }

    /// Gifts and coin top-ups: adults only; unverified accounts only where the law allows.
    pub async fn may_spend_coins(
        &self,
        account: AccountId,
        now: UnixMillis,
    ) -> Result<(), TrustRefusal> {
        let p = self.store.trust_profile(account).await?;
        if p.minor_mode {
            return Err(AgeRefusal::MinorSpending.into());
        }
        Ok(self.policy.may_spend_coins(Self::age_of(&p, now))?)
    }

    /// A purchase of `amount` (minor units): minors and accounts in minor mode are capped per
    /// order and per day.
    pub async fn may_buy(
        &self,
        account: AccountId,
        amount: i64,
        now: UnixMillis,
    ) -> Result<(), TrustRefusal> {
        let p = self.store.trust_profile(account).await?;
        let minor =
            p.minor_mode || Self::age_of(&p, now).is_some_and(|a| a < self.policy.adult_age);
        if !minor {
            return Ok(());
        }
        let day = Date::from_unix_ms(now.0).start_ms();
        let spent = self
            .store
            .buyer_spent_since(account, UnixMillis(day))
            .await?;
        self.policy
            .minor_may_buy(amount, spent)
            .map_err(TrustRefusal::MinorLimit)
    }

    /// Is the account a verified minor or in minor mode? Answered from memory.
    pub async fn is_minor(
        &self,
        account: AccountId,
        now: UnixMillis,
    ) -> Result<bool, TrustRefusal> {
        if self.minors.read().is_none() {
            self.reload_minors(now).await?;
        }
        let today = Date::from_unix_ms(now.0);
        Ok(self.minors.read().as_ref().is_some_and(|m| {
            m.accounts.get(&account).is_some_and(|(born, mode)| {
                *mode || born.is_some_and(|b| b.age_on(today) < self.policy.adult_age)
            })
        }))
    }

    /// Reads every possible minor from storage (at start and every minute).
    pub async fn reload_minors(&self, now: UnixMillis) -> Result<usize, TrustRefusal> {
        let today = Date::from_unix_ms(now.0);
        let cutoff = format!(
            "{:04}-{:02}-{:02}",
            today.year - self.policy.adult_age,
            today.month,
            today.day
        );
        let mut index = MinorIndex::default();
        for (account, born, mode) in self.store.minor_candidates(&cutoff).await? {
            index
                .accounts
                .insert(account, (born.as_deref().and_then(Date::parse), mode));
        }
        let n = index.accounts.len();
        *self.minors.write() = Some(index);
        Ok(n)
    }

    /// One account's entry after its verification or minor mode changed.
    async fn refresh_minor(&self, account: AccountId) -> Result<(), TrustRefusal> {
        let p = self.store.trust_profile(account).await?;
        let born = p
            .verified_at
            .and(p.birth_date.as_deref())
            .and_then(Date::parse);
        if let Some(index) = self.minors.write().as_mut() {
            if p.minor_mode || born.is_some() {
                index.accounts.insert(account, (born, p.minor_mode));
            } else {
                index.accounts.remove(&account);
            }
        }
        Ok(())
    }

    pub async fn set_minor_mode(&self, account: AccountId, on: bool) -> Result<(), TrustRefusal> {
        self.store.set_minor_mode(account, on).await?;
        self.refresh_minor(account).await?;
        Ok(())
    }

    /// May this organisation sell? A seller past the KYB thresholds (DSA art. 30, INFORM) keeps
    /// selling for the grace period from when that was first noticed, then only with approved
    /// KYB data.
    pub async fn kyb_gate(&self, org: i64, now: UnixMillis) -> Result<(), TrustRefusal> {
        if let Some((ok, until)) = self.kyb_checked.lock().get(&org) {
            if *until > now.0 {
                return if *ok {
                    Ok(())
                } else {
                    Err(TrustRefusal::KybRequired)
                };
            }
        }
        let since = UnixMillis(now.0 - 365 * 86_400_000);
        let (count, amount) = self.store.org_sales_since(org, since).await?;
        let duty = self.policy.kyb_duty(count, amount);
        let ok = match duty {
            KybDuty::None => true,
            _ if self
                .store
                .business_profile(org)
                .await?
                .is_some_and(|p| p.state == ReviewState::Approved) =>
            {
                true
            }
            d => {
                let noticed = self.store.kyb_notice(org, d, now).await?;
                let within = now.0 - noticed < self.policy.kyb_grace_days * 86_400_000;
                if within {
                    tracing::warn!(org, "seller over the KYB thresholds; verification due");
                }
                within
            }
        };
        // A refusal is looked at again soon: an approval should count at once.
        let ttl = if ok {
            self.policy.kyb_recheck_seconds * 1_000
        } else {
            5_000
        };
        self.kyb_checked.lock().insert(org, (ok, now.0 + ttl));
        if ok {
            Ok(())
        } else {
            Err(TrustRefusal::KybRequired)
        }
    }

    /// Ops decided a seller's KYB data: the next sale asks again.
    pub fn forget_kyb(&self, org: i64) {
        self.kyb_checked.lock().remove(&org);
    }

    /// Gifts to a host under a feature limit or above are refused.
    pub async fn may_receive_gifts(
        &self,
        host: AccountId,
        now: UnixMillis,
    ) -> Result<(), TrustRefusal> {
        let st = self.standing(host, now).await?;
        if st.full_features() {
            Ok(())
        } else {
            Err(TrustRefusal::Sanctioned(
                st.level.map_or("feature_limit", SanctionLevel::as_str),
            ))
        }
    }

    /// Remembers what an account was seen with. Values are hashed here; none is kept raw.
    pub async fn seen(
        &self,
        account: AccountId,
        kind: LinkKind,
        value: &str,
        now: UnixMillis,
    ) -> Result<(), TrustRefusal> {
        let v = value.trim();
        if v.is_empty() || v.len() > 2_000 {
            return Ok(());
        }
        self.store
            .record_signal(account, kind, &self.hash(kind.as_str(), v), now)
            .await?;
        Ok(())
    }

    /// Is any of these raw values on the blacklist?
    pub async fn blacklisted(&self, values: &[(LinkKind, &str)]) -> Result<bool, TrustRefusal> {
        let hashed: Vec<(BlacklistKind, String)> = values
            .iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| (BlacklistKind::Link(*k), self.hash(k.as_str(), v.trim())))
            .collect();
        Ok(self.store.blacklisted(&hashed).await?.is_some())
    }

    /// A sanction, audited. Closure also blacklists the verified identity and every device
    /// and payment instrument the account was seen with.
    pub async fn sanction(
        &self,
        account: AccountId,
        level: SanctionLevel,
        reason: &str,
        until: Option<UnixMillis>,
        actor: Option<AccountId>,
        now: UnixMillis,
    ) -> Result<i64, TrustRefusal> {
        let reason = reason.trim();
        if reason.is_empty() || reason.len() > 1_000 {
            return Err(invalid("reason", "1 to 1,000 characters"));
        }
        let id = self
            .store
            .add_sanction(account, level, reason, until, actor, now)
            .await?;
        if level == SanctionLevel::Closure {
            let p = self.store.trust_profile(account).await?;
            if let Some(h) = p.id_hash {
                self.store
                    .blacklist(BlacklistKind::Identity, &h, Some(account), reason, now)
                    .await?;
            }
            for (_, kind, h) in self.store.signals_of(&[account]).await? {
                if matches!(kind, LinkKind::Device | LinkKind::PaymentInstrument) {
                    self.store
                        .blacklist(BlacklistKind::Link(kind), &h, Some(account), reason, now)
                        .await?;
                }
            }
        }
        self.store
            .audit(
                actor,
                "sanction",
                &format!("account:{account}"),
                &format!("{}: {reason}", level.as_str()),
                now,
            )
            .await?;
        tracing::warn!(account = %account, level = level.as_str(), "account sanctioned");
        Ok(id)
    }
}
