//! (Over 800 lines on purpose: backup and restore share the manifest, the path rules and the
//! permission handling; split it into `backup/` and `restore/` when it grows again.)
//!
//! `hawker backup` and `hawker restore`: the embedded database, the media and the secret files
//! of a data directory, in one directory or one `.tar.gz`, with a manifest of checksums.
//!
//! The database is copied with `VACUUM INTO` through a connection of its own: one read
//! transaction, so the copy is the database as of one instant while the server goes on writing
//! (in WAL mode readers and writers do not wait for each other). The secrets and media are
//! copied after it, so every file the copied database names already existed; files that appear
//! later are merely extra. Recordings are written through a temporary file and a rename, so a
//! finished file never changes: `*.tmp` files (writes in progress) are left out, and a
//! directory's playlists are copied before its segments, so a copied playlist only names
//! segments that are copied too. A show that was live is closed at the restored server's first
//! start, as after a crash. A file that keeps changing while it is copied is left out and named
//! in the manifest's `skipped` list.
//!
//! PostgreSQL installations back up their database with PostgreSQL's own tools; `--media-only`
//! still copies the files of the data directory.
//!
//! A restore checks every checksum before it writes anything, refuses to replace an installation
//! without `--force` and never runs under a server; what it replaces is moved aside, not deleted.

use crate::config::Config;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, Metadata};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

mod restore;
pub use restore::{human_bytes, restore, RestoreOptions, RestoreReport};

pub const MANIFEST: &str = "manifest.json";
/// The database's name inside a backup, wherever `[storage] url` put it.
pub const DATABASE: &str = "hawker.db";
pub const KIND: &str = "hawker-backup";
pub const FORMAT: u32 = 1;
/// The key of the keyed hashes (ID numbers, devices, cards), made at first start (see `app.rs`).
pub const IDENTITY_SECRET: &str = "identity-hash.secret";
/// The payment sandbox's webhook secret (see `app.rs`).
pub const SANDBOX_SECRET: &str = "sandbox-webhook.secret";
/// Files of the data directory readable by their owner only, restored as such.
pub const SECRETS: [&str; 4] = [
    crate::admin::TOKEN_FILE,
    crate::admin::PASSWORD_FILE,
    IDENTITY_SECRET,
    SANDBOX_SECRET,
];
pub const IMAGES: &str = "images";
pub const DOCUMENTS: &str = "identity-documents";
pub const RECORDINGS: &str = "recordings";
const MEDIA: [&str; 3] = [IMAGES, DOCUMENTS, RECORDINGS];

/// How often a file that changes while it is copied is tried again before it is left out.
const ATTEMPTS: usize = 3;
/// Files up to this size go into an archive through memory, so a changed one can be retried.
const IN_MEMORY: u64 = 16 << 20;

/// `manifest.json`: what a backup holds and the checksum of every file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// Always `hawker-backup`.
    pub kind: String,
    pub format: u32,
    pub hawker_version: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub created_at_ms: i64,
    /// None for `--media-only`.
    pub database: Option<DatabaseInfo>,
    pub files: Vec<FileEntry>,
    /// Files the backup left out: writes in progress, links, files removed or still changing.
    #[serde(default)]
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatabaseInfo {
    /// `sqlite`.
    pub engine: String,
    pub file: String,
    /// The latest migration applied to the copied database.
    pub schema_version: i64,
    pub schema_description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Relative, `/`-separated: `hawker.db`, `admin-token`, `images/…`, `recordings/{show}/…`.
    pub path: String,
    pub bytes: u64,
    /// Lowercase hex.
    pub sha256: String,
    /// Restored readable by the owner only (0600).
    #[serde(default)]
    pub secret: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

/// Where an installation keeps what a backup holds.
#[derive(Debug, Clone)]
struct Layout {
    data: PathBuf,
    /// None: PostgreSQL.
    database: Option<PathBuf>,
    recordings: PathBuf,
}

impl Layout {
    fn of(cfg: &Config) -> anyhow::Result<Layout> {
        Ok(Layout {
            data: cfg.data.clone(),
            database: sqlite_path(&cfg.storage.url, &cfg.data)?,
            // Restored even where recording is off now: the database still names them.
            recordings: cfg
                .recording
                .dir
                .clone()
                .unwrap_or_else(|| cfg.data.join(RECORDINGS)),
        })
    }

    fn media_dir(&self, name: &str) -> PathBuf {
        if name == RECORDINGS {
            self.recordings.clone()
        } else {
            self.data.join(name)
        }
    }
}

/// The SQLite file the server opens for this configuration (as `hawker_storage` reads the URL),
/// or None for PostgreSQL.
fn sqlite_path(url: &str, data: &Path) -> anyhow::Result<Option<PathBuf>> {
    if url.is_empty() {
        return Ok(Some(data.join(DATABASE)));
    }
    if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        return Ok(None);
    }
    anyhow::ensure!(
        url.starts_with("sqlite:"),
        "storage.url must start with sqlite:// or postgres://"
    );
    let p = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let p = p.split('?').next().unwrap_or("");
    anyhow::ensure!(
        !p.is_empty() && !p.contains(":memory:"),
        "an in-memory database has nothing to back up or restore"
    );
    Ok(Some(PathBuf::from(p)))
}

