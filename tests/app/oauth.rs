//! Google and GitHub sign-in against the provider double: new users, returning users,
//! connecting and disconnecting from /account, and every failure the flow can meet.

use rocket::http::Status;

use crate::common::providers::{Double, GitHubUser, GITHUB_ID, GOOGLE_ID};
use crate::common::{Resp, TestApp, PASSWORD};

async fn setup() -> (Double, TestApp) {
    let double = Double::start().await;
    let app = TestApp::with_double(&double, &[]).await;
    (double, app)
}

async fn account_count(app: &TestApp) -> i64 {
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM accounts").fetch_all(app.pool()).await.unwrap().remove(0);
    n
}

async fn flow_count(app: &TestApp) -> i64 {
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM oauth_flows").fetch_all(app.pool()).await.unwrap().remove(0);
    n
}

fn query(url: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(url).unwrap().query_pairs().into_owned().collect()
}

#[rocket::async_test]
async fn a_new_user_signs_in_with_google() {
    let (double, app) = setup().await;
    let res = app.browser.oauth_signin(&app, &double, "google").await;
    res.assert_redirects_to("/");
    let session = app.session_json().await;
    assert_eq!(session["user"]["email"], "grace@gmail.example");
    assert_eq!(session["user"]["name"], "Grace Hopper");
    assert_eq!(session["user"]["image"], "https://lh3.googleusercontent.example/a/photo.jpg");
    assert_eq!(app.user_count().await, 1);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM accounts WHERE provider = 'google' AND provider_account_id = $1",
            "110169484474386276334"
        )
        .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE password_hash = $1 AND email_verified > 0", "").await,
        1
    );
    // The same kind of session as a password sign-in: same cookie, same table.
    assert_eq!(app.session_count().await, 1);
    assert!(app.browser.session_token().is_some());
    assert_eq!(flow_count(&app).await, 0, "the flow was used up");
}

#[rocket::async_test]
async fn the_google_flow_uses_discovery_state_and_pkce_s256() {
    let (double, app) = setup().await;
    let start = app.browser.oauth_start(&app, "google", Some("/sessions")).await;
    assert_eq!(start.status, Status::SeeOther);
    let location = start.location().unwrap().to_string();
    assert!(location.starts_with(&format!("{}/google/authorize?", double.url)), "{location}");
    let q = query(&location);
    assert_eq!(q["client_id"], GOOGLE_ID);
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["redirect_uri"], "http://localhost:8000/api/auth/callback/google");
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["scope"], "openid email profile");
    assert_eq!(q["state"].len(), 43);
    // The flow cookie binds the flow to this browser; only hashes are stored.
    let cookie = start.set_cookie("authjs.oauth-flow").expect("a flow cookie");
    assert!(cookie.http_only().unwrap_or(false));
    assert_eq!(cookie.same_site(), Some(rocket::http::SameSite::Lax));
    assert_eq!(app.count("SELECT COUNT(*) FROM oauth_flows WHERE state_hash = $1", &q["state"]).await, 0);
    assert_eq!(flow_count(&app).await, 1);

    let back = double.authorize(&location).await;
    app.browser.follow(&app, &back).await.assert_redirects_to("/sessions");
    let token_request = double.token_requests().pop().unwrap();
    assert_eq!(token_request["grant_type"], "authorization_code");
    assert_eq!(token_request["code_verifier"].len(), 43);

    // Discovery is fetched once and cached.
    let other = app.new_browser("Other");
    other.oauth_signin(&app, &double, "google").await;
    assert_eq!(double.discovery_fetches(), 1);
}

