//! The second factor: TOTP enrolment, the second step of every way of signing in,
//! recovery codes, turning it off, and every code that must be refused.

use rocket::http::Status;

use crate::common::providers::Double;
use crate::common::two_factor::{clear_of_step_end, key_on_page, Authenticator};
use crate::common::{TestApp, ORIGIN, PASSWORD};

async fn rows(app: &TestApp, table: &str, email: &str) -> i64 {
    app.count(
        &format!("SELECT COUNT(*) FROM {table} t JOIN users u ON u.id = t.user_id WHERE u.email = $1"),
        email,
    )
    .await
}

async fn sessions_of(app: &TestApp, email: &str) -> i64 {
    rows(app, "sessions", email).await
}

#[rocket::async_test]
async fn enrolment_shows_a_qr_code_and_the_key_and_a_first_code_turns_it_on() {
    let app = TestApp::spawn().await;
    let email = app.verified_user().await;
    let page = app.get("/account/two-factor").await;
    assert_eq!(page.status, Status::Ok);
    assert!(page.body.contains("<svg") && page.body.contains("<path"), "an inline SVG QR code");
    assert!(!page.body.contains("<?xml") && !page.body.contains("<script"));
    let key = key_on_page(&page.body);
    assert_eq!(key.split_whitespace().collect::<String>().len(), 32, "160 bits in base32: {key}");
    // The same enrolment on reload (the phone may have scanned it already).
    assert_eq!(key_on_page(&app.get("/account/two-factor").await.body), key);
    assert_eq!(rows(&app, "totp_enrolments", &email).await, 1);
    assert_eq!(rows(&app, "totp_credentials", &email).await, 0);

    let phone = Authenticator::from_key(&key);
    let csrf = app.csrf_token().await;
    // Wrong and malformed codes: the page again, still off.
    clear_of_step_end().await;
    let wrong = if phone.code(0) == "000000" { "111111" } else { "000000" };
    for bad in [wrong, "12ab56", "", "1234567", "<b>123456</b>"] {
        let res = app.post_form("/account/two-factor/totp", &[("code", bad), ("csrfToken", &csrf)]).await;
        assert_eq!(res.status, Status::UnprocessableEntity, "{bad:?}");
        assert!(res.body.contains("is not on yet") && key_on_page(&res.body) == key, "{bad:?}");
        assert!(!res.body.contains("<b>123456"), "escaped");
    }
    assert_eq!(rows(&app, "totp_credentials", &email).await, 0);

    let res =
        app.post_form("/account/two-factor/totp", &[("code", &phone.code(0)), ("csrfToken", &csrf)]).await;
    assert_eq!(res.status, Status::Ok, "{}", res.body);
    let codes = crate::common::two_factor::codes_on_page(&res.body);
    assert_eq!(codes.len(), 10);
    assert!(codes.iter().all(|c| c.len() == 11 && c.as_bytes()[5] == b'-'), "{codes:?}");
    assert_eq!(rows(&app, "totp_credentials", &email).await, 1);
    assert_eq!(rows(&app, "recovery_codes", &email).await, 10);
    assert_eq!(rows(&app, "totp_enrolments", &email).await, 0, "the enrolment is used up");
    // At rest: neither the key nor a recovery code.
    let (secret,): (String,) =
        sqlx::query_as("SELECT secret FROM totp_credentials").fetch_all(app.pool()).await.unwrap().remove(0);
    let plain_key: String = key.split_whitespace().collect();
    assert!(!secret.contains(&plain_key) && !secret.to_lowercase().contains(&plain_key.to_lowercase()));
    let hashes: Vec<(String,)> =
        sqlx::query_as("SELECT code_hash FROM recovery_codes").fetch_all(app.pool()).await.unwrap();
    assert!(hashes
        .iter()
        .all(|(h,)| h.len() == 64 && !codes.iter().any(|c| h.contains(&c.replace('-', "")))));
    // The page and the account say so; the log and a notice too; a second enrolment is refused.
    let page = app.get("/account/two-factor").await;
    assert!(page.body.contains("10 of 10 left") && !page.body.contains("totp-secret"));
    let account = app.get("/account").await;
    assert!(
        account.body.contains("Two-factor authentication turned on")
            && account.body.contains("10 recovery codes left")
    );
    app.mail.wait_for_subject(&email, "Two-factor authentication is on").await;
    let again =
        app.post_form("/account/two-factor/totp", &[("code", &phone.code(1)), ("csrfToken", &csrf)]).await;
    assert_eq!(again.status, Status::Conflict);
}

