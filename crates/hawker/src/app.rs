//! Wiring: storage, the first admin, crash recovery, the RTMP listener, the HTTP server and
//! housekeeping, started in that order and stopped in the reverse.

use crate::config::Config;
use crate::shows::ShowKeeper;
use hawker_broadcast::{BroadcastConfig, Broadcaster};
use hawker_http::{AppState, HttpSettings};
use hawker_media::cmaf::PackagerConfig;
use hawker_media::hls::WindowConfig;
use hawker_storage::{SqlStore, Store};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A running server.
pub struct Running {
    pub http: SocketAddr,
    pub rtmp: SocketAddr,
    pub public_url: String,
    pub rtmp_url: String,
    pub admin_token_file: PathBuf,
    pub store: Arc<SqlStore>,
    pub broadcaster: Broadcaster,
    pub rtc: hawker_rtc::RtcServer,
    pub rooms: hawker_hub::RoomHub,
    pub shop: Arc<hawker_shop::Shop>,
    pub guard: Arc<hawker_shop::guard::Guard>,
    stop_http: CancellationToken,
    stop_jobs: CancellationToken,
    http_task: JoinHandle<()>,
}

/// What the admin CLI reads to find a server started on this data directory.
pub const SERVER_FILE: &str = "server.json";

pub async fn start(cfg: Config) -> anyhow::Result<Running> {
    cfg.validate()?;
    std::fs::create_dir_all(&cfg.data)?;
    let url = if cfg.storage.url.is_empty() {
        hawker_storage::sqlite_url_for_dir(&cfg.data)
    } else {
        cfg.storage.url.clone()
    };
    let store = Arc::new(SqlStore::open(&url).await?);
    tracing::info!(backend = ?store.backend(), "storage open");
    let admin_token_file = crate::admin::ensure_admin(store.as_ref(), &cfg.data).await?;

    let recordings = cfg.recordings_dir();
    if let Some(r) = &recordings {
        std::fs::create_dir_all(r)?;
    }
    let bus: Arc<dyn hawker_hub::Bus> = if cfg.bus.nats.is_empty() {
        Arc::new(hawker_hub::InProcessBus::default())
    } else {
        Arc::new(hawker_hub::NatsBus::connect(&cfg.bus.nats).await?)
    };
    let node = if cfg.bus.node_id == 0 {
        rand::random()
    } else {
        cfg.bus.node_id
    };
    let rooms = hawker_hub::RoomHub::start(
        hawker_hub::HubConfig {
            node,
            room: hawker_room::room::RoomConfig {
                banned_claims: cfg.trust.banned_claims.clone(),
                audience: hawker_room::audience::AudienceRules {
                    media_window_ms: cfg.audience.media_window_ms,
                    max_per_address: cfg.audience.max_per_address.max(1),
                    max_per_network: cfg.audience.max_per_network.max(1),
                },
                ..Default::default()
            },
            ..Default::default()
        },
        bus,
        store.clone() as Arc<dyn Store>,
    )
    .await?;
    tracing::info!(bus = rooms.bus_name(), node, "live rooms ready");
    let guard = hawker_shop::guard::Guard::new(
        store.clone() as Arc<dyn Store>,
        cfg.trust.policy(&cfg.commerce.law_profile),
        identity_secret(&cfg.data)?,
        cfg.trust.gate_broadcasts,
    );
    let keeper = Arc::new(ShowKeeper {
        store: store.clone(),
        recordings: recordings.clone(),
        rooms: rooms.clone(),
        guard: guard.clone(),
        co_hosts: std::sync::OnceLock::new(),
    });
    let recovered = keeper.recover().await?;
    if recovered > 0 {
        tracing::warn!(recovered, "closed shows left live by an unclean stop");
    }

    let m = &cfg.media;
    let broadcaster = Broadcaster::new(
        BroadcastConfig {
            rtmp: cfg.server.rtmp,
            packager: PackagerConfig {
                part_target_ms: m.part_target_ms,
                segment_target_ms: m.segment_target_ms,
            },
            window: WindowConfig {
                part_target_ms: m.part_target_ms,
                segment_target_ms: m.segment_target_ms,
                max_segments: m.window_segments,
            },
            grace: Duration::from_secs(m.grace_secs),
            recordings: recordings.clone(),
            max_connections: cfg.server.max_rtmp_connections,
            idle_timeout: Duration::from_secs(m.idle_timeout_secs),
            ingest_threads: m.ingest_threads,
        },
        keeper.clone(),
    );
    let rtmp = broadcaster.listen().await?;
    // WHEP viewers count in the room as LL-HLS players do: while media flows to them.
    let witness = Arc::new(hawker_http::webrtc::RoomWitness {
        rooms: rooms.clone(),
        live: broadcaster.clone(),
    });
    let rtc = hawker_rtc::RtcServer::start(
        cfg.webrtc.settings(&cfg.media),
        broadcaster.clone(),
        witness,
    )
    .map_err(|e| anyhow::anyhow!("cannot use UDP {} for WebRTC: {e}", cfg.webrtc.udp))?;

    let listener = tokio::net::TcpListener::bind(cfg.server.http)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen for HTTP on {}: {e}", cfg.server.http))?;
    let http = listener.local_addr()?;
    let (public_url, rtmp_url) = cfg.public_urls(http, rtmp);
    hawker_http::metrics_handle();
    let ready_store = store.clone();
    // Order numbers carry the configured node id (0–15, see `BusConfig`), never the random one
    // the room bus may pick: two nodes sharing an order-id space would collide.
    let shop = start_shop(
        &cfg,
        store.clone() as Arc<dyn Store>,
        &rooms,
        &public_url,
        cfg.bus.node_id,
        guard.clone(),
        &rtc,
    )
    .await?;
    let co_hosts = hawker_rtc::cohost::CoHosts::new(
        rtc.clone(),
        Arc::new(crate::shows::CoHostKeeper {
            keeper: keeper.clone(),
            shop: shop.clone(),
        }),
    );
    let _ = keeper.co_hosts.set(co_hosts.clone());
    let hooks = hawker_hooks::Webhooks::new(
        store.clone() as Arc<dyn Store>,
        cfg.webhooks.service(&public_url),
    );
    let state = AppState::new(
        store.clone() as Arc<dyn Store>,
        broadcaster.clone(),
        rooms.clone(),
        shop.clone(),
        guard.clone(),
        hooks.clone(),
        rtc.clone(),
        co_hosts,
        HttpSettings {
            public_url: public_url.clone(),
            rtmp_url: rtmp_url.clone(),
            // Served over HTTPS (the public URL says so): the session cookie is Secure.
            secure_cookies: cfg.server.secure_cookies
                || cfg.server.public_url.starts_with("https://"),
            recordings,
            trust_forwarded_for: cfg.server.trust_forwarded_for,
            api_per_minute: cfg.server.api_requests_per_minute,
            images: Some(cfg.data.join("images")),
            documents: Some(cfg.data.join("identity-documents")),
        },
        Arc::new(move || {
            let s = ready_store.clone();
            Box::pin(async move { s.ping().await.map_err(|e| format!("storage: {e}")) })
        }),
    );
    let stop_http = CancellationToken::new();
    let stop = stop_http.clone();
    let app = axum::ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info::<
        SocketAddr,
    >(hawker_http::edge(state));
    let http_task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await
        {
            tracing::error!(error = %e, "HTTP server failed");
        }
    });
    tracing::info!(%http, "HTTP listening");

    let server_file = serde_json::json!({ "http_url": public_url, "rtmp_url": rtmp_url });
    std::fs::write(cfg.data.join(SERVER_FILE), server_file.to_string())?;

    let stop_jobs = CancellationToken::new();
    crate::jobs::spawn(
        store.clone(),
        cfg.recording.clone(),
        cfg.retention.clone(),
        stop_jobs.clone(),
    );
    shop.spawn_jobs(stop_jobs.clone());
    // The paid-promotion label repeated in rooms while a paid product is pinned.
    hawker_http::paid_labels::spawn(
        store.clone() as Arc<dyn Store>,
        rooms.clone(),
        shop.law().disclosure.clone(),
        stop_jobs.clone(),
    );
    guard.spawn_jobs(stop_jobs.clone());
    hooks.spawn(stop_jobs.clone());

    Ok(Running {
        http,
        rtmp,
        public_url,
        rtmp_url,
        admin_token_file,
        store,
        broadcaster,
        rtc,
        rooms,
        shop,
        guard,
        stop_http,
        stop_jobs,
        http_task,
    })
}

