//! What the API handlers share: the translation of service refusals into problem documents,
//! field errors, organisation staff checks, uploads, the show behind a route, the request origin
//! the risk engine links accounts by, the idempotency key and CSV downloads.

use crate::problem::{ApiError, ApiResult};
use crate::AppState;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use hawker_commerce::org::OrgRole;
use hawker_domain::{Account, AccountId, ShowId, UnixMillis};
use hawker_shop::guard::TrustRefusal;
use hawker_shop::ShopError;
use hawker_trust::risk::LinkKind;
use serde_json::Value;

impl From<ShopError> for ApiError {
    fn from(e: ShopError) -> Self {
        let msg = e.to_string();
        match e {
            ShopError::NotFound(what) => ApiError::not_found(what),
            ShopError::Forbidden(why) => ApiError::forbidden(why),
            ShopError::Invalid { .. } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                "A field is invalid",
            )
            .detail(msg),
            ShopError::OutOfStock => ApiError::conflict("out_of_stock", msg),
            ShopError::Coupon(_) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "coupon_not_applicable",
                "The coupon cannot be used",
            )
            .detail(msg),
            ShopError::Sale(r) => ApiError::conflict(r.code(), msg),
            ShopError::Engine(hawker_shop::flash::EngineError::Busy) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "Too many buyers at once",
            )
            .detail("try again in a moment"),
            ShopError::Engine(hawker_shop::flash::EngineError::KeyReused) => {
                ApiError::conflict("idempotency_key_reused", msg)
            }
            ShopError::Engine(_) => ApiError::unavailable(msg),
            ShopError::Order(_) => ApiError::conflict("transition_not_allowed", msg),
            ShopError::Return(_) => ApiError::conflict("return_not_allowed", msg),
            ShopError::Reference(_) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "misleading_reference_price",
                "The reference price is not allowed",
            )
            .detail(msg),
            ShopError::Payment(hawker_shop::payments::PaymentError::BadSignature) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_signature",
                "The webhook signature is not valid",
            ),
            ShopError::Payment(hawker_shop::payments::PaymentError::Malformed(_)) => {
                ApiError::bad_request(msg)
            }
            ShopError::Payment(_) => ApiError::new(
                StatusCode::PAYMENT_REQUIRED,
                "payment_failed",
                "The payment did not go through",
            )
            .detail(msg),
            ShopError::Conflict => ApiError::conflict("changed", msg),
            ShopError::Taken(_) => ApiError::conflict("code_taken", msg),
            ShopError::Claim(_) => ApiError::conflict("claim_not_allowed", msg),
            ShopError::DefectWindowClosed { .. } => {
                ApiError::conflict("defect_claim_window_closed", msg)
            }
            ShopError::Storage(e) => e.into(),
            ShopError::Books(hawker_books::BooksError::Ledger(l)) => {
                ApiError::conflict(l.code(), msg)
            }
            ShopError::Books(hawker_books::BooksError::Invalid(_)) => invalid(msg),
            ShopError::Books(hawker_books::BooksError::Storage(e)) => e.into(),
            ShopError::Books(hawker_books::BooksError::Split(_)) => invalid(msg),
            ShopError::Books(hawker_books::BooksError::OverCap { .. }) => {
                ApiError::conflict("over_spending_cap", msg)
            }
            ShopError::Books(hawker_books::BooksError::NotEnoughCoins) => {
                ApiError::conflict("not_enough_coins", msg)
            }
            ShopError::Books(hawker_books::BooksError::UnderReview) => {
                ApiError::conflict("held_under_review", msg)
            }
            ShopError::Books(hawker_books::BooksError::TipsSuspended { .. }) => {
                ApiError::conflict("tips_suspended", msg)
            }
            ShopError::Trust(t) => t.into(),
            ShopError::InvalidFields(_) => invalid(msg),
            ShopError::State { code, .. } => ApiError::conflict(code, msg),
            ShopError::Draw { code, .. } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                code,
                "The prize draw is not allowed",
            )
            .detail(msg),
            ShopError::CredentialRequired { .. } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "credential_required",
                "An approved credential is required",
            )
            .detail(msg),
            ShopError::Internal(_) => ApiError::internal(),
        }
    }
}

pub(crate) fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        "A field is invalid",
    )
    .detail(detail)
}

pub(crate) async fn staff(
    state: &AppState,
    who: &Account,
    org: i64,
    pred: impl Fn(OrgRole) -> bool,
) -> ApiResult<OrgRole> {
    Ok(state.shop.staff(who, org, pred).await?)
}

pub(crate) const MAX_IMAGE: usize = 5 * 1024 * 1024;

