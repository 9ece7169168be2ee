//! `hawker restore`: a backup archive checked against its manifest and unpacked into a data
//! directory (refusing a running server's, or one not empty unless forced).

use super::*;

pub struct RestoreOptions {
    /// A backup directory or `.tar.gz`.
    pub from: PathBuf,
    /// Replace an existing installation (moved aside into `{data}/before-restore-{time}/`).
    pub force: bool,
}

#[derive(Debug)]
pub struct RestoreReport {
    pub data: PathBuf,
    pub manifest: Manifest,
    /// Where the replaced files went.
    pub moved_aside: Vec<PathBuf>,
}

/// What a file of a backup is, from its path alone (never from the manifest's say-so).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    Database,
    Secret,
    Media,
}

fn classify(path: &str) -> anyhow::Result<Item> {
    let parts: Vec<&str> = path.split('/').collect();
    let sane = parts
        .iter()
        .all(|p| !p.is_empty() && *p != "." && *p != ".." && !p.contains(['\\', '\0']));
    anyhow::ensure!(sane, "the backup names an unsafe path {path:?}");
    match parts.as_slice() {
        [DATABASE] => Ok(Item::Database),
        [name] if SECRETS.contains(name) => Ok(Item::Secret),
        [dir, _, ..] if MEDIA.contains(dir) => Ok(Item::Media),
        _ => anyhow::bail!("the backup holds an unexpected file {path:?}"),
    }
}

fn check_manifest(m: &Manifest) -> anyhow::Result<()> {
    anyhow::ensure!(m.kind == KIND, "not a Hawker backup (kind {:?})", m.kind);
    anyhow::ensure!(
        m.format <= FORMAT,
        "the backup was made by a newer Hawker ({}, format {}); restore it with that version",
        m.hawker_version,
        m.format
    );
    let mut seen = BTreeSet::new();
    let mut has_db = false;
    for f in &m.files {
        let item = classify(&f.path)?;
        has_db |= item == Item::Database;
        anyhow::ensure!(
            seen.insert(f.path.as_str()),
            "the manifest lists {} twice",
            f.path
        );
        anyhow::ensure!(
            f.sha256.len() == 64 && f.sha256.bytes().all(|b| b.is_ascii_hexdigit()),
            "the manifest's checksum of {} is malformed",
            f.path
        );
    }
    anyhow::ensure!(
        has_db == m.database.is_some(),
        "the manifest and its file list disagree about the database"
    );
    Ok(())
}

fn mismatch(f: &FileEntry, bytes: u64, sha: &str) -> anyhow::Error {
    if bytes != f.bytes {
        anyhow::anyhow!(
            "{}: {bytes} bytes, the manifest says {} (checksum mismatch)",
            f.path,
            f.bytes
        )
    } else {
        anyhow::anyhow!(
            "{}: checksum mismatch (SHA-256 {sha}, the manifest says {})",
            f.path,
            f.sha256
        )
    }
}

enum Source {
    Directory(PathBuf),
    Archive(PathBuf),
}

impl Source {
    fn open(from: &Path) -> anyhow::Result<Source> {
        let meta = std::fs::metadata(from)
            .map_err(|e| anyhow::anyhow!("no backup at {}: {e}", from.display()))?;
        if meta.is_dir() {
            anyhow::ensure!(
                from.join(MANIFEST).is_file(),
                "{} has no {MANIFEST}: not a Hawker backup",
                from.display()
            );
            return Ok(Source::Directory(from.to_path_buf()));
        }
        let mut magic = [0u8; 2];
        File::open(from)?.read_exact(&mut magic).ok();
        anyhow::ensure!(
            magic == [0x1f, 0x8b],
            "{} is neither a backup directory nor a .tar.gz",
            from.display()
        );
        Ok(Source::Archive(from.to_path_buf()))
    }

    fn entries(path: &Path) -> anyhow::Result<tar::Archive<flate2::read::GzDecoder<File>>> {
        Ok(tar::Archive::new(flate2::read::GzDecoder::new(File::open(
            path,
        )?)))
    }

