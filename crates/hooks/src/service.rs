//! The webhook service: what an organisation's owners and managers do with their
//! subscriptions and deliveries (each call authorised here, so the API, the CLI and a job get
//! the same rules), and the worker that fans events out and sends them.

use crate::retry::RetryPlan;
use crate::signing;
use futures::StreamExt;
use hawker_commerce::org::OrgRole;
use hawker_domain::{Account, Role, ShowId, UnixMillis};
use hawker_storage::webhooks::{
    Attempt, AttemptOutcome, Delivery, DeliveryState, NewDelivery, OutboxEvent, Subscription,
};
use hawker_storage::{StorageError, Store};
use rand::RngCore;
use serde_json::{json, Value};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Every topic a subscription may ask for.
pub const TOPICS: &[&str] = &[
    "order.created",
    "order.paid",
    "order.shipped",
    "order.delivered",
    "order.completed",
    "order.cancelled",
    "order.expired",
    "order.return_requested",
    "order.return_approved",
    "order.return_received",
    "order.refunded",
    "show.live",
    "show.ended",
    "lead.requested",
    "lead.accepted",
    "lead.ended",
    "lead.declined",
    "lead.cancelled",
    "lead.missed",
];

/// At most this many subscriptions per organisation.
const MAX_SUBSCRIPTIONS: usize = 20;

#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub retry: RetryPlan,
    /// One attempt's whole request, connect to last byte.
    pub timeout: Duration,
    /// How often the worker looks for new events and due deliveries.
    pub poll: Duration,
    /// Deliveries to loopback, private, link-local and other internal addresses: off by
    /// default, so that a seller cannot make the server call into its own network.
    pub allow_private_targets: bool,
    /// `public_url`, for the links inside payloads.
    pub public_url: String,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            retry: RetryPlan::default(),
            timeout: Duration::from_secs(10),
            poll: Duration::from_secs(1),
            allow_private_targets: false,
            public_url: String::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
}

fn invalid(field: &'static str, reason: impl Into<String>) -> WebhookError {
    WebhookError::Invalid {
        field,
        reason: reason.into(),
    }
}

/// A delivery with its attempts, for the log.
#[derive(Debug, Clone)]
pub struct DeliveryDetail {
    pub delivery: Delivery,
    pub attempts: Vec<Attempt>,
}

/// What one pass of the worker did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub fanned_out: usize,
    pub sent: usize,
}

pub struct Webhooks {
    store: Arc<dyn Store>,
    config: WebhookConfig,
}

impl Webhooks {
    pub fn new(store: Arc<dyn Store>, config: WebhookConfig) -> Arc<Self> {
        Arc::new(Webhooks { store, config })
    }

    /// Owners and managers of the organisation, and platform admins.
    async fn allowed(&self, who: &Account, org: i64) -> Result<(), WebhookError> {
        if who.role == Role::PlatformAdmin {
            return Ok(());
        }
        match self.store.membership(org, who.id).await? {
            Some(m) if matches!(m.role, OrgRole::Owner | OrgRole::Manager) => Ok(()),
            Some(_) => Err(WebhookError::Forbidden(
                "only the shop's owners and managers manage its webhooks",
            )),
            None => Err(WebhookError::Forbidden(
                "only the seller's staff may do this",
            )),
        }
    }

