use rocket::futures::future::join;
use rocket::http::Status;

use crate::common::{TestApp, PASSWORD};

#[rocket::async_test]
async fn signing_up_creates_the_user_with_an_argon2id_hash_and_signs_them_in() {
    let app = TestApp::spawn().await;
    let res = app.signup("Ada Lovelace", "Ada@Example.com", PASSWORD).await;
    res.assert_redirects_to("/");

    let (email, hash): (String, String) = sqlx::query_as("SELECT email, password_hash FROM users")
        .fetch_all(app.pool())
        .await
        .unwrap()
        .remove(0);
    assert_eq!(email, "ada@example.com", "the email is stored normalised");
    assert!(hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{hash}");
    assert!(!hash.contains(PASSWORD));

    let session = app.session_json().await;
    assert_eq!(session["user"]["email"], "ada@example.com");
    assert_eq!(session["user"]["name"], "Ada Lovelace");
    assert_eq!(app.session_count().await, 1);
}

#[rocket::async_test]
async fn production_argon2_parameters_are_owasps() {
    let app = TestApp::with_env(&[
        ("AUTH_ARGON2_MEMORY_KIB", "19456"),
        ("AUTH_ARGON2_ITERATIONS", "2"),
        ("AUTH_ARGON2_PARALLELISM", "1"),
    ])
    .await;
    app.signup("", "owasp@example.com", PASSWORD).await.assert_redirects_to("/");
    let (hash,): (String,) =
        sqlx::query_as("SELECT password_hash FROM users").fetch_all(app.pool()).await.unwrap().remove(0);
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
    app.signout().await;
    app.post_credentials("owasp@example.com", PASSWORD).await.assert_redirects_to("/");
}

#[rocket::async_test]
async fn an_email_already_taken_in_any_case_gets_a_form_error_and_no_second_user() {
    let app = TestApp::spawn().await;
    app.signup("Ada", "ada@example.com", PASSWORD).await.assert_redirects_to("/");
    let other = app.new_browser("curl/8");
    let res = other.signup(&app, "Mallory", "  ADA@example.COM ", "another good passphrase").await;
    assert_eq!(res.status, Status::UnprocessableEntity);
    assert!(res.body.contains("already exists"), "{}", res.body);
    assert!(res.body.contains("Mallory"), "the form keeps the user's values");
    assert!(!res.body.contains("another good passphrase"), "never the password");
    assert_eq!(app.user_count().await, 1);
    assert!(other.session_token().is_none());
}

#[rocket::async_test]
async fn two_sign_ups_racing_for_one_email_create_one_user() {
    let app = TestApp::spawn().await;
    let (a, b) = (app.new_browser("a"), app.new_browser("b"));
    let (ra, rb) = join(
        a.signup(&app, "A", "race@example.com", PASSWORD),
        b.signup(&app, "B", "Race@example.com", PASSWORD),
    )
    .await;
    let mut statuses = [ra.status.code, rb.status.code];
    statuses.sort();
    assert_eq!(statuses, [303, 422], "{} / {}", ra.body, rb.body);
    assert_eq!(app.user_count().await, 1);
    assert_eq!(app.session_count().await, 1);
}

#[rocket::async_test]
async fn invalid_sign_up_fields_come_back_with_messages_and_values() {
    let app = TestApp::spawn().await;
    let token = app.csrf_token().await;
    let res = app
        .post_form(
            "/signup",
            &[("name", "Grace"), ("email", "not-an-email"), ("password", "short"), ("csrfToken", &token)],
        )
        .await;
    assert_eq!(res.status, Status::UnprocessableEntity);
    assert!(res.body.contains("Enter a valid email address"), "{}", res.body);
    assert!(res.body.contains("Use at least 8 characters"));
    assert!(res.body.contains("value=\"Grace\""));
    assert!(res.body.contains("value=\"not-an-email\""));
    assert!(!res.body.contains("value=\"short\""));
    assert_eq!(app.user_count().await, 0);
}

#[rocket::async_test]
async fn a_password_equal_to_the_email_is_refused() {
    let app = TestApp::spawn().await;
    let res = app.signup("", "grace@example.com", "Grace@Example.com").await;
    assert_eq!(res.status, Status::UnprocessableEntity);
    assert!(res.body.contains("must not be your email"));
    assert_eq!(app.user_count().await, 0);
}

#[rocket::async_test]
async fn the_minimum_password_length_is_configurable_and_64_characters_are_accepted() {
    let app = TestApp::with_env(&[("AUTH_PASSWORD_MIN_LENGTH", "15")]).await;
    let res = app.signup("", "len@example.com", "fourteen chars").await;
    assert_eq!(res.status, Status::UnprocessableEntity);
    assert!(res.body.contains("Use at least 15 characters"));
    // 64 characters of a passphrase (a run of one letter would be refused as guessable).
    let long = "lantern orchard velvet compass meadow thunder saffron glacier ok";
    assert_eq!(long.len(), 64);
    app.signup("", "len@example.com", long).await.assert_redirects_to("/");
    app.signout().await;
    app.post_credentials("len@example.com", long).await.assert_redirects_to("/");
}

#[rocket::async_test]
async fn sign_up_honours_a_same_origin_callback_url_only() {
    let app = TestApp::spawn().await;
    let token = app.csrf_token().await;
    let res = app
        .post_form(
            "/signup",
            &[
                ("email", "cb@example.com"),
                ("password", PASSWORD),
                ("csrfToken", &token),
                ("callbackUrl", "/sessions"),
            ],
        )
        .await;
    res.assert_redirects_to("/sessions");
    let other = app.new_browser("b");
    let token = other.csrf_token(&app).await;
    let res = other
        .post_form(
            &app,
            "/signup",
            &[
                ("email", "cb2@example.com"),
                ("password", PASSWORD),
                ("csrfToken", &token),
                ("callbackUrl", "https://evil.example/phish"),
            ],
        )
        .await;
    res.assert_redirects_to("/");
}

#[rocket::async_test]
async fn a_common_or_guessable_password_is_refused_with_the_reason() {
    let app = TestApp::spawn().await;
    for weak in ["password1234", "qwerty123456", "ada.lovelace1815"] {
        let res = app.signup("Ada", "ada.lovelace@example.com", weak).await;
        assert_eq!(res.status, Status::UnprocessableEntity, "{weak}");
        assert!(res.body.contains("too easy to guess"), "{weak}");
        assert!(!res.body.contains(weak), "the password is never echoed");
    }
    assert_eq!(app.user_count().await, 0);
}
