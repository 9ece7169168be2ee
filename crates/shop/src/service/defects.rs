//! Defect claims: the buyer claims with a description and photos before the law profile's
//! deadline; the seller's staff accept (refund without return, or refund once the goods are
//! back) or dispute; the platform decides disputed (or unanswered) claims. The order moves with
//! the claim in one transaction, and money moves through the order (the books post a refunded
//! order's reversal), so the ledger holds every refund a claim causes.

use super::{invalid, Shop, ShopError};
use hawker_commerce::catalog::ReturnClass;
use hawker_commerce::defect::{self, ClaimAction, Remedy};
use hawker_commerce::order::{next_state, ActorKind, OrderState, Transition};
use hawker_domain::{Account, Role, UnixMillis};
use hawker_storage::defects::{ClaimChange, ClaimFilter, DefectClaim, NewDefectClaim, OrderMove};
use hawker_storage::shop::{Order, OrderId, OrderItem};

/// Photos one claim may carry.
pub const MAX_CLAIM_PHOTOS: usize = 6;

impl Shop {
    /// The buyer claims a defect on a delivered order.
    pub async fn claim_defect(
        &self,
        who: &Account,
        order: OrderId,
        description: &str,
        now: UnixMillis,
    ) -> Result<DefectClaim, ShopError> {
        let o = self.own_order(who, order).await?;
        let description = description.trim();
        let chars = description.chars().count();
        if !(10..=2000).contains(&chars) {
            return Err(invalid(
                "description",
                "say what is wrong in 10 to 2000 characters",
            ));
        }
        if self.claim_under_way(o.id).await? {
            return Err(ShopError::Claim(defect::ClaimError::UnderWay));
        }
        if o.state != OrderState::Delivered {
            return Err(invalid(
                "order",
                format!(
                    "a defect is claimed on a delivered order (this one is {}); confirm the delivery first",
                    o.state.as_str()
                ),
            ));
        }
        let items = self.store.order_items(o.id).await?;
        let deadline = self
            .defect_claim_deadline(&o, &items)
            .ok_or_else(|| invalid("order", "not delivered yet"))?
            .0;
        let class = claim_class(&items);
        if now.0 > deadline {
            return Err(ShopError::DefectWindowClosed {
                days: self.cfg.law.defect_claim_days(class),
            });
        }
        let claim = self
            .store
            .file_defect_claim(&NewDefectClaim {
                order: o.id,
                buyer: who.id,
                org: o.org,
                description: description.to_string(),
                deadline: UnixMillis(deadline),
                now,
            })
            .await
            .map_err(|e| match e {
                hawker_storage::StorageError::Conflict { .. } => {
                    ShopError::Claim(defect::ClaimError::UnderWay)
                }
                e => e.into(),
            })?;
        tracing::info!(claim = claim.id, order = o.id, "defect claimed");
        Ok(claim)
    }

    /// Until when a defect may be claimed on this order: set once it is delivered, by the
    /// strictest class of what was bought (perishables: days).
    pub fn defect_claim_deadline(&self, o: &Order, items: &[OrderItem]) -> Option<UnixMillis> {
        let delivered = o.delivered_at?;
        (o.state == OrderState::Delivered).then(|| {
            UnixMillis(
                self.cfg
                    .law
                    .defect_claim_deadline(claim_class(items), delivered.0),
            )
        })
    }

    /// A photo for the buyer's own claim while it is under way.
    pub async fn add_defect_photo(
        &self,
        who: &Account,
        claim: i64,
        content_type: &str,
        bytes: &[u8],
        now: UnixMillis,
    ) -> Result<i64, ShopError> {
        let c = self.claim(claim).await?;
        if c.buyer != who.id {
            return Err(ShopError::NotFound("defect claim"));
        }
        if c.state.is_final() {
            return Err(invalid("claim", "the claim is decided; no more photos"));
        }
        if c.photos.len() >= MAX_CLAIM_PHOTOS {
            return Err(invalid(
                "photo",
                format!("at most {MAX_CLAIM_PHOTOS} photos per claim"),
            ));
        }
        Ok(self
            .store
            .add_claim_photo(claim, content_type, bytes, now)
            .await?)
    }

    /// The seller's staff answer: accept with a remedy, or dispute (a reason required).
    pub async fn answer_defect_claim(
        &self,
        who: &Account,
        claim: i64,
        action: ClaimAction,
        note: &str,
        now: UnixMillis,
    ) -> Result<DefectClaim, ShopError> {
        let c = self.claim(claim).await?;
        match self.role_in(who, c.org).await? {
            Some(r) if r.fulfils() => {}
            Some(_) => {
                return Err(ShopError::Forbidden(
                    "your role in this shop does not include orders",
                ))
            }
            None if c.buyer == who.id => {
                return Err(ShopError::Forbidden("the seller answers a defect claim"))
            }
            None => return Err(ShopError::NotFound("defect claim")),
        }
        if action == ClaimAction::Dispute && note.trim().is_empty() {
            return Err(invalid("note", "say why the claim is disputed"));
        }
        self.step(&c, action, ActorKind::Merchant, who, note, now)
            .await
    }

    /// The platform decides a disputed claim (or one the seller has not answered).
    pub async fn decide_defect_claim(
        &self,
        ops: &Account,
        claim: i64,
        action: ClaimAction,
        note: &str,
        now: UnixMillis,
    ) -> Result<DefectClaim, ShopError> {
        if ops.role != Role::PlatformAdmin {
            return Err(ShopError::Forbidden("only the platform decides claims"));
        }
        if note.trim().is_empty() {
            return Err(invalid("note", "give the decision's reason"));
        }
        let c = self.claim(claim).await?;
        self.step(&c, action, ActorKind::Platform, ops, note, now)
            .await
    }

