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

/// A form post as next-auth v4's client sends it: form-encoded, `json=true` in the
/// body, no `X-Auth-Return-Redirect` header.
async fn post_v4(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> crate::common::Resp {
    let mut all = fields.to_vec();
    all.push(("json", "true"));
    app.post_form(path, &all).await
}

#[rocket::async_test]
async fn next_auth_v4_signs_in_with_json_true_and_gets_its_statuses() {
    let app = TestApp::spawn().await;
    let email = app.signed_up_user().await;
    app.signout().await;
    // Refused credentials: 401 with v4's error URL, where the client reads `error`.
    let csrf = app.csrf_token().await;
    let wrong = [
        ("email", email.as_str()),
        ("password", "not the password"),
        ("redirect", "false"),
        ("csrfToken", csrf.as_str()),
        ("callbackUrl", "http://localhost:8000/sessions"),
    ];
    let res = post_v4(&app, "/api/auth/callback/credentials", &wrong).await;
    assert_eq!(res.status, Status::Unauthorized);
    assert_eq!(
        res.json(),
        json!({ "url": "http://localhost:8000/api/auth/error?error=CredentialsSignin&provider=credentials" })
    );
    // An address that is not one is refused the same way (v4 has no 422).
    let res = post_v4(
        &app,
        "/api/auth/callback/credentials",
        &[("email", "<x>"), ("password", "p"), ("csrfToken", &csrf)],
    )
    .await;
    assert_eq!(res.status, Status::Unauthorized);
    // The right password: 200 with the callback URL.
    let right = [
        ("email", email.as_str()),
        ("password", PASSWORD),
        ("csrfToken", csrf.as_str()),
        ("callbackUrl", "http://localhost:8000/sessions"),
    ];
    let res = post_v4(&app, "/api/auth/callback/credentials", &right).await;
    assert_eq!(res.status, Status::Ok);
    assert_eq!(res.json(), json!({ "url": "http://localhost:8000/sessions" }));
    assert_eq!(app.session_json().await["user"]["email"], email.as_str());
    // Sign-out: 200 with the URL.
    let csrf = app.csrf_token().await;
    let res = post_v4(
        &app,
        "/api/auth/signout",
        &[("csrfToken", &csrf), ("callbackUrl", "http://localhost:8000/")],
    )
    .await;
    assert_eq!(res.status, Status::Ok);
    assert_eq!(res.json(), json!({ "url": "http://localhost:8000/" }));
    assert!(app.session_json().await.is_null());
    // A missing token is still 403, as JSON with a URL.
    let res = post_v4(&app, "/api/auth/signout", &[]).await;
    assert_eq!(res.status, Status::Forbidden);
    assert!(res.json()["url"].as_str().unwrap().contains("error=MissingCSRF"));
}

#[rocket::async_test]
async fn the_v4_error_url_leads_to_the_error_page() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/auth/error?error=CredentialsSignin&provider=credentials").await;
    res.assert_redirects_to("/error?error=CredentialsSignin&provider=credentials");
    let page = app.get("/error?error=CredentialsSignin&provider=credentials").await;
    assert!(page.body.contains("The email or password is not correct."));
    app.get("/api/auth/error").await.assert_redirects_to("/error");
}

#[rocket::async_test]
async fn auth_js_page_addresses_lead_to_the_apps_pages() {
    let app = TestApp::spawn().await;
    // signIn() without a provider, and useSession({ required: true }).
    app.get("/api/auth/signin?callbackUrl=http%3A%2F%2Flocalhost%3A8000%2Fsessions")
        .await
        .assert_redirects_to("/signin?callbackUrl=%2Fsessions");
    app.get("/api/auth/signin").await.assert_redirects_to("/signin");
    app.get("/api/auth/signin?error=SessionRequired&callbackUrl=%2Faccount")
        .await
        .assert_redirects_to("/signin?callbackUrl=%2Faccount&error=SessionRequired");
    // The signinUrl that /api/auth/providers advertises.
    app.get("/api/auth/signin/credentials?callbackUrl=%2Faccount")
        .await
        .assert_redirects_to("/signin?callbackUrl=%2Faccount");
    // Nothing unsafe passes through.
    app.get("/api/auth/signin?callbackUrl=https%3A%2F%2Fevil.example%2F&error=%3Cb%3E")
        .await
        .assert_redirects_to("/signin");
    app.get("/api/auth/signin?callbackUrl=%2F.%2F%2Fevil.example").await.assert_redirects_to("/signin");
}

#[rocket::async_test]
async fn the_signout_page_has_a_csrf_checked_button_and_a_get_signs_nobody_out() {
    let app = TestApp::spawn().await;
    let email = app.signed_up_user().await;
    let res = app
        .browser
        .send(
            app.client
                .get("/api/auth/signout?callbackUrl=%2Fsessions")
                .header(rocket::http::Header::new("Accept", "text/html")),
        )
        .await;
    assert_eq!(res.status, Status::Ok);
    assert!(res.body.contains("action=\"/api/auth/signout\""), "{}", res.body);
    assert!(res.body.contains("name=\"csrfToken\""));
    assert!(res.body.contains("name=\"callbackUrl\" value=\"/sessions\""));
    assert!(res.body.contains(&email));
    assert_eq!(app.session_json().await["user"]["email"], email.as_str(), "still signed in");
    app.signout().await;
    assert!(app.get("/api/auth/signout").await.body.contains("You are not signed in"));
}

#[rocket::async_test]
async fn the_v4_logger_beacon_is_answered_and_nothing_is_kept() {
    let app = TestApp::spawn().await;
    let body = "level=error&code=CLIENT_FETCH_ERROR&url=%2Fapi%2Fauth%2Fsession&client=true";
    let req = app
        .client
        .post("/api/auth/_log")
        .header(rocket::http::ContentType::new("application", "x-www-form-urlencoded"))
        .body(body);
    let res = app.browser.send(req).await;
    assert_eq!(res.status, Status::Ok);
    // Bounded: a huge beacon is cut off, not buffered.
    let huge = "x".repeat(4 * 1024 * 1024);
    let res = app.browser.send(app.client.post("/api/auth/_log").body(huge)).await;
    assert_eq!(res.status, Status::Ok);
    for table in ["users", "sessions", "security_events", "throttle"] {
        assert_eq!(
            app.count(&format!("SELECT COUNT(*) FROM {table} WHERE $1 = $1"), "x").await,
            0,
            "{table}"
        );
    }
}
