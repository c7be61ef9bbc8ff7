//! The account page: name, email, and setting or changing the password (which ends
//! every other session and gives this browser a fresh token).

use rocket::http::Status;

use crate::common::{Browser, Resp, TestApp, PASSWORD};

const NEW_PASSWORD: &str = "a brand new passphrase 2026";
const PHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 \
                     (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

async fn post_name(app: &TestApp, name: &str) -> Resp {
    let token = app.csrf_token().await;
    app.post_form("/account/name", &[("name", name), ("csrfToken", &token)]).await
}

async fn post_password(app: &TestApp, b: &Browser, current: Option<&str>, new: &str) -> Resp {
    let token = b.csrf_token(app).await;
    let mut fields = vec![("newPassword", new), ("csrfToken", token.as_str())];
    if let Some(current) = current {
        fields.push(("currentPassword", current));
    }
    b.post_form(app, "/account/password", &fields).await
}

async fn stored_hash(app: &TestApp) -> String {
    let (hash,): (String,) =
        sqlx::query_as("SELECT password_hash FROM users").fetch_all(app.pool()).await.unwrap().remove(0);
    hash
}

async fn stored_name(app: &TestApp) -> String {
    let (name,): (String,) =
        sqlx::query_as("SELECT name FROM users").fetch_all(app.pool()).await.unwrap().remove(0);
    name
}

#[rocket::async_test]
async fn the_page_shows_name_email_password_form_and_session_count() {
    let app = TestApp::spawn().await;
    let email = app.signed_up_user().await;
    let phone = app.new_browser(PHONE);
    phone.post_credentials(&app, &email, PASSWORD).await;

    let res = app.get("/account").await;
    assert_eq!(res.status, Status::Ok);
    for text in [
        email.as_str(),
        "value=\"Ada Lovelace\"",
        "Change password",
        "name=\"currentPassword\"",
        "name=\"newPassword\"",
        "signed in on 2 devices",
        "href=\"/sessions\"",
        "name=\"csrfToken\"",
    ] {
        assert!(res.body.contains(text), "the page shows {text:?}");
    }
    assert!(res.body.contains("<label for=\"newPassword\">") && res.body.contains("<label for=\"name\">"));
}

#[rocket::async_test]
async fn the_page_redirects_to_signin_when_signed_out() {
    let app = TestApp::spawn().await;
    app.get("/account").await.assert_redirects_to("/signin?callbackUrl=%2Faccount");
}

#[rocket::async_test]
async fn the_name_can_be_changed_and_removed() {
    let app = TestApp::spawn().await;
    app.signed_up_user().await;

    post_name(&app, "  Grace Hopper ").await.assert_redirects_to("/account");
    assert_eq!(stored_name(&app).await, "Grace Hopper");
    let page = app.get("/account").await.body;
    assert!(page.contains("Your name was saved.") && page.contains("value=\"Grace Hopper\""));
    assert_eq!(app.session_json().await["user"]["name"], "Grace Hopper");

    post_name(&app, "   ").await.assert_redirects_to("/account");
    assert_eq!(stored_name(&app).await, "");
    assert!(app.get("/account").await.body.contains("Your name was removed."));
    assert!(app.session_json().await["user"]["name"].is_null());
}

#[rocket::async_test]
async fn a_name_too_long_or_with_control_characters_is_refused_with_the_form() {
    let app = TestApp::spawn().await;
    app.signed_up_user().await;

    let long = "x".repeat(101);
    let res = post_name(&app, &long).await;
    assert_eq!(res.status, Status::UnprocessableEntity);
    assert!(res.body.contains("Use at most 100 characters"));
    assert!(res.body.contains(&format!("value=\"{long}\"")), "the value is kept for editing");
    assert!(res.body.contains("aria-describedby=\"name-error\""));

    for bad in ["Ada\0", "Ada\u{7}Lovelace", "Ada\nLovelace"] {
        let res = post_name(&app, bad).await;
        assert_eq!(res.status, Status::UnprocessableEntity, "{bad:?}");
    }
    assert_eq!(stored_name(&app).await, "Ada Lovelace", "nothing changed");
}

#[rocket::async_test]
async fn a_name_holding_markup_is_shown_escaped() {
    let app = TestApp::spawn().await;
    app.signed_up_user().await;
    post_name(&app, "<script>alert(1)</script>\"><b>").await.assert_redirects_to("/account");
    for page in ["/account", "/sessions", "/"] {
        let body = app.get(page).await.body;
        assert!(!body.contains("<script>alert(1)"), "{page}");
        assert!(!body.contains("\"><b>"), "{page}");
    }
    assert!(app.get("/account").await.body.contains("&lt;script&gt;alert(1)&lt;"));
}

#[rocket::async_test]
async fn account_forms_without_a_csrf_token_are_refused() {
    let app = TestApp::spawn().await;
    app.signed_up_user().await;
    let hash = stored_hash(&app).await;
    let res = app.post_form("/account/name", &[("name", "Mallory")]).await;
    assert_eq!(res.status, Status::Forbidden);
    let res = app
        .post_form("/account/password", &[("currentPassword", PASSWORD), ("newPassword", NEW_PASSWORD)])
        .await;
    assert_eq!(res.status, Status::Forbidden);
    assert_eq!(stored_name(&app).await, "Ada Lovelace");
    assert_eq!(stored_hash(&app).await, hash);
}

#[rocket::async_test]
async fn a_wrong_or_missing_current_password_changes_nothing() {
    let app = TestApp::spawn().await;
    app.signed_up_user().await;
    let hash = stored_hash(&app).await;
    let token = app.browser.session_token();

    let wrong = post_password(&app, &app.browser, Some("not my password"), NEW_PASSWORD).await;
    assert_eq!(wrong.status, Status::UnprocessableEntity);
    assert!(wrong.body.contains("That is not your current password."));
    let missing = post_password(&app, &app.browser, None, NEW_PASSWORD).await;
    assert_eq!(missing.status, Status::UnprocessableEntity);
    assert!(missing.body.contains("Enter your current password."));
    for res in [&wrong, &missing] {
        assert!(!res.body.contains(NEW_PASSWORD), "a password is never echoed");
        assert!(!res.body.contains("not my password"), "a password is never echoed");
    }

    assert_eq!(stored_hash(&app).await, hash);
    assert_eq!(app.browser.session_token(), token, "the session is kept");
    assert!(app.session_json().await.is_object());
}

#[rocket::async_test]
async fn an_invalid_new_password_is_refused_like_at_signup() {
    let app = TestApp::spawn().await;
    let email = app.signed_up_user().await;
    let hash = stored_hash(&app).await;
    let too_long = "p".repeat(1000);
    for (new, message) in [
        ("short", "Use at least 8 characters."),
        (email.as_str(), "must not be your email address"),
        (too_long.as_str(), "Use at most"),
        ("pass\0word-long-enough", "characters that are not allowed"),
    ] {
        let res = post_password(&app, &app.browser, Some(PASSWORD), new).await;
        assert_eq!(res.status, Status::UnprocessableEntity, "{new:?}");
        assert!(res.body.contains(message), "{new:?}: {message}");
        assert!(!res.body.contains(PASSWORD), "the current password is never echoed");
    }
    assert_eq!(stored_hash(&app).await, hash);
}

#[rocket::async_test]
async fn changing_the_password_ends_every_other_session_and_renews_this_one() {
    let app = TestApp::spawn().await;
    let email = app.signed_up_user().await;
    let phone = app.new_browser(PHONE);
    phone.post_credentials(&app, &email, PASSWORD).await;
    let other_user = app.new_browser(PHONE);
    other_user.signup(&app, "Bob", "bob@example.com", PASSWORD).await;
    let old_token = app.browser.session_token().unwrap();

    let res = post_password(&app, &app.browser, Some(PASSWORD), NEW_PASSWORD).await;
    res.assert_redirects_to("/account");
    let new_token = app.browser.session_token().expect("a fresh session cookie");
    assert_ne!(new_token, old_token);
    assert!(app.session_json().await.is_object(), "this browser stays signed in");
    assert!(app.get("/account").await.body.contains("Your password was changed."));

    assert!(phone.session_json(&app).await.is_null(), "the other browser is signed out");
    let thief = app.new_browser(PHONE);
    thief.set_cookie("authjs.session-token", &old_token);
    assert!(thief.session_json(&app).await.is_null(), "the old token is dead");
    assert!(other_user.session_json(&app).await.is_object(), "another user is untouched");
    assert_eq!(app.session_count().await, 2);

    let fresh = app.new_browser(PHONE);
    assert_eq!(fresh.post_credentials(&app, &email, PASSWORD).await.status, Status::Unauthorized);
    assert_eq!(fresh.post_credentials(&app, &email, NEW_PASSWORD).await.status, Status::SeeOther);
}

#[rocket::async_test]
async fn a_user_without_a_password_can_set_one_without_a_current_password() {
    let app = TestApp::spawn().await;
    let email = app.signed_up_user().await;
    // What an OAuth-only user looks like: no password hash.
    app.exec("UPDATE users SET password_hash = ''").await;

    let page = app.get("/account").await.body;
    assert!(page.contains("Set a password"));
    assert!(!page.contains("name=\"currentPassword\""));

    let res = post_password(&app, &app.browser, None, NEW_PASSWORD).await;
    res.assert_redirects_to("/account");
    assert!(stored_hash(&app).await.starts_with("$argon2id$"));
    assert!(app.get("/account").await.body.contains("Your password was set."));
    let fresh = app.new_browser(PHONE);
    assert_eq!(fresh.post_credentials(&app, &email, NEW_PASSWORD).await.status, Status::SeeOther);
}
