//! Bad input: a clear answer, nothing changed, never a 500.

use rocket::http::{ContentType, Status};
use serde_json::json;

use crate::common::{TestApp, PASSWORD};

#[rocket::async_test]
async fn control_characters_are_refused_on_every_field_before_any_query() {
    let app = TestApp::spawn().await;
    let email = app.signed_up_user().await;
    app.signout().await;
    for (field, value) in [
        ("name", "Ada\u{0}"),
        ("email", "nul\u{0}@example.com"),
        ("password", "pass\u{0}word-long-enough"),
        ("name", "bell\u{7}"),
        ("email", "c1\u{85}@example.com"),
    ] {
        let token = app.csrf_token().await;
        let mut fields = vec![
            ("name", "Ok"),
            ("email", "fresh@example.com"),
            ("password", PASSWORD),
            ("csrfToken", &token),
        ];
        fields.retain(|(k, _)| *k != field);
        fields.push((field, value));
        let res = app.post_form("/signup", &fields).await;
        assert_eq!(res.status, Status::UnprocessableEntity, "{field}: {}", res.body);
        assert!(res.body.contains("characters that are not allowed"), "{field}");
    }
    let token = app.csrf_token().await;
    let res = app
        .post_form(
            "/api/auth/callback/credentials",
            &[("email", &format!("{email}\u{0}")), ("password", PASSWORD), ("csrfToken", &token)],
        )
        .await;
    assert_eq!(res.status, Status::UnprocessableEntity);
    assert_eq!(app.user_count().await, 1);
    assert_eq!(app.session_count().await, 0);
}

#[rocket::async_test]
async fn a_nul_in_a_cookie_or_query_is_not_a_500() {
    let app = TestApp::spawn().await;
    app.browser.set_cookie("authjs.session-token", "abc%00def");
    assert_eq!(app.get("/api/auth/session").await.status, Status::Ok);
    assert_eq!(app.get("/signin?callbackUrl=%00&error=%00").await.status, Status::Ok);
    assert_eq!(app.get("/error?error=%00").await.status, Status::BadRequest);
}

#[rocket::async_test]
async fn an_absurdly_long_password_is_refused_before_hashing() {
    let app = TestApp::spawn().await;
    let token = app.csrf_token().await;
    let long = "x".repeat(300);
    let res = app
        .post_form("/signup", &[("email", "long@example.com"), ("password", &long), ("csrfToken", &token)])
        .await;
    assert_eq!(res.status, Status::UnprocessableEntity);
    assert!(res.body.contains("Use at most 256 characters"));
    let res = app
        .post_form(
            "/api/auth/callback/credentials",
            &[("email", "long@example.com"), ("password", &long), ("csrfToken", &token)],
        )
        .await;
    assert_eq!(res.status, Status::UnprocessableEntity);
}

#[rocket::async_test]
async fn a_body_over_the_size_limit_gets_413() {
    let app = TestApp::spawn().await;
    let token = app.csrf_token().await;
    let huge = "x".repeat(1024 * 1024);
    let res = app
        .post_form(
            "/api/auth/callback/credentials",
            &[("email", "a@example.com"), ("password", &huge), ("csrfToken", &token)],
        )
        .await;
    assert_eq!(res.status, Status::PayloadTooLarge);
    let res = app
        .browser
        .post_json(
            &app,
            "/signup",
            &json!({ "email": "a@example.com", "password": huge, "csrfToken": token }),
            &[],
        )
        .await;
    assert_eq!(res.status, Status::PayloadTooLarge);
    assert_eq!(app.user_count().await, 0);
}

#[rocket::async_test]
async fn malformed_bodies_get_400() {
    let app = TestApp::spawn().await;
    app.csrf_token().await;
    for (content_type, body) in
        [(ContentType::JSON, "{not json"), (ContentType::JSON, "{\"email\": 5}"), (ContentType::JSON, "[]")]
    {
        let req = app.client.post("/api/auth/callback/credentials").header(content_type).body(body);
        let res = app.browser.send(req).await;
        assert_eq!(res.status, Status::BadRequest, "{body}");
    }
}

