//! A forgotten password: the request (the same answer for any address), the link's
//! page, the new password, and everything a reset ends.

use rocket::http::Status;

use crate::common::{Resp, TestApp, PASSWORD};

const NEW: &str = "lantern orchard velvet compass";

async fn forgot(app: &TestApp, email: &str) -> Resp {
    let token = app.csrf_token().await;
    app.post_form("/forgot-password", &[("email", email), ("csrfToken", &token)]).await
}

async fn reset(app: &TestApp, token: &str, password: &str) -> Resp {
    let csrf = app.csrf_token().await;
    app.post_form("/reset-password", &[("token", token), ("newPassword", password), ("csrfToken", &csrf)])
        .await
}

async fn reset_token(app: &TestApp, email: &str) -> String {
    let link = app.mail.wait_for_subject(email, "Reset your").await.link();
    assert!(link.starts_with("http://localhost:8000/reset-password?token="), "{link}");
    link.split("token=").nth(1).unwrap().to_string()
}

#[rocket::async_test]
async fn forgot_reset_and_signed_in_with_every_other_session_ended() {
    let app = TestApp::spawn().await;
    let email = app.verified_user().await;
    let phone = app.new_browser("Phone");
    phone.post_credentials(&app, &email, PASSWORD).await.assert_redirects_to("/");
    app.signout().await;

    forgot(&app, &email).await.assert_redirects_to("/forgot-password?sent=1");
    assert!(app.get("/forgot-password?sent=1").await.body.contains("If an account uses that address"));
    let token = reset_token(&app, &email).await;
    let page = app.get(&format!("/reset-password?token={token}")).await;
    assert_eq!(page.status, Status::Ok);
    assert!(page.body.contains(&email) && page.body.contains("name=\"newPassword\""));
    // A weak password: the form again; the link still works after.
    let res = reset(&app, &token, "password123").await;
    assert_eq!(res.status, Status::UnprocessableEntity);
    assert!(res.body.contains("too easy to guess") && res.body.contains(&format!("value=\"{token}\"")));
    reset(&app, &token, NEW).await.assert_redirects_to("/");
    assert_eq!(app.session_json().await["user"]["email"], email.as_str(), "signed in");
    assert!(phone.session_json(&app).await.is_null(), "every other session ended");
    assert_eq!(app.session_count().await, 1);
    // The old password no longer works, the new one does; the link is spent.
    assert_eq!(
        app.new_browser("x").post_credentials(&app, &email, PASSWORD).await.status,
        Status::Unauthorized
    );
    app.new_browser("y").post_credentials(&app, &email, NEW).await.assert_redirects_to("/");
    assert_eq!(reset(&app, &token, "another fine long passphrase").await.status, Status::BadRequest);
    // A notice went to the (verified) address.
    app.mail.wait_for_subject(&email, "password was reset").await;
}

#[rocket::async_test]
async fn an_unknown_address_gets_the_same_answer_and_nothing_is_stored_or_sent() {
    let app = TestApp::spawn().await;
    let email = app.signed_up_user().await;
    app.signout().await;
    // Both answers leave no earlier than a fixed time after the request (longer than
    // either takes here), so their time tells nothing either.
    let timed = |email: String| {
        let app = &app;
        async move {
            let token = app.csrf_token().await;
            let started = std::time::Instant::now();
            let res = app.post_form("/forgot-password", &[("email", &email), ("csrfToken", &token)]).await;
            (res, started.elapsed())
        }
    };
    let (known, known_took) = timed(email.clone()).await;
    let (unknown, unknown_took) = timed("nobody@example.com".into()).await;
    assert_eq!((known.status, known.location()), (unknown.status, unknown.location()));
    let floor = std::time::Duration::from_millis(60);
    assert!(known_took >= floor && unknown_took >= floor, "{known_took:?} {unknown_took:?}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM email_tokens WHERE email = $1", "nobody@example.com").await,
        0
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE recipient = $1", "nobody@example.com").await, 0);
    app.mail.wait_for_subject(&email, "Reset your").await;
    rocket::tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(app.mail.to("nobody@example.com").is_empty());
}

#[rocket::async_test]
async fn bad_expired_and_replaced_links_get_the_verification_page() {
    let app = TestApp::spawn().await;
    let email = app.signed_up_user().await;
    for bad in ["", "short", "x'--", &"A".repeat(43)] {
        let page = app.get(&format!("/reset-password?token={bad}")).await;
        assert_eq!(page.status, Status::BadRequest, "{bad:?}");
        assert!(page.body.contains("This link is no longer valid"));
        assert_eq!(reset(&app, bad, NEW).await.status, Status::BadRequest);
    }
    forgot(&app, &email).await;
    let token = reset_token(&app, &email).await;
    app.exec("UPDATE email_tokens SET expires_at = expires_at - 3601").await;
    assert_eq!(app.get(&format!("/reset-password?token={token}")).await.status, Status::BadRequest);
    assert_eq!(reset(&app, &token, NEW).await.status, Status::BadRequest, "expired");
    // A password change from the account page kills reset links sent before it.
    let before = app.mail.to(&email).len();
    forgot(&app, &email).await;
    let link = app.mail.wait_for(&email, before + 1).await.link();
    let token = link.split("token=").nth(1).unwrap().to_string();
    let csrf = app.csrf_token().await;
    let fields = [("currentPassword", PASSWORD), ("newPassword", NEW), ("csrfToken", csrf.as_str())];
    app.post_form("/account/password", &fields).await.assert_redirects_to("/account");
    assert_eq!(reset(&app, &token, "another fine long passphrase").await.status, Status::BadRequest);
}

#[rocket::async_test]
async fn a_reset_of_a_never_verified_account_ends_the_first_registrants_sessions() {
    let app = TestApp::spawn().await;
    let attacker = app.new_browser("Attacker");
    attacker.signup(&app, "", "ada@example.com", PASSWORD).await.assert_redirects_to("/");
    forgot(&app, "ada@example.com").await;
    let token = reset_token(&app, "ada@example.com").await;
    reset(&app, &token, NEW).await.assert_redirects_to("/");
    assert!(attacker.session_json(&app).await.is_null());
    let session = app.session_json().await;
    assert!(session["user"]["emailVerified"].is_string(), "verified now: {session}");
    assert_eq!(
        app.new_browser("a").post_credentials(&app, "ada@example.com", PASSWORD).await.status,
        Status::Unauthorized
    );
}

#[rocket::async_test]
async fn forgot_password_is_throttled_checks_its_field_and_needs_csrf() {
    let app = TestApp::with_env(&[("AUTH_EMAIL_MAX_PER_ADDRESS", "1")]).await;
    forgot(&app, "ada@example.com").await.assert_redirects_to("/forgot-password?sent=1");
    assert_eq!(forgot(&app, "ada@example.com").await.status, Status::TooManyRequests);
    let res = forgot(&app, "not an address").await;
    assert_eq!(res.status, Status::UnprocessableEntity);
    assert!(res.body.contains("value=\"not an address\""));
    assert_eq!(
        app.post_form("/forgot-password", &[("email", "b@example.com")]).await.status,
        Status::Forbidden
    );
    assert_eq!(
        app.post_form("/reset-password", &[("token", "x"), ("newPassword", NEW)]).await.status,
        Status::Forbidden
    );
}
