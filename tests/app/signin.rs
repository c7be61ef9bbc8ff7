use rocket::http::{SameSite, Status};

use crate::common::{TestApp, PASSWORD};

#[rocket::async_test]
async fn signing_in_creates_a_new_session_row_and_a_cookie_as_designed() {
    let app = TestApp::spawn().await;
    let email = app.signed_up_user().await;
    app.browser.clear_cookies();
    assert_eq!(app.session_count().await, 1);

    let res = app.post_credentials(&email, PASSWORD).await;
    res.assert_redirects_to("/");
    assert_eq!(app.session_count().await, 2, "a new row per sign-in");

    let cookie = res.set_cookie("authjs.session-token").expect("the session cookie");
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(cookie.same_site(), Some(SameSite::Lax));
    assert_eq!(cookie.path(), Some("/"));
    assert_ne!(cookie.secure(), Some(true), "not Secure over http");
    let expires = cookie.expires_datetime().expect("an expiry").unix_timestamp();
    let now = rocket::time::OffsetDateTime::now_utc().unix_timestamp();
    assert!((expires - (now + 30 * 86400)).abs() < 10, "expiry = now + maxAge");

    // The database keeps neither the token nor its secret half, only a SHA-256.
    let token = cookie.value().to_string();
    let (id, secret) = token.split_once('.').expect("id.secret");
    assert!(secret.len() >= 43, "at least 32 random bytes");
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT id, secret_hash FROM sessions").fetch_all(app.pool()).await.unwrap();
    let row = rows.iter().find(|(i, _)| i == id).expect("the row named by the public id");
    assert_ne!(row.1, secret);
    assert_eq!(row.1.len(), 64);
    assert!(rows.iter().all(|(i, h)| !h.contains(secret) && i != &token));
    let session = app.session_json().await;
    assert_eq!(session["user"]["email"], email.as_str());
}

#[rocket::async_test]
async fn the_cookie_is_secure_and_prefixed_under_https() {
    let app = TestApp::with_env(&[("AUTH_URL", "https://auth.example.com")]).await;
    let token = app.csrf_token().await;
    assert!(app.browser.cookie("__Host-authjs.csrf-token").is_some());
    let res = app
        .post_form("/signup", &[("email", "tls@example.com"), ("password", PASSWORD), ("csrfToken", &token)])
        .await;
    assert_eq!(res.location(), Some("https://auth.example.com/"));
    let cookie = res.set_cookie("__Secure-authjs.session-token").expect("prefixed cookie");
    assert_eq!(cookie.secure(), Some(true));
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(cookie.same_site(), Some(SameSite::Lax));
    assert!(res.header("Strict-Transport-Security").is_some());
}

#[rocket::async_test]
async fn an_unknown_email_and_a_wrong_password_get_the_same_answer_and_no_session() {
    let app = TestApp::spawn().await;
    let email = app.signed_up_user().await;
    app.signout().await;
    let before = app.session_count().await;

    let wrong = app.post_credentials(&email, "not the password at all").await;
    let unknown = app.post_credentials("nobody@example.com", "not the password at all").await;
    assert_eq!(wrong.status, Status::Unauthorized);
    assert_eq!(unknown.status, wrong.status);
    assert!(wrong.body.contains("The email or password is not correct."));
    // Same page apart from the echoed email.
    assert_eq!(wrong.body.replace(&email, "E"), unknown.body.replace("nobody@example.com", "E"));
    assert!(!wrong.body.contains("not the password at all"), "the password is never echoed");
    assert_eq!(app.session_count().await, before);
    assert!(app.browser.session_token().is_none());
}

#[rocket::async_test]
async fn the_email_matches_whatever_its_case_and_spaces() {
    let app = TestApp::spawn().await;
    app.signup("", "case@example.com", PASSWORD).await;
    app.signout().await;
    app.post_credentials("  CASE@Example.COM ", PASSWORD).await.assert_redirects_to("/");
}