/// What `hawker backup` says to a PostgreSQL installation.
pub fn postgres_advice() -> String {
    "this installation keeps its database in PostgreSQL ([storage] url); `hawker backup` copies \
     only the embedded SQLite database. Back up PostgreSQL with its own tools: \
     `pg_dump --format=custom --file=hawker.dump \"$HAWKER_STORAGE__URL\"` (restore with \
     `pg_restore`), or `pg_basebackup` with WAL archiving for point-in-time recovery; and copy \
     the media and secret files with `hawker backup --media-only --out PATH`. See docs/backup.md."
        .to_string()
}

pub struct BackupOptions {
    /// A directory, or one file when the name ends in `.tar.gz` or `.tgz`.
    pub out: PathBuf,
    /// Secrets and media without the database.
    pub media_only: bool,
}

#[derive(Debug)]
pub struct BackupReport {
    pub out: PathBuf,
    pub manifest: Manifest,
}

impl BackupReport {
    pub fn bytes(&self) -> u64 {
        self.manifest.files.iter().map(|f| f.bytes).sum()
    }
}

fn is_archive(p: &Path) -> bool {
    let name = p.file_name().map(|n| n.to_string_lossy().to_lowercase());
    name.is_some_and(|n| n.ends_with(".tar.gz") || n.ends_with(".tgz"))
}

/// `{path}{suffix}` beside `path`.
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// Writes a backup of the installation `cfg` describes; the server may be running.
pub fn backup(cfg: &Config, opts: &BackupOptions) -> anyhow::Result<BackupReport> {
    let layout = Layout::of(cfg)?;
    let db = match (&layout.database, opts.media_only) {
        (_, true) => None,
        (None, false) => anyhow::bail!("{}", postgres_advice()),
        (Some(p), false) => {
            anyhow::ensure!(
                p.is_file(),
                "no database at {}: nothing to back up (is --data right? the server creates it \
                 at its first start)",
                p.display()
            );
            Some(p.clone())
        }
    };
    anyhow::ensure!(
        layout.data.is_dir(),
        "no data directory at {}",
        layout.data.display()
    );
    let out = &opts.out;
    anyhow::ensure!(
        out.file_name().is_some(),
        "--out needs a file or directory name"
    );
    anyhow::ensure!(
        std::fs::symlink_metadata(out).is_err(),
        "{} already exists: a backup never overwrites anything",
        out.display()
    );
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let out_abs = std::path::absolute(out)?;
    for m in MEDIA {
        let dir = std::path::absolute(layout.media_dir(m))?;
        anyhow::ensure!(
            !out_abs.starts_with(&dir),
            "--out {} is inside the media directory {}, which the backup copies",
            out.display(),
            dir.display()
        );
    }

    let partial = beside(out, &format!(".partial-{}", std::process::id()));
    let mut sink = if is_archive(out) {
        Sink::archive(&partial)?
    } else {
        Sink::directory(&partial)?
    };
    let written = write_backup(&mut sink, &layout, db.as_deref());
    let manifest = match written.and_then(|m| sink.finish().map(|()| m)) {
        Ok(m) => m,
        Err(e) => {
            remove_any(&partial);
            remove_any(&beside(&partial, ".db"));
            return Err(e);
        }
    };
    std::fs::rename(&partial, out)?;
    Ok(BackupReport {
        out: out.clone(),
        manifest,
    })
}

