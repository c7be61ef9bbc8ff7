//! Auth.js's Email provider: a sign-in link or a 6-digit code, over a real SMTP
//! conversation with the test double.

use rocket::http::Status;

use crate::common::{TestApp, ORIGIN};

async fn ask_for_link(app: &TestApp, email: &str) -> crate::common::Resp {
    let token = app.csrf_token().await;
    app.post_form(
        "/api/auth/signin/email",
        &[("email", email), ("csrfToken", &token), ("callbackUrl", "/sessions")],
    )
    .await
}

#[rocket::async_test]
async fn a_link_signs_a_new_address_in_through_a_confirm_page() {
    let app = TestApp::spawn().await;
    let res = ask_for_link(&app, "Grace@Example.com").await;
    res.assert_redirects_to(
        "/api/auth/verify-request?provider=email&type=email&email=grace%40example.com&callbackUrl=%2Fsessions",
    );
    let message = app.mail.wait_for("grace@example.com", 1).await;
    assert_eq!(message.header("Subject").as_deref(), Some("Your sign-in link for Rocket Auth"));
    let link = message.link();
    assert!(link.starts_with(&format!("{ORIGIN}/api/auth/callback/email?token=")), "{link}");
    // Opening the link (a mail scanner would too) changes nothing: it is a page.
    let page = app.browser.follow(&app, &link).await;
    assert_eq!(page.status, Status::Ok);
    assert!(page.body.contains("Sign in as grace@example.com?"), "{}", page.body);
    assert_eq!(app.user_count().await, 0);
    let again = app.browser.follow(&app, &link).await;
    assert_eq!(again.status, Status::Ok, "a GET never consumes the token");
    // The button signs in, creates the account, verified.
    let token = link.split("token=").nth(1).unwrap().split('&').next().unwrap().to_string();
    let csrf = app.csrf_token().await;
    let res = app
        .post_form(
            "/api/auth/callback/email",
            &[
                ("token", &token),
                ("email", "grace@example.com"),
                ("callbackUrl", "/sessions"),
                ("csrfToken", &csrf),
            ],
        )
        .await;
    res.assert_redirects_to("/sessions");
    let session = app.session_json().await;
    assert_eq!(session["user"]["email"], "grace@example.com");
    assert!(session["user"]["emailVerified"].as_str().is_some_and(|t| t.ends_with('Z')), "{session}");
    // Used: the link and the page are dead.
    let used = app.browser.follow(&app, &link).await;
    assert_eq!(used.status, Status::BadRequest);
    assert!(used.body.contains("Verification"));
}

#[rocket::async_test]
async fn a_code_typed_on_the_verify_request_page_signs_in() {
    let app = TestApp::spawn().await;
    let email = app.signed_up_user().await;
    app.signout().await;
    ask_for_link(&app, &email).await;
    let message = app.mail.wait_for_subject(&email, "sign-in link").await;
    let code = message.code();
    assert_eq!(code.len(), 6);
    let csrf = app.csrf_token().await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let res = app
        .post_form("/api/auth/callback/email", &[("email", &email), ("code", wrong), ("csrfToken", &csrf)])
        .await;
    assert_eq!(res.status, Status::UnprocessableEntity);
    assert!(res.body.contains("That code is not right"));
    let res = app
        .post_form(
            "/api/auth/callback/email",
            &[("email", &email), ("code", &code), ("csrfToken", &csrf), ("callbackUrl", "/account")],
        )
        .await;
    assert_eq!(res.status, Status::SeeOther, "{}", res.body);
    assert_eq!(app.session_json().await["user"]["email"], email.as_str());
}

fn token_of(link: &str) -> String {
    link.split("token=").nth(1).unwrap().split('&').next().unwrap().to_string()
}

async fn post_token(app: &TestApp, token: &str, email: &str) -> crate::common::Resp {
    let csrf = app.csrf_token().await;
    app.post_form("/api/auth/callback/email", &[("token", token), ("email", email), ("csrfToken", &csrf)])
        .await
}

#[rocket::async_test]
async fn an_unknown_address_gets_the_same_answer_as_a_known_one() {
    let app = TestApp::spawn().await;
    let known = app.signed_up_user().await;
    app.signout().await;
    let a = ask_for_link(&app, &known).await;
    let b = ask_for_link(&app, "nobody@example.com").await;
    assert_eq!(a.status, b.status);
    assert_eq!(
        a.location().unwrap().replace(&known.replace('@', "%40"), "X"),
        b.location().unwrap().replace("nobody%40example.com", "X")
    );
    app.mail.wait_for_subject("nobody@example.com", "sign-in link").await;
    app.mail.wait_for_subject(&known, "sign-in link").await;
}

