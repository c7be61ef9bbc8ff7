use rocket::http::Status;
use rocket::serde::json::Value;

use crate::common::{Browser, TestApp};

#[rocket::async_test]
async fn signing_out_deletes_the_row_clears_the_cookie_and_kills_the_token() {
    let app = TestApp::spawn().await;
    app.signed_up_user().await;
    let token = app.browser.session_token().unwrap();
    let res = app.signout().await;
    res.assert_redirects_to("/");
    let removal = res.set_cookie("authjs.session-token").expect("a removal cookie");
    assert!(removal.value().is_empty());
    assert_eq!(app.session_count().await, 0);
    assert!(app.browser.session_token().is_none());

    // Someone who copied the cookie gets nothing on the very next request.
    let thief = Browser::new();
    thief.set_cookie("authjs.session-token", &token);
    assert_eq!(thief.session_json(&app).await, Value::Null);
    thief.get(&app, "/sessions").await.assert_redirects_to("/signin?callbackUrl=%2Fsessions");
}

#[rocket::async_test]
async fn sign_out_shows_a_message_and_honours_the_callback_url() {
    let app = TestApp::spawn().await;
    app.signed_up_user().await;
    let token = app.csrf_token().await;
    let res = app.post_form("/api/auth/signout", &[("csrfToken", &token), ("callbackUrl", "/signin")]).await;
    res.assert_redirects_to("/signin");
    let page = app.get("/signin").await;
    assert!(page.body.contains("You have been signed out."));
}

#[rocket::async_test]
async fn signing_out_without_a_session_is_harmless() {
    let app = TestApp::spawn().await;
    let res = app.signout().await;
    assert_eq!(res.status, Status::SeeOther);
}

#[rocket::async_test]
async fn signing_out_one_browser_leaves_the_others_signed_in() {
    let app = TestApp::spawn().await;
    let email = app.signed_up_user().await;
    let phone = app.new_browser("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)");
    phone.post_credentials(&app, &email, crate::common::PASSWORD).await.assert_redirects_to("/");
    app.signout().await;
    assert!(phone.session_json(&app).await["user"].is_object());
}
