//! A regulator's export of one show (PRODUCT.md §3, retention):
//! `GET /api/v1/admin/shows/{id}/export`, platform admins only, one `tar.gz`:
//!
//! ```text
//! show-{id}/show.json         the show, its channel, the recording's summary, who exported when
//! show-{id}/chat.jsonl        every comment, shadowed and deleted ones included, with its time in the show
//! show-{id}/pins.jsonl        every pin with its product, seller and times in the show
//! show-{id}/moderation.jsonl  the moderation log of the show
//! show-{id}/orders.jsonl      every order placed in the show with items, events and payments
//! show-{id}/recording/…       the HLS/CMAF recording as stored (playlists, init, segments)
//! ```
//!
//! The records are read first; the archive is written in a blocking task into an anonymous
//! temporary file (beside the recordings; gone when the response is), the recording copied
//! from disk file by file, and the response streams that file: a long recording is never held
//! in memory. Every export is audited (`ops_audit` and the log) with the admin and the show
//! before anything is sent.

use crate::auth::Caller;
use crate::problem::{ApiError, ApiResult};
use crate::AppState;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use hawker_domain::{Role, Show, ShowId, UnixMillis};
use hawker_storage::retention::ExportOrder;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{Seek, Write};
use std::path::PathBuf;

/// Milliseconds into the show, when it has started.
fn in_show(show: &Show, at: UnixMillis) -> Option<i64> {
    show.started_at.map(|s| at.0 - s.0)
}

fn jsonl(lines: impl IntoIterator<Item = Value>) -> Vec<u8> {
    let mut out = Vec::new();
    for l in lines {
        // Serialising a Value into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut out, &l);
        out.push(b'\n');
    }
    out
}

fn order_json(o: &ExportOrder) -> Value {
    let x = &o.order;
    // The address is stored as the buyer gave it (JSON); kept as JSON where it parses.
    let address =
        serde_json::from_str::<Value>(&x.address).unwrap_or(Value::String(x.address.clone()));
    json!({
        "id": x.id, "buyer": x.buyer.0, "org": x.org, "store": x.store,
        "channel": x.channel.map(|c| c.0), "show": x.show.map(|s| s.0), "flash_sale": x.flash_sale,
        "state": x.state.as_str(), "currency": x.currency.as_str(),
        "subtotal_minor": x.subtotal_minor, "discount_minor": x.discount_minor, "total_minor": x.total_minor,
        "coupon": x.coupon, "address": address, "exceptions_acknowledged": x.exceptions_acknowledged,
        "created_at": x.created_at.0, "expires_at": x.expires_at.map(|t| t.0), "updated_at": x.updated_at.0,
        "carrier": x.carrier, "tracking": x.tracking, "delivered_at": x.delivered_at.map(|t| t.0),
        "return_reason": x.return_reason,
        "items": o.items.iter().map(|i| json!({
            "sku": i.sku, "product": i.product, "title": i.title, "quantity": i.quantity,
            "unit_price_minor": i.unit_price_minor, "return_class": i.return_class.as_str(),
        })).collect::<Vec<_>>(),
        "events": o.events.iter().map(|e| json!({
            "from": e.from.map(|s| s.as_str()), "to": e.to.as_str(), "actor_kind": e.actor_kind,
            "actor": e.actor.map(|a| a.0), "note": e.note, "at": e.at.0,
        })).collect::<Vec<_>>(),
        "payments": o.payments.iter().map(|p| json!({
            "id": p.id, "provider": p.provider, "provider_ref": p.provider_ref, "state": p.state,
            "amount_minor": p.amount_minor, "currency": p.currency.as_str(),
            "created_at": p.created_at.0, "updated_at": p.updated_at.0,
        })).collect::<Vec<_>>(),
    })
}

