//! Throttling of sign-in (per account and per client IP), sign-up and OAuth starts;
//! identical answers for an unknown email and a wrong password; argon2 under a flood.

use std::sync::atomic::{AtomicUsize, Ordering};

use rocket::http::{Header, Status};

use crate::common::providers::Double;
use crate::common::{Browser, Resp, TestApp, PASSWORD};

const WRONG: &str = "not the password at all";

async fn fail_signin(app: &TestApp, b: &Browser, email: &str) -> Resp {
    b.post_credentials(app, email, WRONG).await
}

/// The counters hold no email or address in the clear.
async fn assert_keys_are_opaque(app: &TestApp) {
    let keys: Vec<(String,)> =
        sqlx::query_as("SELECT key FROM throttle").fetch_all(app.pool()).await.unwrap();
    assert!(!keys.is_empty());
    assert!(keys.iter().all(|(k,)| k.len() == 64 && !k.contains('@') && !k.contains('.')), "{keys:?}");
}

fn assert_throttled(res: &Resp) {
    assert_eq!(res.status, Status::TooManyRequests, "{}", res.body);
    let retry: i64 = res.header("Retry-After").expect("Retry-After").parse().unwrap();
    assert!(retry > 0 && retry <= 900, "Retry-After {retry}");
}

#[rocket::async_test]
async fn repeated_failures_lock_the_account_with_429_before_any_password_check() {
    let app = TestApp::spawn().await;
    let email = app.signed_up_user().await;
    app.signout().await;
    for _ in 0..5 {
        assert_eq!(fail_signin(&app, &app.browser, &email).await.status, Status::Unauthorized);
    }
    let res = fail_signin(&app, &app.browser, &email).await;
    assert_throttled(&res);
    assert!(res.body.contains("Too many attempts") && res.body.contains("Try again in about 15 minutes"));
    // Even the right password is refused now: the password is not checked at all.
    let res = app.post_credentials(&email, PASSWORD).await;
    assert_throttled(&res);
    assert_eq!(app.session_count().await, 0);
    // From another address too: the account is what is locked.
    let mut elsewhere = app.new_browser("Elsewhere");
    elsewhere.remote = "198.51.100.99:4000".parse().unwrap();
    assert_throttled(&elsewhere.post_credentials(&app, &email, PASSWORD).await);
    // Auth.js's client gets the status it must act on, as JSON.
    let token = app.csrf_token().await;
    let body = rocket::serde::json::json!({ "email": email, "password": PASSWORD, "csrfToken": token });
    let res = app.browser.post_json(&app, "/api/auth/callback/credentials", &body, &[]).await;
    assert_throttled(&res);
    assert_eq!(res.json()["error"], "TooManyAttempts");
    assert_keys_are_opaque(&app).await;
}

#[rocket::async_test]
async fn the_lock_ends_with_the_window() {
    let app = TestApp::with_env(&[("AUTH_SIGNIN_MAX_FAILURES", "2")]).await;
    let email = app.signed_up_user().await;
    app.signout().await;
    for _ in 0..2 {
        fail_signin(&app, &app.browser, &email).await;
    }
    assert_throttled(&fail_signin(&app, &app.browser, &email).await);
    app.exec("UPDATE throttle SET window_start = window_start - 900").await;
    app.post_credentials(&email, PASSWORD).await.assert_redirects_to("/");
}

#[rocket::async_test]
async fn a_successful_sign_in_resets_the_account_count() {
    let app = TestApp::spawn().await;
    let email = app.signed_up_user().await;
    app.signout().await;
    for _ in 0..4 {
        fail_signin(&app, &app.browser, &email).await;
    }
    app.post_credentials(&email, PASSWORD).await.assert_redirects_to("/");
    app.signout().await;
    for _ in 0..4 {
        assert_eq!(fail_signin(&app, &app.browser, &email).await.status, Status::Unauthorized);
    }
}

