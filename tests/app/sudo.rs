//! Sudo mode: sensitive actions need a recent authentication; `/reauth` gives one with
//! the password, a TOTP code, or a new sign-in.

use rocket::http::Status;

use crate::common::providers::Double;
use crate::common::{TestApp, ORIGIN, PASSWORD};

async fn authenticated_at(app: &TestApp) -> i64 {
    let (t,): (i64,) = sqlx::query_as("SELECT authenticated_at FROM sessions")
        .fetch_all(app.pool())
        .await
        .unwrap()
        .remove(0);
    t
}

#[rocket::async_test]
async fn a_stale_session_is_sent_to_reauth_and_nothing_changes() {
    let app = TestApp::spawn().await;
    let email = app.verified_user().await;
    app.age_authentication().await;
    let csrf = app.csrf_token().await;
    let res = app.post_form("/account/email", &[("newEmail", "new@example.com"), ("csrfToken", &csrf)]).await;
    res.assert_redirects_to("/reauth?callbackUrl=%2Faccount");
    assert_eq!(app.count("SELECT COUNT(*) FROM email_tokens WHERE purpose = $1", "email_change").await, 0);
    let page = app.get("/reauth?callbackUrl=%2Faccount").await;
    assert_eq!(page.status, Status::Ok);
    assert!(page.body.contains("confirm it is you to continue"), "the flash says why");
    assert!(page.body.contains("alert-info"), "as a notice, not an error");
    assert!(page.body.contains("name=\"password\"") && page.body.contains(&email));
    // A script is told with 403 and where to go.
    let res = app
        .browser
        .post_json(
            &app,
            "/account/email",
            &serde_json::json!({ "newEmail": "new@example.com", "csrfToken": csrf }),
            &[],
        )
        .await;
    assert_eq!(res.status, Status::Forbidden);
    assert_eq!(res.json()["error"], "ReauthRequired");
    assert_eq!(res.json()["url"], format!("{ORIGIN}/reauth?callbackUrl=%2Faccount"));
}

#[rocket::async_test]
async fn every_sudo_action_asks_and_revoking_sessions_does_not() {
    let double = Double::start().await;
    let app = TestApp::with_double(&double, &[]).await;
    let email = app.verified_user().await;
    app.age_authentication().await;
    let csrf = app.csrf_token().await;
    for (path, fields, back) in [
        ("/account/email", vec![("newEmail", "x@example.com")], "%2Faccount"),
        ("/account/connect/github", vec![], "%2Faccount"),
        ("/account/unlink/github", vec![], "%2Faccount"),
        ("/account/delete", vec![("confirm", email.as_str())], "%2Faccount"),
        ("/account/two-factor/totp", vec![("code", "123456")], "%2Faccount%2Ftwo-factor"),
        ("/account/two-factor/disable", vec![], "%2Faccount%2Ftwo-factor"),
        ("/account/two-factor/recovery-codes", vec![], "%2Faccount%2Ftwo-factor"),
    ] {
        let mut fields = fields.clone();
        fields.push(("csrfToken", &csrf));
        app.post_form(path, &fields).await.assert_redirects_to(&format!("/reauth?callbackUrl={back}"));
    }
    let res = app.get("/account/export").await;
    assert_eq!(res.status, Status::SeeOther);
    assert!(res.location().unwrap().contains("/reauth?callbackUrl=%2Faccount"));
    // The two-factor page shows the state, but no secret, only the way to confirm.
    let page = app.get("/account/two-factor").await;
    assert_eq!(page.status, Status::Ok);
    assert!(!page.body.contains("totp-secret") && !page.body.contains("<svg"), "{}", page.body);
    assert!(page.body.contains("/reauth?callbackUrl=%2Faccount%2Ftwo-factor"));
    let enrolments =
        "SELECT COUNT(*) FROM totp_enrolments e JOIN users u ON u.id = e.user_id WHERE u.email = $1";
    assert_eq!(app.count(enrolments, &email).await, 0, "no secret was made for a stale session");
    assert_eq!(app.user_count().await, 1);
    // Changing the password asks for the current one, not for sudo.
    let res = app
        .post_form(
            "/account/password",
            &[
                ("currentPassword", PASSWORD),
                ("newPassword", "lantern orchard velvet compass"),
                ("csrfToken", &csrf),
            ],
        )
        .await;
    res.assert_redirects_to("/account");
    // Revoking sessions is defensive: free.
    let other = app.new_browser("Other");
    other.post_credentials(&app, &email, "lantern orchard velvet compass").await;
    app.age_authentication().await;
    let csrf = app.csrf_token().await;
    let res = app.post_form("/sessions/revoke-others", &[("csrfToken", &csrf)]).await;
    res.assert_redirects_to("/sessions");
    assert!(other.session_json(&app).await.is_null());
}

#[rocket::async_test]
async fn setting_a_first_password_is_a_sudo_action() {
    let double = Double::start().await;
    let app = TestApp::with_double(&double, &[]).await;
    app.browser.oauth_signin(&app, &double, "github").await.assert_redirects_to("/");
    app.age_authentication().await;
    let csrf = app.csrf_token().await;
    let fields = [("newPassword", "lantern orchard velvet compass"), ("csrfToken", csrf.as_str())];
    app.post_form("/account/password", &fields).await.assert_redirects_to("/reauth?callbackUrl=%2Faccount");
    assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE password_hash <> $1", "").await, 0);
    // Without a password, /reauth offers a new sign-in with the provider; it counts.
    let page = app.get("/reauth?callbackUrl=%2Faccount").await;
    assert!(!page.body.contains("name=\"password\""));
    assert!(page.body.contains("/api/auth/signin/github") && page.body.contains("Continue with GitHub"));
    app.browser
        .oauth_signin_to(&app, &double, "github", Some("/account"))
        .await
        .assert_redirects_to("/account");
    app.post_form(
        "/account/password",
        &[("newPassword", "lantern orchard velvet compass"), ("csrfToken", &app.csrf_token().await)],
    )
    .await
    .assert_redirects_to("/account");
    assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE password_hash <> $1", "").await, 1);
}

