//! The RTMP listener: one task per connection, driving a `ServerSession` with socket bytes.

use crate::live::LiveStream;
use crate::registry::Broadcaster;
use crate::BroadcastError;
use bytes::BytesMut;
use hawker_domain::{StreamKey, UnixMillis};
use hawker_media::amf0::Amf0Value;
use hawker_media::cmaf::Expectation;
use hawker_media::codec::{AudioConfig, VideoConfig};
use hawker_media::flv::{self, AudioTag, FlvError, VideoTag};
use hawker_media::rtmp::{PublishRejection, ServerConfig, ServerEvent, ServerSession};
use rand::Rng;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tracing::Instrument;

// The listener lives here, beside the loop it starts, so that the registry does not depend on
// the RTMP server (the server depends on the registry, one way).
impl Broadcaster {
    /// Binds the RTMP listener and serves it in the background; returns the bound address
    /// (useful with port 0).
    pub async fn listen(&self) -> Result<SocketAddr, BroadcastError> {
        let addr = self.inner.config.rtmp;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| BroadcastError::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| BroadcastError::Bind { addr, source })?;
        tracing::info!(%local, "RTMP ingest listening");
        let _ = self.inner.main.set(tokio::runtime::Handle::current());
        let threads = self
            .start_ingest_threads()
            .map_err(|source| BroadcastError::Bind { addr, source })?;
        let _ = self.inner.ingest.set(threads);
        tokio::spawn(accept_loop(self.clone(), listener));
        Ok(local)
    }

    /// Each connection's reads wake one thread and nothing else. On the shared multi-threaded
    /// runtime every read could also wake an idle worker to steal work: with 20 publishers
    /// that cost about a quarter of the ingest CPU (`hawker-bench ingest`, one worker against
    /// two). An ingest thread runs until shutdown and every connection on it has ended.
    fn start_ingest_threads(&self) -> std::io::Result<Vec<tokio::runtime::Handle>> {
        (0..self.inner.config.ingest_threads.max(1))
            .map(|i| {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                let handle = rt.handle().clone();
                let (shutdown, connections) =
                    (self.inner.shutdown.clone(), self.inner.connections.clone());
                std::thread::Builder::new()
                    .name(format!("hawker-ingest-{i}"))
                    .spawn(move || {
                        rt.block_on(async {
                            shutdown.cancelled().await;
                            connections.wait().await;
                        })
                    })?;
                Ok(handle)
            })
            .collect()
    }
}

pub(crate) async fn accept_loop(b: Broadcaster, listener: TcpListener) {
    let permits = Arc::new(Semaphore::new(b.inner.config.max_connections));
    let started = Instant::now();
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = b.inner.shutdown.cancelled() => return,
        };
        let (sock, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(error = %e, "RTMP accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "RTMP connection refused: too many connections");
            metrics::counter!("hawker_rtmp_refused_total", "reason" => "too_many_connections")
                .increment(1);
            continue;
        };
        metrics::counter!("hawker_rtmp_connections_total").increment(1);
        let _ = sock.set_nodelay(true);
        let span = tracing::info_span!("rtmp", %peer, channel = tracing::field::Empty);
        let b2 = b.clone();
        let epoch = started.elapsed().as_millis() as u32;
        // The socket moves to the ingest thread's runtime (a tokio socket belongs to the
        // runtime that registered it).
        let sock = match sock.into_std() {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(%peer, error = %e, "RTMP connection dropped");
                continue;
            }
        };
        b.inner.connections.spawn_on(
            async move {
                let _permit = permit;
                let sock = match TcpStream::from_std(sock) {
                    Ok(s) => s,
                    Err(e) => return tracing::warn!(error = %e, "RTMP connection dropped"),
                };
                if let Err(e) = connection(b2, sock, peer, epoch).await {
                    tracing::info!(reason = %e, "RTMP connection closed");
                }
            }
            .instrument(span),
            &b.ingest_runtime(),
        );
    }
}

