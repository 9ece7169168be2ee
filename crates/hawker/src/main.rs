//! `hawker`: one binary for the server, the demo and the admin CLI.

use clap::{Args, Parser, Subcommand};
use hawker::app;
use hawker::client::AdminClient;
use hawker::config::{Config, Overrides};
use std::net::SocketAddr;
use std::path::PathBuf;

/// mimalloc: glibc's allocator was ~18% of the server's CPU under the flash-sale load (small
/// per-request allocations freed on other threads, `malloc_consolidate`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "hawker",
    version,
    about = "Self-hosted live commerce: go live, sell, settle."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct ServerFlags {
    /// Configuration file (default: ./hawker.toml if present).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Data directory (database, recordings, admin token).
    #[arg(long)]
    data: Option<PathBuf>,
    /// HTTP listen address [default: 127.0.0.1:8080].
    #[arg(long)]
    http: Option<SocketAddr>,
    /// RTMP listen address [default: 127.0.0.1:1935].
    #[arg(long)]
    rtmp: Option<SocketAddr>,
    /// WebRTC (WHIP/WHEP) UDP address [default: 0.0.0.0:8189].
    #[arg(long)]
    webrtc: Option<SocketAddr>,
}

#[derive(Args, Clone)]
struct ClientFlags {
    /// Data directory of the server (to find its admin token and address).
    #[arg(long, default_value = "hawker-data")]
    data: PathBuf,
    /// Server base URL [default: from the data directory, else http://127.0.0.1:8080].
    #[arg(long)]
    server: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServerFlags),
    /// Run the server on a fresh data directory with a seeded demo world and a live show.
    Demo(ServerFlags),
    /// Manage channels on a running server.
    #[command(subcommand)]
    Channel(ChannelCommand),
    /// Accounts on a running server (the operator's side of the trust rules).
    #[command(subcommand)]
    Account(AccountCommand),
    /// Generate sellers and buyers directly in a server's storage, for load tests.
    #[command(subcommand)]
    Seed(SeedCommand),
    /// Back up the embedded database, media and secret files, while the server runs.
    Backup(BackupFlags),
    /// Restore a backup into a data directory (the server stopped).
    Restore(RestoreFlags),
}

#[derive(Args)]
struct BackupFlags {
    /// Configuration file (default: ./hawker.toml if present).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Data directory to back up.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Where to write the backup: a new directory, or one file if the name ends in .tar.gz
    /// (or .tgz). Never overwritten.
    #[arg(long)]
    out: PathBuf,
    /// Only the media and secret files, not the database (PostgreSQL installations back up
    /// their database with pg_dump or pg_basebackup).
    #[arg(long)]
    media_only: bool,
}

#[derive(Args)]
struct RestoreFlags {
    /// Configuration file (default: ./hawker.toml if present): where the database and
    /// recordings go.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Data directory to restore into.
    #[arg(long)]
    data: Option<PathBuf>,
    /// The backup: a directory or a .tar.gz written by `hawker backup`.
    #[arg(long)]
    from: PathBuf,
    /// Replace an existing installation; what is replaced is moved into
    /// {data}/before-restore-{time}/, not deleted.
    #[arg(long)]
    force: bool,
}

#[derive(Subcommand)]
enum AccountCommand {
    /// Verify an account's real name as the operator and attest the rules course, so that its
    /// channels may go live (recorded in the audit log as the operator's review). The admin's
    /// own e-mail is admin@hawker.local.
    Verify {
        email: String,
        /// The legal name on the identity document.
        #[arg(long)]
        legal_name: String,
        /// Date of birth, YYYY-MM-DD (streamers must be 16 or older).
        #[arg(long)]
        birth_date: String,
        /// The identity document's number (kept only as a keyed hash and its last 4).
        #[arg(long)]
        id_number: String,
        #[command(flatten)]
        client: ClientFlags,
    },
}