    /// Reads the manifest and checks every file against it; writes nothing.
    fn verify(&self) -> anyhow::Result<Manifest> {
        match self {
            Source::Directory(root) => {
                let m: Manifest = serde_json::from_slice(&std::fs::read(root.join(MANIFEST))?)
                    .map_err(|e| anyhow::anyhow!("{MANIFEST} is unreadable: {e}"))?;
                check_manifest(&m)?;
                for f in &m.files {
                    let mut src = File::open(root.join(&f.path))
                        .map_err(|e| anyhow::anyhow!("{} is missing: {e}", f.path))?;
                    let (bytes, sha) = copy_hashing(&mut src, &mut io::sink())?;
                    if bytes != f.bytes || sha != f.sha256 {
                        return Err(mismatch(f, bytes, &sha));
                    }
                }
                Ok(m)
            }
            Source::Archive(path) => {
                let mut seen: BTreeMap<String, (u64, String)> = BTreeMap::new();
                let mut manifest = None;
                let mut ar = Self::entries(path)?;
                for e in ar.entries()? {
                    let mut e = e?;
                    if e.header().entry_type() != tar::EntryType::Regular {
                        continue;
                    }
                    let name = e.path()?.to_string_lossy().into_owned();
                    if name == MANIFEST {
                        let mut b = Vec::new();
                        (&mut e).take(64 << 20).read_to_end(&mut b)?;
                        manifest = Some(b);
                        continue;
                    }
                    let got = copy_hashing(&mut e, &mut io::sink())?;
                    if seen.insert(name.clone(), got).is_some() {
                        anyhow::bail!("the archive holds {name} twice");
                    }
                }
                let m: Manifest = serde_json::from_slice(
                    &manifest
                        .ok_or_else(|| anyhow::anyhow!("no {MANIFEST}: not a Hawker backup"))?,
                )
                .map_err(|e| anyhow::anyhow!("{MANIFEST} is unreadable: {e}"))?;
                check_manifest(&m)?;
                for f in &m.files {
                    let (bytes, sha) = seen
                        .get(&f.path)
                        .ok_or_else(|| anyhow::anyhow!("{} is missing", f.path))?;
                    if *bytes != f.bytes || *sha != f.sha256 {
                        return Err(mismatch(f, *bytes, sha));
                    }
                }
                Ok(m)
            }
        }
    }

    /// Writes the manifest's files under `staging`, checking each again as it is written.
    fn extract(&self, m: &Manifest, staging: &Path) -> anyhow::Result<()> {
        let wanted: BTreeMap<&str, &FileEntry> =
            m.files.iter().map(|f| (f.path.as_str(), f)).collect();
        let write = |f: &FileEntry, r: &mut dyn Read| -> anyhow::Result<()> {
            let dest = staging.join(&f.path);
            if let Some(p) = dest.parent() {
                std::fs::create_dir_all(p)?;
            }
            let mut out = create_file(&dest, f.secret || classify(&f.path)? == Item::Secret, true)?;
            let (bytes, sha) = copy_hashing(r, &mut out)?;
            if bytes != f.bytes || sha != f.sha256 {
                return Err(mismatch(f, bytes, &sha));
            }
            out.sync_all()?;
            Ok(())
        };
        match self {
            Source::Directory(root) => {
                for f in &m.files {
                    write(f, &mut File::open(root.join(&f.path))?)?;
                }
            }
            Source::Archive(path) => {
                let mut done = BTreeSet::new();
                let mut ar = Self::entries(path)?;
                for e in ar.entries()? {
                    let mut e = e?;
                    if e.header().entry_type() != tar::EntryType::Regular {
                        continue;
                    }
                    let name = e.path()?.to_string_lossy().into_owned();
                    if let Some(f) = wanted.get(name.as_str()) {
                        write(f, &mut e)?;
                        done.insert(f.path.clone());
                    }
                }
                if let Some(f) = m.files.iter().find(|f| !done.contains(&f.path)) {
                    anyhow::bail!("{} is missing", f.path);
                }
            }
        }
        Ok(())
    }
}

/// Why a restore must not write here now, if a server (or anything else) has the installation
/// open: the SQLite database held open by another process, else, with PostgreSQL, the address
/// the last server on this data directory wrote into `server.json` answering.
fn in_use(layout: &Layout) -> Option<String> {
    match &layout.database {
        Some(db) if db.exists() => match sqlite_busy(db) {
            Ok(false) => None,
            Ok(true) => Some(format!(
                "the database {} is open in another process, most likely a server running on {}",
                db.display(),
                layout.data.display()
            )),
            Err(e) => {
                eprintln!("note: cannot tell whether {} is in use: {e}", db.display());
                None
            }
        },
        // SQLite without a database yet: no server has this data directory open.
        Some(_) => None,
        None => server_answers(&layout.data),
    }
}