async fn connection(
    b: Broadcaster,
    mut sock: TcpStream,
    peer: SocketAddr,
    epoch_ms: u32,
) -> Result<(), String> {
    let mut session = ServerSession::new(ServerConfig {
        seed: rand::thread_rng().gen(),
        epoch_ms,
        ..ServerConfig::default()
    });
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let mut live: Option<Arc<LiveStream>> = None;
    // The stream's cut count when this connection began publishing to it.
    let mut cuts_before: Option<u64> = None;
    let idle = b.inner.config.idle_timeout;
    // Per read, nothing is registered or looked up: the metric handle is taken once, the
    // shutdown future and the idle timer live across reads (the timer is re-armed only when
    // it fires), and a cut is an atomic compared after the read. Per-read timeouts, waiter
    // registrations and metric look-ups were a measurable share of ingest CPU at ~80 reads a
    // second per stream.
    let bytes_in = metrics::counter!("hawker_ingest_bytes_total");
    let shutdown = b.inner.shutdown.clone().cancelled_owned();
    tokio::pin!(shutdown);
    let mut last_data = tokio::time::Instant::now();
    let idle_timer = tokio::time::sleep(idle);
    tokio::pin!(idle_timer);
    let result = loop {
        buf.clear();
        let read = tokio::select! {
            r = sock.read_buf(&mut buf) => r,
            _ = &mut idle_timer => {
                if last_data.elapsed() >= idle {
                    break Err(format!("no data for {} s", idle.as_secs()));
                }
                idle_timer.as_mut().reset(last_data + idle);
                continue;
            }
            _ = &mut shutdown => break Ok(()),
        };
        let n = match read {
            Err(e) => break Err(e.to_string()),
            Ok(0) => break Ok(()),
            Ok(n) => n,
        };
        last_data = tokio::time::Instant::now();
        if let (Some(s), Some(before)) = (&live, cuts_before) {
            if s.cuts.load(std::sync::atomic::Ordering::Acquire) != before {
                break Err("the stream was cut by the platform".into());
            }
        }
        bytes_in.increment(n as u64);
        if let Some(s) = &live {
            s.on_bytes(n);
        }
        if let Err(e) = session.handle_input(&buf[..n]) {
            break Err(format!("protocol error: {e}"));
        }
        while let Some(ev) = session.poll_event() {
            handle_event(&b, &mut session, &mut live, peer, ev).await;
        }
        match &live {
            Some(s) => {
                cuts_before
                    .get_or_insert_with(|| s.cuts.load(std::sync::atomic::Ordering::Acquire));
            }
            None => cuts_before = None,
        }
        let mut failed = None;
        while let Some(out) = session.take_output() {
            if let Err(e) = sock.write_all(&out).await {
                failed = Some(e.to_string());
                break;
            }
        }
        if let Some(e) = failed {
            break Err(e);
        }
        if session.is_closing() {
            break Ok(());
        }
    };
    if let Some(s) = live.take() {
        tracing::info!(show = %s.show, "publisher disconnected");
        b.end_publish(s);
    }
    result
}