#[derive(Subcommand)]
enum SeedCommand {
    /// The department-store chain at full size: stores, clerks (each with a channel selling
    /// from their store's stock), catalog. Re-running grows it.
    Chain {
        #[arg(long, default_value_t = 65)]
        stores: usize,
        #[arg(long, default_value_t = 5000)]
        clerks: usize,
        #[command(flatten)]
        server: ServerFlags,
    },
    /// Buyer accounts with a session each; prints one session cookie value per line.
    Buyers {
        #[arg(long)]
        count: usize,
        #[command(flatten)]
        server: ServerFlags,
    },
}

#[derive(Subcommand)]
enum ChannelCommand {
    /// Create a channel; prints its stream key and URLs.
    Create {
        slug: String,
        #[arg(long)]
        title: String,
        /// E-mail of the owning account (default: the admin).
        #[arg(long)]
        owner: Option<String>,
        /// Print only this field of the channel (e.g. `stream_key`), for scripts.
        #[arg(long)]
        print: Option<String>,
        #[command(flatten)]
        client: ClientFlags,
    },
    /// Replace a channel's stream key.
    RotateKey {
        slug: String,
        #[command(flatten)]
        client: ClientFlags,
    },
    /// List channels.
    List {
        #[command(flatten)]
        client: ClientFlags,
    },
}

fn init_logging(cfg: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&cfg.log.filter));
    use std::io::IsTerminal;
    // Logs go to stderr, so stdout stays clean for the banner and `--json` output.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    if cfg.log.format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn load(flags: &ServerFlags) -> anyhow::Result<Config> {
    Config::load(
        flags.config.as_deref(),
        &Overrides {
            data: flags.data.clone(),
            http: flags.http,
            rtmp: flags.rtmp,
            webrtc: flags.webrtc,
        },
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(flags) => {
            let cfg = load(&flags)?;
            init_logging(&cfg);
            let running = app::start(cfg).await?;
            app::shutdown_signal().await;
            running.shutdown().await;
        }
        Command::Demo(mut flags) => {
            if flags.data.is_none() {
                let dir = std::env::temp_dir().join(format!("hawker-demo-{}", std::process::id()));
                flags.data = Some(dir);
            }
            let mut cfg = load(&flags)?;
            // The demo is a playground on this machine: a webhook receiver on localhost is what
            // one tries it with. A real installation refuses internal addresses by default.
            cfg.webhooks.allow_private_targets = true;
            init_logging(&cfg);
            let data = cfg.data.clone();
            let running = app::start(cfg).await?;
            let seeded = hawker::demo::seed(running.store.as_ref()).await?;
            hawker::demo::trust_world(&running).await?;
            // A past show with a recording and its pins: the shoppable replay (~7 s).
            if let Err(e) = hawker::demo::record_a_replay(&running, &seeded).await {
                tracing::warn!(error = %e, "demo replay not recorded");
            }
            let cancel = tokio_util::sync::CancellationToken::new();
            hawker::demo::start_publisher(&running, &seeded, cancel.clone())?;
            if let Err(e) = hawker::demo::stock_the_shelf(&running, &seeded).await {
                tracing::warn!(error = %e, "demo shelf not stocked");
            }
            // A closed stdout (a pipe whose reader went away) must not take the server down.
            {
                use std::io::Write;
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(hawker::demo::banner(&running, &seeded, &data).as_bytes());
                let _ = out.flush();
            }
            app::shutdown_signal().await;
            cancel.cancel();
            running.shutdown().await;
        }
        Command::Channel(cmd) => channel(cmd).await?,
        Command::Seed(cmd) => seed(cmd).await?,
        Command::Account(cmd) => account(cmd).await?,
        Command::Backup(flags) => backup(flags)?,
        Command::Restore(flags) => restore(flags)?,
    }
    Ok(())
}

