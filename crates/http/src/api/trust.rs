//! Trust over HTTP. For people: real-name verification (document upload, then the details),
//! the rules course, the re-check before a broadcast, minor mode, complaints, guardian claims
//! and a seller's KYB data. For ops (platform admins): the review queues, sanctions, the fraud
//! queue with each show's signals and evidence, and the audit log of every ops action.

use super::shop::staff;
use crate::auth::Caller;
use crate::json::ApiJson;
use crate::problem::{ApiError, ApiResult};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hawker_commerce::org::OrgRole;
use hawker_domain::{Account, AccountId, Email, Role, ShowId, UnixMillis};
use hawker_shop::guard::{IdentitySubmission, TrustRefusal};
use hawker_storage::trust::{BusinessProfile, IdentityCheck};
use hawker_trust::complaints::{deadline, ComplaintReason, ComplaintTarget};
use hawker_trust::risk::LinkKind;
use hawker_trust::sanctions::SanctionLevel;
use serde::Deserialize;
use serde_json::{json, Value};

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

fn ops(caller: &Caller) -> ApiResult<&Account> {
    caller.require_role(|r| r == Role::PlatformAdmin, "the ops console")
}

fn check_json(c: &IdentityCheck) -> Value {
    json!({
        "id": c.id, "account": c.account, "legal_name": c.legal_name,
        "id_number": format!("••••••••{}", c.id_last4), "birth_date": c.birth_date,
        "phone": c.phone, "document_type": c.document_type,
        "has_document": c.document_file.is_some(),
        "guardian_name": c.guardian_name, "guardian_consent": c.guardian_consent,
        "state": c.state, "reason": c.reason, "reviewer": c.reviewer,
        "submitted_at": c.submitted_at, "reviewed_at": c.reviewed_at,
    })
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
    let (_, ext) = super::shop::accept_upload(
        &headers,
        &body,
        &[
            super::shop::IMAGE_TYPES[0],
            super::shop::IMAGE_TYPES[1],
            super::shop::PDF,
        ],
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

fn documents_dir(state: &AppState) -> ApiResult<std::path::PathBuf> {
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
            return Err(super::shop::invalid(
                "document: upload it first and send the name returned",
            ));
        }
    }
    let dt = b.document_type.filter(|t| !t.trim().is_empty());
    if dt.as_ref().is_some_and(|t| t.len() > 40) {
        return Err(super::shop::invalid("document_type: at most 40 characters"));
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
        return Err(super::shop::invalid("answers: one per question"));
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
    let g = &state.guard;
    let target = ComplaintTarget::parse(&b.target)
        .ok_or_else(|| super::shop::invalid("target: show, product or seller"))?;
    let reason = ComplaintReason::parse(&b.reason).ok_or_else(|| {
        super::shop::invalid("reason: misleading_claim, counterfeit, inferior_quality, not_delivered, minor_spending or other")
    })?;
    if b.details.chars().count() > 2_000 {
        return Err(super::shop::invalid("details: at most 2,000 characters"));
    }
    // Whom an upheld complaint sanctions: the host of the show, the seller's owner.
    let subject = match target {
        ComplaintTarget::Show => {
            let s = state
                .store
                .show(ShowId(b.target_id))
                .await?
                .ok_or_else(|| ApiError::not_found("show"))?;
            state.store.channel(s.channel).await?.map(|c| c.owner)
        }
        ComplaintTarget::Product => {
            let p = state
                .store
                .product(b.target_id)
                .await?
                .ok_or_else(|| ApiError::not_found("product"))?;
            org_owner(&state, p.org).await?
        }
        ComplaintTarget::Seller => {
            state
                .store
                .org(b.target_id)
                .await?
                .ok_or_else(|| ApiError::not_found("organisation"))?;
            org_owner(&state, b.target_id).await?
        }
    };
    if let Some(o) = b.order {
        let order = state.store.order(o).await?;
        if order.is_none_or(|o| o.buyer != me.id) {
            return Err(ApiError::not_found("order"));
        }
    }
    let now = UnixMillis::now();
    let p = g.policy();
    let due = deadline(
        reason,
        now.0,
        p.complaint_deadline_hours,
        p.urgent_complaint_deadline_hours,
    );
    let c = state
        .store
        .file_complaint(
            me.id,
            target.as_str(),
            b.target_id,
            subject,
            b.order,
            reason.as_str(),
            b.details.trim(),
            UnixMillis(due),
            now,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::to_value(c).unwrap_or_default()),
    ))
}

