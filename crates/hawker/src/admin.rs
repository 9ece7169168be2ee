//! The first administrator: created at first start, its API token and password written to the
//! data directory (readable by the owner only), never to the log.

use hawker_domain::{ApiToken, DisplayName, Email, PasswordHash, Role, UnixMillis};
use hawker_storage::{NewAccount, Store};
use rand::distributions::Alphanumeric;
use rand::Rng;
use std::path::{Path, PathBuf};

pub const ADMIN_EMAIL: &str = "admin@hawker.local";
pub const TOKEN_FILE: &str = "admin-token";
pub const PASSWORD_FILE: &str = "admin-password";

pub(crate) fn write_secret(path: &Path, value: &str) -> std::io::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    opts.mode(0o600);
    let mut f = opts.open(path)?;
    f.write_all(value.as_bytes())?;
    f.write_all(b"\n")
}

/// Makes sure an admin account exists and `{data}/admin-token` holds a working token for it.
/// Returns the token file's path.
pub async fn ensure_admin(store: &dyn Store, data: &Path) -> anyhow::Result<PathBuf> {
    let token_path = data.join(TOKEN_FILE);
    if let Ok(existing) = std::fs::read_to_string(&token_path) {
        let token = ApiToken::from_presented(existing.trim());
        if store.api_token_account(&token.hash()).await?.is_some() {
            return Ok(token_path);
        }
    }
    let email = Email::parse(ADMIN_EMAIL)?;
    let admin = match store.account_by_email(&email).await? {
        Some(a) => a,
        None => {
            let password: String = rand::thread_rng()
                .sample_iter(&Alphanumeric)
                .take(24)
                .map(char::from)
                .collect();
            let hash = tokio::task::spawn_blocking(move || {
                PasswordHash::create(&password).map(|h| (h, password))
            })
            .await??;
            let account = store
                .create_account(NewAccount {
                    email,
                    display_name: DisplayName::parse("Platform admin")?,
                    password: hash.0,
                    role: Role::PlatformAdmin,
                    created_at: UnixMillis::now(),
                })
                .await?;
            write_secret(&data.join(PASSWORD_FILE), &hash.1)?;
            tracing::info!(
                email = ADMIN_EMAIL,
                password_file = %data.join(PASSWORD_FILE).display(),
                "created the platform admin account"
            );
            account
        }
    };
    let token = ApiToken::generate();
    store
        .create_api_token(admin.id, &token.hash(), "admin CLI", UnixMillis::now())
        .await?;
    write_secret(&token_path, token.expose())?;
    tracing::info!(file = %token_path.display(), "admin API token written");
    Ok(token_path)
}
