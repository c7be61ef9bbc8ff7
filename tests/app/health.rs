use rocket::http::{Header, Status};

use crate::common::TestApp;

#[rocket::async_test]
async fn healthz_answers_200_when_the_database_answers() {
    let app = TestApp::spawn().await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status, Status::Ok);
    assert_eq!(res.json()["status"], "ok");
}

#[rocket::async_test]
async fn with_the_database_down_every_route_answers_503_not_500() {
    let app = TestApp::spawn().await;
    app.signed_up_user().await;
    let csrf = app.csrf_token().await;
    app.pool().close().await;

    let res = app.get("/healthz").await;
    assert_eq!(res.status, Status::ServiceUnavailable);

    let res = app.get("/").await;
    assert_eq!(res.status, Status::ServiceUnavailable);
    assert!(res.body.contains("Temporarily unavailable"), "a page: {}", res.body);
    assert!(res.header("Retry-After").is_some());

    let res = app.get("/api/auth/session").await;
    assert_eq!(res.status, Status::ServiceUnavailable);
    assert_eq!(res.json()["error"], "ServiceUnavailable");

    let res = app
        .post_form(
            "/api/auth/callback/credentials",
            &[("email", "a@example.com"), ("password", "whatever it is"), ("csrfToken", &csrf)],
        )
        .await;
    assert_eq!(res.status, Status::ServiceUnavailable);

    let res = app.browser.send(app.client.get("/sessions").header(Header::new("Accept", "text/html"))).await;
    assert_eq!(res.status, Status::ServiceUnavailable);
}
