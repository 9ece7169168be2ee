//! `hawker-bench glass`: glass-to-glass delay, a clock burnt into the picture by ffmpeg and read
//! back from the viewer page in headless Chromium.

use super::*;

/// ffmpeg's filter graph that writes the capture wall clock (ms mod 2^32) as 32 bars of 10 px
/// into the top half of each frame: `setpts=RTCTIME` stamps the frame with the real time it
/// is produced, `geq` draws the bits, then timestamps restart at zero for the encoder.
pub(crate) const CLOCK_FILTER: &str = "settb=1/1000000,setpts=RTCTIME,geq=lum='if(lt(Y,90),255*mod(floor(floor(T*1000)/pow(2,floor(X/10))),2),40)':cb=128:cr=128,setpts=PTS-STARTPTS";

/// `e2e/node_modules` from the lock file, installed once (no browser download: Debian's
/// Chromium is used).
pub fn e2e_tools() -> anyhow::Result<PathBuf> {
    let e2e = root().join("e2e");
    if !e2e.join("node_modules/playwright-core").is_dir() {
        eprintln!("installing the browser-test tools: npm ci in e2e/ …");
        let st = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&e2e)
            .status()
            .context("node and npm must be installed")?;
        anyhow::ensure!(st.success(), "npm ci in e2e/ failed");
    }
    anyhow::ensure!(
        Path::new("/usr/bin/chromium").exists(),
        "Chromium must be installed at /usr/bin/chromium (apt-get install chromium)"
    );
    Ok(e2e)
}

pub(crate) async fn glass(seconds: u64) -> anyhow::Result<()> {
    let e2e = e2e_tools()?;
    let work = std::env::temp_dir().join(format!("hawker-glass-{}", std::process::id()));
    let hawker = Hawker::start(&work).await?;
    let key = hawker.create_channel("glass").await?;
    let mut ffmpeg = std::process::Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-re",
            "-f",
            "lavfi",
            "-i",
            "color=c=black:s=320x180:r=30",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=48000",
            "-t",
            &(seconds + 40).to_string(),
            "-vf",
            CLOCK_FILTER,
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
        ])
        .arg(format!("{}/{key}", hawker.rtmp_url()))
        .spawn()
        .context("ffmpeg must be installed")?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let out = tokio::process::Command::new("node")
        .arg("glass.mjs")
        .arg(format!("{}/c/glass", hawker.http))
        .arg(seconds.to_string())
        .current_dir(&e2e)
        .output()
        .await
        .context("node must be installed")?;
    let _ = ffmpeg.kill();
    let _ = ffmpeg.wait();
    anyhow::ensure!(
        out.status.success(),
        "glass.mjs: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    verdict::at_least(
        "frames read back by the viewer page",
        v["frames"].as_u64().unwrap_or(0),
        10,
    )?;
    for k in ["p50", "p95"] {
        verdict::figure(
            &format!("glass-to-glass {k}"),
            v[k].as_f64().unwrap_or(f64::NAN),
        )?;
    }
    println!("# Glass-to-glass, viewer page in headless Chromium (capture → x264 zerolatency → RTMP → Hawker → WebSocket → MSE → screen)");
    println!("| frames | p50 ms | p95 ms | min ms | max ms | player buffer s | stalls | goal |");
    println!("|---|---|---|---|---|---|---|---|");
    println!(
        "| {} | {} | {} | {} | {} | {} | {} | ≤ 800 ms |",
        v["frames"], v["p50"], v["p95"], v["min"], v["max"], v["playerBufferS"], v["stalls"]
    );
    verdict::write_report("glass.json", &v)?;
    drop(hawker);
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}
