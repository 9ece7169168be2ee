//! Stores for tests, on both backends. PostgreSQL tests get a database of their own, created
//! on the server named by `HAWKER_TEST_POSTGRES_URL` (default: the local trust-auth server);
//! an unreachable server fails the test loudly rather than skipping it.

use crate::SqlStore;
use sqlx::Executor;

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub async fn sqlite_store() -> (SqlStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqlStore::open(&crate::sqlite_url_for_dir(dir.path()))
        .await
        .expect("open sqlite store");
    (store, dir)
}

pub fn postgres_admin_url() -> String {
    std::env::var("HAWKER_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_string())
}

/// A fresh database on the test server. Databases of earlier runs older than an hour are
/// dropped on the way, so test runs do not accumulate them.
pub async fn postgres_url() -> String {
    sqlx::any::install_default_drivers();
    let admin = postgres_admin_url();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin)
        .await
        .unwrap_or_else(|e| {
            panic!("PostgreSQL is required for these tests and is not reachable at {admin}: {e}. Start it (.ci/run does) or set HAWKER_TEST_POSTGRES_URL.")
        });
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let stale: Vec<(String,)> =
        sqlx::query_as("SELECT datname::text FROM pg_database WHERE datname LIKE 'hawker_test_%'")
            .fetch_all(&mut conn)
            .await
            .expect("list databases");
    for (name,) in stale {
        let born: u64 = name
            .split('_')
            .nth(2)
            .and_then(|t| t.parse().ok())
            .unwrap_or(0);
        if born + 3600 < now {
            let _ = conn
                .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                .await;
        }
    }
    let name = format!("hawker_test_{now}_{:08x}", rand::random::<u32>());
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create test database");
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    format!("{base}/{name}")
}

pub async fn postgres_store() -> SqlStore {
    SqlStore::open(&postgres_url().await)
        .await
        .expect("open postgres store")
}

/// Runs a test body against SQLite and against PostgreSQL: `both_backends!(name, |store| async move { .. });`
#[macro_export]
macro_rules! both_backends {
    ($name:ident, |$store:ident| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test]
            async fn sqlite() {
                let (s, _dir) = $crate::testing::sqlite_store().await;
                let $store: std::sync::Arc<$crate::SqlStore> = std::sync::Arc::new(s);
                $body.await
            }
            #[tokio::test]
            async fn postgres() {
                let $store: std::sync::Arc<$crate::SqlStore> =
                    std::sync::Arc::new($crate::testing::postgres_store().await);
                $body.await
            }
        }
    };
}