    /// A new subscription; the returned one carries its secret, which is shown once.
    pub async fn subscribe(
        &self,
        who: &Account,
        org: i64,
        url: &str,
        topics: &[String],
        now: UnixMillis,
    ) -> Result<Subscription, WebhookError> {
        self.allowed(who, org).await?;
        let url = check_url(url)?;
        let topics = check_topics(topics)?;
        if !self.config.allow_private_targets {
            // Refused now, with the reason, rather than failing every delivery later. Each
            // delivery checks again (a name can come to resolve elsewhere).
            // Unresolvable now: the deliveries retry and check then.
            let addrs = resolve(&url).await.map(|(_, a)| a).unwrap_or_default();
            if let Some(ip) = first_internal(&addrs) {
                return Err(invalid(
                    "url",
                    format!(
                        "{ip} is an internal address: webhooks go to public addresses unless the \
                         operator sets [webhooks] allow_private_targets = true"
                    ),
                ));
            }
        }
        if self.store.subscriptions(org).await?.len() >= MAX_SUBSCRIPTIONS {
            return Err(invalid(
                "url",
                format!("at most {MAX_SUBSCRIPTIONS} webhooks per organisation"),
            ));
        }
        let mut raw = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut raw);
        let secret = format!("whsec_{}", hex::encode(raw));
        let sub = self
            .store
            .create_subscription(org, url.as_str(), &secret, &topics, who.id, now)
            .await?;
        tracing::info!(org, subscription = sub.id, url = %url, "webhook subscribed");
        Ok(sub)
    }

    pub async fn subscriptions(
        &self,
        who: &Account,
        org: i64,
    ) -> Result<Vec<Subscription>, WebhookError> {
        self.allowed(who, org).await?;
        Ok(self.store.subscriptions(org).await?)
    }

    pub async fn unsubscribe(&self, who: &Account, org: i64, id: i64) -> Result<(), WebhookError> {
        self.allowed(who, org).await?;
        if self.store.deactivate_subscription(org, id).await? {
            Ok(())
        } else {
            Err(WebhookError::NotFound("webhook"))
        }
    }

    pub async fn deliveries(
        &self,
        who: &Account,
        org: i64,
        state: Option<DeliveryState>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Delivery>, WebhookError> {
        self.allowed(who, org).await?;
        Ok(self
            .store
            .deliveries(org, state, before, limit.clamp(1, 200))
            .await?)
    }

    pub async fn delivery(
        &self,
        who: &Account,
        org: i64,
        id: i64,
    ) -> Result<DeliveryDetail, WebhookError> {
        self.allowed(who, org).await?;
        let delivery = self
            .store
            .delivery(org, id)
            .await?
            .ok_or(WebhookError::NotFound("delivery"))?;
        let attempts = self.store.attempts(id).await?;
        Ok(DeliveryDetail { delivery, attempts })
    }

    /// Sends a delivery again now, with a fresh day of retries.
    pub async fn redeliver(
        &self,
        who: &Account,
        org: i64,
        id: i64,
        now: UnixMillis,
    ) -> Result<(), WebhookError> {
        self.allowed(who, org).await?;
        let d = self
            .store
            .delivery(org, id)
            .await?
            .ok_or(WebhookError::NotFound("delivery"))?;
        match self.store.subscription(d.subscription).await? {
            Some(s) if s.active => {}
            _ => {
                return Err(invalid(
                    "delivery",
                    "its webhook was removed; subscribe again",
                ))
            }
        }
        self.store.redeliver(org, id, now).await?;
        Ok(())
    }

    /// The worker: until cancelled, fans out new events and sends due deliveries.
    pub fn spawn(self: &Arc<Self>, cancel: tokio_util::sync::CancellationToken) {
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(me.config.poll) => {}
                }
                if let Err(e) = me.pass(UnixMillis::now()).await {
                    tracing::warn!(error = %e, "webhook pass failed; trying again");
                }
            }
        });
    }

    /// One pass: every waiting event fanned out, then the due deliveries sent.
    pub async fn pass(&self, now: UnixMillis) -> Result<Pass, WebhookError> {
        let mut pass = Pass::default();
        loop {
            let events = self.store.outbox(100).await?;
            if events.is_empty() {
                break;
            }
            for e in &events {
                self.fan_out(e, now).await?;
                pass.fanned_out += 1;
            }
        }
        let lease = Duration::from_secs(60) + self.config.timeout;
        let due = self
            .store
            .claim_due(now, UnixMillis(now.0 + lease.as_millis() as i64), 32)
            .await?;
        pass.sent = due.len();
        futures::stream::iter(due)
            .for_each_concurrent(8, |d| async move {
                let outcome = self.send(&d).await;
                if let Err(e) = self.store.record_attempt(d.id, &outcome).await {
                    tracing::warn!(delivery = d.id, error = %e, "webhook attempt not recorded; it is sent again after its lease");
                }
            })
            .await;
        Ok(pass)
    }

    async fn fan_out(&self, event: &OutboxEvent, now: UnixMillis) -> Result<(), WebhookError> {
        let subs: Vec<Subscription> = self
            .store
            .subscriptions(event.org)
            .await?
            .into_iter()
            .filter(|s| s.wants(&event.topic))
            .collect();
        let deliveries = if subs.is_empty() {
            Vec::new()
        } else {
            let payload = self.payload(event).await?.to_string();
            subs.iter()
                .map(|s| NewDelivery {
                    subscription: s.id,
                    payload: payload.clone(),
                })
                .collect()
        };
        self.store.fan_out(event, &deliveries, now).await?;
        Ok(())
    }

    /// The event as receivers get it: its id, type, time and the object as it is now.
    async fn payload(&self, e: &OutboxEvent) -> Result<Value, WebhookError> {
        let base = self.config.public_url.trim_end_matches('/');
        let data = if e.topic.starts_with("order.") {
            match self.store.order(e.subject).await? {
                Some(o) => {
                    let items = self.store.order_items(e.subject).await?;
                    json!({ "order": {
                        // A string: order numbers pass 2^53, which JavaScript rounds.
                        "id": o.id.to_string(),
                        "state": o.state.as_str(),
                        "previous_state": e.from_state,
                        "currency": o.currency.as_str(),
                        "subtotal_minor": o.subtotal_minor,
                        "discount_minor": o.discount_minor,
                        "total_minor": o.total_minor,
                        "items": items.iter().map(|i| json!({
                            "sku": i.sku, "product": i.product, "title": i.title,
                            "quantity": i.quantity, "unit_price_minor": i.unit_price_minor,
                        })).collect::<Vec<_>>(),
                        "address": serde_json::from_str::<Value>(&o.address).unwrap_or(Value::Null),
                        "store": o.store,
                        "show": o.show.map(|s| s.0),
                        "flash_sale": o.flash_sale,
                        "carrier": o.carrier,
                        "tracking": o.tracking,
                        "created_at": o.created_at.0,
                        "updated_at": o.updated_at.0,
                    }})
                }
                None => json!({ "order": { "id": e.subject.to_string(), "deleted": true } }),
            }
        } else if e.topic.starts_with("lead.") {
            match self.store.lead(e.subject).await? {
                Some(l) => json!({ "lead": {
                    "id": l.id,
                    "state": l.state.as_str(),
                    "previous_state": e.from_state,
                    "product": l.product,
                    "buyer": l.buyer.0,
                    "staff": l.staff.map(|a| a.0),
                    "channel": l.channel.map(|c| c.0),
                    "outcome": l.outcome,
                    "buyer_consents_recording": l.buyer_consents_recording,
                    "staff_consents_recording": l.staff_consents_recording,
                    "created_at": l.created_at.0,
                    "answered_at": l.answered_at.map(|t| t.0),
                    "ended_at": l.ended_at.map(|t| t.0),
                }}),
                None => json!({ "lead": { "id": e.subject, "deleted": true } }),
            }
        } else {
            match self.store.show(ShowId(e.subject)).await? {
                Some(s) => {
                    let channel = self.store.channel(s.channel).await?;
                    let slug = channel.as_ref().map(|c| c.slug.to_string());
                    json!({ "show": {
                        "id": s.id.0,
                        "title": s.title,
                        "state": s.state.as_str(),
                        "channel": slug,
                        "started_at": s.started_at.map(|t| t.0),
                        "ended_at": s.ended_at.map(|t| t.0),
                        "watch_url": slug.as_ref().map(|c| format!("{base}/c/{c}")),
                    }})
                }
                None => json!({ "show": { "id": e.subject, "deleted": true } }),
            }
        };
        Ok(json!({
            "id": format!("evt_{}", e.id),
            "type": e.topic,
            "created": e.at.0,
            "organisation": e.org,
            "data": data,
        }))
    }

    async fn send(&self, d: &Delivery) -> AttemptOutcome {
        let started = Instant::now();
        let now = UnixMillis::now();
        let result = match self.store.subscription(d.subscription).await {
            Ok(Some(s)) if s.active => self.post(&s, d, now).await,
            Ok(_) => Err(Fault::Final("the webhook was removed".into())),
            Err(e) => Err(Fault::Retry(format!("storage: {e}"))),
        };
        let duration_ms = started.elapsed().as_millis() as i64;
        let (status, error, state, next_at) = match result {
            Ok(status) => (Some(status), None, DeliveryState::Delivered, None),
            Err(fault) => {
                let (status, error, last) = match fault {
                    Fault::Status(s) => (Some(s as i64), Some(format!("HTTP {s}")), false),
                    Fault::Retry(e) => (None, Some(e), false),
                    Fault::Final(e) => (None, Some(e), true),
                };
                let next = if last {
                    None
                } else {
                    self.config.retry.next(d.attempts + 1, d.window_from, now)
                };
                let state = if next.is_some() {
                    DeliveryState::Pending
                } else {
                    DeliveryState::Failed
                };
                (status, error, state, next)
            }
        };
        AttemptOutcome {
            attempt: Attempt {
                at: now,
                status,
                error,
                duration_ms,
            },
            state,
            next_at,
        }
    }

    async fn post(&self, s: &Subscription, d: &Delivery, now: UnixMillis) -> Result<i64, Fault> {
        let url = url::Url::parse(&s.url).map_err(|e| Fault::Final(format!("url: {e}")))?;
        // Resolved once and pinned, so the address checked is the address called (a name
        // that resolves elsewhere on the second look cannot reach an internal service).
        let (host, addrs) = resolve(&url).await?;
        if !self.config.allow_private_targets {
            if let Some(ip) = first_internal(&addrs) {
                return Err(Fault::Final(format!(
                    "{ip} is an internal address; webhooks go to public ones"
                )));
            }
        }
        let client = reqwest::Client::builder()
            .timeout(self.config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .resolve_to_addrs(&host, &addrs)
            .user_agent("Hawker-Webhooks/1")
            .build()
            .map_err(|e| Fault::Retry(format!("client: {e}")))?;
        let body = d.payload.clone().into_bytes();
        let signature = signing::sign(&s.secret, now.0 / 1000, &body);
        let r = client
            .post(url)
            .header("content-type", "application/json")
            .header(signing::HEADER, signature)
            .header("Hawker-Event", &d.topic)
            .header("Hawker-Event-Id", format!("evt_{}", d.event))
            .header("Hawker-Delivery", d.id.to_string())
            .body(body)
            .send()
            .await
            .map_err(|e| Fault::Retry(short_error(&e)))?;
        let status = r.status();
        if status.is_success() {
            Ok(status.as_u16() as i64)
        } else {
            Err(Fault::Status(status.as_u16()))
        }
    }
}

