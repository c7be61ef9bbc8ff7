//! Several instances on one database behave as one: sessions, throttling counters and
//! OAuth flow state live in the database, never in one process.

use rocket::http::Status;

use crate::common::providers::Double;
use crate::common::{TestApp, PASSWORD};

fn now() -> i64 {
    rocket::time::OffsetDateTime::now_utc().unix_timestamp()
}

#[rocket::async_test]
async fn a_session_made_on_one_instance_is_accepted_extended_revoked_and_ended_on_another() {
    let a = TestApp::spawn().await;
    let b = a.another_instance().await;
    let email = a.signed_up_user().await;
    let browser = &a.browser;

    // Accepted by the other instance.
    assert_eq!(browser.session_json(&b).await["user"]["email"], email.as_str());

    // Extended by the other instance once updateAge has passed.
    a.exec(&format!("UPDATE sessions SET expires_at = {}", now() + 3600)).await;
    let json = browser.session_json(&b).await;
    let (_, expires_at, _) = a.session_times().await;
    assert!(expires_at > now() + 29 * 86400, "extended to about 30 days");
    assert!(json["expires"].is_string());

    // Revoked through one instance, refused at once by the other.
    let phone = a.new_browser("Phone");
    phone.post_credentials(&b, &email, PASSWORD).await.assert_redirects_to("/");
    let id = phone.session_token().unwrap().split('.').next().unwrap().to_string();
    let token = browser.csrf_token(&a).await;
    browser.post_form(&a, &format!("/sessions/{id}/revoke"), &[("csrfToken", &token)]).await;
    assert!(phone.session_json(&b).await.is_null());

    // Signed out through one instance, refused at once by the other.
    browser.signout(&b).await;
    let stolen = a.new_browser("Thief");
    assert!(stolen.session_json(&a).await.is_null());
    assert!(browser.session_json(&a).await.is_null());
    assert_eq!(a.session_count().await, 0);
}

#[rocket::async_test]
async fn throttling_counts_failures_across_instances() {
    let a = TestApp::spawn().await;
    let b = a.another_instance().await;
    let email = a.signed_up_user().await;
    a.signout().await;
    for i in 0..5 {
        let instance = if i % 2 == 0 { &a } else { &b };
        let res = a.browser.post_credentials(instance, &email, "wrong password here").await;
        assert_eq!(res.status, Status::Unauthorized);
    }
    for instance in [&a, &b] {
        let res = a.browser.post_credentials(instance, &email, PASSWORD).await;
        assert_eq!(res.status, Status::TooManyRequests);
    }
}

#[rocket::async_test]
async fn an_oauth_flow_started_on_one_instance_finishes_on_another_once() {
    let double = Double::start().await;
    let a = TestApp::with_double(&double, &[]).await;
    let b = a.another_instance().await;
    let start = a.browser.oauth_start(&a, "github", None).await;
    let back = double.authorize(start.location().unwrap()).await;
    a.browser.follow(&b, &back).await.assert_redirects_to("/");
    assert_eq!(a.browser.session_json(&a).await["user"]["email"], "octocat@github.example");
    // Replayed on the first instance: the flow is gone for both.
    a.signout().await;
    assert_eq!(a.browser.follow(&a, &back).await.status, Status::BadRequest);
}