#[rocket::async_test]
async fn the_password_at_reauth_opens_sudo_mode_and_a_wrong_one_does_not() {
    let app = TestApp::spawn().await;
    app.verified_user().await;
    app.age_authentication().await;
    let stale = authenticated_at(&app).await;
    let csrf = app.csrf_token().await;
    for (password, status) in
        [("wrong password here", Status::UnprocessableEntity), ("", Status::UnprocessableEntity)]
    {
        let res = app
            .post_form(
                "/reauth",
                &[("password", password), ("callbackUrl", "/account"), ("csrfToken", &csrf)],
            )
            .await;
        assert_eq!(res.status, status);
        assert!(res.body.contains("name=\"password\""));
    }
    assert_eq!(authenticated_at(&app).await, stale);
    assert!(app.get("/account").await.body.contains("Failed confirmation"));
    // The right one: back to where the action was, and the action works.
    let res = app
        .post_form("/reauth", &[("password", PASSWORD), ("callbackUrl", "/account"), ("csrfToken", &csrf)])
        .await;
    res.assert_redirects_to("/account");
    assert!(authenticated_at(&app).await > stale);
    let res = app.post_form("/account/email", &[("newEmail", "new@example.com"), ("csrfToken", &csrf)]).await;
    res.assert_redirects_to("/account");
    assert!(app.get("/account").await.body.contains("Confirmed it was you with password"));
    // callbackUrl stays on this origin.
    app.age_authentication().await;
    let res = app
        .post_form(
            "/reauth",
            &[("password", PASSWORD), ("callbackUrl", "https://evil.example/x"), ("csrfToken", &csrf)],
        )
        .await;
    res.assert_redirects_to("/");
}

#[rocket::async_test]
async fn a_totp_code_at_reauth_works_once() {
    let app = TestApp::spawn().await;
    app.verified_user().await;
    let enrolled = app.enable_totp().await;
    let mut phone = enrolled.app;
    app.age_authentication().await;
    let page = app.get("/reauth").await;
    assert!(page.body.contains("name=\"code\""));
    let csrf = app.csrf_token().await;
    let code = phone.next_code().await;
    let post = |code: String| {
        let csrf = csrf.clone();
        let app = &app;
        async move {
            app.post_form(
                "/reauth",
                &[("code", &code), ("callbackUrl", "/account/two-factor"), ("csrfToken", &csrf)],
            )
            .await
        }
    };
    post(code.clone()).await.assert_redirects_to("/account/two-factor");
    app.age_authentication().await;
    assert_eq!(post(code).await.status, Status::UnprocessableEntity, "a code works once");
    // A recovery code is for signing in, not for sudo.
    assert_eq!(post(enrolled.recovery_codes[0].clone()).await.status, Status::UnprocessableEntity);
    assert_eq!(post("12345".into()).await.status, Status::UnprocessableEntity);
    post(phone.next_code().await).await.assert_redirects_to("/account/two-factor");
}

#[rocket::async_test]
async fn wrong_passwords_at_reauth_count_as_failed_sign_ins() {
    let app = TestApp::with_env(&[("AUTH_SIGNIN_MAX_FAILURES", "2")]).await;
    let email = app.verified_user().await;
    app.age_authentication().await;
    let csrf = app.csrf_token().await;
    for _ in 0..2 {
        let res =
            app.post_form("/reauth", &[("password", "wrong password here"), ("csrfToken", &csrf)]).await;
        assert_eq!(res.status, Status::UnprocessableEntity);
    }
    let res = app.post_form("/reauth", &[("password", PASSWORD), ("csrfToken", &csrf)]).await;
    assert_eq!(res.status, Status::TooManyRequests);
    // The same account's sign-in is locked too.
    let res = app.new_browser("x").post_credentials(&app, &email, PASSWORD).await;
    assert_eq!(res.status, Status::TooManyRequests);
}

#[rocket::async_test]
async fn a_new_sign_in_counts_and_reauth_needs_a_session() {
    let app = TestApp::spawn().await;
    let email = app.verified_user().await;
    app.age_authentication().await;
    app.get("/account/export").await.assert_redirects_to("/reauth?callbackUrl=%2Faccount");
    app.post_credentials(&email, PASSWORD).await.assert_redirects_to("/");
    assert_eq!(app.get("/account/export").await.status, Status::Ok);
    // Signed out, /reauth is a sign-in.
    let stranger = app.new_browser("Stranger");
    stranger
        .get(&app, "/reauth?callbackUrl=%2Faccount")
        .await
        .assert_redirects_to("/signin?callbackUrl=%2Freauth%3FcallbackUrl%3D%252Faccount");
    let csrf = stranger.csrf_token(&app).await;
    assert_eq!(
        stranger.post_form(&app, "/reauth", &[("password", PASSWORD), ("csrfToken", &csrf)]).await.status,
        Status::Unauthorized
    );
    assert!(stranger.session_json(&app).await.is_null());
}
