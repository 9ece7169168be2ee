//! Real encoders against the real RTMP listener: ffmpeg publishes, the LL-HLS window and the
//! recording are checked with the playlist validator and decoded by ffprobe.

use hawker_broadcast::publisher::{self, Clip, PublishOptions};
use hawker_broadcast::{
    BroadcastConfig, Broadcaster, PublishAuthority, PublishGrant, Refusal, ShowEnd,
};
use hawker_domain::{ChannelId, ShowId};
use hawker_media::hls::validate::validate;
use hawker_media::hls::PlaylistQuery;
use parking_lot::Mutex;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Default)]
struct MemAuthority {
    next_show: AtomicI64,
    ended: Mutex<Vec<ShowEnd>>,
}

#[async_trait::async_trait]
impl PublishAuthority for MemAuthority {
    async fn authorize(&self, key: &str, _peer: SocketAddr) -> Result<PublishGrant, Refusal> {
        match key {
            "key-one" => Ok(PublishGrant {
                channel: ChannelId(1),
                slug: "one".into(),
            }),
            "key-two" => Ok(PublishGrant {
                channel: ChannelId(2),
                slug: "two".into(),
            }),
            _ => Err(Refusal::UnknownKey),
        }
    }
    async fn start_show(&self, _g: &PublishGrant) -> Result<ShowId, Refusal> {
        Ok(ShowId(self.next_show.fetch_add(1, Ordering::SeqCst) + 1))
    }
    async fn end_show(&self, end: ShowEnd) {
        self.ended.lock().push(end);
    }
}

struct Server {
    b: Broadcaster,
    addr: SocketAddr,
    auth: Arc<MemAuthority>,
    dir: tempfile::TempDir,
}

async fn server(grace: Duration) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let auth = Arc::new(MemAuthority::default());
    let b = Broadcaster::new(
        BroadcastConfig {
            rtmp: "127.0.0.1:0".parse().unwrap(),
            grace,
            recordings: Some(dir.path().to_path_buf()),
            ..Default::default()
        },
        auth.clone(),
    );
    let addr = b.listen().await.unwrap();
    Server { b, addr, auth, dir }
}

fn ffmpeg(url: &str, secs: u32, video: &[&str], audio: &[&str]) -> std::process::Child {
    let mut args: Vec<String> = "-hide_banner -loglevel warning -re -f lavfi -i testsrc2=size=320x240:rate=30 -f lavfi -i sine=frequency=440:sample_rate=44100"
        .split(' ')
        .map(String::from)
        .collect();
    args.extend(["-t".into(), secs.to_string()]);
    args.extend(video.iter().map(|s| s.to_string()));
    args.extend(audio.iter().map(|s| s.to_string()));
    args.extend(["-f".into(), "flv".into(), url.into()]);
    Command::new("ffmpeg")
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ffmpeg must be installed (apt-get install ffmpeg; .ci/run does it)")
}

const H264: &[&str] = &[
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
];
const AAC: &[&str] = &["-c:a", "aac", "-b:a", "64k"];

fn ffprobe_frames(path: &std::path::Path) -> (u64, u64) {
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
            ])
            .arg(path)
            .output()
            .expect("ffprobe must be installed");
        assert!(
            out.status.success(),
            "ffprobe failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // HLS input lists the stream once per program too: the first count is the stream's.
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| l.trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    (count("v"), count("a"))
}

