//! Configuration: defaults, then `hawker.toml` (or `--config FILE`), then `HAWKER_*`
//! environment variables (`HAWKER_STORAGE__URL=postgres://...`), then command-line flags.

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Data directory: the SQLite database, recordings, the admin token.
    pub data: PathBuf,
    pub server: ServerConfig,
    pub storage: StorageConfig,
    pub media: MediaConfig,
    pub recording: RecordingConfig,
    /// How long chat, pins, moderation logs, orders and access logs are kept.
    pub retention: RetentionConfig,
    pub bus: BusConfig,
    /// Who counts as a viewer.
    pub audience: AudienceConfig,
    pub commerce: CommerceConfig,
    /// Commission, platform fee and payout minimum (basis points, minor units).
    pub money: hawker_books::MoneyConfig,
    pub trust: TrustConfig,
    /// Outbound webhooks to sellers' systems.
    pub webhooks: WebhooksConfig,
    /// WebRTC: WHIP publishing and WHEP playback on one UDP port.
    pub webrtc: WebRtcConfig,
    pub log: LogConfig,
}

/// What the platform refuses to publish.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrustConfig {
    /// Absolute and medical claims no product title or description may make (matched after
    /// Unicode normalisation; whole words in Latin script).
    pub banned_claims: Vec<String>,
    /// Going live needs real-name verification, the age rules, the rules course and (where
    /// the law profile says so) a fresh re-check. On by default; a private installation for
    /// internal streams only (and tests of other features) may turn it off. Sanctions apply
    /// either way.
    pub gate_broadcasts: bool,
    /// The law profile's numbers (`[commerce] law_profile`), each overridable here.
    pub min_stream_age: Option<i32>,
    pub unverified_may_gift: Option<bool>,
    pub minor_order_cap_minor: Option<i64>,
    pub minor_daily_cap_minor: Option<i64>,
    pub recheck_before_broadcast: Option<bool>,
    pub recheck_valid_minutes: Option<i64>,
    pub training_required: Option<bool>,
    pub kyb_sales_count: Option<i64>,
    pub kyb_sales_minor: Option<i64>,
    pub kyb_disclose_minor: Option<i64>,
    pub kyb_grace_days: Option<i64>,
    pub kyb_recheck_seconds: Option<i64>,
    pub complaint_deadline_hours: Option<i64>,
    pub hold_score_bps: Option<u32>,
    pub refund_after_show_hours: Option<i64>,
}

impl Default for TrustConfig {
    fn default() -> Self {
        TrustConfig {
            banned_claims: hawker_trust::claims::DEFAULT_BANNED
                .iter()
                .map(|s| s.to_string())
                .collect(),
            gate_broadcasts: true,
            min_stream_age: None,
            unverified_may_gift: None,
            minor_order_cap_minor: None,
            minor_daily_cap_minor: None,
            recheck_before_broadcast: None,
            recheck_valid_minutes: None,
            training_required: None,
            kyb_sales_count: None,
            kyb_sales_minor: None,
            kyb_disclose_minor: None,
            kyb_grace_days: None,
            kyb_recheck_seconds: None,
            complaint_deadline_hours: None,
            hold_score_bps: None,
            refund_after_show_hours: None,
        }
    }
}

impl TrustConfig {
    /// The law profile's trust rules with this file's overrides.
    pub fn policy(&self, law: &str) -> hawker_trust::policy::TrustPolicy {
        let mut p = hawker_trust::policy::TrustPolicy::for_law(law);
        macro_rules! set {
            ($($f:ident),*) => { $(if let Some(v) = self.$f { p.$f = v; })* };
        }
        set!(
            min_stream_age,
            unverified_may_gift,
            minor_order_cap_minor,
            minor_daily_cap_minor,
            recheck_before_broadcast,
            recheck_valid_minutes,
            training_required,
            kyb_sales_count,
            kyb_sales_minor,
            kyb_disclose_minor,
            kyb_grace_days,
            kyb_recheck_seconds,
            complaint_deadline_hours,
            hold_score_bps,
            refund_after_show_hours
        );
        p
    }
}

