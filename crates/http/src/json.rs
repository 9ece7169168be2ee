//! A JSON body extractor whose rejections are problem documents, with a size cap.

use crate::problem::ApiError;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        // The common case, `application/json` and a well-formed body, is one plain parse. Any
        // other content type, and any body that fails that parse, goes through axum's own
        // extractor, whose rejection names the field at fault (it tracks the path as it parses,
        // which costs every request that pays it).
        let plain = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"application/json"));
        if !plain {
            return axum::Json::<T>::from_request(req, state)
                .await
                .map(|axum::Json(v)| ApiJson(v))
                .map_err(rejected);
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|r| rejected(r.into()))?;
        match serde_json::from_slice(&bytes) {
            Ok(v) => Ok(ApiJson(v)),
            Err(_) => match axum::Json::<T>::from_bytes(&bytes) {
                Ok(axum::Json(v)) => Ok(ApiJson(v)),
                Err(rejection) => Err(rejected(rejection)),
            },
        }
    }
}

fn rejected(rejection: axum::extract::rejection::JsonRejection) -> ApiError {
    let status = rejection.status();
    let code = match status {
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        _ => "invalid_json",
    };
    ApiError::new(status, code, "The request body is not acceptable JSON")
        .detail(rejection.body_text())
}