/// The key of the keyed hashes of ID numbers, devices, cards and addresses: made at first
/// start, kept in the data directory, never logged. Losing it only means old hashes no longer
/// match new ones (the blacklist would have to be rebuilt).
fn identity_secret(data: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    let f = data.join("identity-hash.secret");
    if let Ok(s) = std::fs::read_to_string(&f) {
        if let Ok(b) = hex::decode(s.trim()) {
            if b.len() >= 32 {
                return Ok(b);
            }
        }
    }
    std::fs::create_dir_all(data)?;
    let b: [u8; 32] = rand::random();
    crate::admin::write_secret(&f, &hex::encode(b))?;
    Ok(b.to_vec())
}

/// The webhook secret shared with the sandbox provider: made at first start, kept in the data
/// directory (like the admin token), never logged.
fn sandbox_secret(data: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    let f = data.join("sandbox-webhook.secret");
    if let Ok(s) = std::fs::read_to_string(&f) {
        if let Ok(b) = hex::decode(s.trim()) {
            if b.len() >= 32 {
                return Ok(b);
            }
        }
    }
    let b: [u8; 32] = rand::random();
    crate::admin::write_secret(&f, &hex::encode(b))?;
    Ok(b.to_vec())
}

async fn start_shop(
    cfg: &Config,
    store: Arc<dyn Store>,
    rooms: &hawker_hub::RoomHub,
    public_url: &str,
    node: u32,
    guard: Arc<hawker_shop::guard::Guard>,
    rtc: &hawker_rtc::RtcServer,
) -> anyhow::Result<Arc<hawker_shop::Shop>> {
    let provider = Arc::new(hawker_shop::payments::SandboxProvider::new(
        sandbox_secret(&cfg.data)?,
        format!("{public_url}/api/v1/payments/sandbox/webhook"),
    ));
    let events =
        hawker_http::shop_events::RoomShopEvents::new(store.clone(), rooms.clone(), rtc.clone());
    let shop = hawker_shop::Shop::start(
        store,
        provider,
        hawker_shop::ShopConfig {
            law: cfg.commerce.law()?,
            reservation: Duration::from_secs(cfg.commerce.reservation_minutes * 60),
            // Two order-id generators per node (flash engine and checkout).
            node,
            money: cfg.money.clone(),
            banned_claims: cfg.trust.banned_claims.clone(),
        },
        events,
        guard,
    )
    .await?;
    tracing::info!(law = %cfg.commerce.law_profile, "shop ready");
    Ok(shop)
}

impl Running {
    /// Graceful stop: no new publishers; segments in flight are closed, recorded and their
    /// shows ended; then HTTP drains (players get ENDLIST and feed `ended` first).
    pub async fn shutdown(self) {
        tracing::info!("shutting down");
        self.rtc.shutdown();
        self.broadcaster.shutdown().await;
        self.stop_jobs.cancel();
        self.rooms.shutdown();
        self.stop_http.cancel();
        if tokio::time::timeout(Duration::from_secs(5), self.http_task)
            .await
            .is_err()
        {
            tracing::warn!("HTTP connections still open after 5 s; closing them");
        }
        tracing::info!("stopped");
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