#[rocket::async_test]
async fn a_new_user_signs_in_with_github() {
    let (double, app) = setup().await;
    let start = app.browser.oauth_start(&app, "github", None).await;
    let location = start.location().unwrap().to_string();
    assert!(location.starts_with(&format!("{}/github/login/oauth/authorize?", double.url)), "{location}");
    let q = query(&location);
    assert_eq!(q["client_id"], GITHUB_ID);
    assert_eq!(q["code_challenge_method"], "S256");
    let back = double.authorize(&location).await;
    app.browser.follow(&app, &back).await.assert_redirects_to("/");

    let session = app.session_json().await;
    assert_eq!(session["user"]["email"], "octocat@github.example", "the primary verified email");
    assert_eq!(session["user"]["name"], "The Octocat");
    assert_eq!(app.count("SELECT COUNT(*) FROM accounts WHERE provider_account_id = $1", "583231").await, 1);
    let token_request = double.token_requests().pop().unwrap();
    assert_eq!(token_request["client_id"], GITHUB_ID, "GitHub gets the client's credentials in the body");
}

#[rocket::async_test]
async fn a_returning_user_is_matched_by_provider_id_not_by_email() {
    let (double, app) = setup().await;
    app.browser.oauth_signin(&app, &double, "github").await.assert_redirects_to("/");
    let (user_id,): (String,) =
        sqlx::query_as("SELECT id FROM users").fetch_all(app.pool()).await.unwrap().remove(0);
    app.signout().await;

    // The same GitHub account, renamed, with another primary email.
    double.set(|s| {
        s.github_user.login = "octocat-renamed".into();
        s.github_user.emails = vec![("new@github.example".into(), true, true)];
    });
    let later = app.new_browser("Later");
    later.oauth_signin(&app, &double, "github").await.assert_redirects_to("/");
    let session = later.session_json(&app).await;
    assert_eq!(session["user"]["id"], user_id.as_str());
    assert_eq!(app.user_count().await, 1);
    assert_eq!(account_count(&app).await, 1);

    // Another GitHub account that has the same login the first one had: a new user.
    double.set(|s| {
        s.github_user = GitHubUser {
            id: 999,
            login: "octocat".into(),
            name: None,
            emails: vec![("squatter@example.com".into(), true, true)],
        }
    });
    let third = app.new_browser("Third");
    third.oauth_signin(&app, &double, "github").await.assert_redirects_to("/");
    assert_ne!(third.session_json(&app).await["user"]["id"], user_id.as_str());
    assert_eq!(app.user_count().await, 2);
}

#[rocket::async_test]
async fn signing_in_with_a_provider_ends_the_session_the_browser_had() {
    let (double, app) = setup().await;
    app.browser.oauth_signin(&app, &double, "google").await;
    let first = app.browser.session_token().unwrap();
    app.signout().await;
    let res = app.browser.oauth_signin(&app, &double, "google").await;
    let second = app
        .browser
        .session_token()
        .unwrap_or_else(|| panic!("{} {:?} {}", res.status, res.location(), res.body));
    assert_ne!(first, second);
    assert_eq!(app.session_count().await, 1);
}

#[rocket::async_test]
async fn the_signin_page_and_providers_endpoint_list_only_configured_providers() {
    let (_double, app) = setup().await;
    let page = app.get("/signin").await.body;
    assert!(page.contains("action=\"/api/auth/signin/google\"") && page.contains("Continue with GitHub"));
    let providers = app.get("/api/auth/providers").await.json();
    assert_eq!(providers["google"]["type"], "oidc");
    assert_eq!(providers["github"]["callbackUrl"], "http://localhost:8000/api/auth/callback/github");

    let bare = TestApp::spawn().await;
    let page = bare.get("/signin").await.body;
    assert!(!page.contains("/api/auth/signin/google") && !page.contains("Continue with GitHub"));
    let providers = bare.get("/api/auth/providers").await.json();
    assert!(providers.get("google").is_none() && providers.get("github").is_none());
    let token = bare.csrf_token().await;
    let res = bare.post_form("/api/auth/signin/google", &[("csrfToken", &token)]).await;
    assert_eq!(res.status, Status::NotFound);
    assert_eq!(bare.get("/api/auth/callback/github?code=x&state=y").await.status, Status::NotFound);
}

#[rocket::async_test]
async fn starting_a_flow_needs_the_csrf_token() {
    let (_double, app) = setup().await;
    let res = app.post_form("/api/auth/signin/google", &[]).await;
    assert_eq!(res.status, Status::Forbidden);
    assert_eq!(flow_count(&app).await, 0);
}