fn load_data(config: Option<&std::path::Path>, data: Option<PathBuf>) -> anyhow::Result<Config> {
    Config::load(
        config,
        &Overrides {
            data,
            ..Default::default()
        },
    )
}

fn backup(flags: BackupFlags) -> anyhow::Result<()> {
    use hawker::backup::{human_bytes, BackupOptions};
    let cfg = load_data(flags.config.as_deref(), flags.data)?;
    let r = hawker::backup::backup(
        &cfg,
        &BackupOptions {
            out: flags.out,
            media_only: flags.media_only,
        },
    )?;
    let m = &r.manifest;
    for s in m.skipped.iter().take(20) {
        eprintln!("left out {} ({})", s.path, s.reason);
    }
    if m.skipped.len() > 20 {
        eprintln!("left out {} more files", m.skipped.len() - 20);
    }
    let db = match &m.database {
        Some(d) => format!("the database (schema {}) and ", d.schema_version),
        None => "no database, ".to_string(),
    };
    println!(
        "backup written to {}: {db}{} files, {}; restore with: hawker restore --from {} --data DIR",
        r.out.display(),
        m.files.len(),
        human_bytes(r.bytes()),
        r.out.display()
    );
    Ok(())
}

fn restore(flags: RestoreFlags) -> anyhow::Result<()> {
    use hawker::backup::{human_bytes, RestoreOptions};
    let cfg = load_data(flags.config.as_deref(), flags.data)?;
    let r = hawker::backup::restore(
        &cfg,
        &RestoreOptions {
            from: flags.from,
            force: flags.force,
        },
    )?;
    let m = &r.manifest;
    for p in &r.moved_aside {
        println!("the replaced installation is in {}", p.display());
    }
    if !m.skipped.is_empty() {
        eprintln!(
            "note: {} files were left out when the backup was made (see its manifest.json)",
            m.skipped.len()
        );
    }
    println!(
        "restored the backup of {} (Hawker {}) into {}: {}{} files, {}; start it with: hawker serve --data {}",
        m.created_at,
        m.hawker_version,
        r.data.display(),
        if m.database.is_some() { "the database and " } else { "no database, " },
        m.files.len(),
        human_bytes(m.files.iter().map(|f| f.bytes).sum()),
        r.data.display()
    );
    Ok(())
}

async fn seed(cmd: SeedCommand) -> anyhow::Result<()> {
    let flags = match &cmd {
        SeedCommand::Chain { server, .. } | SeedCommand::Buyers { server, .. } => server,
    };
    let cfg = load(flags)?;
    std::fs::create_dir_all(&cfg.data)?;
    let url = if cfg.storage.url.is_empty() {
        hawker_storage::sqlite_url_for_dir(&cfg.data)
    } else {
        cfg.storage.url.clone()
    };
    let store = hawker_storage::SqlStore::open(&url).await?;
    // One hash for every generated account: hashing thousands of passwords would only burn time.
    let hash = tokio::task::spawn_blocking(|| {
        hawker_domain::PasswordHash::create(hawker::demo::DEMO_PASSWORD)
    })
    .await??;
    match cmd {
        SeedCommand::Chain { stores, clerks, .. } => {
            let started = std::time::Instant::now();
            let org = hawker::seed::department_store(&store, stores, clerks, None, &hash, |n| {
                if n % 500 == 0 {
                    eprintln!("{n} clerks");
                }
            })
            .await?;
            println!(
                "organisation {} with {} stores and {clerks} clerks (password {}) in {:.1} s",
                org.org,
                org.stores.len(),
                hawker::demo::DEMO_PASSWORD,
                started.elapsed().as_secs_f64()
            );
        }
        SeedCommand::Buyers { count, .. } => {
            for t in hawker::seed::buyers(&store, count, &hash).await? {
                println!("{t}");
            }
        }
    }
    Ok(())
}