#[rocket::async_test]
async fn an_enrolment_is_confirmed_only_by_the_session_it_was_shown_to() {
    let app = TestApp::spawn().await;
    let email = app.verified_user().await;
    let key = key_on_page(&app.get("/account/two-factor").await.body);
    let phone = Authenticator::from_key(&key);
    // The same user in another browser (or a thief with a second session) cannot
    // confirm the secret this browser was shown.
    let other = app.new_browser("Other");
    other.post_credentials(&app, &email, PASSWORD).await.assert_redirects_to("/");
    clear_of_step_end().await;
    let csrf = other.csrf_token(&app).await;
    let res = other
        .post_form(&app, "/account/two-factor/totp", &[("code", &phone.code(0)), ("csrfToken", &csrf)])
        .await;
    assert_eq!(res.status, Status::UnprocessableEntity);
    assert!(res.body.contains("ran out"), "{}", res.body);
    assert_eq!(rows(&app, "totp_credentials", &email).await, 0);
    // An enrolment that ran out is replaced by a new secret.
    app.exec("UPDATE totp_enrolments SET expires_at = 1").await;
    let csrf = app.csrf_token().await;
    let res =
        app.post_form("/account/two-factor/totp", &[("code", &phone.code(0)), ("csrfToken", &csrf)]).await;
    assert_eq!(res.status, Status::UnprocessableEntity);
    assert_ne!(key_on_page(&res.body), key, "a new key");
    assert_eq!(rows(&app, "totp_credentials", &email).await, 0);
}

#[rocket::async_test]
async fn a_password_sign_in_waits_for_the_code_and_the_callback_url_is_kept() {
    let app = TestApp::spawn().await;
    let email = app.verified_user().await;
    let mut phone = app.enable_totp().await.app;
    app.signout().await;
    let csrf = app.csrf_token().await;
    let res = app
        .post_form(
            "/api/auth/callback/credentials",
            &[("email", &email), ("password", PASSWORD), ("csrfToken", &csrf), ("callbackUrl", "/sessions")],
        )
        .await;
    res.assert_redirects_to("/signin/two-factor");
    // No session yet: the browser is signed out everywhere.
    assert_eq!(sessions_of(&app, &email).await, 0);
    assert!(app.session_json().await.is_null());
    assert!(app.browser.session_token().is_none());
    app.get("/account").await.assert_redirects_to("/signin?callbackUrl=%2Faccount");
    let pending = app.browser.cookie("authjs.pending-signin").expect("the pending sign-in's cookie");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM pending_signins WHERE token_hash = $1", &pending).await,
        0,
        "hashed"
    );
    let page = app.get("/signin/two-factor").await;
    assert_eq!(page.status, Status::Ok);
    assert!(page.body.contains(&email) && page.body.contains("name=\"code\""));

    let code = phone.next_code().await;
    app.second_step(&code).await.assert_redirects_to("/sessions");
    assert_eq!(app.session_json().await["user"]["email"], email.as_str());
    assert!(app.browser.cookie("authjs.pending-signin").is_none());
    assert_eq!(rows(&app, "pending_signins", &email).await, 0);
    // The same code again, in a new sign-in: refused (a code works once).
    app.signout().await;
    app.post_credentials(&email, PASSWORD).await.assert_redirects_to("/signin/two-factor");
    let res = app.second_step(&code).await;
    assert_eq!(res.status, Status::UnprocessableEntity);
    assert!(res.body.contains("used already"));
    assert!(app.session_json().await.is_null());
    app.second_step(&phone.next_code().await).await.assert_redirects_to("/");
}