fn write_backup(sink: &mut Sink, layout: &Layout, db: Option<&Path>) -> anyhow::Result<Manifest> {
    let now = now_ms();
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    // The database first: every file it names exists before the media are copied.
    let database = match db {
        Some(db) => {
            let snap = sink.snapshot_path();
            let info = snapshot_sqlite(db, &snap)?;
            files.push(sink.add_snapshot(&snap)?);
            Some(info)
        }
        None => None,
    };
    for name in SECRETS {
        let path = layout.data.join(name);
        if path.is_file() {
            match sink.add_file(name, &path, true)? {
                Outcome::Copied(e) => files.push(e),
                Outcome::Skipped(reason) => skipped.push(Skipped {
                    path: name.to_string(),
                    reason: reason.into(),
                }),
            }
        }
    }
    for m in MEDIA {
        walk(sink, &layout.media_dir(m), m, &mut files, &mut skipped)?;
    }
    let manifest = Manifest {
        kind: KIND.into(),
        format: FORMAT,
        hawker_version: env!("CARGO_PKG_VERSION").into(),
        created_at: rfc3339(now),
        created_at_ms: now,
        database,
        files,
        skipped,
    };
    sink.add_manifest(&serde_json::to_vec_pretty(&manifest)?)?;
    Ok(manifest)
}

/// The database as of one instant, into `dest`: `VACUUM INTO` reads it in one transaction
/// beside the running server's connections. The copy is left in rollback-journal mode (one
/// file); the server turns WAL back on when it opens it.
fn snapshot_sqlite(db: &Path, dest: &Path) -> anyhow::Result<DatabaseInfo> {
    use rusqlite::{Connection, OpenFlags};
    let conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| anyhow::anyhow!("cannot open the database {}: {e}", db.display()))?;
    conn.busy_timeout(Duration::from_secs(30))?;
    let target = dest
        .to_str()
        .ok_or_else(|| anyhow::anyhow!("the backup path must be UTF-8"))?;
    conn.execute("VACUUM INTO ?1", [target])
        .map_err(|e| anyhow::anyhow!("cannot copy the database {}: {e}", db.display()))?;
    drop(conn);
    let snap = Connection::open_with_flags(dest, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    let _: String = snap.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))?;
    let check: String = snap.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    anyhow::ensure!(
        check == "ok",
        "the copied database fails its check: {check}"
    );
    let (schema_version, schema_description) = snap
        .query_row(
            "SELECT version, description FROM _sqlx_migrations WHERE success = 1 \
             ORDER BY version DESC LIMIT 1",
            [],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
        )
        .map_err(|e| anyhow::anyhow!("the database has no migration history: {e}"))?;
    drop(snap);
    Ok(DatabaseInfo {
        engine: "sqlite".into(),
        file: DATABASE.into(),
        schema_version,
        schema_description,
    })
}

/// Copies the regular files under `dir` as `{prefix}/…`: in each directory the playlists first,
/// then the other files by name, then the subdirectories.
fn walk(
    sink: &mut Sink,
    dir: &Path,
    prefix: &str,
    files: &mut Vec<FileEntry>,
    skipped: &mut Vec<Skipped>,
) -> anyhow::Result<()> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        // Absent, or removed by retention while we were at it.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(anyhow::anyhow!("cannot read {}: {e}", dir.display())),
    };
    let mut plain = Vec::new();
    let mut dirs = Vec::new();
    for e in rd {
        let e = match e {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e.into()),
        };
        let name = e.file_name();
        let Some(name) = name.to_str().map(str::to_string) else {
            skipped.push(Skipped {
                path: format!("{prefix}/{}", name.to_string_lossy()),
                reason: "the name is not UTF-8".into(),
            });
            continue;
        };
        let rel = format!("{prefix}/{name}");
        let t = match e.file_type() {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e.into()),
        };
        if t.is_dir() {
            dirs.push((name, e.path()));
        } else if !t.is_file() {
            skipped.push(Skipped {
                path: rel,
                reason: "not a regular file (a link or a device)".into(),
            });
        } else if name.ends_with(".tmp") {
            skipped.push(Skipped {
                path: rel,
                reason: "a write in progress".into(),
            });
        } else {
            plain.push((name, e.path()));
        }
    }
    plain.sort_by(|a, b| (!a.0.ends_with(".m3u8"), &a.0).cmp(&(!b.0.ends_with(".m3u8"), &b.0)));
    dirs.sort();
    for (name, path) in plain {
        let rel = format!("{prefix}/{name}");
        match sink.add_file(&rel, &path, false)? {
            Outcome::Copied(e) => files.push(e),
            Outcome::Skipped(reason) => skipped.push(Skipped {
                path: rel,
                reason: reason.into(),
            }),
        }
    }
    for (name, path) in dirs {
        walk(sink, &path, &format!("{prefix}/{name}"), files, skipped)?;
    }
    Ok(())
}