#[rocket::async_test]
async fn an_unknown_provider_is_a_404() {
    let (_double, app) = setup().await;
    let token = app.csrf_token().await;
    assert_eq!(
        app.post_form("/api/auth/signin/facebook", &[("csrfToken", &token)]).await.status,
        Status::NotFound
    );
    assert_eq!(app.get("/api/auth/callback/facebook?code=a&state=b").await.status, Status::NotFound);
}

#[rocket::async_test]
async fn auth_js_clients_get_the_provider_url_as_json() {
    let (double, app) = setup().await;
    let token = app.csrf_token().await;
    let body = rocket::serde::json::json!({ "csrfToken": token, "callbackUrl": "/account" });
    let res = app
        .browser
        .post_json(&app, "/api/auth/signin/github", &body, &[("X-Auth-Return-Redirect", "1")])
        .await;
    assert_eq!(res.status, Status::Ok);
    let url = res.json()["url"].as_str().unwrap().to_string();
    assert!(url.starts_with(&double.url));
}

/// Expects the failure page: its status, its Auth.js code, and a sentence of it.
fn assert_failure(res: &Resp, status: Status, text: &str) {
    assert_eq!(res.status, status, "{}", res.body);
    assert!(res.body.contains(text), "the page says {text:?}: {}", res.body);
}

/// Expects a provider's refusal: the user's failed sign-in, a 303 to
/// `/signin?error=<code>` as Auth.js answers, where the page says `text`.
async fn assert_refused(app: &TestApp, res: &Resp, code: &str, text: &str) {
    assert_eq!(res.status, Status::SeeOther, "a redirect, not a page: {}", res.body);
    let location = res.location().unwrap();
    assert!(
        location.starts_with(&format!("http://localhost:8000/signin?error={code}")),
        "redirected to {location}"
    );
    let page = app.browser.follow(app, location).await;
    assert_eq!(page.status, Status::Ok);
    assert!(page.body.contains(text), "the sign-in page says {text:?}: {}", page.body);
}

async fn nothing_changed(app: &TestApp) {
    assert_eq!(app.user_count().await, 0, "no user was created");
    assert_eq!(account_count(app).await, 0, "no account was linked");
    assert_eq!(app.session_count().await, 0, "no session was started");
    assert!(app.session_json().await.is_null());
}

#[rocket::async_test]
async fn access_denied_at_the_provider_says_access_was_not_granted() {
    let (double, app) = setup().await;
    double.set(|s| s.deny = true);
    let res = app.browser.oauth_signin(&app, &double, "google").await;
    assert_refused(&app, &res, "OAuthCallbackError", "You did not grant access at Google").await;
    nothing_changed(&app).await;
    assert_eq!(flow_count(&app).await, 0);
}

#[rocket::async_test]
async fn a_missing_wrong_or_forged_state_is_refused() {
    let (double, app) = setup().await;
    let start = app.browser.oauth_start(&app, "google", None).await;
    let back = double.authorize(start.location().unwrap()).await;
    let q = query(&back);
    let code = &q["code"];
    let cases = [
        format!("/api/auth/callback/google?code={code}"),
        format!("/api/auth/callback/google?code={code}&state="),
        format!("/api/auth/callback/google?code={code}&state={}", "A".repeat(43)),
        format!("/api/auth/callback/google?code={code}&state=%27%20OR%201%3D1--"),
    ];
    for path in &cases {
        let res = app.get(path).await;
        assert_failure(&res, Status::BadRequest, "This sign-in has expired");
    }
    nothing_changed(&app).await;
    assert!(double.token_requests().is_empty(), "the code was never exchanged");
}