#[rocket::async_test]
async fn codes_outside_the_window_and_older_than_the_last_used_are_refused() {
    let app = TestApp::spawn().await;
    let email = app.verified_user().await;
    let phone = app.enable_totp().await.app; // enrolled with the previous step's code
    app.signout().await;
    app.post_credentials(&email, PASSWORD).await.assert_redirects_to("/signin/two-factor");
    clear_of_step_end().await;
    for (what, code) in [
        ("two steps ago", phone.code(-2)),
        ("the previous step, already used at enrolment", phone.code(-1)),
        ("malformed", "12 34".to_string()),
        ("too long", "1".repeat(100)),
    ] {
        let res = app.second_step(&code).await;
        assert_eq!(res.status, Status::UnprocessableEntity, "{what}");
    }
    assert!(app.session_json().await.is_null());
    // Still pending (four tries, not five): the current step's code works.
    app.second_step(&phone.code(0)).await.assert_redirects_to("/");
    assert_eq!(sessions_of(&app, &email).await, 1);
}

#[rocket::async_test]
async fn five_wrong_codes_end_the_pending_sign_in_and_every_try_counts_against_the_account() {
    let app = TestApp::with_env(&[("AUTH_SIGNIN_MAX_FAILURES", "7")]).await;
    let email = app.verified_user().await;
    let phone = app.enable_totp().await.app;
    app.signout().await;
    app.post_credentials(&email, PASSWORD).await.assert_redirects_to("/signin/two-factor");
    clear_of_step_end().await;
    let wrong = if phone.code(0) == "999999" { "999998" } else { "999999" };
    for _ in 0..4 {
        assert_eq!(app.second_step(wrong).await.status, Status::UnprocessableEntity);
    }
    app.second_step(wrong).await.assert_redirects_to("/signin");
    assert_eq!(rows(&app, "pending_signins", &email).await, 0);
    assert!(app.get("/signin").await.body.contains("Too many wrong codes"));
    // The right code now finds nothing to finish.
    app.second_step(&phone.code(0)).await.assert_redirects_to("/signin");
    assert_eq!(sessions_of(&app, &email).await, 0);
    assert!(app.get("/account").await.status == Status::SeeOther);
    // Those five still count: a right password gives back only its own try (it is
    // not the whole sign-in, so it cannot wipe the count and buy five more guesses),
    // and two more wrong codes lock the account (AUTH_SIGNIN_MAX_FAILURES = 7).
    app.post_credentials(&email, PASSWORD).await.assert_redirects_to("/signin/two-factor");
    assert_eq!(app.second_step(wrong).await.status, Status::UnprocessableEntity);
    assert_eq!(app.second_step(wrong).await.status, Status::UnprocessableEntity);
    let locked = app.second_step(&phone.code(0)).await;
    assert_eq!(locked.status, Status::TooManyRequests, "{}", locked.body);
    assert!(locked.header("Retry-After").is_some());
    assert_eq!(sessions_of(&app, &email).await, 0);
    let log = rows(&app, "security_events", &email).await;
    assert!(log >= 7);
}

#[rocket::async_test]
async fn a_pending_sign_in_is_bound_to_its_browser_and_to_five_minutes() {
    let app = TestApp::spawn().await;
    let email = app.verified_user().await;
    let mut phone = app.enable_totp().await.app;
    app.signout().await;
    app.post_credentials(&email, PASSWORD).await.assert_redirects_to("/signin/two-factor");
    // Another browser with the right code but not the cookie: nothing to finish.
    let other = app.new_browser("Other");
    other.get(&app, "/signin/two-factor").await.assert_redirects_to("/signin");
    let code = phone.next_code().await;
    other.second_step(&app, &code).await.assert_redirects_to("/signin");
    assert!(other.session_json(&app).await.is_null());
    // A forged cookie: the same.
    other.set_cookie("authjs.pending-signin", "A".repeat(43).as_str());
    other.second_step(&app, &code).await.assert_redirects_to("/signin");
    // After five minutes the code is refused too.
    app.exec("UPDATE pending_signins SET expires_at = 1").await;
    app.second_step(&code).await.assert_redirects_to("/signin");
    assert_eq!(sessions_of(&app, &email).await, 0);
    // A script is told with 401.
    app.post_credentials(&email, PASSWORD).await;
    app.exec("UPDATE pending_signins SET expires_at = 1").await;
    let csrf = app.csrf_token().await;
    let res = app
        .browser
        .post_json(&app, "/signin/two-factor", &serde_json::json!({ "code": code, "csrfToken": csrf }), &[])
        .await;
    assert_eq!(res.status, Status::Unauthorized);
    assert_eq!(res.json()["error"], "SessionRequired");
}