/// The shop: which law's rules apply, and how long unpaid orders hold stock.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CommerceConfig {
    /// `cn`, `eu` or `us`: the base of every rule below.
    pub law_profile: String,
    /// Overrides of the profile's numbers.
    pub no_reason_return_days: Option<u32>,
    pub refund_within_days: Option<u32>,
    pub merchant_policy_days: Option<u32>,
    pub auctions_returnable: Option<bool>,
    /// The paid-promotion label ("Ad · paid partnership" under eu/us, "广告" under cn).
    pub paid_label: Option<String>,
    /// Seconds between the label's repeats in the room while a paid product is pinned
    /// (eu/us 300; 0: kept on the card only, as under cn).
    pub paid_label_repeat_s: Option<u32>,
    /// The top prize of a prize draw, at most (minor units of `draw_prize_cap_currency`;
    /// cn 5,000,000 = ¥50,000); 0 removes the cap.
    pub draw_prize_cap_minor: Option<i64>,
    pub draw_prize_cap_currency: Option<String>,
    /// Prize draws must offer a free entry route and never ask for an order (us).
    pub draw_free_entry_required: Option<bool>,
    /// Minutes an unpaid order keeps its stock.
    pub reservation_minutes: u64,
}

impl Default for CommerceConfig {
    fn default() -> Self {
        CommerceConfig {
            law_profile: "eu".into(),
            no_reason_return_days: None,
            refund_within_days: None,
            merchant_policy_days: None,
            auctions_returnable: None,
            paid_label: None,
            paid_label_repeat_s: None,
            draw_prize_cap_minor: None,
            draw_prize_cap_currency: None,
            draw_free_entry_required: None,
            reservation_minutes: 10,
        }
    }
}

impl CommerceConfig {
    pub fn law(&self) -> anyhow::Result<hawker_commerce::law::LawProfile> {
        let mut l = hawker_commerce::law::LawProfile::named(&self.law_profile)
            .ok_or_else(|| anyhow::anyhow!("commerce.law_profile is cn, eu or us"))?;
        if let Some(v) = self.no_reason_return_days {
            l.no_reason_return_days = v;
        }
        if let Some(v) = self.refund_within_days {
            l.refund_within_days = v;
        }
        if let Some(v) = self.merchant_policy_days {
            l.merchant_policy_days = v;
        }
        if let Some(v) = self.auctions_returnable {
            l.auctions_returnable = v;
        }
        if let Some(v) = &self.paid_label {
            anyhow::ensure!(
                !v.trim().is_empty(),
                "commerce.paid_label must say something"
            );
            l.disclosure.paid_label = v.clone();
        }
        if let Some(v) = self.paid_label_repeat_s {
            l.disclosure.paid_label_repeat_s = v;
        }
        let cap_currency = match &self.draw_prize_cap_currency {
            Some(c) => Some(hawker_domain::Currency::parse(c).ok_or_else(|| {
                anyhow::anyhow!("commerce.draw_prize_cap_currency is a currency code")
            })?),
            None => None,
        };
        match self.draw_prize_cap_minor {
            Some(0) => l.draws.top_prize_cap = None,
            Some(v) => {
                anyhow::ensure!(v > 0, "commerce.draw_prize_cap_minor must not be negative");
                let currency = cap_currency
                    .or(l.draws.top_prize_cap.map(|c| c.currency))
                    .ok_or_else(|| {
                        anyhow::anyhow!("commerce.draw_prize_cap_currency is needed with a new cap")
                    })?;
                l.draws.top_prize_cap = Some(hawker_domain::Money::new(v, currency));
            }
            None => {
                if let (Some(c), Some(cap)) = (cap_currency, l.draws.top_prize_cap.as_mut()) {
                    cap.currency = c;
                }
            }
        }
        if let Some(v) = self.draw_free_entry_required {
            l.draws.free_entry_required = v;
        }
        Ok(l)
    }
}