#[rocket::async_test]
async fn a_replayed_callback_is_refused() {
    let (double, app) = setup().await;
    let start = app.browser.oauth_start(&app, "google", None).await;
    let back = double.authorize(start.location().unwrap()).await;
    app.browser.follow(&app, &back).await.assert_redirects_to("/");
    app.signout().await;
    let replay = app.browser.follow(&app, &back).await;
    assert_failure(&replay, Status::BadRequest, "This sign-in has expired");
    assert!(app.session_json().await.is_null());
    assert_eq!(app.session_count().await, 0);
}

#[rocket::async_test]
async fn a_callback_in_another_browser_is_refused() {
    let (double, app) = setup().await;
    // The attacker starts a flow and sends the victim the callback URL (login CSRF).
    let attacker = app.new_browser("Attacker");
    let start = attacker.oauth_start(&app, "github", None).await;
    let back = double.authorize(start.location().unwrap()).await;
    let res = app.browser.follow(&app, &back).await;
    assert_failure(&res, Status::BadRequest, "started in another browser");
    nothing_changed(&app).await;
    // The flow was used up by the attempt: the attacker cannot finish it either.
    assert_failure(&attacker.follow(&app, &back).await, Status::BadRequest, "This sign-in has expired");
}

#[rocket::async_test]
async fn an_expired_flow_is_refused() {
    let (double, app) = setup().await;
    let start = app.browser.oauth_start(&app, "google", None).await;
    let back = double.authorize(start.location().unwrap()).await;
    app.exec("UPDATE oauth_flows SET expires_at = expires_at - 601").await;
    assert_failure(&app.browser.follow(&app, &back).await, Status::BadRequest, "This sign-in has expired");
    nothing_changed(&app).await;
}

#[rocket::async_test]
async fn a_flow_started_for_one_provider_cannot_finish_at_another() {
    let (double, app) = setup().await;
    let start = app.browser.oauth_start(&app, "google", None).await;
    let back = double.authorize(start.location().unwrap()).await;
    let swapped = back.replace("/callback/google", "/callback/github");
    assert_failure(&app.browser.follow(&app, &swapped).await, Status::BadRequest, "This sign-in has expired");
    nothing_changed(&app).await;
}

#[rocket::async_test]
async fn a_token_endpoint_that_fails_with_500_changes_nothing() {
    let (double, app) = setup().await;
    double.set(|s| s.token_500 = true);
    for provider in ["google", "github"] {
        let res = app.browser.oauth_signin(&app, &double, provider).await;
        assert_failure(&res, Status::BadGateway, "answer could not be used");
    }
    nothing_changed(&app).await;
}

#[rocket::async_test]
async fn a_token_endpoint_that_answers_invalid_json_changes_nothing() {
    let (double, app) = setup().await;
    double.set(|s| s.token_invalid_json = true);
    for provider in ["google", "github"] {
        let res = app.browser.oauth_signin(&app, &double, provider).await;
        assert_failure(&res, Status::BadGateway, "answer could not be used");
    }
    nothing_changed(&app).await;
}

#[rocket::async_test]
async fn a_github_token_error_sent_with_http_200_is_a_failed_sign_in() {
    let (double, app) = setup().await;
    double.set(|s| s.token_error_200 = true);
    let res = app.browser.oauth_signin(&app, &double, "github").await;
    assert_refused(&app, &res, "OAuthCallbackError", "GitHub did not accept this sign-in").await;
    nothing_changed(&app).await;
}

#[rocket::async_test]
async fn a_code_injected_from_another_flow_fails_pkce_and_is_a_failed_sign_in() {
    let (double, app) = setup().await;
    // The attacker's own flow gives them a code for their account...
    let attacker = app.new_browser("Attacker");
    let theirs = attacker.oauth_start(&app, "google", None).await;
    let their_code = query(&double.authorize(theirs.location().unwrap()).await)["code"].clone();
    // ...which they inject into the victim's callback, with the victim's state.
    let mine = app.browser.oauth_start(&app, "google", None).await;
    let back = double.authorize(mine.location().unwrap()).await;
    let state = query(&back)["state"].clone();
    let res = app.get(&format!("/api/auth/callback/google?code={their_code}&state={state}")).await;
    // The provider refuses: the PKCE verifier is the victim's flow's, not the code's.
    assert_refused(&app, &res, "OAuthCallbackError", "Google did not accept this sign-in").await;
    nothing_changed(&app).await;
}