#[rocket::async_test]
async fn a_recovery_code_signs_in_once_and_the_owner_is_told() {
    let app = TestApp::spawn().await;
    let email = app.verified_user().await;
    let enrolled = app.enable_totp().await;
    app.signout().await;
    app.post_credentials(&email, PASSWORD).await.assert_redirects_to("/signin/two-factor");
    let code = enrolled.recovery_codes[3].clone();
    // As people type it: upper case, spaces.
    let typed = format!(" {} ", code.to_uppercase().replace('-', " "));
    app.second_step(&typed).await.assert_redirects_to("/");
    assert_eq!(rows(&app, "recovery_codes", &email).await, 9);
    app.mail.wait_for_subject(&email, "A recovery code was used").await;
    assert!(app.get("/account").await.body.contains("Signed in with a recovery code (9 left)"));
    // Used: refused next time; another one still works.
    app.signout().await;
    app.post_credentials(&email, PASSWORD).await.assert_redirects_to("/signin/two-factor");
    assert_eq!(app.second_step(&code).await.status, Status::UnprocessableEntity);
    app.second_step(&enrolled.recovery_codes[4]).await.assert_redirects_to("/");
    assert_eq!(rows(&app, "recovery_codes", &email).await, 8);
}

#[rocket::async_test]
async fn new_recovery_codes_replace_the_old_and_turning_it_off_removes_everything() {
    let app = TestApp::spawn().await;
    let email = app.verified_user().await;
    let enrolled = app.enable_totp().await;
    let csrf = app.csrf_token().await;
    let res = app.post_form("/account/two-factor/recovery-codes", &[("csrfToken", &csrf)]).await;
    assert_eq!(res.status, Status::Ok);
    let fresh = crate::common::two_factor::codes_on_page(&res.body);
    assert_eq!(fresh.len(), 10);
    assert!(fresh.iter().all(|c| !enrolled.recovery_codes.contains(c)));
    assert_eq!(rows(&app, "recovery_codes", &email).await, 10);
    // A script gets them as JSON.
    let res = app
        .browser
        .post_json(&app, "/account/two-factor/recovery-codes", &serde_json::json!({ "csrfToken": csrf }), &[])
        .await;
    assert_eq!(res.status, Status::Ok);
    let json_codes = res.json()["recoveryCodes"].as_array().unwrap().len();
    assert_eq!(json_codes, 10);
    // The first set is dead.
    app.signout().await;
    app.post_credentials(&email, PASSWORD).await.assert_redirects_to("/signin/two-factor");
    assert_eq!(app.second_step(&enrolled.recovery_codes[0]).await.status, Status::UnprocessableEntity);
    assert_eq!(app.second_step(&fresh[0]).await.status, Status::UnprocessableEntity, "the HTML set died too");

    let mut phone = enrolled.app;
    app.second_step(&phone.next_code().await).await.assert_redirects_to("/");
    let csrf = app.csrf_token().await;
    app.post_form("/account/two-factor/disable", &[("csrfToken", &csrf)])
        .await
        .assert_redirects_to("/account/two-factor");
    for table in ["totp_credentials", "recovery_codes", "totp_enrolments"] {
        assert_eq!(rows(&app, table, &email).await, 0, "{table}");
    }
    app.mail.wait_for_subject(&email, "turned off").await;
    app.signout().await;
    app.post_credentials(&email, PASSWORD).await.assert_redirects_to("/");
    // Renewing codes without TOTP: 409.
    let csrf = app.csrf_token().await;
    let res = app.post_form("/account/two-factor/recovery-codes", &[("csrfToken", &csrf)]).await;
    assert_eq!(res.status, Status::Conflict);
}

