//! What moderators of a channel may do, and the sanctions a room can impose.

use serde::{Deserialize, Serialize};

/// A channel moderator's rights; the channel's owner (the host) has all of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModeratorRights {
    /// Pin and unpin products in the showcase.
    pub pin: bool,
    pub mute: bool,
    pub ban: bool,
    /// Remove comments that break the rules.
    pub delete: bool,
    pub announce: bool,
}

impl ModeratorRights {
    pub const ALL: ModeratorRights = ModeratorRights {
        pin: true,
        mute: true,
        ban: true,
        delete: true,
        announce: true,
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SanctionKind {
    Mute,
    Ban,
    /// Comments are shown to their author only.
    ShadowBan,
}

impl SanctionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SanctionKind::Mute => "mute",
            SanctionKind::Ban => "ban",
            SanctionKind::ShadowBan => "shadow_ban",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "mute" => Some(SanctionKind::Mute),
            "ban" => Some(SanctionKind::Ban),
            "shadow_ban" => Some(SanctionKind::ShadowBan),
            _ => None,
        }
    }
}