#[rocket::async_test]
async fn a_token_endpoint_that_is_down_redirects_or_names_its_own_outage_is_a_502_page() {
    let (double, app) = setup().await;
    for (what, set) in [
        (
            "a 503 with the provider's own error",
            (|s: &mut crate::common::providers::Switches| s.token_server_error = true) as fn(&mut _),
        ),
        ("a redirect", |s| s.token_redirect = true),
    ] {
        double.set(|s| {
            s.token_server_error = false;
            s.token_redirect = false;
        });
        double.set(set);
        for provider in ["google", "github"] {
            let res = app.browser.oauth_signin(&app, &double, provider).await;
            assert_eq!(res.status, Status::BadGateway, "{what} at {provider}: {}", res.body);
            assert!(res.body.contains("answer could not be used"), "{what}: the page says so");
        }
    }
    nothing_changed(&app).await;
}

#[rocket::async_test]
async fn a_discovery_document_that_names_another_issuer_is_a_502_page() {
    let (double, app) = setup().await;
    double.set(|s| s.discovery_wrong_issuer = true);
    let res = app.browser.oauth_start(&app, "google", None).await;
    assert_failure(&res, Status::BadGateway, "could not be started");
    assert_eq!(flow_count(&app).await, 0);
}

#[rocket::async_test]
async fn a_provider_that_does_not_answer_in_time_changes_nothing() {
    let (double, app) = setup().await;
    double.set(|s| s.token_delay = Some(std::time::Duration::from_millis(2500)));
    let started = std::time::Instant::now();
    let res = app.browser.oauth_signin(&app, &double, "github").await;
    assert_failure(&res, Status::GatewayTimeout, "did not answer in time");
    assert!(
        started.elapsed() < std::time::Duration::from_millis(2400),
        "gave up after AUTH_PROVIDER_TIMEOUT"
    );
    nothing_changed(&app).await;
}

#[rocket::async_test]
async fn a_profile_endpoint_that_fails_changes_nothing() {
    let (double, app) = setup().await;
    double.set(|s| s.profile_500 = true);
    for provider in ["google", "github"] {
        let res = app.browser.oauth_signin(&app, &double, provider).await;
        assert_failure(&res, Status::BadGateway, "answer could not be used");
    }
    nothing_changed(&app).await;
}

#[rocket::async_test]
async fn discovery_that_fails_is_a_clear_page_and_is_retried_later() {
    let (double, app) = setup().await;
    double.set(|s| s.discovery_500 = true);
    let res = app.browser.oauth_start(&app, "google", None).await;
    assert_failure(&res, Status::BadGateway, "could not be started");
    assert_eq!(flow_count(&app).await, 0);
    double.set(|s| s.discovery_500 = false);
    app.browser.oauth_signin(&app, &double, "google").await.assert_redirects_to("/");
}

#[rocket::async_test]
async fn a_profile_without_a_verified_email_creates_no_user() {
    let (double, app) = setup().await;
    let refused = "did not share a verified email address";
    double.set(|s| s.google_user.email_verified = false);
    let res = app.browser.oauth_signin(&app, &double, "google").await;
    assert_refused(&app, &res, "OAuthCallbackError", refused).await;
    double.set(|s| s.google_user.email = None);
    let res = app.browser.oauth_signin(&app, &double, "google").await;
    assert_refused(&app, &res, "OAuthCallbackError", refused).await;
    // GitHub: a verified address that is not the primary one does not count.
    double.set(|s| {
        s.github_user.emails =
            vec![("primary@x.example".into(), true, false), ("second@x.example".into(), false, true)]
    });
    let res = app.browser.oauth_signin(&app, &double, "github").await;
    assert_refused(&app, &res, "OAuthCallbackError", refused).await;
    double.set(|s| s.github_user.emails = vec![]);
    let res = app.browser.oauth_signin(&app, &double, "github").await;
    assert_refused(&app, &res, "OAuthCallbackError", refused).await;
    nothing_changed(&app).await;
}