#[rocket::async_test]
async fn variants_of_one_email_count_as_one_account() {
    let app = TestApp::spawn().await;
    app.signup("Ada", "ada@example.com", PASSWORD).await;
    app.signout().await;
    for variant in
        ["ada@example.com", "ADA@example.com", " Ada@Example.COM ", "ada@EXAMPLE.com", "aDa@example.com"]
    {
        assert_eq!(fail_signin(&app, &app.browser, variant).await.status, Status::Unauthorized);
    }
    assert_throttled(&fail_signin(&app, &app.browser, "ada@example.com").await);
}

#[rocket::async_test]
async fn one_address_trying_many_accounts_is_limited_and_forwarding_headers_do_not_help() {
    let app = TestApp::with_env(&[("AUTH_SIGNIN_MAX_FAILURES", "2")]).await;
    let email = app.signed_up_user().await;
    app.signout().await;
    // 2 × 4 = 8 failures per address, spread over accounts that do not even exist.
    for i in 0..8 {
        let token = app.csrf_token().await;
        let req = app
            .client
            .post("/api/auth/callback/credentials")
            .header(rocket::http::ContentType::Form)
            .header(Header::new("X-Forwarded-For", format!("10.0.0.{i}")))
            .header(Header::new("X-Real-IP", format!("10.1.0.{i}")))
            .body(format!("email=nobody{i}%40example.com&password=x&csrfToken={token}"));
        assert_eq!(app.browser.send(req).await.status, Status::Unauthorized);
    }
    assert_throttled(&app.post_credentials(&email, PASSWORD).await);
    let mut other = app.new_browser("Other network");
    other.remote = "198.51.100.7:1234".parse().unwrap();
    other.post_credentials(&app, &email, PASSWORD).await.assert_redirects_to("/");
}

#[rocket::async_test]
async fn an_ipv6_client_is_counted_per_64_block() {
    let app = TestApp::with_env(&[("AUTH_SIGNIN_MAX_FAILURES", "1")]).await;
    let email = app.signed_up_user().await;
    app.signout().await;
    for i in 0..4 {
        let mut b = app.new_browser("v6");
        b.remote = format!("[2001:db8:1:2::{i:x}]:443").parse().unwrap();
        let res = fail_signin(&app, &b, &format!("nobody{i}@example.com")).await;
        assert_eq!(res.status, Status::Unauthorized);
    }

    let mut same_block = app.new_browser("v6");
    same_block.remote = "[2001:db8:1:2:ffff::1]:443".parse().unwrap();
    assert_throttled(&same_block.post_credentials(&app, &email, PASSWORD).await);
}

#[rocket::async_test]
async fn sign_up_has_a_per_address_limit() {
    let app = TestApp::with_env(&[("AUTH_SIGNIN_MAX_FAILURES", "1")]).await;
    for i in 0..4 {
        let b = app.new_browser("farm");
        b.signup(&app, "", &format!("farm{i}@example.com"), PASSWORD).await.assert_redirects_to("/");
    }
    let b = app.new_browser("farm");
    assert_throttled(&b.signup(&app, "", "farm9@example.com", PASSWORD).await);
    assert_eq!(app.user_count().await, 4);
}

#[rocket::async_test]
async fn oauth_starts_have_a_per_address_limit() {
    let double = Double::start().await;
    let app = TestApp::with_double(&double, &[("AUTH_SIGNIN_MAX_FAILURES", "1")]).await;
    for _ in 0..4 {
        assert_eq!(app.browser.oauth_start(&app, "github", None).await.status, Status::SeeOther);
    }
    assert_throttled(&app.browser.oauth_start(&app, "github", None).await);
}

/// The body without what differs per request by design (CSRF tokens).
fn normalised(res: &Resp) -> String {
    let mut body = res.body.clone();
    while let Some(at) = body.find("name=\"csrfToken\" value=\"") {
        let start = at + "name=\"csrfToken\" value=\"".len();
        let end = start + body[start..].find('"').unwrap();
        body.replace_range(at..end, "CSRF");
    }
    body
}

