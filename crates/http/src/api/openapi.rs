//! The API's OpenAPI 3.1 document, generated from the code: every `/api/v1` handler carries a
//! `#[utoipa::path]` annotation (method, path as routed, parameters, body, responses) and is
//! listed here; request and response types derive `utoipa::ToSchema`. Served at
//! `GET /api/openapi.json` and rendered at `GET /api/docs`. The tests below compare the
//! document with the route table in `api/mod.rs` and `api/disclosure.rs`, so a route added
//! without its annotation fails them.
//!
//! Every `/api/` error is a problem document (see `crate::problem`): rather than repeating
//! them on each handler, every operation gets `4XX` and `5XX` answers of the `Problem` schema
//! as `application/problem+json`.

use super::{
    accounts, catalog, channels, cohost, defects, disclosure, export, gifts, leads, money, orders,
    replay, room, sales, showcase, shows, slots, trust, trust_ops, webhooks,
};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::sync::OnceLock;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hawker API",
        description = "The JSON API of Hawker, a self-hosted live-commerce server. Errors are RFC 9457 problem documents with a stable `code`. Authenticate with the `hawker_session` cookie (browsers, from `POST /api/v1/sessions`) or `Authorization: Bearer <token>` (the admin token, CLI and API clients).",
        license(name = "AGPL-3.0-or-later")
    ),
    paths(
        accounts::sign_up,
        accounts::log_in,
        accounts::log_out,
        accounts::me,
        accounts::session,
        channels::create,
        channels::mine,
        channels::list,
        channels::get_one,
        channels::stream_key,
        channels::rotate_key,
        channels::ingest,
        shows::list,
        shows::get_one,
        shows::of_channel,
        shows::schedule,
        replay::pins,
        room::follow_status,
        room::follow,
        room::unfollow,
        room::moderators,
        room::add_moderator,
        room::remove_moderator,
        room::channel_keywords,
        room::add_channel_keywords,
        room::remove_channel_keywords,
        room::platform_keywords,
        room::add_platform_keywords,
        room::remove_platform_keywords,
        room::moderation_log,
        room::show_chat,
        export::export_show,
        money::my_earnings,
        money::org_earnings,
        money::my_statement,
        money::platform_statement,
        money::org_statement,
        money::create_contract,
        money::platform_ledger,
        money::payouts,
        gifts::gift_kinds,
        gifts::my_wallet,
        gifts::top_up,
        gifts::send_gift,
        gifts::refund_gift,
        slots::book_slot,
        slots::show_slots,
        slots::brand_slots,
        slots::slot_report,
        slots::slot_fee_received,
        slots::close_slot,
        money::product_commission,
        money::show_commission,
        money::org_fee,
        money::mute_host,
        money::block_party,
        money::unblock_party,
        catalog::create_org,
        catalog::my_orgs,
        catalog::create_store,
        catalog::add_member,
        catalog::set_channel_shop,
        catalog::org_products,
        catalog::create_product,
        catalog::get_product,
        catalog::set_price,
        catalog::set_stock,
        catalog::upload_image,
        showcase::shelf,
        showcase::set_shelf,
        showcase::pin,
        showcase::unpin,
        sales::create_sale,
        sales::get_sale,
        sales::start_sale,
        sales::channel_sales,
        sales::org_coupons,
        sales::create_org_coupon,
        sales::change_coupon,
        sales::create_platform_coupon,
        orders::checkout,
        orders::get_order,
        orders::my_orders,
        orders::pay,
        orders::webhook,
        orders::buyer_action,
        orders::merchant_action,
        orders::org_orders,
        sales::buy,
        trust::my_trust,
        trust::upload_document,
        trust::submit_identity,
        trust::training,
        trust::take_training,
        trust::broadcast_check,
        trust::minor_mode,
        trust::file_complaint,
        trust::file_guardian_claim,
        trust::business,
        trust::submit_business,
        trust_ops::identity_queue,
        trust_ops::identity_document,
        trust_ops::review_identity,
        trust_ops::verify_by_operator,
        trust_ops::business_queue,
        trust_ops::review_business,
        trust_ops::account_trust,
        trust_ops::add_sanction,
        trust_ops::lift_sanction,
        trust_ops::complaints,
        trust_ops::resolve_complaint,
        trust_ops::guardian_claims,
        trust_ops::decide_guardian_claim,
        trust_ops::risk_queue,
        trust_ops::risk_show,
        trust_ops::assess_show,
        trust_ops::review_risk,
        trust_ops::audit_log,
        showcase::set_showcase_entry,
        showcase::set_co_host_statement,
        disclosure::set_virtual_host,
        disclosure::upload_credential,
        disclosure::org_credentials,
        disclosure::credential_document,
        disclosure::credential_queue,
        disclosure::review_credential,
        disclosure::create_draw,
        disclosure::show_draws,
        disclosure::get_draw,
        disclosure::enter_draw,
        disclosure::run_draw,
        disclosure::cancel_draw,
        leads::set_consultable,
        leads::request,
        leads::get_one,
        leads::accept,
        leads::decline,
        leads::end,
        leads::note_outcome,
        leads::of_org,
        leads::mine,
        cohost::invite,
        cohost::current,
        cohost::drop_guest,
        cohost::accept,
        webhooks::list,
        webhooks::create,
        webhooks::remove,
        webhooks::deliveries,
        webhooks::delivery,
        webhooks::redeliver,
        defects::file,
        defects::add_photo,
        defects::photo,
        defects::get_one,
        defects::answer,
        defects::decide,
        defects::mine,
        defects::of_org,
        defects::queue,
    ),
    components(schemas(crate::problem::Problem)),
    modifiers(&Conventions)
)]
pub(crate) struct ApiDoc;

