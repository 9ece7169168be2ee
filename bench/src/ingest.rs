//! `hawker-bench ingest`: publishers against Hawker and nginx-rtmp side by side, the edge delay
//! each adds, and the server CPU and memory per stream.

use super::*;

pub(crate) fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let i = ((v.len() - 1) as f64 * p).round() as usize;
    v[i]
}

/// A publisher replaying the clip until cancelled, reporting each video frame's send instant.
pub(crate) struct Publisher {
    pub(crate) url: String,
    pub(crate) sent: mpsc::UnboundedReceiver<(u32, std::time::Instant)>,
    pub(crate) task: tokio::task::JoinHandle<Result<u64, publisher::PublishError>>,
}

pub(crate) fn spawn_publisher(
    url: String,
    clip: Arc<Clip>,
    cancel: CancellationToken,
) -> Publisher {
    let (tx, sent) = mpsc::unbounded_channel();
    let opts = PublishOptions {
        loops: None,
        video_sent: Some(tx),
    };
    let task = tokio::spawn({
        let url = url.clone();
        async move { publisher::publish(&url, clip, opts, cancel).await }
    });
    Publisher { url, sent, task }
}

impl Publisher {
    /// After the run was cancelled: a refused or dropped publish, or one that sent no video
    /// frame, fails the run.
    async fn finish(self) -> anyhow::Result<u64> {
        let frames = self
            .task
            .await?
            .map_err(|e| anyhow::anyhow!("publish to {} failed: {e}", self.url))?;
        verdict::at_least(&format!("video frames sent to {}", self.url), frames, 1)
    }
}

pub(crate) struct Delays {
    pub(crate) samples: Vec<f64>,
}

impl Delays {
    pub(crate) fn summary(&mut self) -> (f64, f64, usize) {
        let n = self.samples.len();
        (
            percentile(&mut self.samples, 0.5),
            percentile(&mut self.samples, 0.95),
            n,
        )
    }
}