/// How nodes share live rooms.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BusConfig {
    /// `nats://host:4222` to share rooms with other nodes; empty for one node (in-process).
    pub nats: String,
    /// This node's id, 0–15: in order numbers, and on the bus (random there when 0). Nodes
    /// sharing a bus need distinct ids from 1 to 15.
    pub node_id: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    pub http: SocketAddr,
    pub rtmp: SocketAddr,
    /// Base URL viewers reach the HTTP server at; derived from `http` when empty.
    pub public_url: String,
    /// Base URL encoders publish to (`rtmp://host:port/live`); derived from `rtmp` when empty.
    pub rtmp_public_url: String,
    pub secure_cookies: bool,
    pub trust_forwarded_for: bool,
    pub max_rtmp_connections: usize,
    /// Per-client-address budget of the JSON API, requests per minute (0: no limit, for
    /// benchmarks behind a trusted load balancer only).
    pub api_requests_per_minute: u32,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// `postgres://...` for PostgreSQL; empty for the embedded SQLite file in the data dir.
    pub url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MediaConfig {
    pub segment_target_ms: u32,
    pub part_target_ms: u32,
    /// Segments kept in the live window.
    pub window_segments: usize,
    /// Seconds a show waits for its encoder to reconnect before it ends.
    pub grace_secs: u64,
    pub idle_timeout_secs: u64,
    /// Threads running the RTMP connections (single-threaded runtimes, connections dealt out
    /// in turn). One holds hundreds of 2 Mbit/s publishers; raise it on many cores.
    pub ingest_threads: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecordingConfig {
    pub enabled: bool,
    /// Defaults to `{data}/recordings`.
    pub dir: Option<PathBuf>,
    /// Recordings are deleted this many days after their show ended (cn requires ≥ 3 years).
    pub retention_days: u64,
    /// Oldest recordings go first when the total exceeds this many bytes; 0 = no cap.
    pub max_bytes: u64,
}

/// How long records are kept (PRODUCT.md §3); the hourly retention job deletes them after.
/// Recordings follow `[recording] retention_days`. Ledger entries are never deleted: they are
/// the books of account, kept for the life of the installation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionConfig {
    /// Chat, pins, moderation logs, viewer sessions, consult leads in a final state and
    /// co-hosts' visits and statements, in days after they were written (cn: ≥ 3 years).
    /// Default 1098 (3 × 366).
    pub room_days: u64,
    /// Orders in a final state (completed, cancelled, expired, refunded) with their items,
    /// events, payments and coupon uses, in days after that final step (≥ 3 years).
    /// Default 1098 (3 × 366).
    pub transaction_days: u64,
    /// The API access log, in days (≥ 60). Default 60.
    pub access_days: u64,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            room_days: 3 * 366,
            transaction_days: 3 * 366,
            access_days: 60,
        }
    }
}

/// Viewer counting (`hawker_room::audience`): a session counts while the server delivers it
/// media, at most so many per client address and per network (IPv4 /24, IPv6 /48).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AudienceConfig {
    /// A session counts this long after its last media delivery.
    pub media_window_ms: u64,
    /// Counted sessions per client address (default 4: a household, a counter).
    pub max_per_address: u64,
    /// Counted sessions per network (default 32: an office, a campus).
    pub max_per_network: u64,
}

impl Default for AudienceConfig {
    fn default() -> Self {
        let r = hawker_room::audience::AudienceRules::default();
        AudienceConfig {
            media_window_ms: r.media_window_ms,
            max_per_address: r.max_per_address,
            max_per_network: r.max_per_network,
        }
    }
}

