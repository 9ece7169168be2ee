//! Trust over HTTP for ops (platform admins): the identity and KYB review queues, operator
//! verification, sanctions and standing, complaints and guardian claims (decided by the shop's
//! case workflows), the fraud queue with each show's signals and evidence, and the audit log.
//!
//! About 800 lines, most of them the OpenAPI annotations and JSON views of the fraud queue's
//! evidence; every handler is parse, one service call, answer.

use super::common::invalid;
use super::trust::documents_dir;
use super::trust_views::{
    all, assessment_json, audit_json, business_json, check_json, claim_json, complaint_json,
    flag_json, sanction_json,
};
use crate::auth::Caller;
use crate::json::ApiJson;
use crate::problem::{ApiError, ApiResult};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hawker_commerce::org::OrgRole;
use hawker_domain::{Account, AccountId, Email, Role, ShowId, UnixMillis};
use hawker_shop::guard::IdentitySubmission;
use hawker_shop::{ComplaintVerdict, GuardianDecision, Resolution};
use hawker_trust::complaints::{ComplaintState, GuardianClaimState};
use hawker_trust::review::{ReviewState, RiskVerdict};
use hawker_trust::sanctions::SanctionLevel;
use serde::Deserialize;
use serde_json::{json, Value};

fn ops(caller: &Caller) -> ApiResult<&Account> {
    caller.require_role(|r| r == Role::PlatformAdmin, "the ops console")
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct StateQuery {
    #[serde(default)]
    state: Option<String>,
}

impl StateQuery {
    /// The state asked for, `default` when none; `None` for a name no record has (the list
    /// is then empty).
    fn state<T>(&self, default: T, parse: impl Fn(&str) -> Option<T>) -> Option<T> {
        self.state.as_deref().map_or(Some(default), parse)
    }
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
    let Some(wanted) = q.state(ReviewState::Submitted, ReviewState::parse) else {
        return Ok(Json(json!({ "checks": [] })));
    };
    for c in state.store.identity_checks(wanted, 200).await? {
        let mut v = check_json(&c);
        v["age"] = json!(hawker_trust::age::Date::parse(&c.birth_date).map(|d| d.age_on(now)));
        let others: Vec<AccountId> = state
            .store
            .accounts_with_identity(&c.id_hash)
            .await?
            .into_iter()
            .filter(|a| *a != c.account)
            .collect();
        v["same_identity_accounts"] = json!(others);
        v["email"] = json!(state
            .store
            .account(c.account)
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
    let email = Email::parse(&b.email).map_err(|e| invalid(format!("email: {e}")))?;
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
    let list = match q.state(ReviewState::Submitted, ReviewState::parse) {
        Some(s) => state.store.business_profiles(s, 200).await?,
        None => Vec::new(),
    };
    Ok(Json(json!({ "profiles": all(&list, business_json) })))
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
        return Err(invalid("reason: a rejection needs a reason"));
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
        invalid("level: warning, feature_limit, traffic_limit, stream_cut, suspension or closure")
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
    let sanctions = all(&state.store.sanctions_of(id).await?, sanction_json);
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
    if state.guard.standing(account, now).await?.may_sell() {
        state
            .shop
            .books()
            .unblock(hawker_money::Party::Account(account.0), me.id, now)
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
    let list = match q.state(ComplaintState::Open, ComplaintState::parse) {
        Some(s) => state.store.complaints(s, 200).await?,
        None => Vec::new(),
    };
    let list: Vec<Value> = list
        .iter()
        .map(|c| {
            let mut v = complaint_json(c);
            v["overdue"] = json!(c.state == ComplaintState::Open && c.deadline_at < now);
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
    let Resolution { sanction, refunded } = state
        .shop
        .resolve_complaint(
            me,
            id,
            ComplaintVerdict {
                uphold: b.uphold,
                outcome: b.outcome,
                sanction: b.sanction,
                refund: b.refund,
            },
        )
        .await?;
    Ok(Json(
        json!({ "sanction": sanction.map(SanctionLevel::as_str), "refunded": refunded }),
    ))
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
    let Some(wanted) = q.state(GuardianClaimState::Open, GuardianClaimState::parse) else {
        return Ok(Json(json!({ "claims": [] })));
    };
    for c in state.store.guardian_claims(wanted, 200).await? {
        let gifts = state.store.gifts_of_payer(c.minor, 500).await?;
        let mut v = claim_json(&c);
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
    let coins = state
        .shop
        .decide_guardian_claim(
            me,
            id,
            GuardianDecision {
                approve: b.approve,
                reason: b.reason,
            },
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
        let mut v = assessment_json(&a);
        v["title"] = json!(state.store.show(a.show).await?.map(|s| s.title));
        v["flagged_orders"] = json!(state.store.risk_flags(a.show).await?.len());
        v["assessed_at"] = json!(a.assessed_at);
        v["reviewed_by"] = json!(a.reviewed_by);
        v["reviewed_at"] = json!(a.reviewed_at);
        out.push(v);
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
    let mut v = assessment_json(&a);
    v["flags"] = all(&state.store.risk_flags(ShowId(show)).await?, flag_json);
    Ok(Json(v))
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
    let verdict =
        RiskVerdict::parse(&b.decision).ok_or_else(|| invalid("decision: cleared or confirmed"))?;
    let now = UnixMillis::now();
    let s = state
        .store
        .show(ShowId(show))
        .await?
        .ok_or_else(|| ApiError::not_found("show"))?;
    if !state
        .store
        .review_assessment(ShowId(show), verdict, me.id, now)
        .await?
    {
        return Err(ApiError::not_found("assessment"));
    }
    state
        .store
        .audit(
            Some(me.id),
            &format!("risk_{}", verdict.as_str()),
            &format!("show:{show}"),
            b.note.trim(),
            now,
        )
        .await?;
    let mut released = 0;
    let mut sanction = None;
    if verdict == RiskVerdict::Cleared {
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
    let entries = state.store.audit_log(500).await?;
    Ok(Json(json!({ "entries": all(&entries, audit_json) })))
}
