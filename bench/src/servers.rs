//! The two servers under test, each started fresh on loopback ports of its own.

use crate::procstat;
use anyhow::Context;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

async fn wait_http(url: &str) -> anyhow::Result<()> {
    for _ in 0..100 {
        if reqwest::get(url)
            .await
            .map(|r| r.status().is_success())
            .unwrap_or(false)
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("{url} did not come up")
}

/// The `hawker` binary of the bench's own profile: release for figures; a debug bench (CI's
/// tiny runs, which check that every benchmark still runs) uses the debug build the tests made.
pub fn hawker_binary() -> std::path::PathBuf {
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    crate::root().join("target").join(profile).join("hawker")
}

pub struct Hawker {
    child: Child,
    pub http: String,
    rtmp: u16,
    token: String,
}

impl Hawker {
    pub async fn start(data: &Path) -> anyhow::Result<Hawker> {
        Self::start_with_env(data, &[]).await
    }

    pub async fn start_with_env(data: &Path, env: &[(&str, &str)]) -> anyhow::Result<Hawker> {
        let mut build = Command::new("cargo");
        build.args(["build", "-q", "-p", "hawker", "--bin", "hawker"]);
        if !cfg!(debug_assertions) {
            build.arg("--release");
        }
        let st = build.current_dir(crate::root()).status()?;
        anyhow::ensure!(st.success(), "building hawker failed");
        let (hp, rp) = (free_port(), free_port());
        std::fs::create_dir_all(data)?;
        let child = Command::new(hawker_binary())
            .args(["serve", "--data"])
            .arg(data)
            .args([
                "--http",
                &format!("127.0.0.1:{hp}"),
                "--rtmp",
                &format!("127.0.0.1:{rp}"),
                "--webrtc",
                &format!("127.0.0.1:{}", free_port()),
            ])
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            // Warnings and errors of the run, for a look afterwards.
            .stderr(std::fs::File::create(data.join("server.log"))?)
            .spawn()?;
        let http = format!("http://127.0.0.1:{hp}");
        wait_http(&format!("{http}/readyz")).await?;
        let token = std::fs::read_to_string(data.join("admin-token"))?
            .trim()
            .to_string();
        let hawker = Hawker {
            child,
            http,
            rtmp: rp,
            token,
        };
        // The admin's channels go live only once the admin passes the go-live rules: the
        // operator's own check, as `hawker account verify` does it.
        hawker.verify("admin@hawker.local").await?;
        Ok(hawker)
    }

    /// Verifies `email` as the operator, so that its channels may go live.
    pub async fn verify(&self, email: &str) -> anyhow::Result<()> {
        let v: serde_json::Value = reqwest::Client::new()
            .post(format!("{}/api/v1/admin/trust/verify", self.http))
            .bearer_auth(&self.token)
            .json(
                &serde_json::json!({"email": email, "legal_name": "Bench Operator",
                "birth_date": "1990-01-01", "id_number": "BENCH0001"}),
            )
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        anyhow::ensure!(
            v["status"]["blocked_by"].is_null(),
            "{email} may not go live after the operator's check: {}",
            v["status"]
        );
        Ok(())
    }

    pub fn rtmp_url(&self) -> String {
        format!("rtmp://127.0.0.1:{}/live", self.rtmp)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Signs up a streamer who owns channel `slug`; returns their session cookie.
    pub async fn streamer_session(&self, slug: &str) -> anyhow::Result<String> {
        let c = reqwest::Client::new();
        let r = c
            .post(format!("{}/api/v1/accounts", self.http))
            .json(&serde_json::json!({"email": format!("{slug}@bench.example"), "password": "bench password 123", "display_name": "bench host", "role": "streamer"}))
            .send()
            .await?
            .error_for_status()?;
        let cookie = r
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .context("session cookie")?
            .to_string();
        c.post(format!("{}/api/v1/channels", self.http))
            .header("cookie", &cookie)
            .json(&serde_json::json!({"slug": slug, "title": slug}))
            .send()
            .await?
            .error_for_status()?;
        Ok(cookie)
    }

    /// Creates a channel with the admin token; returns its stream key.
    pub async fn create_channel(&self, slug: &str) -> anyhow::Result<String> {
        let v = self.create_channel_json(slug).await?;
        Ok(v["stream_key"].as_str().context("stream_key")?.to_string())
    }

    /// Creates a channel with the admin token; returns what the owner gets (`stream_key`,
    /// `whip_url`, `whep_url`, …).
    pub async fn create_channel_json(&self, slug: &str) -> anyhow::Result<serde_json::Value> {
        let v: serde_json::Value = reqwest::Client::new()
            .post(format!("{}/api/v1/channels", self.http))
            .bearer_auth(&self.token)
            .json(&serde_json::json!({"slug": slug, "title": slug}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(v)
    }
}

impl Drop for Hawker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Nginx {
    child: Child,
    pub http: String,
    rtmp: u16,
    pub version: String,
}

const RTMP_MODULE: &str = "/usr/lib/nginx/modules/ngx_rtmp_module.so";

impl Nginx {
    /// nginx with the RTMP module, one worker, HLS on with 1 s fragments (cut at keyframes)
    /// and a 6 s playlist, served by the same nginx over HTTP.
    pub async fn start(dir: &Path) -> anyhow::Result<Nginx> {
        anyhow::ensure!(
            Path::new(RTMP_MODULE).exists(),
            "nginx-rtmp is needed: apt-get install nginx libnginx-mod-rtmp"
        );
        std::fs::create_dir_all(dir.join("hls"))?;
        let (hp, rp) = (free_port(), free_port());
        let d = dir.display();
        let conf = format!(
            "load_module {RTMP_MODULE};
worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 4096; }}
rtmp {{
  server {{
    listen 127.0.0.1:{rp};
    chunk_size 4096;
    application live {{
      live on;
      record off;
      hls on;
      hls_path {d}/hls;
      hls_fragment 1s;
      hls_playlist_length 6s;
    }}
  }}
}}
http {{
  access_log off;
  types {{ application/vnd.apple.mpegurl m3u8; video/mp2t ts; }}
  server {{
    listen 127.0.0.1:{hp};
    location /hls/ {{ alias {d}/hls/; add_header Cache-Control no-cache; }}
    location = /up {{ return 200 'up'; }}
  }}
}}
"
        );
        std::fs::write(dir.join("nginx.conf"), conf)?;
        let version = Command::new("nginx")
            .arg("-v")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stderr).trim().to_string())
            .unwrap_or_default();
        let child = Command::new("nginx")
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .arg("-p")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("nginx must be installed")?;
        let http = format!("http://127.0.0.1:{hp}");
        wait_http(&format!("{http}/up")).await?;
        Ok(Nginx {
            child,
            http,
            rtmp: rp,
            version,
        })
    }

    pub fn rtmp_url(&self) -> String {
        format!("rtmp://127.0.0.1:{}/live", self.rtmp)
    }

    /// Master and worker.
    pub fn pids(&self) -> Vec<u32> {
        procstat::with_children(self.child.id())
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let workers = self.pids();
        let _ = self.child.kill();
        let _ = self.child.wait();
        for p in workers.into_iter().skip(1) {
            let _ = Command::new("kill")
                .arg(p.to_string())
                .stderr(Stdio::null())
                .status();
        }
    }
}