/// WebRTC (`hawker_rtc`): every session on one UDP port, as self-hosters forward one port.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebRtcConfig {
    /// The UDP address sessions use (ICE, DTLS, SRTP all on it).
    pub udp: SocketAddr,
    /// The addresses clients reach `udp`'s port at (the public address behind NAT); empty:
    /// the bound address, or loopback and the outbound interface's when bound to all.
    pub public_ips: Vec<std::net::IpAddr>,
    /// STUN/TURN servers handed to clients (`Link: rel="ice-server"`), e.g.
    /// `{ url = "turn:turn.example.org:3478", username = "u", credential = "p" }` (coturn).
    pub ice_servers: Vec<hawker_rtc::IceServer>,
    /// Also take ICE over TCP on the same port number (for viewers whose network blocks UDP).
    pub tcp: bool,
    /// Put UDP candidates in answers; off only to force clients onto TCP.
    pub advertise_udp: bool,
}

impl Default for WebRtcConfig {
    fn default() -> Self {
        let d = hawker_rtc::RtcSettings::default();
        WebRtcConfig {
            udp: d.udp,
            public_ips: d.public_ips,
            ice_servers: d.ice_servers,
            tcp: d.tcp,
            advertise_udp: d.advertise_udp,
        }
    }
}

impl WebRtcConfig {
    /// The service's settings; publishers are asked for keyframes at the segment target.
    pub fn settings(&self, media: &MediaConfig) -> hawker_rtc::RtcSettings {
        hawker_rtc::RtcSettings {
            udp: self.udp,
            public_ips: self.public_ips.clone(),
            ice_servers: self.ice_servers.clone(),
            keyframe_every: std::time::Duration::from_millis(media.segment_target_ms as u64),
            tcp: self.tcp,
            advertise_udp: self.advertise_udp,
        }
    }
}

/// Outbound webhooks (`hawker_hooks`): retries for a day with growing gaps.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhooksConfig {
    /// The first gap after a failed delivery; later gaps are multiples (x4, x20, x60, ...).
    pub first_retry_ms: u64,
    /// How long a delivery is retried, from its event (or its redelivery).
    pub retry_window_secs: u64,
    /// One attempt's whole request.
    pub timeout_ms: u64,
    /// Allow deliveries to loopback and private addresses (off: a seller cannot make the
    /// server call into its own network; turn on for receivers on the same host or LAN).
    pub allow_private_targets: bool,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        let plan = hawker_hooks::RetryPlan::default();
        WebhooksConfig {
            first_retry_ms: plan.first_gap.as_millis() as u64,
            retry_window_secs: plan.window.as_secs(),
            timeout_ms: 10_000,
            allow_private_targets: false,
        }
    }
}

impl WebhooksConfig {
    pub fn service(&self, public_url: &str) -> hawker_hooks::WebhookConfig {
        hawker_hooks::WebhookConfig {
            retry: hawker_hooks::RetryPlan {
                first_gap: std::time::Duration::from_millis(self.first_retry_ms.max(1)),
                window: std::time::Duration::from_secs(self.retry_window_secs),
            },
            timeout: std::time::Duration::from_millis(self.timeout_ms.max(100)),
            allow_private_targets: self.allow_private_targets,
            public_url: public_url.to_string(),
            ..Default::default()
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `pretty` or `json`.
    pub format: String,
    /// A tracing filter such as `info,hawker_broadcast=debug`; `RUST_LOG` overrides.
    pub filter: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data: PathBuf::from("hawker-data"),
            server: ServerConfig::default(),
            storage: StorageConfig::default(),
            media: MediaConfig::default(),
            recording: RecordingConfig::default(),
            retention: RetentionConfig::default(),
            bus: BusConfig::default(),
            audience: AudienceConfig::default(),
            commerce: CommerceConfig::default(),
            money: Default::default(),
            trust: Default::default(),
            webhooks: WebhooksConfig::default(),
            webrtc: WebRtcConfig::default(),
            log: LogConfig::default(),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            http: SocketAddr::from(([127, 0, 0, 1], 8080)),
            rtmp: SocketAddr::from(([127, 0, 0, 1], 1935)),
            public_url: String::new(),
            rtmp_public_url: String::new(),
            secure_cookies: false,
            trust_forwarded_for: false,
            max_rtmp_connections: 1000,
            api_requests_per_minute: 600,
        }
    }
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            segment_target_ms: 2000,
            part_target_ms: 250,
            window_segments: 6,
            grace_secs: 30,
            idle_timeout_secs: 30,
            ingest_threads: 1,
        }
    }
}