#[rocket::async_test]
async fn a_link_is_bound_to_its_address_single_use_and_dies_when_another_is_used_or_it_expires() {
    let app = TestApp::spawn().await;
    ask_for_link(&app, "ada@example.com").await;
    let first = token_of(&app.mail.wait_for("ada@example.com", 1).await.link());
    ask_for_link(&app, "ada@example.com").await;
    let second = token_of(&app.mail.wait_for("ada@example.com", 2).await.link());
    // Another address in the link: refused (and the token spent).
    let res = post_token(&app, &second, "eve@example.com").await;
    assert_eq!(res.status, Status::BadRequest);
    assert!(res.body.contains("Verification"));
    ask_for_link(&app, "ada@example.com").await;
    let third = token_of(&app.mail.wait_for("ada@example.com", 3).await.link());
    post_token(&app, &third, "ada@example.com").await.assert_redirects_to("/sessions");
    app.signout().await;
    // The first was never used, but a newer link of its kind was: it is dead too.
    assert_eq!(post_token(&app, &first, "ada@example.com").await.status, Status::BadRequest);
    assert_eq!(post_token(&app, &third, "ada@example.com").await.status, Status::BadRequest, "used");
    // Expired.
    ask_for_link(&app, "ada@example.com").await;
    let fourth = token_of(&app.mail.wait_for("ada@example.com", 4).await.link());
    app.exec("UPDATE email_tokens SET expires_at = expires_at - 901").await;
    assert_eq!(
        app.get(&format!("/api/auth/callback/email?token={fourth}&email=ada%40example.com")).await.status,
        Status::BadRequest
    );
    assert_eq!(post_token(&app, &fourth, "ada@example.com").await.status, Status::BadRequest);
    // Malformed.
    assert_eq!(post_token(&app, "x' OR 1=1 --", "ada@example.com").await.status, Status::BadRequest);
    assert!(app.session_json().await.is_null());
}

#[rocket::async_test]
async fn a_code_dies_after_five_wrong_tries_even_when_the_sign_in_throttle_allows_more() {
    let app = TestApp::with_env(&[("AUTH_SIGNIN_MAX_FAILURES", "50")]).await;
    ask_for_link(&app, "ada@example.com").await;
    let code = app.mail.wait_for("ada@example.com", 1).await.code();
    let csrf = app.csrf_token().await;
    let wrong = if code == "123456" { "654321" } else { "123456" };
    for bad in [wrong, "12", "abcdef", wrong, wrong] {
        let res = app
            .post_form(
                "/api/auth/callback/email",
                &[("email", "ada@example.com"), ("code", bad), ("csrfToken", &csrf)],
            )
            .await;
        assert_eq!(res.status, Status::UnprocessableEntity, "{bad}");
    }
    let res = app
        .post_form(
            "/api/auth/callback/email",
            &[("email", "ada@example.com"), ("code", &code), ("csrfToken", &csrf)],
        )
        .await;
    assert_eq!(res.status, Status::UnprocessableEntity, "the right code, after five wrong ones, is dead");
    assert!(app.session_json().await.is_null());
    assert_eq!(app.count("SELECT COUNT(*) FROM email_tokens WHERE $1 = $1", "x").await, 0);
}

#[rocket::async_test]
async fn wrong_codes_count_against_the_accounts_sign_in_throttle() {
    let app = TestApp::with_env(&[("AUTH_SIGNIN_MAX_FAILURES", "2")]).await;
    ask_for_link(&app, "ada@example.com").await;
    let code = app.mail.wait_for("ada@example.com", 1).await.code();
    let csrf = app.csrf_token().await;
    let wrong = if code == "123456" { "654321" } else { "123456" };
    for _ in 0..2 {
        let fields = [("email", "ada@example.com"), ("code", wrong), ("csrfToken", csrf.as_str())];
        assert_eq!(
            app.post_form("/api/auth/callback/email", &fields).await.status,
            Status::UnprocessableEntity
        );
    }
    let fields = [("email", "ada@example.com"), ("code", code.as_str()), ("csrfToken", csrf.as_str())];
    let res = app.post_form("/api/auth/callback/email", &fields).await;
    assert_eq!(res.status, Status::TooManyRequests);
    assert!(res.header("Retry-After").is_some());
    // A code for one address does not work for another.
    ask_for_link(&app, "eve@example.com").await;
    let fields = [("email", "eve@example.com"), ("code", code.as_str()), ("csrfToken", csrf.as_str())];
    assert_eq!(app.post_form("/api/auth/callback/email", &fields).await.status, Status::UnprocessableEntity);
}

#[rocket::async_test]
async fn sending_is_throttled_per_address_and_per_ip_and_needs_csrf() {
    let app = TestApp::with_env(&[("AUTH_EMAIL_MAX_PER_ADDRESS", "2"), ("AUTH_EMAIL_MAX_PER_IP", "4")]).await;
    for _ in 0..2 {
        ask_for_link(&app, "ada@example.com").await.assert_redirects_to(
            "/api/auth/verify-request?provider=email&type=email&email=ada%40example.com&callbackUrl=%2Fsessions",
        );
    }
    let res = ask_for_link(&app, "ADA@example.com").await;
    assert_eq!(res.status, Status::TooManyRequests, "per address, normalised");
    assert!(res.header("Retry-After").is_some_and(|s| s.parse::<i64>().unwrap() > 900), "an hour's window");
    assert_eq!(ask_for_link(&app, "grace@example.com").await.status, Status::SeeOther);
    assert_eq!(ask_for_link(&app, "hopper@example.com").await.status, Status::TooManyRequests, "per IP");
    let res = app.post_form("/api/auth/signin/email", &[("email", "x@example.com")]).await;
    assert_eq!(res.status, Status::Forbidden);
    rocket::tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(app.mail.to("ada@example.com").len(), 2, "no mail for a throttled request");
    assert!(app.mail.to("x@example.com").is_empty());
}