#[rocket::async_test]
async fn the_callback_url_may_only_point_at_our_own_origin() {
    let app = TestApp::spawn().await;
    let email = app.signed_up_user().await;
    for (callback, expected) in [
        ("/sessions?tab=1", "/sessions?tab=1"),
        ("http://localhost:8000/account", "/account"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("http://localhost:8000@evil.example/", "/"),
        ("/.//evil.example", "/"),
        ("/a/..//evil.example", "/"),
        ("http://localhost:8000//evil.example", "/"),
    ] {
        let token = app.csrf_token().await;
        let res = app
            .post_form(
                "/api/auth/callback/credentials",
                &[
                    ("email", &email),
                    ("password", PASSWORD),
                    ("csrfToken", &token),
                    ("callbackUrl", callback),
                ],
            )
            .await;
        res.assert_redirects_to(expected);
    }
}

#[rocket::async_test]
async fn a_changed_argon2_cost_rehashes_the_password_at_sign_in() {
    let app = TestApp::spawn().await;
    let email = app.signed_up_user().await;
    // Re-hash the stored password with other parameters, as an older deployment would have.
    let old = {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let params = argon2::Params::new(32, 1, 1, None).unwrap();
        argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
            .hash_password(PASSWORD.as_bytes(), &SaltString::generate(&mut rand::rngs::OsRng))
            .unwrap()
            .to_string()
    };
    sqlx::query("UPDATE users SET password_hash = $1").bind(&old).execute(app.pool()).await.unwrap();
    app.signout().await;
    app.post_credentials(&email, PASSWORD).await.assert_redirects_to("/");
    let (hash,): (String,) =
        sqlx::query_as("SELECT password_hash FROM users").fetch_all(app.pool()).await.unwrap().remove(0);
    assert!(hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "upgraded: {hash}");
    app.signout().await;
    app.post_credentials(&email, PASSWORD).await.assert_redirects_to("/");
}

#[rocket::async_test]
async fn the_signin_page_embeds_the_csrf_token_and_keeps_the_callback_url() {
    let app = TestApp::spawn().await;
    let res = app.get("/signin?callbackUrl=%2Fsessions").await;
    assert_eq!(res.status, Status::Ok);
    let token =
        app.browser.cookie("authjs.csrf-token").expect("csrf cookie").split('|').next().unwrap().to_string();
    assert!(res.body.contains(&format!("value=\"{token}\"")), "{}", res.body);
    assert!(res.body.contains("action=\"/api/auth/callback/credentials\""));
    assert!(res.body.contains("value=\"/sessions\""));
    assert!(res.body.contains("<label"));
}

#[rocket::async_test]
async fn the_signin_page_explains_known_error_codes_and_ignores_others() {
    let app = TestApp::spawn().await;
    let res = app.get("/signin?error=CredentialsSignin").await;
    assert!(res.body.contains("The email or password is not correct."));
    let res = app.get("/signin?error=%3Cscript%3Ealert(1)%3C/script%3E").await;
    assert_eq!(res.status, Status::Ok);
    assert!(!res.body.contains("<script>alert(1)"));
}

#[rocket::async_test]
async fn a_callback_url_that_normalises_to_two_slashes_is_never_written_back() {
    let app = TestApp::spawn().await;
    for raw in ["%2F.%2F%2Fevil.example", "%2Fa%2F..%2F%2Fevil.example", "%2F.%2F%5Cevil.example"] {
        let page = app.get(&format!("/signin?callbackUrl={raw}")).await;
        assert_eq!(page.status, Status::Ok);
        assert!(page.body.contains("name=\"callbackUrl\" value=\"/\""), "{raw}: {}", page.body);
        assert!(!page.body.contains("evil.example"), "{raw}: not in the page");
        let token = app.csrf_token().await;
        let res = app
            .browser
            .post_json(
                &app,
                "/api/auth/callback/credentials",
                &serde_json::json!({ "email": "nobody@example.com", "password": "wrong password here",
                                     "csrfToken": token, "callbackUrl": "/.//evil.example" }),
                &[("X-Auth-Return-Redirect", "1")],
            )
            .await;
        let url = res.json()["url"].as_str().unwrap().to_string();
        assert!(!url.contains("evil.example") && !url.contains("%2F%2F"), "{url}");
    }
}
