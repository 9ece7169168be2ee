//! `hawker backup` and `hawker restore` with the real binary: a backup taken while the server
//! runs and a show is live restores into another data directory, where the account logs in,
//! the channel, media and secrets are back and both recordings play; a restore never replaces
//! an installation without --force nor writes under a running server; a damaged backup is
//! refused before anything is written; PostgreSQL installations are told to use pg_dump.

use crate::common;

use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

const ENV: [(&str, &str); 2] = [
    ("HAWKER_MEDIA__GRACE_SECS", "1"),
    ("HAWKER_TRUST__GATE_BROADCASTS", "false"),
];

fn hawker(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hawker"))
        .args(args)
        .envs(env.iter().copied())
        // The repository's own hawker.toml, if any, must not leak in.
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn refused(out: &Output, says: &str) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "expected a refusal saying {says:?}; stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(err.contains(says), "expected {says:?} in: {err}");
    err
}

async fn serve(data: &Path) -> ServerProcess {
    let s = spawn_server(data, free_port(), &ENV);
    wait_ready(&s.http).await;
    s
}

fn stop(mut s: ServerProcess) {
    let _ = s.child.kill();
    let _ = s.child.wait();
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

async fn shows(base: &str, state: &str) -> Vec<Value> {
    let v: Value = reqwest::get(format!("{base}/api/v1/shows?state={state}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v.as_array().cloned().unwrap_or_default()
}

/// The show's VOD playlist plays: closed, with segments the server serves.
async fn plays(base: &str, show: i64) {
    let text = reqwest::get(format!("{base}/vod/{show}/index.m3u8"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let pl =
        hawker_media::hls::validate::validate(&text).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    assert!(pl.ended, "the recording of show {show} is closed: {text}");
    assert!(!pl.segments.is_empty(), "show {show} has segments: {text}");
    for seg in text.lines().filter(|l| l.ends_with(".m4s")) {
        let r = reqwest::get(format!("{base}/vod/{show}/{seg}"))
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "show {show}: {seg}");
    }
}

fn copy_tree(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            copy_tree(&e.path(), &to.join(e.file_name()));
        }
    } else {
        std::fs::copy(from, to).unwrap();
    }
}

fn flip_byte(p: &Path, at: usize) {
    let mut b = std::fs::read(p).unwrap();
    b[at] ^= 0x20;
    std::fs::write(p, b).unwrap();
}

/// A copy of the archive `from` with one byte of `entry`'s content flipped (a valid gzip'd tar).
fn damage_in_archive(from: &Path, to: &Path, entry: &str) {
    use std::io::{Read, Write};
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(from).unwrap())
        .read_to_end(&mut raw)
        .unwrap();
    let at = tar::Archive::new(raw.as_slice())
        .entries()
        .unwrap()
        .map(|e| e.unwrap())
        .find(|e| e.path().unwrap().to_string_lossy() == entry)
        .map(|e| e.raw_file_position() as usize)
        .expect("the entry is in the archive");
    raw[at + 100] ^= 0x20;
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(to).unwrap(),
        flate2::Compression::fast(),
    );
    gz.write_all(&raw).unwrap();
    gz.finish().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn backup_while_live_restores_elsewhere_and_refuses_what_it_must() {
    let dir_d = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let d = dir_d.path();
    let ds = d.to_str().unwrap();
    let w = work.path();
    let server = serve(d).await;
    let base = server.http.clone();

    // An account, a channel (made with the admin token) and some media.
    let buyer = browser();
    sign_up(&buyer, &base, "keeper@buyers.example", "viewer").await;
    let admin = std::fs::read_to_string(d.join("admin-token")).unwrap();
    let admin = admin.trim().to_string();
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/channels"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({ "slug": "kept-farm", "title": "Kept farm" }))
        .send()
        .await
        .unwrap();
    let channel = json_ok(r).await;
    std::fs::create_dir_all(d.join("images")).unwrap();
    let image: Vec<u8> = (0..50_000u32).map(|i| (i % 241) as u8).collect();
    std::fs::write(d.join("images/7-00000000000000aa.png"), &image).unwrap();
    std::fs::create_dir_all(d.join("identity-documents")).unwrap();
    std::fs::write(
        d.join("identity-documents/3-doc.jpg"),
        b"\xff\xd8 a document",
    )
    .unwrap();

    // A finished show with its recording, then a second show, live while the backups run.
    let url = publish_url(&channel);
    assert!(ffmpeg_publish(&url, 3).wait().unwrap().success());
    let first = wait_until("the first show ended", Duration::from_secs(20), || {
        let base = base.clone();
        async move { shows(&base, "ended").await.first().cloned() }
    })
    .await;
    let first = first["id"].as_i64().unwrap();
    let mut live = ffmpeg_publish(&url, 12);
    let second = wait_until("the second show live", Duration::from_secs(20), || {
        let base = base.clone();
        async move { shows(&base, "live").await.first().cloned() }
    })
    .await;
    let second = second["id"].as_i64().unwrap();
    tokio::time::sleep(Duration::from_millis(4500)).await;
    std::fs::write(
        d.join(format!("recordings/{second}/seg99.tmp")),
        b"half-written",
    )
    .unwrap();

    let archive = w.join("backups/live.tar.gz");
    let out = hawker(
        &["backup", "--data", ds, "--out", archive.to_str().unwrap()],
        &[],
    );
    let said = ok(&out);
    assert!(said.contains("backup written to"), "{said}");
    let folder = w.join("folder");
    ok(&hawker(
        &["backup", "--data", ds, "--out", folder.to_str().unwrap()],
        &[],
    ));
    // Never over an existing backup.
    refused(
        &hawker(
            &["backup", "--data", ds, "--out", folder.to_str().unwrap()],
            &[],
        ),
        "already exists",
    );

    let manifest: Value =
        serde_json::from_slice(&std::fs::read(folder.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["kind"], "hawker-backup");
    assert_eq!(manifest["hawker_version"], env!("CARGO_PKG_VERSION"));
    assert!(manifest["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(manifest["database"]["schema_version"].as_i64().unwrap() >= 17);
    let files = manifest["files"].as_array().unwrap();
    let paths: Vec<&str> = files.iter().map(|f| f["path"].as_str().unwrap()).collect();
    for p in [
        "hawker.db",
        "admin-token",
        "admin-password",
        "identity-hash.secret",
        "sandbox-webhook.secret",
        "images/7-00000000000000aa.png",
        "identity-documents/3-doc.jpg",
    ] {
        assert!(paths.contains(&p), "{p} in {paths:?}");
    }
    assert!(paths.contains(&format!("recordings/{first}/index.m3u8").as_str()));
    assert!(paths.contains(&format!("recordings/{second}/index.m3u8").as_str()));
    assert!(
        !paths
            .iter()
            .any(|p| p.ends_with(".tmp") || p.contains("server")),
        "no write in progress, no server.json or log: {paths:?}"
    );
    assert!(manifest["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["path"] == format!("recordings/{second}/seg99.tmp")));
    for f in files {
        assert_eq!(f["sha256"].as_str().unwrap().len(), 64);
        let on_disk = std::fs::metadata(folder.join(f["path"].as_str().unwrap())).unwrap();
        assert_eq!(on_disk.len(), f["bytes"].as_u64().unwrap());
    }
    #[cfg(unix)]
    {
        assert_eq!(mode(&archive), 0o600, "the archive holds secrets");
        assert_eq!(mode(&folder), 0o700);
        for s in ["admin-token", "admin-password", "identity-hash.secret"] {
            assert_eq!(mode(&folder.join(s)), 0o600, "{s}");
        }
    }

    // Not under a running server, not over an installation without --force.
    let a = archive.to_str().unwrap();
    refused(
        &hawker(&["restore", "--from", a, "--data", ds, "--force"], &[]),
        "stop the server first",
    );
    stop(server);
    let _ = live.kill();
    let _ = live.wait();
    refused(
        &hawker(&["restore", "--from", a, "--data", ds], &[]),
        "--force",
    );

    // A damaged backup is refused before anything is written.
    let damaged = w.join("damaged");
    copy_tree(&folder, &damaged);
    let db_len = std::fs::metadata(damaged.join("hawker.db")).unwrap().len() as usize;
    flip_byte(&damaged.join("hawker.db"), db_len / 2);
    let untouched = w.join("untouched");
    let err = refused(
        &hawker(
            &[
                "restore",
                "--from",
                damaged.to_str().unwrap(),
                "--data",
                untouched.to_str().unwrap(),
            ],
            &[],
        ),
        "checksum mismatch",
    );
    assert!(err.contains("hawker.db"), "{err}");
    assert!(!untouched.exists(), "nothing written");
    let damaged_archive = w.join("damaged.tar.gz");
    damage_in_archive(&archive, &damaged_archive, "images/7-00000000000000aa.png");
    refused(
        &hawker(
            &[
                "restore",
                "--from",
                damaged_archive.to_str().unwrap(),
                "--data",
                untouched.to_str().unwrap(),
            ],
            &[],
        ),
        "images/7-00000000000000aa.png: checksum mismatch",
    );
    assert!(!untouched.exists(), "nothing written");

    // The original is gone; the archive restores elsewhere.
    drop(dir_d);
    let e = w.join("restored");
    let es = e.to_str().unwrap();
    let said = ok(&hawker(&["restore", "--from", a, "--data", es], &[]));
    assert!(said.contains("hawker serve --data"), "{said}");
    assert_eq!(
        std::fs::read(e.join("images/7-00000000000000aa.png")).unwrap(),
        image
    );
    assert!(e.join("identity-documents/3-doc.jpg").is_file());
    assert!(!e.join(format!("recordings/{second}/seg99.tmp")).exists());
    assert_eq!(
        std::fs::read_to_string(e.join("admin-token"))
            .unwrap()
            .trim(),
        admin
    );
    #[cfg(unix)]
    for s in [
        "admin-token",
        "admin-password",
        "identity-hash.secret",
        "sandbox-webhook.secret",
    ] {
        assert_eq!(mode(&e.join(s)), 0o600, "{s} keeps owner-only permissions");
    }
    assert!(
        !std::fs::read_dir(&e).unwrap().any(|x| x
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with(".restore")),
        "no staging left behind"
    );

    let server = serve(&e).await;
    let base = server.http.clone();
    let c = browser();
    let r = post(
        &c,
        format!("{base}/api/v1/sessions"),
        serde_json::json!({ "email": "keeper@buyers.example", "password": "correct horse battery" }),
    )
    .await;
    json_ok(r).await;
    let ch = json_ok(
        reqwest::get(format!("{base}/api/v1/channels/kept-farm"))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ch["title"], "Kept farm");
    // The admin token of the backup works against the restored server.
    let r = reqwest::Client::new()
        .get(format!("{base}/api/v1/channels?limit=10"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Both recordings play: the finished one, and the live one, closed at start as after a crash.
    assert!(shows(&base, "live").await.is_empty());
    plays(&base, first).await;
    plays(&base, second).await;
    // The restored database points at the restored recordings (the old ones are gone): the
    // regulator's export of the finished show carries its files.
    let r = reqwest::Client::new()
        .get(format!("{base}/api/v1/admin/shows/{first}/export"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(bytes.as_ref()));
    let names: Vec<String> = tar
        .entries()
        .unwrap()
        .map(|x| x.unwrap().path().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().any(|n| n.ends_with("/recording/index.m3u8")),
        "{names:?}"
    );

    // Over a running installation: refused even with --force; stopped, --force replaces it and
    // keeps what it replaced.
    let f = folder.to_str().unwrap();
    refused(
        &hawker(&["restore", "--from", f, "--data", es], &[]),
        "stop the server first",
    );
    refused(
        &hawker(&["restore", "--from", f, "--data", es, "--force"], &[]),
        "is open in another process",
    );
    stop(server);
    let said = ok(&hawker(
        &["restore", "--from", f, "--data", es, "--force"],
        &[],
    ));
    assert!(said.contains("before-restore-"), "{said}");
    let aside: Vec<_> = std::fs::read_dir(&e)
        .unwrap()
        .map(|x| x.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("before-restore-")
        })
        .collect();
    assert_eq!(aside.len(), 1);
    assert!(aside[0].join("hawker.db").is_file());
    assert!(aside[0].join("admin-token").is_file());
    let server = serve(&e).await;
    json_ok(
        reqwest::get(format!("{}/api/v1/channels/kept-farm", server.http))
            .await
            .unwrap(),
    )
    .await;
    stop(server);
}

#[test]
fn postgres_installations_are_pointed_to_pg_dump() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    std::fs::create_dir_all(d.join("images")).unwrap();
    std::fs::write(d.join("images/1-a.png"), b"\x89PNG image").unwrap();
    std::fs::write(d.join("admin-token"), "token\n").unwrap();
    let pg = [(
        "HAWKER_STORAGE__URL",
        "postgres://hawker:pw@127.0.0.1:1/hawker",
    )];
    let out = d.join("out.tar.gz");
    let ds = d.to_str().unwrap();
    let err = refused(
        &hawker(
            &["backup", "--data", ds, "--out", out.to_str().unwrap()],
            &pg,
        ),
        "pg_dump",
    );
    assert!(err.contains("pg_basebackup"), "{err}");
    assert!(err.contains("--media-only"), "{err}");
    assert!(
        !err.contains(":pw@"),
        "the URL's password is not printed: {err}"
    );
    assert!(!out.exists());

    // The media and secrets alone.
    ok(&hawker(
        &[
            "backup",
            "--data",
            ds,
            "--out",
            out.to_str().unwrap(),
            "--media-only",
        ],
        &pg,
    ));
    let restored = d.join("restored");
    ok(&hawker(
        &[
            "restore",
            "--from",
            out.to_str().unwrap(),
            "--data",
            restored.to_str().unwrap(),
        ],
        &pg,
    ));
    assert_eq!(
        std::fs::read(restored.join("images/1-a.png")).unwrap(),
        b"\x89PNG image"
    );
    assert!(!restored.join("hawker.db").exists());
    // --media-only needs no database on SQLite either.
    let folder = d.join("folder");
    ok(&hawker(
        &[
            "backup",
            "--data",
            ds,
            "--out",
            folder.to_str().unwrap(),
            "--media-only",
        ],
        &[],
    ));
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(folder.join("manifest.json")).unwrap()).unwrap();
    assert!(manifest["database"].is_null());
}
