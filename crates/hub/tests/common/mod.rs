//! What the hub's tests share.

use hawker_domain::*;
use hawker_storage::{AccountStore, ChannelStore, NewAccount, NewChannel, SqlStore};

/// A streamer, a viewer and the streamer's channel.
pub async fn fixture(store: &SqlStore) -> (Account, Account, Channel) {
    let mk = |email: &str, name: &str, role| NewAccount {
        email: Email::parse(email).unwrap(),
        display_name: DisplayName::parse(name).unwrap(),
        password: PasswordHash::from_stored("x".into()),
        role,
        created_at: UnixMillis(0),
    };
    let host = store
        .create_account(mk("host@farm.example", "Li Wei", Role::Streamer))
        .await
        .unwrap();
    let fan = store
        .create_account(mk("fan@example.com", "Fan", Role::Viewer))
        .await
        .unwrap();
    let channel = store
        .create_channel(NewChannel {
            slug: Slug::parse("li-farm").unwrap(),
            title: "Li's farm".into(),
            owner: host.id,
            stream_key: StreamKey::generate(),
            created_at: UnixMillis(0),
        })
        .await
        .unwrap();
    (host, fan, channel)
}
