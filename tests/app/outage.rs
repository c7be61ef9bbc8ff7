//! Where a database failure happens decides its answer: failing to get a connection is
//! always an outage (503 with `Retry-After`), on every route, the session guards and
//! `/api/auth/session` included; an error in the middle of a query is an outage when
//! its code says the database went away, is overloaded or locked, and a 500 page
//! without details otherwise.

use std::time::Duration;

use rocket::http::{Header, Status};
use rocket::tokio;
use rocket_auth::db::Backend;
use sqlx::{Connection, Executor};

use crate::common::{Resp, TestApp, PASSWORD};

fn assert_outage(res: &Resp, what: &str) {
    assert_eq!(res.status, Status::ServiceUnavailable, "{what}: {}", res.body);
    assert!(res.header("Retry-After").is_some(), "{what}: Retry-After");
}

/// Sets whether PostgreSQL accepts new connections to the test database; when it stops,
/// the app's open connections are ended too, as a failover or a maintenance window
/// does, so the pool has to open new ones.
async fn accept_connections(app: &TestApp, allow: bool) {
    let (admin_url, name) = app.db.postgres_admin().expect("a PostgreSQL test database");
    let mut admin = sqlx::postgres::PgConnection::connect(admin_url).await.unwrap();
    admin.execute(format!("ALTER DATABASE {name} ALLOW_CONNECTIONS {allow}").as_str()).await.unwrap();
    if !allow {
        admin
            .execute(
                format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
                    .as_str(),
            )
            .await
            .unwrap();
    }
    admin.close().await.unwrap();
}

#[rocket::async_test]
async fn a_postgresql_that_refuses_new_connections_is_an_outage_on_every_route_then_recovers() {
    let app = TestApp::spawn().await;
    if app.db.backend != Backend::Postgres {
        return;
    }
    let email = app.signed_up_user().await;
    let csrf = app.csrf_token().await;
    // Idle past the window in which a pooled connection is handed out unchecked, so the
    // pool finds its connections dead and must open new ones: SQLSTATE 55000, "database
    // … is not currently accepting connections".
    tokio::time::sleep(rocket_auth::db::pool::CHECK_AFTER_IDLE + Duration::from_millis(200)).await;
    accept_connections(&app, false).await;

    let page = app.browser.send(app.client.get("/sessions").header(Header::new("Accept", "text/html"))).await;
    assert_outage(&page, "a signed-in page");
    assert!(page.body.contains("Temporarily unavailable"), "the page says so: {}", page.body);
    let session = app.get("/api/auth/session").await;
    assert_outage(&session, "the session JSON");
    assert_eq!(session.json()["error"], "ServiceUnavailable");
    assert_outage(&app.get("/").await, "the optional guard");
    assert_outage(&app.get("/account").await, "the required guard");
    let signin = app
        .post_form(
            "/api/auth/callback/credentials",
            &[("email", &email), ("password", PASSWORD), ("csrfToken", &csrf)],
        )
        .await;
    assert_outage(&signin, "a sign-in");
    assert_outage(&app.get("/healthz").await, "the health check");

    accept_connections(&app, true).await;
    assert_eq!(app.session_json().await["user"]["email"], email.as_str(), "recovered, still signed in");
    assert_eq!(app.get("/sessions").await.status, Status::Ok);
}

#[rocket::async_test]
async fn an_sqlite_database_locked_past_the_busy_timeout_is_an_outage() {
    let app = TestApp::with_figment(&[], |f| f.merge(("databases.main.connect_timeout", 1))).await;
    if app.db.backend != Backend::Sqlite {
        return;
    }
    let email = app.signed_up_user().await;
    app.signout().await;
    let csrf = app.csrf_token().await;
    // Another process holds the write lock for longer than the one-second busy timeout.
    let mut other = sqlx::sqlite::SqliteConnection::connect(&app.db.url).await.unwrap();
    other.execute("BEGIN IMMEDIATE").await.unwrap();
    let res = app
        .post_form(
            "/api/auth/callback/credentials",
            &[("email", &email), ("password", PASSWORD), ("csrfToken", &csrf)],
        )
        .await;
    assert_outage(&res, "a sign-in that cannot write");
    other.execute("COMMIT").await.unwrap();
    app.post_credentials(&email, PASSWORD).await.assert_redirects_to("/");
}

#[rocket::async_test]
async fn a_query_fault_that_is_not_an_outage_is_a_500_page_that_shows_nothing_internal() {
    let app = TestApp::spawn().await;
    app.signed_up_user().await;
    // A fault no request can cause: the table the account page reads is gone.
    app.exec("DROP TABLE security_events").await;
    let res = app.browser.send(app.client.get("/account").header(Header::new("Accept", "text/html"))).await;
    assert_eq!(res.status, Status::InternalServerError, "{}", res.body);
    assert!(res.body.contains("Something went wrong on our side"), "{}", res.body);
    assert!(!res.body.contains("security_events"), "no internal detail reaches the page");
    assert!(res.header("Retry-After").is_none());
    // The session check itself still works.
    assert!(app.session_json().await.is_object());
}