enum Outcome {
    Copied(FileEntry),
    Skipped(&'static str),
}

const VANISHED: &str = "removed while the backup ran";
const CHANGING: &str = "still changing while it was copied";

/// Where a backup is written: a directory (files as they are) or a gzip'd tar.
enum Sink {
    Directory {
        root: PathBuf,
    },
    Archive {
        path: PathBuf,
        tar: Box<tar::Builder<flate2::write::GzEncoder<File>>>,
    },
}

fn same_file_state(a: &Metadata, b: &Metadata) -> bool {
    a.len() == b.len() && a.modified().ok() == b.modified().ok()
}

fn open_source(path: &Path) -> io::Result<Option<File>> {
    match File::open(path) {
        Ok(f) => Ok(Some(f)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn tar_header(len: u64, secret: bool, mtime: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_size(len);
    h.set_mode(if secret { 0o600 } else { 0o644 });
    h.set_mtime(mtime);
    h.set_entry_type(tar::EntryType::Regular);
    h
}

fn mtime_secs(m: &Metadata) -> u64 {
    m.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs())
}

impl Sink {
    fn directory(root: &Path) -> anyhow::Result<Sink> {
        let mut b = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(root)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", root.display()))?;
        Ok(Sink::Directory {
            root: root.to_path_buf(),
        })
    }

    fn archive(path: &Path) -> anyhow::Result<Sink> {
        let f = create_file(path, true, true)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
        // Video is compressed already: the fast level costs little and gains as much.
        let gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
        Ok(Sink::Archive {
            path: path.to_path_buf(),
            tar: Box::new(tar::Builder::new(gz)),
        })
    }

    /// Where `VACUUM INTO` writes the database copy.
    fn snapshot_path(&self) -> PathBuf {
        match self {
            Sink::Directory { root } => root.join(DATABASE),
            Sink::Archive { path, .. } => beside(path, ".db"),
        }
    }

    fn add_snapshot(&mut self, snap: &Path) -> anyhow::Result<FileEntry> {
        match self {
            Sink::Directory { .. } => {
                let mut f = File::open(snap)?;
                let (bytes, sha256) = copy_hashing(&mut f, &mut io::sink())?;
                File::open(snap)?.sync_all()?;
                Ok(FileEntry {
                    path: DATABASE.into(),
                    bytes,
                    sha256,
                    secret: false,
                })
            }
            Sink::Archive { tar, .. } => {
                let mut f = File::open(snap)?;
                let meta = f.metadata()?;
                let mut r = ExactReader::new(&mut f, meta.len());
                tar.append_data(
                    &mut tar_header(meta.len(), false, mtime_secs(&meta)),
                    DATABASE,
                    &mut r,
                )?;
                anyhow::ensure!(!r.short, "the database copy changed while it was archived");
                let sha256 = r.hex();
                drop(f);
                std::fs::remove_file(snap)?;
                Ok(FileEntry {
                    path: DATABASE.into(),
                    bytes: meta.len(),
                    sha256,
                    secret: false,
                })
            }
        }
    }

    fn add_file(&mut self, rel: &str, src: &Path, secret: bool) -> anyhow::Result<Outcome> {
        for _ in 0..ATTEMPTS {
            let Some(mut f) = open_source(src)? else {
                return Ok(Outcome::Skipped(VANISHED));
            };
            let before = f.metadata()?;
            let len = before.len();
            match self {
                Sink::Directory { root } => {
                    let dest = root.join(rel);
                    if let Some(p) = dest.parent() {
                        std::fs::create_dir_all(p)?;
                    }
                    let mut out = create_file(&dest, secret, false)?;
                    let (n, sha256) = copy_hashing(&mut f, &mut out)?;
                    if n == len && same_file_state(&before, &f.metadata()?) {
                        out.sync_all()?;
                        return Ok(Outcome::Copied(FileEntry {
                            path: rel.into(),
                            bytes: n,
                            sha256,
                            secret,
                        }));
                    }
                    drop(out);
                    std::fs::remove_file(&dest)?;
                }
                Sink::Archive { tar, .. } if len <= IN_MEMORY => {
                    let mut buf = Vec::with_capacity(len as usize);
                    (&mut f).take(len + 1).read_to_end(&mut buf)?;
                    if buf.len() as u64 != len || !same_file_state(&before, &f.metadata()?) {
                        continue;
                    }
                    let mut h = tar_header(len, secret, mtime_secs(&before));
                    tar.append_data(&mut h, rel, buf.as_slice())?;
                    return Ok(Outcome::Copied(FileEntry {
                        path: rel.into(),
                        bytes: len,
                        sha256: hex::encode(Sha256::digest(&buf)),
                        secret,
                    }));
                }
                Sink::Archive { tar, .. } => {
                    // Large: streamed, no second try. A finished recording never changes (they
                    // are written through a rename); anything else that did is left out of the
                    // manifest, so a restore ignores its entry.
                    let mut r = ExactReader::new(&mut f, len);
                    let mut h = tar_header(len, secret, mtime_secs(&before));
                    tar.append_data(&mut h, rel, &mut r)?;
                    let sha256 = r.hex();
                    let short = r.short;
                    if short || !same_file_state(&before, &f.metadata()?) {
                        return Ok(Outcome::Skipped(CHANGING));
                    }
                    return Ok(Outcome::Copied(FileEntry {
                        path: rel.into(),
                        bytes: len,
                        sha256,
                        secret,
                    }));
                }
            }
        }
        Ok(Outcome::Skipped(CHANGING))
    }

    /// Last in an archive: a restore reads every file before it.
    fn add_manifest(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        match self {
            Sink::Directory { root } => {
                let mut f = create_file(&root.join(MANIFEST), false, true)?;
                f.write_all(bytes)?;
                f.sync_all()?;
            }
            Sink::Archive { tar, .. } => {
                let mut h = tar_header(bytes.len() as u64, false, (now_ms() / 1000) as u64);
                tar.append_data(&mut h, MANIFEST, bytes)?;
            }
        }
        Ok(())
    }

    fn finish(self) -> anyhow::Result<()> {
        match self {
            Sink::Directory { root } => {
                File::open(&root)?.sync_all()?;
            }
            Sink::Archive { tar, path } => {
                let f = tar
                    .into_inner()
                    .and_then(|gz| gz.finish())
                    .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
                f.sync_all()?;
            }
        }
        Ok(())
    }
}

/// Exactly `len` bytes of `inner`, hashed; zeros after a premature end (the archive's header
/// already promised `len`), which marks the copy `short`.
struct ExactReader<'a> {
    inner: io::Take<&'a mut File>,
    left: u64,
    sha: Sha256,
    short: bool,
}

impl<'a> ExactReader<'a> {
    fn new(f: &'a mut File, len: u64) -> Self {
        ExactReader {
            inner: f.take(len),
            left: len,
            sha: Sha256::new(),
            short: false,
        }
    }

    fn hex(&self) -> String {
        hex::encode(self.sha.clone().finalize())
    }
}

impl Read for ExactReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf.len().min(self.left as usize);
        let n = if self.short {
            0
        } else {
            self.inner.read(&mut buf[..want])?
        };
        let n = if n == 0 {
            self.short = true;
            buf[..want].fill(0);
            want
        } else {
            self.sha.update(&buf[..n]);
            n
        };
        self.left -= n as u64;
        Ok(n)
    }
}