#[rocket::async_test]
async fn an_unknown_email_and_a_wrong_password_get_the_same_answer() {
    let app = TestApp::spawn().await;
    let email = app.signed_up_user().await;
    app.signout().await;
    let wrong = app.post_credentials(&email, WRONG).await;
    let unknown = app.post_credentials("nobody@example.com", WRONG).await;
    assert_eq!(wrong.status, unknown.status);
    assert_eq!(
        normalised(&wrong).replace(&email, "EMAIL"),
        normalised(&unknown).replace("nobody@example.com", "EMAIL")
    );
    let names = |r: &Resp| {
        let mut h: Vec<String> = r.headers.iter().map(|(k, _)| k.to_lowercase()).collect();
        h.sort();
        h
    };
    assert_eq!(names(&wrong), names(&unknown));

    let token = app.csrf_token().await;
    let json = |e: &str| rocket::serde::json::json!({ "email": e, "password": WRONG, "csrfToken": token });
    let a = app.browser.post_json(&app, "/api/auth/callback/credentials", &json(&email), &[]).await;
    let b =
        app.browser.post_json(&app, "/api/auth/callback/credentials", &json("nobody@example.com"), &[]).await;
    assert_eq!((a.status, a.body), (b.status, b.body));
}

#[rocket::async_test]
async fn a_flood_of_sign_ins_is_bounded_while_signed_in_pages_keep_answering() {
    // The production argon2 cost, so that each hash takes real time. Sign-ins in flight
    // count against the account until they succeed: allow more than the flood.
    let app = TestApp::with_env(&[
        ("AUTH_ARGON2_MEMORY_KIB", "19456"),
        ("AUTH_ARGON2_ITERATIONS", "2"),
        ("AUTH_SIGNIN_MAX_FAILURES", "50"),
    ])
    .await;
    let email = app.signed_up_user().await;
    let done = AtomicUsize::new(0);
    const FLOOD: usize = 16;
    let browsers: Vec<Browser> = (0..FLOOD).map(|_| app.new_browser("flood")).collect();
    let flood = browsers.iter().map(|b| {
        let (app, email, done) = (&app, &email, &done);
        async move {
            let res = b.post_credentials(app, email, PASSWORD).await;
            done.fetch_add(1, Ordering::SeqCst);
            res.status
        }
    });
    let check = async {
        rocket::tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        let json = app.session_json().await;
        let page = app.get("/sessions").await;
        (json, page.status, done.load(Ordering::SeqCst))
    };
    let (statuses, (json, page, finished_before)) =
        rocket::tokio::join!(rocket::futures::future::join_all(flood), check);
    assert!(json.is_object(), "the signed-in check answered");
    assert_eq!(page, Status::Ok);
    assert!(
        finished_before < FLOOD,
        "answered while {} sign-ins were still hashing",
        FLOOD - finished_before
    );
    // Every sign-in either succeeded or was turned away fast with 503; none failed otherwise.
    assert!(
        statuses.iter().all(|s| *s == Status::SeeOther || *s == Status::ServiceUnavailable),
        "{statuses:?}"
    );
}

#[rocket::async_test]
async fn wrong_current_passwords_on_the_account_page_count_as_failed_sign_ins() {
    let app = TestApp::spawn().await;
    let email = app.signed_up_user().await;
    for _ in 0..5 {
        let token = app.csrf_token().await;
        let fields =
            [("currentPassword", WRONG), ("newPassword", "a fresh passphrase for me"), ("csrfToken", &token)];
        assert_eq!(app.post_form("/account/password", &fields).await.status, Status::UnprocessableEntity);
    }
    let token = app.csrf_token().await;
    let fields =
        [("currentPassword", PASSWORD), ("newPassword", "a fresh passphrase for me"), ("csrfToken", &token)];
    assert_throttled(&app.post_form("/account/password", &fields).await);
    let other = app.new_browser("Other");
    assert_throttled(&other.post_credentials(&app, &email, PASSWORD).await);
}

