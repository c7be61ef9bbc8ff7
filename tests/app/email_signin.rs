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