#[rocket::async_test]
async fn authjs_clients_are_sent_to_the_second_step_and_get_no_session_until_then() {
    let app = TestApp::spawn().await;
    let email = app.verified_user().await;
    let mut phone = app.enable_totp().await.app;
    app.signout().await;
    let csrf = app.csrf_token().await;
    let body = serde_json::json!({ "email": email, "password": PASSWORD, "csrfToken": csrf, "callbackUrl": "/sessions" });
    let res = app
        .browser
        .post_json(&app, "/api/auth/callback/credentials", &body, &[("X-Auth-Return-Redirect", "1")])
        .await;
    assert_eq!(res.status, Status::Ok);
    assert_eq!(res.json()["url"], format!("{ORIGIN}/signin/two-factor"));
    assert!(app.session_json().await.is_null());
    app.second_step(&phone.next_code().await).await.assert_redirects_to("/sessions");
    assert_eq!(app.session_json().await["user"]["email"], email.as_str());
    // next-auth v4's body flag: the same.
    app.signout().await;
    let csrf = app.csrf_token().await;
    let res = app
        .post_form(
            "/api/auth/callback/credentials",
            &[("email", &email), ("password", PASSWORD), ("csrfToken", &csrf), ("json", "true")],
        )
        .await;
    assert_eq!(res.status, Status::Ok);
    assert_eq!(res.json()["url"], format!("{ORIGIN}/signin/two-factor"));
}

#[rocket::async_test]
async fn a_provider_sign_in_asks_for_the_second_factor_too() {
    let double = Double::start().await;
    let app = TestApp::with_double(&double, &[]).await;
    app.browser.oauth_signin(&app, &double, "github").await.assert_redirects_to("/");
    let email = app.session_json().await["user"]["email"].as_str().unwrap().to_string();
    let mut phone = app.enable_totp().await.app;
    app.signout().await;
    app.browser
        .oauth_signin_to(&app, &double, "github", Some("/sessions"))
        .await
        .assert_redirects_to("/signin/two-factor");
    assert_eq!(sessions_of(&app, &email).await, 0);
    app.second_step(&phone.next_code().await).await.assert_redirects_to("/sessions");
    let (method,): (String,) =
        sqlx::query_as("SELECT method FROM sessions").fetch_all(app.pool()).await.unwrap().remove(0);
    assert_eq!(method, "github", "the session records the first step's method");
}

#[rocket::async_test]
async fn an_emailed_link_or_a_reset_of_a_verified_account_still_asks_for_the_code() {
    let app = TestApp::spawn().await;
    let email = app.verified_user().await;
    let mut phone = app.enable_totp().await.app;
    app.signout().await;
    // A sign-in link.
    let csrf = app.csrf_token().await;
    app.post_form("/api/auth/signin/email", &[("email", &email), ("csrfToken", &csrf)]).await;
    let code = app.mail.wait_for_subject(&email, "Your sign-in link").await.code();
    let csrf = app.csrf_token().await;
    let res = app
        .post_form("/api/auth/callback/email", &[("email", &email), ("code", &code), ("csrfToken", &csrf)])
        .await;
    res.assert_redirects_to("/signin/two-factor");
    assert_eq!(sessions_of(&app, &email).await, 0);
    app.second_step(&phone.next_code().await).await.assert_redirects_to("/");
    assert_eq!(sessions_of(&app, &email).await, 1);
    // A reset: the password changes and every session ends, but no session starts
    // without the code.
    let csrf = app.csrf_token().await;
    app.post_form("/forgot-password", &[("email", &email), ("csrfToken", &csrf)]).await;
    let link = app.mail.wait_for_subject(&email, "Reset your").await.link();
    let token = link.split("token=").nth(1).unwrap().to_string();
    let other = app.new_browser("Thief with the mailbox");
    let csrf = other.csrf_token(&app).await;
    let res = other
        .post_form(
            &app,
            "/reset-password",
            &[("token", &token), ("newPassword", "lantern orchard velvet compass"), ("csrfToken", &csrf)],
        )
        .await;
    res.assert_redirects_to("/signin/two-factor");
    assert_eq!(sessions_of(&app, &email).await, 0, "every session ended, none started");
    assert!(other.session_json(&app).await.is_null());
    assert!(other.get(&app, "/signin/two-factor").await.body.contains("authenticator app"));
}

