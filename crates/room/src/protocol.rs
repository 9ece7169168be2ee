//! The room's wire protocol, version 1: JSON text frames over a WebSocket (or SSE for the
//! downstream half). Every frame has a `t` (type); unknown types and unknown fields are errors,
//! so a client never silently sends something the server ignores.
//!
//! Downstream frames come in three lanes, because one room may have millions of viewers:
//! - **state** (`state`): latest-wins snapshots with a sequence number; a client that falls
//!   behind gets the newest one, never a stale one;
//! - **stream** (`batch`): comments and other events merged every 100–250 ms, sampled when a
//!   room is too busy to read, with a priority lane for hosts, moderators and paid messages;
//! - **counters** (`counters`): likes and viewers, coalesced every 0.5–1 s.

use crate::moderation::RuleViolation;
use serde::{Deserialize, Serialize};

pub const PROTOCOL_VERSION: u32 = 1;
/// Largest client frame accepted; larger ones close the socket with 1009.
pub const MAX_CLIENT_FRAME: usize = 4096;
pub const MAX_COMMENT_CHARS: usize = 200;
pub const MAX_ANNOUNCEMENT_CHARS: usize = 300;

/// What a client may send.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "t", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMsg {
    Comment {
        text: String,
    },
    Like {
        #[serde(default = "one")]
        n: u32,
    },
    /// From the player every few seconds: only sessions that actually play count as viewers.
    Heartbeat {
        playing: bool,
        /// The player's current time, seconds.
        position: f64,
    },
    Ping,
    /// Host or moderator: a message pinned above the chat.
    Announce {
        text: String,
    },
    /// Host or moderator: remove a comment for a rule violation.
    Delete {
        id: u64,
        reason: RuleViolation,
        #[serde(default)]
        note: String,
    },
    Mute {
        account: i64,
        seconds: u32,
        reason: RuleViolation,
    },
    Unmute {
        account: i64,
    },
    Ban {
        account: i64,
        reason: RuleViolation,
    },
    ShadowBan {
        account: i64,
        reason: RuleViolation,
    },
    SlowMode {
        seconds: u32,
    },
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("frame of {0} bytes exceeds {MAX_CLIENT_FRAME}")]
    TooLarge(usize),
    #[error("not a valid message: {0}")]
    Malformed(String),
    #[error("{field} is invalid: {reason}")]
    Invalid { field: &'static str, reason: String },
}

impl ProtocolError {
    /// Stable code for the error frame.
    pub fn code(&self) -> &'static str {
        match self {
            ProtocolError::TooLarge(_) => "frame_too_large",
            ProtocolError::Malformed(_) => "malformed",
            ProtocolError::Invalid { .. } => "invalid_field",
        }
    }
}

/// Decodes and checks a client frame. Never panics, whatever the bytes.
pub fn decode_client(frame: &[u8]) -> Result<ClientMsg, ProtocolError> {
    if frame.len() > MAX_CLIENT_FRAME {
        return Err(ProtocolError::TooLarge(frame.len()));
    }
    let msg: ClientMsg =
        serde_json::from_slice(frame).map_err(|e| ProtocolError::Malformed(e.to_string()))?;
    let invalid = |field, reason: &str| ProtocolError::Invalid {
        field,
        reason: reason.to_string(),
    };
    match &msg {
        ClientMsg::Comment { text } => {
            let n = text.trim().chars().count();
            if n == 0 || n > MAX_COMMENT_CHARS {
                return Err(invalid("text", "a comment is 1 to 200 characters"));
            }
            if text.chars().any(|c| c.is_control() && c != '\n') {
                return Err(invalid("text", "no control characters"));
            }
        }
        ClientMsg::Announce { text } => {
            let n = text.trim().chars().count();
            if n == 0 || n > MAX_ANNOUNCEMENT_CHARS {
                return Err(invalid("text", "an announcement is 1 to 300 characters"));
            }
        }
        ClientMsg::Like { n } if !(1..=50).contains(n) => {
            return Err(invalid("n", "1 to 50 likes at a time"));
        }
        ClientMsg::Heartbeat { position, .. } if !position.is_finite() || *position < 0.0 => {
            return Err(invalid("position", "a non-negative number of seconds"));
        }
        ClientMsg::Mute { seconds, .. } if !(1..=7 * 86_400).contains(seconds) => {
            return Err(invalid("seconds", "1 second to 7 days"));
        }
        ClientMsg::SlowMode { seconds } if *seconds > 3600 => {
            return Err(invalid("seconds", "at most an hour"));
        }
        _ => {}
    }
    Ok(msg)
}

