//! An RTMP publisher that replays an FLV clip in real time through a server's ingest, as an
//! encoder would: the demo's always-on show and the benchmarks' load use it.

use bytes::{Bytes, BytesMut};
use hawker_media::amf0::{self, Amf0Value};
use hawker_media::codec::AudioConfig;
use hawker_media::flv::{self, FileTag};
use hawker_media::rtmp::{ClientEvent, ClientSession};
use rand::Rng;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("bad RTMP URL {0:?}: expected rtmp://host:port/app/key")]
    Url(String),
    #[error("bad clip: {0}")]
    Clip(#[from] flv::FlvError),
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    #[error("protocol: {0}")]
    Protocol(#[from] hawker_media::rtmp::RtmpError),
    #[error("server refused the publish: {code} ({description})")]
    Refused { code: String, description: String },
    #[error("server closed the connection")]
    Closed,
}

/// An FLV clip ready to loop.
#[derive(Debug, Clone)]
pub struct Clip {
    metadata: Option<Amf0Value>,
    /// Sequence headers, sent once before the first frame.
    headers: Vec<FileTag>,
    frames: Vec<FileTag>,
    /// Length of one pass in milliseconds, fractional: AAC frames do not last whole
    /// milliseconds, and rounding per pass would open a gap in the audio after a few minutes.
    pub duration_ms: f64,
}

fn is_sequence_header(t: &FileTag) -> bool {
    match t.tag_type {
        8 => t.body.get(1) == Some(&0) && t.body.first().map(|b| b >> 4) == Some(10),
        9 => {
            let b0 = t.body.first().copied().unwrap_or(0);
            if b0 & 0x80 != 0 {
                b0 & 0x0f == 0
            } else {
                t.body.get(1) == Some(&0)
            }
        }
        _ => false,
    }
}

impl Clip {
    pub fn parse(file: Bytes) -> Result<Self, PublishError> {
        let tags = flv::read_file(&file)?;
        let mut metadata = None;
        let mut headers = Vec::new();
        let mut frames = Vec::new();
        for t in tags {
            match t.tag_type {
                18 => {
                    if let Ok(values) = amf0::decode_all(&t.body) {
                        metadata = values
                            .into_iter()
                            .find(|v| matches!(v, Amf0Value::EcmaArray(_) | Amf0Value::Object(_)));
                    }
                }
                8 | 9 if is_sequence_header(&t) => headers.push(t),
                // An end-of-sequence tag would end the stream for a decoder mid-loop.
                9 if matches!(flv::parse_video(&t.body), Ok(flv::VideoTag::SequenceEnd)) => {}
                8 | 9 => frames.push(t),
                _ => {}
            }
        }
        let video_ts: Vec<u32> = frames
            .iter()
            .filter(|t| t.tag_type == 9)
            .map(|t| t.timestamp)
            .collect();
        let video_end = match video_ts.as_slice() {
            [.., a, b] if b > a => (b + (b - a)) as f64,
            [.., b] => *b as f64 + 33.0,
            [] => 0.0,
        };
        // The audio's exact end: its first timestamp plus whole AAC frames. A pass lasts until
        // the later of the two tracks ends, so the next pass continues both without overlap.
        let aac_rate = headers
            .iter()
            .filter(|t| t.tag_type == 8)
            .find_map(|t| match flv::parse_audio(&t.body) {
                Ok(flv::AudioTag::AacSequenceStart(asc)) => AudioConfig::parse_aac(asc).ok(),
                _ => None,
            })
            .map(|c| (c.sample_rate as f64, c.samples_per_frame() as f64));
        let audio: Vec<u32> = frames
            .iter()
            .filter(|t| t.tag_type == 8)
            .map(|t| t.timestamp)
            .collect();
        let audio_end = match (aac_rate, audio.first()) {
            (Some((rate, per_frame)), Some(first)) => {
                *first as f64 + audio.len() as f64 * per_frame * 1000.0 / rate
            }
            _ => 0.0,
        };
        Ok(Clip {
            metadata,
            headers,
            frames,
            duration_ms: video_end.max(audio_end),
        })
    }

    /// Timestamp of the first video frame: what a packager anchors its timeline to.
    pub fn first_video_timestamp(&self) -> Option<u32> {
        self.frames
            .iter()
            .find(|t| t.tag_type == 9)
            .map(|t| t.timestamp)
    }

    /// Video frames per pass.
    pub fn video_frames(&self) -> usize {
        self.frames.iter().filter(|t| t.tag_type == 9).count()
    }
}

#[derive(Debug, Default)]
pub struct PublishOptions {
    /// Passes over the clip; None loops until cancelled.
    pub loops: Option<u32>,
    /// Reports (timestamp, send instant) of every video frame handed to the socket.
    pub video_sent: Option<mpsc::UnboundedSender<(u32, std::time::Instant)>>,
}

fn split_url(url: &str) -> Result<(String, String, String, String), PublishError> {
    let bad = || PublishError::Url(url.to_string());
    let rest = url.strip_prefix("rtmp://").ok_or_else(bad)?;
    let (host, path) = rest.split_once('/').ok_or_else(bad)?;
    let (app, key) = path.rsplit_once('/').ok_or_else(bad)?;
    let host = if host.contains(':') {
        host.to_string()
    } else {
        format!("{host}:1935")
    };
    Ok((
        host.clone(),
        app.to_string(),
        key.to_string(),
        format!("rtmp://{host}/{app}"),
    ))
}

/// Publishes `clip` to `url` (`rtmp://host:port/app/key`) in real time. Returns when the
/// passes are done, the token is cancelled, or the server ends the connection.
pub async fn publish(
    url: &str,
    clip: Arc<Clip>,
    opts: PublishOptions,
    cancel: CancellationToken,
) -> Result<u64, PublishError> {
    let (addr, app, key, tc_url) = split_url(url)?;
    let mut sock = TcpStream::connect(&addr).await?;
    sock.set_nodelay(true)?;
    let mut session = ClientSession::new(&app, &tc_url, &key, rand::thread_rng().gen());
    let mut buf = BytesMut::with_capacity(16 * 1024);
    // Handshake and commands until the server says Publish.Start.
    loop {
        while let Some(out) = session.take_output() {
            sock.write_all(&out).await?;
        }
        match session.poll_event() {
            Some(ClientEvent::Publishing { .. }) => break,
            Some(ClientEvent::Rejected { code, description }) => {
                return Err(PublishError::Refused { code, description })
            }
            None => {}
        }
        buf.clear();
        let n = tokio::select! {
            r = sock.read_buf(&mut buf) => r?,
            _ = cancel.cancelled() => return Ok(0),
        };
        if n == 0 {
            return Err(PublishError::Closed);
        }
        session.handle_input(&buf[..n])?;
    }
    if let Some(m) = &clip.metadata {
        session.send_metadata(m.clone());
    }
    for h in &clip.headers {
        match h.tag_type {
            8 => session.send_audio(0, h.body.clone()),
            _ => session.send_video(0, h.body.clone()),
        }
    }
    let start = Instant::now();
    let mut sent_frames = 0u64;
    let mut pass = 0u32;
    'passes: while opts.loops.is_none_or(|n| pass < n) {
        let offset = (pass as f64 * clip.duration_ms).round() as u64;
        for t in &clip.frames {
            let ts = offset + t.timestamp as u64;
            let due = start + Duration::from_millis(ts);
            // Answer the server (acks, pings) while waiting for the frame's time.
            loop {
                while let Some(out) = session.take_output() {
                    sock.write_all(&out).await?;
                }
                if Instant::now() >= due {
                    break;
                }
                buf.clear();
                tokio::select! {
                    _ = tokio::time::sleep_until(due) => break,
                    r = sock.read_buf(&mut buf) => {
                        let n = r?;
                        if n == 0 { return Err(PublishError::Closed); }
                        session.handle_input(&buf[..n])?;
                        if let Some(ClientEvent::Rejected { code, description }) = session.poll_event() {
                            return Err(PublishError::Refused { code, description });
                        }
                    }
                    _ = cancel.cancelled() => break 'passes,
                }
            }
            let ts32 = ts as u32;
            if t.tag_type == 9 {
                session.send_video(ts32, t.body.clone());
                sent_frames += 1;
                // The instant the frame is handed to the socket, not after: a fast server can
                // deliver it before a slow write returns.
                if let Some(tx) = &opts.video_sent {
                    let _ = tx.send((ts32, std::time::Instant::now()));
                }
            } else {
                session.send_audio(ts32, t.body.clone());
            }
            while let Some(out) = session.take_output() {
                sock.write_all(&out).await?;
            }
        }
        pass += 1;
    }
    session.unpublish();
    while let Some(out) = session.take_output() {
        sock.write_all(&out).await?;
    }
    let _ = sock.shutdown().await;
    Ok(sent_frames)
}

/// Publishes forever, reconnecting after failures: the demo's resident encoder.
pub async fn publish_forever(url: String, clip: Arc<Clip>, cancel: CancellationToken) {
    let mut backoff = Duration::from_millis(500);
    while !cancel.is_cancelled() {
        match publish(
            &url,
            clip.clone(),
            PublishOptions::default(),
            cancel.clone(),
        )
        .await
        {
            Ok(_) => backoff = Duration::from_millis(500),
            Err(e) => {
                tracing::warn!(error = %e, "demo publisher: retrying");
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = cancel.cancelled() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let (addr, app, key, tc) = split_url("rtmp://127.0.0.1:1935/live/abc").unwrap();
        assert_eq!(
            (addr.as_str(), app.as_str(), key.as_str()),
            ("127.0.0.1:1935", "live", "abc")
        );
        assert_eq!(tc, "rtmp://127.0.0.1:1935/live");
        assert_eq!(split_url("rtmp://h/live/k").unwrap().0, "h:1935");
        assert!(split_url("http://h/live/k").is_err());
    }
}
