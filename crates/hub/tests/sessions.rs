//! Viewer sessions reach storage: a player that advances is recorded counted with the time it
//! played, a socket that never plays uncounted with none; sessions end when the connection
//! goes, when the show ends (the record keeps the show that ended) and when the hub stops.

use hawker_domain::*;
use hawker_hub::outbox::Next;
use hawker_hub::{HubConfig, InProcessBus, RoomHub, Visitor};
use hawker_room::protocol::{ClientMsg, ServerFrame};
use hawker_storage::{NewShow, RoomStore, ShowStore, SqlStore, Store, ViewerSessionRow};
use std::sync::Arc;
use std::time::Duration;

mod common;
use common::fixture;

async fn welcomed(c: &hawker_hub::Connection) {
    match tokio::time::timeout(Duration::from_secs(5), c.outbox.next())
        .await
        .expect("a frame within 5 s")
    {
        Next::Frame(f) => assert!(matches!(
            serde_json::from_str(&f).unwrap(),
            ServerFrame::Welcome { .. }
        )),
        Next::Close(code, reason) => panic!("closed {code} {reason}"),
    }
}

async fn sessions_of(store: &SqlStore, show: ShowId, n: usize) -> Vec<ViewerSessionRow> {
    for _ in 0..100 {
        let got = store.viewer_sessions_of_show(show, 100).await.unwrap();
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{n} sessions of {show} were not stored within 5 s");
}

fn visitor(account: Option<&Account>, anon: &str) -> Visitor {
    Visitor {
        account: account.cloned(),
        anon_id: Some(anon.into()),
        ip: "127.0.0.1".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewer_sessions_are_stored_when_they_end() {
    let (store, _dir) = hawker_storage::testing::sqlite_store().await;
    let store = Arc::new(store);
    let (_host, fan, channel) = fixture(&store).await;
    let live = |title: &str| NewShow {
        channel: channel.id,
        title: title.into(),
        state: ShowState::Live,
        scheduled_at: None,
        started_at: Some(UnixMillis::now()),
    };
    let show = store.create_show(live("Harvest")).await.unwrap();
    let hub = RoomHub::start(
        HubConfig::default(),
        Arc::new(InProcessBus::default()),
        store.clone() as Arc<dyn Store>,
    )
    .await
    .unwrap();

    let player = hub
        .join(&channel, visitor(Some(&fan), "p"), None)
        .await
        .unwrap();
    let socket = hub.join(&channel, visitor(None, "s"), None).await.unwrap();
    let stayer = hub.join(&channel, visitor(None, "t"), None).await.unwrap();
    for c in [&player, &socket, &stayer] {
        welcomed(c).await;
    }
    let started = UnixMillis::now();
    for k in 0..3 {
        player.send(ClientMsg::Heartbeat {
            playing: true,
            position: k as f64 * 0.3,
        });
        // The origin delivers it media (the playlist with its token at the live edge).
        hub.media_delivered(channel.id, &player.playback_token);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    drop(player);
    drop(socket);
    let got = sessions_of(&store, show.id, 2).await;
    let (played, silent) = if got[0].account.is_some() {
        (&got[0], &got[1])
    } else {
        (&got[1], &got[0])
    };
    assert_eq!(played.account, Some(fan.id));
    assert!(played.counted, "{played:?}");
    assert_eq!(
        played.evidence.media_deliveries, 1,
        "at most one a second is passed on"
    );
    assert_eq!(played.evidence.heartbeats, 3);
    assert_eq!(played.evidence.network, "127.0.0.0/24");
    assert!(
        played.played_ms >= 300 && played.played_ms <= 600,
        "two advances of 0.3 s: {played:?}"
    );
    assert!(played.left_at.0 >= started.0 + 800, "{played:?}");
    assert_eq!(played.channel, channel.id);
    assert_eq!(silent.account, None);
    assert!(!silent.counted && silent.played_ms == 0, "{silent:?}");

    // The show ends: the stayer's session is recorded for the show that ended.
    let mut ended = show.clone();
    (ended.state, ended.ended_at) = (ShowState::Ended, Some(UnixMillis::now()));
    store.save_show(&ended, ShowState::Live).await.unwrap();
    hub.show_changed(&channel, show.id, ShowState::Ended, "Harvest")
        .await;
    let got = sessions_of(&store, show.id, 3).await;
    assert!(got.iter().all(|s| s.show == show.id));
    drop(stayer);

    // The next show; the hub stops while a viewer is still there.
    let next = store.create_show(live("Harvest, day two")).await.unwrap();
    hub.show_changed(&channel, next.id, ShowState::Live, "Harvest, day two")
        .await;
    let late = hub.join(&channel, visitor(None, "u"), None).await.unwrap();
    welcomed(&late).await;
    hub.shutdown();
    let got = sessions_of(&store, next.id, 1).await;
    assert_eq!(got.len(), 1);
    assert!(!got[0].counted);
    assert_eq!(
        store
            .viewer_sessions_of_show(show.id, 100)
            .await
            .unwrap()
            .len(),
        3,
        "the stayer's later part is not the first show's"
    );
    drop(late);
}
