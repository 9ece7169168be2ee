//! Prize draws in a show: created by the host under the law profile's cap and free-entry rule,
//! entered by the chat keyword or the free route, drawn with a seed committed at creation.

use super::{invalid, Shop, ShopError};
use hawker_commerce::draw::{self, DrawTerms, EntryRoute};
use hawker_domain::UnixMillis;
use hawker_domain::{Account, AccountId, Channel, Currency, Money, Role, ShowId, ShowState};
use hawker_storage::disclosure::{Draw, DrawResult, DrawState, EntryOutcome, NewDraw};

/// A draw as the host asks for it.
#[derive(Debug, Clone)]
pub struct DrawRequest {
    pub prize_description: String,
    pub prize_minor: i64,
    pub currency: Currency,
    pub winners: u32,
    pub keyword: Option<String>,
    pub free_entry: bool,
    pub buyers_only: bool,
}

fn terms_of(d: &NewDraw) -> DrawTerms {
    DrawTerms {
        prize_description: d.prize_description.clone(),
        prize: d.prize,
        winners: d.winners,
        keyword: d.keyword.clone(),
        free_entry: d.free_entry,
        buyers_only: d.buyers_only,
    }
}

/// The host (or an admin) runs the show's draws.
fn host<'a>(who: Option<&'a Account>, c: &Channel) -> Result<&'a Account, ShopError> {
    who.filter(|a| a.id == c.owner || a.role == Role::PlatformAdmin)
        .ok_or(ShopError::Forbidden("only the host runs prize draws"))
}

/// 32 bytes from the operating system's CSPRNG.
fn rand_seed() -> [u8; 32] {
    use rand::RngCore;
    let mut seed = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut seed);
    seed
}

fn closed(detail: String) -> ShopError {
    ShopError::State {
        code: "draw_closed",
        detail,
    }
}

impl Shop {
    async fn draw_or_404(&self, id: i64) -> Result<Draw, ShopError> {
        self.store
            .draw(id)
            .await
            .map_err(ShopError::Storage)?
            .ok_or(ShopError::NotFound("prize draw"))
    }

    /// The host creates a draw in a show that is not over; the seed's commitment is public from
    /// the start.
    pub async fn create_draw(
        &self,
        who: Option<&Account>,
        show: ShowId,
        req: DrawRequest,
    ) -> Result<Draw, ShopError> {
        let (s, c) = self.show_and_channel(show).await?;
        let me = host(who, &c)?;
        if matches!(s.state, ShowState::Ended | ShowState::Cancelled) {
            return Err(invalid("show", "it is over"));
        }
        let law = &self.cfg.law;
        let terms = DrawTerms {
            prize_description: req.prize_description.trim().to_string(),
            prize: Money::new(req.prize_minor, req.currency),
            winners: req.winners,
            keyword: req.keyword,
            free_entry: req.free_entry,
            buyers_only: req.buyers_only,
        };
        law.draws.check(&terms).map_err(|e| ShopError::Draw {
            code: e.code(),
            detail: e.to_string(),
        })?;
        let seed: [u8; 32] = rand_seed();
        let d = self
            .store
            .create_draw(&NewDraw {
                show: s.id,
                created_by: me.id,
                prize_description: terms.prize_description,
                prize: terms.prize,
                winners: terms.winners,
                keyword: terms.keyword,
                free_entry: terms.free_entry,
                buyers_only: terms.buyers_only,
                law: law.name.clone(),
                seed: draw::hex(&seed),
                seed_commitment: draw::commitment(&seed),
                created_at: UnixMillis::now(),
            })
            .await
            .map_err(ShopError::Storage)?;
        tracing::info!(draw = d.id, show = %s.id, prize = %d.draw.prize, "prize draw created");
        Ok(d)
    }

