//! Sign-up, log-in, log-out, and who am I.

use crate::auth::{clear_session_cookie, session_cookie, session_token_of, Caller, SESSION_DAYS};
use crate::json::ApiJson;
use crate::problem::{ApiError, ApiResult};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hawker_domain::{Account, DisplayName, Email, PasswordHash, Role, SessionToken, UnixMillis};
use hawker_storage::NewAccount;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct AccountView {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: &'static str,
    pub created_at: i64,
}

impl From<&Account> for AccountView {
    fn from(a: &Account) -> Self {
        AccountView {
            id: a.id.0,
            email: a.email.as_str().to_string(),
            display_name: a.display_name.as_str().to_string(),
            role: a.role.as_str(),
            created_at: a.created_at.0,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignUp {
    email: String,
    password: String,
    display_name: String,
    /// `viewer` (default) or `streamer`; admins are made by admins.
    #[serde(default)]
    role: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LogIn {
    email: String,
    password: String,
}

/// Hashing takes tens of milliseconds of CPU: keep it off the async workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> ApiResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| ApiError::internal())
}

async fn start_session(state: &AppState, account: &Account) -> ApiResult<Response> {
    let token = SessionToken::generate();
    let expires = UnixMillis::now().plus_ms(SESSION_DAYS * 86_400_000);
    state
        .store
        .create_session(account.id, &token.hash(), expires)
        .await?;
    let cookie = session_cookie(&token, state.settings.secure_cookies);
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(AccountView::from(account)),
    )
        .into_response())
}

#[utoipa::path(
    post,
    path = "/api/v1/accounts",
    tag = "accounts",
    summary = "Sign up; starts a session",
    request_body = SignUp,
    responses((status = 201, description = "Account created; the session cookie is set", body = AccountView))
)]
pub(crate) async fn sign_up(
    State(state): State<AppState>,
    origin: super::common::Origin,
    ApiJson(body): ApiJson<SignUp>,
) -> ApiResult<Response> {
    let email = Email::parse(&body.email)?;
    // A closed account's device does not open a new one.
    if let Some(d) = &origin.device {
        if state
            .guard
            .blacklisted(&[(hawker_trust::risk::LinkKind::Device, d)])
            .await?
        {
            return Err(hawker_shop::guard::TrustRefusal::Blacklisted.into());
        }
    }
    let display_name = DisplayName::parse(&body.display_name)?;
    let role = match body.role.as_deref().unwrap_or("viewer") {
        "viewer" => Role::Viewer,
        "streamer" => Role::Streamer,
        other => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                "A field is invalid",
            )
            .detail(format!("role: {other:?} cannot be chosen at sign-up")))
        }
    };
    let password = body.password;
    let hash = blocking(move || PasswordHash::create(&password)).await??;
    let account = state
        .store
        .create_account(NewAccount {
            email,
            display_name,
            password: hash,
            role,
            created_at: UnixMillis::now(),
        })
        .await
        .map_err(|e| match e {
            hawker_storage::StorageError::Conflict { .. } => {
                ApiError::conflict("email_taken", "an account with this e-mail address exists")
            }
            other => other.into(),
        })?;
    tracing::info!(account = %account.id, role = account.role.as_str(), "account created");
    origin.remember(&state, account.id, &[]);
    let mut resp = start_session(&state, &account).await?;
    *resp.status_mut() = StatusCode::CREATED;
    Ok(resp)
}

/// Verified against when the e-mail is unknown, so both paths cost the same and timing does
/// not reveal which addresses have accounts.
fn decoy_hash() -> &'static PasswordHash {
    static DECOY: OnceLock<PasswordHash> = OnceLock::new();
    DECOY.get_or_init(|| PasswordHash::create("decoy password that nobody has").expect("valid"))
}

#[utoipa::path(
    post,
    path = "/api/v1/sessions",
    tag = "accounts",
    summary = "Log in; starts a session",
    request_body = LogIn,
    responses((status = 200, description = "Logged in; the session cookie is set", body = AccountView))
)]
pub(crate) async fn log_in(
    State(state): State<AppState>,
    origin: super::common::Origin,
    ApiJson(body): ApiJson<LogIn>,
) -> ApiResult<Response> {
    let invalid = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "E-mail or password is wrong",
        )
    };
    let account = match Email::parse(&body.email) {
        Ok(e) => state.store.account_by_email(&e).await?,
        Err(_) => None,
    };
    let hash = account.as_ref().map(|a| a.password.clone());
    let password = body.password;
    let ok = blocking(move || match hash {
        Some(h) => h.verify(&password),
        None => {
            decoy_hash().verify(&password);
            false
        }
    })
    .await?;
    match account {
        Some(a) if ok => {
            origin.remember(&state, a.id, &[]);
            start_session(&state, &a).await
        }
        _ => {
            metrics::counter!("hawker_login_failures_total").increment(1);
            Err(invalid())
        }
    }
}

#[utoipa::path(
    delete,
    path = "/api/v1/sessions/current",
    tag = "accounts",
    summary = "Log out",
    responses((status = 204, description = "The session is ended and the cookie cleared")),
    security((), ("bearer" = []), ("session" = []))
)]
pub(crate) async fn log_out(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    if let Some(t) = session_token_of(&headers) {
        state.sessions.evict(&t.digest());
        state.store.delete_session(&t.hash()).await?;
    }
    Ok((
        StatusCode::NO_CONTENT,
        [(
            header::SET_COOKIE,
            clear_session_cookie(state.settings.secure_cookies),
        )],
    )
        .into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "accounts",
    summary = "Who am I",
    responses((status = 200, description = "The signed-in account", body = AccountView)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn me(caller: Caller) -> ApiResult<Json<AccountView>> {
    Ok(Json(AccountView::from(caller.require()?)))
}

/// `GET /api/v1/session`: who the caller is, `{"account": null}` when nobody is signed in.
/// Pages ask this instead of `/api/v1/me`, whose 401 a browser logs as an error.
#[utoipa::path(
    get,
    path = "/api/v1/session",
    tag = "accounts",
    summary = "Who am I, without a 401",
    responses((status = 200, description = "The signed-in account, or null", body = SessionView)),
    security((), ("bearer" = []), ("session" = []))
)]
pub(crate) async fn session(caller: Caller) -> Json<SessionView> {
    Json(SessionView {
        account: caller.0.as_deref().map(AccountView::from),
    })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SessionView {
    /// Null when nobody is signed in.
    account: Option<AccountView>,
}
