//! The per-user security log, shown on /account as "Recent security activity".

use rocket::http::Status;

use crate::common::providers::Double;
use crate::common::{TestApp, PASSWORD};

const PHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 \
                     (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

async fn kinds(app: &TestApp) -> Vec<String> {
    let rows: Vec<(String,)> = sqlx::query_as("SELECT kind FROM security_events ORDER BY created_at, kind")
        .fetch_all(app.pool())
        .await
        .unwrap();
    let mut kinds: Vec<String> = rows.into_iter().map(|(k,)| k).collect();
    kinds.sort();
    kinds
}

#[rocket::async_test]
async fn every_security_event_is_logged_with_time_ip_and_device_and_shown_on_the_account_page() {
    let double = Double::start().await;
    let app = TestApp::with_double(&double, &[]).await;
    let email = app.verified_user().await;
    let mut phone = app.new_browser(PHONE);
    phone.remote = "198.51.100.20:443".parse().unwrap();
    assert_eq!(phone.post_credentials(&app, &email, "a wrong password").await.status, Status::Unauthorized);
    phone.post_credentials(&app, &email, PASSWORD).await.assert_redirects_to("/");
    // Revoke the phone's session from the first browser.
    let id = phone.session_token().unwrap().split('.').next().unwrap().to_string();
    let token = app.csrf_token().await;
    app.post_form(&format!("/sessions/{id}/revoke"), &[("csrfToken", &token)]).await;
    app.browser.oauth_connect(&app, &double, "github").await.assert_redirects_to("/account");
    let token = app.csrf_token().await;
    app.post_form("/account/unlink/github", &[("csrfToken", &token)]).await;
    let token = app.csrf_token().await;
    let new_password = "an entirely new passphrase";
    app.post_form(
        "/account/password",
        &[("currentPassword", PASSWORD), ("newPassword", new_password), ("csrfToken", &token)],
    )
    .await
    .assert_redirects_to("/account");
    app.signout().await;

    assert_eq!(
        kinds(&app).await,
        [
            "email_verified",
            "password_changed",
            "provider_linked",
            "provider_unlinked",
            "session_revoked",
            "sign_in_failed",
            "signed_in",
            "signed_out",
            "signed_up"
        ]
    );
    let (ip, ua): (String, String) =
        sqlx::query_as("SELECT ip, user_agent FROM security_events WHERE kind = 'sign_in_failed'")
            .fetch_all(app.pool())
            .await
            .unwrap()
            .remove(0);
    assert_eq!((ip.as_str(), ua.as_str()), ("198.51.100.20", PHONE));

    // Nothing secret in any column.
    let rows: Vec<(String, String, String, String)> =
        sqlx::query_as("SELECT kind, detail, ip, user_agent FROM security_events")
            .fetch_all(app.pool())
            .await
            .unwrap();
    for row in &rows {
        let all = format!("{row:?}");
        for secret in [PASSWORD, new_password, "a wrong password", &id] {
            assert!(!all.contains(secret), "the log holds a secret: {all}");
        }
    }

    app.post_credentials(&email, new_password).await.assert_redirects_to("/");
    let page = app.get("/account").await.body;
    assert!(page.contains("Recent security activity"));
    for text in [
        "Account created with password",
        "Failed sign-in (wrong password)",
        "Signed in with password",
        "Signed out another session",
        "GitHub connected",
        "GitHub disconnected",
        "Password changed",
        "Safari on iPhone",
        "198.51.100.20",
    ] {
        assert!(page.contains(text), "the page shows {text:?}");
    }
}

#[rocket::async_test]
async fn a_user_sees_only_their_own_activity_and_markup_is_escaped() {
    let app = TestApp::spawn().await;
    let email = app.signed_up_user().await;
    let evil = app.new_browser("<img src=x onerror=alert(1)>");
    evil.post_credentials(&app, &email, "wrong wrong wrong").await;
    let other = app.new_browser("Other");
    other.signup(&app, "Other", "other@example.com", PASSWORD).await;

    let page = app.get("/account").await.body;
    assert!(!page.contains("<img src=x"));
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;"));
    let theirs = other.get(&app, "/account").await.body;
    assert!(!theirs.contains("Failed sign-in"), "another user's log is not shown");
}
