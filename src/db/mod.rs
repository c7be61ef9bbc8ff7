//! The database: one pool over `sqlx::Any`, so the same binary runs on SQLite (the
//! embedded default) and PostgreSQL (production), chosen by the URL at start.
//!
//! All SQL lives in this module, one file per table. Queries are written once, in the
//! dialect both backends accept: `$1` placeholders, integer Unix-second times, text
//! ids, `RETURNING`.

pub mod accounts;
pub mod email_tokens;
pub mod oauth_flows;
pub mod outbox;
pub mod pending_signins;
pub mod pool;
pub mod security_events;
pub mod sessions;
pub mod throttle;
pub mod two_factor;
pub mod users;

use std::path::Path;

use rocket::fairing::AdHoc;
use rocket::{Build, Rocket};
use rocket_db_pools::Database;
use sqlx::migrate::Migrator;

use crate::error::Error;

/// The pool, initialised by rocket_db_pools from `databases.main` (`DATABASE_URL`);
/// see [`pool`] for how it differs from sqlx's defaults.
#[derive(Database)]
#[database("main")]
pub struct Db(pool::Pool);

/// A connection checked out of the pool, for handlers and guards ([`Db::conn`]).
pub type Pooled = sqlx::pool::PoolConnection<sqlx::Any>;

impl Db {
    /// A connection from the pool. Every failure to get one is an outage
    /// ([`Error::Unavailable`], 503 with `Retry-After`), whatever the server said: a
    /// PostgreSQL that refuses new connections (`55000`, "not accepting connections")
    /// or the credentials, a pool that timed out or was closed. Handlers and guards get
    /// their connections here, never from the pool directly.
    #[allow(clippy::disallowed_methods)]
    pub async fn conn(&self) -> Result<Pooled, Error> {
        self.acquire().await.map_err(Error::Unavailable)
    }
}

/// A transaction that writes. On SQLite it takes the database's write lock at once,
/// as `BEGIN IMMEDIATE` does (sqlx 0.7 cannot send that): a deferred transaction that
/// reads and then writes fails at its first write with `SQLITE_BUSY_SNAPSHOT`, at
/// once and past any busy timeout, whenever another connection committed in between,
/// and the outbox worker, the throttle and every sign-in commit all the time. Taken
/// first, the lock is waited for like any other (the busy timeout), and the
/// transaction cannot fail that way. On PostgreSQL a plain `BEGIN` (row locks and
/// MVCC do the rest). Handlers and query helpers start their transactions here.
#[allow(clippy::disallowed_methods)]
pub async fn begin(conn: &mut Conn) -> Result<sqlx::Transaction<'_, sqlx::Any>, sqlx::Error> {
    let sqlite = conn.backend_name() == "SQLite";
    let mut tx = sqlx::Connection::begin(conn).await?;
    if sqlite {
        // A write statement takes the write lock when it starts, whatever it matches.
        sqlx::query("UPDATE throttle SET hits = hits WHERE 0 = 1").execute(&mut *tx).await?;
    }
    Ok(tx)
}

/// The connection every query function takes first: a pooled connection derefs to it,
/// and so does a transaction, so one function serves both.
pub type Conn = sqlx::AnyConnection;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// The row of a query that matches at most one, read to the end.
///
/// Every query here reads its whole result (`fetch_all`) instead of using sqlx's
/// `fetch_optional` or `fetch_one`. Those stop stepping an SQLite statement after its
/// first row and leave it un-reset in the connection's statement cache, so the
/// connection keeps that statement's transaction open: an `INSERT … RETURNING` stays
/// uncommitted, and later reads on the connection see an old snapshot. Under parallel
/// load a throttle counter was read one increment short. Reading to the end finishes
/// the statement on both backends.
pub(crate) fn at_most_one<T>(rows: Vec<T>) -> Option<T> {
    rows.into_iter().next()
}

/// The row of a query that always returns exactly one (`COUNT(*)`, `RETURNING`).
pub(crate) fn exactly_one<T>(rows: Vec<T>) -> Result<T, sqlx::Error> {
    rows.into_iter().next().ok_or(sqlx::Error::RowNotFound)
}

