//! Proving an address: the verification sent at sign-up, resending it, what an
//! unproven account cannot do, and changing the address.

use rocket::http::Status;

use crate::common::providers::Double;
use crate::common::{Resp, TestApp, PASSWORD};

fn token_of(link: &str) -> String {
    link.split("token=").nth(1).unwrap().split('&').next().unwrap().to_string()
}

async fn post(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> Resp {
    let csrf = app.csrf_token().await;
    let mut all = fields.to_vec();
    all.push(("csrfToken", &csrf));
    app.post_form(path, &all).await
}

#[rocket::async_test]
async fn sign_up_sends_a_verification_whose_page_confirms_the_address() {
    let app = TestApp::spawn().await;
    let email = app.signed_up_user().await;
    assert!(app.session_json().await["user"]["emailVerified"].is_null());
    assert!(app.get("/account").await.body.contains("Not confirmed"));
    let link = app.mail.wait_for_subject(&email, "Confirm your email address").await.link();
    // The page asks first; opening it changes nothing.
    let page = app.browser.follow(&app, &link).await;
    assert_eq!(page.status, Status::Ok);
    assert!(page.body.contains(&format!("Confirm that {email} is your address?")));
    assert!(app.session_json().await["user"]["emailVerified"].is_null());
    post(&app, "/verify-email", &[("token", &token_of(&link))]).await.assert_redirects_to("/account");
    assert!(app.session_json().await["user"]["emailVerified"].is_string());
    assert!(app.get("/account").await.body.contains("Confirmed"));
    // Spent.
    assert_eq!(post(&app, "/verify-email", &[("token", &token_of(&link))]).await.status, Status::BadRequest);
    assert_eq!(app.browser.follow(&app, &link).await.status, Status::BadRequest);
}

#[rocket::async_test]
async fn the_verification_can_be_sent_again_throttled() {
    let app = TestApp::with_env(&[("AUTH_EMAIL_MAX_PER_ADDRESS", "2")]).await;
    let email = app.signed_up_user().await;
    app.mail.wait_for(&email, 1).await;
    post(&app, "/account/verify-email", &[]).await.assert_redirects_to("/account");
    app.mail.wait_for(&email, 2).await;
    post(&app, "/account/verify-email", &[]).await.assert_redirects_to("/account");
    assert_eq!(post(&app, "/account/verify-email", &[]).await.status, Status::TooManyRequests);
    assert_eq!(app.post_form("/account/verify-email", &[]).await.status, Status::Forbidden);
    app.verify_email(&email).await;
    let res = post(&app, "/account/verify-email", &[]).await;
    res.assert_redirects_to("/account");
}

#[rocket::async_test]
async fn an_unconfirmed_account_cannot_connect_a_provider() {
    let double = Double::start().await;
    let app = TestApp::with_double(&double, &[]).await;
    app.signed_up_user().await;
    let res = app.browser.oauth_connect_start(&app, "github").await;
    res.assert_redirects_to("/account");
    assert!(app.get("/account").await.body.contains("Confirm your email address first"));
    assert_eq!(app.count("SELECT COUNT(*) FROM oauth_flows WHERE $1 = $1", "x").await, 0);
}

#[rocket::async_test]
async fn an_address_changes_when_the_new_one_confirms_it_and_the_old_one_is_told() {
    let app = TestApp::spawn().await;
    let old = app.verified_user().await;
    let res = post(&app, "/account/email", &[("newEmail", "New@Example.com")]).await;
    res.assert_redirects_to("/account");
    assert_eq!(app.session_json().await["user"]["email"], old.as_str(), "not yet");
    app.mail.wait_for_subject(&old, "is being changed").await;
    let link = app.mail.wait_for_subject("new@example.com", "Confirm your new email address").await.link();
    assert!(link.starts_with("http://localhost:8000/account/email/confirm?token="));
    let page = app.browser.follow(&app, &link).await;
    assert!(page.body.contains("Use new@example.com as the address of your account?"));
    post(&app, "/account/email/confirm", &[("token", &token_of(&link))])
        .await
        .assert_redirects_to("/account");
    let session = app.session_json().await;
    assert_eq!(session["user"]["email"], "new@example.com");
    assert!(session["user"]["emailVerified"].is_string());
    app.signout().await;
    app.post_credentials("new@example.com", PASSWORD).await.assert_redirects_to("/");
    assert_eq!(
        post(&app, "/account/email/confirm", &[("token", &token_of(&link))]).await.status,
        Status::BadRequest
    );
}

#[rocket::async_test]
async fn a_new_address_that_is_taken_or_not_one_changes_nothing() {
    let app = TestApp::spawn().await;
    let other = app.new_browser("Other");
    other.signup(&app, "", "taken@example.com", PASSWORD).await;
    let mine = app.verified_user().await;
    for (bad, why) in [("nope", "valid email"), (mine.as_str(), "already your address")] {
        let res = post(&app, "/account/email", &[("newEmail", bad)]).await;
        assert_eq!(res.status, Status::UnprocessableEntity, "{bad}");
        assert!(res.body.contains(why), "{bad}: {}", res.body);
    }
    // Taken: the same answer as any address, and nothing sent to it.
    post(&app, "/account/email", &[("newEmail", "taken@example.com")]).await.assert_redirects_to("/account");
    rocket::tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(app
        .mail
        .to("taken@example.com")
        .iter()
        .all(|m| !m.header("Subject").unwrap().contains("new email")));
    // Taken between the request and the confirmation: 409, nothing changed.
    post(&app, "/account/email", &[("newEmail", "late@example.com")]).await;
    let link = app.mail.wait_for_subject("late@example.com", "new email").await.link();
    app.new_browser("Late").signup(&app, "", "late@example.com", PASSWORD).await;
    let res = post(&app, "/account/email/confirm", &[("token", &token_of(&link))]).await;
    assert_eq!(res.status, Status::Conflict);
    assert!(res.body.contains("now belongs to another account"));
    assert_eq!(app.session_json().await["user"]["email"], mine.as_str());
}