#[rocket::async_test]
async fn an_email_that_belongs_to_an_existing_user_is_not_linked_silently() {
    let (double, app) = setup().await;
    let owner = app.new_browser("Owner");
    owner.signup(&app, "Grace", "Grace@Gmail.example", PASSWORD).await;
    let res = app.browser.oauth_signin(&app, &double, "google").await;
    let sentence = "Sign in the way you did before, then connect this provider";
    assert_refused(&app, &res, "OAuthAccountNotLinked", sentence).await;
    assert_eq!(app.user_count().await, 1);
    assert_eq!(account_count(&app).await, 0);
    assert!(app.session_json().await.is_null());
}

#[rocket::async_test]
async fn a_signed_in_user_connects_a_provider_from_the_account_page() {
    let (double, app) = setup().await;
    let email = app.verified_user().await;
    let session_before = app.browser.session_token().unwrap();
    let page = app.get("/account").await.body;
    assert!(page.contains("Connect Google") && page.contains("Connect GitHub"));

    let res = app.browser.oauth_connect(&app, &double, "github").await;
    res.assert_redirects_to("/account");
    // The message must survive a redirect chain that began at the provider's site.
    let flash = res.set_cookie("_flash").expect("a flash message");
    assert_eq!(flash.same_site(), Some(rocket::http::SameSite::Lax));
    assert_eq!(app.browser.session_token().unwrap(), session_before, "the session is kept");
    assert_eq!(app.session_json().await["user"]["email"], email.as_str(), "still the same user");
    let page = app.get("/account").await.body;
    assert!(page.contains("GitHub is connected."));
    assert!(page.contains("Connected as <strong>octocat</strong>"));
    assert_eq!(account_count(&app).await, 1);

    // The provider now signs this user in, even with a different email there.
    app.signout().await;
    let phone = app.new_browser("Phone");
    phone.oauth_signin(&app, &double, "github").await.assert_redirects_to("/");
    assert_eq!(phone.session_json(&app).await["user"]["email"], email.as_str());
    assert_eq!(app.user_count().await, 1);
}

#[rocket::async_test]
async fn connecting_an_account_that_belongs_to_someone_else_is_refused() {
    let (double, app) = setup().await;
    let other = app.new_browser("Other");
    other.oauth_signin(&app, &double, "github").await.assert_redirects_to("/");
    app.verified_user().await;
    let res = app.browser.oauth_connect(&app, &double, "github").await;
    res.assert_redirects_to("/account");
    let page = app.get("/account").await;
    assert!(page.body.contains("already belongs to another user"), "{}", page.body);
    assert!(page.body.contains("alert-error"));
    assert_eq!(account_count(&app).await, 1);
    assert!(app.session_json().await.is_object(), "the user stays signed in");
}

#[rocket::async_test]
async fn connecting_the_same_account_twice_says_so() {
    let (double, app) = setup().await;
    app.verified_user().await;
    app.browser.oauth_connect(&app, &double, "google").await.assert_redirects_to("/account");
    app.browser.oauth_connect(&app, &double, "google").await.assert_redirects_to("/account");
    assert!(app.get("/account").await.body.contains("already connected"));
    assert_eq!(account_count(&app).await, 1);
}

#[rocket::async_test]
async fn a_connect_that_comes_back_to_another_session_is_refused() {
    let (double, app) = setup().await;
    app.verified_user().await;
    let start = app.browser.oauth_connect_start(&app, "github").await;
    let back = double.authorize(start.location().unwrap()).await;
    app.signout().await;
    let res = app.browser.follow(&app, &back).await;
    assert_failure(&res, Status::Unauthorized, "no longer signed in here");
    assert_eq!(account_count(&app).await, 0);
}

