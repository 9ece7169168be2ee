//! The JSON API, version 1.

mod accounts;
mod catalog;
mod cohost;
pub(crate) use cohost::co_host_problem;
pub(crate) mod channels;
pub(crate) mod common;
mod defects;
mod disclosure;
mod export;
mod gifts;
mod leads;
mod money;
mod openapi;
mod orders;
mod replay;
mod room;
pub(crate) mod sales;
mod showcase;
mod shows;
mod slots;
mod trust;
mod trust_ops;
mod trust_views;
mod webhooks;

use crate::limits;
use crate::AppState;
use axum::middleware::from_fn_with_state;
use axum::routing::{delete, get, post, put};
use axum::Router;
use hawker_domain::{Channel, Show};
use serde::Serialize;

pub(crate) fn routes(state: AppState) -> Router<AppState> {
    let credentials = Router::new()
        .route("/api/v1/accounts", post(accounts::sign_up))
        .route("/api/v1/sessions", post(accounts::log_in))
        .route_layer(from_fn_with_state(state.clone(), limits::credentials_limit));
    Router::new()
        .route(
            "/api/v1/sessions/current",
            axum::routing::delete(accounts::log_out),
        )
        .route("/api/v1/me", get(accounts::me))
        .route("/api/v1/session", get(accounts::session))
        .route("/api/v1/me/channels", get(channels::mine))
        .route(
            "/api/v1/channels",
            get(channels::list).post(channels::create),
        )
        .route("/api/v1/channels/{slug}", get(channels::get_one))
        .route(
            "/api/v1/channels/{slug}/stream-key",
            get(channels::stream_key),
        )
        .route(
            "/api/v1/channels/{slug}/stream-key/rotate",
            post(channels::rotate_key),
        )
        .route("/api/v1/channels/{slug}/ingest", get(channels::ingest))
        .route(
            "/api/v1/channels/{slug}/shows",
            get(shows::of_channel).post(shows::schedule),
        )
        .route(
            "/api/v1/channels/{slug}/follow",
            get(room::follow_status)
                .put(room::follow)
                .delete(room::unfollow),
        )
        .route(
            "/api/v1/channels/{slug}/moderators",
            get(room::moderators).post(room::add_moderator),
        )
        .route(
            "/api/v1/channels/{slug}/moderators/{account}",
            axum::routing::delete(room::remove_moderator),
        )
        .route(
            "/api/v1/channels/{slug}/keywords",
            get(room::channel_keywords)
                .post(room::add_channel_keywords)
                .delete(room::remove_channel_keywords),
        )
        .route(
            "/api/v1/keywords",
            get(room::platform_keywords)
                .post(room::add_platform_keywords)
                .delete(room::remove_platform_keywords),
        )
        .route(
            "/api/v1/channels/{slug}/moderation-log",
            get(room::moderation_log),
        )
        .route("/api/v1/shows/{id}/chat", get(room::show_chat))
        .route("/api/v1/shows", get(shows::list))
        .route("/api/v1/shows/{id}", get(shows::get_one))
        // The shop: sellers and their catalog.
        .route("/api/v1/me/earnings", get(money::my_earnings))
        .route("/api/v1/me/statement", get(money::my_statement))
        .route("/api/v1/orgs/{id}/earnings", get(money::org_earnings))
        .route("/api/v1/orgs/{id}/statement", get(money::org_statement))
        .route(
            "/api/v1/orgs/{id}/agency-contracts",
            post(money::create_contract),
        )
        .route("/api/v1/admin/ledger", get(money::platform_ledger))
        .route("/api/v1/admin/statement", get(money::platform_statement))
        .route("/api/v1/admin/payouts", post(money::payouts))
        .route("/api/v1/admin/shows/{id}/export", get(export::export_show))
        .route("/api/v1/me/trust", get(trust::my_trust))
        .route("/api/v1/me/identity", post(trust::submit_identity))
        .route(
            "/api/v1/me/identity/document",
            post(trust::upload_document).layer(axum::extract::DefaultBodyLimit::max(
                trust::MAX_DOCUMENT + 1024,
            )),
        )
        .route("/api/v1/training", get(trust::training))
        .route("/api/v1/me/training", post(trust::take_training))
        .route("/api/v1/me/broadcast-check", post(trust::broadcast_check))
        .route("/api/v1/me/minor-mode", put(trust::minor_mode))
        .route("/api/v1/complaints", post(trust::file_complaint))
        .route("/api/v1/guardian-claims", post(trust::file_guardian_claim))
        .route(
            "/api/v1/orgs/{id}/business",
            get(trust::business).put(trust::submit_business),
        )
        .route(
            "/api/v1/admin/trust/identity",
            get(trust_ops::identity_queue),
        )
        .route(
            "/api/v1/admin/trust/identity/{id}/document",
            get(trust_ops::identity_document),
        )
        .route(
            "/api/v1/admin/trust/identity/{id}/review",
            post(trust_ops::review_identity),
        )
        .route(
            "/api/v1/admin/trust/verify",
            post(trust_ops::verify_by_operator),
        )
        .route(
            "/api/v1/admin/trust/business",
            get(trust_ops::business_queue),
        )
        .route(
            "/api/v1/admin/trust/business/{org}/review",
            post(trust_ops::review_business),
        )
        .route(
            "/api/v1/admin/trust/accounts/{id}",
            get(trust_ops::account_trust),
        )
        .route(
            "/api/v1/admin/trust/accounts/{id}/sanctions",
            post(trust_ops::add_sanction),
        )
        .route(
            "/api/v1/admin/trust/sanctions/{id}/lift",
            post(trust_ops::lift_sanction),
        )
        .route("/api/v1/admin/trust/complaints", get(trust_ops::complaints))
        .route(
            "/api/v1/admin/trust/complaints/{id}/resolve",
            post(trust_ops::resolve_complaint),
        )
        .route(
            "/api/v1/admin/trust/guardian-claims",
            get(trust_ops::guardian_claims),
        )
        .route(
            "/api/v1/admin/trust/guardian-claims/{id}/decide",
            post(trust_ops::decide_guardian_claim),
        )
        .route("/api/v1/admin/trust/risk", get(trust_ops::risk_queue))
        .route("/api/v1/admin/trust/risk/{show}", get(trust_ops::risk_show))
        .route(
            "/api/v1/admin/trust/risk/{show}/assess",
            post(trust_ops::assess_show),
        )
        .route(
            "/api/v1/admin/trust/risk/{show}/review",
            post(trust_ops::review_risk),
        )
        .route("/api/v1/admin/trust/audit", get(trust_ops::audit_log))
        .route("/api/v1/gift-kinds", get(gifts::gift_kinds))
        .route("/api/v1/me/wallet", get(gifts::my_wallet))
        .route("/api/v1/me/coins", post(gifts::top_up))
        .route("/api/v1/channels/{slug}/gifts", post(gifts::send_gift))
        .route("/api/v1/admin/gifts/{id}/refund", post(gifts::refund_gift))
        .route(
            "/api/v1/shows/{id}/slots",
            get(slots::show_slots).post(slots::book_slot),
        )
        .route("/api/v1/slots/{id}/report", get(slots::slot_report))
        .route("/api/v1/orgs/{id}/slots", get(slots::brand_slots))
        .route(
            "/api/v1/admin/slots/{id}/fee-received",
            post(slots::slot_fee_received),
        )
        .route("/api/v1/admin/slots/{id}/close", post(slots::close_slot))
        .route(
            "/api/v1/products/{id}/commission",
            put(money::product_commission),
        )
        .route("/api/v1/shows/{id}/commission", put(money::show_commission))
        .route("/api/v1/admin/orgs/{id}/fee", put(money::org_fee))
        .route("/api/v1/admin/accounts/{id}/mute", post(money::mute_host))
        .route("/api/v1/admin/parties/block", post(money::block_party))
        .route("/api/v1/admin/parties/unblock", post(money::unblock_party))
        .route("/api/v1/orgs", post(catalog::create_org))
        .route("/api/v1/me/orgs", get(catalog::my_orgs))
        .route("/api/v1/orgs/{id}/stores", post(catalog::create_store))
        .route("/api/v1/orgs/{id}/members", post(catalog::add_member))
        .route(
            "/api/v1/channels/{slug}/shop",
            put(catalog::set_channel_shop),
        )
        .route(
            "/api/v1/orgs/{id}/products",
            get(catalog::org_products).post(catalog::create_product),
        )
        .route("/api/v1/products/{id}", get(catalog::get_product))
        .route("/api/v1/skus/{id}/price", put(catalog::set_price))
        .route("/api/v1/skus/{id}/stock", put(catalog::set_stock))
        .route(
            "/api/v1/products/{id}/images",
            post(catalog::upload_image)
                .layer(axum::extract::DefaultBodyLimit::max(common::MAX_IMAGE + 1)),
        )
        // The showcase of a show.
        .route(
            "/api/v1/shows/{id}/shelf",
            get(showcase::shelf).put(showcase::set_shelf),
        )
        .route(
            "/api/v1/shows/{id}/shelf/{product}",
            put(showcase::set_showcase_entry),
        )
        .route(
            "/api/v1/shows/{id}/shelf/{product}/co-host",
            put(showcase::set_co_host_statement),
        )
        .route(
            "/api/v1/shows/{id}/pins",
            get(replay::pins).post(showcase::pin),
        )
        .route("/api/v1/shows/{id}/pins/{product}", delete(showcase::unpin))
        // Flash sales and coupons.
        .route("/api/v1/flash-sales", post(sales::create_sale))
        .route("/api/v1/flash-sales/{id}", get(sales::get_sale))
        .route("/api/v1/flash-sales/{id}/start", post(sales::start_sale))
        .route("/api/v1/channels/{slug}/sales", get(sales::channel_sales))
        .route(
            "/api/v1/orgs/{id}/coupons",
            get(sales::org_coupons).post(sales::create_org_coupon),
        )
        .route(
            "/api/v1/orgs/{id}/coupons/{coupon}/{action}",
            post(sales::change_coupon),
        )
        .route("/api/v1/coupons", post(sales::create_platform_coupon))
        // Orders.
        .route("/api/v1/orders", post(orders::checkout))
        .route("/api/v1/orders/{id}", get(orders::get_order))
        .route("/api/v1/me/orders", get(orders::my_orders))
        .route("/api/v1/orders/{id}/pay", post(orders::pay))
        .route("/api/v1/orders/{id}/actions", post(orders::buyer_action))
        .route(
            "/api/v1/orders/{id}/fulfilment",
            post(orders::merchant_action),
        )
        .route("/api/v1/orgs/{id}/orders", get(orders::org_orders))
        // Defect claims: filed by the buyer, answered by the seller, decided by the platform.
        .route("/api/v1/orders/{id}/defect-claims", post(defects::file))
        .route("/api/v1/me/defect-claims", get(defects::mine))
        .route("/api/v1/orgs/{id}/defect-claims", get(defects::of_org))
        .route("/api/v1/defect-claims/{id}", get(defects::get_one))
        .route(
            "/api/v1/defect-claims/{id}/photos",
            post(defects::add_photo)
                .layer(axum::extract::DefaultBodyLimit::max(common::MAX_IMAGE + 1)),
        )
        .route(
            "/api/v1/defect-claims/{id}/photos/{photo}",
            get(defects::photo),
        )
        .route("/api/v1/defect-claims/{id}/answer", post(defects::answer))
        .route("/api/v1/admin/defect-claims", get(defects::queue))
        .route(
            "/api/v1/admin/defect-claims/{id}/decide",
            post(defects::decide),
        )
        // 1:1 video consults and their leads.
        .route(
            "/api/v1/products/{id}/consultable",
            put(leads::set_consultable),
        )
        .route("/api/v1/products/{id}/consults", post(leads::request))
        .route("/api/v1/leads/{id}", get(leads::get_one))
        .route("/api/v1/leads/{id}/accept", post(leads::accept))
        .route("/api/v1/leads/{id}/decline", post(leads::decline))
        .route("/api/v1/leads/{id}/end", post(leads::end))
        .route("/api/v1/leads/{id}/outcome", put(leads::note_outcome))
        .route("/api/v1/orgs/{id}/leads", get(leads::of_org))
        .route("/api/v1/me/leads", get(leads::mine))
        // Co-hosting: the invite link, accepting it, dropping the guest.
        .route(
            "/api/v1/channels/{slug}/co-host",
            get(cohost::current)
                .post(cohost::invite)
                .delete(cohost::drop_guest),
        )
        .route(
            "/api/v1/co-host-invites/{token}/accept",
            post(cohost::accept),
        )
        // Outbound webhooks: subscriptions, the delivery log, redelivery.
        .route(
            "/api/v1/orgs/{id}/webhooks",
            get(webhooks::list).post(webhooks::create),
        )
        .route(
            "/api/v1/orgs/{id}/webhooks/{webhook}",
            delete(webhooks::remove),
        )
        .route(
            "/api/v1/orgs/{id}/webhook-deliveries",
            get(webhooks::deliveries),
        )
        .route(
            "/api/v1/orgs/{id}/webhook-deliveries/{delivery}",
            get(webhooks::delivery),
        )
        .route(
            "/api/v1/orgs/{id}/webhook-deliveries/{delivery}/redeliver",
            post(webhooks::redeliver),
        )
        // Disclosure: showcase entries, virtual hosts, credentials, prize draws.
        .merge(disclosure::routes())
        .merge(credentials)
        .route_layer(from_fn_with_state(state.clone(), limits::api_limit))
        // Hot and machine-called paths limited by their own budgets, not the per-IP API one:
        // the buy button (per account, inside the engine's queue) and the provider's webhooks
        // (signed; a provider retries from few addresses).
        .route(sales::BUY_ROUTE, post(sales::buy))
        .route("/api/v1/payments/sandbox/webhook", post(orders::webhook))
        // The OpenAPI document of all of the above (rendered by the page at `/api/docs`).
        .route("/api/openapi.json", get(openapi::serve))
        .route("/media/images/{id}", get(catalog::image))
}

/// A show as the public sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ShowView {
    pub id: i64,
    pub channel: String,
    pub channel_title: String,
    pub title: String,
    pub state: &'static str,
    pub scheduled_at: Option<i64>,
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub watch_url: String,
    /// Set once a recording exists.
    pub replay_url: Option<String>,
    /// People watching now (live shows in the list, when this node runs the show's room).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub viewers: Option<u64>,
}

pub(crate) fn show_view(base: &str, show: &Show, channel: &Channel, recorded: bool) -> ShowView {
    ShowView {
        id: show.id.0,
        channel: channel.slug.to_string(),
        channel_title: channel.title.clone(),
        title: show.title.clone(),
        state: show.state.as_str(),
        scheduled_at: show.scheduled_at.map(|t| t.0),
        started_at: show.started_at.map(|t| t.0),
        ended_at: show.ended_at.map(|t| t.0),
        watch_url: format!("{base}/c/{}", channel.slug),
        replay_url: recorded.then(|| format!("{base}/replay/{}", show.id)),
        viewers: None,
    }
}
