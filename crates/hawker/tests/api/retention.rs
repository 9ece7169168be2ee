//! Retention: recordings past their retention period, or beyond the disk cap, leave the disk
//! and the database; younger ones stay.

use hawker::config::RecordingConfig;
use hawker_domain::*;
use hawker_storage::{
    AccountStore, ChannelStore, NewAccount, NewChannel, NewShow, Recording, ShowStore,
};

#[tokio::test]
async fn old_recordings_are_deleted_and_recent_ones_kept() {
    let (store, dir) = hawker_storage::testing::sqlite_store().await;
    let a = store
        .create_account(NewAccount {
            email: Email::parse("li@farm.example").unwrap(),
            display_name: DisplayName::parse("Li").unwrap(),
            password: PasswordHash::from_stored("x".into()),
            role: Role::Streamer,
            created_at: UnixMillis(0),
        })
        .await
        .unwrap();
    let c = store
        .create_channel(NewChannel {
            slug: Slug::parse("li-farm").unwrap(),
            title: "t".into(),
            owner: a.id,
            stream_key: StreamKey::generate(),
            created_at: UnixMillis(0),
        })
        .await
        .unwrap();
    let now = UnixMillis::now();
    let mut recs = Vec::new();
    for (i, days_ago) in [400i64, 10, 1].into_iter().enumerate() {
        let ended = now.plus_ms(-days_ago * 86_400_000);
        let mut show = store
            .create_show(NewShow {
                channel: c.id,
                title: format!("show {i}"),
                state: ShowState::Scheduled,
                scheduled_at: Some(ended),
                started_at: None,
            })
            .await
            .unwrap();
        show.go_live(ended.plus_ms(-3_600_000)).unwrap();
        store.save_show(&show, ShowState::Scheduled).await.unwrap();
        show.end(ended).unwrap();
        store.save_show(&show, ShowState::Live).await.unwrap();
        let rdir = dir.path().join(format!("rec{i}"));
        std::fs::create_dir_all(&rdir).unwrap();
        std::fs::write(rdir.join("seg0.m4s"), vec![0u8; 1000]).unwrap();
        let rec = Recording {
            show: show.id,
            dir: rdir.to_string_lossy().into_owned(),
            bytes: 1000,
            duration_ms: 2000,
            segments: 1,
            complete: true,
            updated_at: now,
        };
        store.upsert_recording(&rec).await.unwrap();
        recs.push(rec);
    }
    // A year of retention: the 400-day-old recording goes.
    let cfg = RecordingConfig {
        retention_days: 365,
        ..Default::default()
    };
    hawker::jobs::run_once(&store, &cfg).await.unwrap();
    assert!(store.recording(recs[0].show).await.unwrap().is_none());
    assert!(!std::path::Path::new(&recs[0].dir).exists());
    assert!(store.recording(recs[1].show).await.unwrap().is_some());
    // A disk cap of 1500 bytes: the oldest of the remaining two goes too.
    let cfg = RecordingConfig {
        retention_days: 365,
        max_bytes: 1500,
        ..Default::default()
    };
    hawker::jobs::run_once(&store, &cfg).await.unwrap();
    assert!(store.recording(recs[1].show).await.unwrap().is_none());
    assert!(store.recording(recs[2].show).await.unwrap().is_some());
    assert!(std::path::Path::new(&recs[2].dir).exists());
}

/// `[retention]` in days, counted back from now: chat older than `room_days` and access lines
/// older than `access_days` go, younger ones stay; the defaults keep three years and 60 days.
#[tokio::test]
async fn retention_days_are_counted_back_from_now() {
    use hawker::config::RetentionConfig;
    use hawker_storage::retention::AccessLine;
    use hawker_storage::{RetentionStore, RoomStore, StoredComment};
    let (store, _dir) = hawker_storage::testing::sqlite_store().await;
    let a = store
        .create_account(NewAccount {
            email: Email::parse("li@farm.example").unwrap(),
            display_name: DisplayName::parse("Li").unwrap(),
            password: PasswordHash::from_stored("x".into()),
            role: Role::Streamer,
            created_at: UnixMillis(0),
        })
        .await
        .unwrap();
    let c = store
        .create_channel(NewChannel {
            slug: Slug::parse("li-farm").unwrap(),
            title: "t".into(),
            owner: a.id,
            stream_key: StreamKey::generate(),
            created_at: UnixMillis(0),
        })
        .await
        .unwrap();
    let show = store
        .create_show(NewShow {
            channel: c.id,
            title: "show".into(),
            state: ShowState::Scheduled,
            scheduled_at: None,
            started_at: None,
        })
        .await
        .unwrap();
    let now = UnixMillis::now();
    let days_ago = |d: i64| now.plus_ms(-d * 86_400_000);
    let comment = |id: i64, at: UnixMillis| StoredComment {
        id,
        channel: c.id,
        show: Some(show.id),
        account: a.id,
        author_name: "Li".into(),
        text: "hello".into(),
        at,
        shadow: false,
        deleted_reason: None,
    };
    // 3 × 366 days is the default: a day beyond goes, a day short stays.
    store
        .save_comments(&[comment(1, days_ago(1099)), comment(2, days_ago(1097))])
        .await
        .unwrap();
    let line = |at: UnixMillis| AccessLine {
        at,
        account: None,
        ip: "127.0.0.1".into(),
        method: "GET".into(),
        route: "/api/v1/shows".into(),
        status: 200,
    };
    store
        .append_access_log(&[line(days_ago(61)), line(days_ago(59))])
        .await
        .unwrap();
    let cfg = RetentionConfig::default();
    let pruned = hawker::jobs::run_retention(&store, &cfg, now)
        .await
        .unwrap();
    assert_eq!((pruned.comments, pruned.access), (1, 1));
    let chat: Vec<i64> = store
        .comments_of_show(show.id, 10)
        .await
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(chat, [2]);
    assert_eq!(store.access_log(10).await.unwrap().len(), 1);
    // A shorter configuration takes the rest.
    let cfg = RetentionConfig {
        room_days: 30,
        access_days: 1,
        ..Default::default()
    };
    let pruned = hawker::jobs::run_retention(&store, &cfg, now)
        .await
        .unwrap();
    assert_eq!((pruned.comments, pruned.access), (1, 1));
}