/// `GET /api/v1/admin/shows/{id}/export`.
#[utoipa::path(
    get,
    path = "/api/v1/admin/shows/{id}/export",
    tag = "export",
    summary = "A regulator's export of one show (admins)",
    params(("id" = i64, Path, description = "Show id", example = 1)),
    responses((status = 200, description = "A tar.gz of the show, its chat, pins, moderation, orders and recording", body = [u8], content_type = "application/gzip")),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn export_show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let me = caller.require_role(|r| r == Role::PlatformAdmin, "exporting a show")?;
    let show = state
        .store
        .show(ShowId(id))
        .await?
        .ok_or_else(|| ApiError::not_found("show"))?;
    let channel = state
        .store
        .channel(show.channel)
        .await?
        .ok_or_else(|| ApiError::not_found("channel"))?;
    let now = UnixMillis::now();
    let recording = state.store.recording(show.id).await?;
    let comments = state.store.comments_of_show(show.id, i64::MAX).await?;
    let pins = state.store.pins(show.id).await?;
    let from = show
        .started_at
        .or(show.scheduled_at)
        .unwrap_or(UnixMillis(0));
    let moderation = state
        .store
        .export_moderation(show.id, channel.id, from, show.ended_at.unwrap_or(now))
        .await?;
    let orders = state.store.export_orders(show.id).await?;
    let mut products = BTreeMap::new();
    for p in &pins {
        if let std::collections::btree_map::Entry::Vacant(e) = products.entry(p.product) {
            let Some(product) = state.store.product(p.product).await? else {
                continue;
            };
            let seller = state.store.org(product.org).await?.map(|o| o.name);
            e.insert((product, seller));
        }
    }

    let detail = format!(
        "{} comments, {} pins, {} moderation lines, {} orders, recording {}",
        comments.len(),
        pins.len(),
        moderation.len(),
        orders.len(),
        if recording.is_some() {
            "included"
        } else {
            "absent"
        }
    );
    state
        .store
        .audit(
            Some(me.id),
            "show_exported",
            &format!("show:{}", show.id),
            &detail,
            now,
        )
        .await?;
    tracing::info!(
        actor = me.id.0,
        show = show.id.0,
        comments = comments.len(),
        orders = orders.len(),
        "show exported for a regulator"
    );

    let show_json = json!({
        "id": show.id.0, "title": show.title, "state": show.state.as_str(),
        "scheduled_at": show.scheduled_at.map(|t| t.0), "started_at": show.started_at.map(|t| t.0),
        "ended_at": show.ended_at.map(|t| t.0),
        "channel": {"id": channel.id.0, "slug": channel.slug.to_string(), "title": channel.title, "owner": channel.owner.0},
        "recording": recording.as_ref().map(|r| json!({
            "bytes": r.bytes, "duration_ms": r.duration_ms, "segments": r.segments, "complete": r.complete,
        })),
        "export": {"at": now.0, "by": me.id.0, "files": ["show.json", "chat.jsonl", "pins.jsonl", "moderation.jsonl", "orders.jsonl", "recording/"]},
        "times": "Unix milliseconds; *_in_show_ms from the show's start",
    });
    let chat = jsonl(comments.iter().map(|c| {
        json!({
            "id": c.id, "at": c.at.0, "at_in_show_ms": in_show(&show, c.at), "account": c.account.0,
            "author": c.author_name, "text": c.text, "shadow": c.shadow, "deleted_reason": c.deleted_reason,
        })
    }));
    let pins = jsonl(pins.iter().map(|p| {
        let (title, seller) = products
            .get(&p.product)
            .map(|(p, s)| (Some(p.title.clone()), s.clone()))
            .unwrap_or((None, None));
        json!({
            "product": p.product, "title": title, "seller": seller,
            "pinned_at": p.pinned_at.0, "pinned_in_show_ms": p.offset_ms,
            "unpinned_at": p.unpinned_at.map(|t| t.0),
            "unpinned_in_show_ms": p.unpinned_at.map(|t| p.offset_ms + (t.0 - p.pinned_at.0)),
        })
    }));
    let moderation = jsonl(moderation.iter().map(|m| {
        json!({
            "at": m.at.0, "at_in_show_ms": in_show(&show, m.at), "show": m.show.map(|s| s.0),
            "actor": m.actor.0, "action": m.action, "target_account": m.target_account.map(|a| a.0),
            "comment_id": m.comment_id, "reason": m.reason, "detail": m.detail,
        })
    }));
    let orders = jsonl(orders.iter().map(order_json));
    let prefix = format!("show-{}", show.id);
    let files = vec![
        (
            "show.json",
            serde_json::to_vec_pretty(&show_json).unwrap_or_default(),
        ),
        ("chat.jsonl", chat),
        ("pins.jsonl", pins),
        ("moderation.jsonl", moderation),
        ("orders.jsonl", orders),
    ];
    let dir = recording.map(|r| PathBuf::from(r.dir));
    let mtime = (now.0 / 1000).max(0) as u64;
    let archive_prefix = prefix.clone();
    // Beside the recordings when there are any: that disk has room for a copy of one.
    let tmp_dir = state.settings.recordings.clone().filter(|d| d.is_dir());
    let file =
        tokio::task::spawn_blocking(move || build(&archive_prefix, files, dir, mtime, tmp_dir))
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "show export task failed");
                ApiError::internal()
            })?
            .map_err(|e| {
                tracing::error!(error = %e, show = id, "show export failed");
                ApiError::internal()
            })?;
    let len = file.metadata().map(|m| m.len()).ok();
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(
        tokio::fs::File::from_std(file),
    ));
    let mut resp = (
        [
            (header::CONTENT_TYPE, "application/gzip".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{prefix}.tar.gz\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response();
    if let Some(len) = len {
        resp.headers_mut()
            .insert(header::CONTENT_LENGTH, header::HeaderValue::from(len));
    }
    Ok(resp)
}

/// Writes the archive into an anonymous temporary file and rewinds it.
fn build(
    prefix: &str,
    files: Vec<(&'static str, Vec<u8>)>,
    recording: Option<PathBuf>,
    mtime: u64,
    tmp_dir: Option<PathBuf>,
) -> std::io::Result<std::fs::File> {
    let tmp = match tmp_dir {
        Some(d) => tempfile::tempfile_in(d)?,
        None => tempfile::tempfile()?,
    };
    // Video segments are already compressed: the fast level costs little and gains as much.
    let gz = flate2::write::GzEncoder::new(tmp, flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(mtime);
        h.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut h, format!("{prefix}/{name}"), data.as_slice())?;
    }
    if let Some(dir) = recording.filter(|d| d.is_dir()) {
        let mut entries: Vec<_> = std::fs::read_dir(&dir)?
            .filter_map(|e| e.ok())
            // Regular files only (no links), and not a write in progress.
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter(|e| e.path().extension().is_none_or(|x| x != "tmp"))
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name();
            let name = name.to_string_lossy();
            let mut f = std::fs::File::open(e.path())?;
            tar.append_file(format!("{prefix}/recording/{name}"), &mut f)?;
        }
    }
    let mut file = tar.into_inner()?.finish()?;
    file.flush()?;
    file.rewind()?;
    Ok(file)
}
