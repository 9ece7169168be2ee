//! A real server (the one `hawker serve` runs) on ephemeral ports, real ffmpeg, and helpers
//! shared by the integration tests.
#![allow(dead_code)]

use hawker::app::{self, Running};
use hawker::config::Config;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct TestServer {
    pub running: Running,
    pub data: tempfile::TempDir,
    pub base: String,
}

pub fn test_config(data: &Path) -> Config {
    let mut cfg = Config {
        data: data.to_path_buf(),
        ..Config::default()
    };
    cfg.server.http = "127.0.0.1:0".parse().unwrap();
    cfg.server.rtmp = "127.0.0.1:0".parse().unwrap();
    cfg.webrtc.udp = "127.0.0.1:0".parse().unwrap();
    cfg.media.grace_secs = 1;
    // Tests of other features publish without a real-name check; the trust tests turn the
    // gate back on.
    cfg.trust.gate_broadcasts = false;
    cfg
}

pub async fn start() -> TestServer {
    start_with(|_| {}).await
}

pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> TestServer {
    let data = tempfile::tempdir().unwrap();
    let mut cfg = test_config(data.path());
    tweak(&mut cfg);
    let running = app::start(cfg).await.expect("server starts");
    let base = running.public_url.clone();
    TestServer {
        running,
        data,
        base,
    }
}

/// An HTTP client that keeps cookies, like a browser.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap()
}

