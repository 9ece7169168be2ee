//! Rooms shared across nodes: two hubs on one bus, a viewer on each; what is said on one
//! node is seen on the other. Against the in-process bus and a real nats-server.

use hawker_domain::*;
use hawker_hub::outbox::Next;
use hawker_hub::{Bus, HubConfig, InProcessBus, NatsBus, RoomHub, Visitor};
use hawker_room::protocol::{ClientMsg, ServerFrame, StreamItem};
use hawker_storage::{RoomStore, Store};
use std::sync::Arc;
use std::time::Duration;

mod common;
use common::fixture;

async fn next_frame(o: &hawker_hub::outbox::Outbox) -> ServerFrame {
    match tokio::time::timeout(Duration::from_secs(5), o.next())
        .await
        .expect("a frame within 5 s")
    {
        Next::Frame(f) => serde_json::from_str(&f).unwrap(),
        Next::Close(code, reason) => panic!("closed {code} {reason}"),
    }
}

async fn wait_for<F: Fn(&ServerFrame) -> bool>(
    o: &hawker_hub::outbox::Outbox,
    f: F,
) -> ServerFrame {
    loop {
        let frame = next_frame(o).await;
        if f(&frame) {
            return frame;
        }
    }
}

fn visitor(a: Option<&Account>) -> Visitor {
    Visitor {
        account: a.cloned(),
        anon_id: None,
        ip: "127.0.0.1".into(),
    }
}

async fn two_nodes_share_a_room(bus_a: Arc<dyn Bus>, bus_b: Arc<dyn Bus>) {
    let (store, _dir) = hawker_storage::testing::sqlite_store().await;
    let store = Arc::new(store);
    let (host, fan, channel) = fixture(&store).await;
    let a = RoomHub::start(
        HubConfig {
            node: 1,
            ..Default::default()
        },
        bus_a,
        store.clone() as Arc<dyn Store>,
    )
    .await
    .unwrap();
    let b = RoomHub::start(
        HubConfig {
            node: 2,
            ..Default::default()
        },
        bus_b,
        store.clone() as Arc<dyn Store>,
    )
    .await
    .unwrap();

    let viewer = a.join(&channel, visitor(Some(&host)), None).await.unwrap();
    assert!(matches!(
        next_frame(&viewer.outbox).await,
        ServerFrame::Welcome { .. }
    ));
    let writer = b.join(&channel, visitor(Some(&fan)), None).await.unwrap();
    assert!(matches!(
        next_frame(&writer.outbox).await,
        ServerFrame::Welcome { .. }
    ));
    // NATS subscriptions settle asynchronously: say it until it is heard (bounded).
    let mut heard = false;
    for i in 0..20 {
        writer.send(ClientMsg::Comment {
            text: format!("hello from node b #{i}"),
        });
        let got = tokio::time::timeout(
            Duration::from_millis(500),
            wait_for(&viewer.outbox, |f| matches!(f, ServerFrame::Batch { .. })),
        )
        .await;
        if let Ok(ServerFrame::Batch { items, .. }) = got {
            if items.iter().any(|i| matches!(&i.item, StreamItem::Comment(c) if c.text.starts_with("hello from node b") && c.author.name == "Fan")) {
                heard = true;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(1100)).await; // stay under the comment rate limit
    }
    assert!(heard, "a viewer on node a sees a comment sent on node b");

    // A state change on node a reaches node b's viewers.
    a.set_state(
        &channel,
        hawker_room::room::StateChange::Pinned(vec![hawker_room::protocol::PinnedProduct {
            product_id: 1,
            title: "Peaches, 5 kg".into(),
            price: "¥68.00".into(),
            seller: "Li Wei's orchard".into(),
            image_url: None,
            sponsored: false,
            ..Default::default()
        }]),
    )
    .await
    .unwrap();
    let f = wait_for(&writer.outbox, |f| matches!(f, ServerFrame::State { .. })).await;
    assert!(
        matches!(f, ServerFrame::State { state, .. } if state.pinned[0].title == "Peaches, 5 kg")
    );

    // Following a channel: going live notifies followers on every node.
    store
        .follow(fan.id, channel.id, UnixMillis(1))
        .await
        .unwrap();
    b.follow_changed(fan.id.0, channel.id, true);
    a.announce_live(&channel, "Harvest day").await.unwrap();
    let f = wait_for(&writer.outbox, |f| matches!(f, ServerFrame::Notify { .. })).await;
    assert!(matches!(f, ServerFrame::Notify { channel, .. } if channel == "li-farm"));

    // The comments are stored for retention.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let log = store.comments_of_show(ShowId(0), 10).await.unwrap();
    assert!(
        log.is_empty(),
        "no show was live: comments carry no show id"
    );
    drop(viewer);
    drop(writer);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_the_in_process_bus() {
    let bus: Arc<dyn Bus> = Arc::new(InProcessBus::default());
    two_nodes_share_a_room(bus.clone(), bus).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_a_real_nats_server() {
    let url =
        std::env::var("HAWKER_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    let connect = |u: String| async move {
        NatsBus::connect(&u)
            .await
            .unwrap_or_else(|e| panic!("nats-server is required at {u} ({e}); .ci/run starts one"))
    };
    let a: Arc<dyn Bus> = Arc::new(connect(url.clone()).await);
    let b: Arc<dyn Bus> = Arc::new(connect(url).await);
    two_nodes_share_a_room(a, b).await;
}