#[rocket::async_test]
async fn proving_a_never_verified_address_ends_the_first_registrants_second_factor() {
    let app = TestApp::spawn().await;
    // Someone registers the victim's address and turns TOTP on (never verifying it).
    let email = app.signed_up_user().await;
    app.enable_totp().await;
    app.signout().await;
    // The owner signs in by emailed code: no second step (the factor was not theirs),
    // and the squatter's factor is gone.
    let owner = app.new_browser("Owner");
    let csrf = owner.csrf_token(&app).await;
    owner.post_form(&app, "/api/auth/signin/email", &[("email", &email), ("csrfToken", &csrf)]).await;
    let code = app.mail.wait_for_subject(&email, "Your sign-in link").await.code();
    let csrf = owner.csrf_token(&app).await;
    owner
        .post_form(
            &app,
            "/api/auth/callback/email",
            &[("email", &email), ("code", &code), ("csrfToken", &csrf)],
        )
        .await
        .assert_redirects_to("/");
    assert_eq!(owner.session_json(&app).await["user"]["email"], email.as_str());
    assert_eq!(rows(&app, "totp_credentials", &email).await, 0);
    assert_eq!(rows(&app, "recovery_codes", &email).await, 0);
}

#[rocket::async_test]
async fn a_totp_secret_sealed_under_the_old_secret_works_after_a_rotation() {
    let app = TestApp::spawn().await;
    let email = app.verified_user().await;
    let mut phone = app.enable_totp().await.app;
    let (before,): (String,) =
        sqlx::query_as("SELECT secret FROM totp_credentials").fetch_all(app.pool()).await.unwrap().remove(0);
    let rotated = app
        .another_instance_with(&[
            ("AUTH_SECRET", "a-brand-new-secret-0123456789-abcdefghij"),
            ("AUTH_SECRET_1", crate::common::SECRET),
        ])
        .await;
    rotated.post_credentials(&email, PASSWORD).await.assert_redirects_to("/signin/two-factor");
    rotated.second_step(&phone.next_code().await).await.assert_redirects_to("/");
    let (after,): (String,) =
        sqlx::query_as("SELECT secret FROM totp_credentials").fetch_all(app.pool()).await.unwrap().remove(0);
    assert_ne!(before, after, "sealed again under the new secret");
    // With the old secret dropped, the new seal still opens.
    let only_new =
        app.another_instance_with(&[("AUTH_SECRET", "a-brand-new-secret-0123456789-abcdefghij")]).await;
    only_new.post_credentials(&email, PASSWORD).await.assert_redirects_to("/signin/two-factor");
    only_new.second_step(&phone.next_code().await).await.assert_redirects_to("/");
}

#[rocket::async_test]
async fn every_new_post_refuses_a_missing_csrf_token_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let email = app.verified_user().await;
    let key = key_on_page(&app.get("/account/two-factor").await.body);
    let phone = Authenticator::from_key(&key);
    clear_of_step_end().await;
    let code = phone.code(0);
    for (path, fields) in [
        ("/account/two-factor/totp", vec![("code", code.as_str())]),
        ("/account/two-factor/disable", vec![]),
        ("/account/two-factor/recovery-codes", vec![]),
        ("/signin/two-factor", vec![("code", code.as_str())]),
        ("/reauth", vec![("password", PASSWORD)]),
        ("/account/delete", vec![("confirm", email.as_str())]),
    ] {
        let res = app.post_form(path, &fields).await;
        assert_eq!(res.status, Status::Forbidden, "{path}");
        let mut with_wrong = fields.clone();
        with_wrong.push(("csrfToken", "not-the-token"));
        assert_eq!(app.post_form(path, &with_wrong).await.status, Status::Forbidden, "{path}");
    }
    assert_eq!(rows(&app, "totp_credentials", &email).await, 0);
    assert_eq!(app.user_count().await, 1);
}