async fn account(cmd: AccountCommand) -> anyhow::Result<()> {
    match cmd {
        AccountCommand::Verify {
            email,
            legal_name,
            birth_date,
            id_number,
            client,
        } => {
            let c = AdminClient::locate(&client.data, client.server.as_deref())?;
            let body = serde_json::json!({
                "email": email, "legal_name": legal_name,
                "birth_date": birth_date, "id_number": id_number,
            });
            let v = c
                .call(
                    reqwest::Method::POST,
                    "/api/v1/admin/trust/verify",
                    Some(body),
                )
                .await?;
            if client.json {
                println!("{v}");
            } else {
                match v["status"]["blocked_by"].as_str() {
                    None => println!("{email} is verified and may go live"),
                    Some(code) => println!(
                        "{email} is verified but may not go live yet: {} ({code}); next: {}",
                        v["status"]["blocked_reason"].as_str().unwrap_or(""),
                        v["status"]["next_step"].as_str().unwrap_or("see /studio")
                    ),
                }
            }
        }
    }
    Ok(())
}

async fn channel(cmd: ChannelCommand) -> anyhow::Result<()> {
    use reqwest::Method;
    match cmd {
        ChannelCommand::Create {
            slug,
            title,
            owner,
            print,
            client,
        } => {
            let c = AdminClient::locate(&client.data, client.server.as_deref())?;
            let mut body = serde_json::json!({ "slug": slug, "title": title });
            if let Some(o) = owner {
                body["owner_email"] = o.into();
            }
            let v = c.call(Method::POST, "/api/v1/channels", Some(body)).await?;
            match print {
                Some(field) => match &v[field.as_str()] {
                    serde_json::Value::String(s) => println!("{s}"),
                    serde_json::Value::Null => anyhow::bail!("the channel has no field {field:?}"),
                    other => println!("{other}"),
                },
                None => print_channel(&v, client.json),
            }
        }
        ChannelCommand::RotateKey { slug, client } => {
            let c = AdminClient::locate(&client.data, client.server.as_deref())?;
            let v = c
                .call(
                    Method::POST,
                    &format!("/api/v1/channels/{slug}/stream-key/rotate"),
                    None,
                )
                .await?;
            print_channel(&v, client.json);
        }
        ChannelCommand::List { client } => {
            let c = AdminClient::locate(&client.data, client.server.as_deref())?;
            let v = c
                .call(Method::GET, "/api/v1/channels?limit=200", None)
                .await?;
            if client.json {
                println!("{v}");
            } else {
                for ch in v.as_array().into_iter().flatten() {
                    println!(
                        "{:<30} {:<5} {}",
                        ch["slug"].as_str().unwrap_or(""),
                        if ch["live"].as_bool() == Some(true) {
                            "LIVE"
                        } else {
                            ""
                        },
                        ch["title"].as_str().unwrap_or("")
                    );
                }
            }
        }
    }
    Ok(())
}

/// `{"slug", "stream_key", "rtmp_url", "hls_url", "watch_url"}` with --json.
fn print_channel(v: &serde_json::Value, json: bool) {
    if json {
        let out = serde_json::json!({
            "slug": v["slug"], "stream_key": v["stream_key"], "rtmp_url": v["rtmp_url"],
            "whip_url": v["whip_url"], "whep_url": v["whep_url"], "studio_url": v["studio_url"],
            "hls_url": v["hls_url"], "watch_url": v["watch_url"],
        });
        println!("{out}");
    } else {
        let s = |k: &str| v[k].as_str().unwrap_or("").to_string();
        println!("Channel     {}", s("slug"));
        println!("Server      {}", s("rtmp_url"));
        println!("Stream key  {}", s("stream_key"));
        println!(
            "WHIP        {}  (OBS 30+: Bearer token = the stream key)",
            s("whip_url")
        );
        println!("Studio      {}  (go live from a browser)", s("studio_url"));
        println!("Watch       {}", s("watch_url"));
        println!("HLS         {}", s("hls_url"));
    }
}
