use rocket::http::{Header, Status};

use crate::common::{Browser, TestApp, PASSWORD};

fn now() -> i64 {
    rocket::time::OffsetDateTime::now_utc().unix_timestamp()
}

#[rocket::async_test]
async fn a_page_that_needs_a_session_redirects_to_signin_with_the_original_path() {
    let app = TestApp::spawn().await;
    let res = app.get("/sessions?x=1").await;
    res.assert_redirects_to("/signin?callbackUrl=%2Fsessions%3Fx%3D1");
}

#[rocket::async_test]
async fn a_json_client_gets_401_instead_of_a_redirect() {
    let app = TestApp::spawn().await;
    let res =
        app.browser.send(app.client.get("/sessions").header(Header::new("Accept", "application/json"))).await;
    assert_eq!(res.status, Status::Unauthorized);
    assert_eq!(res.json()["error"], "SessionRequired");
}

#[rocket::async_test]
async fn a_signed_in_user_sees_their_sessions_page() {
    let app = TestApp::spawn().await;
    app.signed_up_user().await;
    let res = app.get("/sessions").await;
    assert_eq!(res.status, Status::Ok);
    assert!(res.body.contains("203.0.113.7"));
}

#[rocket::async_test]
async fn the_session_endpoint_answers_null_when_signed_out() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/auth/session").await;
    assert_eq!(res.status, Status::Ok);
    assert_eq!(res.body, "null");
    assert_eq!(res.header("Cache-Control"), Some("private, no-cache, no-store"));
}

#[rocket::async_test]
async fn the_session_endpoint_has_auth_js_shape() {
    let app = TestApp::spawn().await;
    let email = app.signed_up_user().await;
    let res = app.get("/api/auth/session").await;
    assert_eq!(res.header("Cache-Control"), Some("private, no-cache, no-store"));
    let json = res.json();
    assert_eq!(json["user"]["email"], email.as_str());
    assert!(json["user"]["id"].is_string());
    assert!(json["user"].get("image").is_some());
    let expires = json["expires"].as_str().unwrap();
    assert!(expires.ends_with(".000Z") && expires.len() == 24, "{expires}");
}

#[rocket::async_test]
async fn an_expired_session_is_refused_and_its_cookie_cleared() {
    let app = TestApp::spawn().await;
    app.signed_up_user().await;
    app.exec(&format!("UPDATE sessions SET expires_at = {}", now() - 1)).await;
    let res = app.get("/api/auth/session").await;
    assert_eq!(res.body, "null");
    assert!(app.browser.session_token().is_none(), "the cookie was cleared");
    app.get("/sessions").await.assert_redirects_to("/signin?callbackUrl=%2Fsessions");
}

#[rocket::async_test]
async fn a_session_past_its_absolute_lifetime_is_refused_however_active() {
    let app = TestApp::spawn().await;
    app.signed_up_user().await;
    let created = now() - 90 * 86400 - 5;
    app.exec(&format!("UPDATE sessions SET created_at = {created}, expires_at = {}", now() + 1000)).await;
    assert_eq!(app.get("/api/auth/session").await.body, "null");
}

#[rocket::async_test]
async fn a_request_inside_the_update_age_window_writes_nothing() {
    let app = TestApp::spawn().await;
    app.signed_up_user().await;
    app.count_session_writes().await;
    let before = app.session_times().await;
    for _ in 0..5 {
        assert!(app.session_json().await["user"].is_object());
        assert_eq!(app.get("/sessions").await.status, Status::Ok);
    }
    assert_eq!(app.session_writes().await, 0, "no write to sessions");
    assert_eq!(app.session_times().await, before);
}

#[rocket::async_test]
async fn once_update_age_has_passed_the_expiry_slides_to_now_plus_max_age() {
    let app = TestApp::spawn().await;
    app.signed_up_user().await;
    // The expiry was last set 25 hours ago (updateAge is 24 hours).
    let set_at = now() - 25 * 3600;
    app.exec(&format!(
        "UPDATE sessions SET created_at = {set_at}, last_active_at = {set_at}, expires_at = {}",
        set_at + 30 * 86400
    ))
    .await;
    let res = app.get("/api/auth/session").await;
    let (_, expires, last_active) = app.session_times().await;
    assert!((expires - (now() + 30 * 86400)).abs() < 5, "extended to now + maxAge");
    assert!(now() - last_active < 5);
    let cookie = res.set_cookie("authjs.session-token").expect("the cookie is re-sent with the new expiry");
    assert_eq!(cookie.expires_datetime().unwrap().unix_timestamp(), expires);
    assert_eq!(res.json()["expires"], rocket_auth::views::iso_time(expires));

    // Right after, nothing more is written.
    app.count_session_writes().await;
    app.get("/api/auth/session").await;
    assert_eq!(app.session_writes().await, 0);
}