pub async fn sign_up(client: &reqwest::Client, base: &str, email: &str, role: &str) -> Value {
    let r = client
        .post(format!("{base}/api/v1/accounts"))
        .json(&serde_json::json!({
            "email": email, "password": "correct horse battery", "display_name": "Test Person", "role": role
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        201,
        "sign-up: {}",
        r.text().await.unwrap_or_default()
    );
    r.json().await.unwrap()
}

/// Signs up a streamer and creates `slug`; returns the channel-created document.
pub async fn streamer_channel(base: &str, slug: &str) -> (reqwest::Client, Value) {
    let c = browser();
    sign_up(&c, base, &format!("{slug}@streamers.example"), "streamer").await;
    let r = c
        .post(format!("{base}/api/v1/channels"))
        .json(&serde_json::json!({ "slug": slug, "title": format!("{slug} live") }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    (c, v)
}

pub fn publish_url(channel: &Value) -> String {
    format!(
        "{}/{}",
        channel["rtmp_url"].as_str().unwrap(),
        channel["stream_key"].as_str().unwrap()
    )
}

/// ffmpeg publishing a 320x240 test pattern with a tone, real time, 2 s keyframe interval.
pub fn ffmpeg_publish(url: &str, secs: u32) -> Child {
    Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-re",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=30",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=44100",
            "-t",
            &secs.to_string(),
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-tune",
            "zerolatency",
            "-g",
            "60",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-b:a",
            "64k",
            "-f",
            "flv",
            url,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ffmpeg must be installed (.ci/run installs it)")
}

/// Frames ffprobe decodes from a file or URL: (video, audio).
pub fn ffprobe_frames(input: &str) -> (u64, u64) {
    let count = |sel: &str| {
        let out = Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-count_frames",
                "-select_streams",
                sel,
                "-show_entries",
                "stream=nb_read_frames",
                "-of",
                "csv=p=0",
                input,
            ])
            .output()
            .expect("ffprobe must be installed");
        assert!(
            out.status.success(),
            "ffprobe {input}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| l.trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    (count("v"), count("a"))
}

pub async fn wait_until<T, F, Fut>(what: &str, timeout: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `hawker serve` as a child process (the real binary, for crash and CLI tests); killed when
/// dropped, so a failing test leaves no server behind. Logs go to `log` in the data directory.
pub struct ServerProcess {
    pub child: Child,
    pub http: String,
    pub rtmp: u16,
    pub log: PathBuf,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the binary on `data` with HTTP on `http_port` (the same port again after a restart)
/// and RTMP on a free port; not yet ready when it returns.
pub fn spawn_server(data: &Path, http_port: u16, env: &[(&str, &str)]) -> ServerProcess {
    let rtmp = free_port();
    let log = data.join(format!("server-{http_port}-{rtmp}.log"));
    let child = Command::new(env!("CARGO_BIN_EXE_hawker"))
        .args([
            "serve",
            "--data",
            data.to_str().unwrap(),
            "--http",
            &format!("127.0.0.1:{http_port}"),
            "--rtmp",
            &format!("127.0.0.1:{rtmp}"),
            "--webrtc",
            &format!("127.0.0.1:{}", free_port()),
        ])
        .env("RUST_LOG", "info")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    ServerProcess {
        child,
        http: format!("http://127.0.0.1:{http_port}"),
        rtmp,
        log,
    }
}

/// Waits until `base` answers /readyz.
pub async fn wait_ready(base: &str) {
    let base = base.to_string();
    wait_until("server ready", Duration::from_secs(30), || {
        let base = base.clone();
        async move {
            match reqwest::get(format!("{base}/readyz")).await {
                Ok(r) if r.status().is_success() => Some(()),
                _ => None,
            }
        }
    })
    .await;
}

pub async fn post(c: &reqwest::Client, url: String, body: Value) -> reqwest::Response {
    c.post(url).json(&body).send().await.unwrap()
}

/// The JSON of a successful response (Null for an empty body); fails the test otherwise.
pub async fn json_ok(r: reqwest::Response) -> Value {
    let st = r.status();
    let text = r.text().await.unwrap();
    assert!(st.is_success(), "{st}: {text}");
    if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap()
    }
}

/// GET as JSON, None on any failure: for polling with `wait_until`.
pub async fn poll_json(c: &reqwest::Client, url: String) -> Option<Value> {
    c.get(url).send().await.ok()?.json().await.ok()
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Ops approves a real-name check for `person` (submitted through the API) and returns its id.
pub async fn approve_identity(
    base: &str,
    person: &reqwest::Client,
    admin_token: &str,
    details: Value,
) -> i64 {
    let c = json_ok(post(person, format!("{base}/api/v1/me/identity"), details).await).await;
    let r = reqwest::Client::new()
        .post(format!(
            "{base}/api/v1/admin/trust/identity/{}/review",
            c["id"]
        ))
        .bearer_auth(admin_token)
        .json(&serde_json::json!({"approve": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    c["id"].as_i64().unwrap()
}

/// A streamer passes the real gate: verified by ops, the course passed.
pub async fn pass_streamer_gate(base: &str, streamer: &reqwest::Client, admin_token: &str) {
    approve_identity(
        base,
        streamer,
        admin_token,
        serde_json::json!({"legal_name": "Host Li", "id_number": "330283198703150017", "birth_date": "1987-03-15"}),
    )
    .await;
    let g = json_ok(
        post(
            streamer,
            format!("{base}/api/v1/me/training"),
            serde_json::json!({"answers": hawker_trust::training::answer_key()}),
        )
        .await,
    )
    .await;
    assert_eq!(g["passed"], true);
}

/// A new organisation (`org`: its creation body) and one product in it (`product`: the
/// product's body); both as the API answered.
pub async fn org_with_product(
    c: &reqwest::Client,
    base: &str,
    org: Value,
    product: Value,
) -> (Value, Value) {
    let o = json_ok(post(c, format!("{base}/api/v1/orgs"), org).await).await;
    let p = json_ok(
        post(
            c,
            format!("{base}/api/v1/orgs/{}/products", o["id"]),
            product,
        )
        .await,
    )
    .await;
    (o, p)
}

/// `ch` goes live from ffmpeg (60 s); the publisher and the live show's id.
pub async fn go_live(b: &str, slug: &str, ch: &Value) -> (std::process::Child, i64) {
    let ffmpeg = ffmpeg_publish(&publish_url(ch), 60);
    let show = wait_until("the show to go live", Duration::from_secs(20), || {
        let url = format!("{b}/api/v1/channels/{slug}");
        async move {
            let c = poll_json(&reqwest::Client::new(), url).await?;
            if c["live"] == true {
                c["current_show"]["id"].as_i64()
            } else {
                None
            }
        }
    })
    .await;
    (ffmpeg, show)
}