async fn handle_event(
    b: &Broadcaster,
    session: &mut ServerSession,
    live: &mut Option<Arc<LiveStream>>,
    peer: SocketAddr,
    ev: ServerEvent,
) {
    let now_ms = || UnixMillis::now().0;
    match ev {
        ServerEvent::Connected { app, .. } => tracing::debug!(%app, "connected"),
        ServerEvent::PublishRequested {
            stream_id, name, ..
        } => {
            let redacted = StreamKey::from_presented(&name)
                .map_or_else(|| "<malformed>".to_string(), |k| k.redacted());
            let outcome = async {
                let grant = b.inner.authority.authorize(&name, peer).await?;
                tracing::Span::current().record("channel", grant.slug.as_str());
                b.begin_publish(&grant).await
            }
            .await;
            match outcome {
                Ok(stream) => {
                    tracing::info!(key = %redacted, show = %stream.show, "publish accepted");
                    metrics::counter!("hawker_rtmp_publish_total").increment(1);
                    *live = Some(stream);
                    if let Err(e) = session.accept_publish(stream_id) {
                        tracing::warn!(error = %e, "publish accept failed");
                    }
                }
                Err(refusal) => {
                    tracing::warn!(key = %redacted, reason = %refusal, "publish refused");
                    metrics::counter!("hawker_rtmp_refused_total", "reason" => refusal.metric_label())
                        .increment(1);
                    session.reject_publish(
                        stream_id,
                        &PublishRejection {
                            code: refusal.rtmp_code(),
                            description: refusal.to_string(),
                        },
                    );
                }
            }
        }
        ServerEvent::Metadata { metadata, .. } => {
            if let Some(s) = live {
                let (expect, fps) = expectation(&metadata);
                s.ingest(|p| p.set_expectation(expect, fps));
            }
        }
        ServerEvent::Video {
            timestamp, data, ..
        } => {
            let Some(s) = live.as_ref() else { return };
            let refuse = match flv::parse_video(&data) {
                Ok(VideoTag::SequenceStart { codec, record }) => {
                    match VideoConfig::parse(codec, record) {
                        Ok(cfg) => {
                            tracing::info!(codec = %cfg.codec_string, width = cfg.width, height = cfg.height, "video configuration");
                            s.set_video_config(cfg);
                            None
                        }
                        Err(e) => Some((
                            "NetStream.Publish.Failed",
                            format!("bad video configuration: {e}"),
                        )),
                    }
                }
                Ok(VideoTag::Frame {
                    keyframe,
                    composition_offset,
                    data,
                    ..
                }) => {
                    s.on_video_frame(keyframe, timestamp);
                    let arrived = now_ms();
                    s.ingest(|p| {
                        p.push_video(timestamp, composition_offset, keyframe, data, arrived)
                    });
                    None
                }
                Ok(VideoTag::SequenceEnd | VideoTag::Ignored) => None,
                Err(e @ FlvError::UnsupportedVideo(_)) => {
                    Some(("NetStream.Publish.BadCodec", e.to_string()))
                }
                Err(e) => Some(("NetStream.Publish.Failed", e.to_string())),
            };
            if let Some((code, description)) = refuse {
                refuse_stream(session, code, description);
            }
        }
        ServerEvent::Audio {
            timestamp, data, ..
        } => {
            let Some(s) = live.as_ref() else { return };
            let refuse = match flv::parse_audio(&data) {
                Ok(AudioTag::AacSequenceStart(asc)) => match AudioConfig::parse_aac(asc) {
                    Ok(cfg) => {
                        tracing::info!(codec = %cfg.codec_string, rate = cfg.sample_rate, channels = cfg.channels, "audio configuration");
                        s.set_audio_config(cfg);
                        None
                    }
                    Err(e) => Some((
                        "NetStream.Publish.Failed",
                        format!("bad audio configuration: {e}"),
                    )),
                },
                Ok(AudioTag::AacFrame(frame)) => {
                    let arrived = now_ms();
                    s.ingest(|p| p.push_audio(timestamp, frame, arrived));
                    None
                }
                Err(e @ FlvError::UnsupportedAudio(_)) => {
                    Some(("NetStream.Publish.BadCodec", e.to_string()))
                }
                Err(e) => Some(("NetStream.Publish.Failed", e.to_string())),
            };
            if let Some((code, description)) = refuse {
                refuse_stream(session, code, description);
            }
        }
        ServerEvent::Unpublished { .. } => {
            if let Some(s) = live.take() {
                tracing::info!(show = %s.show, "publisher stopped");
                b.end_publish(s);
            }
        }
    }
}

fn refuse_stream(session: &mut ServerSession, code: &'static str, description: String) {
    tracing::warn!(%code, reason = %description, "stream refused");
    metrics::counter!("hawker_rtmp_refused_total", "reason" => "codec").increment(1);
    session.abort_publish(&PublishRejection { code, description });
}

/// onMetaData → which tracks to expect and the frame rate.
fn expectation(m: &Amf0Value) -> (Expectation, Option<f64>) {
    let has = |k: &str| {
        m.get(k)
            .map(|v| !matches!(v, Amf0Value::Null | Amf0Value::Undefined))
    };
    let expect = Expectation {
        video: has("videocodecid"),
        audio: has("audiocodecid"),
    };
    let fps = m.get("framerate").and_then(Amf0Value::as_number);
    // Metadata only ever says a track exists; absence alone does not prove there is none
    // unless the other track is declared.
    let expect = Expectation {
        video: expect.video.or(expect.audio.map(|_| false)),
        audio: expect.audio,
    };
    (expect, fps)
}