enum Fault {
    /// The receiver answered, not with 2xx: retried.
    Status(u16),
    /// No answer (refused, timed out, DNS): retried.
    Retry(String),
    /// Can never succeed as it is: not retried.
    Final(String),
}

fn short_error(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "connection failed".into()
    } else {
        let s = e.to_string();
        s.chars().take(200).collect()
    }
}

/// Loopback, private, link-local, shared, unspecified, multicast and documentation ranges.
fn internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64) // 100.64/10, carrier-grade NAT
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return internal(IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
        }
    }
}

/// The URL's host (an IPv6 literal without its brackets) and every address it resolves to
/// now: what a subscription is checked against and a delivery is pinned to. No host can never
/// work; a failed or empty lookup may work later.
async fn resolve(url: &url::Url) -> Result<(String, Vec<SocketAddr>), Fault> {
    let host = url
        .host_str()
        .ok_or_else(|| Fault::Final("url has no host".into()))?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|e| Fault::Retry(format!("resolve {host}: {e}")))?
        .collect();
    if addrs.is_empty() {
        return Err(Fault::Retry(format!("{host} has no address")));
    }
    Ok((host, addrs))
}

/// The first of these addresses that is internal, if any.
fn first_internal(addrs: &[SocketAddr]) -> Option<IpAddr> {
    addrs.iter().map(|a| a.ip()).find(|ip| internal(*ip))
}

