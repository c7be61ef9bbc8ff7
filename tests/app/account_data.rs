//! The account's data: the export (everything, no secrets) and deletion (everything,
//! in one go).

use rocket::http::Status;

use crate::common::providers::Double;
use crate::common::{TestApp, PASSWORD};

async fn delete(app: &TestApp, confirm: &str) -> crate::common::Resp {
    let csrf = app.csrf_token().await;
    app.post_form("/account/delete", &[("confirm", confirm), ("csrfToken", &csrf)]).await
}

async fn rows_about(app: &TestApp, user_id: &str) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for table in
        ["sessions", "accounts", "security_events", "totp_credentials", "recovery_codes", "pending_signins"]
    {
        out.push((
            table.to_string(),
            app.count(&format!("SELECT COUNT(*) FROM {table} WHERE user_id = $1"), user_id).await,
        ));
    }
    out
}

async fn user_id(app: &TestApp, email: &str) -> String {
    let (id,): (String,) = sqlx::query_as("SELECT id FROM users WHERE email = $1")
        .bind(email)
        .fetch_all(app.pool())
        .await
        .unwrap()
        .remove(0);
    id
}

#[rocket::async_test]
async fn deleting_the_account_removes_everything_of_it_and_signs_out() {
    let double = Double::start().await;
    let app = TestApp::with_double(&double, &[]).await;
    let email = app.verified_user().await;
    let id = user_id(&app, &email).await;
    app.browser.oauth_connect(&app, &double, "github").await;
    app.enable_totp().await;
    let phone = app.new_browser("Phone");
    phone.post_credentials(&app, &email, PASSWORD).await; // a pending sign-in
                                                          // Mail still queued for them (the server is down) is dropped with the account.
    app.mail.set_mode(crate::common::smtp::Mode::Temporary);
    let csrf = app.csrf_token().await;
    app.post_form("/account/verify-email", &[("csrfToken", &csrf)]).await;
    assert!(rows_about(&app, &id).await.iter().all(|(_, n)| *n > 0), "{:?}", rows_about(&app, &id).await);

    // The address must be typed: another, or none, is refused and deletes nothing.
    for wrong in ["", "someone@example.com", "not an address"] {
        let res = delete(&app, wrong).await;
        assert_eq!(res.status, Status::UnprocessableEntity, "{wrong:?}");
        assert!(res.body.contains("to confirm"), "{wrong:?}");
    }
    assert_eq!(app.user_count().await, 1);
    // Typed in another case, with spaces: accepted.
    let res = delete(&app, &format!("  {}  ", email.to_uppercase())).await;
    res.assert_redirects_to("/");
    assert_eq!(app.user_count().await, 0);
    assert!(rows_about(&app, &id).await.iter().all(|(_, n)| *n == 0), "{:?}", rows_about(&app, &id).await);
    assert_eq!(app.count("SELECT COUNT(*) FROM email_tokens WHERE email = $1", &email).await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE recipient = $1 AND status = 'queued' AND kind <> 'account_deleted'", &email)
            .await,
        0
    );
    assert!(app.session_json().await.is_null());
    assert!(app.browser.session_token().is_none());
    assert!(app.get("/").await.body.contains("Your account was deleted"));
    // The notice goes out once the server is back; the address can sign up anew.
    app.mail.set_mode(crate::common::smtp::Mode::Accept);
    app.mail.wait_for_subject(&email, "account was deleted").await;
    assert_eq!(app.new_browser("n").signup(&app, "New", &email, PASSWORD).await.status, Status::SeeOther);
}

#[rocket::async_test]
async fn an_account_whose_only_way_in_is_a_provider_can_be_deleted() {
    let double = Double::start().await;
    let app = TestApp::with_double(&double, &[]).await;
    app.browser.oauth_signin(&app, &double, "github").await.assert_redirects_to("/");
    let email = app.session_json().await["user"]["email"].as_str().unwrap().to_string();
    delete(&app, &email).await.assert_redirects_to("/");
    assert_eq!(app.user_count().await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM accounts WHERE provider = $1", "github").await, 0);
    // Signing in with GitHub again starts a new account.
    app.browser.oauth_signin(&app, &double, "github").await.assert_redirects_to("/");
    assert_eq!(app.user_count().await, 1);
}

#[rocket::async_test]
async fn deletion_and_export_need_sudo_and_a_session() {
    let app = TestApp::spawn().await;
    let email = app.verified_user().await;
    app.age_authentication().await;
    delete(&app, &email).await.assert_redirects_to("/reauth?callbackUrl=%2Faccount");
    assert_eq!(app.user_count().await, 1);
    app.signout().await;
    assert_eq!(delete(&app, &email).await.status, Status::Unauthorized);
    app.get("/account/export").await.assert_redirects_to("/signin?callbackUrl=%2Faccount%2Fexport");
    assert_eq!(app.user_count().await, 1);
}

#[rocket::async_test]
async fn the_export_holds_everything_about_the_user_and_no_secret() {
    let double = Double::start().await;
    let app = TestApp::with_double(&double, &[]).await;
    let email = app.verified_user().await;
    app.browser.oauth_connect(&app, &double, "github").await;
    let enrolled = app.enable_totp().await;
    let other = app.new_browser("Phone Browser/1.0");
    other.post_credentials(&app, &email, PASSWORD).await;
    let res = app.get("/account/export").await;
    assert_eq!(res.status, Status::Ok);
    assert!(res.header("Content-Type").unwrap().starts_with("application/json"));
    let disposition = res.header("Content-Disposition").unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"rocket-auth-export-")
            && disposition.ends_with(".json\"")
    );
    assert_eq!(res.header("Cache-Control"), Some("no-store"));
    let data = res.json();
    assert_eq!(data["user"]["email"], email.as_str());
    assert_eq!(data["user"]["hasPassword"], true);
    assert!(data["user"]["emailVerified"].is_string());
    assert_eq!(data["accounts"][0]["provider"], "github");
    assert!(data["accounts"][0]["providerAccountId"].is_string());
    let sessions = data["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "the other browser waits for its second step: {sessions:?}");
    assert_eq!(sessions[0]["current"], true);
    assert_eq!(sessions[0]["ip"], "203.0.113.7");
    assert_eq!(data["twoFactor"]["totp"], true);
    assert_eq!(data["twoFactor"]["recoveryCodesLeft"], 10);
    let events: Vec<&str> =
        data["securityLog"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
    for kind in ["signed_up", "email_verified", "provider_linked", "two_factor_enabled"] {
        assert!(events.contains(&kind), "{kind} in {events:?}");
    }
    // No hash, token, code or secret of any kind.
    let (hash, secret): (String, String) = sqlx::query_as(
        "SELECT u.password_hash, t.secret FROM users u JOIN totp_credentials t ON t.user_id = u.id",
    )
    .fetch_all(app.pool())
    .await
    .unwrap()
    .remove(0);
    let session_hashes: Vec<(String,)> =
        sqlx::query_as("SELECT secret_hash FROM sessions").fetch_all(app.pool()).await.unwrap();
    for forbidden in [hash.as_str(), secret.as_str(), "$argon2", "password_hash", "secret_hash", "code_hash"]
    {
        assert!(!res.body.contains(forbidden), "{forbidden}");
    }
    for (h,) in session_hashes {
        assert!(!res.body.contains(&h));
    }
    for code in &enrolled.recovery_codes {
        assert!(!res.body.contains(code.as_str()));
    }
    assert!(!res.body.contains(&app.browser.session_token().unwrap()));
}