/// A badge shown beside a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Badge {
    Host,
    CoHost,
    Moderator,
    Follower,
    VerifiedBuyer,
}

/// Who someone is in a room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// None for anonymous viewers, who may watch but not write.
    pub account: Option<i64>,
    pub name: String,
    pub badges: Vec<Badge>,
}

impl Member {
    pub fn has(&self, b: Badge) -> bool {
        self.badges.contains(&b)
    }
    /// Host-side people whose messages take the priority lane.
    pub fn is_staff(&self) -> bool {
        self.badges
            .iter()
            .any(|b| matches!(b, Badge::Host | Badge::CoHost | Badge::Moderator))
    }
}

/// What a moderator may do; the host may do everything.
pub use hawker_domain::ModeratorRights as Permissions;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    /// Unique across nodes: the node id in the high bits.
    pub id: u64,
    pub author: Member,
    pub text: String,
    pub at_ms: u64,
    /// Paid messages take the priority lane.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub paid: bool,
}

/// An entry of the stream lane.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum StreamItem {
    Comment(Comment),
    /// A comment removed by a moderator, for a stated rule violation.
    Deleted {
        id: u64,
        reason: RuleViolation,
    },
    Announcement {
        text: String,
        by: String,
    },
    /// A gift or other event the money layer sends into the room.
    Event {
        kind: String,
        by: String,
        detail: String,
    },
}