#[rocket::async_test]
async fn sliding_expiry_never_passes_the_absolute_lifetime() {
    let app = TestApp::spawn().await;
    app.signed_up_user().await;
    let created = now() - 89 * 86400;
    let set_at = now() - 2 * 86400;
    app.exec(&format!(
        "UPDATE sessions SET created_at = {created}, last_active_at = {set_at}, expires_at = {}",
        set_at + 30 * 86400
    ))
    .await;
    app.get("/api/auth/session").await;
    let (_, expires, _) = app.session_times().await;
    assert_eq!(expires, created + 90 * 86400, "capped at sign-in + absoluteMaxAge");
    // Capped: later requests have nothing to extend and write nothing.
    app.count_session_writes().await;
    app.get("/api/auth/session").await;
    assert_eq!(app.session_writes().await, 0);
}

#[rocket::async_test]
async fn last_active_is_written_at_most_every_five_minutes() {
    let app = TestApp::spawn().await;
    app.signed_up_user().await;
    let (_, expires, _) = app.session_times().await;
    app.exec(&format!("UPDATE sessions SET last_active_at = {}", now() - 301)).await;
    app.get("/api/auth/session").await;
    let (_, expires_after, last_active) = app.session_times().await;
    assert!(now() - last_active < 5);
    assert_eq!(expires_after, expires, "the expiry is not extended inside updateAge");
}

#[rocket::async_test]
async fn signing_in_again_ends_the_session_the_browser_held() {
    let app = TestApp::spawn().await;
    let email = app.signed_up_user().await;
    let old = app.browser.session_token().unwrap();
    app.post_credentials(&email, PASSWORD).await.assert_redirects_to("/");
    let new = app.browser.session_token().unwrap();
    assert_ne!(old, new, "a new token, never the one the browser brought");
    assert_eq!(app.session_count().await, 1, "the old session row is gone");

    let replay = Browser::new();
    replay.set_cookie("authjs.session-token", &old);
    assert_eq!(replay.session_json(&app).await, rocket::serde::json::Value::Null);
}

#[rocket::async_test]
async fn a_forged_or_malformed_token_is_refused() {
    let app = TestApp::spawn().await;
    app.signed_up_user().await;
    let token = app.browser.session_token().unwrap();
    let (id, _) = token.split_once('.').unwrap();
    for forged in [
        format!("{id}.{}", "A".repeat(43)),
        id.to_string(),
        format!("{id}.\u{0}"),
        "'; DROP TABLE sessions; --".to_string(),
        String::new(),
    ] {
        let b = Browser::new();
        b.set_cookie("authjs.session-token", &forged);
        let res = b.get(&app, "/api/auth/session").await;
        assert_eq!(res.status, Status::Ok);
        assert_eq!(res.body, "null", "{forged:?}");
    }
    assert_eq!(app.session_count().await, 1);
}

#[rocket::async_test]
async fn the_session_records_the_socket_ip_not_a_header_the_client_sets() {
    let app = TestApp::spawn().await;
    let email = app.signed_up_user().await;
    app.browser.clear_cookies();
    let token = app.csrf_token().await;
    let body = format!("email={email}&password={}&csrfToken={token}", PASSWORD.replace(' ', "+"));
    let req = app
        .client
        .post("/api/auth/callback/credentials")
        .header(rocket::http::ContentType::Form)
        .header(Header::new("X-Real-IP", "6.6.6.6"))
        .header(Header::new("X-Forwarded-For", "7.7.7.7"))
        .body(body);
    app.browser.send(req).await.assert_redirects_to("/");
    let ips: Vec<(String,)> = sqlx::query_as("SELECT ip FROM sessions").fetch_all(app.pool()).await.unwrap();
    assert!(ips.iter().all(|(ip,)| ip == "203.0.113.7"), "{ips:?}");
}

#[rocket::async_test]
async fn behind_a_trusted_proxy_the_forwarded_ip_is_recorded() {
    let app = TestApp::with_env(&[("AUTH_TRUST_HOST", "true")]).await;
    let token = app.csrf_token().await;
    let body = format!("email=proxy%40example.com&password={}&csrfToken={token}", PASSWORD.replace(' ', "+"));
    let req = app
        .client
        .post("/signup")
        .header(rocket::http::ContentType::Form)
        .header(Header::new("X-Forwarded-For", "6.6.6.6, 198.51.100.4"))
        .body(body);
    app.browser.send(req).await.assert_redirects_to("/");
    let (ip,): (String,) =
        sqlx::query_as("SELECT ip FROM sessions").fetch_all(app.pool()).await.unwrap().remove(0);
    assert_eq!(ip, "198.51.100.4", "the entry the proxy appended");
}

#[rocket::async_test]
async fn the_session_records_the_user_agent() {
    let app = TestApp::spawn().await;
    app.signed_up_user().await;
    let (ua,): (String,) =
        sqlx::query_as("SELECT user_agent FROM sessions").fetch_all(app.pool()).await.unwrap().remove(0);
    assert!(ua.contains("Firefox/128.0"));
}
