//! The connection pool: sqlx's `AnyPool`, built from `[default.databases.main]`
//! (`DATABASE_URL`) the way rocket_db_pools builds its own sqlx pools, with two changes
//! for the session check that runs on every request.
//!
//! - **No ping on every acquire.** sqlx pings a pooled connection before handing it
//!   out (`test_before_acquire`): on PostgreSQL a round trip more before the one query
//!   a signed-in request needs. (sqlx 0.7 also pings a connection as it comes back, in
//!   a task of its own, outside the request's latency; that cannot be turned off.)
//!   Here a connection is
//!   pinged only when it has sat idle for [`CHECK_AFTER_IDLE`] (HikariCP's
//!   "alive bypass window"): under load connections are always fresh from use and
//!   nothing is added; after a quiet spell, a connection the server or a firewall
//!   dropped is found and replaced before a request sees it.
//! - **SQLite waits for the write lock.** Every SQLite connection gets
//!   `busy_timeout` = `connect_timeout` (as rocket_db_pools sets it for its typed
//!   SQLite pool, which `Any` bypasses), so concurrent writers queue instead of
//!   failing with `SQLITE_BUSY`. WAL mode, set once in the file at start, lets readers
//!   go on while one writes.

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::time::Duration;

use rocket::config::LogLevel;
use rocket::figment::Figment;
use rocket_db_pools::{Config, Error};
use sqlx::any::AnyConnectOptions;
use sqlx::pool::{PoolConnection, PoolConnectionMetadata, PoolOptions};
use sqlx::{Any, AnyConnection, ConnectOptions, Connection, Executor as _};

use super::Backend;

/// A pooled connection idle for longer than this is pinged before it is handed out.
pub const CHECK_AFTER_IDLE: Duration = Duration::from_secs(1);

/// The pool behind [`super::Db`]; derefs to sqlx's `AnyPool`.
#[derive(Debug, Clone)]
pub struct Pool(sqlx::AnyPool);

impl Deref for Pool {
    type Target = sqlx::AnyPool;

    fn deref(&self) -> &sqlx::AnyPool {
        &self.0
    }
}

type Checked<'c, T> = Pin<Box<dyn Future<Output = Result<T, sqlx::Error>> + Send + 'c>>;

/// `before_acquire`: pings a connection that has been idle, keeps one that was just
/// used. A failed ping drops the connection and the pool opens or picks another.
fn check_if_idle(conn: &mut AnyConnection, meta: PoolConnectionMetadata) -> Checked<'_, bool> {
    Box::pin(async move {
        if meta.idle_for >= CHECK_AFTER_IDLE {
            conn.ping().await?;
        }
        Ok(true)
    })
}

/// SQLite's page cache per connection, in KiB (SQLite's default is 2,000). Each pooled
/// connection keeps its own cache; pages beyond it come from the operating system's
/// file cache, one `pread` away.
pub const SQLITE_CACHE_KIB: u32 = 512;

/// `after_connect` on SQLite: how long a writer waits for the lock, in milliseconds,
/// and a page cache of [`SQLITE_CACHE_KIB`].
fn sqlite_setup(
    busy_millis: u64,
) -> impl for<'c> Fn(&'c mut AnyConnection, PoolConnectionMetadata) -> Checked<'c, ()> {
    move |conn, _| {
        Box::pin(async move {
            let pragmas =
                format!("PRAGMA busy_timeout = {busy_millis}; PRAGMA cache_size = -{SQLITE_CACHE_KIB}");
            conn.execute(pragmas.as_str()).await?;
            Ok(())
        })
    }
}

#[rocket::async_trait]
impl rocket_db_pools::Pool for Pool {
    type Connection = PoolConnection<Any>;
    type Error = Error<sqlx::Error>;

    async fn init(figment: &Figment) -> Result<Self, Self::Error> {
        let config = figment.extract::<Config>()?;
        let mut options = config.url.parse::<AnyConnectOptions>().map_err(Error::Init)?;
        options = options.disable_statement_logging();
        // As rocket_db_pools does: statements are logged at Rocket's `debug` level only.
        if let Ok(level) = figment.extract_inner::<LogLevel>(rocket::Config::LOG_LEVEL) {
            if !matches!(level, LogLevel::Normal | LogLevel::Off) {
                options =
                    options.log_statements(level.into()).log_slow_statements(level.into(), Duration::ZERO);
            }
        }
        let wait = Duration::from_secs(config.connect_timeout);
        let mut pool = PoolOptions::<Any>::new()
            .max_connections(config.max_connections as u32)
            .min_connections(config.min_connections.unwrap_or_default())
            .acquire_timeout(wait)
            .idle_timeout(config.idle_timeout.map(Duration::from_secs))
            .test_before_acquire(false)
            .before_acquire(check_if_idle);
        if Backend::from_url(&config.url) == Some(Backend::Sqlite) {
            pool = pool.after_connect(sqlite_setup(config.connect_timeout.saturating_mul(1000)));
        }
        pool.connect_with(options).await.map(Pool).map_err(Error::Init)
    }

    // Only rocket_db_pools' own `Connection` guard calls this; the app uses `Db::conn`.
    #[allow(clippy::disallowed_methods)]
    async fn get(&self) -> Result<Self::Connection, Self::Error> {
        self.0.acquire().await.map_err(Error::Get)
    }

    async fn close(&self) {
        self.0.close().await;
    }
}