/// Which SQL server is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a database URL names, or `None` for an unsupported scheme.
    pub fn from_url(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

/// A database URL as it may be logged: without its user name and password (a mistyped
/// scheme must not print the credentials into the log).
pub fn redact_url(url: &str) -> String {
    if !url.contains('@') {
        return url.to_string();
    }
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.has_host() => {
            let _ = parsed.set_password(None);
            let _ = parsed.set_username("");
            parsed.to_string()
        }
        // Not a URL with a host (`ada:secret@db/auth` parses as a scheme and a path):
        // keep nothing before the last `@`.
        _ => format!("…@{}", url.rsplit_once('@').map_or("", |(_, host)| host)),
    }
}

/// Makes an SQLite URL usable on a fresh machine: creates the file's directory and
/// adds `mode=rwc` (rocket_db_pools does this only for its typed SQLite pool, not for
/// `Any`). Other URLs pass unchanged.
pub fn prepare_url(url: &str) -> Result<String, String> {
    let Some(rest) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) else {
        return Ok(url.to_string());
    };
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" {
        return Ok(url.to_string());
    }
    if let Some(dir) = Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create the database directory {}: {e}", dir.display()))?;
    }
    if query.split('&').any(|p| p.starts_with("mode=")) {
        Ok(url.to_string())
    } else if query.is_empty() {
        Ok(format!("{url}?mode=rwc"))
    } else {
        Ok(format!("{url}&mode=rwc"))
    }
}

/// Runs the migrations of the pool's backend at ignition, and on SQLite turns on WAL
/// (persistent in the file) so readers never wait for the writer. Several instances
/// starting together are safe: sqlx takes an advisory lock on PostgreSQL.
pub fn migrations() -> AdHoc {
    AdHoc::try_on_ignite("Database migrations", |rocket| async move {
        match migrate(&rocket).await {
            Ok(()) => Ok(rocket),
            Err(e) => {
                log::error!("database set-up failed: {e}");
                Err(rocket)
            }
        }
    })
}

async fn migrate(rocket: &Rocket<Build>) -> Result<(), sqlx::Error> {
    let Some(db) = Db::fetch(rocket) else {
        return Err(sqlx::Error::Configuration("the database pool did not start".into()));
    };
    let Some(backend) = rocket.state::<Backend>().copied() else {
        return Err(sqlx::Error::Configuration("unknown database backend".into()));
    };
    let pool: &sqlx::AnyPool = db;
    match backend {
        Backend::Sqlite => {
            sqlx::query("PRAGMA journal_mode = WAL").execute(pool).await?;
            SQLITE_MIGRATIONS.run(pool).await?;
        }
        Backend::Postgres => POSTGRES_MIGRATIONS.run(pool).await?,
    }
    Ok(())
}

/// Answers whether the database is reachable: one trivial round trip.
pub async fn ping(db: &Db) -> Result<(), sqlx::Error> {
    let pool: &sqlx::AnyPool = db;
    sqlx::query("SELECT 1").execute(pool).await.map(|_| ())
}

/// Whether `e` is a unique-constraint violation: how a lost race on a unique value
/// (two sign-ups with one email) is told apart from a real failure. Callers ask it of
/// an insert whose only unique column besides a random id is the one they mean.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            db.is_unique_violation()
                || matches!(db.code().as_deref(), Some("23505") | Some("2067") | Some("1555"))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn a_logged_database_url_carries_no_credentials() {
        assert_eq!(
            redact_url("postgress://ada:hunter2@db.example:5432/auth"),
            "postgress://db.example:5432/auth"
        );
        assert_eq!(redact_url("postgres://ada@db.example/auth"), "postgres://db.example/auth");
        assert_eq!(redact_url("sqlite://data/auth.db"), "sqlite://data/auth.db");
        assert!(!redact_url("ada:hunter2@db.example/auth").contains("hunter2"));
    }
}
