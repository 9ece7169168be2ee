//! Defect claims and their photos. A claim's every step and the order's step it causes are
//! one transaction: a claim cannot exist without its order held out of completion, and an
//! order cannot be refunded on a claim that did not move.

use crate::shop::{step_order, OrderId, OrderStep, OrgId, TransitionFields};
use crate::sql::corrupt;
use crate::{Result, SqlStore, StorageError};
use async_trait::async_trait;
use hawker_commerce::defect::{ClaimState, Remedy};
use hawker_commerce::order::{ActorKind, OrderState};
use hawker_domain::{AccountId, UnixMillis};
use sqlx::any::AnyRow;
use sqlx::Row;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefectClaim {
    pub id: i64,
    pub order: OrderId,
    pub buyer: AccountId,
    pub org: OrgId,
    pub description: String,
    pub state: ClaimState,
    pub remedy: Option<Remedy>,
    pub seller_note: Option<String>,
    pub platform_note: Option<String>,
    pub deadline: UnixMillis,
    pub created_at: UnixMillis,
    pub updated_at: UnixMillis,
    pub photos: Vec<PhotoInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoInfo {
    pub id: i64,
    pub content_type: String,
    pub created_at: UnixMillis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDefectClaim {
    pub order: OrderId,
    pub buyer: AccountId,
    pub org: OrgId,
    pub description: String,
    pub deadline: UnixMillis,
    pub now: UnixMillis,
}

/// An order step taken with a claim's step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderMove {
    pub from: OrderState,
    pub to: OrderState,
    pub actor: ActorKind,
    pub actor_id: AccountId,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimChange {
    pub claim: i64,
    pub from: ClaimState,
    pub to: ClaimState,
    pub remedy: Option<Remedy>,
    /// Set by the seller's answer.
    pub seller_note: Option<String>,
    /// Set by the platform's decision.
    pub platform_note: Option<String>,
    pub order: Option<(OrderId, OrderMove)>,
    pub now: UnixMillis,
}

#[async_trait]
pub trait DefectStore: Send + Sync {
    /// Files a claim and moves its order from delivered to return requested (out of
    /// completion and settlement until the claim is decided). `Conflict` when the order is
    /// not delivered any more or a claim is already under way.
    async fn file_defect_claim(&self, new: &NewDefectClaim) -> Result<DefectClaim>;
    /// A claim's step and, with it, its order's step. `Conflict` when either moved meanwhile.
    async fn change_defect_claim(&self, change: &ClaimChange) -> Result<()>;
    async fn defect_claim(&self, id: i64) -> Result<Option<DefectClaim>>;
    /// Claims of an organisation, or of a buyer, or in a state (the platform's queue),
    /// newest first.
    async fn defect_claims(&self, filter: &ClaimFilter, limit: i64) -> Result<Vec<DefectClaim>>;
    async fn add_claim_photo(
        &self,
        claim: i64,
        content_type: &str,
        bytes: &[u8],
        now: UnixMillis,
    ) -> Result<i64>;
    async fn claim_photo(&self, claim: i64, photo: i64) -> Result<Option<(String, Vec<u8>)>>;
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClaimFilter {
    pub org: Option<OrgId>,
    pub buyer: Option<AccountId>,
    pub order: Option<OrderId>,
    pub state: Option<ClaimState>,
}

const COLS: &str = "id, order_id, buyer_id, org_id, description, state, remedy, seller_note, platform_note, deadline, created_at, updated_at";

fn claim_from(r: &AnyRow) -> Result<DefectClaim> {
    let state: String = r.try_get(5)?;
    let remedy: Option<String> = r.try_get(6)?;
    Ok(DefectClaim {
        id: r.try_get(0)?,
        order: r.try_get(1)?,
        buyer: AccountId(r.try_get(2)?),
        org: r.try_get(3)?,
        description: r.try_get(4)?,
        state: ClaimState::parse(&state)
            .ok_or_else(|| corrupt("defect claim state", format!("{state:?}")))?,
        remedy: match remedy {
            None => None,
            Some(s) => {
                Some(Remedy::parse(&s).ok_or_else(|| corrupt("defect remedy", format!("{s:?}")))?)
            }
        },
        seller_note: r.try_get(7)?,
        platform_note: r.try_get(8)?,
        deadline: UnixMillis(r.try_get(9)?),
        created_at: UnixMillis(r.try_get(10)?),
        updated_at: UnixMillis(r.try_get(11)?),
        photos: Vec::new(),
    })
}

/// The order's step inside the claim's transaction. No stock moves: a defect refund leaves the
/// goods with the buyer, and goods that come back go through the return steps, which restock.
async fn move_order(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    order: OrderId,
    m: &OrderMove,
    return_reason: Option<String>,
    now: UnixMillis,
) -> Result<()> {
    let fields = TransitionFields {
        return_reason,
        ..Default::default()
    };
    step_order(
        tx,
        &OrderStep {
            id: order,
            from: m.from,
            to: m.to,
            actor: m.actor,
            actor_id: Some(m.actor_id),
            note: &m.note,
            fields: &fields,
            restock: false,
            now,
        },
    )
    .await
}

impl SqlStore {
    async fn with_photos(&self, mut claims: Vec<DefectClaim>) -> Result<Vec<DefectClaim>> {
        for c in &mut claims {
            let rows = sqlx::query(
                "SELECT id, content_type, created_at FROM defect_claim_photos WHERE claim_id = $1 ORDER BY id",
            )
            .bind(c.id)
            .fetch_all(self.pool())
            .await?;
            c.photos = rows
                .iter()
                .map(|r| {
                    Ok(PhotoInfo {
                        id: r.try_get(0)?,
                        content_type: r.try_get(1)?,
                        created_at: UnixMillis(r.try_get(2)?),
                    })
                })
                .collect::<Result<_>>()?;
        }
        Ok(claims)
    }
}

#[async_trait]
impl DefectStore for SqlStore {
    async fn file_defect_claim(&self, new: &NewDefectClaim) -> Result<DefectClaim> {
        self.materialise_order(new.order).await?;
        let mut tx = self.write_tx().await?;
        let reason = format!("defect: {}", new.description);
        move_order(
            &mut tx,
            new.order,
            &OrderMove {
                from: OrderState::Delivered,
                to: OrderState::ReturnRequested,
                actor: ActorKind::Buyer,
                actor_id: new.buyer,
                note: "defect claimed".into(),
            },
            Some(reason),
            new.now,
        )
        .await?;
        let r = sqlx::query(&format!(
            "INSERT INTO defect_claims (order_id, buyer_id, org_id, description, state, deadline, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'open', $5, $6, $6) RETURNING {COLS}"
        ))
        .bind(new.order)
        .bind(new.buyer.0)
        .bind(new.org)
        .bind(&new.description)
        .bind(new.deadline.0)
        .bind(new.now.0)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| crate::classify(e, "defect claim", "order"))?;
        let claim = claim_from(&r)?;
        tx.commit().await?;
        Ok(claim)
    }

    async fn change_defect_claim(&self, c: &ClaimChange) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let r = sqlx::query(
            "UPDATE defect_claims SET state = $1, remedy = COALESCE($2, remedy), seller_note = COALESCE($3, seller_note), \
             platform_note = COALESCE($4, platform_note), updated_at = $5 WHERE id = $6 AND state = $7",
        )
        .bind(c.to.as_str())
        .bind(c.remedy.map(Remedy::as_str))
        .bind(c.seller_note.as_deref())
        .bind(c.platform_note.as_deref())
        .bind(c.now.0)
        .bind(c.claim)
        .bind(c.from.as_str())
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 0 {
            return Err(StorageError::Conflict {
                entity: "defect claim state",
            });
        }
        if let Some((order, m)) = &c.order {
            move_order(&mut tx, *order, m, None, c.now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn defect_claim(&self, id: i64) -> Result<Option<DefectClaim>> {
        let r = sqlx::query(&format!("SELECT {COLS} FROM defect_claims WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        match r {
            Some(r) => Ok(self.with_photos(vec![claim_from(&r)?]).await?.pop()),
            None => Ok(None),
        }
    }

    async fn defect_claims(&self, f: &ClaimFilter, limit: i64) -> Result<Vec<DefectClaim>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLS} FROM defect_claims WHERE ($1 IS NULL OR org_id = $1) AND ($2 IS NULL OR buyer_id = $2) \
             AND ($3 IS NULL OR order_id = $3) AND ($4 IS NULL OR state = $4) ORDER BY id DESC LIMIT $5"
        ))
        .bind(f.org)
        .bind(f.buyer.map(|b| b.0))
        .bind(f.order)
        .bind(f.state.map(ClaimState::as_str))
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        let claims = rows.iter().map(claim_from).collect::<Result<Vec<_>>>()?;
        self.with_photos(claims).await
    }

    async fn add_claim_photo(
        &self,
        claim: i64,
        content_type: &str,
        bytes: &[u8],
        now: UnixMillis,
    ) -> Result<i64> {
        let r = sqlx::query(
            "INSERT INTO defect_claim_photos (claim_id, content_type, bytes, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(claim)
        .bind(content_type)
        .bind(bytes.to_vec())
        .bind(now.0)
        .fetch_one(self.pool())
        .await
        .map_err(|e| crate::classify(e, "photo", "defect claim"))?;
        Ok(r.try_get(0)?)
    }

    async fn claim_photo(&self, claim: i64, photo: i64) -> Result<Option<(String, Vec<u8>)>> {
        let r = sqlx::query(
            "SELECT content_type, bytes FROM defect_claim_photos WHERE id = $1 AND claim_id = $2",
        )
        .bind(photo)
        .bind(claim)
        .fetch_optional(self.pool())
        .await?;
        match r {
            Some(r) => Ok(Some((r.try_get(0)?, r.try_get(1)?))),
            None => Ok(None),
        }
    }
}
