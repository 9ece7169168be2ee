//! Janus (Debian's janus 1.1.2) as the SFU benchmark's side-by-side peer: its streaming plugin
//! fans one stream out to WebRTC subscribers, as Hawker's switch does. Janus runs as a child
//! process with a config folder of its own (the HTTP transport and the streaming plugin only,
//! no session timeout), one RTP mountpoint (H.264 96, Opus 111) fed plain RTP by this process
//! with the same fixture and clock as Hawker's WHIP publisher, and each subscriber goes through
//! Janus's HTTP API: create, attach, watch → Janus's offer, a str0m answer, start.

use super::fixture::{Frame, RtpStream, OPUS_SILENCE};
use super::peers::{answering, Client, Shared};
use anyhow::Context;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(super) struct Janus {
    child: Child,
    api: String,
    video_port: u16,
    audio_port: u16,
    pub(super) version: String,
}

/// A free UDP port on loopback (bound, read, released).
fn free_udp() -> anyhow::Result<u16> {
    Ok(std::net::UdpSocket::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A free TCP port on loopback.
fn free_tcp() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Debian's library folder of Janus, whatever the architecture (`/usr/lib/<triplet>/janus`).
fn janus_lib() -> anyhow::Result<PathBuf> {
    std::fs::read_dir("/usr/lib")?
        .flatten()
        .map(|e| e.path().join("janus"))
        .find(|p| p.join("plugins/libjanus_streaming.so").exists())
        .context("Janus's streaming plugin is not installed under /usr/lib/*/janus")
}

fn link_library(from: &Path, dir: &Path, name: &str) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let src = from.join(name);
    anyhow::ensure!(src.exists(), "{} is missing", src.display());
    std::os::unix::fs::symlink(&src, dir.join(name))?;
    Ok(())
}

impl Janus {
    /// Starts Janus in `work`; an error (not installed, not answering) ends the run with no
    /// figure.
    pub(super) async fn start(work: &Path) -> anyhow::Result<Janus> {
        let out = Command::new("janus").arg("--version").output().context(
            "janus is not installed (Debian: apt-get install janus), or pass --no-janus",
        )?;
        // "Janus version: 1102 (1.1.2)" → "Janus 1.1.2"
        let version = String::from_utf8_lossy(&out.stdout)
            .lines()
            .find(|l| l.contains("Janus version"))
            .and_then(|l| l.split('(').nth(1))
            .map_or("Janus".to_string(), |v| {
                format!("Janus {}", v.trim_end_matches(')').trim())
            });
        let lib = janus_lib()?;
        let dir = work.join("janus");
        let _ = std::fs::remove_dir_all(&dir);
        // Folders holding the one plugin and the one transport the run needs: Janus loads
        // every library of its folders.
        link_library(
            &lib.join("plugins"),
            &dir.join("plugins"),
            "libjanus_streaming.so",
        )?;
        link_library(
            &lib.join("transports"),
            &dir.join("transports"),
            "libjanus_http.so",
        )?;
        std::fs::create_dir_all(dir.join("empty"))?;
        let (http, video_port, audio_port) = (free_tcp()?, free_udp()?, free_udp()?);
        let d = dir.display();
        std::fs::write(
            dir.join("janus.jcfg"),
            format!(
                "general: {{\n  configs_folder = \"{d}\"\n  plugins_folder = \"{d}/plugins\"\n  \
                 transports_folder = \"{d}/transports\"\n  events_folder = \"{d}/empty\"\n  \
                 loggers_folder = \"{d}/empty\"\n  debug_level = 3\n  session_timeout = 0\n  \
                 server_name = \"hawker-bench\"\n}}\ncertificates: {{ }}\n\
                 media: {{\n  rtp_port_range = \"20000-40000\"\n}}\n\
                 nat: {{\n  nice_debug = false\n  ignore_mdns = true\n}}\n\
                 plugins: {{ }}\ntransports: {{ }}\nloggers: {{ }}\nevents: {{ }}\n"
            ),
        )?;
        std::fs::write(
            dir.join("janus.transport.http.jcfg"),
            format!(
                "general: {{\n  json = \"plain\"\n  base_path = \"/janus\"\n  http = true\n  \
                 port = {http}\n  https = false\n}}\nadmin: {{\n  admin_http = false\n  \
                 admin_https = false\n}}\ncors: {{ }}\n"
            ),
        )?;
        std::fs::write(
            dir.join("janus.plugin.streaming.jcfg"),
            format!(
                "general: {{ }}\nbench: {{\n  type = \"rtp\"\n  id = 1\n  description = \"hawker-bench\"\n  \
                 media = (\n    {{ type = \"video\" mid = \"v\" label = \"video\" port = {video_port} pt = 96 \
                 codec = \"h264\" fmtp = \"profile-level-id=42e01f;packetization-mode=1\" }},\n    \
                 {{ type = \"audio\" mid = \"a\" label = \"audio\" port = {audio_port} pt = 111 \
                 codec = \"opus\" }}\n  )\n}}\n"
            ),
        )?;
        let child = Command::new("janus")
            .arg("-C")
            .arg(dir.join("janus.jcfg"))
            .arg("-F")
            .arg(&dir)
            .args(["-o", "-N", "-L"])
            .arg(dir.join("janus.log"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting janus")?;
        let janus = Janus {
            child,
            api: format!("http://127.0.0.1:{http}/janus"),
            video_port,
            audio_port,
            version,
        };
        let http = reqwest::Client::new();
        let t = Instant::now();
        loop {
            if let Ok(r) = http.get(format!("{}/info", janus.api)).send().await {
                let info: Value = r.json().await?;
                anyhow::ensure!(
                    info["plugins"]["janus.plugin.streaming"].is_object(),
                    "janus started without its streaming plugin: {info}"
                );
                break;
            }
            anyhow::ensure!(
                t.elapsed() < Duration::from_secs(10),
                "janus did not answer in 10 s (log: {d}/janus.log)"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(janus)
    }

    pub(super) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// One request; an `error` answer is an error.
    async fn request(http: &reqwest::Client, url: &str, body: Value) -> anyhow::Result<Value> {
        let v: Value = http.post(url).json(&body).send().await?.json().await?;
        anyhow::ensure!(v["janus"] != "error", "janus refused {body}: {v}");
        Ok(v)
    }

    /// A new subscriber of the mountpoint: its offer answered, the stream started.
    pub(super) async fn subscribe(&self, http: &reqwest::Client) -> anyhow::Result<Client> {
        let tx = next_transaction;
        let s = Self::request(
            http,
            &self.api,
            json!({"janus": "create", "transaction": tx()}),
        )
        .await?;
        let session = format!("{}/{}", self.api, s["data"]["id"]);
        let h = Self::request(
            http,
            &session,
            json!({"janus": "attach", "plugin": "janus.plugin.streaming", "transaction": tx()}),
        )
        .await?;
        let handle = format!("{session}/{}", h["data"]["id"]);
        Self::request(
            http,
            &handle,
            json!({"janus": "message", "transaction": tx(), "body": {"request": "watch", "id": 1}}),
        )
        .await?;
        // The offer arrives as an event on the session's long poll, within seconds.
        let asked = Instant::now();
        let offer = loop {
            anyhow::ensure!(
                asked.elapsed() < Duration::from_secs(30),
                "janus made no offer in 30 s"
            );
            let ev: Value = http
                .get(format!("{session}?maxev=1"))
                .send()
                .await?
                .json()
                .await?;
            if let Some(sdp) = ev["jsep"]["sdp"].as_str() {
                break sdp.to_string();
            }
            anyhow::ensure!(
                ev["janus"] == "keepalive"
                    || ev["janus"] == "event" && ev["plugindata"]["data"]["error"].is_null(),
                "janus did not offer: {ev}"
            );
        };
        let (client, answer) = answering(&offer)?;
        Self::request(
            http,
            &handle,
            json!({"janus": "message", "transaction": tx(), "body": {"request": "start"},
                   "jsep": {"type": "answer", "sdp": answer}}),
        )
        .await?;
        Ok(client)
    }

    /// Feeds the mountpoint as Hawker's WHIP publisher is fed: the fixture at 30 fps (RTP time
    /// k·3000 due at t0 + k/30 s) and an Opus frame every 20 ms, counted as sent.
    pub(super) fn feed(
        &self,
        frames: Arc<Vec<Frame>>,
        shared: Arc<Shared>,
    ) -> impl std::future::Future<Output = anyhow::Result<()>> {
        let (video_to, audio_to) = (
            std::net::SocketAddr::from(([127, 0, 0, 1], self.video_port)),
            std::net::SocketAddr::from(([127, 0, 0, 1], self.audio_port)),
        );
        async move {
            let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await?;
            let mut video = RtpStream {
                pt: 96,
                ssrc: 0x4a41_4e55,
                seq: 1,
            };
            let mut audio = RtpStream {
                pt: 111,
                ssrc: 0x4a41_4e56,
                seq: 1,
            };
            let (mut k, mut j) = (0u64, 0u64);
            let t0 = shared.t0;
            let video_due = |k: u64| t0 + Duration::from_micros(k * 1_000_000 / 30);
            let audio_due = |j: u64| t0 + Duration::from_millis(j * 20);
            loop {
                let next = video_due(k).min(audio_due(j));
                tokio::select! {
                    _ = tokio::time::sleep_until(next.into()) => {}
                    _ = shared.stop.cancelled() => return Ok(()),
                }
                let now = Instant::now();
                while video_due(k) <= now {
                    let f = &frames[(k % frames.len() as u64) as usize];
                    for p in video.h264(&f.data, (k * 3000) as u32) {
                        sock.send_to(&p, video_to).await?;
                    }
                    shared.counts.video_sent.fetch_add(1, Relaxed);
                    k += 1;
                }
                while audio_due(j) <= now {
                    sock.send_to(&audio.opus(&OPUS_SILENCE, (j * 960) as u32), audio_to)
                        .await?;
                    shared.counts.audio_sent.fetch_add(1, Relaxed);
                    j += 1;
                }
            }
        }
    }
}

/// Transaction ids, unique in the run.
fn next_transaction() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    format!("t{}", NEXT.fetch_add(1, Relaxed))
}

impl Drop for Janus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
