//! Every API error is an RFC 9457 problem document with a stable machine code.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use hawker_domain::ValidationError;
use hawker_storage::StorageError;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    /// Stable, documented, never reworded: clients branch on it.
    pub code: &'static str,
    pub title: &'static str,
    pub detail: Option<String>,
}

/// An RFC 9457 problem document (`application/problem+json`), the body of every `/api/` error.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Problem)]
pub(crate) struct Problem<'a> {
    /// `https://hawker.dev/problems/{code}`.
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    /// The HTTP status again.
    status: u16,
    /// Stable and documented, never reworded: clients branch on it (`not_found`,
    /// `unauthenticated`, `forbidden`, `invalid_field`, `invalid_json`, `rate_limited`, ...).
    code: &'a str,
    /// What was wrong, for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, title: &'static str) -> Self {
        ApiError {
            status,
            code,
            title,
            detail: None,
        }
    }

    pub fn detail(mut self, d: impl Into<String>) -> Self {
        self.detail = Some(d.into());
        self
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "The request is malformed",
        )
        .detail(detail)
    }
    pub fn unauthenticated() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", "Log in first")
    }
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "Not allowed").detail(detail)
    }
    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "Not found").detail(format!("no such {what}"))
    }
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, "Conflict").detail(detail)
    }
    pub fn rate_limited() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "Too many requests",
        )
        .detail("slow down and try again in a little while")
    }
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something went wrong on our side",
        )
    }
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Not available right now",
        )
        .detail(detail)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Problem {
            kind: format!("https://hawker.dev/problems/{}", self.code),
            title: self.title,
            status: self.status.as_u16(),
            code: self.code,
            detail: self.detail.as_deref(),
        };
        let json = serde_json::to_vec(&body).unwrap_or_default();
        (
            self.status,
            [
                (header::CONTENT_TYPE, "application/problem+json"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            json,
        )
            .into_response()
    }
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "A field is invalid",
        )
        .detail(e.to_string())
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Conflict { entity } => {
                ApiError::conflict("already_exists", format!("{entity} already exists"))
            }
            StorageError::NotFound { entity } => ApiError::not_found(entity),
            other => {
                tracing::error!(error = %other, "storage failure");
                ApiError::internal()
            }
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// An `/api/` error answer that is not yet a problem document (an extractor's plain-text
/// rejection, such as a path id that is not a number; the router's bare 405) becomes one, its
/// text kept as the detail: API clients branch on `code` whatever answered.
pub(crate) async fn as_problem(resp: Response) -> Response {
    let status = resp.status();
    let is_problem = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == b"application/problem+json");
    if is_problem || !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 16 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let (code, title) = match status {
        StatusCode::BAD_REQUEST => ("bad_request", "The request is malformed"),
        StatusCode::NOT_FOUND => ("not_found", "Not found"),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "Method not allowed"),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "The request is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("unsupported_media_type", "The content type is not accepted")
        }
        StatusCode::UNPROCESSABLE_ENTITY => ("invalid_field", "A field is invalid"),
        s if s.is_server_error() => ("internal", "Something went wrong on our side"),
        _ => ("request_refused", "The request was refused"),
    };
    let mut e = ApiError::new(status, code, title);
    if !text.is_empty() {
        e = e.detail(text);
    }
    let mut out = e.into_response();
    // Keep what the original answer said beyond its body (`Allow` on a 405), every value of
    // a repeated header included.
    for (name, value) in parts.headers.iter() {
        if ![
            header::CONTENT_TYPE,
            header::CONTENT_LENGTH,
            header::CACHE_CONTROL,
        ]
        .contains(name)
        {
            out.headers_mut().append(name, value.clone());
        }
    }
    out
}