async fn org_owner(state: &AppState, org: i64) -> ApiResult<Option<AccountId>> {
    Ok(state
        .store
        .members(org)
        .await?
        .into_iter()
        .find(|m| m.role == OrgRole::Owner)
        .map(|m| m.account))
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
    let ev = b.evidence.trim();
    if ev.len() < 10 || ev.chars().count() > 4_000 {
        return Err(super::shop::invalid("evidence: 10 to 4,000 characters"));
    }
    let minor = match Email::parse(&b.minor_email) {
        Ok(e) => state.store.account_by_email(&e).await?,
        Err(_) => None,
    }
    .ok_or_else(|| ApiError::not_found("account"))?;
    let c = state
        .store
        .file_guardian_claim(me.id, minor.id, ev, UnixMillis::now())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::to_value(c).unwrap_or_default()),
    ))
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
            return Err(super::shop::invalid(format!("{f}: 2 to {max} characters")));
        }
    }
    let acct = g
        .account_number(&b.payout_account)
        .ok_or_else(|| super::shop::invalid("payout_account: 6 to 32 letters and digits"))?;
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
            state: "submitted".into(),
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
    let disclosed = duty == hawker_trust::policy::KybDuty::VerifyAndDisclose
        && profile.as_ref().is_some_and(|p| p.state == "approved");
    if !insider {
        return Ok(Json(json!({
            "org": org,
            "disclosure": if disclosed { profile.as_ref().map(|p| json!({"legal_name": p.legal_name, "registration_number": p.registration_number, "address": p.address, "contact": p.contact})) } else { None },
        })));
    }
    Ok(Json(json!({
        "org": org, "sales_last_year": count, "sales_last_year_minor": amount,
        "duty": duty, "profile": profile, "disclosed": disclosed,
    })))
}

// -------------------------------------------------------------------------------- ops

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct StateQuery {
    #[serde(default)]
    state: Option<String>,
}

