//! Clients written for Auth.js work unchanged.

use rocket::http::Status;
use serde_json::json;

use crate::common::{TestApp, ORIGIN, PASSWORD};

/// The React `LoginForm` of the seed documents: GET /api/auth/csrf, POST the
/// credentials as JSON with the cookies, follow the redirect, GET /api/auth/session.
#[rocket::async_test]
async fn the_seed_login_form_flow_works() {
    let app = TestApp::spawn().await;
    let email = app.signed_up_user().await;
    app.signout().await;
    app.browser.clear_cookies();

    let csrf = app.get("/api/auth/csrf").await.json()["csrfToken"].as_str().unwrap().to_string();
    let res = app
        .browser
        .post_json(
            &app,
            "/api/auth/callback/credentials",
            &json!({ "email": email, "password": PASSWORD, "csrfToken": csrf }),
            &[],
        )
        .await;
    assert_eq!(res.status, Status::SeeOther);
    // fetch() follows the redirect: the page it lands on answers 200.
    let target = res.location().unwrap().strip_prefix(ORIGIN).unwrap().to_string();
    assert_eq!(app.get(&target).await.status, Status::Ok);
    let session = app.session_json().await;
    assert_eq!(session["user"]["email"], email.as_str());
}

#[rocket::async_test]
async fn the_seed_login_form_reads_a_json_error_on_bad_credentials() {
    let app = TestApp::spawn().await;
    let csrf = app.csrf_token().await;
    let res = app
        .browser
        .post_json(
            &app,
            "/api/auth/callback/credentials",
            &json!({ "email": "nobody@example.com", "password": "whatever it is", "csrfToken": csrf }),
            &[],
        )
        .await;
    assert_eq!(res.status, Status::Unauthorized);
    assert_eq!(res.json()["error"], "CredentialsSignin");
}

#[rocket::async_test]
async fn x_auth_return_redirect_turns_the_redirect_into_json_with_an_absolute_url() {
    let app = TestApp::spawn().await;
    let email = app.signed_up_user().await;
    app.signout().await;
    let csrf = app.csrf_token().await;
    // Auth.js's client posts form-encoded, with callbackUrl = window.location.href.
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("email", email.as_str()),
            ("password", PASSWORD),
            ("csrfToken", csrf.as_str()),
            ("callbackUrl", "http://localhost:8000/sessions"),
            ("json", "true"),
        ])
        .finish();
    let req = app
        .client
        .post("/api/auth/callback/credentials")
        .header(rocket::http::ContentType::Form)
        .header(rocket::http::Header::new("X-Auth-Return-Redirect", "1"))
        .body(body);
    let res = app.browser.send(req).await;
    assert_eq!(res.status, Status::Ok);
    assert_eq!(res.json(), json!({ "url": "http://localhost:8000/sessions" }));
    assert!(app.session_json().await["user"].is_object());
}

#[rocket::async_test]
async fn x_auth_return_redirect_reports_errors_in_the_url() {
    let app = TestApp::spawn().await;
    let csrf = app.csrf_token().await;
    let res = app
        .browser
        .post_json(
            &app,
            "/api/auth/callback/credentials",
            &json!({ "email": "nobody@example.com", "password": "whatever it is", "csrfToken": csrf }),
            &[("X-Auth-Return-Redirect", "1")],
        )
        .await;
    assert_eq!(res.status, Status::Ok);
    let url = res.json()["url"].as_str().unwrap().to_string();
    assert!(url.starts_with("http://localhost:8000/signin?error=CredentialsSignin"), "{url}");

    let res = app
        .browser
        .post_json(
            &app,
            "/api/auth/signout",
            &json!({ "csrfToken": "wrong" }),
            &[("X-Auth-Return-Redirect", "1")],
        )
        .await;
    assert_eq!(res.status, Status::Forbidden);
    assert!(res.json()["url"].as_str().unwrap().contains("error=MissingCSRF"));
}

#[rocket::async_test]
async fn sign_out_answers_auth_js_clients_with_a_url() {
    let app = TestApp::spawn().await;
    app.signed_up_user().await;
    let csrf = app.csrf_token().await;
    let res = app
        .browser
        .post_json(
            &app,
            "/api/auth/signout",
            &json!({ "csrfToken": csrf, "callbackUrl": "http://localhost:8000/signin" }),
            &[("X-Auth-Return-Redirect", "1")],
        )
        .await;
    assert_eq!(res.status, Status::Ok);
    assert_eq!(res.json()["url"], "http://localhost:8000/signin");
    assert_eq!(app.session_count().await, 0);
}

#[rocket::async_test]
async fn providers_lists_credentials_with_absolute_urls() {
    let app = TestApp::spawn().await;
    let json = app.get("/api/auth/providers").await.json();
    assert_eq!(
        json["credentials"],
        json!({
            "id": "credentials",
            "name": "Credentials",
            "type": "credentials",
            "signinUrl": "http://localhost:8000/api/auth/signin/credentials",
            "callbackUrl": "http://localhost:8000/api/auth/callback/credentials",
        })
    );
    assert!(json.get("google").is_none() && json.get("github").is_none(), "not configured");

    let app = TestApp::with_env(&[("AUTH_GITHUB_ID", "id"), ("AUTH_GITHUB_SECRET", "secret")]).await;
    let json = app.get("/api/auth/providers").await.json();
    assert_eq!(json["github"]["type"], "oauth");
    assert_eq!(json["github"]["callbackUrl"], "http://localhost:8000/api/auth/callback/github");
}
