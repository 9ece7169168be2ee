//! The risk engine's inputs and assessments of shows, their flags and ops' reviews.

use super::*;

#[async_trait]
pub trait RiskStore: Send + Sync {
    /// The orders of a show that were ever paid.
    async fn show_orders(&self, show: ShowId) -> Result<Vec<ShowOrderRow>>;
    /// Saves the engine's assessment and its flagged orders. A show ops has already decided
    /// keeps its decision; a new flag on it starts `open`.
    async fn save_assessment(
        &self,
        show: ShowId,
        score_bps: i64,
        hold: bool,
        signals: &str,
        flags: &[RiskFlag],
        at: UnixMillis,
    ) -> Result<()>;
    async fn assessment(&self, show: ShowId) -> Result<Option<RiskAssessmentRow>>;
    /// Assessments, highest score first.
    async fn assessments(&self, limit: i64) -> Result<Vec<RiskAssessmentRow>>;
    async fn risk_flags(&self, show: ShowId) -> Result<Vec<RiskFlag>>;
    /// Ops decision on a held show: `cleared` releases it and its flags, `confirmed` keeps them.
    async fn review_assessment(
        &self,
        show: ShowId,
        verdict: RiskVerdict,
        actor: AccountId,
        at: UnixMillis,
    ) -> Result<bool>;
    /// Of these orders, those whose earnings are held: flagged and not cleared, or in a show
    /// held and not cleared.
    async fn orders_held(&self, orders: &[i64]) -> Result<BTreeSet<i64>>;
    /// Ended shows with paid orders that were never assessed or changed since (orders
    /// updated after the last assessment), oldest first.
    async fn shows_to_assess(&self, since: UnixMillis, limit: i64) -> Result<Vec<ShowId>>;
}

#[async_trait]
impl RiskStore for SqlStore {
    async fn show_orders(&self, show: ShowId) -> Result<Vec<ShowOrderRow>> {
        let rows = sqlx::query(
            "SELECT id, buyer_id, org_id, total_minor, state, updated_at FROM orders WHERE show_id = $1 AND state NOT IN ('created', 'expired') ORDER BY id",
        )
        .bind(show.0)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ShowOrderRow {
                    order: r.try_get(0)?,
                    buyer: AccountId(r.try_get(1)?),
                    org: r.try_get(2)?,
                    total_minor: r.try_get(3)?,
                    state: named(r, 4, "order state", OrderState::parse)?,
                    updated_at: r.try_get(5)?,
                })
            })
            .collect()
    }

    async fn save_assessment(
        &self,
        show: ShowId,
        score_bps: i64,
        hold: bool,
        signals: &str,
        flags: &[RiskFlag],
        at: UnixMillis,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        // A decided show keeps the decision; an undecided one follows the latest score.
        sqlx::query(
            "INSERT INTO risk_assessments (show_id, score_bps, hold, signals, state, assessed_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (show_id) DO UPDATE SET score_bps = excluded.score_bps, hold = excluded.hold, signals = excluded.signals, assessed_at = excluded.assessed_at, \
             state = CASE WHEN risk_assessments.state IN ('cleared', 'confirmed') THEN risk_assessments.state ELSE excluded.state END",
        )
        .bind(show.0)
        .bind(score_bps)
        .bind(hold as i64)
        .bind(signals)
        .bind(
            if hold || !flags.is_empty() {
                RiskState::Open
            } else {
                RiskState::Clear
            }
            .as_str(),
        )
        .bind(at.0)
        .execute(&mut *tx)
        .await
        .map_err(|e| classify(e, "risk assessment", "show"))?;
        for f in flags {
            sqlx::query(
                "INSERT INTO risk_flags (order_id, show_id, buyer_id, why, state, flagged_at) VALUES ($1, $2, $3, $4, 'open', $5) ON CONFLICT (order_id) DO NOTHING",
            )
            .bind(f.order)
            .bind(f.show.0)
            .bind(f.buyer.0)
            .bind(&f.why)
            .bind(at.0)
            .execute(&mut *tx)
            .await
            .map_err(|e| classify(e, "risk flag", "order"))?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn assessment(&self, show: ShowId) -> Result<Option<RiskAssessmentRow>> {
        let r = sqlx::query(&format!(
            "SELECT {RISK_COLS} FROM risk_assessments WHERE show_id = $1"
        ))
        .bind(show.0)
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(risk_from).transpose()
    }

    async fn assessments(&self, limit: i64) -> Result<Vec<RiskAssessmentRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {RISK_COLS} FROM risk_assessments ORDER BY score_bps DESC, show_id LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(risk_from).collect()
    }

    async fn risk_flags(&self, show: ShowId) -> Result<Vec<RiskFlag>> {
        let rows = sqlx::query(
            "SELECT order_id, show_id, buyer_id, why, state FROM risk_flags WHERE show_id = $1 ORDER BY order_id",
        )
        .bind(show.0)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(RiskFlag {
                    order: r.try_get(0)?,
                    show: ShowId(r.try_get(1)?),
                    buyer: AccountId(r.try_get(2)?),
                    why: r.try_get(3)?,
                    state: named(r, 4, "risk flag state", RiskState::parse)?,
                })
            })
            .collect()
    }

    async fn review_assessment(
        &self,
        show: ShowId,
        verdict: RiskVerdict,
        actor: AccountId,
        at: UnixMillis,
    ) -> Result<bool> {
        let state = verdict.state().as_str();
        let mut tx = self.write_tx().await?;
        let n = sqlx::query(
            "UPDATE risk_assessments SET state = $1, reviewed_by = $2, reviewed_at = $3 WHERE show_id = $4",
        )
        .bind(state)
        .bind(actor.0)
        .bind(at.0)
        .bind(show.0)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query("UPDATE risk_flags SET state = $1 WHERE show_id = $2")
            .bind(state)
            .bind(show.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(n == 1)
    }

    async fn orders_held(&self, orders: &[i64]) -> Result<BTreeSet<i64>> {
        let mut out = BTreeSet::new();
        for chunk in orders.chunks(500) {
            let sql = format!(
                "SELECT o.id FROM orders o \
                 LEFT JOIN risk_flags f ON f.order_id = o.id \
                 LEFT JOIN risk_assessments a ON a.show_id = o.show_id \
                 WHERE o.id IN ({}) AND ((f.state IS NOT NULL AND f.state <> 'cleared') \
                   OR (a.hold = 1 AND a.state <> 'cleared'))",
                numbered(1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for o in chunk {
                q = q.bind(*o);
            }
            for r in q.fetch_all(self.pool()).await? {
                out.insert(r.try_get(0)?);
            }
        }
        Ok(out)
    }

    async fn shows_to_assess(&self, since: UnixMillis, limit: i64) -> Result<Vec<ShowId>> {
        let rows = sqlx::query(
            "SELECT s.id FROM shows s LEFT JOIN risk_assessments a ON a.show_id = s.id \
             WHERE s.state = 'ended' AND s.ended_at >= $1 \
               AND EXISTS (SELECT 1 FROM orders o WHERE o.show_id = s.id AND o.state NOT IN ('created', 'expired') \
                           AND (a.assessed_at IS NULL OR o.updated_at > a.assessed_at)) \
             ORDER BY s.ended_at LIMIT $2",
        )
        .bind(since.0)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| Ok(ShowId(r.try_get(0)?))).collect()
    }
}
