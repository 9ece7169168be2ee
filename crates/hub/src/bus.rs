//! The bus between nodes: subjects carrying opaque payloads. In-process by default (one node);
//! NATS when several `hawker` nodes share rooms. Every subscriber receives every message on its
//! subject, including what its own node published: rooms ignore their own events by node id.

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::StreamExt;
use parking_lot::Mutex;
use std::collections::HashMap;
use tokio::sync::broadcast;

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("cannot connect to NATS at {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("bus: {0}")]
    Io(String),
}

pub type Subscription = BoxStream<'static, Bytes>;

#[async_trait]
pub trait Bus: Send + Sync + 'static {
    async fn publish(&self, subject: &str, payload: Bytes) -> Result<(), BusError>;
    async fn subscribe(&self, subject: &str) -> Result<Subscription, BusError>;
    fn name(&self) -> &'static str;
}

/// One process: a broadcast channel per subject.
#[derive(Default)]
pub struct InProcessBus {
    subjects: Mutex<HashMap<String, broadcast::Sender<Bytes>>>,
}

impl InProcessBus {
    fn sender(&self, subject: &str) -> broadcast::Sender<Bytes> {
        self.subjects
            .lock()
            .entry(subject.to_string())
            .or_insert_with(|| broadcast::channel(4096).0)
            .clone()
    }
}

#[async_trait]
impl Bus for InProcessBus {
    async fn publish(&self, subject: &str, payload: Bytes) -> Result<(), BusError> {
        let _ = self.sender(subject).send(payload); // no subscriber: nothing to do
        Ok(())
    }

    async fn subscribe(&self, subject: &str) -> Result<Subscription, BusError> {
        let rx = self.sender(subject).subscribe();
        Ok(tokio_stream_from(rx))
    }

    fn name(&self) -> &'static str {
        "in-process"
    }
}

fn tokio_stream_from(rx: broadcast::Receiver<Bytes>) -> Subscription {
    futures::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(b) => return Some((b, rx)),
                // A lagging subscriber loses messages, as a NATS subscriber would.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
    .boxed()
}

/// Several nodes: NATS core pub/sub.
pub struct NatsBus {
    client: async_nats::Client,
}

impl NatsBus {
    pub async fn connect(url: &str) -> Result<NatsBus, BusError> {
        let client = async_nats::ConnectOptions::new()
            .name("hawker")
            .connect(url)
            .await
            .map_err(|e| BusError::Connect {
                url: url.to_string(),
                reason: e.to_string(),
            })?;
        Ok(NatsBus { client })
    }
}

#[async_trait]
impl Bus for NatsBus {
    async fn publish(&self, subject: &str, payload: Bytes) -> Result<(), BusError> {
        self.client
            .publish(subject.to_string(), payload)
            .await
            .map_err(|e| BusError::Io(e.to_string()))
    }

    async fn subscribe(&self, subject: &str) -> Result<Subscription, BusError> {
        let sub = self
            .client
            .subscribe(subject.to_string())
            .await
            .map_err(|e| BusError::Io(e.to_string()))?;
        Ok(sub.map(|m| m.payload).boxed())
    }

    fn name(&self) -> &'static str {
        "nats"
    }
}