#[rocket::async_test]
async fn an_address_that_is_not_one_is_refused_and_the_form_kept() {
    let app = TestApp::spawn().await;
    let token = app.csrf_token().await;
    let res =
        app.post_form("/api/auth/signin/email", &[("email", "<a@example.com>"), ("csrfToken", &token)]).await;
    assert_eq!(res.status, Status::UnprocessableEntity);
    assert!(res.body.contains("value=\"&lt;a@example.com&gt;\""), "{}", res.body);
    assert!(res.body.contains("signin-email-error"));
    // next-auth 5's client gets its URL with the error.
    let res = app
        .browser
        .post_json(
            &app,
            "/api/auth/signin/email",
            &serde_json::json!({ "email": "nope", "csrfToken": token }),
            &[("X-Auth-Return-Redirect", "1")],
        )
        .await;
    assert!(res.json()["url"].as_str().unwrap().contains("error=EmailSignin"));
}

#[rocket::async_test]
async fn auth_js_clients_get_the_verify_request_url_and_providers_list_email() {
    let app = TestApp::spawn().await;
    let token = app.csrf_token().await;
    let body = serde_json::json!({ "email": "ada@example.com", "csrfToken": token, "callbackUrl": "http://localhost:8000/account" });
    let res = app
        .browser
        .post_json(&app, "/api/auth/signin/nodemailer", &body, &[("X-Auth-Return-Redirect", "1")])
        .await;
    assert_eq!(res.status, Status::Ok);
    let url = res.json()["url"].as_str().unwrap().to_string();
    assert!(
        url.starts_with("http://localhost:8000/api/auth/verify-request?provider=email&type=email"),
        "{url}"
    );
    let providers = app.get("/api/auth/providers").await.json();
    assert_eq!(providers["email"]["type"], "email");
    assert_eq!(providers["email"]["signinUrl"], "http://localhost:8000/api/auth/signin/email");
    let page = app.get("/signin").await.body;
    assert!(page.contains("action=\"/api/auth/signin/email\"") && page.contains("Forgot your password?"));
    let page = app.get(&url.replace(ORIGIN, "")).await;
    assert!(page.body.contains("name=\"code\""), "the code form");
}

#[rocket::async_test]
async fn proving_an_unverified_address_ends_what_its_first_registrant_set_up() {
    let app = TestApp::spawn().await;
    // Someone registers the victim's address first, with a password of theirs.
    let attacker = app.new_browser("Attacker");
    attacker
        .signup(&app, "Not Ada", "ada@example.com", crate::common::PASSWORD)
        .await
        .assert_redirects_to("/");
    // The owner signs in with a link sent to it.
    ask_for_link(&app, "ada@example.com").await;
    let message = app.mail.wait_for_subject("ada@example.com", "sign-in link").await;
    post_token(&app, &token_of(&message.link()), "ada@example.com").await.assert_redirects_to("/sessions");
    assert_eq!(app.session_json().await["user"]["email"], "ada@example.com");
    assert!(attacker.session_json(&app).await.is_null(), "the first registrant's session ended");
    let again = app.new_browser("Attacker again");
    let res = again.post_credentials(&app, "ada@example.com", crate::common::PASSWORD).await;
    assert_eq!(res.status, Status::Unauthorized, "their password is gone");
    assert_eq!(app.user_count().await, 1);
    assert!(app
        .get("/account")
        .await
        .body
        .contains("earlier password, sessions and two-factor settings were removed"));
}

#[rocket::async_test]
async fn with_email_off_the_email_routes_are_not_there() {
    let app = TestApp::with_figment(&[("EMAIL_SERVER", "")], |f| f.select("release")).await;
    let token = app.csrf_token().await;
    for path in ["/api/auth/signin/email", "/forgot-password", "/account/verify-email"] {
        let res = app.post_form(path, &[("email", "ada@example.com"), ("csrfToken", &token)]).await;
        assert!(matches!(res.status.code, 404 | 401), "{path}: {}", res.status);
    }
    assert_eq!(app.get("/forgot-password").await.status, Status::NotFound);
    assert_eq!(app.get("/api/auth/verify-request").await.status, Status::NotFound);
    assert!(app.get("/api/auth/providers").await.json().get("email").is_none());
    let page = app.get("/signin").await.body;
    assert!(!page.contains("Forgot your password?") && !page.contains("/api/auth/signin/email"));
    app.signup("", "ada@example.com", crate::common::PASSWORD).await.assert_redirects_to("/");
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE $1 = $1", "x").await, 0);
}