/// `GET /api/v1/admin/trust/identity?state=submitted`: the review queue, oldest first, each
/// with the applicant's age and any other account sharing the identity.
#[utoipa::path(
    get,
    path = "/api/v1/admin/trust/identity",
    tag = "trust",
    summary = "The identity review queue (admins)",
    params(StateQuery),
    responses((status = 200, description = "`{checks}`", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn identity_queue(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<StateQuery>,
) -> ApiResult<Json<Value>> {
    ops(&caller)?;
    let now = hawker_trust::age::Date::from_unix_ms(UnixMillis::now().0);
    let mut out = Vec::new();
    for c in state
        .store
        .identity_checks(q.state.as_deref().unwrap_or("submitted"), 200)
        .await?
    {
        let mut v = check_json(&c);
        v["age"] = json!(hawker_trust::age::Date::parse(&c.birth_date).map(|d| d.age_on(now)));
        let others: Vec<i64> = state
            .store
            .accounts_with_identity(&c.id_hash)
            .await?
            .into_iter()
            .filter(|a| *a != c.account)
            .collect();
        v["same_identity_accounts"] = json!(others);
        v["email"] = json!(state
            .store
            .account(AccountId(c.account))
            .await?
            .map(|a| a.email.as_str().to_string()));
        out.push(v);
    }
    Ok(Json(json!({ "checks": out })))
}

/// `GET /api/v1/admin/trust/identity/{id}/document`: the document photo, to reviewers only;
/// every opening is audited.
#[utoipa::path(
    get,
    path = "/api/v1/admin/trust/identity/{id}/document",
    tag = "trust",
    summary = "An identity document (admins; audited)",
    params(("id" = i64, Path, description = "Verification id", example = 1)),
    responses((status = 200, description = "The document", content(([u8] = "image/jpeg"), ([u8] = "image/png"), ([u8] = "application/pdf")))),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn identity_document(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let me = ops(&caller)?;
    let c = state
        .store
        .identity_check(id)
        .await?
        .ok_or_else(|| ApiError::not_found("verification"))?;
    let file = c
        .document_file
        .ok_or_else(|| ApiError::not_found("document"))?;
    let bytes = tokio::fs::read(documents_dir(&state)?.join(&file))
        .await
        .map_err(|_| ApiError::not_found("document"))?;
    state
        .store
        .audit(
            Some(me.id),
            "document_viewed",
            &format!("account:{}", c.account),
            &format!("check {id}"),
            UnixMillis::now(),
        )
        .await?;
    let ct = match file.rsplit('.').next() {
        Some("png") => "image/png",
        Some("pdf") => "application/pdf",
        _ => "image/jpeg",
    };
    Ok((
        [
            (header::CONTENT_TYPE, ct),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReviewBody {
    approve: bool,
    #[serde(default)]
    reason: Option<String>,
}

/// `POST /api/v1/admin/trust/identity/{id}/review`
#[utoipa::path(
    post,
    path = "/api/v1/admin/trust/identity/{id}/review",
    tag = "trust",
    summary = "Approve or reject a verification (admins)",
    params(("id" = i64, Path, description = "Verification id", example = 1)),
    request_body = ReviewBody,
    responses((status = 204, description = "Decided")),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn review_identity(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ReviewBody>,
) -> ApiResult<StatusCode> {
    let me = ops(&caller)?;
    state
        .guard
        .review_identity(id, b.approve, b.reason.as_deref(), me.id, UnixMillis::now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OperatorVerifyBody {
    email: String,
    legal_name: String,
    id_number: String,
    birth_date: String,
}

/// `POST /api/v1/admin/trust/verify`: the operator verifies someone they know (themselves
/// included) and attests the rules course; answers the account's go-live status.
#[utoipa::path(
    post,
    path = "/api/v1/admin/trust/verify",
    tag = "trust",
    summary = "The operator verifies an account (admins)",
    request_body = OperatorVerifyBody,
    responses((status = 200, description = "`{account, email, status}`", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn verify_by_operator(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<OperatorVerifyBody>,
) -> ApiResult<Json<Value>> {
    let me = ops(&caller)?;
    let email = Email::parse(&b.email).map_err(|e| super::shop::invalid(format!("email: {e}")))?;
    let account = state
        .store
        .account_by_email(&email)
        .await?
        .ok_or_else(|| ApiError::not_found("account"))?;
    let status = state
        .guard
        .verify_by_operator(
            account.id,
            IdentitySubmission {
                legal_name: b.legal_name,
                id_number: b.id_number,
                birth_date: b.birth_date,
                phone: None,
                document_file: None,
                document_type: None,
                guardian_name: None,
                guardian_consent: false,
            },
            me.id,
            UnixMillis::now(),
        )
        .await?;
    Ok(Json(
        json!({ "account": account.id, "email": account.email.as_str(), "status": status }),
    ))
}

/// `GET /api/v1/admin/trust/business?state=submitted`
#[utoipa::path(
    get,
    path = "/api/v1/admin/trust/business",
    tag = "trust",
    summary = "The KYB review queue (admins)",
    params(StateQuery),
    responses((status = 200, description = "`{profiles}`", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn business_queue(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<StateQuery>,
) -> ApiResult<Json<Value>> {
    ops(&caller)?;
    let list = state
        .store
        .business_profiles(q.state.as_deref().unwrap_or("submitted"), 200)
        .await?;
    Ok(Json(json!({ "profiles": list })))
}

/// `POST /api/v1/admin/trust/business/{org}/review`
#[utoipa::path(
    post,
    path = "/api/v1/admin/trust/business/{org}/review",
    tag = "trust",
    summary = "Approve or reject a seller's KYB (admins)",
    params(("org" = i64, Path, description = "Organisation id", example = 1)),
    request_body = ReviewBody,
    responses((status = 204, description = "Decided")),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn review_business(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<i64>,
    ApiJson(b): ApiJson<ReviewBody>,
) -> ApiResult<StatusCode> {
    let me = ops(&caller)?;
    if !b.approve && b.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
        return Err(super::shop::invalid("reason: a rejection needs a reason"));
    }
    let now = UnixMillis::now();
    if !state
        .store
        .review_business(org, b.approve, b.reason.as_deref(), me.id, now)
        .await?
    {
        return Err(ApiError::conflict(
            "already_decided",
            "nothing is waiting for review",
        ));
    }
    state.guard.forget_kyb(org);
    state
        .store
        .audit(
            Some(me.id),
            if b.approve {
                "business_approved"
            } else {
                "business_rejected"
            },
            &format!("org:{org}"),
            b.reason.as_deref().unwrap_or(""),
            now,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SanctionBody {
    level: String,
    reason: String,
    /// Days it lasts; none = until lifted (closure is for good).
    #[serde(default)]
    days: Option<u32>,
}

/// `POST /api/v1/admin/trust/accounts/{id}/sanctions`
#[utoipa::path(
    post,
    path = "/api/v1/admin/trust/accounts/{id}/sanctions",
    tag = "trust",
    summary = "Sanction an account (admins)",
    params(("id" = i64, Path, description = "Account id", example = 1)),
    request_body = SanctionBody,
    responses((status = 201, description = "`{id}`", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn add_sanction(
    State(state): State<AppState>,
    caller: Caller,
    Path(account): Path<i64>,
    ApiJson(b): ApiJson<SanctionBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let me = ops(&caller)?;
    let level = SanctionLevel::parse(&b.level).ok_or_else(|| {
        super::shop::invalid(
            "level: warning, feature_limit, traffic_limit, stream_cut, suspension or closure",
        )
    })?;
    state
        .store
        .account(AccountId(account))
        .await?
        .ok_or_else(|| ApiError::not_found("account"))?;
    let now = UnixMillis::now();
    let until = b
        .days
        .filter(|d| *d > 0 && *d <= 3_650)
        .map(|d| now.plus_ms(d as i64 * 86_400_000));
    let id = state
        .guard
        .sanction(
            AccountId(account),
            level,
            &b.reason,
            until,
            Some(me.id),
            now,
        )
        .await?;
    // A suspension or closure stops payouts too (the books' blocked parties).
    if level >= SanctionLevel::Suspension {
        state
            .shop
            .books()
            .block(
                hawker_money::Party::Account(account),
                &format!("{}: {}", level.as_str(), b.reason.trim()),
                me.id,
                now,
            )
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "blocking payouts failed");
                ApiError::internal()
            })?;
    }
    // A stream cut ends what is live now, not only the next attempt.
    if level >= SanctionLevel::StreamCut {
        for c in state.store.channels_owned_by(AccountId(account)).await? {
            state.live.cut(c.slug.as_str());
        }
    }
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

/// `GET /api/v1/admin/trust/accounts/{id}`: standing, sanctions, tier inputs, verification.
#[utoipa::path(
    get,
    path = "/api/v1/admin/trust/accounts/{id}",
    tag = "trust",
    summary = "An account's standing (admins)",
    params(("id" = i64, Path, description = "Account id", example = 1)),
    responses((status = 200, description = "`{status, sanctions, upheld_complaints_90d, sales_last_year_minor, tier}`", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn account_trust(
    State(state): State<AppState>,
    caller: Caller,
    Path(account): Path<i64>,
) -> ApiResult<Json<Value>> {
    ops(&caller)?;
    let g = &state.guard;
    let id = AccountId(account);
    let now = UnixMillis::now();
    let status = g.streamer_status(id, now).await?;
    let sanctions = state.store.sanctions_of(id).await?;
    let upheld = state
        .store
        .upheld_complaints_since(id, UnixMillis(now.0 - 90 * 86_400_000))
        .await?;
    let standing = g.standing(id, now).await?;
    // Size: a year's sales of the organisations the account owns.
    let since = UnixMillis(now.0 - 365 * 86_400_000);
    let mut year_sales = 0i64;
    for m in state.store.memberships(id).await? {
        if m.role == OrgRole::Owner {
            year_sales += state.store.org_sales_since(m.org.id, since).await?.1;
        }
    }
    let tier = hawker_trust::sanctions::tier(
        standing,
        upheld as u32,
        status.age.is_some(),
        year_sales,
        g.policy().kyb_disclose_minor,
    );
    Ok(Json(json!({
        "status": status, "sanctions": sanctions, "upheld_complaints_90d": upheld,
        "sales_last_year_minor": year_sales, "tier": tier,
    })))
}

/// `POST /api/v1/admin/trust/sanctions/{id}/lift`
#[utoipa::path(
    post,
    path = "/api/v1/admin/trust/sanctions/{id}/lift",
    tag = "trust",
    summary = "Lift a sanction (admins)",
    params(("id" = i64, Path, description = "Sanction id", example = 1)),
    responses((status = 204, description = "Lifted")),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn lift_sanction(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let me = ops(&caller)?;
    let now = UnixMillis::now();
    let account = state
        .store
        .sanction(id)
        .await?
        .ok_or_else(|| ApiError::not_found("sanction"))?
        .account;
    if !state.store.lift_sanction(id, now).await? {
        return Err(ApiError::conflict(
            "not_liftable",
            "already lifted, or a closure",
        ));
    }
    // Payouts resume once nothing at suspension or above is left.
    if state
        .guard
        .standing(AccountId(account), now)
        .await?
        .may_sell()
    {
        state
            .shop
            .books()
            .unblock(hawker_money::Party::Account(account), me.id, now)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "unblocking payouts failed");
                ApiError::internal()
            })?;
    }
    state
        .store
        .audit(
            Some(me.id),
            "sanction_lifted",
            &format!("sanction:{id}"),
            "",
            now,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/admin/trust/complaints?state=open`: earliest deadline first.
#[utoipa::path(
    get,
    path = "/api/v1/admin/trust/complaints",
    tag = "trust",
    summary = "Complaints, earliest deadline first (admins)",
    params(StateQuery),
    responses((status = 200, description = "`{complaints}`", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn complaints(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<StateQuery>,
) -> ApiResult<Json<Value>> {
    ops(&caller)?;
    let now = UnixMillis::now().0;
    let list: Vec<Value> = state
        .store
        .complaints(q.state.as_deref().unwrap_or("open"), 200)
        .await?
        .into_iter()
        .map(|c| {
            let overdue = c.state == "open" && c.deadline_at < now;
            let mut v = serde_json::to_value(c).unwrap_or_default();
            v["overdue"] = json!(overdue);
            v
        })
        .collect();
    Ok(Json(json!({ "complaints": list })))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResolveBody {
    uphold: bool,
    outcome: String,
    /// For an upheld complaint: the rung to apply to the subject (default: one above their
    /// current standing, starting with a warning).
    #[serde(default)]
    sanction: Option<String>,
    /// For an upheld complaint with an order: refund it to the buyer.
    #[serde(default)]
    refund: bool,
}

/// `POST /api/v1/admin/trust/complaints/{id}/resolve`: the outcome feeds the sanctions ladder
/// and, for an order, a refund.
#[utoipa::path(
    post,
    path = "/api/v1/admin/trust/complaints/{id}/resolve",
    tag = "trust",
    summary = "Resolve a complaint (admins)",
    params(("id" = i64, Path, description = "Complaint id", example = 1)),
    request_body = ResolveBody,
    responses((status = 200, description = "`{sanction, refunded}`", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn resolve_complaint(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ResolveBody>,
) -> ApiResult<Json<Value>> {
    let me = ops(&caller)?;
    let g = &state.guard;
    let outcome = b.outcome.trim();
    if outcome.is_empty() || outcome.chars().count() > 2_000 {
        return Err(super::shop::invalid("outcome: 1 to 2,000 characters"));
    }
    let c = state
        .store
        .complaint(id)
        .await?
        .ok_or_else(|| ApiError::not_found("complaint"))?;
    let now = UnixMillis::now();
    if !state
        .store
        .resolve_complaint(
            id,
            if b.uphold { "upheld" } else { "dismissed" },
            outcome,
            me.id,
            now,
        )
        .await?
    {
        return Err(ApiError::conflict(
            "already_decided",
            "the complaint was already resolved",
        ));
    }
    state
        .store
        .audit(
            Some(me.id),
            if b.uphold {
                "complaint_upheld"
            } else {
                "complaint_dismissed"
            },
            &format!("complaint:{id}"),
            outcome,
            now,
        )
        .await?;
    let mut sanction = None;
    let mut refunded = false;
    if b.uphold {
        if let Some(subject) = c.subject_account {
            let subject = AccountId(subject);
            let level = match b.sanction.as_deref() {
                Some(s) => SanctionLevel::parse(s)
                    .ok_or_else(|| super::shop::invalid("sanction: a ladder rung"))?,
                None => g
                    .standing(subject, now)
                    .await?
                    .level
                    .map_or(SanctionLevel::Warning, SanctionLevel::next),
            };
            g.sanction(
                subject,
                level,
                &format!("complaint {id}: {outcome}"),
                None,
                Some(me.id),
                now,
            )
            .await?;
            sanction = Some(level.as_str());
        }
        if b.refund {
            if let Some(order) = c.order {
                state.shop.refund_by_platform(order, me, outcome).await?;
                refunded = true;
            }
        }
    }
    Ok(Json(json!({ "sanction": sanction, "refunded": refunded })))
}

/// `GET /api/v1/admin/trust/guardian-claims?state=open`
#[utoipa::path(
    get,
    path = "/api/v1/admin/trust/guardian-claims",
    tag = "trust",
    summary = "Guardian claims (admins)",
    params(StateQuery),
    responses((status = 200, description = "`{claims}`", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn guardian_claims(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<StateQuery>,
) -> ApiResult<Json<Value>> {
    ops(&caller)?;
    let mut out = Vec::new();
    for c in state
        .store
        .guardian_claims(q.state.as_deref().unwrap_or("open"), 200)
        .await?
    {
        let gifts = state.store.gifts_of_payer(AccountId(c.minor), 500).await?;
        let mut v = serde_json::to_value(&c).unwrap_or_default();
        v["gifts"] = json!(gifts
            .iter()
            .map(|g| json!({"id": g.id, "coins": g.gift.coins, "value_minor": g.gift.value_minor, "state": g.state, "host": g.gift.streamer.0, "at": g.gift.created_at.0}))
            .collect::<Vec<_>>());
        out.push(v);
    }
    Ok(Json(json!({ "claims": out })))
}

/// `POST /api/v1/admin/trust/guardian-claims/{id}/decide`: approving takes back the minor's
/// gifts — pending ones reversed, settled ones clawed back from the host — and puts the
/// account in minor mode.
#[utoipa::path(
    post,
    path = "/api/v1/admin/trust/guardian-claims/{id}/decide",
    tag = "trust",
    summary = "Decide a guardian claim (admins)",
    params(("id" = i64, Path, description = "Claim id", example = 1)),
    request_body = ReviewBody,
    responses((status = 200, description = "`{refunded_coins}`", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn decide_guardian_claim(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ReviewBody>,
) -> ApiResult<Json<Value>> {
    let me = ops(&caller)?;
    let c = state
        .store
        .guardian_claim(id)
        .await?
        .ok_or_else(|| ApiError::not_found("claim"))?;
    if c.state != "open" {
        return Err(ApiError::conflict(
            "already_decided",
            "the claim was already decided",
        ));
    }
    if !b.approve && b.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
        return Err(super::shop::invalid("reason: a rejection needs a reason"));
    }
    let now = UnixMillis::now();
    let mut coins = 0;
    if b.approve {
        let books = state.shop.books();
        for g in state
            .store
            .gifts_of_payer(AccountId(c.minor), 10_000)
            .await?
        {
            if g.state == "pending" || g.state == "settled" {
                let r = books.take_back_gift(g.id, now).await.map_err(|e| {
                    tracing::error!(error = %e, gift = g.id, "guardian claim refund failed");
                    ApiError::internal()
                })?;
                coins += r.gift.coins;
            }
        }
        state.guard.set_minor_mode(AccountId(c.minor), true).await?;
    }
    state
        .store
        .decide_guardian_claim(id, b.approve, b.reason.as_deref(), coins, me.id, now)
        .await?;
    state
        .store
        .audit(
            Some(me.id),
            if b.approve {
                "guardian_claim_approved"
            } else {
                "guardian_claim_rejected"
            },
            &format!("account:{}", c.minor),
            &format!("claim {id}, {coins} coins returned"),
            now,
        )
        .await?;
    Ok(Json(json!({ "refunded_coins": coins })))
}

/// `GET /api/v1/admin/trust/risk`: the fraud queue, highest score first, each show with its
/// signals and evidence.
#[utoipa::path(
    get,
    path = "/api/v1/admin/trust/risk",
    tag = "trust",
    summary = "The fraud queue (admins)",
    responses((status = 200, description = "`{shows}`", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn risk_queue(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Value>> {
    ops(&caller)?;
    let mut out = Vec::new();
    for a in state.store.assessments(200).await? {
        let show = state.store.show(ShowId(a.show)).await?;
        let flags = state.store.risk_flags(ShowId(a.show)).await?;
        out.push(json!({
            "show": a.show, "title": show.map(|s| s.title),
            "score": a.score_bps as f64 / 10_000.0, "hold": a.hold, "state": a.state,
            "signals": serde_json::from_str::<Value>(&a.signals).unwrap_or(Value::Null),
            "flagged_orders": flags.len(), "assessed_at": a.assessed_at,
            "reviewed_by": a.reviewed_by, "reviewed_at": a.reviewed_at,
        }));
    }
    Ok(Json(json!({ "shows": out })))
}

/// `GET /api/v1/admin/trust/risk/{show}`: one show's assessment and its flagged orders.
#[utoipa::path(
    get,
    path = "/api/v1/admin/trust/risk/{show}",
    tag = "trust",
    summary = "One show's risk assessment (admins)",
    params(("show" = i64, Path, description = "Show id", example = 1)),
    responses((status = 200, description = "The assessment and flagged orders", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn risk_show(
    State(state): State<AppState>,
    caller: Caller,
    Path(show): Path<i64>,
) -> ApiResult<Json<Value>> {
    ops(&caller)?;
    let Some(a) = state.store.assessment(ShowId(show)).await? else {
        // Not assessed yet: a show that exists is "pending" (the engine runs after it ends
        // and whenever its orders change), one that does not is not found.
        state
            .store
            .show(ShowId(show))
            .await?
            .ok_or_else(|| ApiError::not_found("show"))?;
        return Ok(Json(json!({
            "show": show, "state": "pending", "score": null, "hold": false,
            "signals": [], "flags": [],
        })));
    };
    let flags = state.store.risk_flags(ShowId(show)).await?;
    Ok(Json(json!({
        "show": show, "score": a.score_bps as f64 / 10_000.0, "hold": a.hold, "state": a.state,
        "signals": serde_json::from_str::<Value>(&a.signals).unwrap_or(Value::Null),
        "flags": flags,
    })))
}

/// `POST /api/v1/admin/trust/risk/{show}/assess`: run the engine now.
#[utoipa::path(
    post,
    path = "/api/v1/admin/trust/risk/{show}/assess",
    tag = "trust",
    summary = "Run the risk engine on a show now (admins)",
    params(("show" = i64, Path, description = "Show id", example = 1)),
    responses((status = 200, description = "The assessment", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn assess_show(
    State(state): State<AppState>,
    caller: Caller,
    Path(show): Path<i64>,
) -> ApiResult<Json<Value>> {
    ops(&caller)?;
    let a = state
        .guard
        .assess_show(ShowId(show), UnixMillis::now())
        .await?;
    Ok(Json(serde_json::to_value(a).unwrap_or_default()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RiskDecision {
    /// `cleared` (release the held earnings) or `confirmed` (fake sales: stay held, the host
    /// climbs the sanctions ladder).
    decision: String,
    #[serde(default)]
    note: String,
}

/// `POST /api/v1/admin/trust/risk/{show}/review`
#[utoipa::path(
    post,
    path = "/api/v1/admin/trust/risk/{show}/review",
    tag = "trust",
    summary = "Clear or confirm a show's risk (admins)",
    params(("show" = i64, Path, description = "Show id", example = 1)),
    request_body = RiskDecision,
    responses((status = 200, description = "`{released_orders, sanction}`", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn review_risk(
    State(state): State<AppState>,
    caller: Caller,
    Path(show): Path<i64>,
    ApiJson(b): ApiJson<RiskDecision>,
) -> ApiResult<Json<Value>> {
    let me = ops(&caller)?;
    let g = &state.guard;
    if b.decision != "cleared" && b.decision != "confirmed" {
        return Err(super::shop::invalid("decision: cleared or confirmed"));
    }
    let now = UnixMillis::now();
    let s = state
        .store
        .show(ShowId(show))
        .await?
        .ok_or_else(|| ApiError::not_found("show"))?;
    if !state
        .store
        .review_assessment(ShowId(show), &b.decision, me.id, now)
        .await?
    {
        return Err(ApiError::not_found("assessment"));
    }
    state
        .store
        .audit(
            Some(me.id),
            &format!("risk_{}", b.decision),
            &format!("show:{show}"),
            b.note.trim(),
            now,
        )
        .await?;
    let mut released = 0;
    let mut sanction = None;
    if b.decision == "cleared" {
        released = state
            .shop
            .books()
            .release_held(ShowId(show), now)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "releasing held earnings failed");
                ApiError::internal()
            })?;
    } else if let Some(c) = state.store.channel(s.channel).await? {
        let level = g
            .standing(c.owner, now)
            .await?
            .level
            .map_or(SanctionLevel::Warning, SanctionLevel::next);
        g.sanction(
            c.owner,
            level,
            &format!("fake sales confirmed in show {show}"),
            None,
            Some(me.id),
            now,
        )
        .await?;
        sanction = Some(level.as_str());
    }
    Ok(Json(
        json!({ "released_orders": released, "sanction": sanction }),
    ))
}

/// `GET /api/v1/admin/trust/audit`: the latest ops actions.
#[utoipa::path(
    get,
    path = "/api/v1/admin/trust/audit",
    tag = "trust",
    summary = "The latest ops actions (admins)",
    responses((status = 200, description = "`{entries}`", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn audit_log(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Value>> {
    ops(&caller)?;
    Ok(Json(
        json!({ "entries": state.store.audit_log(500).await? }),
    ))
}
