//! The connection pool: SQLite writers wait for the lock instead of failing, and a
//! PostgreSQL restart costs at most one failed request per pooled connection (none at
//! all for an instance that was quiet), without pinging on every request.

use std::time::{Duration, Instant};

use rocket::http::Status;
use rocket::tokio;
use rocket_auth::db::Backend;
use sqlx::{Connection, Executor};

use crate::common::{TestApp, PASSWORD, POOL_SIZE};

/// Ends, from outside, every connection the app holds to its PostgreSQL database, as
/// a server restart or a failover does.
async fn drop_every_app_connection(app: &TestApp) {
    let mut admin = sqlx::postgres::PgConnection::connect(&app.db.url).await.unwrap();
    admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .await
        .unwrap();
    admin.close().await.unwrap();
}

#[rocket::async_test]
async fn sqlite_connections_are_in_wal_mode_wait_five_seconds_for_the_write_lock_and_cache_512_kib() {
    let app = TestApp::spawn().await;
    if app.db.backend != Backend::Sqlite {
        return;
    }
    let (timeout,): (i64,) =
        sqlx::query_as("PRAGMA busy_timeout").fetch_all(app.pool()).await.unwrap().remove(0);
    assert_eq!(timeout, 5000, "connect_timeout, in milliseconds");
    let (mode,): (String,) =
        sqlx::query_as("PRAGMA journal_mode").fetch_all(app.pool()).await.unwrap().remove(0);
    assert_eq!(mode, "wal");
    let (cache,): (i64,) = sqlx::query_as("PRAGMA cache_size").fetch_all(app.pool()).await.unwrap().remove(0);
    assert_eq!(cache, -512, "KiB");
}

#[rocket::async_test]
async fn a_sign_in_that_finds_the_sqlite_database_locked_waits_for_the_lock_instead_of_failing() {
    let app = TestApp::spawn().await;
    if app.db.backend != Backend::Sqlite {
        return;
    }
    let email = app.signed_up_user().await;
    app.signout().await;

    // Another process holds the write lock for 400 ms.
    let mut other = sqlx::sqlite::SqliteConnection::connect(&app.db.url).await.unwrap();
    other.execute("BEGIN IMMEDIATE").await.unwrap();
    let started = Instant::now();
    let (res, ()) = tokio::join!(app.post_credentials(&email, PASSWORD), async {
        tokio::time::sleep(Duration::from_millis(400)).await;
        other.execute("COMMIT").await.unwrap();
    });
    res.assert_redirects_to("/");
    assert!(started.elapsed() >= Duration::from_millis(400), "the sign-in waited for the lock");
    assert_eq!(app.session_json().await["user"]["email"], email.as_str());
}

#[rocket::async_test]
async fn a_quiet_instance_survives_a_postgresql_restart_without_a_failed_request() {
    // Quiet: not even the outbox worker looks at the queue in the meantime.
    let app = TestApp::with_env(&[("AUTH_EMAIL_POLL_INTERVAL_MS", "60000")]).await;
    if app.db.backend != Backend::Postgres {
        return;
    }
    let email = app.signed_up_user().await;
    // Idle for longer than the window in which a connection is handed out unchecked.
    tokio::time::sleep(rocket_auth::db::pool::CHECK_AFTER_IDLE + Duration::from_millis(200)).await;
    drop_every_app_connection(&app).await;

    assert_eq!(app.session_json().await["user"]["email"], email.as_str());
    assert_eq!(app.get("/sessions").await.status, Status::Ok);
}

#[rocket::async_test]
async fn under_load_a_postgresql_restart_fails_at_most_one_request_per_pooled_connection() {
    let app = TestApp::spawn().await;
    if app.db.backend != Backend::Postgres {
        return;
    }
    let email = app.signed_up_user().await;
    drop_every_app_connection(&app).await;

    // Straight away: the pool's connections were used a moment ago and are not pinged.
    let mut failed = 0;
    for _ in 0..POOL_SIZE + 2 {
        let res = app.get("/api/auth/session").await;
        match res.status {
            Status::Ok => assert_eq!(res.json()["user"]["email"], email.as_str()),
            Status::ServiceUnavailable => {
                assert!(res.header("Retry-After").is_some());
                failed += 1;
            }
            other => panic!("a dropped connection answers 503, not {other}"),
        }
    }
    assert!(failed <= POOL_SIZE, "{failed} requests failed");
    let res = app.get("/api/auth/session").await;
    assert_eq!(res.status, Status::Ok, "recovered");
    assert_eq!(app.get("/healthz").await.status, Status::Ok);
}
