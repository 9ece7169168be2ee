//! Trust over HTTP for people: real-name verification (document upload, then the details), the
//! rules course, the re-check before a broadcast, minor mode, complaints, guardian claims and a
//! seller's KYB data. What ops do is `trust_ops.rs`.

use super::common::{accept_upload, invalid, staff, IMAGE_TYPES, PDF};
use super::trust_views::{business_json, check_json, claim_json, complaint_json};
use crate::auth::Caller;
use crate::json::ApiJson;
use crate::problem::{ApiError, ApiResult};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use hawker_commerce::org::OrgRole;
use hawker_domain::{Role, UnixMillis};
use hawker_shop::guard::IdentitySubmission;
use hawker_shop::ComplaintFiling;
use hawker_storage::trust::BusinessProfile;
use hawker_trust::policy::KybDuty;
use hawker_trust::review::ReviewState;
use serde::Deserialize;
use serde_json::{json, Value};

// ------------------------------------------------------------------------------ people

/// `GET /api/v1/me/trust`: verification, age, course, re-check, sanctions, and whether the
/// caller may go live now (and if not, why).
#[utoipa::path(
    get,
    path = "/api/v1/me/trust",
    tag = "trust",
    summary = "The caller's verification, course, sanctions and go-live status",
    responses((status = 200, description = "`{status, identity, policy}`", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn my_trust(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Value>> {
    let me = caller.require()?;
    let g = &state.guard;
    let now = UnixMillis::now();
    let status = g.streamer_status(me.id, now).await?;
    let latest = state.store.latest_identity(me.id).await?;
    Ok(Json(json!({
        "status": status,
        "identity": latest.as_ref().map(check_json),
        "policy": {
            "law": g.policy().law, "recheck_before_broadcast": g.policy().recheck_before_broadcast,
            "recheck_valid_minutes": g.policy().recheck_valid_minutes,
            "min_stream_age": g.policy().min_stream_age,
        },
    })))
}

pub(crate) const MAX_DOCUMENT: usize = 8 * 1024 * 1024;

/// `POST /api/v1/me/identity/document`: the ID document photo (JPEG, PNG or PDF). Returns the
/// name to submit with the details; only reviewers can open it afterwards.
#[utoipa::path(
    post,
    path = "/api/v1/me/identity/document",
    tag = "trust",
    summary = "Upload the ID document (the raw bytes)",
    request_body(description = "A JPEG, PNG or PDF, at most 8 MiB", content(("image/jpeg"), ("image/png"), ("application/pdf"))),
    responses((status = 201, description = "`{document}`: the name to submit with the details", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn upload_document(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let me = caller.require()?;
    let (_, ext) = accept_upload(
        &headers,
        &body,
        &[IMAGE_TYPES[0], IMAGE_TYPES[1], PDF],
        MAX_DOCUMENT,
        "document",
    )?;
    let dir = documents_dir(&state)?;
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|_| ApiError::internal())?;
    let file = format!(
        "{}-{}.{ext}",
        me.id,
        hex::encode(rand::random::<[u8; 12]>())
    );
    tokio::fs::write(dir.join(&file), &body)
        .await
        .map_err(|_| ApiError::internal())?;
    Ok((StatusCode::CREATED, Json(json!({ "document": file }))))
}

pub(crate) fn documents_dir(state: &AppState) -> ApiResult<std::path::PathBuf> {
    state
        .settings
        .documents
        .clone()
        .ok_or_else(|| ApiError::unavailable("document storage is not configured"))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct IdentityBody {
    legal_name: String,
    id_number: String,
    birth_date: String,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    document: Option<String>,
    #[serde(default)]
    document_type: Option<String>,
    #[serde(default)]
    guardian_name: Option<String>,
    #[serde(default)]
    guardian_consent: bool,
}

/// `POST /api/v1/me/identity`: real-name details for review. The ID number is hashed at once;
/// it is never stored, logged or shown in full.
#[utoipa::path(
    post,
    path = "/api/v1/me/identity",
    tag = "trust",
    summary = "Submit real-name details for review",
    request_body = IdentityBody,
    responses((status = 201, description = "The verification", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn submit_identity(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<IdentityBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let me = caller.require()?;
    let g = &state.guard;
    if let Some(d) = &b.document {
        // Only the caller's own upload, by its exact name.
        let own = d.starts_with(&format!("{}-", me.id))
            && d.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
            && !d.contains("..");
        if !own || !documents_dir(&state)?.join(d).is_file() {
            return Err(invalid(
                "document: upload it first and send the name returned",
            ));
        }
    }
    let dt = b.document_type.filter(|t| !t.trim().is_empty());
    if dt.as_ref().is_some_and(|t| t.len() > 40) {
        return Err(invalid("document_type: at most 40 characters"));
    }
    let c = g
        .submit_identity(
            me.id,
            IdentitySubmission {
                legal_name: b.legal_name,
                id_number: b.id_number,
                birth_date: b.birth_date,
                phone: b.phone.filter(|p| !p.trim().is_empty()),
                document_file: b.document,
                document_type: dt,
                guardian_name: b.guardian_name,
                guardian_consent: b.guardian_consent,
            },
            UnixMillis::now(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(check_json(&c))))
}

/// `GET /api/v1/training`: the lessons and the quiz (without the answers).
#[utoipa::path(
    get,
    path = "/api/v1/training",
    tag = "trust",
    summary = "The rules course: lessons and quiz",
    responses((status = 200, description = "`{lessons, quiz}`", body = Object))
)]
pub(crate) async fn training() -> Json<Value> {
    Json(json!({
        "lessons": hawker_trust::training::LESSONS,
        "quiz": hawker_trust::training::QUIZ,
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AnswersBody {
    answers: Vec<usize>,
}

/// `POST /api/v1/me/training`: answers graded; passing opens the first broadcast.
#[utoipa::path(
    post,
    path = "/api/v1/me/training",
    tag = "trust",
    summary = "Answer the quiz",
    request_body = AnswersBody,
    responses((status = 200, description = "The grade", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn take_training(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<AnswersBody>,
) -> ApiResult<Json<Value>> {
    let me = caller.require()?;
    if b.answers.len() > 100 {
        return Err(invalid("answers: one per question"));
    }
    let g = state
        .guard
        .pass_training(me.id, &b.answers, UnixMillis::now())
        .await?;
    Ok(Json(serde_json::to_value(g).unwrap_or_default()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecheckBody {
    id_number: String,
}

/// `POST /api/v1/me/broadcast-check`: the person at the camera proves the verified identity;
/// a publish may start within the policy's window.
#[utoipa::path(
    post,
    path = "/api/v1/me/broadcast-check",
    tag = "trust",
    summary = "The re-check before a broadcast",
    request_body = RecheckBody,
    responses((status = 200, description = "`{valid_until}`", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn broadcast_check(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<RecheckBody>,
) -> ApiResult<Json<Value>> {
    let me = caller.require()?;
    let g = &state.guard;
    let now = UnixMillis::now();
    g.recheck(me.id, &b.id_number, now).await?;
    Ok(Json(json!({
        "valid_until": now.0 + g.policy().recheck_valid_minutes * 60_000,
    })))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MinorModeBody {
    on: bool,
}

/// `PUT /api/v1/me/minor-mode`: anyone may turn it on; only a verified adult may turn it off.
#[utoipa::path(
    put,
    path = "/api/v1/me/minor-mode",
    tag = "trust",
    summary = "Turn minor mode on or off",
    request_body = MinorModeBody,
    responses((status = 204, description = "Set")),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn minor_mode(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<MinorModeBody>,
) -> ApiResult<StatusCode> {
    let me = caller.require()?;
    let g = &state.guard;
    if !b.on {
        let age = g.age(me.id, UnixMillis::now()).await?;
        if age.is_none_or(|a| a < g.policy().adult_age) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "adult_verification_required",
                "Refused by the platform's trust rules",
            )
            .detail("minor mode is turned off only by a verified adult"));
        }
    }
    g.set_minor_mode(me.id, b.on).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ComplaintBody {
    target: String,
    target_id: i64,
    reason: String,
    #[serde(default)]
    details: String,
    #[serde(default)]
    order: Option<i64>,
}

/// `POST /api/v1/complaints`: against a show, a product or a seller; ops decide by a deadline.
#[utoipa::path(
    post,
    path = "/api/v1/complaints",
    tag = "trust",
    summary = "File a complaint",
    request_body = ComplaintBody,
    responses((status = 201, description = "The complaint", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn file_complaint(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<ComplaintBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let me = caller.require()?;
    let c = state
        .shop
        .file_complaint(
            me,
            ComplaintFiling {
                target: b.target,
                target_id: b.target_id,
                reason: b.reason,
                details: b.details,
                order: b.order,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(complaint_json(&c))))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GuardianClaimBody {
    minor_email: String,
    evidence: String,
}

/// `POST /api/v1/guardian-claims`: a parent says a minor spent their money, with evidence.
#[utoipa::path(
    post,
    path = "/api/v1/guardian-claims",
    tag = "trust",
    summary = "File a guardian's claim for a minor's spending",
    request_body = GuardianClaimBody,
    responses((status = 201, description = "The claim", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn file_guardian_claim(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<GuardianClaimBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let me = caller.require()?;
    let c = state
        .shop
        .file_guardian_claim(me, &b.minor_email, &b.evidence)
        .await?;
    Ok((StatusCode::CREATED, Json(claim_json(&c))))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BusinessBody {
    legal_name: String,
    registration_number: String,
    address: String,
    contact: String,
    payout_account: String,
}

/// `PUT /api/v1/orgs/{id}/business`: KYB data of a business seller (owner only).
#[utoipa::path(
    put,
    path = "/api/v1/orgs/{id}/business",
    tag = "trust",
    summary = "Submit a business seller's KYB data",
    params(("id" = i64, Path, description = "Organisation id", example = 1)),
    request_body = BusinessBody,
    responses((status = 204, description = "Submitted")),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn submit_business(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<i64>,
    ApiJson(b): ApiJson<BusinessBody>,
) -> ApiResult<StatusCode> {
    let me = caller.require()?;
    staff(&state, me, org, |r| r == OrgRole::Owner).await?;
    let g = &state.guard;
    for (f, v, max) in [
        ("legal_name", &b.legal_name, 200),
        ("registration_number", &b.registration_number, 64),
        ("address", &b.address, 500),
        ("contact", &b.contact, 200),
    ] {
        let n = v.trim().chars().count();
        if n < 2 || n > max {
            return Err(invalid(format!("{f}: 2 to {max} characters")));
        }
    }
    let acct = g
        .account_number(&b.payout_account)
        .ok_or_else(|| invalid("payout_account: 6 to 32 letters and digits"))?;
    state
        .store
        .submit_business(&BusinessProfile {
            org,
            legal_name: b.legal_name.trim().into(),
            registration_number: b.registration_number.trim().into(),
            address: b.address.trim().into(),
            contact: b.contact.trim().into(),
            payout_account_hash: acct.keyed_hash,
            payout_account_last4: acct.last4,
            state: ReviewState::Submitted,
            reason: None,
            submitted_at: UnixMillis::now().0,
            reviewed_at: None,
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/orgs/{id}/business`: KYB state and what this year's sales require. Public
/// disclosure (name, registration, contact) is shown to anyone once the threshold is passed.
#[utoipa::path(
    get,
    path = "/api/v1/orgs/{id}/business",
    tag = "trust",
    summary = "A seller's KYB state and disclosure",
    params(("id" = i64, Path, description = "Organisation id", example = 1)),
    responses((status = 200, description = "KYB state (insiders) or the public disclosure", body = Object)),
    security((), ("bearer" = []), ("session" = []))
)]
pub(crate) async fn business(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<i64>,
) -> ApiResult<Json<Value>> {
    let g = &state.guard;
    let since = UnixMillis(UnixMillis::now().0 - 365 * 86_400_000);
    let (count, amount) = state.store.org_sales_since(org, since).await?;
    let duty = g.policy().kyb_duty(count, amount);
    let profile = state.store.business_profile(org).await?;
    let insider = match caller.0.as_ref() {
        Some(me) if me.role == Role::PlatformAdmin => true,
        Some(me) => staff(&state, me, org, |r| {
            matches!(r, OrgRole::Owner | OrgRole::Manager)
        })
        .await
        .is_ok(),
        None => false,
    };
    let disclosed = duty == KybDuty::VerifyAndDisclose
        && profile
            .as_ref()
            .is_some_and(|p| p.state == ReviewState::Approved);
    if !insider {
        return Ok(Json(json!({
            "org": org,
            "disclosure": if disclosed { profile.as_ref().map(|p| json!({"legal_name": p.legal_name, "registration_number": p.registration_number, "address": p.address, "contact": p.contact})) } else { None },
        })));
    }
    Ok(Json(json!({
        "org": org, "sales_last_year": count, "sales_last_year_minor": amount,
        "duty": duty, "profile": profile.as_ref().map(business_json), "disclosed": disclosed,
    })))
}
