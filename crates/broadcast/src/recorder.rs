//! Recording: every show's init segments, media segments and a VOD playlist on disk, written
//! by a task of its own so the ingest path never waits on the disk.
//!
//! Layout: `{recordings}/{show id}/init{v}.mp4`, `seg{msn}.m4s`, `index.m3u8`, and
//! `master.m3u8` naming the codecs. The playlist is
//! rewritten (write, then rename) after every segment, so a crash leaves a playable EVENT
//! playlist; [`finalize_abandoned_recording`] closes it with EXT-X-ENDLIST at the next start.

use bytes::Bytes;
use hawker_media::hls::vod::{VodEntry, VodPlaylist};
use hawker_media::hls::Segment;
use std::path::{Path, PathBuf};
use tokio::sync::{mpsc, oneshot};

/// What a finished recording holds.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordingSummary {
    pub dir: PathBuf,
    pub bytes: u64,
    pub duration_ms: u64,
    pub segments: u64,
}

enum Cmd {
    Init(u32, Bytes, String),
    Segment {
        msn: u64,
        chunks: Vec<Bytes>,
        entry: VodEntry,
    },
    Finish(oneshot::Sender<RecordingSummary>),
}

#[derive(Clone)]
pub(crate) struct RecorderHandle {
    tx: mpsc::UnboundedSender<Cmd>,
}

impl RecorderHandle {
    /// The writer runs on `runtime` (the server's main one, which outlives ingest threads).
    pub(crate) fn start(dir: PathBuf, runtime: &tokio::runtime::Handle) -> std::io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        let (tx, rx) = mpsc::unbounded_channel();
        runtime.spawn(run(dir, rx));
        Ok(RecorderHandle { tx })
    }

    /// `codecs` as RFC 6381 names, for the multivariant playlist players read first.
    pub(crate) fn init(&self, version: u32, bytes: Bytes, codecs: String) {
        let _ = self.tx.send(Cmd::Init(version, bytes, codecs));
    }

    pub(crate) fn segment(&self, seg: &Segment) {
        let Some(duration) = seg.duration else { return };
        let _ = self.tx.send(Cmd::Segment {
            msn: seg.msn,
            chunks: seg.chunks().cloned().collect(),
            entry: VodEntry {
                uri: format!("seg{}.m4s", seg.msn),
                duration,
                discontinuity: seg.discontinuity,
                init_uri: format!("init{}.mp4", seg.init_version),
                program_date_time_ms: seg.program_date_time_ms,
            },
        });
    }

    /// Writes what is queued, closes the playlist, and reports.
    pub(crate) async fn finish(&self) -> Option<RecordingSummary> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Cmd::Finish(tx)).ok()?;
        rx.await.ok()
    }
}

/// Writes `parts` one after the other into `path` through a temporary file and a rename, so a
/// reader (or a crash) never sees half a file. Blocking: run it off the async threads.
fn write_atomically(path: &Path, parts: &[&[u8]]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp)?;
    for p in parts {
        f.write_all(p)?;
    }
    drop(f);
    std::fs::rename(&tmp, path)
}

/// The files one command writes, in order: (path, parts). One blocking task writes them all.
/// A segment's chunks go to the file as they are (the live window's shared buffers), never
/// joined into one: joining them byte by byte into a growing vector, then copying it again
/// for `tokio::fs` and waking four blocking tasks per segment (write, rename, playlist,
/// rename) were a third of the server's ingest CPU (perf, `hawker-bench ingest`, 20 streams).
fn write_all(files: Vec<(PathBuf, Vec<Bytes>)>) -> std::io::Result<()> {
    for (path, parts) in &files {
        let slices: Vec<&[u8]> = parts.iter().map(|b| b.as_ref()).collect();
        write_atomically(path, &slices)?;
    }
    Ok(())
}

async fn write_off_thread(files: Vec<(PathBuf, Vec<Bytes>)>) -> std::io::Result<()> {
    tokio::task::spawn_blocking(move || write_all(files))
        .await
        .map_err(std::io::Error::other)?
}

async fn run(dir: PathBuf, mut rx: mpsc::UnboundedReceiver<Cmd>) {
    let mut playlist = VodPlaylist::default();
    let mut bytes = 0u64;
    let mut failed = false;
    while let Some(cmd) = rx.recv().await {
        let files = match cmd {
            Cmd::Init(v, data, codecs) => {
                bytes += data.len() as u64;
                let mut files = vec![(dir.join(format!("init{v}.mp4")), vec![data])];
                // The first configuration names the recording's codecs.
                if v == 0 {
                    let master = format!(
                        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-STREAM-INF:BANDWIDTH=3000000,CODECS=\"{codecs}\"\nindex.m3u8\n"
                    );
                    files.push((dir.join("master.m3u8"), vec![Bytes::from(master)]));
                }
                files
            }
            Cmd::Segment { msn, chunks, entry } => {
                bytes += chunks.iter().map(|c| c.len() as u64).sum::<u64>();
                playlist.entries.push(entry);
                vec![
                    (dir.join(format!("seg{msn}.m4s")), chunks),
                    (dir.join("index.m3u8"), vec![Bytes::from(playlist.render())]),
                ]
            }
            Cmd::Finish(reply) => {
                playlist.ended = true;
                let index = vec![(dir.join("index.m3u8"), vec![Bytes::from(playlist.render())])];
                if let Err(e) = write_off_thread(index).await {
                    tracing::error!(dir = %dir.display(), error = %e, "cannot finalise recording playlist");
                }
                let _ = reply.send(RecordingSummary {
                    dir: dir.clone(),
                    bytes,
                    duration_ms: (playlist.duration() * 1000.0) as u64,
                    segments: playlist.entries.len() as u64,
                });
                return;
            }
        };
        if let Err(e) = write_off_thread(files).await {
            // The live stream goes on; the recording has a hole, said loudly once.
            if !failed {
                tracing::error!(dir = %dir.display(), error = %e, "recording write failed; the live stream continues");
                failed = true;
            }
            metrics::counter!("hawker_recording_write_errors_total").increment(1);
        }
    }
}

/// Closes the playlist of a recording whose server stopped without finishing it (crash, kill):
/// appends EXT-X-ENDLIST and reports its size. Idempotent.
pub fn finalize_abandoned_recording(dir: &Path) -> std::io::Result<RecordingSummary> {
    let path = dir.join("index.m3u8");
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|_| String::new());
    if text.is_empty() {
        text = VodPlaylist {
            entries: vec![],
            ended: true,
        }
        .render();
    } else if !text.contains("#EXT-X-ENDLIST") {
        text = text.replace("#EXT-X-PLAYLIST-TYPE:EVENT", "#EXT-X-PLAYLIST-TYPE:VOD");
        text.push_str("#EXT-X-ENDLIST\n");
    }
    std::fs::write(&path, &text)?;
    let mut duration = 0f64;
    let mut segments = 0;
    for line in text.lines() {
        if let Some(d) = line.strip_prefix("#EXTINF:") {
            duration += d.trim_end_matches(',').parse::<f64>().unwrap_or(0.0);
            segments += 1;
        }
    }
    let bytes = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    Ok(RecordingSummary {
        dir: dir.to_path_buf(),
        bytes,
        duration_ms: (duration * 1000.0) as u64,
        segments,
    })
}
