//! The periodic clean-up of expired sessions.

use rocket_auth::db::Db;
use rocket_auth::housekeeping::{delete_expired_sessions, BATCH};
use rocket_db_pools::Database;

use crate::common::TestApp;

fn now() -> i64 {
    rocket::time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Inserts `n` sessions of the only user, expiring at `expires_at`, in one statement
/// per 500 rows.
async fn insert_sessions(app: &TestApp, prefix: &str, n: usize, expires_at: i64) {
    let (user_id,): (String,) =
        sqlx::query_as("SELECT id FROM users").fetch_all(app.pool()).await.unwrap().remove(0);
    let t = now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let values: Vec<String> = chunk
            .iter()
            .map(|i| format!("('{prefix}{i:018}', 'x', '{user_id}', {t}, {expires_at}, {t}, '', '')"))
            .collect();
        app.exec(&format!(
            "INSERT INTO sessions (id, secret_hash, user_id, created_at, expires_at, last_active_at, \
             user_agent, ip) VALUES {}",
            values.join(", ")
        ))
        .await;
    }
}

#[rocket::async_test]
async fn the_clean_up_deletes_every_expired_session_in_batches_and_keeps_live_ones() {
    let app = TestApp::spawn().await;
    app.signed_up_user().await;
    let expired = 2 * BATCH as usize + 500;
    insert_sessions(&app, "old-", expired, now() - 10).await;
    insert_sessions(&app, "new-", 40, now() + 3600).await;

    let db = Db::fetch(app.client.rocket()).unwrap();
    let deleted = delete_expired_sessions(db, now()).await.unwrap();
    assert_eq!(deleted, expired as u64);
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions WHERE id LIKE $1", "old-%").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions WHERE id LIKE $1", "new-%").await, 40);
    assert!(app.session_json().await.is_object(), "the signed-in browser is untouched");
    assert_eq!(delete_expired_sessions(db, now()).await.unwrap(), 0, "a second run finds nothing");
}

#[rocket::async_test]
async fn the_clean_up_task_starts_with_the_app_and_runs_on_its_interval() {
    let app = TestApp::with_env(&[("AUTH_SESSION_CLEANUP_INTERVAL", "1")]).await;
    app.signed_up_user().await;
    insert_sessions(&app, "old-", 25, now() - 10).await;
    let mut left = 25;
    for _ in 0..100 {
        left = app.count("SELECT COUNT(*) FROM sessions WHERE id LIKE $1", "old-%").await;
        if left == 0 {
            break;
        }
        rocket::tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(left, 0, "the task deleted the expired rows within 10 s");
    assert_eq!(app.session_count().await, 1, "the live session stays");
}

#[rocket::async_test]
async fn an_interval_of_zero_turns_the_clean_up_off() {
    let app = TestApp::with_env(&[("AUTH_SESSION_CLEANUP_INTERVAL", "0")]).await;
    app.signed_up_user().await;
    insert_sessions(&app, "old-", 5, now() - 10).await;
    rocket::tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions WHERE id LIKE $1", "old-%").await, 5);
    assert_eq!(app.session_count().await, 6);
}

#[rocket::async_test]
async fn the_clean_up_deletes_abandoned_oauth_flows() {
    let app = TestApp::spawn().await;
    let t = now();
    for (state, expires_at) in [("old", t - 1), ("live", t + 600)] {
        app.exec(&format!(
            "INSERT INTO oauth_flows (state_hash, binding_hash, provider, pkce_verifier, callback_url, \
             expires_at) VALUES ('{state}', 'b', 'google', 'v', '/', {expires_at})"
        ))
        .await;
    }
    let db = Db::fetch(app.client.rocket()).unwrap();
    assert_eq!(rocket_auth::housekeeping::delete_expired_flows(db, now()).await.unwrap(), 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM oauth_flows WHERE state_hash = $1", "live").await, 1);
}
