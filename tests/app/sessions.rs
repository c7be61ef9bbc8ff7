//! The sessions page: listing every live session of the user, revoking one, revoking
//! all others, with several browsers (own cookie jars, user agents and addresses) for
//! one user and for two users.

use rocket::http::Status;

use crate::common::{Browser, TestApp, PASSWORD};

const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
const CHROME_WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
                              (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

fn now() -> i64 {
    rocket::time::OffsetDateTime::now_utc().unix_timestamp()
}

/// A browser with its own user agent and address, signed in as `email`.
async fn signed_in(app: &TestApp, user_agent: &str, addr: &str, email: &str) -> Browser {
    let mut b = app.new_browser(user_agent);
    b.remote = addr.parse().unwrap();
    let res = b.post_credentials(app, email, PASSWORD).await;
    assert_eq!(res.status, Status::SeeOther, "sign-in failed: {}", res.body);
    b
}

/// The public id of the browser's session: the first half of its token.
fn session_id(b: &Browser) -> String {
    let token = b.session_token().expect("signed in");
    token.split('.').next().unwrap().to_string()
}

async fn revoke(app: &TestApp, b: &Browser, id: &str) -> crate::common::Resp {
    let token = b.csrf_token(app).await;
    b.post_form(app, &format!("/sessions/{id}/revoke"), &[("csrfToken", &token)]).await
}

async fn revoke_others(app: &TestApp, b: &Browser) -> crate::common::Resp {
    let token = b.csrf_token(app).await;
    b.post_form(app, "/sessions/revoke-others", &[("csrfToken", &token)]).await
}

#[rocket::async_test]
async fn the_page_lists_every_session_of_the_user_with_device_ip_and_times() {
    let app = TestApp::spawn().await;
    let email = app.signed_up_user().await;
    let _phone = signed_in(&app, IPHONE, "198.51.100.20:443", &email).await;
    let _pc = signed_in(&app, CHROME_WINDOWS, "[2001:db8::5]:443", &email).await;

    let res = app.get("/sessions").await;
    assert_eq!(res.status, Status::Ok);
    for text in [
        "Firefox on Linux",
        "Safari on iPhone",
        "Chrome on Windows",
        "203.0.113.7",
        "198.51.100.20",
        "2001:db8::5",
        "This device",
        "just now",
        "Sign out all other sessions",
    ] {
        assert!(res.body.contains(text), "the page shows {text:?}");
    }
    assert_eq!(res.body.matches("This device</span>").count(), 1, "only the current session is marked");
    assert_eq!(res.body.matches("/revoke\"").count(), 3, "one revoke form per session");
    // The raw user agent is there on hover and in the details.
    assert!(res.body.contains("title=\"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5"));
    // Times carry the exact value for machines and on hover.
    assert!(res.body.contains("<time datetime=\""));
}

#[rocket::async_test]
async fn the_list_is_ordered_by_last_activity_and_leaves_out_expired_and_foreign_sessions() {
    let app = TestApp::spawn().await;
    let email = app.signed_up_user().await;
    let phone = signed_in(&app, IPHONE, "198.51.100.20:443", &email).await;
    let pc = signed_in(&app, CHROME_WINDOWS, "198.51.100.21:443", &email).await;
    let stranger =
        app.new_browser("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Version/17.5 Safari/605.1.15");
    stranger.signup(&app, "Eve", "eve@example.com", PASSWORD).await;

    let t = now();
    app.exec(&format!(
        "UPDATE sessions SET last_active_at = {} WHERE id = '{}'",
        t - 7200,
        session_id(&phone)
    ))
    .await;
    app.exec(&format!("UPDATE sessions SET last_active_at = {} WHERE id = '{}'", t - 600, session_id(&pc)))
        .await;
    let body = app.get("/sessions").await.body;
    let (current, pc_at, phone_at) = (
        body.find("Firefox on Linux").unwrap(),
        body.find("Chrome on Windows").unwrap(),
        body.find("Safari on iPhone").unwrap(),
    );
    assert!(current < pc_at && pc_at < phone_at, "most recently active first");
    assert!(body.contains("10 minutes ago") && body.contains("2 hours ago"));
    assert!(!body.contains("Mac OS X 14_5"), "another user's session is not listed");

    app.exec(&format!("UPDATE sessions SET expires_at = {} WHERE id = '{}'", t - 1, session_id(&phone)))
        .await;
    let body = app.get("/sessions").await.body;
    assert!(!body.contains("Safari on iPhone"), "an expired session is not listed");
    assert!(body.contains("Chrome on Windows"));
}

#[rocket::async_test]
async fn a_user_agent_holding_markup_is_shown_escaped() {
    let app = TestApp::spawn().await;
    let email = app.signed_up_user().await;
    let evil = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>";
    let _b = signed_in(&app, evil, "198.51.100.20:443", &email).await;
    let body = app.get("/sessions").await.body;
    assert!(!body.contains("<script>alert(1)"), "no live markup from a user agent");
    assert!(!body.contains("<img src=x"));
    assert!(body.contains("&lt;script&gt;alert(1)&lt;"));
}

#[rocket::async_test]
async fn the_page_redirects_to_signin_when_signed_out() {
    let app = TestApp::spawn().await;
    app.get("/sessions").await.assert_redirects_to("/signin?callbackUrl=%2Fsessions");
}

#[rocket::async_test]
async fn viewing_the_page_writes_nothing_to_the_database() {
    let app = TestApp::spawn().await;
    app.signed_up_user().await;
    app.count_session_writes().await;
    for _ in 0..3 {
        assert_eq!(app.get("/sessions").await.status, Status::Ok);
    }
    assert_eq!(app.session_writes().await, 0);
}

#[rocket::async_test]
async fn revoking_another_session_signs_it_out_at_once() {
    let app = TestApp::spawn().await;
    let email = app.signed_up_user().await;
    let phone = signed_in(&app, IPHONE, "198.51.100.20:443", &email).await;
    assert!(phone.session_json(&app).await.is_object());

    let res = revoke(&app, &app.browser, &session_id(&phone)).await;
    res.assert_redirects_to("/sessions");
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions WHERE id = $1", &session_id(&phone)).await, 0);
    assert!(phone.session_json(&app).await.is_null(), "the revoked browser is signed out");
    assert!(app.session_json().await.is_object(), "this browser stays signed in");

    let page = app.get("/sessions").await.body;
    assert!(page.contains("That session was signed out."), "the flash says what happened");
    assert!(!page.contains("Safari on iPhone"));
}

#[rocket::async_test]
async fn revoking_the_current_session_signs_this_browser_out() {
    let app = TestApp::spawn().await;
    app.signed_up_user().await;
    let id = session_id(&app.browser);
    let res = revoke(&app, &app.browser, &id).await;
    res.assert_redirects_to("/signin");
    let cleared = res.set_cookie("authjs.session-token").expect("the cookie is cleared");
    assert_eq!(cleared.value(), "");
    assert_eq!(app.session_count().await, 0);
    assert!(app.session_json().await.is_null());
    assert!(app.get("/signin").await.body.contains("You signed out of this device."));
}

#[rocket::async_test]
async fn another_users_session_id_answers_404_and_changes_nothing() {
    let app = TestApp::spawn().await;
    app.signed_up_user().await;
    let victim = app.new_browser(IPHONE);
    victim.signup(&app, "Victim", "victim@example.com", PASSWORD).await;

    let res = revoke(&app, &app.browser, &session_id(&victim)).await;
    assert_eq!(res.status, Status::NotFound);
    assert_eq!(app.session_count().await, 2);
    assert!(victim.session_json(&app).await.is_object(), "the victim is still signed in");
}

#[rocket::async_test]
async fn an_unknown_or_malformed_session_id_answers_404_and_changes_nothing() {
    let app = TestApp::spawn().await;
    app.signed_up_user().await;
    let token = app.browser.session_token().unwrap();
    let id = session_id(&app.browser);
    let unknown = "A".repeat(22);
    let too_long = format!("{id}A");
    for bad in [unknown.as_str(), "short", too_long.as_str(), "%27%20OR%201%3D1--AAAAAAAA", token.as_str()] {
        let res = revoke(&app, &app.browser, bad).await;
        assert_eq!(res.status, Status::NotFound, "{bad}");
    }
    assert_eq!(app.session_count().await, 1);
    assert!(app.session_json().await.is_object());
}

#[rocket::async_test]
async fn revoking_without_a_csrf_token_is_refused() {
    let app = TestApp::spawn().await;
    let email = app.signed_up_user().await;
    let phone = signed_in(&app, IPHONE, "198.51.100.20:443", &email).await;
    let path = format!("/sessions/{}/revoke", session_id(&phone));
    assert_eq!(app.post_form(&path, &[]).await.status, Status::Forbidden);
    assert_eq!(app.post_form(&path, &[("csrfToken", "forged")]).await.status, Status::Forbidden);
    assert_eq!(app.post_form("/sessions/revoke-others", &[]).await.status, Status::Forbidden);
    assert_eq!(app.session_count().await, 2);
}

#[rocket::async_test]
async fn revoking_needs_a_signed_in_user() {
    let app = TestApp::spawn().await;
    let email = app.signed_up_user().await;
    let phone = signed_in(&app, IPHONE, "198.51.100.20:443", &email).await;
    app.signout().await;
    let res = revoke(&app, &app.browser, &session_id(&phone)).await;
    // A POST cannot be replayed after sign-in, so it is not redirected: 401.
    assert_eq!(res.status, Status::Unauthorized);
    assert_eq!(app.session_count().await, 1, "the phone's session is untouched");
}

#[rocket::async_test]
async fn revoke_others_ends_every_other_session_and_says_how_many() {
    let app = TestApp::spawn().await;
    let email = app.signed_up_user().await;
    let phone = signed_in(&app, IPHONE, "198.51.100.20:443", &email).await;
    let pc = signed_in(&app, CHROME_WINDOWS, "198.51.100.21:443", &email).await;
    let other_user = app.new_browser(IPHONE);
    other_user.signup(&app, "Bob", "bob@example.com", PASSWORD).await;

    let res = revoke_others(&app, &app.browser).await;
    res.assert_redirects_to("/sessions");
    assert!(app.get("/sessions").await.body.contains("Signed out of 2 other sessions."));
    assert!(phone.session_json(&app).await.is_null());
    assert!(pc.session_json(&app).await.is_null());
    assert!(app.session_json().await.is_object(), "the current session stays");
    assert!(other_user.session_json(&app).await.is_object(), "another user is untouched");
    assert_eq!(app.session_count().await, 2);

    revoke_others(&app, &app.browser).await;
    assert!(app.get("/sessions").await.body.contains("There were no other sessions to sign out."));
}