/// An uploadable type: content type, file extension, the bytes it starts with.
pub(crate) type UploadType = (&'static str, &'static str, &'static [u8]);

pub(crate) const IMAGE_TYPES: &[UploadType] = &[
    ("image/jpeg", "jpg", &[0xFF, 0xD8, 0xFF]),
    ("image/png", "png", &[0x89, b'P', b'N', b'G']),
    ("image/webp", "webp", b"RIFF"),
];

pub(crate) const PDF: UploadType = ("application/pdf", "pdf", b"%PDF-");

/// Checks an upload's declared type against the allowed ones, its size, and that its bytes
/// really start like that type; returns the content type and the extension to store it under.
pub(crate) fn accept_upload(
    headers: &HeaderMap,
    body: &[u8],
    allowed: &[UploadType],
    max: usize,
    what: &str,
) -> ApiResult<(&'static str, &'static str)> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some((ct, ext, magic)) = allowed.iter().find(|(t, _, _)| *t == ct) else {
        let names: Vec<&str> = allowed.iter().map(|(_, e, _)| *e).collect();
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "This kind of file is not accepted here",
        )
        .detail(format!("a {what} is one of: {}", names.join(", "))));
    };
    if body.is_empty() || body.len() > max {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "The file is too large",
        )
        .detail(format!("a {what} is at most {} MiB", max / (1024 * 1024))));
    }
    if !body.starts_with(magic) {
        return Err(invalid(format!(
            "the bytes are not the {what} type the request says"
        )));
    }
    Ok((ct, ext))
}

/// A name no one can guess from the product id alone: 64 bits from the operating system.
pub(crate) fn rand_u64() -> u64 {
    use rand::RngCore;
    rand::rngs::OsRng.next_u64()
}

/// `#[serde(default = "one")]`: a count or quantity of one unless given.
pub(crate) fn one<T: From<u8>>() -> T {
    T::from(1)
}

pub(crate) async fn show_and_channel(
    state: &AppState,
    show: i64,
) -> ApiResult<(hawker_domain::Show, hawker_domain::Channel)> {
    let s = state
        .store
        .show(ShowId(show))
        .await?
        .ok_or_else(|| ApiError::not_found("show"))?;
    let c = state
        .store
        .channel(s.channel)
        .await?
        .ok_or_else(|| ApiError::not_found("channel"))?;
    Ok((s, c))
}

pub(crate) fn idempotency(header: IdempotencyKey, body: Option<String>) -> Option<String> {
    body.or(header.0)
}

/// The `Idempotency-Key` header, read from the request without copying its other headers
/// (a `HeaderMap` extractor clones them all, on the buy path of every flash-sale buyer).
pub(crate) struct IdempotencyKey(Option<String>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for IdempotencyKey {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(IdempotencyKey(
            parts
                .headers
                .get("idempotency-key")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
        ))
    }
}

/// A CSV download.
pub(crate) fn csv_response(filename: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response()
}

pub(crate) fn csv_field(s: &str) -> String {
    // Quote everything; a leading formula character is neutralised for spreadsheets.
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    format!("\"{}\"", s.replace('"', "\"\""))
}

impl From<TrustRefusal> for ApiError {
    fn from(e: TrustRefusal) -> Self {
        let status = match &e {
            TrustRefusal::Invalid { .. } | TrustRefusal::RecheckFailed => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            TrustRefusal::NotFound(_) => StatusCode::NOT_FOUND,
            TrustRefusal::Conflict(_) => StatusCode::CONFLICT,
            TrustRefusal::Storage(s) => {
                tracing::error!(error = %s, "storage failure in a trust rule");
                return ApiError::internal();
            }
            _ => StatusCode::FORBIDDEN,
        };
        ApiError::new(status, e.code(), "Refused by the platform's trust rules")
            .detail(e.to_string())
    }
}

/// The device id the pages keep in local storage (a header), for linking accounts.
pub(crate) fn device_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-hawker-device")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= 100)
        .map(str::to_string)
}

/// The network an address belongs to: a /24 for IPv4, a /48 for IPv6.
pub(crate) fn network_of(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v) => {
            let o = v.octets();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2])
        }
        std::net::IpAddr::V6(v) => {
            let s = v.segments();
            format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
        }
    }
}

/// Where a request came from, as the risk engine links accounts: the page's device id and
/// the client's network.
pub(crate) struct Origin {
    pub device: Option<String>,
    pub network: String,
}

impl axum::extract::FromRequestParts<AppState> for Origin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, ApiError> {
        let ip = crate::limits::client_ip_of(
            state,
            &parts.headers,
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>(),
        );
        Ok(Origin {
            device: device_of(&parts.headers),
            network: network_of(ip),
        })
    }
}

impl Origin {
    /// Remembers the device and network for `account` (keyed hashes), off the request path.
    pub(crate) fn remember(
        &self,
        state: &AppState,
        account: AccountId,
        extra: &[(LinkKind, String)],
    ) {
        let g = state.guard.clone();
        let mut values: Vec<(LinkKind, String)> = vec![(LinkKind::Network, self.network.clone())];
        if let Some(d) = &self.device {
            values.push((LinkKind::Device, d.clone()));
        }
        values.extend(extra.iter().cloned());
        tokio::spawn(async move {
            let now = UnixMillis::now();
            for (k, v) in values {
                if let Err(e) = g.seen(account, k, &v, now).await {
                    tracing::warn!(error = %e, "could not record an account signal");
                }
            }
        });
    }
}

/// A shipping address reduced to what identifies a place (name dropped, case and spaces
/// folded), so two spellings of one door match.
pub(crate) fn address_key(address_json: &str) -> Option<String> {
    let v: Value = serde_json::from_str(address_json).ok()?;
    let part = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_lowercase()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let key = format!("{}|{}|{}", part("line1"), part("city"), part("postcode"));
    (key.len() > 2).then_some(key)
}