#[rocket::async_test]
async fn forty_wrong_passwords_sent_at_once_get_exactly_the_allowed_five_checks() {
    let app = TestApp::spawn().await;
    let email = app.signed_up_user().await;
    app.signout().await;
    let browsers: Vec<Browser> = (0..40).map(|_| app.new_browser("parallel")).collect();
    let tokens = rocket::futures::future::join_all(browsers.iter().map(|b| b.csrf_token(&app))).await;
    let attempts = browsers.iter().zip(&tokens).map(|(b, token)| {
        let fields = [("email", email.as_str()), ("password", WRONG), ("csrfToken", token.as_str())];
        let (app, b) = (&app, b);
        async move { b.post_form(app, "/api/auth/callback/credentials", &fields).await.status }
    });
    let statuses = rocket::futures::future::join_all(attempts).await;
    let checked = statuses.iter().filter(|s| **s == Status::Unauthorized).count();
    let refused = statuses.iter().filter(|s| **s == Status::TooManyRequests).count();
    assert_eq!((checked, refused), (5, 35), "{statuses:?}");
    assert_throttled(&app.post_credentials(&email, PASSWORD).await);
}

#[rocket::async_test]
async fn a_successful_sign_in_takes_back_its_attempt() {
    // Per-account limit 2, per-IP limit 8.
    let app = TestApp::with_env(&[("AUTH_SIGNIN_MAX_FAILURES", "2")]).await;
    let email = app.signed_up_user().await;
    app.signout().await;
    for _ in 0..10 {
        app.post_credentials(&email, PASSWORD).await.assert_redirects_to("/");
    }
    let (hits,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(hits), 0) FROM throttle")
        .fetch_all(app.pool())
        .await
        .unwrap()
        .remove(0);
    assert_eq!(hits, 1, "only the sign-up's own attempt is left");
}

#[rocket::async_test]
async fn every_sign_up_attempt_counts_before_any_check_refused_or_not() {
    // Per-IP sign-up limit: 4.
    let app = TestApp::with_env(&[("AUTH_SIGNIN_MAX_FAILURES", "1")]).await;
    for bad in ["not an address", "a@b@c", "<a@example.com>"] {
        let token = app.csrf_token().await;
        let res =
            app.post_form("/signup", &[("email", bad), ("password", PASSWORD), ("csrfToken", &token)]).await;
        assert_eq!(res.status, Status::UnprocessableEntity);
    }
    app.signup("", "fine@example.com", PASSWORD).await.assert_redirects_to("/");
    assert_throttled(&app.new_browser("next").signup(&app, "", "next@example.com", PASSWORD).await);
    assert_throttled(&app.new_browser("invalid").signup(&app, "", "still not one", PASSWORD).await);
    assert_eq!(app.user_count().await, 1);
}

/// A password that costs zxcvbn hundreds of milliseconds even in its first 64
/// characters: every character is a substitution for one or more letters.
fn costly_password() -> String {
    "4@8({[<3691!|70$5+%2".chars().cycle().take(200).collect()
}

#[rocket::async_test]
async fn the_strength_check_runs_off_the_async_workers_and_after_the_cheap_checks() {
    let app = TestApp::spawn().await;
    let order = std::sync::Mutex::new(Vec::new());
    let costly = costly_password();
    // As many expensive sign-ups as there are hashing threads, to keep them all busy.
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let browsers: Vec<Browser> = (0..threads).map(|_| app.new_browser("costly")).collect();
    let heavy = browsers.iter().enumerate().map(|(i, b)| {
        let (app, order, costly) = (&app, &order, &costly);
        async move {
            let res = b.signup(app, "", &format!("costly{i}@example.com"), costly).await;
            order.lock().unwrap().push("costly");
            res.status
        }
    });
    let light = async {
        rocket::tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        // An invalid email with the same costly password: refused by the cheap checks,
        // without waiting for a hashing thread.
        let res = app.signup("", "not an address", &costly).await;
        order.lock().unwrap().push("invalid");
        assert_eq!(res.status, Status::UnprocessableEntity);
        let health = app.get("/healthz").await;
        order.lock().unwrap().push("healthz");
        assert_eq!(health.status, Status::Ok);
    };
    let (statuses, ()) = rocket::tokio::join!(rocket::futures::future::join_all(heavy), light);
    assert!(statuses.iter().all(|s| *s == Status::SeeOther), "{statuses:?}");
    let order = order.into_inner().unwrap();
    assert_eq!(&order[..2], ["invalid", "healthz"], "answered while zxcvbn ran elsewhere: {order:?}");
}