/// What every operation shares: the security schemes, the problem answers, unique ids.
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token: the admin token in `{data}/admin-token`",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::SESSION_COOKIE,
                "The session cookie set by sign-up and log-in",
            ))),
        );
        for item in api.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                conventions(op);
            }
        }
    }
}

fn conventions(op: &mut Operation) {
    let problem = |what: &str| {
        ResponseBuilder::new()
            .description(what)
            .content(
                "application/problem+json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build()
    };
    let answers = &mut op.responses.responses;
    answers
        .entry("4XX".into())
        .or_insert_with(|| problem("Refused: a problem document whose `code` says why").into());
    answers
        .entry("5XX".into())
        .or_insert_with(|| problem("Failed on the server's side: a problem document").into());
    // Handler names repeat across modules (`list`, `get_one`): the tag makes the id unique.
    if let (Some(id), Some(tag)) = (&op.operation_id, op.tags.as_ref().and_then(|t| t.first())) {
        op.operation_id = Some(format!("{tag}_{id}"));
    }
}

/// The document as JSON, built once.
pub(crate) fn document() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| ApiDoc::openapi().to_json().unwrap_or_default())
}

/// `GET /api/openapi.json`
pub(crate) async fn serve() -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        document(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

    /// (method, path) of every `/api/v1` route registered in a router's source: each
    /// `.route(PATH, get(..).post(..))` call, its path a literal or `sales::BUY_ROUTE`.
    fn routes_in(src: &str, out: &mut BTreeSet<(String, String)>) {
        let mut rest = src;
        while let Some(i) = rest.find(".route(") {
            let arg = &rest[i + ".route(".len()..];
            let mut depth = 1;
            let end = arg
                .char_indices()
                .find(|(_, c)| {
                    match c {
                        '(' => depth += 1,
                        ')' => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .map(|(j, _)| j)
                .expect("a .route( call ends");
            let arg = &arg[..end];
            rest = &rest[i + ".route(".len() + end..];
            let t = arg.trim_start();
            let path = if let Some(lit) = t.strip_prefix('"') {
                lit.split('"').next().unwrap_or_default().to_string()
            } else if t.starts_with("sales::BUY_ROUTE") {
                sales::BUY_ROUTE.to_string()
            } else {
                panic!("a route whose path this test cannot read: {t}");
            };
            if !path.starts_with("/api/v1/") {
                continue;
            }
            for m in METHODS {
                let call = format!("{m}(");
                let found = arg.match_indices(&call).any(|(k, _)| {
                    k == 0
                        || !arg[..k]
                            .chars()
                            .next_back()
                            .is_some_and(|c| c.is_alphanumeric() || c == '_')
                });
                if found {
                    out.insert((m.to_string(), path.clone()));
                }
            }
        }
    }

    fn spec() -> serde_json::Value {
        serde_json::from_str(document()).expect("the document is JSON")
    }

    #[test]
    fn every_api_route_is_in_the_document_and_nothing_else() {
        let mut routed = BTreeSet::new();
        routes_in(include_str!("mod.rs"), &mut routed);
        routes_in(include_str!("disclosure.rs"), &mut routed);
        assert!(routed.len() > 100, "the route table was read: {routed:?}");
        let spec = spec();
        let mut documented = BTreeSet::new();
        for (path, item) in spec["paths"].as_object().expect("paths") {
            for m in METHODS {
                if item.get(m).is_some() {
                    documented.insert((m.to_string(), path.clone()));
                }
            }
        }
        let missing: Vec<_> = routed.difference(&documented).collect();
        let extra: Vec<_> = documented.difference(&routed).collect();
        assert!(
            missing.is_empty(),
            "routes without #[utoipa::path] (annotate the handler and list it in ApiDoc): {missing:?}"
        );
        assert!(
            extra.is_empty(),
            "documented but not routed (a wrong path or method in #[utoipa::path]): {extra:?}"
        );
    }

    #[test]
    fn the_document_is_openapi_3_1_with_unique_ids_and_problem_answers() {
        let spec = spec();
        assert!(spec["openapi"].as_str().unwrap().starts_with("3.1."));
        assert!(spec["components"]["schemas"]["Problem"]["properties"]["code"].is_object());
        let schemes = &spec["components"]["securitySchemes"];
        assert_eq!(schemes["bearer"]["scheme"], "bearer");
        assert_eq!(schemes["session"]["in"], "cookie");
        let mut ids = BTreeSet::new();
        for (path, item) in spec["paths"].as_object().unwrap() {
            for m in METHODS {
                let Some(op) = item.get(m) else { continue };
                let id = op["operationId"].as_str().unwrap().to_string();
                assert!(ids.insert(id.clone()), "operationId {id} twice");
                assert!(op["tags"][0].is_string(), "{m} {path} has no tag");
                let problem = &op["responses"]["4XX"]["content"]["application/problem+json"];
                assert!(problem.is_object(), "{m} {path} has no problem answer");
                // Every `{name}` of the path is a declared path parameter.
                for name in path.split('{').skip(1).filter_map(|s| s.split('}').next()) {
                    let declared = op["parameters"].as_array().is_some_and(|ps| {
                        ps.iter().any(|p| p["in"] == "path" && p["name"] == name)
                    });
                    assert!(
                        declared,
                        "{m} {path}: path parameter {name} is not declared"
                    );
                }
            }
        }
    }
}