/// True when another connection has the database open. In WAL mode every connection keeps a
/// shared lock on the file while it is open, so an exclusive lock taken without waiting fails
/// exactly when someone else is there. Nothing is changed.
fn sqlite_busy(db: &Path) -> anyhow::Result<bool> {
    use rusqlite::{Connection, ErrorCode, OpenFlags};
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    conn.busy_timeout(Duration::ZERO)?;
    let r = conn
        .query_row("PRAGMA locking_mode = EXCLUSIVE", [], |r| {
            r.get::<_, String>(0)
        })
        .and_then(|_| conn.execute_batch("BEGIN EXCLUSIVE; COMMIT;"));
    match r {
        Ok(()) => Ok(false),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if matches!(e.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) =>
        {
            Ok(true)
        }
        Err(e) => Err(e.into()),
    }
}

fn server_answers(data: &Path) -> Option<String> {
    use std::net::ToSocketAddrs;
    let file = data.join(crate::app::SERVER_FILE);
    let text = std::fs::read_to_string(&file).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let url = v["http_url"].as_str()?;
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split('/').next()?;
    let authority = if authority.contains(':') && !authority.ends_with(']') {
        authority.to_string()
    } else {
        format!("{authority}:{}", if scheme == "https" { 443 } else { 80 })
    };
    let addrs = authority.to_socket_addrs().ok()?;
    for a in addrs {
        if std::net::TcpStream::connect_timeout(&a, Duration::from_millis(500)).is_ok() {
            return Some(format!(
                "a server answers at {url}, the address in {} (delete that file if it is not this \
                 installation's server)",
                file.display()
            ));
        }
    }
    None
}

fn non_empty_dir(p: &Path) -> bool {
    std::fs::read_dir(p).is_ok_and(|mut rd| rd.next().is_some())
}

/// What a restore would replace in this installation.
fn existing(layout: &Layout, m: &Manifest) -> Vec<PathBuf> {
    let mut found = Vec::new();
    if let (Some(db), Some(_)) = (&layout.database, &m.database) {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let p = beside(db, suffix);
            if p.exists() {
                found.push(p);
            }
        }
    }
    for s in SECRETS {
        let p = layout.data.join(s);
        if p.exists() {
            found.push(p);
        }
    }
    for dir in MEDIA {
        let p = layout.media_dir(dir);
        if non_empty_dir(&p) {
            found.push(p);
        }
    }
    found
}

fn rename_or_copy(from: &Path, to: &Path) -> anyhow::Result<()> {
    if let Some(p) = to.parent() {
        std::fs::create_dir_all(p)?;
    }
    if std::fs::rename(from, to).is_ok() {
        return Ok(());
    }
    // Another file system (recordings elsewhere): copy, then drop the staged copy.
    copy_tree(from, to)?;
    remove_any(from);
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    if from.is_dir() {
        std::fs::create_dir_all(to)?;
        for e in std::fs::read_dir(from)? {
            let e = e?;
            copy_tree(&e.path(), &to.join(e.file_name()))?;
        }
    } else {
        std::fs::copy(from, to)?;
        File::open(to)?.sync_all()?;
    }
    Ok(())
}