/// Creates `path` (never replacing one when `new`), 0600 when `secret`.
fn create_file(path: &Path, secret: bool, new: bool) -> io::Result<File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true);
    if new {
        o.create_new(true);
    } else {
        o.create(true).truncate(true);
    }
    #[cfg(unix)]
    if secret {
        std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    o.open(path)
}

/// Copies `r` into `w`; returns the byte count and the SHA-256 in hex.
fn copy_hashing(r: &mut (impl Read + ?Sized), w: &mut impl Write) -> io::Result<(u64, String)> {
    let mut sha = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut n = 0u64;
    loop {
        let k = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(k) => k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        sha.update(&buf[..k]);
        w.write_all(&buf[..k])?;
        n += k as u64;
    }
    Ok((n, hex::encode(sha.finalize())))
}

fn remove_any(p: &Path) {
    match std::fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => {
            let _ = std::fs::remove_dir_all(p);
        }
        Ok(_) => {
            let _ = std::fs::remove_file(p);
        }
        Err(_) => {}
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The manifest's time: RFC 3339 with milliseconds (the media crate's formatter).
fn rfc3339(ms: i64) -> String {
    hawker_media::hls::rfc3339_millis(ms)
}

/// `20261207T141450Z`, for folder names: the same time without separators or milliseconds.
fn stamp(ms: i64) -> String {
    let t = rfc3339(ms);
    let (secs, _millis) = t.split_once('.').unwrap_or((t.as_str(), ""));
    format!("{}Z", secs.replace(['-', ':'], ""))
}
