//! Payouts leave through a `PayoutProvider` (a bank or a payment provider's payout API). The
//! built-in `SandboxPayouts` pays at once, remembers each payout by its key (asking twice pays
//! once), and fails any amount whose minor units end in 13, so tests can choose a failure.

use async_trait::async_trait;
use hawker_domain::Money;
use hawker_money::Party;
use parking_lot::Mutex;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayoutStatus {
    Paid,
    /// The receiving side refused (account closed, name mismatch, ...).
    Failed(String),
}

#[derive(Debug, thiserror::Error)]
pub enum PayoutError {
    #[error("payout provider unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait PayoutProvider: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    /// Pays `amount` to `party`; idempotent on `key` (the ledger's posting key).
    async fn pay(
        &self,
        key: &str,
        party: Party,
        amount: Money,
    ) -> Result<PayoutStatus, PayoutError>;
}

#[derive(Default)]
pub struct SandboxPayouts {
    sent: Mutex<HashMap<String, (Party, Money, PayoutStatus)>>,
}

impl SandboxPayouts {
    pub fn new() -> Self {
        Self::default()
    }

    /// How many distinct payouts were made (tests: nobody is paid twice).
    pub fn paid_count(&self) -> usize {
        self.sent
            .lock()
            .values()
            .filter(|(_, _, s)| *s == PayoutStatus::Paid)
            .count()
    }
}

#[async_trait]
impl PayoutProvider for SandboxPayouts {
    fn name(&self) -> &'static str {
        "sandbox"
    }

    async fn pay(
        &self,
        key: &str,
        party: Party,
        amount: Money,
    ) -> Result<PayoutStatus, PayoutError> {
        let mut sent = self.sent.lock();
        let status = sent
            .entry(key.to_string())
            .or_insert_with(|| {
                let s = if amount.minor % 100 == 13 {
                    PayoutStatus::Failed("sandbox: amounts ending in 13 are returned".into())
                } else {
                    PayoutStatus::Paid
                };
                (party, amount, s)
            })
            .2
            .clone();
        Ok(status)
    }
}
