//! Rows as the database returns them, and their checked conversion into domain types: a row
//! that breaks a domain rule is reported as corrupt, never unwrapped.

use crate::sql::corrupt;
use crate::{Recording, Result};
use hawker_domain::{
    Account, AccountId, Channel, ChannelId, DisplayName, Email, PasswordHash, Role, Show, ShowId,
    ShowState, Slug, StreamKey, UnixMillis,
};

#[derive(sqlx::FromRow)]
pub(crate) struct AccountRow {
    id: i64,
    email: String,
    display_name: String,
    password_hash: String,
    role: String,
    created_at: i64,
}

impl AccountRow {
    pub(crate) fn into_domain(self) -> Result<Account> {
        Ok(Account {
            id: AccountId(self.id),
            email: Email::parse(&self.email).map_err(|e| corrupt("account email", e))?,
            display_name: DisplayName::parse(&self.display_name)
                .map_err(|e| corrupt("display name", e))?,
            password: PasswordHash::from_stored(self.password_hash),
            role: Role::parse(&self.role).ok_or_else(|| corrupt("role", &self.role))?,
            created_at: UnixMillis(self.created_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ChannelRow {
    id: i64,
    slug: String,
    title: String,
    owner_id: i64,
    stream_key: String,
    created_at: i64,
}

impl ChannelRow {
    pub(crate) fn into_domain(self) -> Result<Channel> {
        Ok(Channel {
            id: ChannelId(self.id),
            slug: Slug::parse(&self.slug).map_err(|e| corrupt("slug", e))?,
            title: self.title,
            owner: AccountId(self.owner_id),
            stream_key: StreamKey::from_presented(&self.stream_key)
                .ok_or_else(|| corrupt("stream key", "malformed"))?,
            created_at: UnixMillis(self.created_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ShowRow {
    id: i64,
    channel_id: i64,
    title: String,
    state: String,
    scheduled_at: Option<i64>,
    started_at: Option<i64>,
    ended_at: Option<i64>,
}

impl ShowRow {
    pub(crate) fn into_domain(self) -> Result<Show> {
        Ok(Show {
            id: ShowId(self.id),
            channel: ChannelId(self.channel_id),
            title: self.title,
            state: ShowState::parse(&self.state)
                .ok_or_else(|| corrupt("show state", &self.state))?,
            scheduled_at: self.scheduled_at.map(UnixMillis),
            started_at: self.started_at.map(UnixMillis),
            ended_at: self.ended_at.map(UnixMillis),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct RecordingRow {
    show_id: i64,
    dir: String,
    bytes: i64,
    duration_ms: i64,
    segments: i64,
    complete: i64,
    updated_at: i64,
}

impl RecordingRow {
    pub(crate) fn into_domain(self) -> Recording {
        Recording {
            show: ShowId(self.show_id),
            dir: self.dir,
            bytes: self.bytes,
            duration_ms: self.duration_ms,
            segments: self.segments,
            complete: self.complete != 0,
            updated_at: UnixMillis(self.updated_at),
        }
    }
}
