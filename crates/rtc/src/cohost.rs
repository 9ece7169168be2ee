//! Co-hosting: the host invites a guest by link; a guest who passes the same go-live rules as
//! a streamer accepts and joins a call with the host; the host's studio composes both onto one
//! picture and publishes that (so every output — LL-HLS, recording, replay, WHEP — carries
//! both without a server-side mixer); the host drops the guest at once.
//!
//! Invites live in memory: a link is good for an hour and one show, and a restart ends every
//! call anyway.

use crate::server::RtcServer;
use parking_lot::Mutex;
use rand::Rng;
use std::collections::HashMap;
use std::sync::Arc;

/// How long an unused invite link stays good.
pub const INVITE_FOR_MS: i64 = 60 * 60 * 1000;

/// What the application decides about a guest, and how it shows them.
#[async_trait::async_trait]
pub trait CoHostRules: Send + Sync + 'static {
    /// The guest must pass the go-live rules (verified real name, age, the course, no
    /// sanction); the refusal says what to do next.
    async fn may_co_host(&self, account: i64) -> Result<(), String>;
    /// The room shows `guest` with the `co_host` badge (None: nobody now).
    async fn announce(&self, slug: &str, guest: Option<i64>);
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Invite {
    /// The link's secret.
    pub token: String,
    pub slug: String,
    pub host: i64,
    pub guest: Option<i64>,
    pub expires_ms: i64,
}

impl Invite {
    /// The call host and guest meet in (the token keeps it unguessable).
    pub fn call(&self) -> String {
        format!("cohost-{}", self.token)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoHostError {
    #[error("no such invite, or it was withdrawn")]
    NoInvite,
    #[error("the invite has expired; ask the host for a new link")]
    Expired,
    #[error("another guest has taken this invite")]
    Taken,
    #[error("the host cannot be their own co-host")]
    OwnInvite,
    #[error("{0}")]
    NotAllowed(String),
    #[error("not a party to this call")]
    NotInCall,
}

impl CoHostError {
    pub fn code(&self) -> &'static str {
        match self {
            CoHostError::NoInvite => "invite_not_found",
            CoHostError::Expired => "invite_expired",
            CoHostError::Taken => "invite_taken",
            CoHostError::OwnInvite => "own_invite",
            CoHostError::NotAllowed(_) => "co_host_not_allowed",
            CoHostError::NotInCall => "not_in_call",
        }
    }
}

pub struct CoHosts {
    rtc: RtcServer,
    rules: Arc<dyn CoHostRules>,
    /// By token; at most one per channel.
    invites: Mutex<HashMap<String, Invite>>,
}

impl CoHosts {
    pub fn new(rtc: RtcServer, rules: Arc<dyn CoHostRules>) -> Arc<Self> {
        Arc::new(CoHosts {
            rtc,
            rules,
            invites: Mutex::new(HashMap::new()),
        })
    }

    /// A new link for `slug`'s host; an earlier invite of the channel is withdrawn and its
    /// guest dropped.
    pub async fn invite(&self, slug: &str, host: i64, now_ms: i64) -> Invite {
        self.withdraw(slug).await;
        let token = format!("{:032x}", rand::thread_rng().gen::<u128>());
        let invite = Invite {
            token: token.clone(),
            slug: slug.to_string(),
            host,
            guest: None,
            expires_ms: now_ms + INVITE_FOR_MS,
        };
        self.invites.lock().insert(token, invite.clone());
        invite
    }

    /// The channel's invite, if one is open.
    pub fn current(&self, slug: &str) -> Option<Invite> {
        self.invites
            .lock()
            .values()
            .find(|i| i.slug == slug)
            .cloned()
    }

    /// The invite behind a link.
    pub fn by_token(&self, token: &str) -> Option<Invite> {
        self.invites.lock().get(token).cloned()
    }

    /// `guest` takes the invite: the go-live rules first, then the badge.
    pub async fn accept(
        &self,
        token: &str,
        guest: i64,
        now_ms: i64,
    ) -> Result<Invite, CoHostError> {
        let invite = self.by_token(token).ok_or(CoHostError::NoInvite)?;
        if invite.host == guest {
            return Err(CoHostError::OwnInvite);
        }
        match invite.guest {
            Some(g) if g != guest => return Err(CoHostError::Taken),
            Some(_) => return Ok(invite), // the same guest again (a reload)
            None if invite.expires_ms <= now_ms => return Err(CoHostError::Expired),
            None => {}
        }
        self.rules
            .may_co_host(guest)
            .await
            .map_err(CoHostError::NotAllowed)?;
        let taken = {
            let mut all = self.invites.lock();
            match all.get_mut(token) {
                Some(i) if i.guest.is_none() => {
                    i.guest = Some(guest);
                    Ok(i.clone())
                }
                Some(i) if i.guest == Some(guest) => Ok(i.clone()),
                Some(_) => Err(CoHostError::Taken),
                None => Err(CoHostError::NoInvite),
            }
        }?;
        tracing::info!(channel = %taken.slug, guest, "co-host joined");
        self.rules.announce(&taken.slug, Some(guest)).await;
        Ok(taken)
    }

    /// May `account` join `call`: its host, or the guest who accepted.
    pub fn may_join(&self, call: &str, account: i64) -> Result<Invite, CoHostError> {
        let invite = call
            .strip_prefix("cohost-")
            .and_then(|t| self.by_token(t))
            .ok_or(CoHostError::NoInvite)?;
        if invite.host == account || invite.guest == Some(account) {
            Ok(invite)
        } else {
            Err(CoHostError::NotInCall)
        }
    }

    /// The host drops the guest now and withdraws the link; returns the guest dropped.
    pub async fn withdraw(&self, slug: &str) -> Option<i64> {
        let invite = {
            let mut all = self.invites.lock();
            let token = all
                .values()
                .find(|i| i.slug == slug)
                .map(|i| i.token.clone())?;
            all.remove(&token)?
        };
        let guest = invite.guest?;
        self.rtc.close_party(&invite.call(), guest).await;
        self.rules.announce(slug, None).await;
        tracing::info!(channel = slug, guest, "co-host dropped");
        Some(guest)
    }
}