/// A stream item with its place in the room's sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sequenced {
    pub seq: u64,
    #[serde(flatten)]
    pub item: StreamItem,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShowPhase {
    Scheduled,
    Live,
    Ended,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PinnedProduct {
    pub product_id: i64,
    pub title: String,
    /// Display price, e.g. `¥12.80`; the shop computes it from integer minor units.
    pub price: String,
    /// The organisation that sells it (seller of record), shown on the card.
    pub seller: String,
    #[serde(default)]
    pub image_url: Option<String>,
    /// Paid promotion: shown labelled. Kept for older clients; equals `paid_promotion`.
    #[serde(default)]
    pub sponsored: bool,
    /// Paid promotion (a paid slot, a sponsored showcase entry or product): the card shows
    /// `label`.
    #[serde(default)]
    pub paid_promotion: bool,
    /// The law profile's label ("Ad · paid partnership", "广告"), for paid promotion only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The host stated having used the product.
    #[serde(default)]
    pub host_used: bool,
    /// The host's statement, or the line saying there is none, as the card shows it.
    #[serde(default)]
    pub attestation: String,
    /// While a co-host is on air: whether they stated, themselves, having used the product.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub co_host_used: Option<bool>,
    /// The co-host's statement, or the line saying there is none, while one is on air.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub co_host_attestation: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleState {
    pub sale_id: i64,
    pub product_id: i64,
    pub price: String,
    /// Wall-clock ms when the sale opens (a countdown until then) and closes.
    pub starts_at_ms: u64,
    pub ends_at_ms: u64,
    pub remaining: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Host {
    pub name: String,
    pub badge: Badge,
    /// Virtual or AI hosts are labelled as such.
    #[serde(default)]
    pub virtual_host: bool,
}

/// The state lane: everything a newcomer needs to draw the room.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RoomState {
    pub show_id: Option<i64>,
    pub phase: Option<ShowPhase>,
    pub title: String,
    pub hosts: Vec<Host>,
    pub pinned: Vec<PinnedProduct>,
    pub sale: Option<SaleState>,
    pub announcement: Option<String>,
    pub slow_mode_s: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Counters {
    pub likes: u64,
    /// Sessions connected and playing now, on every node.
    pub viewers: u64,
    pub peak_viewers: u64,
    pub unique_viewers: u64,
}

/// What the server sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
// The welcome is the large one, sent once per join: boxing it would cost every other frame a
// pointer chase for nothing.
#[allow(clippy::large_enum_variant)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum ServerFrame {
    Welcome {
        v: u32,
        you: Member,
        /// Whether `you` may write (an account, not banned).
        can_comment: bool,
        permissions: Option<Permissions>,
        state: RoomState,
        state_seq: u64,
        counters: Counters,
        /// The last comments (join) or everything after the client's `since` (resume).
        history: Vec<Sequenced>,
        /// The room's latest stream sequence number.
        seq: u64,
        /// The sequence space `seq` belongs to: resume with `since=EPOCH:SEQ`.
        epoch: String,
        /// Show it with media requests (`?pt=` on the LL-HLS playlist and parts, or on the
        /// feed): the origin's deliveries are what count this connection as a viewer.
        #[serde(skip_serializing_if = "Option::is_none")]
        playback_token: Option<String>,
        /// True when `history` continues exactly from the client's `since`.
        resumed: bool,
        /// Items the client missed that are no longer available (resume fell too far back).
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<u64>,
    },
    State {
        seq: u64,
        state: RoomState,
    },
    Batch {
        items: Vec<Sequenced>,
        /// Comments left out by sampling since the previous batch.
        #[serde(default, skip_serializing_if = "is_zero")]
        sampled_out: u64,
    },
    /// Only the author sees a shadow-banned author's comment.
    Echo {
        item: StreamItem,
    },
    Counters(Counters),
    Notify {
        kind: String,
        channel: String,
        title: String,
    },
    Pong,
    Error {
        code: String,
        message: String,
    },
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl ServerFrame {
    pub fn error(code: &str, message: impl Into<String>) -> Self {
        ServerFrame::Error {
            code: code.to_string(),
            message: message.into(),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("frames always serialise")
    }
}

/// WebSocket close codes the server uses (4000–4999 are the application's).
pub mod close {
    pub const TOO_LARGE: u16 = 1009;
    pub const POLICY: u16 = 1008;
    pub const BANNED: u16 = 4003;
    pub const NOT_FOUND: u16 = 4004;
    pub const TOO_SLOW: u16 = 4008;
    pub const FLOODING: u16 = 4029;
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decodes_and_validates() {
        assert_eq!(
            decode_client(br#"{"t":"comment","text":"hi"}"#),
            Ok(ClientMsg::Comment { text: "hi".into() })
        );
        assert_eq!(
            decode_client(br#"{"t":"like"}"#),
            Ok(ClientMsg::Like { n: 1 })
        );
        assert_eq!(
            decode_client(br#"{"t":"like","n":0}"#).unwrap_err().code(),
            "invalid_field"
        );
        assert_eq!(
            decode_client(br#"{"t":"dance"}"#).unwrap_err().code(),
            "malformed"
        );
        assert_eq!(
            decode_client(br#"{"t":"comment","text":"hi","x":1}"#)
                .unwrap_err()
                .code(),
            "malformed"
        );
        assert_eq!(
            decode_client(&vec![b' '; 5000]).unwrap_err().code(),
            "frame_too_large"
        );
        let long = format!(r#"{{"t":"comment","text":"{}"}}"#, "x".repeat(201));
        assert_eq!(
            decode_client(long.as_bytes()).unwrap_err().code(),
            "invalid_field"
        );
        assert!(decode_client(br#"{"t":"delete","id":5,"reason":"spam"}"#).is_ok());
        assert!(decode_client(br#"{"t":"delete","id":5,"reason":"i_dislike_it"}"#).is_err());
        assert!(decode_client(br#"{"t":"heartbeat","playing":true,"position":-1}"#).is_err());
    }

    #[test]
    fn frames_round_trip() {
        let f = ServerFrame::Batch {
            items: vec![Sequenced {
                seq: 3,
                item: StreamItem::Deleted {
                    id: 9,
                    reason: RuleViolation::Spam,
                },
            }],
            sampled_out: 0,
        };
        let json = f.to_json();
        assert_eq!(
            json,
            r#"{"t":"batch","items":[{"seq":3,"k":"deleted","id":9,"reason":"spam"}]}"#
        );
        assert_eq!(serde_json::from_str::<ServerFrame>(&json).unwrap(), f);
    }

    proptest! {
        #[test]
        fn decoder_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
            let _ = decode_client(&bytes);
        }

        #[test]
        fn decoder_never_panics_on_near_misses(t in "(comment|like|heartbeat|ping|announce|delete|mute|ban|shadow_ban|slow_mode|unmute)", body in ".{0,80}") {
            let _ = decode_client(format!(r#"{{"t":"{t}",{body}}}"#).as_bytes());
            let _ = decode_client(format!(r#"{{"t":"{t}"}}"#).as_bytes());
        }
    }
}
