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

#[rocket::async_test]
async fn a_token_read_before_sign_in_sign_out_or_a_password_change_is_refused_after_it() {
    let app = TestApp::spawn().await;
    let email = app.signed_up_user().await;
    app.signout().await;

    // Read before sign-in (by whoever used this computer last), then refused.
    let before_signin = app.csrf_token().await;
    app.post_credentials(&email, PASSWORD).await.assert_redirects_to("/");
    let res = app.post_form("/account/name", &[("name", "Forged"), ("csrfToken", &before_signin)]).await;
    assert_eq!(res.status, Status::Forbidden, "a token from before sign-in");
    assert_ne!(app.csrf_token().await, before_signin, "a new token was issued");

    // Read before a password change, then refused.
    let before_change = app.csrf_token().await;
    let fields = [
        ("currentPassword", PASSWORD),
        ("newPassword", "lantern orchard velvet compass"),
        ("csrfToken", &before_change),
    ];
    app.post_form("/account/password", &fields).await.assert_redirects_to("/account");
    let res = app.post_form("/account/name", &[("name", "Forged"), ("csrfToken", &before_change)]).await;
    assert_eq!(res.status, Status::Forbidden, "a token from before the password change");

    // Read before sign-out, then refused for the next sign-in.
    let before_signout = app.csrf_token().await;
    app.post_form("/api/auth/signout", &[("csrfToken", &before_signout)]).await;
    let res = app
        .post_form(
            "/api/auth/callback/credentials",
            &[
                ("email", &email),
                ("password", "lantern orchard velvet compass"),
                ("csrfToken", &before_signout),
            ],
        )
        .await;
    assert_eq!(res.status, Status::Forbidden, "a token from before sign-out");
    let (name,): (String,) =
        sqlx::query_as("SELECT name FROM users").fetch_all(app.pool()).await.unwrap().remove(0);
    assert_eq!(name, "Ada Lovelace", "nothing was forged");
}

#[rocket::async_test]
async fn a_post_from_another_origin_is_refused_even_with_a_valid_token() {
    let app = TestApp::spawn().await;
    app.signed_up_user().await;
    for origin in ["https://evil.example", "http://localhost:8001", "https://localhost:8000", "null"] {
        let token = app.csrf_token().await;
        let req = app
            .client
            .post("/account/name")
            .header(rocket::http::ContentType::Form)
            .header(rocket::http::Header::new("Origin", origin))
            .body(format!("name=Forged&csrfToken={token}"));
        let res = app.browser.send(req).await;
        assert_eq!(res.status, Status::Forbidden, "Origin: {origin}");
    }
    let token = app.csrf_token().await;
    let req = app
        .client
        .post("/account/name")
        .header(rocket::http::ContentType::Form)
        .header(rocket::http::Header::new("Origin", "http://localhost:8000"))
        .body(format!("name=Grace&csrfToken={token}"));
    app.browser.send(req).await.assert_redirects_to("/account");
    let (name,): (String,) =
        sqlx::query_as("SELECT name FROM users").fetch_all(app.pool()).await.unwrap().remove(0);
    assert_eq!(name, "Grace", "our own origin is accepted");
}

#[rocket::async_test]
async fn a_token_signed_by_a_rotated_out_secret_is_still_accepted() {
    let (old, new) =
        ("the-old-secret-0123456789-abcdefghijklmno", "the-new-secret-0123456789-abcdefghijklmno");
    let app = TestApp::with_env(&[("AUTH_SECRET", old)]).await;
    let email = app.signed_up_user().await;
    app.signout().await;
    let token = app.csrf_token().await;
    // The same database and browser after the rotation: AUTH_SECRET_1 keeps the old one.
    let rotated = app.another_instance_with(&[("AUTH_SECRET", new), ("AUTH_SECRET_1", old)]).await;
    let fields = [("email", email.as_str()), ("password", PASSWORD), ("csrfToken", token.as_str())];
    app.browser.post_form(&rotated, "/api/auth/callback/credentials", &fields).await.assert_redirects_to("/");
    // Without it, a token the old secret signed is refused.
    let stale = app.another_instance_with(&[("AUTH_SECRET", old)]).await;
    let browser = stale.new_browser("stale");
    let token = browser.csrf_token(&stale).await;
    let strict = app.another_instance_with(&[("AUTH_SECRET", new)]).await;
    let fields = [("email", email.as_str()), ("password", PASSWORD), ("csrfToken", token.as_str())];
    assert_eq!(
        browser.post_form(&strict, "/api/auth/callback/credentials", &fields).await.status,
        Status::Forbidden
    );
}
