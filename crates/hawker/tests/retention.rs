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
