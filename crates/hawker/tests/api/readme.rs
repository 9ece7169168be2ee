//! README's commands, run as a newcomer runs them: the quick start (`demo`) and *Going live*
//! (serve, verify, create a channel, publish with ffmpeg, decode the playlist with ffprobe),
//! read out of README.md itself so the test and the page cannot drift apart. The only change
//! is `cargo run --release [-q] --`, which becomes the `hawker` binary this test was built
//! with (the same program; building a release binary inside the suite would take minutes).
//! Both use the default ports, so they run one after the other in one test.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const HTTP: &str = "http://127.0.0.1:8080";

/// The fenced block that follows `<!-- readme-test: NAME -->`.
fn block(readme: &str, name: &str) -> String {
    let marker = format!("<!-- readme-test: {name} -->");
    let after = readme
        .split_once(&marker)
        .unwrap_or_else(|| panic!("README has no {marker}"))
        .1;
    let body = after
        .split_once("```sh\n")
        .expect("a sh block follows the marker")
        .1;
    body.split_once("```")
        .expect("the block ends")
        .0
        .to_string()
}

fn with_binary(commands: &str) -> String {
    let bin = env!("CARGO_BIN_EXE_hawker");
    commands
        .replace("cargo run --release -q --", bin)
        .replace("cargo run --release --", bin)
}

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
        .expect("README.md")
}

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn get(url: &str) -> Option<(u16, String)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let r = reqwest::get(url).await.ok()?;
        let status = r.status().as_u16();
        Some((status, r.text().await.unwrap_or_default()))
    })
}

fn wait_ready(what: &str) {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(60) {
        if matches!(get(&format!("{HTTP}/readyz")), Some((200, _))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("{what}: the server did not answer /readyz on {HTTP}");
}

fn wait_closed() {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(20) {
        if std::net::TcpStream::connect("127.0.0.1:8080").is_err()
            && std::net::TcpStream::connect("127.0.0.1:1935").is_err()
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("the previous server still holds the default ports");
}

fn quick_start() {
    let readme = readme();
    assert!(
        readme.contains("```sh\ncargo run --release -- demo\n```"),
        "README's quick start is `cargo run --release -- demo`"
    );
    let cwd = tempfile::tempdir().unwrap();
    let mut demo = Killed(
        Command::new(env!("CARGO_BIN_EXE_hawker"))
            .arg("demo")
            .current_dir(cwd.path())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    // The banner names the URLs; every one of them answers.
    let mut lines = BufReader::new(demo.0.stdout.take().unwrap()).lines();
    let mut banner = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        banner.push_str(&line);
        banner.push('\n');
        if line.starts_with("Press Ctrl-C") {
            break;
        }
    }
    // Keep reading, as a terminal would: the demo's stdout stays open while it runs.
    std::thread::spawn(move || lines.for_each(drop));
    assert!(banner.contains("Hawker demo is running"), "{banner}");
    let urls: Vec<&str> = banner
        .split_whitespace()
        .filter(|w| w.starts_with(HTTP))
        .collect();
    assert!(urls.len() >= 8, "the banner prints the URLs: {banner}");
    for url in &urls {
        if url.ends_with(".m3u8") {
            continue;
        }
        let (status, _) = get(url).unwrap_or_else(|| panic!("{url} did not answer"));
        assert_eq!(status, 200, "{url}");
    }
    // The live show plays: its playlist decodes with sound and picture.
    let playlist = urls.iter().find(|u| u.ends_with(".m3u8")).unwrap();
    let t0 = Instant::now();
    loop {
        let out = Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-show_entries",
                "stream=codec_type",
                "-of",
                "csv=p=0",
            ])
            .arg(playlist)
            .output()
            .expect("ffprobe must be installed");
        let text = String::from_utf8_lossy(&out.stdout);
        if out.status.success() && text.contains("video") && text.contains("audio") {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "the demo's live playlist did not decode: {text} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    // A shoppable replay: an ended show with a recording and its pins.
    let (status, shows) = get(&format!("{HTTP}/api/v1/shows?limit=50")).unwrap();
    assert_eq!(status, 200, "{shows}");
    let shows: serde_json::Value = serde_json::from_str(&shows).unwrap();
    let replay = shows
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["replay_url"].is_string())
        .unwrap_or_else(|| panic!("the demo has a replay: {shows}"));
    let (status, pins) = get(&format!("{HTTP}/api/v1/shows/{}/pins", replay["id"])).unwrap();
    assert_eq!(status, 200);
    let pins: serde_json::Value = serde_json::from_str(&pins).unwrap();
    assert!(pins.as_array().unwrap().len() >= 2, "{pins}");
    drop(demo);
    wait_closed();
}

fn going_live() {
    let readme = readme();
    let cwd = tempfile::tempdir().unwrap();
    let serve = with_binary(&block(&readme, "serve"));
    let mut server = Killed(
        Command::new("bash")
            .args(["-c", &format!("exec {}", serve.trim())])
            .current_dir(cwd.path())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    wait_ready("hawker serve");
    assert!(cwd.path().join("hawker-data/admin-token").is_file());
    let live = with_binary(&block(&readme, "live"));
    let out = Command::new("bash")
        .args(["-e", "-c", &live])
        .current_dir(cwd.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "README's going-live commands failed:\n{live}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    assert!(
        stdout.contains("may go live"),
        "the operator's verification: {stdout}"
    );
    // ffprobe printed the stream's codecs: the published show is playable.
    assert!(
        stdout.contains("h264") && stdout.contains("aac"),
        "ffprobe decoded the playlist: {stdout}\n{stderr}"
    );
    let (status, _) = get(&format!("{HTTP}/c/my-shop")).unwrap();
    assert_eq!(status, 200, "the watch page");
    let (status, channel) = get(&format!("{HTTP}/api/v1/channels/my-shop")).unwrap();
    assert_eq!(status, 200, "{channel}");
    assert!(channel.contains("\"My shop\""), "{channel}");
    let _ = server.0.kill();
    drop(server);
    wait_closed();
}

#[test]
fn readme_quick_start_and_going_live_work_verbatim() {
    wait_closed();
    quick_start();
    going_live();
}