/// Hawker: follow the preload hint part after part, timing each frame's bytes.
pub(crate) async fn hawker_delay(h: &Hawker, clip: Arc<Clip>, secs: u64) -> anyhow::Result<Delays> {
    let key = h.create_channel("bench-delay").await?;
    let cancel = CancellationToken::new();
    let mut publisher = spawn_publisher(
        format!("{}/{key}", h.rtmp_url()),
        clip.clone(),
        cancel.clone(),
    );
    let http = reqwest::Client::new();
    let playlist = format!("{}/live/bench-delay/index.m3u8", h.http);
    let base = format!("{}/live/bench-delay/", h.http);
    let first_video_ts = clip.first_video_timestamp().unwrap_or(0) as u64;
    let mut arrivals: Vec<(u64, std::time::Instant)> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(secs + 3);
    let mut next: Option<(String, u64)> = None;
    while Instant::now() < deadline && !publisher.task.is_finished() {
        let (session, n) = match next.take() {
            Some(x) => x,
            None => {
                let r = http.get(&playlist).send().await?;
                if r.status() != 200 {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
                let text = r.text().await?;
                let pl = hawker_media::hls::validate::validate(&text)
                    .map_err(|e| anyhow::anyhow!("invalid playlist: {e:?}"))?;
                let hint = pl.preload_hint.context("no preload hint")?;
                let (session, file) = hint.split_once('/').context("hint uri")?;
                let n: u64 = file
                    .trim_start_matches("part")
                    .trim_end_matches(".m4s")
                    .parse()?;
                (session.to_string(), n)
            }
        };
        let mut resp = http
            .get(format!("{base}{session}/part{n}.m4s"))
            .send()
            .await?;
        if resp.status() != 200 {
            continue; // the part left the window or the show restarted: re-read the playlist
        }
        let mut parser = mp4::ChunkParser::default();
        while let Some(bytes) = resp.chunk().await? {
            let now = std::time::Instant::now();
            for decode_time in parser.push(&bytes) {
                arrivals.push((first_video_ts + decode_time / 90, now));
            }
        }
        next = Some((session, n + 1));
    }
    cancel.cancel();
    let mut sent = HashMap::new();
    while let Ok((ts, at)) = publisher.sent.try_recv() {
        sent.entry(ts as u64).or_insert(at);
    }
    publisher.finish().await?;
    let samples: Vec<f64> = arrivals
        .iter()
        .filter_map(|(ts, at)| sent.get(ts).map(|s| signed_ms(*at, *s)))
        .collect();
    anyhow::ensure!(
        samples.iter().all(|d| *d >= 0.0),
        "a frame arrived before it was sent: the timestamp mapping is wrong"
    );
    Ok(Delays { samples })
}

pub(crate) fn signed_ms(at: std::time::Instant, sent: std::time::Instant) -> f64 {
    match at.checked_duration_since(sent) {
        Some(d) => d.as_secs_f64() * 1000.0,
        None => -(sent.duration_since(at).as_secs_f64() * 1000.0),
    }
}

/// nginx-rtmp: poll the playlist every 100 ms, fetch each new fragment, time its frames.
pub(crate) async fn nginx_delay(n: &Nginx, clip: Arc<Clip>, secs: u64) -> anyhow::Result<Delays> {
    let cancel = CancellationToken::new();
    let mut publisher = spawn_publisher(format!("{}/delay", n.rtmp_url()), clip, cancel.clone());
    let http = reqwest::Client::new();
    let playlist = format!("{}/hls/delay.m3u8", n.http);
    let mut seen = std::collections::HashSet::new();
    let mut arrivals: Vec<(u64, std::time::Instant)> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(secs + 3);
    while Instant::now() < deadline && !publisher.task.is_finished() {
        if let Ok(r) = http.get(&playlist).send().await {
            if r.status() == 200 {
                let text = r.text().await?;
                for uri in text
                    .lines()
                    .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
                {
                    if seen.insert(uri.to_string()) {
                        let body = http
                            .get(format!("{}/hls/{uri}", n.http))
                            .send()
                            .await?
                            .bytes()
                            .await?;
                        let now = std::time::Instant::now();
                        for dts in ts::video_dts(&body) {
                            arrivals.push((dts, now));
                        }
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    cancel.cancel();
    let mut sent = HashMap::new();
    while let Ok((ts, at)) = publisher.sent.try_recv() {
        sent.entry(ts as u64).or_insert(at);
    }
    publisher.finish().await?;
    // nginx-rtmp offsets its MPEG-TS clock from the FLV clock; find the offset that matches
    // the most frames rather than assuming one.
    let offset = ts::best_offset(&arrivals.iter().map(|a| a.0).collect::<Vec<_>>(), &sent);
    let samples = arrivals
        .iter()
        .filter_map(|(dts90, at)| {
            let ts = (*dts90 / 90).checked_sub(offset)?;
            sent.get(&ts).map(|s| signed_ms(*at, *s))
        })
        .collect();
    Ok(Delays { samples })
}

pub(crate) struct Usage {
    pub(crate) cpu_s_per_stream_min: f64,
    pub(crate) rss_mib: f64,
}

pub(crate) async fn measure_load(
    label: &str,
    urls: Vec<String>,
    clip: Arc<Clip>,
    pids: impl Fn() -> Vec<u32>,
    secs: u64,
) -> anyhow::Result<Usage> {
    let cancel = CancellationToken::new();
    let publishers: Vec<Publisher> = urls
        .iter()
        .map(|url| spawn_publisher(url.clone(), clip.clone(), cancel.clone()))
        .collect();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let cpu0 = procstat::cpu_seconds(&pids());
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    let cpu1 = procstat::cpu_seconds(&pids());
    let rss = procstat::rss_bytes(&pids());
    let minutes = t0.elapsed().as_secs_f64() / 60.0;
    cancel.cancel();
    for p in publishers {
        p.finish()
            .await
            .with_context(|| format!("{label}, {} streams", urls.len()))?;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let n = urls.len() as f64;
    let u = Usage {
        cpu_s_per_stream_min: verdict::figure(
            &format!("{label}'s CPU per stream-minute"),
            (cpu1 - cpu0) / (n * minutes),
        )?,
        rss_mib: verdict::figure(&format!("{label}'s RSS"), rss as f64 / 1048576.0)?,
    };
    eprintln!(
        "  {label:<11} {:>3} streams: {:.3} CPU-s/stream-min, RSS {:.1} MiB",
        urls.len(),
        u.cpu_s_per_stream_min,
        u.rss_mib
    );
    Ok(u)
}
