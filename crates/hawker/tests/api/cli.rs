//! The `hawker` binary itself: `serve`, the admin CLI against it, and a SIGKILL in the middle
//! of a show that loses nothing.

use crate::common;

use common::*;
use std::io::Read;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn serve(data: &Path) -> ServerProcess {
    let server = spawn_server(
        data,
        free_port(),
        &[
            ("HAWKER_MEDIA__GRACE_SECS", "1"),
            ("HAWKER_TRUST__GATE_BROADCASTS", "false"),
        ],
    );
    for _ in 0..100 {
        if get_ok(&format!("{}/readyz", server.http)) {
            return server;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("server did not become ready");
}

/// A small synchronous probe, so these tests need no runtime of their own for readiness.
fn get_ok(url: &str) -> bool {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        reqwest::get(url)
            .await
            .map(|r| r.status().is_success())
            .unwrap_or(false)
    })
}

fn hawker(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hawker"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn admin_cli_creates_channels_and_rotates_keys() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap();
    let mut server = serve(data.path());
    let token = std::fs::read_to_string(data.path().join("admin-token")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.path().join("admin-token"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the admin token is readable by its owner only"
        );
    }

    let out = hawker(&[
        "channel", "create", "farm-one", "--title", "Farm one", "--data", d, "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 8);
    for k in [
        "slug",
        "stream_key",
        "rtmp_url",
        "whip_url",
        "whep_url",
        "studio_url",
        "hls_url",
        "watch_url",
    ] {
        assert!(v[k].is_string(), "{k}: {v}");
    }
    assert_eq!(v["slug"], "farm-one");
    assert_eq!(
        v["rtmp_url"],
        format!("rtmp://127.0.0.1:{}/live", server.rtmp)
    );
    assert_eq!(v["watch_url"], format!("{}/c/farm-one", server.http));
    assert_eq!(v["whip_url"], format!("{}/whip/farm-one", server.http));
    assert_eq!(v["whep_url"], format!("{}/whep/farm-one", server.http));
    assert_eq!(
        v["hls_url"],
        format!("{}/live/farm-one/index.m3u8", server.http)
    );

    let out = hawker(&[
        "channel",
        "rotate-key",
        "farm-one",
        "--data",
        d,
        "--server",
        &server.http,
        "--json",
    ]);
    assert!(out.status.success());
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_ne!(r["stream_key"], v["stream_key"]);

    let out = hawker(&[
        "channel",
        "create",
        "Not A Slug",
        "--title",
        "x",
        "--data",
        d,
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("invalid_field"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = hawker(&["channel", "create", "farm-one", "--title", "x", "--data", d]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("slug_taken"));

    let out = hawker(&["channel", "list", "--data", d]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("farm-one"));

    // A publish with the new key works; the key never appears in full in the log.
    let key = r["stream_key"].as_str().unwrap();
    let mut ff = ffmpeg_publish(&format!("rtmp://127.0.0.1:{}/live/{key}", server.rtmp), 2);
    assert!(ff.wait().unwrap().success());
    let old = v["stream_key"].as_str().unwrap();
    let refused = ffmpeg_publish(&format!("rtmp://127.0.0.1:{}/live/{old}", server.rtmp), 1)
        .wait_with_output()
        .unwrap();
    assert!(!refused.status.success(), "the rotated-away key is refused");
    let _ = server.child.kill();
    let _ = server.child.wait();
    let mut log = String::new();
    std::fs::File::open(&server.log)
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(log.contains("publish accepted"), "{log}");
    assert!(log.contains("publish refused"), "{log}");
    for secret in [key, old, token.trim()] {
        assert!(!log.contains(secret), "a secret reached the log");
    }
    assert!(
        log.contains(&key[..8]),
        "the log names the key by its prefix"
    );
}

#[test]
fn sigkill_mid_show_loses_no_recording() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap();
    let mut server = serve(data.path());
    let out = hawker(&[
        "channel", "create", "auto-max", "--title", "Autohaus", "--data", d, "--json",
    ]);
    // Once failed under the full suite's load with no JSON on stdout: say why if it does again.
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "channel create --json ({}): {e}; stderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let url = format!(
        "rtmp://127.0.0.1:{}/live/{}",
        server.rtmp,
        v["stream_key"].as_str().unwrap()
    );
    let mut ff = ffmpeg_publish(&url, 30);
    std::thread::sleep(Duration::from_millis(5500));
    // No shutdown hook runs: the kernel takes the process away.
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let _ = ff.kill();
    let _ = ff.wait();

    let mut server = serve(data.path());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let shows: serde_json::Value = rt.block_on(async {
        reqwest::get(format!("{}/api/v1/shows?state=ended", server.http))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    let show = &shows[0];
    assert_eq!(
        show["channel"], "auto-max",
        "the interrupted show is ended at restart: {shows}"
    );
    let live: serde_json::Value = rt.block_on(async {
        reqwest::get(format!("{}/api/v1/shows?state=live", server.http))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(live.as_array().unwrap().len(), 0);
    let vod = format!("{}/vod/{}/index.m3u8", server.http, show["id"]);
    let text = rt.block_on(async { reqwest::get(&vod).await.unwrap().text().await.unwrap() });
    let pl =
        hawker_media::hls::validate::validate(&text).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    assert!(pl.ended, "the recording is closed");
    assert!(
        pl.segments.len() >= 2,
        "complete segments written before the kill are kept: {text}"
    );
    let (frames, _) = ffprobe_frames(&vod);
    assert!(frames >= 100, "{frames} frames recovered");
    let _ = server.child.kill();
    let _ = server.child.wait();
}