    /// One claim, to its buyer, the seller's staff and the platform; nobody else sees it.
    pub async fn defect_claim(&self, who: &Account, claim: i64) -> Result<DefectClaim, ShopError> {
        let c = self.claim(claim).await?;
        if c.buyer == who.id || self.role_in(who, c.org).await?.is_some() {
            Ok(c)
        } else {
            Err(ShopError::NotFound("defect claim"))
        }
    }

    /// A claim's photo, to whoever may see the claim.
    pub async fn defect_photo(
        &self,
        who: &Account,
        claim: i64,
        photo: i64,
    ) -> Result<(String, Vec<u8>), ShopError> {
        self.defect_claim(who, claim).await?;
        self.store
            .claim_photo(claim, photo)
            .await?
            .ok_or(ShopError::NotFound("photo"))
    }

    /// Claims of an organisation (its staff), a buyer's own, or the platform's queue by state.
    pub async fn defect_claims(
        &self,
        who: &Account,
        mut filter: ClaimFilter,
    ) -> Result<Vec<DefectClaim>, ShopError> {
        match filter.org {
            Some(org) => {
                self.staff(who, org, |r| r.fulfils()).await?;
            }
            None => filter.buyer = Some(who.id),
        }
        Ok(self.store.defect_claims(&filter, 200).await?)
    }

    /// The platform's queue: every claim, or those in one state.
    pub async fn defect_queue(
        &self,
        ops: &Account,
        state: Option<hawker_commerce::defect::ClaimState>,
    ) -> Result<Vec<DefectClaim>, ShopError> {
        if ops.role != Role::PlatformAdmin {
            return Err(ShopError::Forbidden("only the platform sees every claim"));
        }
        let filter = ClaimFilter {
            state,
            ..Default::default()
        };
        Ok(self.store.defect_claims(&filter, 200).await?)
    }

    /// Is a claim under way on this order (the plain return steps wait for it)?
    pub(super) async fn claim_under_way(&self, order: OrderId) -> Result<bool, ShopError> {
        let claims = self
            .store
            .defect_claims(
                &ClaimFilter {
                    order: Some(order),
                    ..Default::default()
                },
                10,
            )
            .await?;
        Ok(claims.iter().any(|c| !c.state.is_final()))
    }

    async fn claim(&self, id: i64) -> Result<DefectClaim, ShopError> {
        self.store
            .defect_claim(id)
            .await?
            .ok_or(ShopError::NotFound("defect claim"))
    }

    async fn own_order(&self, who: &Account, order: OrderId) -> Result<Order, ShopError> {
        match self.store.order(order).await? {
            Some(o) if o.buyer == who.id => Ok(o),
            _ => Err(ShopError::NotFound("order")),
        }
    }

    /// The claim's step and the order's, together; a refund without return refunds the
    /// payment first (idempotent per payment), so a crash between the two is repaired by
    /// deciding again.
    async fn step(
        &self,
        c: &DefectClaim,
        action: ClaimAction,
        actor: ActorKind,
        who: &Account,
        note: &str,
        now: UnixMillis,
    ) -> Result<DefectClaim, ShopError> {
        let to = defect::next(c.state, action, actor)?;
        let o = self
            .store
            .order(c.order)
            .await?
            .ok_or(ShopError::NotFound("order"))?;
        let order_move = match action {
            ClaimAction::Accept(r) | ClaimAction::Uphold(r) => Some(match r {
                Remedy::RefundWithoutReturn => Transition::RefundWithoutReturn,
                Remedy::RefundWithReturn => Transition::ApproveReturn,
            }),
            ClaimAction::Reject => Some(Transition::RejectReturn),
            ClaimAction::Dispute => None,
        };
        let order_move = match order_move {
            Some(t) => {
                let next = next_state(o.state, t, actor)?;
                if t == Transition::RefundWithoutReturn {
                    self.refund_payment(&o).await?;
                }
                Some((
                    o.id,
                    OrderMove {
                        from: o.state,
                        to: next,
                        actor,
                        actor_id: who.id,
                        note: format!("defect claim {} {}", c.id, to.as_str()),
                    },
                ))
            }
            None => None,
        };
        let note = note.trim().chars().take(1000).collect::<String>();
        let (seller_note, platform_note) = match actor {
            ActorKind::Platform => (None, Some(note)),
            _ => (Some(note).filter(|n| !n.is_empty()), None),
        };
        self.store
            .change_defect_claim(&ClaimChange {
                claim: c.id,
                from: c.state,
                to,
                remedy: action.remedy(),
                seller_note,
                platform_note,
                order: order_move,
                now,
            })
            .await?;
        tracing::info!(claim = c.id, state = to.as_str(), "defect claim moved");
        self.claim(c.id).await
    }
}

/// The class whose deadline applies: perishable if anything bought is, else the first item's.
fn claim_class(items: &[OrderItem]) -> ReturnClass {
    if items
        .iter()
        .any(|i| i.return_class == ReturnClass::Perishable)
    {
        ReturnClass::Perishable
    } else {
        items
            .first()
            .map(|i| i.return_class)
            .unwrap_or(ReturnClass::Normal)
    }
}