#[rocket::async_test]
async fn invalid_utf8_in_a_form_is_an_invalid_field_not_a_crash() {
    let app = TestApp::spawn().await;
    let token = app.csrf_token().await;
    let body = format!("email=%FF%FE&password=%FF&csrfToken={token}");
    let req = app.client.post("/api/auth/callback/credentials").header(ContentType::Form).body(body);
    let res = app.browser.send(req).await;
    assert_eq!(res.status, Status::UnprocessableEntity);
}

#[rocket::async_test]
async fn missing_fields_are_reported_not_crashed_on() {
    let app = TestApp::spawn().await;
    let token = app.csrf_token().await;
    let res = app.post_form("/api/auth/callback/credentials", &[("csrfToken", &token)]).await;
    assert_eq!(res.status, Status::UnprocessableEntity);
    assert!(res.body.contains("Enter your email address."));
    let res = app.post_form("/signup", &[("csrfToken", &token)]).await;
    assert_eq!(res.status, Status::UnprocessableEntity);
}

#[rocket::async_test]
async fn unknown_routes_get_a_404_page() {
    let app = TestApp::spawn().await;
    let res = app.get("/nope").await;
    assert_eq!(res.status, Status::NotFound);
    assert!(res.body.contains("Page not found"));
}

#[rocket::async_test]
async fn sign_up_and_sign_in_refuse_addresses_that_are_not_addresses_and_keep_the_form() {
    let app = TestApp::spawn().await;
    for bad in [
        "<a@example.com>",
        "Ada <ada@example.com>",
        "\"ada\"@example.com",
        "a,b@example.com",
        "a b@example.com",
        "a@b@example.com",
        "ada\u{FF20}example.com",
        "ad\u{200B}a@example.com",
        "ada@exa\u{202E}mple.com",
        "ada@-example.com",
        "émile@example.com",
    ] {
        let token = app.csrf_token().await;
        let res = app
            .post_form(
                "/signup",
                &[("name", "Ada"), ("email", bad), ("password", PASSWORD), ("csrfToken", &token)],
            )
            .await;
        assert_eq!(res.status, Status::UnprocessableEntity, "{bad:?}: {}", res.body);
        assert!(res.body.contains("id=\"email-error\""), "{bad:?}: the message is under the field");
        assert!(res.body.contains("value=\"Ada\""), "{bad:?}: the form keeps the name");
        let res = app
            .post_form(
                "/api/auth/callback/credentials",
                &[("email", bad), ("password", PASSWORD), ("csrfToken", &token)],
            )
            .await;
        assert_eq!(res.status, Status::UnprocessableEntity, "sign-in with {bad:?}");
    }
    // CR/LF: refused as control characters, and never echoed back.
    let token = app.csrf_token().await;
    let res = app
        .post_form(
            "/signup",
            &[
                ("email", "ada@example.com\r\nBcc: eve@example.com"),
                ("password", PASSWORD),
                ("csrfToken", &token),
            ],
        )
        .await;
    assert_eq!(res.status, Status::UnprocessableEntity);
    assert!(!res.body.contains("Bcc"), "the value is not echoed");
    assert_eq!(app.user_count().await, 0, "nothing was created");
}

#[rocket::async_test]
async fn a_unicode_domain_is_one_account_however_it_is_spelled() {
    let app = TestApp::spawn().await;
    let res = app.signup("Ada", "Ada@B\u{00FC}cher.example", PASSWORD).await;
    assert_eq!(res.status, Status::SeeOther, "{}", res.body);
    assert_eq!(app.session_json().await["user"]["email"], "ada@xn--bcher-kva.example", "stored in ASCII");
    app.signout().await;
    // The same address in NFD, and in capitals, is the same account.
    app.post_credentials("ada@bu\u{0308}cher.example", PASSWORD).await.assert_redirects_to("/");
    app.signout().await;
    let res = app.signup("Eve", "ADA@B\u{00DC}CHER.EXAMPLE", PASSWORD).await;
    assert_eq!(res.status, Status::UnprocessableEntity);
    assert!(res.body.contains("already exists"));
    assert_eq!(app.user_count().await, 1);
}