fn check_url(raw: &str) -> Result<url::Url, WebhookError> {
    let raw = raw.trim();
    if raw.len() > 2000 {
        return Err(invalid("url", "at most 2000 characters"));
    }
    let url = url::Url::parse(raw).map_err(|e| invalid("url", e.to_string()))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(invalid("url", "must be an https:// (or http://) address"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("url", "has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "url",
            "must not carry credentials; check the signature instead",
        ));
    }
    Ok(url)
}

fn check_topics(topics: &[String]) -> Result<Vec<String>, WebhookError> {
    if topics.is_empty() {
        return Err(invalid("topics", "name at least one topic, or \"*\""));
    }
    let mut out: Vec<String> = Vec::new();
    for t in topics {
        let t = t.trim();
        if t != "*" && !TOPICS.contains(&t) {
            return Err(invalid(
                "topics",
                format!("unknown topic {t:?}; known: {}", TOPICS.join(", ")),
            ));
        }
        if !out.iter().any(|o| o == t) {
            out.push(t.to_string());
        }
    }
    if out.iter().any(|t| t == "*") {
        out = vec!["*".to_string()];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(internal(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:2800:220:1::1", "8.8.8.8"] {
            assert!(!internal(ip.parse().unwrap()), "{ip}");
        }
    }

    #[tokio::test]
    async fn one_resolution_for_the_check_and_the_call() {
        let url = url::Url::parse("https://[::1]:8443/hooks").unwrap();
        let Ok((host, addrs)) = resolve(&url).await else {
            panic!("an address literal resolves without DNS");
        };
        assert_eq!((host.as_str(), addrs.len()), ("::1", 1));
        assert_eq!(addrs[0].port(), 8443);
        assert_eq!(first_internal(&addrs), Some("::1".parse().unwrap()));
        let url = url::Url::parse("https://93.184.216.34/hooks").unwrap();
        let (_, addrs) = resolve(&url).await.ok().unwrap();
        assert_eq!((addrs[0].port(), first_internal(&addrs)), (443, None));
    }

    #[test]
    fn urls_and_topics_are_checked() {
        assert!(check_url("https://shop.example/hooks").is_ok());
        assert!(check_url("ftp://shop.example/").is_err());
        assert!(check_url("https://user:pw@shop.example/").is_err());
        assert!(check_url("not a url").is_err());
        assert_eq!(
            check_topics(&["order.paid".into(), "order.paid".into()]).unwrap(),
            vec!["order.paid"]
        );
        assert_eq!(
            check_topics(&["order.paid".into(), "*".into()]).unwrap(),
            vec!["*"]
        );
        assert!(check_topics(&["order.exploded".into()]).is_err());
        assert!(check_topics(&[]).is_err());
    }
}
