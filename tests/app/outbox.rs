//! The outbox: mail is queued with the change that causes it and delivered by a worker
//! on any instance, over a real SMTP conversation with the test double; SMTP being
//! down never fails a request, and nothing queued is lost.

use std::time::{Duration, Instant};

use rocket::http::Status;

use crate::common::smtp::Mode;
use crate::common::{TestApp, PASSWORD};

/// `(status, attempts, message, last_error)` of the outbox rows to `to`.
async fn rows(app: &TestApp, to: &str) -> Vec<(String, i64, String, String)> {
    sqlx::query_as(
        "SELECT status, attempts, message, last_error FROM outbox WHERE recipient = $1 ORDER BY created_at",
    )
    .bind(to)
    .fetch_all(app.pool())
    .await
    .unwrap()
}

/// Waits (up to 10 s) until the row to `to` satisfies `ok`.
async fn wait_row(
    app: &TestApp,
    to: &str,
    ok: impl Fn(&(String, i64, String, String)) -> bool,
) -> (String, i64, String, String) {
    for _ in 0..200 {
        if let Some(row) = rows(app, to).await.into_iter().next().filter(|r| ok(r)) {
            return row;
        }
        rocket::tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the outbox row to {to} never got there: {:?}", rows(app, to).await);
}

/// Makes every queued message due now (as the backoff's time passing would).
async fn make_due(app: &TestApp) {
    app.exec("UPDATE outbox SET next_attempt_at = 0 WHERE status = 'queued'").await;
}

#[rocket::async_test]
async fn with_smtp_down_sign_up_succeeds_at_once_and_the_mail_goes_out_when_it_returns() {
    let app = TestApp::spawn().await;
    app.mail.set_mode(Mode::Refuse);
    let started = Instant::now();
    let res = app.signup("Ada", "ada@example.com", PASSWORD).await;
    assert_eq!(res.status, Status::SeeOther, "{}", res.body);
    assert!(started.elapsed() < Duration::from_secs(2), "the request did not wait for SMTP");
    let (status, attempts, message, error) = wait_row(&app, "ada@example.com", |r| r.1 >= 1).await;
    assert_eq!(status, "queued");
    assert!(attempts >= 1 && !message.is_empty() && !error.is_empty(), "kept for a retry: {error}");
    let due: (i64, i64) = sqlx::query_as("SELECT next_attempt_at, created_at FROM outbox")
        .fetch_all(app.pool())
        .await
        .unwrap()
        .remove(0);
    assert!(due.0 - due.1 >= 25, "retried after about 30 s: {due:?}");
    assert!(app.mail.received().is_empty());

    app.mail.set_mode(Mode::Accept);
    make_due(&app).await;
    let message = app.mail.wait_for_subject("ada@example.com", "Confirm your email address").await;
    assert!(message.link().starts_with("http://localhost:8000/verify-email?token="));
    let (status, _, body, _) = wait_row(&app, "ada@example.com", |r| r.0 == "sent").await;
    assert_eq!((status.as_str(), body.as_str()), ("sent", ""), "a sent message is cleared");
}

#[rocket::async_test]
async fn a_temporary_refusal_is_retried_and_a_permanent_one_abandoned_and_cleared() {
    let app = TestApp::spawn().await;
    app.mail.set_mode(Mode::Temporary);
    app.signup("", "temp@example.com", PASSWORD).await;
    let (status, attempts, message, error) = wait_row(&app, "temp@example.com", |r| r.1 >= 1).await;
    assert_eq!(status, "queued");
    assert!(attempts >= 1 && !message.is_empty());
    assert!(error.contains("451"), "{error}");

    app.mail.set_mode(Mode::Permanent);
    make_due(&app).await;
    let (status, _, message, error) = wait_row(&app, "temp@example.com", |r| r.0 != "queued").await;
    assert_eq!(status, "abandoned");
    assert_eq!(message, "", "an abandoned message is cleared too");
    assert!(error.contains("550"), "{error}");
    assert!(app.mail.received().is_empty());
}

#[rocket::async_test]
async fn a_message_still_failing_after_a_day_is_abandoned() {
    let app = TestApp::spawn().await;
    app.mail.set_mode(Mode::Temporary);
    app.signup("", "late@example.com", PASSWORD).await;
    wait_row(&app, "late@example.com", |r| r.1 >= 1).await;
    app.exec("UPDATE outbox SET created_at = created_at - 86400, next_attempt_at = 0").await;
    let (status, _, message, _) = wait_row(&app, "late@example.com", |r| r.0 != "queued").await;
    assert_eq!((status.as_str(), message.as_str()), ("abandoned", ""));
}

#[rocket::async_test]
async fn two_instances_deliver_each_message_exactly_once() {
    let app = TestApp::spawn().await;
    let other = app.another_instance().await;
    app.mail.set_mode(Mode::Refuse);
    for i in 0..12 {
        let b = app.new_browser("many");
        let res = b
            .signup(if i % 2 == 0 { &app } else { &other }, "", &format!("m{i}@example.com"), PASSWORD)
            .await;
        assert_eq!(res.status, Status::SeeOther);
    }
    app.mail.set_mode(Mode::Accept);
    // Until every message went out: one that a worker was failing at the switch is
    // rescheduled 30 s out, so make it due again.
    for _ in 0..100 {
        make_due(&app).await;
        if (0..12).all(|i| !app.mail.to(&format!("m{i}@example.com")).is_empty()) {
            break;
        }
        rocket::tokio::time::sleep(Duration::from_millis(100)).await;
    }
    rocket::tokio::time::sleep(Duration::from_millis(600)).await;
    let ids: Vec<String> = app.mail.received().iter().filter_map(|m| m.header("Message-ID")).collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(ids.len(), 12, "12 messages, no duplicate: {ids:?}");
    assert_eq!(unique.len(), 12);
}

#[rocket::async_test]
async fn a_claim_of_an_instance_that_died_passes_to_another_when_its_lease_ends() {
    let app = TestApp::spawn().await;
    app.mail.set_mode(Mode::Refuse);
    app.signup("", "lease@example.com", PASSWORD).await;
    wait_row(&app, "lease@example.com", |r| r.1 >= 1).await;
    // Another instance claimed it and died: its lease holds for a minute.
    app.exec("UPDATE outbox SET next_attempt_at = 0, lease_until = 99999999999").await;
    app.mail.set_mode(Mode::Accept);
    rocket::tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(app.mail.to("lease@example.com").is_empty(), "held by the live lease");
    app.exec("UPDATE outbox SET lease_until = 1").await;
    app.mail.wait_for("lease@example.com", 1).await;
}

#[rocket::async_test]
async fn mail_queued_before_a_restart_goes_out_after_it() {
    let app = TestApp::spawn().await;
    app.mail.set_mode(Mode::Refuse);
    app.signup("", "restart@example.com", PASSWORD).await;
    wait_row(&app, "restart@example.com", |r| r.1 >= 1).await;
    // The instance goes away; a new one starts on the same database.
    let fresh = app.another_instance().await;
    drop(app.client);
    fresh.mail.set_mode(Mode::Accept);
    for _ in 0..20 {
        fresh.exec("UPDATE outbox SET next_attempt_at = 0 WHERE status = 'queued'").await;
        rocket::tokio::time::sleep(Duration::from_millis(100)).await;
    }
    fresh.mail.wait_for_subject("restart@example.com", "Confirm your email address").await;
}

#[rocket::async_test]
async fn no_header_can_be_injected_through_a_name_and_every_value_is_escaped() {
    let app = TestApp::spawn().await;
    // CR/LF never gets into a name (refused as control characters)...
    let token = app.csrf_token().await;
    let res = app
        .post_form(
            "/signup",
            &[
                ("name", "Ada\r\nBcc: eve@example.com"),
                ("email", "o'brien@example.com"),
                ("password", PASSWORD),
                ("csrfToken", &token),
            ],
        )
        .await;
    assert_eq!(res.status, Status::UnprocessableEntity);
    // ...and a name that looks like a header stays text; messages carry no name at all.
    app.signup("Ada Bcc: eve@example.com", "o'brien@example.com", PASSWORD).await.assert_redirects_to("/");
    let message = app.mail.wait_for("o'brien@example.com", 1).await;
    assert_eq!(message.to, ["o'brien@example.com"], "one recipient");
    assert!(message.header("Bcc").is_none() && message.header("Cc").is_none());
    assert_eq!(message.header("To").as_deref(), Some("o'brien@example.com"));
    assert!(!message.data.contains("Bcc: eve"), "the name is not in the message");
    let text = message.text();
    assert!(text.contains("o&#x27;brien@example.com"), "escaped in the HTML part");
    assert!(text.contains("sent to o'brien@example.com by http://localhost:8000"), "plain in the text part");
    assert!(message.header("Message-ID").is_some_and(|id| id.ends_with("@localhost>")));
}
