//! The per-show risk assessment: evidence gathered from storage, the engine's verdict stored
//! with its flags, and the job that re-assesses ended shows whose orders changed.

use super::*;
use hawker_commerce::order::OrderState;
use hawker_trust::review::RiskState;

impl Guard {
    /// Assesses one show from its orders, the attributes of its buyers and insiders, its chat
    /// and its slots, and stores the result with the orders to hold.
    pub async fn assess_show(
        &self,
        show: ShowId,
        now: UnixMillis,
    ) -> Result<Assessment, TrustRefusal> {
        let s = self
            .store
            .show(show)
            .await?
            .ok_or(TrustRefusal::NotFound("show"))?;
        let channel = self
            .store
            .channel(s.channel)
            .await?
            .ok_or(TrustRefusal::NotFound("channel"))?;
        let orders = self.store.show_orders(show).await?;
        let mut insiders: BTreeSet<i64> = [channel.owner.0].into();
        let orgs: BTreeSet<i64> = orders.iter().map(|o| o.org).collect();
        for org in &orgs {
            for m in self.store.members(*org).await? {
                insiders.insert(m.account.0);
            }
        }
        for c in self
            .store
            .agency_contracts_of_streamer(channel.owner)
            .await?
        {
            for m in self.store.members(c.agency).await? {
                insiders.insert(m.account.0);
            }
        }
        let buyers: BTreeSet<i64> = orders.iter().map(|o| o.buyer.0).collect();
        let accounts: Vec<AccountId> = buyers.union(&insiders).map(|a| AccountId(*a)).collect();
        let attrs: Vec<(i64, LinkKind, String)> = self
            .store
            .signals_of(&accounts)
            .await?
            .into_iter()
            .map(|(a, k, v)| (a.0, k, v))
            .collect();
        // How common each shared value is on the whole platform (`risk::rarity`).
        let values: Vec<(LinkKind, String)> = attrs
            .iter()
            .map(|(_, k, v)| (*k, v.clone()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let popularity = self
            .store
            .signal_popularity(&values)
            .await?
            .into_iter()
            .map(|(k, v, n)| ((k, v), n.max(0) as u64))
            .collect();
        let chat = self
            .store
            .comments_of_show(show, 5_000)
            .await?
            .into_iter()
            .filter(|c| !c.shadow)
            .map(|c| (c.account.0, c.text))
            .collect();
        let return_cap_bps = self
            .store
            .slots_of_show(show)
            .await?
            .iter()
            .filter_map(|sl| sl.slot.return_cap_bps)
            .min();
        let sessions = self
            .store
            .viewer_sessions_of_show(show, MAX_SESSIONS)
            .await?
            .into_iter()
            .map(|v| ViewerSession {
                account: v.account.map(|a| a.0),
                joined_at: v.joined_at.0,
                left_at: v.left_at.0,
                played_ms: v.played_ms,
                counted: v.counted,
                traits: hawker_trust::engine::SessionTraits {
                    network: v.evidence.network,
                    media_deliveries: v.evidence.media_deliveries,
                    heartbeats: v.evidence.heartbeats,
                    cadence_jitter_ms: v.evidence.cadence_jitter_ms,
                },
            })
            .collect();
        let evidence = ShowEvidence {
            orders: orders
                .iter()
                .map(|o| ShowOrder {
                    order: o.order,
                    buyer: o.buyer.0,
                    amount_minor: o.total_minor,
                    undone_at: matches!(
                        o.state,
                        OrderState::Cancelled
                            | OrderState::Refunded
                            | OrderState::ReturnRequested
                            | OrderState::ReturnApproved
                            | OrderState::ReturnReceived
                    )
                    .then_some(o.updated_at),
                })
                .collect(),
            attrs,
            popularity,
            insiders,
            chat,
            ended_at: s.ended_at.map(|t| t.0),
            refund_window_ms: self.policy.refund_after_show_hours * 3_600_000,
            return_cap_bps,
            sessions,
        };
        let a = assess(&evidence, self.policy.hold_score_bps as f64 / 10_000.0);
        let flags: Vec<RiskFlag> = a
            .flagged
            .iter()
            .map(|f| RiskFlag {
                order: f.order,
                show,
                buyer: AccountId(f.buyer),
                why: f.why.clone(),
                state: RiskState::Open,
            })
            .collect();
        let signals = serde_json::to_string(&a.signals).unwrap_or_else(|_| "[]".into());
        self.store
            .save_assessment(
                show,
                (a.score * 10_000.0).round() as i64,
                a.hold,
                &signals,
                &flags,
                now,
            )
            .await?;
        if a.hold {
            tracing::warn!(show = %show, score = a.score, "show earnings held for integrity signals");
            metrics::counter!("hawker_shows_held_total").increment(1);
        }
        Ok(a)
    }
}

impl Guard {
    /// Every minute: shows that ended in the last 30 days and whose orders changed since their
    /// last assessment are assessed again, so late refunds and new links count.
    pub fn spawn_jobs(self: &Arc<Self>, cancel: tokio_util::sync::CancellationToken) {
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
                    _ = cancel.cancelled() => return,
                }
                if let Err(e) = me.assess_changed(UnixMillis::now()).await {
                    tracing::warn!(error = %e, "risk assessment failed");
                }
                if let Err(e) = me.reload_minors(UnixMillis::now()).await {
                    tracing::warn!(error = %e, "reloading minors failed");
                }
            }
        });
    }

    pub async fn assess_changed(&self, now: UnixMillis) -> Result<usize, TrustRefusal> {
        let since = UnixMillis(now.0 - 30 * 86_400_000);
        let shows = self.store.shows_to_assess(since, 100).await?;
        for s in &shows {
            self.assess_show(*s, now).await?;
        }
        Ok(shows.len())
    }
}
