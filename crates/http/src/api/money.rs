//! Money over HTTP: earnings (balances from the ledger), statements (HTML tables come from
//! the pages; here JSON and CSV, every line naming its ledger transaction and order), agency
//! contracts, and the platform's ledger and payout batches.

use super::common::{csv_field, csv_response, invalid, staff};
use crate::auth::Caller;
use crate::json::ApiJson;
use crate::problem::{ApiError, ApiResult};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use hawker_commerce::org::OrgRole;
use hawker_domain::{Currency, Role, UnixMillis};
use hawker_money::{AccountRef, Party, Purpose};
use hawker_storage::ledger::AgencyContract;
use serde::Deserialize;

fn account_json(a: &AccountRef, balance: i64) -> serde_json::Value {
    serde_json::json!({
        "account": a.code(), "party": a.party, "purpose": a.purpose.as_str(),
        "currency": a.currency, "balance_minor": balance,
    })
}

fn contract_json(c: &AgencyContract) -> serde_json::Value {
    serde_json::json!({
        "id": c.id, "agency": c.agency, "streamer": c.streamer.0, "share_bps": c.share_bps,
        "starts_at": c.starts_at.0, "ends_at": c.ends_at.map(|t| t.0),
    })
}

/// `GET /api/v1/me/earnings`: the caller's accounts and agency contracts.
#[utoipa::path(
    get,
    path = "/api/v1/me/earnings",
    tag = "money",
    summary = "The caller's accounts and agency contracts",
    responses((status = 200, description = "`{accounts, agency_contracts}`", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn my_earnings(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<serde_json::Value>> {
    let me = caller.require()?;
    let books = state.shop.books();
    let accounts: Vec<_> = books
        .balances_of(Party::Account(me.id.0))
        .await
        .iter()
        .map(|(a, b)| account_json(a, *b))
        .collect();
    let contracts: Vec<_> = state
        .store
        .agency_contracts_of_streamer(me.id)
        .await?
        .iter()
        .map(contract_json)
        .collect();
    Ok(Json(
        serde_json::json!({ "accounts": accounts, "agency_contracts": contracts }),
    ))
}

/// `GET /api/v1/orgs/{id}/earnings`: the organisation's accounts as seller and as agency
/// (owner and managers).
#[utoipa::path(
    get,
    path = "/api/v1/orgs/{id}/earnings",
    tag = "money",
    summary = "An organisation's accounts as seller and agency",
    params(("id" = i64, Path, description = "Organisation id", example = 1)),
    responses((status = 200, description = "`{accounts, agency_contracts}`", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn org_earnings(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<i64>,
) -> ApiResult<Json<serde_json::Value>> {
    let me = caller.require()?;
    staff(&state, me, org, |r| {
        matches!(r, OrgRole::Owner | OrgRole::Manager)
    })
    .await?;
    let books = state.shop.books();
    let mut accounts = Vec::new();
    for p in [Party::Org(org), Party::Agency(org)] {
        for (a, b) in books.balances_of(p).await {
            accounts.push(account_json(&a, b));
        }
    }
    let contracts: Vec<_> = state
        .store
        .agency_contracts_of_agency(org)
        .await?
        .iter()
        .map(contract_json)
        .collect();
    Ok(Json(
        serde_json::json!({ "accounts": accounts, "agency_contracts": contracts }),
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatementQuery {
    /// For organisations: `org` (seller, the default) or `agency`.
    #[serde(default)]
    r#as: Option<String>,
    #[serde(default = "available")]
    purpose: String,
    #[serde(default = "cny")]
    currency: String,
    #[serde(default)]
    from: i64,
    #[serde(default)]
    to: Option<i64>,
    /// Only one show's lines.
    #[serde(default)]
    show: Option<i64>,
    #[serde(default)]
    format: Option<String>,
}

fn available() -> String {
    "available".into()
}
fn cny() -> String {
    "CNY".into()
}

async fn statement(state: &AppState, party: Party, q: &StatementQuery) -> ApiResult<Response> {
    let purpose = Purpose::parse(&q.purpose).ok_or_else(|| {
        ApiError::bad_request(
            "purpose: pending, available, held, payouts_in_transit, wallet, owed, ...",
        )
    })?;
    let currency =
        Currency::parse(&q.currency).ok_or_else(|| ApiError::bad_request("currency: e.g. CNY"))?;
    let account = AccountRef::new(party, purpose, currency);
    let to = UnixMillis(q.to.unwrap_or(i64::MAX));
    let lines = state
        .store
        .ledger_statement(&account, UnixMillis(q.from), to, q.show, 10_000)
        .await?;
    if q.format.as_deref() == Some("csv") {
        let mut out = String::from(
            "transaction,posting_key,kind,at,amount_minor,currency,order,show,gift,slot,batch\n",
        );
        for l in &lines {
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{},{}\n",
                l.tx,
                csv_field(&l.key),
                l.kind,
                hawker_media::hls::rfc3339_millis(l.at.0),
                l.amount,
                currency,
                l.order.map(|v| v.to_string()).unwrap_or_default(),
                l.show.map(|v| v.to_string()).unwrap_or_default(),
                l.gift.map(|v| v.to_string()).unwrap_or_default(),
                l.slot.map(|v| v.to_string()).unwrap_or_default(),
                csv_field(l.batch.as_deref().unwrap_or("")),
            ));
        }
        return Ok(csv_response("statement.csv", out));
    }
    let total: i64 = lines.iter().map(|l| l.amount).sum();
    let lines: Vec<_> = lines
        .iter()
        .map(|l| {
            serde_json::json!({
                "transaction": l.tx, "posting_key": l.key, "kind": l.kind, "at": l.at.0,
                "amount_minor": l.amount, "order": l.order, "show": l.show, "gift": l.gift,
                "slot": l.slot, "batch": l.batch,
            })
        })
        .collect();
    Ok(Json(serde_json::json!({
        "account": account.code(), "lines": lines, "net_minor": total,
    }))
    .into_response())
}

/// `GET /api/v1/me/statement?purpose=available&currency=CNY[&from&to][&format=csv]`
#[utoipa::path(
    get,
    path = "/api/v1/me/statement",
    tag = "money",
    summary = "The caller's statement",
    params(StatementQuery),
    responses((status = 200, description = "Ledger lines (JSON, or CSV with `format=csv`)", content((Object = "application/json"), (String = "text/csv")))),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn my_statement(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<StatementQuery>,
) -> ApiResult<Response> {
    let me = caller.require()?;
    statement(&state, Party::Account(me.id.0), &q).await
}

/// `GET /api/v1/admin/statement?purpose=fees&currency=CNY[&show]`: the platform's own accounts.
#[utoipa::path(
    get,
    path = "/api/v1/admin/statement",
    tag = "money",
    summary = "The platform's statement (admins)",
    params(StatementQuery),
    responses((status = 200, description = "Ledger lines (JSON, or CSV with `format=csv`)", content((Object = "application/json"), (String = "text/csv")))),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn platform_statement(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<StatementQuery>,
) -> ApiResult<Response> {
    caller.require_role(|r| r == Role::PlatformAdmin, "the platform's statements")?;
    statement(&state, Party::Platform, &q).await
}

/// `GET /api/v1/orgs/{id}/statement?as=org|agency&purpose=...`
#[utoipa::path(
    get,
    path = "/api/v1/orgs/{id}/statement",
    tag = "money",
    summary = "An organisation's statement",
    params(("id" = i64, Path, description = "Organisation id", example = 1), StatementQuery),
    responses((status = 200, description = "Ledger lines (JSON, or CSV with `format=csv`)", content((Object = "application/json"), (String = "text/csv")))),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn org_statement(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<i64>,
    Query(q): Query<StatementQuery>,
) -> ApiResult<Response> {
    let me = caller.require()?;
    staff(&state, me, org, |r| {
        matches!(r, OrgRole::Owner | OrgRole::Manager)
    })
    .await?;
    let party = match q.r#as.as_deref() {
        None | Some("org") => Party::Org(org),
        Some("agency") => Party::Agency(org),
        Some(_) => return Err(ApiError::bad_request("as: org or agency")),
    };
    statement(&state, party, &q).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewContract {
    /// The streamer, by their channel.
    channel: String,
    /// The agency's share of the streamer's earnings (basis points, 1–9000).
    share_bps: u32,
    #[serde(default)]
    starts_at: Option<i64>,
    #[serde(default)]
    ends_at: Option<i64>,
}

/// `POST /api/v1/orgs/{id}/agency-contracts`: the agency's owner records a contract; the
/// streamer sees it under `GET /api/v1/me/earnings`.
#[utoipa::path(
    post,
    path = "/api/v1/orgs/{id}/agency-contracts",
    tag = "money",
    summary = "Record an agency contract",
    params(("id" = i64, Path, description = "Organisation id (the agency)", example = 1)),
    request_body = NewContract,
    responses((status = 201, description = "The contract", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn create_contract(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<i64>,
    ApiJson(b): ApiJson<NewContract>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let me = caller.require()?;
    staff(&state, me, org, |r| r == OrgRole::Owner).await?;
    if !(1..=9_000).contains(&b.share_bps) {
        return Err(invalid("share_bps: 1 to 9000 (0.01% to 90%)"));
    }
    let now = UnixMillis::now();
    let starts = UnixMillis(b.starts_at.unwrap_or(now.0));
    if b.ends_at.is_some_and(|e| e <= starts.0) {
        return Err(ApiError::bad_request("ends_at: after starts_at"));
    }
    let c = super::channels::find(&state, &b.channel).await?;
    let k = state
        .store
        .create_agency_contract(
            org,
            c.owner,
            b.share_bps,
            starts,
            b.ends_at.map(UnixMillis),
            me.id,
            now,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(contract_json(&k))))
}

/// `GET /api/v1/admin/ledger`: the platform's accounts and every currency's total (zero).
#[utoipa::path(
    get,
    path = "/api/v1/admin/ledger",
    tag = "money",
    summary = "The platform's accounts and totals (admins)",
    responses((status = 200, description = "`{accounts, totals_minor}`", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn platform_ledger(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<serde_json::Value>> {
    caller.require_role(|r| r == Role::PlatformAdmin, "the platform ledger")?;
    let books = state.shop.books();
    let accounts: Vec<_> = books
        .balances_of(Party::Platform)
        .await
        .iter()
        .map(|(a, b)| account_json(a, *b))
        .collect();
    let mut totals = std::collections::BTreeMap::new();
    for (a, b) in state.store.ledger_balances().await? {
        *totals.entry(a.currency.to_string()).or_insert(0i64) += b;
    }
    Ok(Json(
        serde_json::json!({ "accounts": accounts, "totals_minor": totals }),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PayoutBody {
    /// Names the batch: running it again pays nobody twice.
    batch: String,
}

/// `POST /api/v1/admin/payouts`: pays every available balance above the minimum through the
/// payout provider (the sandbox by default); running a batch again pays nobody twice and
/// finishes what an interrupted run left.
#[utoipa::path(
    post,
    path = "/api/v1/admin/payouts",
    tag = "money",
    summary = "Run a payout batch (admins)",
    request_body = PayoutBody,
    responses((status = 200, description = "`{batch, paid, failed}`", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn payouts(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<PayoutBody>,
) -> ApiResult<Json<serde_json::Value>> {
    caller.require_role(|r| r == Role::PlatformAdmin, "payouts")?;
    let shop = &state.shop;
    let (paid, failed) = shop
        .books()
        .run_payouts(&b.batch, shop.payouts().as_ref(), UnixMillis::now())
        .await
        .map_err(hawker_shop::ShopError::from)?;
    let lines = |txs: &[hawker_money::Transaction]| -> Vec<serde_json::Value> {
        txs.iter()
            .filter_map(|t| t.entries.iter().find(|e| e.amount > 0))
            .map(|e| serde_json::json!({ "party": e.account.party, "currency": e.account.currency, "amount_minor": e.amount }))
            .collect()
    };
    Ok(Json(serde_json::json!({
        "batch": b.batch, "paid": lines(&paid), "failed": lines(&failed),
    })))
}

// ---------------------------------------------------------------------------- terms, mutes

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RateBody {
    /// Basis points; null removes the override.
    bps: Option<u32>,
}

/// `PUT /api/v1/products/{id}/commission`: the host's commission on this product (1–80%),
/// set by the seller's owner or managers.
#[utoipa::path(
    put,
    path = "/api/v1/products/{id}/commission",
    tag = "money",
    summary = "The host's commission on a product",
    params(("id" = i64, Path, description = "Product id", example = 1)),
    request_body = RateBody,
    responses((status = 204, description = "Set")),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn product_commission(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<RateBody>,
) -> ApiResult<StatusCode> {
    let me = caller.require()?;
    let p = state
        .store
        .product(id)
        .await?
        .ok_or_else(|| ApiError::not_found("product"))?;
    staff(&state, me, p.org, |r| {
        matches!(r, OrgRole::Owner | OrgRole::Manager)
    })
    .await?;
    if b.bps.is_some_and(|v| !(1..=8_000).contains(&v)) {
        return Err(invalid("bps: 1 to 8000 (1% to 80%), or null"));
    }
    state.store.set_product_commission(id, b.bps).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/v1/shows/{id}/commission`: the host's commission for a show, set by the owner or
/// managers of the shop the show's channel sells for.
#[utoipa::path(
    put,
    path = "/api/v1/shows/{id}/commission",
    tag = "money",
    summary = "The host's commission for a show",
    params(("id" = i64, Path, description = "Show id", example = 1)),
    request_body = RateBody,
    responses((status = 204, description = "Set")),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn show_commission(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<RateBody>,
) -> ApiResult<StatusCode> {
    let me = caller.require()?;
    let sh = state
        .store
        .show(hawker_domain::ShowId(id))
        .await?
        .ok_or_else(|| ApiError::not_found("show"))?;
    let (org, _) = state
        .store
        .channel_shop(sh.channel)
        .await?
        .ok_or_else(|| ApiError::conflict("no_shop", "this channel sells for no shop"))?;
    staff(&state, me, org, |r| {
        matches!(r, OrgRole::Owner | OrgRole::Manager)
    })
    .await?;
    if b.bps.is_some_and(|v| !(1..=8_000).contains(&v)) {
        return Err(invalid("bps: 1 to 8000 (1% to 80%), or null"));
    }
    state.store.set_show_commission(sh.id, b.bps).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/v1/admin/orgs/{id}/fee`: the platform's fee for one organisation (0–50%).
#[utoipa::path(
    put,
    path = "/api/v1/admin/orgs/{id}/fee",
    tag = "money",
    summary = "The platform's fee for one organisation (admins)",
    params(("id" = i64, Path, description = "Organisation id", example = 1)),
    request_body = RateBody,
    responses((status = 204, description = "Set")),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn org_fee(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<RateBody>,
) -> ApiResult<StatusCode> {
    caller.require_role(|r| r == Role::PlatformAdmin, "platform fees")?;
    if b.bps.is_some_and(|v| v > 5_000) {
        return Err(invalid("bps: 0 to 5000, or null"));
    }
    if !state.store.set_org_fee(id, b.bps).await? {
        return Err(ApiError::not_found("organisation"));
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MuteBody {
    minutes: i64,
    reason: String,
}

/// `POST /api/v1/admin/accounts/{id}/mute`: mutes a host; their tipping income is suspended
/// for the law profile's multiple of the mute (cn: 3×).
#[utoipa::path(
    post,
    path = "/api/v1/admin/accounts/{id}/mute",
    tag = "money",
    summary = "Mute a host (admins)",
    params(("id" = i64, Path, description = "Account id", example = 1)),
    request_body = MuteBody,
    responses((status = 200, description = "`{account, minutes, tips_suspended_until}`", body = Object)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn mute_host(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<MuteBody>,
) -> ApiResult<Json<serde_json::Value>> {
    let me = caller.require_role(|r| r == Role::PlatformAdmin, "muting hosts")?;
    let until = state
        .shop
        .books()
        .mute_host(
            hawker_domain::AccountId(id),
            b.minutes,
            &b.reason,
            me.id,
            UnixMillis::now(),
        )
        .await
        .map_err(hawker_shop::ShopError::from)?;
    tracing::info!(host = id, minutes = b.minutes, by = me.id.0, "host muted");
    Ok(Json(serde_json::json!({
        "account": id, "minutes": b.minutes,
        "tips_suspended_until": until.map(|t| t.0),
    })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BlockBody {
    /// `{"kind": "account" | "org" | "agency", "id": N}`
    #[schema(value_type = Object)]
    party: Party,
    #[serde(default)]
    reason: String,
}

/// `POST /api/v1/admin/parties/block`: nothing more becomes available to, or is paid out to,
/// the party (kept across restarts); `.../unblock` lifts it.
#[utoipa::path(
    post,
    path = "/api/v1/admin/parties/block",
    tag = "money",
    summary = "Block payouts to a party (admins)",
    request_body = BlockBody,
    responses((status = 204, description = "Blocked")),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn block_party(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<BlockBody>,
) -> ApiResult<StatusCode> {
    let me = caller.require_role(|r| r == Role::PlatformAdmin, "blocking payouts")?;
    if b.party == Party::Platform || b.reason.trim().is_empty() {
        return Err(invalid("a party other than the platform, and a reason"));
    }
    state
        .shop
        .books()
        .block(b.party, b.reason.trim(), me.id, UnixMillis::now())
        .await
        .map_err(hawker_shop::ShopError::from)?;
    tracing::info!(party = ?b.party, by = me.id.0, "party blocked from payouts");
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/api/v1/admin/parties/unblock",
    tag = "money",
    summary = "Unblock payouts to a party (admins)",
    request_body = BlockBody,
    responses((status = 204, description = "Unblocked")),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn unblock_party(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<BlockBody>,
) -> ApiResult<StatusCode> {
    let me = caller.require_role(|r| r == Role::PlatformAdmin, "blocking payouts")?;
    state
        .shop
        .books()
        .unblock(b.party, me.id, UnixMillis::now())
        .await
        .map_err(hawker_shop::ShopError::from)?;
    tracing::info!(party = ?b.party, by = me.id.0, "party unblocked");
    Ok(StatusCode::NO_CONTENT)
}
