//! Notices go only to a verified address and never block what they report.

use std::time::Duration;

use rocket::http::Status;

use crate::common::smtp::Mode;
use crate::common::{TestApp, PASSWORD};

const NEW: &str = "lantern orchard velvet compass";

fn subjects(app: &TestApp, to: &str) -> Vec<String> {
    app.mail.to(to).iter().filter_map(|m| m.header("Subject")).collect()
}

#[rocket::async_test]
async fn a_password_change_is_told_to_a_verified_address_only() {
    let app = TestApp::spawn().await;
    let unverified = app.signed_up_user().await;
    let csrf = app.csrf_token().await;
    let fields = [("currentPassword", PASSWORD), ("newPassword", NEW), ("csrfToken", csrf.as_str())];
    app.post_form("/account/password", &fields).await.assert_redirects_to("/account");
    rocket::tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        !subjects(&app, &unverified).iter().any(|s| s.contains("was changed")),
        "not to an unproven address"
    );

    let other = TestApp::spawn().await;
    let verified = other.verified_user().await;
    let csrf = other.csrf_token().await;
    let fields = [("currentPassword", PASSWORD), ("newPassword", NEW), ("csrfToken", csrf.as_str())];
    other.post_form("/account/password", &fields).await.assert_redirects_to("/account");
    let notice = other.mail.wait_for_subject(&verified, "password was changed").await;
    let text = notice.text();
    assert!(text.contains("Firefox on Linux") && text.contains("203.0.113.7"), "says from where: {text}");
}

#[rocket::async_test]
async fn a_sign_in_from_a_new_device_and_ip_is_told_and_a_familiar_one_is_not() {
    let app = TestApp::spawn().await;
    let email = app.verified_user().await;
    app.signout().await;
    app.post_credentials(&email, PASSWORD).await.assert_redirects_to("/");
    rocket::tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(!subjects(&app, &email).iter().any(|s| s.contains("new sign-in")), "the device that signed up");
    let mut phone = app.new_browser(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    );
    phone.remote = "198.51.100.20:443".parse().unwrap();
    phone.post_credentials(&app, &email, PASSWORD).await.assert_redirects_to("/");
    let notice = app.mail.wait_for_subject(&email, "new sign-in").await;
    assert!(notice.text().contains("Safari on iPhone") && notice.text().contains("198.51.100.20"));
}

#[rocket::async_test]
async fn with_smtp_down_a_sign_in_and_a_password_change_still_work() {
    let app = TestApp::spawn().await;
    let email = app.verified_user().await;
    app.mail.set_mode(Mode::Refuse);
    let csrf = app.csrf_token().await;
    let fields = [("currentPassword", PASSWORD), ("newPassword", NEW), ("csrfToken", csrf.as_str())];
    app.post_form("/account/password", &fields).await.assert_redirects_to("/account");
    let mut far = app.new_browser("curl/8.5.0");
    far.remote = "198.51.100.99:1".parse().unwrap();
    assert_eq!(far.post_credentials(&app, &email, NEW).await.status, Status::SeeOther);
}