async fn wait_for<T>(mut f: impl FnMut() -> Option<T>) -> T {
    for _ in 0..200 {
        if let Some(v) = f() {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ffmpeg_publish_is_packaged_served_and_recorded() {
    let s = server(Duration::from_millis(300)).await;
    let url = format!("rtmp://{}/live/key-one", s.addr);
    let mut child = ffmpeg(&url, 5, H264, AAC);
    let stream = wait_for(|| s.b.stream("one")).await;

    // Follow the live edge with blocking reloads, checking every playlist on the way.
    let mut q = PlaylistQuery::default();
    let mut seen_segments = 0;
    for _ in 0..200 {
        let text = match stream.playlist(q).await {
            Ok(t) => t,
            Err(e) => panic!("blocking reload failed: {e:?}"),
        };
        let pl = validate(&text).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
        if let Some(msn) = q.msn {
            assert!(
                pl.has_position(msn, q.part),
                "returned before (msn {msn}, part {:?}) existed:\n{text}",
                q.part
            );
        }
        seen_segments = pl.segments.len();
        if pl.ended || seen_segments >= 2 {
            break;
        }
        let (m, p) = pl.next_position();
        q = PlaylistQuery {
            msn: Some(m),
            part: Some(p),
            skip: false,
        };
    }
    assert!(seen_segments >= 2, "two segments within the stream");

    // init + complete segments decode with ffprobe.
    let text = stream.playlist(PlaylistQuery::default()).await.unwrap();
    let pl = validate(&text).unwrap();
    let mut file = stream.init_segment(0).expect("init segment").to_vec();
    for seg in &pl.segments {
        for c in stream.segment(seg.msn).expect("listed segment is served") {
            file.extend_from_slice(&c);
        }
    }
    let tmp = s.dir.path().join("live.mp4");
    std::fs::write(&tmp, &file).unwrap();
    let (v, a) = ffprobe_frames(&tmp);
    let listed: f64 = pl.segments.iter().map(|s| s.duration).sum();
    assert!(
        v as f64 >= listed * 30.0 - 2.0,
        "{v} video frames for {listed} s"
    );
    assert!(a > 0, "audio decodes");

    // The stream ends: the recording is a complete VOD that decodes.
    let status = child.wait().unwrap();
    assert!(status.success());
    wait_for(|| (!s.auth.ended.lock().is_empty()).then_some(())).await;
    let end = s.auth.ended.lock()[0].clone();
    let rec = end.recording.expect("recorded");
    assert!(rec.segments >= 2);
    assert!(
        (4000..6500).contains(&rec.duration_ms),
        "{}",
        rec.duration_ms
    );
    let vod = std::fs::read_to_string(rec.dir.join("index.m3u8")).unwrap();
    let vpl = validate(&vod).unwrap_or_else(|e| panic!("{e:?}\n{vod}"));
    assert!(vpl.ended);
    let (v, a) = ffprobe_frames(&rec.dir.join("index.m3u8"));
    assert!(v >= 140, "recording has {v} video frames");
    assert!(a > 0);
    assert!(s.b.stream("one").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_key_is_refused() {
    let s = server(Duration::from_secs(5)).await;
    let child = ffmpeg(&format!("rtmp://{}/live/nope", s.addr), 2, H264, AAC);
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown stream key"), "ffmpeg said: {err}");
    assert!(s.b.streams().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_publisher_on_a_live_channel_is_refused() {
    let s = server(Duration::from_secs(5)).await;
    let url = format!("rtmp://{}/live/key-one", s.addr);
    let mut first = ffmpeg(&url, 6, H264, AAC);
    wait_for(|| s.b.stream("one")).await;
    let second = ffmpeg(&url, 2, H264, AAC);
    let out = second.wait_with_output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already live"), "ffmpeg said: {err}");
    assert!(s.b.stream("one").unwrap().status().publishing);
    let _ = first.kill();
    let _ = first.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsupported_codecs_are_refused() {
    let s = server(Duration::from_secs(5)).await;
    let url = format!("rtmp://{}/live/key-one", s.addr);
    let out = ffmpeg(&url, 3, &["-c:v", "flv1"], AAC)
        .wait_with_output()
        .unwrap();
    assert!(!out.status.success(), "Sorenson video is not accepted");
    let out = ffmpeg(&url, 3, H264, &["-c:a", "libmp3lame"])
        .wait_with_output()
        .unwrap();
    assert!(!out.status.success(), "MP3 audio is not accepted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hinted_part_is_delivered_frame_by_frame_and_reconnect_continues_the_show() {
    use futures::StreamExt;
    let s = server(Duration::from_secs(5)).await;
    let clip = Arc::new(
        Clip::parse(bytes::Bytes::from_static(include_bytes!(
            "../../hawker/assets/demo.flv"
        )))
        .unwrap(),
    );
    let url = format!("rtmp://{}/live/key-two", s.addr);
    let cancel = CancellationToken::new();
    let publish_once = |clip: Arc<Clip>| {
        let (url, cancel) = (url.clone(), cancel.clone());
        tokio::spawn(async move {
            let opts = PublishOptions {
                loops: Some(1),
                ..Default::default()
            };
            publisher::publish(&url, clip, opts, cancel).await
        })
    };
    let pub_task = publish_once(clip.clone());
    let stream = wait_for(|| s.b.stream("two")).await;
    // Block until a part completes, then request the hinted part, which has just begun.
    let first = validate(&stream.playlist(PlaylistQuery::default()).await.unwrap()).unwrap();
    let (msn, part) = first.next_position();
    let q = PlaylistQuery {
        msn: Some(msn),
        part: Some(part),
        skip: false,
    };
    let text = stream.playlist(q).await.unwrap();
    let hint = validate(&text).unwrap().preload_hint.unwrap();
    let n: u64 = hint
        .rsplit("/part")
        .next()
        .unwrap()
        .trim_end_matches(".m4s")
        .parse()
        .unwrap();
    let mut body = Box::pin(stream.clone().part_stream(n));
    let mut arrivals = Vec::new();
    let t0 = std::time::Instant::now();
    while let Some(Ok(chunk)) = body.next().await {
        arrivals.push((t0.elapsed(), chunk.len()));
    }
    assert!(
        arrivals.len() >= 3,
        "a part of ~7 frames arrives in several pieces: {arrivals:?}"
    );
    let spread = arrivals.last().unwrap().0 - arrivals[0].0;
    assert!(
        spread >= Duration::from_millis(60),
        "pieces arrive as frames do, not all at the end: {arrivals:?}"
    );
    let first_show = stream.show;
    pub_task.await.unwrap().unwrap();
    // Reconnect within the grace period: same show, a discontinuity in the playlist.
    let again = publish_once(clip);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let st = s.b.stream("two").unwrap();
    assert_eq!(st.show, first_show);
    let text = st.playlist(PlaylistQuery::default()).await.unwrap();
    validate(&text).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    assert!(text.contains("#EXT-X-DISCONTINUITY\n"), "{text}");
    cancel.cancel();
    let _ = again.await;
    s.b.shutdown().await;
    assert_eq!(s.auth.ended.lock().len(), 1, "shutdown ends the show");
}