/// Points the restored database's recordings at where this installation keeps them (the rows
/// hold the directory each was written to, which retention deletes): a restore elsewhere must
/// never reach into the old installation's files.
fn repoint_recordings(db: &Path, root: &Path) -> anyhow::Result<()> {
    let conn = rusqlite::Connection::open(db)?;
    let _: String = conn.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))?;
    let tx = conn.unchecked_transaction()?;
    let rows: Vec<(i64, String)> = {
        let mut st = tx.prepare("SELECT show_id, dir FROM recordings")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    for (show, dir) in rows {
        let new = root.join(show.to_string()).to_string_lossy().into_owned();
        if new != dir {
            tx.execute(
                "UPDATE recordings SET dir = ?1 WHERE show_id = ?2",
                rusqlite::params![new, show],
            )?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// Restores a backup into the installation `cfg` describes; the server must be stopped.
pub fn restore(cfg: &Config, opts: &RestoreOptions) -> anyhow::Result<RestoreReport> {
    let layout = Layout::of(cfg)?;
    let source = Source::open(&opts.from)?;
    let manifest = source
        .verify()
        .map_err(|e| anyhow::anyhow!("the backup {} is refused: {e:#}", opts.from.display()))?;
    if manifest.database.is_some() && layout.database.is_none() {
        anyhow::bail!(
            "the backup holds an embedded (SQLite) database but this configuration uses \
             PostgreSQL: restore into an installation without [storage] url, or restore \
             PostgreSQL with pg_restore and use a --media-only backup"
        );
    }
    if let Some(why) = in_use(&layout) {
        anyhow::bail!(
            "{why}: stop the server first (a restore never writes under a running server)"
        );
    }
    let replaced = existing(&layout, &manifest);
    if !replaced.is_empty() && !opts.force {
        let list: Vec<String> = replaced.iter().map(|p| p.display().to_string()).collect();
        anyhow::bail!(
            "{} already holds an installation ({}); a restore replaces it only with --force (the \
             replaced files are then moved into {}/before-restore-…/, not deleted)",
            layout.data.display(),
            list.join(", "),
            layout.data.display()
        );
    }

    let created = !layout.data.exists();
    std::fs::create_dir_all(&layout.data)?;
    let staging = layout
        .data
        .join(format!(".restore-partial-{}", std::process::id()));
    let result = (|| -> anyhow::Result<Vec<PathBuf>> {
        Sink::directory(&staging)?;
        source.extract(&manifest, &staging)?;
        if manifest.database.is_some() {
            let root = std::path::absolute(&layout.recordings)?;
            repoint_recordings(&staging.join(DATABASE), &root)?;
        }
        let moved = move_aside(&layout, &replaced)?;
        place(&staging, &layout).map_err(|e| {
            anyhow::anyhow!(
                "the restore stopped half-way ({e:#}); run it again with --force{}",
                if moved.is_empty() {
                    String::new()
                } else {
                    format!(" (what it replaced is in {})", moved[0].display())
                }
            )
        })?;
        Ok(moved)
    })();
    remove_any(&staging);
    match result {
        Ok(moved_aside) => Ok(RestoreReport {
            data: layout.data.clone(),
            manifest,
            moved_aside,
        }),
        Err(e) => {
            if created {
                let _ = std::fs::remove_dir(&layout.data);
            }
            Err(e)
        }
    }
}

/// Moves `paths` into `{data}/before-restore-{time}/` (or beside themselves when they live
/// outside the data directory).
fn move_aside(layout: &Layout, paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    if paths.is_empty() {
        return Ok(vec![]);
    }
    let stamp = stamp(now_ms());
    let aside = layout.data.join(format!("before-restore-{stamp}"));
    let mut moved = Vec::new();
    for p in paths {
        let to = match p.strip_prefix(&layout.data) {
            Ok(rel) => aside.join(rel),
            Err(_) => beside(p, &format!(".before-restore-{stamp}")),
        };
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::rename(p, &to).map_err(|e| {
            anyhow::anyhow!("cannot move {} aside to {}: {e}", p.display(), to.display())
        })?;
        moved.push(if to.starts_with(&aside) {
            aside.clone()
        } else {
            to
        });
    }
    moved.dedup();
    Ok(moved)
}

/// Moves the staged files into place, the database last.
fn place(staging: &Path, layout: &Layout) -> anyhow::Result<()> {
    for s in SECRETS {
        let from = staging.join(s);
        if from.exists() {
            std::fs::rename(&from, layout.data.join(s))?;
        }
    }
    for dir in MEDIA {
        let from = staging.join(dir);
        if !from.exists() {
            continue;
        }
        let to = layout.media_dir(dir);
        // An empty directory (a server's first start makes them) is not in the way.
        if to.is_dir() && !non_empty_dir(&to) {
            std::fs::remove_dir(&to)?;
        }
        rename_or_copy(&from, &to)?;
    }
    if let Some(db) = &layout.database {
        let from = staging.join(DATABASE);
        if from.exists() {
            rename_or_copy(&from, db)?;
        }
    }
    Ok(())
}

/// `12.3 MiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} bytes")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}