#[rocket::async_test]
async fn a_connect_started_by_one_user_links_nothing_to_another_who_signed_in_since() {
    let (double, app) = setup().await;
    let a = app.verified_user().await;
    let start = app.browser.oauth_connect_start(&app, "github").await;
    let back = double.authorize(start.location().unwrap()).await;
    // B signs in in the same browser before the provider sends it back.
    app.signout().await;
    let b = format!("b-{a}");
    app.signup("B", &b, PASSWORD).await.assert_redirects_to("/");
    let res = app.browser.follow(&app, &back).await;
    assert_failure(&res, Status::Unauthorized, "no longer signed in here");
    assert_eq!(account_count(&app).await, 0, "nothing linked to B (nor to A)");
    assert_eq!(app.session_json().await["user"]["email"], b.as_str(), "B's session is untouched");
}

#[rocket::async_test]
async fn connecting_needs_a_session_csrf_and_an_enabled_provider() {
    let (double, app) = setup().await;
    let _ = &double;
    assert_eq!(app.browser.oauth_connect_start(&app, "github").await.status, Status::Unauthorized);
    app.signed_up_user().await;
    assert_eq!(app.post_form("/account/connect/github", &[]).await.status, Status::Forbidden);
    assert_eq!(app.browser.oauth_connect_start(&app, "facebook").await.status, Status::NotFound);
    assert_eq!(flow_count(&app).await, 0);
}

/// An attacker's session planted in the victim's browser (cookie tossing from a
/// sibling subdomain, a shared computer, login CSRF), then the victim signs in with
/// their provider: the victim gets their own account, and the attacker gets nothing.
async fn a_planted_session_does_not_capture(provider: &str, victim_email: &str) {
    let (double, app) = setup().await;
    let attacker = app.new_browser("Attacker");
    let attacker_email = "mallory@example.com";
    attacker.signup(&app, "Mallory", attacker_email, PASSWORD).await.assert_redirects_to("/");
    let planted = attacker.session_token().unwrap();
    app.browser.set_cookie("authjs.session-token", &planted);
    assert_eq!(app.session_json().await["user"]["email"], attacker_email, "the plant works");

    let res = app.browser.oauth_signin(&app, &double, provider).await;
    res.assert_redirects_to("/");
    assert_eq!(app.session_json().await["user"]["email"], victim_email, "signed in as the victim");
    let linked_to_attacker = app
        .count(
            "SELECT COUNT(*) FROM accounts a JOIN users u ON u.id = a.user_id WHERE u.email = $1",
            attacker_email,
        )
        .await;
    assert_eq!(linked_to_attacker, 0, "the victim's {provider} account is not the attacker's");
    assert_eq!(app.user_count().await, 2, "the victim got an account of their own");
    // The planted session ended; the attacker's own browser lost it too.
    assert!(attacker.session_json(&app).await.is_null());
    let fresh = app.new_browser("Mallory later");
    fresh.post_credentials(&app, attacker_email, PASSWORD).await.assert_redirects_to("/");
    let provider_signin = app.new_browser("Mallory tries the provider");
    provider_signin.oauth_signin(&app, &double, provider).await.assert_redirects_to("/");
    assert_eq!(provider_signin.session_json(&app).await["user"]["email"], victim_email);
}

#[rocket::async_test]
async fn a_planted_session_does_not_capture_the_victims_google_sign_in() {
    a_planted_session_does_not_capture("google", "grace@gmail.example").await;
}

#[rocket::async_test]
async fn a_planted_session_does_not_capture_the_victims_github_sign_in() {
    a_planted_session_does_not_capture("github", "octocat@github.example").await;
}

async fn unlink(app: &TestApp, provider: &str) -> Resp {
    let token = app.csrf_token().await;
    app.post_form(&format!("/account/unlink/{provider}"), &[("csrfToken", &token)]).await
}

