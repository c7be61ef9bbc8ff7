use rocket::http::Status;

use crate::common::{TestApp, PASSWORD};

#[rocket::async_test]
async fn the_csrf_endpoint_returns_a_token_and_sets_its_cookie() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/auth/csrf").await;
    assert_eq!(res.status, Status::Ok);
    let token = res.json()["csrfToken"].as_str().unwrap().to_string();
    assert!(token.len() >= 43);
    let cookie = res.set_cookie("authjs.csrf-token").expect("csrf cookie");
    assert_eq!(cookie.http_only(), Some(true));
    assert!(cookie.value().starts_with(&format!("{token}|")));
    // Asking again gives the same token while the cookie lives.
    assert_eq!(app.csrf_token().await, token);
}

#[rocket::async_test]
async fn every_post_without_a_csrf_token_gets_403_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let email = app.signed_up_user().await;
    app.csrf_token().await;
    let sessions = app.session_count().await;
    for (path, fields) in [
        ("/api/auth/callback/credentials", vec![("email", email.as_str()), ("password", PASSWORD)]),
        ("/signup", vec![("email", "new@example.com"), ("password", PASSWORD)]),
        ("/api/auth/signout", vec![]),
    ] {
        let res = app.post_form(path, &fields).await;
        assert_eq!(res.status, Status::Forbidden, "{path}");
        assert!(res.body.contains("expired") || res.body.contains("MissingCSRF"), "{}", res.body);
    }
    assert_eq!(app.user_count().await, 1);
    assert_eq!(app.session_count().await, sessions);
    assert!(app.session_json().await["user"].is_object(), "still signed in");
}

#[rocket::async_test]
async fn a_wrong_or_foreign_csrf_token_gets_403() {
    let app = TestApp::spawn().await;
    let email = app.signed_up_user().await;
    app.signout().await;
    let attacker = app.new_browser("evil");
    let foreign = attacker.csrf_token(&app).await;
    app.csrf_token().await;
    for token in [foreign.as_str(), "x", ""] {
        let res = app
            .post_form(
                "/api/auth/callback/credentials",
                &[("email", &email), ("password", PASSWORD), ("csrfToken", token)],
            )
            .await;
        assert_eq!(res.status, Status::Forbidden, "{token:?}");
    }
    // Login CSRF: a token without its cookie is refused too.
    app.browser.clear_cookies();
    let res = app
        .post_form(
            "/api/auth/callback/credentials",
            &[("email", &email), ("password", PASSWORD), ("csrfToken", &foreign)],
        )
        .await;
    assert_eq!(res.status, Status::Forbidden);
    assert_eq!(app.session_count().await, 0);
}

#[rocket::async_test]
async fn a_csrf_cookie_signed_with_another_secret_is_refused() {
    let app = TestApp::spawn().await;
    let token = "A".repeat(43);
    app.browser.set_cookie("authjs.csrf-token", &format!("{token}|{}", "0".repeat(64)));
    let res = app
        .post_form("/signup", &[("email", "x@example.com"), ("password", PASSWORD), ("csrfToken", &token)])
        .await;
    assert_eq!(res.status, Status::Forbidden);
    assert_ne!(app.csrf_token().await, token, "a fresh token replaces the forged one");
}

#[rocket::async_test]
async fn json_clients_get_a_json_403() {
    let app = TestApp::spawn().await;
    let res = app
        .browser
        .post_json(
            &app,
            "/api/auth/callback/credentials",
            &serde_json::json!({"email": "a@example.com", "password": "x"}),
            &[],
        )
        .await;
    assert_eq!(res.status, Status::Forbidden);
    assert_eq!(res.json()["error"], "MissingCSRF");
}