impl Default for RecordingConfig {
    fn default() -> Self {
        RecordingConfig {
            enabled: true,
            dir: None,
            retention_days: 3 * 366,
            max_bytes: 0,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: "pretty".into(),
            filter: "info".into(),
        }
    }
}

/// Flags that override the file and environment.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub data: Option<PathBuf>,
    pub http: Option<SocketAddr>,
    pub rtmp: Option<SocketAddr>,
    pub webrtc: Option<SocketAddr>,
}

impl Config {
    /// `file`: an explicit path (must exist) or None for `./hawker.toml` if present.
    pub fn load(file: Option<&Path>, o: &Overrides) -> anyhow::Result<Config> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(f) => {
                anyhow::ensure!(f.exists(), "config file {} does not exist", f.display());
                fig = fig.merge(Toml::file(f));
            }
            None => fig = fig.merge(Toml::file("hawker.toml")),
        }
        fig = fig.merge(Env::prefixed("HAWKER_").split("__"));
        let mut c: Config = fig.extract()?;
        if let Some(d) = &o.data {
            c.data = d.clone();
        }
        if let Some(a) = o.http {
            c.server.http = a;
        }
        if let Some(a) = o.rtmp {
            c.server.rtmp = a;
        }
        if let Some(a) = o.webrtc {
            c.webrtc.udp = a;
        }
        c.validate()?;
        Ok(c)
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        let m = &self.media;
        anyhow::ensure!(
            (100..=1000).contains(&m.part_target_ms),
            "media.part_target_ms must be 100–1000"
        );
        anyhow::ensure!(
            m.segment_target_ms >= 2 * m.part_target_ms && m.segment_target_ms <= 10_000,
            "media.segment_target_ms must be at least two parts and at most 10 s"
        );
        anyhow::ensure!(m.window_segments >= 3, "media.window_segments must be ≥ 3");
        self.commerce.law()?;
        anyhow::ensure!(self.bus.node_id <= 15, "bus.node_id must be 0–15");
        anyhow::ensure!(
            self.bus.nats.is_empty() || self.bus.node_id >= 1,
            "bus.node_id (1–15, distinct per node) is required with bus.nats: order numbers carry it"
        );
        anyhow::ensure!(
            (1..=24 * 60).contains(&self.commerce.reservation_minutes),
            "commerce.reservation_minutes must be 1–1440"
        );
        let r = &self.retention;
        anyhow::ensure!(
            r.room_days >= 1 && r.transaction_days >= 1 && r.access_days >= 1,
            "retention.room_days, transaction_days and access_days must be at least 1"
        );
        anyhow::ensure!(
            matches!(self.log.format.as_str(), "pretty" | "json"),
            "log.format is pretty or json"
        );
        Ok(())
    }

    pub fn recordings_dir(&self) -> Option<PathBuf> {
        self.recording.enabled.then(|| {
            self.recording
                .dir
                .clone()
                .unwrap_or_else(|| self.data.join("recordings"))
        })
    }

    /// Public URLs, derived from the bound addresses when not configured.
    pub fn public_urls(&self, http: SocketAddr, rtmp: SocketAddr) -> (String, String) {
        let http_url = if self.server.public_url.is_empty() {
            format!("http://{}", visible(http))
        } else {
            self.server.public_url.trim_end_matches('/').to_string()
        };
        let rtmp_url = if self.server.rtmp_public_url.is_empty() {
            format!("rtmp://{}/live", visible(rtmp))
        } else {
            self.server
                .rtmp_public_url
                .trim_end_matches('/')
                .to_string()
        };
        (http_url, rtmp_url)
    }
}