#[rocket::async_test]
async fn unlinking_is_refused_while_it_is_the_last_way_to_sign_in() {
    let (double, app) = setup().await;
    app.browser.oauth_signin(&app, &double, "google").await.assert_redirects_to("/");
    let page = app.get("/account").await.body;
    assert!(page.contains("Set a password") && page.contains("Disconnect"));

    let res = unlink(&app, "google").await;
    assert_eq!(res.status, Status::Conflict);
    assert!(res.body.contains("only way to sign in"));
    assert_eq!(account_count(&app).await, 1);

    // With a second provider, either may go, but not both.
    app.browser.oauth_connect(&app, &double, "github").await.assert_redirects_to("/account");
    // This session was signed in with Google: it ends with the link.
    unlink(&app, "google").await.assert_redirects_to("/signin?callbackUrl=%2Faccount");
    assert!(app.get("/signin").await.body.contains("Google was disconnected"));
    app.browser.oauth_signin(&app, &double, "github").await.assert_redirects_to("/");
    assert_eq!(unlink(&app, "github").await.status, Status::Conflict);
    assert_eq!(account_count(&app).await, 1);
}

#[rocket::async_test]
async fn a_provider_user_sets_a_password_and_can_then_unlink() {
    let (double, app) = setup().await;
    app.browser.oauth_signin(&app, &double, "github").await;
    let token = app.csrf_token().await;
    let res = app
        .post_form("/account/password", &[("newPassword", "a long enough passphrase"), ("csrfToken", &token)])
        .await;
    res.assert_redirects_to("/account");
    // This browser's session was signed in with GitHub (setting a first password
    // proves nothing new), so it ends with GitHub's link.
    unlink(&app, "github").await.assert_redirects_to("/signin?callbackUrl=%2Faccount");
    assert!(app.session_json().await.is_null());
    assert!(app.get("/signin").await.body.contains("this one too"));
    assert_eq!(account_count(&app).await, 0);
    let fresh = app.new_browser("Fresh");
    let res = fresh.post_credentials(&app, "octocat@github.example", "a long enough passphrase").await;
    assert_eq!(res.status, Status::SeeOther);
}

#[rocket::async_test]
async fn unlink_needs_csrf_a_session_and_a_linked_provider() {
    let (double, app) = setup().await;
    app.browser.oauth_signin(&app, &double, "google").await;
    app.browser.oauth_connect(&app, &double, "github").await;
    assert_eq!(app.post_form("/account/unlink/google", &[]).await.status, Status::Forbidden);
    assert_eq!(unlink(&app, "facebook").await.status, Status::NotFound);
    let other = app.new_browser("Other");
    other.signup(&app, "Other", "other@example.com", PASSWORD).await;
    let token = other.csrf_token(&app).await;
    let res = other.post_form(&app, "/account/unlink/google", &[("csrfToken", &token)]).await;
    assert_eq!(res.status, Status::NotFound, "another user's link is not theirs to remove");
    assert_eq!(account_count(&app).await, 2);
    app.signout().await;
    assert_eq!(unlink(&app, "google").await.status, Status::Unauthorized);
    assert_eq!(account_count(&app).await, 2);
}

#[rocket::async_test]
async fn unlinking_a_provider_ends_the_sessions_signed_in_through_it() {
    let (double, app) = setup().await;
    let email = app.verified_user().await;
    app.browser.oauth_connect(&app, &double, "github").await.assert_redirects_to("/account");
    // Another browser signs in with GitHub, a third with the password.
    let laptop = app.new_browser("Laptop");
    laptop.oauth_signin(&app, &double, "github").await.assert_redirects_to("/");
    let phone = app.new_browser("Phone");
    phone.post_credentials(&app, &email, PASSWORD).await.assert_redirects_to("/");
    assert_eq!(laptop.session_json(&app).await["user"]["email"], email.as_str());

    unlink(&app, "github").await.assert_redirects_to("/account");
    assert!(laptop.session_json(&app).await.is_null(), "the GitHub session ended");
    assert_eq!(phone.session_json(&app).await["user"]["email"], email.as_str(), "the password one did not");
    assert_eq!(app.session_json().await["user"]["email"], email.as_str(), "nor this one");
    assert_eq!(app.session_count().await, 2);
    assert!(app.get("/account").await.body.contains("sessions signed in with it were signed out"));
}
