//! Shows: one broadcast of a channel, from the first frame to the end of its grace period.
//!
//! ```text
//!   scheduled ──publish──▶ live ──grace elapsed / host ends──▶ ended
//!       └────────cancel───────────────────────────────────────▶ cancelled
//! ```
//! A show starts when publishing starts (a scheduled show of the channel is taken if there is
//! one, else an unscheduled one is opened) and ends once no data has arrived for the grace period,
//! so an encoder that reconnects after a network blip continues the same show.

use crate::{ChannelId, UnixMillis};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ShowId(pub i64);

impl fmt::Display for ShowId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShowState {
    Scheduled,
    Live,
    Ended,
    Cancelled,
}

impl ShowState {
    pub fn as_str(self) -> &'static str {
        match self {
            ShowState::Scheduled => "scheduled",
            ShowState::Live => "live",
            ShowState::Ended => "ended",
            ShowState::Cancelled => "cancelled",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "scheduled" => Some(ShowState::Scheduled),
            "live" => Some(ShowState::Live),
            "ended" => Some(ShowState::Ended),
            "cancelled" => Some(ShowState::Cancelled),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a {from} show cannot become {to}")]
pub struct ShowTransitionError {
    pub from: &'static str,
    pub to: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Show {
    pub id: ShowId,
    pub channel: ChannelId,
    pub title: String,
    pub state: ShowState,
    pub scheduled_at: Option<UnixMillis>,
    pub started_at: Option<UnixMillis>,
    pub ended_at: Option<UnixMillis>,
}

impl Show {
    fn transition(&mut self, to: ShowState) -> Result<(), ShowTransitionError> {
        use ShowState::*;
        let allowed = matches!(
            (self.state, to),
            (Scheduled, Live) | (Live, Ended) | (Scheduled, Cancelled)
        );
        if !allowed {
            return Err(ShowTransitionError {
                from: self.state.as_str(),
                to: to.as_str(),
            });
        }
        self.state = to;
        Ok(())
    }

    /// The first frame arrived.
    pub fn go_live(&mut self, now: UnixMillis) -> Result<(), ShowTransitionError> {
        self.transition(ShowState::Live)?;
        self.started_at = Some(now);
        Ok(())
    }

    /// The grace period passed without data, the host ended the show, or the server shut down.
    pub fn end(&mut self, now: UnixMillis) -> Result<(), ShowTransitionError> {
        self.transition(ShowState::Ended)?;
        self.ended_at = Some(now);
        Ok(())
    }

    pub fn cancel(&mut self) -> Result<(), ShowTransitionError> {
        self.transition(ShowState::Cancelled)
    }

    /// Which scheduled show a publish at `now` opens: the one whose start is nearest, as long as
    /// it is no more than `window_ms` away in either direction.
    pub fn pick_scheduled(scheduled: &[Show], now: UnixMillis, window_ms: i64) -> Option<&Show> {
        scheduled
            .iter()
            .filter(|s| s.state == ShowState::Scheduled)
            .filter_map(|s| s.scheduled_at.map(|at| ((at.0 - now.0).abs(), s)))
            .filter(|(d, _)| *d <= window_ms)
            .min_by_key(|(d, _)| *d)
            .map(|(_, s)| s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(state: ShowState, at: Option<i64>) -> Show {
        Show {
            id: ShowId(1),
            channel: ChannelId(1),
            title: "t".into(),
            state,
            scheduled_at: at.map(UnixMillis),
            started_at: None,
            ended_at: None,
        }
    }

    #[test]
    fn life_cycle() {
        let mut s = show(ShowState::Scheduled, None);
        s.go_live(UnixMillis(10)).unwrap();
        assert_eq!(s.started_at, Some(UnixMillis(10)));
        assert!(s.go_live(UnixMillis(11)).is_err());
        assert!(s.cancel().is_err());
        s.end(UnixMillis(20)).unwrap();
        assert!(s.end(UnixMillis(21)).is_err());
        assert_eq!(s.state, ShowState::Ended);
    }

    #[test]
    fn picks_nearest_scheduled_within_window() {
        let mut a = show(ShowState::Scheduled, Some(1_000));
        a.id = ShowId(1);
        let mut b = show(ShowState::Scheduled, Some(5_000));
        b.id = ShowId(2);
        let c = show(ShowState::Ended, Some(4_900));
        let all = [a, b, c];
        assert_eq!(
            Show::pick_scheduled(&all, UnixMillis(4_000), 2_000).map(|s| s.id),
            Some(ShowId(2))
        );
        assert!(Show::pick_scheduled(&all, UnixMillis(100_000), 2_000).is_none());
    }
}
