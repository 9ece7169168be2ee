//! Organisations (merchants), their stores and staff.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgRole {
    Owner,
    Manager,
    /// Streams from their store and sells its stock.
    StaffStreamer,
    /// Packs and ships orders.
    Fulfilment,
}

impl OrgRole {
    pub fn as_str(self) -> &'static str {
        match self {
            OrgRole::Owner => "owner",
            OrgRole::Manager => "manager",
            OrgRole::StaffStreamer => "staff_streamer",
            OrgRole::Fulfilment => "fulfilment",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "owner" => Some(OrgRole::Owner),
            "manager" => Some(OrgRole::Manager),
            "staff_streamer" => Some(OrgRole::StaffStreamer),
            "fulfilment" => Some(OrgRole::Fulfilment),
            _ => None,
        }
    }
    pub fn manages_catalog(self) -> bool {
        matches!(self, OrgRole::Owner | OrgRole::Manager)
    }
    pub fn sells(self) -> bool {
        matches!(
            self,
            OrgRole::Owner | OrgRole::Manager | OrgRole::StaffStreamer
        )
    }
    pub fn fulfils(self) -> bool {
        matches!(
            self,
            OrgRole::Owner | OrgRole::Manager | OrgRole::Fulfilment
        )
    }
    pub fn manages_staff(self) -> bool {
        matches!(self, OrgRole::Owner)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    Business,
    /// One person selling for themselves (the farmer).
    Individual,
}

impl OrgKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::Business => "business",
            OrgKind::Individual => "individual",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "business" => Some(OrgKind::Business),
            "individual" => Some(OrgKind::Individual),
            _ => None,
        }
    }
}