    /// The free entry route: any account, no purchase necessary (unless the draw is
    /// buyers-only where the law allows that).
    pub async fn enter_draw(&self, who: &Account, id: i64) -> Result<EntryOutcome, ShopError> {
        let d = self.draw_or_404(id).await?;
        if d.state != DrawState::Open {
            return Err(closed(format!("the draw is {}", d.state.as_str())));
        }
        let rules = &self.cfg.law.draws;
        let terms = terms_of(&d.draw);
        // An order is looked for only where the draw asks for one and the law lets it.
        let has_order = if terms.buyers_only && !rules.free_entry_required {
            self.store
                .has_paid_order_in_show(who.id, d.draw.show)
                .await
                .map_err(ShopError::Storage)?
        } else {
            false
        };
        rules
            .may_enter(&terms, EntryRoute::Free, has_order)
            .map_err(|e| ShopError::Draw {
                code: e.code(),
                detail: e.to_string(),
            })?;
        match self
            .store
            .enter_draw(id, who.id, EntryRoute::Free, UnixMillis::now())
            .await
            .map_err(ShopError::Storage)?
        {
            EntryOutcome::NotOpen => Err(closed("the draw has closed".into())),
            o => Ok(o),
        }
    }

    /// Closes entries, collects keyword entries from the show's chat up to that moment, picks
    /// the winners with the committed seed and reveals it. Retried after a crash, it finishes
    /// the same draw the same way. Answers the draw and the channel its room is in.
    pub async fn run_draw(
        &self,
        who: Option<&Account>,
        id: i64,
    ) -> Result<(Draw, Channel), ShopError> {
        let d = self.draw_or_404(id).await?;
        let (_, c) = self.show_and_channel(d.draw.show).await?;
        host(who, &c)?;
        match d.state {
            DrawState::Open => {
                self.store
                    .close_draw(id, UnixMillis::now())
                    .await
                    .map_err(ShopError::Storage)?;
            }
            DrawState::Closing => {}
            DrawState::Drawn => {
                return Err(ShopError::State {
                    code: "already_drawn",
                    detail: "the draw has been drawn".into(),
                })
            }
            DrawState::Cancelled => {
                return Err(ShopError::State {
                    code: "draw_cancelled",
                    detail: "the draw was cancelled".into(),
                })
            }
        }
        let d = self.draw_or_404(id).await?;
        if d.state == DrawState::Closing {
            let rules = &self.cfg.law.draws;
            let closed = d.closed_at.unwrap_or(d.draw.created_at);
            if let Some(k) = &d.draw.keyword {
                self.store
                    .add_keyword_entries(
                        id,
                        d.draw.show,
                        k,
                        d.draw.created_at,
                        closed,
                        d.draw.buyers_only && !rules.free_entry_required,
                    )
                    .await
                    .map_err(ShopError::Storage)?;
            }
            let entrants = self
                .store
                .draw_entrants(id)
                .await
                .map_err(ShopError::Storage)?;
            let seed = draw::seed_from_hex(&d.draw.seed).ok_or_else(|| {
                ShopError::Storage(hawker_storage::StorageError::Corrupt("draw seed".into()))
            })?;
            let winners = draw::pick_winners(&seed, &entrants, d.draw.winners as usize);
            self.store
                .complete_draw(
                    id,
                    &DrawResult {
                        winners: winners.iter().copied().map(AccountId).collect(),
                        entrants: entrants.len() as i64,
                        entrants_digest: draw::entrants_digest(&entrants),
                        algorithm: draw::ALGORITHM.into(),
                        drawn_at: UnixMillis::now(),
                    },
                )
                .await
                .map_err(ShopError::Storage)?;
        }
        Ok((self.draw_or_404(id).await?, c))
    }

    /// The host cancels a draw that is still open.
    pub async fn cancel_draw(&self, who: Option<&Account>, id: i64) -> Result<Draw, ShopError> {
        let d = self.draw_or_404(id).await?;
        let (_, c) = self.show_and_channel(d.draw.show).await?;
        host(who, &c)?;
        if !self
            .store
            .cancel_draw(id)
            .await
            .map_err(ShopError::Storage)?
        {
            return Err(closed(format!("the draw is {}", d.state.as_str())));
        }
        self.draw_or_404(id).await
    }
}
