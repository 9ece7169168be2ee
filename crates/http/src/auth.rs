//! Who is asking: a session cookie (browsers) or a bearer token (CLI, API clients).
//! Authorisation is explicit in each handler through [`Caller`]'s checks.

use crate::problem::ApiError;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use hawker_domain::{Account, ApiToken, Channel, Role, SessionToken, TokenHash, UnixMillis};
use std::sync::Arc;

pub const SESSION_COOKIE: &str = "hawker_session";
pub const SESSION_DAYS: i64 = 30;

/// The caller, if authenticated. Extracting it never fails on a missing or stale credential;
/// use [`Caller::require`] where a login is needed. Shared with the session cache: a request
/// costs a reference count, not a copy of the account.
#[derive(Debug, Clone)]
pub struct Caller(pub Option<Arc<Account>>);

impl Caller {
    pub fn require(&self) -> Result<&Account, ApiError> {
        self.0.as_deref().ok_or_else(ApiError::unauthenticated)
    }

    pub fn require_role(
        &self,
        pred: impl Fn(Role) -> bool,
        what: &str,
    ) -> Result<&Account, ApiError> {
        let a = self.require()?;
        if pred(a.role) {
            Ok(a)
        } else {
            Err(ApiError::forbidden(format!(
                "{what} needs a different role than {}",
                a.role.as_str()
            )))
        }
    }

    /// Owner of the channel or a platform admin.
    pub fn require_channel_owner(&self, c: &Channel) -> Result<&Account, ApiError> {
        let a = self.require()?;
        if a.id == c.owner || a.role == Role::PlatformAdmin {
            Ok(a)
        } else {
            Err(ApiError::forbidden("only the channel's owner may do this"))
        }
    }
}

fn cookie_value<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = authenticate(parts, state).await?;
        // The access log names the account a request authenticated as.
        if let (Some(a), Some(slot)) = (
            &caller.0,
            parts.extensions.get::<crate::access::AccessAccount>(),
        ) {
            slot.set(a.id);
        }
        Ok(caller)
    }
}

/// The credential presented, if any: a bearer token first, then the session cookie.
async fn authenticate(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
    if let Some(bearer) = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        let account = state
            .store
            .api_token_account(&ApiToken::from_presented(bearer.trim()).hash())
            .await?;
        // A presented but unknown token is an error, not anonymity: the client meant to
        // authenticate and should hear that it failed.
        return account.map(|a| Caller(Some(Arc::new(a)))).ok_or_else(|| {
            ApiError::new(
                axum::http::StatusCode::UNAUTHORIZED,
                "invalid_token",
                "The bearer token is not valid",
            )
        });
    }
    if let Some(v) = cookie_value(parts, SESSION_COOKIE) {
        let digest = SessionToken::presented_digest(v);
        if let Some(a) = state.sessions.get(&digest) {
            return Ok(Caller(Some(a)));
        }
        let account = state
            .store
            .session_account(&TokenHash::of_digest(&digest), UnixMillis::now())
            .await?
            .map(Arc::new);
        if let Some(a) = &account {
            state.sessions.put(digest, a.clone());
        }
        return Ok(Caller(account));
    }
    Ok(Caller(None))
}

/// `Set-Cookie` for a new session. HttpOnly so scripts cannot read it; SameSite=Lax so other
/// sites cannot ride it for POSTs; Secure when served over HTTPS.
pub fn session_cookie(token: &SessionToken, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        token.expose(),
        SESSION_DAYS * 86_400,
        if secure { "; Secure" } else { "" }
    )
}

pub fn clear_session_cookie(secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    )
}

pub fn session_token_of(parts_headers: &axum::http::HeaderMap) -> Option<SessionToken> {
    parts_headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| SessionToken::from_presented(v))
}

/// Recently seen sessions, so a buyer tapping "buy" does not cost a database read per request.
/// Entries live 15 seconds: a log-out on this node takes effect at once (it evicts), on
/// other nodes and for role changes within that time.
pub struct SessionCache {
    map: parking_lot::Mutex<SessionMap>,
}

/// Session digest → the account and when it was read from storage.
type SessionMap =
    std::collections::HashMap<[u8; 32], (Arc<Account>, std::time::Instant), DigestHasher>;

/// Keys are SHA-256 digests, already uniform: their first eight bytes are the hash. (SipHash
/// over the hex form, with its allocation, was a visible part of every authenticated request.)
/// No flooding: only sessions found in storage are inserted, so a client cannot pick the keys.
#[derive(Default, Clone, Copy)]
struct DigestHasher(u64);

impl std::hash::Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for (i, b) in bytes.iter().take(8).enumerate() {
            self.0 ^= (*b as u64) << (8 * i);
        }
    }
    fn write_usize(&mut self, _: usize) {} // the length prefix of a [u8; 32]: always 32
}

impl std::hash::BuildHasher for DigestHasher {
    type Hasher = DigestHasher;
    fn build_hasher(&self) -> DigestHasher {
        DigestHasher(0)
    }
}

const SESSION_TTL: std::time::Duration = std::time::Duration::from_secs(15);
const SESSION_CACHE_MAX: usize = 200_000;

impl SessionCache {
    pub fn new() -> Self {
        SessionCache {
            map: parking_lot::Mutex::new(std::collections::HashMap::with_hasher(DigestHasher(0))),
        }
    }

    fn get(&self, digest: &[u8; 32]) -> Option<Arc<Account>> {
        let map = self.map.lock();
        map.get(digest)
            .filter(|(_, at)| at.elapsed() < SESSION_TTL)
            .map(|(a, _)| a.clone())
    }

    fn put(&self, digest: [u8; 32], account: Arc<Account>) {
        let mut map = self.map.lock();
        if map.len() >= SESSION_CACHE_MAX {
            map.retain(|_, (_, at)| at.elapsed() < SESSION_TTL);
            if map.len() >= SESSION_CACHE_MAX {
                map.clear();
            }
        }
        map.insert(digest, (account, std::time::Instant::now()));
    }

    /// `digest`: [`SessionToken::digest`] of the session ended.
    pub fn evict(&self, digest: &[u8; 32]) {
        self.map.lock().remove(digest);
    }
}

impl Default for SessionCache {
    fn default() -> Self {
        Self::new()
    }
}
