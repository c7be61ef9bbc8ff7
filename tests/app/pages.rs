//! Pages: the layout, escaping, security headers, static files.

use rocket::http::Status;

use crate::common::{TestApp, PASSWORD};

#[rocket::async_test]
async fn the_home_page_shows_who_is_signed_in() {
    let app = TestApp::spawn().await;
    let res = app.get("/").await;
    assert_eq!(res.status, Status::Ok);
    assert!(res.body.contains("href=\"/signin\""));
    app.signup("Ada Lovelace", "ada@example.com", PASSWORD).await;
    let res = app.get("/").await;
    assert!(res.body.contains("Ada Lovelace"));
    assert!(res.body.contains("ada@example.com"));
    assert!(res.body.contains("action=\"/api/auth/signout\""), "a sign-out button");
    assert!(res.body.contains("Welcome!"), "the flash message");
}

#[rocket::async_test]
async fn names_and_user_agents_are_escaped() {
    let app = TestApp::spawn().await;
    let mut evil = app.new_browser("<script>alert('ua')</script>");
    evil.user_agent = "<script>alert('ua')</script>".into();
    evil.signup(&app, "<script>alert('name')</script>", "xss@example.com", PASSWORD)
        .await
        .assert_redirects_to("/");
    for path in ["/", "/sessions"] {
        let res = evil.get(&app, path).await;
        assert!(!res.body.contains("<script>alert"), "{path}: {}", res.body);
        assert!(res.body.contains("&lt;script&gt;alert("), "{path}");
    }
}

#[rocket::async_test]
async fn every_response_carries_security_headers() {
    let app = TestApp::spawn().await;
    for path in ["/", "/signin", "/signup", "/api/auth/session", "/api/auth/csrf", "/nope", "/healthz"] {
        let res = app.get(path).await;
        let csp = res.header("Content-Security-Policy").unwrap_or_else(|| panic!("{path}: no CSP"));
        assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"), "{path}");
        assert_eq!(res.header("X-Content-Type-Options"), Some("nosniff"), "{path}");
        assert!(res.header("Referrer-Policy").is_some(), "{path}");
        assert!(res.header("Cache-Control").is_some_and(|c| c.contains("no-store")), "{path}");
    }
    // Pages with account data, redirects and refusals too.
    app.signed_up_user().await;
    let token = app.csrf_token().await;
    let responses = [
        app.get("/account").await,
        app.get("/sessions").await,
        app.post_form("/account/name", &[("name", "x"), ("csrfToken", &token)]).await,
        app.post_form("/account/name", &[("name", "x")]).await,
        app.post_form("/sessions/AAAAAAAAAAAAAAAAAAAAAA/revoke", &[("csrfToken", &token)]).await,
    ];
    for res in &responses {
        let csp = res.header("Content-Security-Policy").expect("CSP");
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
            "{}",
            res.status
        );
        assert_eq!(res.header("X-Content-Type-Options"), Some("nosniff"));
        assert!(res.header("Cache-Control").is_some_and(|c| c.contains("no-store")), "{}", res.status);
    }
}

#[rocket::async_test]
async fn the_stylesheet_is_served_and_pages_load_nothing_from_elsewhere() {
    let app = TestApp::spawn().await;
    let css = app.get("/static/css/app.css").await;
    assert_eq!(css.status, Status::Ok);
    assert!(css.body.contains("prefers-color-scheme: dark"));
    for path in ["/", "/signin", "/signup", "/error?error=AccessDenied"] {
        let res = app.get(path).await;
        assert!(res.body.contains("/static/css/app.css"));
        for attr in ["src=\"http", "href=\"http", "src=\"//", "href=\"//", "<script", "style="] {
            assert!(!res.body.contains(attr), "{path} has {attr}");
        }
    }
}

#[rocket::async_test]
async fn the_error_page_explains_auth_js_codes() {
    let app = TestApp::spawn().await;
    let res = app.get("/error?error=AccessDenied").await;
    assert_eq!(res.status, Status::Forbidden);
    assert!(res.body.contains("Access denied"));
    let res = app.get("/error?error=Whatever").await;
    assert_eq!(res.status, Status::BadRequest);
    assert!(!res.body.contains("Whatever"));
}

#[rocket::async_test]
async fn the_signup_page_has_a_label_for_every_input() {
    let app = TestApp::spawn().await;
    for path in ["/signup", "/signin"] {
        let body = app.get(path).await.body;
        for id in ["email", "password"] {
            assert!(
                body.contains(&format!("for=\"{id}\"")) && body.contains(&format!("id=\"{id}\"")),
                "{path}: {id}"
            );
        }
    }
}