/// 0.0.0.0 is where we listen, not where anyone connects: show loopback instead.
fn visible(a: SocketAddr) -> SocketAddr {
    if a.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], a.port()))
    } else {
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own large error
    fn file_then_env_then_flags() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "hawker.toml",
                "data = \"from-file\"\n[server]\nhttp = \"127.0.0.1:9000\"\n[media]\npart_target_ms = 300\n",
            )?;
            jail.set_env("HAWKER_SERVER__HTTP", "127.0.0.1:9001");
            let c = Config::load(None, &Overrides::default()).expect("loads");
            assert_eq!(c.data, PathBuf::from("from-file"));
            assert_eq!(c.server.http.port(), 9001);
            assert_eq!(c.media.part_target_ms, 300);
            let c = Config::load(
                None,
                &Overrides {
                    http: Some("127.0.0.1:9002".parse().unwrap()),
                    ..Default::default()
                },
            )
            .expect("loads");
            assert_eq!(c.server.http.port(), 9002);
            jail.create_file("bad.toml", "[media]\npart_target_ms = 5\n")?;
            assert!(Config::load(Some(Path::new("bad.toml")), &Overrides::default()).is_err());
            jail.create_file("typo.toml", "[sever]\nhttp = \"x\"\n")?;
            assert!(Config::load(Some(Path::new("typo.toml")), &Overrides::default()).is_err());
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own large error
    fn retention_days_from_the_file_with_documented_defaults() {
        figment::Jail::expect_with(|jail| {
            let c = Config::load(None, &Overrides::default()).expect("loads");
            assert_eq!(
                (
                    c.retention.room_days,
                    c.retention.transaction_days,
                    c.retention.access_days
                ),
                (1098, 1098, 60)
            );
            jail.create_file("hawker.toml", "[retention]\naccess_days = 90\n")?;
            let c = Config::load(None, &Overrides::default()).expect("loads");
            assert_eq!((c.retention.access_days, c.retention.room_days), (90, 1098));
            jail.create_file("zero.toml", "[retention]\nroom_days = 0\n")?;
            assert!(Config::load(Some(Path::new("zero.toml")), &Overrides::default()).is_err());
            jail.create_file("typo.toml", "[retention]\naccess_dayz = 1\n")?;
            assert!(Config::load(Some(Path::new("typo.toml")), &Overrides::default()).is_err());
            Ok(())
        });
    }

    #[test]
    fn nodes_sharing_a_bus_need_their_own_order_id_node() {
        let mut c = Config::default();
        c.validate().expect("one node needs no id");
        c.bus.nats = "nats://127.0.0.1:4222".into();
        assert!(c.validate().is_err(), "a bus without a node id");
        c.bus.node_id = 3;
        c.validate().expect("a node id from 1 to 15");
        c.bus.node_id = 16;
        assert!(c.validate().is_err(), "beyond the order-id node bits");
        c.commerce.law_profile = "mars".into();
        c.bus.node_id = 3;
        assert!(c.validate().is_err(), "an unknown law profile");
    }

    #[test]
    fn disclosure_and_draw_numbers_per_profile() {
        let mut c = Config::default();
        c.commerce.law_profile = "cn".into();
        let law = c.commerce.law().unwrap();
        assert_eq!(law.disclosure.paid_label, "广告");
        assert_eq!(
            law.draws.top_prize_cap,
            Some(hawker_domain::Money::new(
                5_000_000,
                hawker_domain::Currency::CNY
            ))
        );
        c.commerce.draw_prize_cap_minor = Some(1_000_000);
        c.commerce.paid_label_repeat_s = Some(60);
        let law = c.commerce.law().unwrap();
        assert_eq!(law.draws.top_prize_cap.map(|m| m.minor), Some(1_000_000));
        assert_eq!(law.disclosure.paid_label_repeat_s, 60);
        c.commerce.law_profile = "eu".into();
        assert!(
            c.commerce.law().is_err(),
            "a new cap under a profile without one needs its currency"
        );
        c.commerce.draw_prize_cap_minor = Some(0);
        assert_eq!(c.commerce.law().unwrap().draws.top_prize_cap, None);
    }
}
