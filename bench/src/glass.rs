//! `hawker-bench glass`: glass-to-glass delay of the viewer page in headless Chromium, over
//! both its paths in one run: a clock burnt into the picture by ffmpeg (RTMP → LL-HLS/MSE) and
//! by a publisher page painting a canvas (WHIP → WHEP), read back from each presented frame.

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
    // The WebRTC path's channel: its publisher is a page in the same browser (WHIP).
    let rtc = hawker.create_channel_json("glass-rtc").await?;
    let field = |k: &str| -> anyhow::Result<String> {
        Ok(rtc[k]
            .as_str()
            .with_context(|| format!("channel JSON without {k}"))?
            .to_string())
    };
    let (whip_url, rtc_key) = (field("whip_url")?, field("stream_key")?);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let out = tokio::process::Command::new("node")
        .arg("glass.mjs")
        .arg(&hawker.http)
        .args(["glass", "glass-rtc", &whip_url, &rtc_key])
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
    let (mse, rtc) = (&v["mse"], &v["webrtc"]);
    let mut p50 = [0.0; 2];
    for (i, (path, r)) in [("MSE", mse), ("WebRTC", rtc)].into_iter().enumerate() {
        verdict::at_least(
            &format!("{path}: frames read back by the viewer page"),
            r["frames"].as_u64().unwrap_or(0),
            10,
        )?;
        for k in ["p50", "p95"] {
            let x = verdict::figure(
                &format!("{path} glass-to-glass {k}"),
                r[k].as_f64().unwrap_or(f64::NAN),
            )?;
            if k == "p50" {
                p50[i] = x;
            }
        }
    }
    let (s, r) = (&rtc["sender"], &rtc["receiver"]);
    println!("# Glass-to-glass, viewer page in headless Chromium, both paths in one run");
    println!("MSE: capture → x264 zerolatency → RTMP → Hawker → WebSocket → MSE → screen");
    println!("WebRTC: canvas → Chromium's H.264 encoder → WHIP → Hawker (SFU) → WHEP → screen");
    println!(
        "| path | frames read / presented | p50 ms | p95 ms | min ms | max ms | notes | goal |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    println!(
        "| MSE | {} / {} | {} | {} | {} | {} | {}, player buffer {} s, {} stalls | ≤ 800 ms |",
        show(&mse["frames"]),
        show(&mse["presented"]),
        show(&mse["p50"]),
        show(&mse["p95"]),
        show(&mse["min"]),
        show(&mse["max"]),
        show(&mse["size"]),
        show(&mse["playerBufferS"]),
        show(&mse["stalls"])
    );
    println!(
        "| WebRTC | {} / {} | {} | {} | {} | {} | {}; paint → last packet {} ms (encode {} ms), last packet → shown {} ms (jitter buffer {} ms, decode {} ms); {} lost, {} NACKs | ≤ 200 ms |",
        show(&rtc["frames"]),
        show(&rtc["presented"]),
        show(&rtc["p50"]),
        show(&rtc["p95"]),
        show(&rtc["min"]),
        show(&rtc["max"]),
        show(&rtc["size"]),
        show(&rtc["paintToReceivedP50"]),
        show(&s["encodeMs"]),
        show(&rtc["receivedToShownP50"]),
        show(&r["jitterBufferMs"]),
        show(&r["decodeMs"]),
        show(&r["packetsLost"]),
        show(&r["nacks"])
    );
    println!(
        "MSE / WebRTC p50: {:.2}× (WebRTC {} ms)",
        p50[0] / p50[1],
        if p50[1] <= 200.0 {
            "meets the 200"
        } else {
            "misses the 200"
        }
    );
    verdict::write_report("glass.json", &v)?;
    drop(hawker);
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}

/// A report's value as a table cell: strings without their quotes, a missing one as "?".
fn show(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "?".to_string(),
        v => v.to_string(),
    }
}
