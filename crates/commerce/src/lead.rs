//! A lead: a viewer who asked to talk to the seller about a product (a car, a house) in a 1:1
//! video consult. The consult's outcome stays on the lead for the seller's follow-up; the
//! selling-formats work builds the leads inbox on this one record.
//!
//! ```text
//!  requested ─accept─▶ accepted ─end─▶ ended
//!      │ ╲                 ╲
//!   decline cancel        (the buyer or the staff member hangs up; staff note the outcome)
//!      ▼     ▼
//!  declined cancelled        requested ─(no answer in time)─▶ missed
//! ```

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeadState {
    Requested,
    Accepted,
    Ended,
    Declined,
    Cancelled,
    Missed,
}

impl LeadState {
    pub fn as_str(self) -> &'static str {
        match self {
            LeadState::Requested => "requested",
            LeadState::Accepted => "accepted",
            LeadState::Ended => "ended",
            LeadState::Declined => "declined",
            LeadState::Cancelled => "cancelled",
            LeadState::Missed => "missed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "requested" => LeadState::Requested,
            "accepted" => LeadState::Accepted,
            "ended" => LeadState::Ended,
            "declined" => LeadState::Declined,
            "cancelled" => LeadState::Cancelled,
            "missed" => LeadState::Missed,
            _ => return None,
        })
    }

    /// A call may be under way (the parties may join it).
    pub fn in_call(self) -> bool {
        self == LeadState::Accepted
    }
}

/// Who does something to a lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeadActor {
    Buyer,
    Staff,
    /// The platform's clock.
    Timer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeadAction {
    Accept,
    Decline,
    Cancel,
    End,
    Expire,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LeadError {
    #[error("a {state} consult cannot be {action}")]
    Transition {
        state: &'static str,
        action: &'static str,
    },
    #[error("only the {0} may do that")]
    Actor(&'static str),
}

/// How long a request waits for the seller's staff before it counts as missed.
pub const ANSWER_WITHIN_MS: i64 = 10 * 60 * 1000;

/// The state after `action` by `actor` on a lead in `state`.
pub fn next(
    state: LeadState,
    action: LeadAction,
    actor: LeadActor,
) -> Result<LeadState, LeadError> {
    use LeadAction::*;
    use LeadState::*;
    let need = |who: LeadActor, name: &'static str| {
        if actor == who {
            Ok(())
        } else {
            Err(LeadError::Actor(name))
        }
    };
    let to = match (state, action) {
        (Requested, Accept) => need(LeadActor::Staff, "seller's staff").map(|_| Accepted)?,
        (Requested, Decline) => need(LeadActor::Staff, "seller's staff").map(|_| Declined)?,
        (Requested, Cancel) => need(LeadActor::Buyer, "buyer").map(|_| Cancelled)?,
        (Requested, Expire) => need(LeadActor::Timer, "platform").map(|_| Missed)?,
        (Accepted, End) if actor != LeadActor::Timer => Ended,
        (Accepted, Expire) => need(LeadActor::Timer, "platform").map(|_| Ended)?,
        _ => {
            return Err(LeadError::Transition {
                state: state.as_str(),
                action: match action {
                    Accept => "accepted",
                    Decline => "declined",
                    Cancel => "cancelled",
                    End => "ended",
                    Expire => "expired",
                },
            })
        }
    };
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use LeadAction::*;
    use LeadActor::*;
    use LeadState::*;

    #[test]
    fn the_life_of_a_consult() {
        assert_eq!(next(Requested, Accept, Staff), Ok(Accepted));
        assert_eq!(next(Accepted, End, Buyer), Ok(Ended));
        assert_eq!(next(Accepted, End, Staff), Ok(Ended));
        assert_eq!(next(Requested, Decline, Staff), Ok(Declined));
        assert_eq!(next(Requested, Cancel, Buyer), Ok(Cancelled));
        assert_eq!(next(Requested, Expire, Timer), Ok(Missed));
    }

    #[test]
    fn only_the_right_party_and_never_back() {
        assert!(matches!(
            next(Requested, Accept, Buyer),
            Err(LeadError::Actor(_))
        ));
        assert!(matches!(
            next(Requested, Cancel, Staff),
            Err(LeadError::Actor(_))
        ));
        for s in [Ended, Declined, Cancelled, Missed] {
            for a in [Accept, Decline, Cancel, End, Expire] {
                for who in [Buyer, Staff, Timer] {
                    assert!(next(s, a, who).is_err(), "{s:?} {a:?} {who:?}");
                }
            }
        }
        for s in [Requested, Accepted, Ended, Declined, Cancelled, Missed] {
            assert_eq!(LeadState::parse(s.as_str()), Some(s));
        }
    }
}
