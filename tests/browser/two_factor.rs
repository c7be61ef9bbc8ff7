//! The second factor in a real browser: enrolment from the account page (the QR code,
//! the key as text, a first code computed here as the phone would), then a sign-out
//! and a password sign-in that asks for a code, and one that uses a recovery code.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use totp_rs::{Algorithm, Secret, TOTP};

use crate::providers::Double;
use crate::webdriver::Browser;
use crate::{
    assert_accessible_form, assert_axe_clean, assert_text, axe_source, sign_out, sign_up, start_app,
    wait_for_url, Driver, Shots, TempDb, PASSWORD,
};

const STEP: f64 = 30.0;

/// The authenticator app: codes from the key the enrolment page shows.
struct Phone {
    totp: TOTP,
    /// The newest step whose code was typed: the app accepts only newer ones.
    last: u64,
}

impl Phone {
    fn from_key(key: &str) -> Phone {
        let key: String = key.split_whitespace().collect();
        let secret = Secret::Encoded(key).to_bytes().expect("the page shows a base32 key");
        Phone { totp: TOTP::new(Algorithm::SHA1, 6, 1, 30, secret).unwrap(), last: 0 }
    }

    /// A code the app has not seen yet, computed well inside its step (the app allows
    /// one step of drift, so the next step's code works as well).
    async fn code(&mut self) -> String {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64();
        let left = STEP - now % STEP;
        if left < 3.0 {
            rocket::tokio::time::sleep(Duration::from_secs_f64(left + 0.2)).await;
        }
        let current = (SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64() / STEP) as u64;
        let step = (self.last + 1).max(current);
        assert!(step <= current + 1, "more codes asked for than one step allows");
        self.last = step;
        self.totp.generate(step * 30)
    }
}

async fn sign_in_with_password(browser: &Browser, at: &dyn Fn(&str) -> String) {
    browser.goto(&at("/signin?callbackUrl=%2Fsessions")).await;
    browser
        .submit(
            &[("#email", "grace@example.com"), ("#password", PASSWORD)],
            "form[action='/api/auth/callback/credentials'] button[type=submit]",
        )
        .await;
    wait_for_url(browser, "the second step", |u| u.starts_with(&at("/signin/two-factor"))).await;
    assert_text(browser, "type the code it shows for grace@example.com").await;
}

/// Makes the sessions' last authentication older than sudo mode allows, in the app's
/// database file.
async fn age_authentication(db: &TempDb) {
    use sqlx::sqlite::SqliteConnectOptions;
    use sqlx::{ConnectOptions, Connection};
    let options = SqliteConnectOptions::new().filename(&db.0).busy_timeout(Duration::from_secs(5));
    let mut conn = options.connect().await.expect("the app's database");
    sqlx::query("UPDATE sessions SET authenticated_at = authenticated_at - 100000")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
}

async fn text_of(browser: &Browser, css: &str) -> String {
    let text = browser
        .script("return document.querySelector(arguments[0]).textContent", serde_json::json!([css]))
        .await;
    text.as_str().expect("the element is on the page").trim().to_string()
}

#[rocket::async_test]
async fn two_factor_enrolment_and_sign_in_with_a_code_or_a_recovery_code_work_in_chromium() {
    let axe = axe_source();
    let double = Double::start().await;
    let db = TempDb::new("2fa");
    let (app, mail) = start_app(&double, &db).await;
    let driver = Driver::start().await;
    let mut shots = Shots::new();
    let at = |path: &str| format!("{app}{path}");

    let browser = Browser::open(&driver.url, 1280, None).await;
    sign_up(&browser, &app, "Grace", "grace@example.com").await;
    assert_text(&browser, "We sent a link to grace@example.com").await;
    // Notices go only to a verified address: confirm it first.
    let link = mail.wait_for_subject("grace@example.com", "Confirm your email").await.link();
    browser.goto(&link).await;
    browser.find("section form button[type=submit]").await.click().await;
    assert_text(&browser, "Your email address is confirmed.").await;

    // Enrolment: from the account page to the QR code and the key.
    browser.goto(&at("/account")).await;
    assert_text(&browser, "Two-factor authentication").await;
    browser.find("a[href='/account/two-factor']").await.click().await;
    wait_for_url(&browser, "the enrolment page", |u| u == at("/account/two-factor")).await;
    assert_eq!(browser.count(".qr svg").await, 1, "the QR code is an inline SVG");
    assert_accessible_form(&browser).await;
    assert_axe_clean(&browser, &axe).await;
    shots.take(&browser, "two-factor-enrol").await;
    let key = text_of(&browser, "#totp-secret").await;
    let mut phone = Phone::from_key(&key);

    // A wrong first code keeps the page and turns nothing on; the right one does.
    browser.submit(&[("#code", "000000")], "form[action='/account/two-factor/totp'] button").await;
    assert_text(&browser, "That code").await;
    let key_again = text_of(&browser, "#totp-secret").await;
    assert_eq!(key_again, key, "the same enrolment goes on after a wrong code");
    let code = phone.code().await;
    browser.submit(&[("#code", &code)], "form[action='/account/two-factor/totp'] button").await;
    assert_text(&browser, "Two-factor authentication is on").await;
    let recovery: Vec<String> = browser
        .script(
            "return [...document.querySelectorAll('#recovery-codes code')].map(c => c.textContent)",
            serde_json::json!([]),
        )
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(recovery.len(), 10, "{recovery:?}");
    assert_axe_clean(&browser, &axe).await;
    shots.take(&browser, "recovery-codes").await;
    mail.wait_for_subject("grace@example.com", "Two-factor authentication is on").await;
    sign_out(&browser).await;

    // The password alone makes no session; the code from the phone does.
    sign_in_with_password(&browser, &at).await;
    let session: serde_json::Value = browser
        .script_async(
            "const done = arguments[arguments.length - 1]; \
             fetch('/api/auth/session').then(r => r.json()).then(done)",
            serde_json::json!([]),
        )
        .await;
    assert!(session.is_null(), "no session before the second step: {session}");
    assert_accessible_form(&browser).await;
    assert_axe_clean(&browser, &axe).await;
    shots.take(&browser, "signin-two-factor").await;
    browser.submit(&[("#code", "123 456")], "form[action='/signin/two-factor'] button").await;
    assert_text(&browser, "That code").await;
    let code = phone.code().await;
    browser.submit(&[("#code", &code)], "form[action='/signin/two-factor'] button").await;
    wait_for_url(&browser, "signed in with the code", |u| u == at("/sessions")).await;
    assert_text(&browser, "This device").await;
    sign_out(&browser).await;

    // Lost the phone: a recovery code, once.
    sign_in_with_password(&browser, &at).await;
    browser.submit(&[("#code", &recovery[0])], "form[action='/signin/two-factor'] button").await;
    wait_for_url(&browser, "signed in with a recovery code", |u| u == at("/sessions")).await;
    mail.wait_for_subject("grace@example.com", "A recovery code was used").await;
    browser.goto(&at("/account/two-factor")).await;
    assert_text(&browser, "9 of 10 left").await;

    // Sudo mode ran out (as AUTH_REAUTH_MAX_AGE after the sign-in): an action asks first,
    // then comes back to its page, having changed nothing.
    age_authentication(&db).await;
    browser.goto(&at("/account/two-factor")).await;
    browser.find("form[action='/account/two-factor/recovery-codes'] button").await.click().await;
    wait_for_url(&browser, "the reauth page", |u| u.starts_with(&at("/reauth?callbackUrl="))).await;
    assert_text(&browser, "Confirm it is you").await;
    assert_accessible_form(&browser).await;
    assert_axe_clean(&browser, &axe).await;
    shots.take(&browser, "reauth").await;
    browser.submit(&[("#password", PASSWORD)], "form[action='/reauth'] button.btn-primary").await;
    wait_for_url(&browser, "back on the two-factor page", |u| u == at("/account/two-factor")).await;
    assert_text(&browser, "9 of 10 left").await;
    sign_out(&browser).await;
    sign_in_with_password(&browser, &at).await;
    browser.submit(&[("#code", &recovery[0])], "form[action='/signin/two-factor'] button").await;
    assert_text(&browser, "That code").await;
    assert!(
        browser.url().await.starts_with(&at("/signin/two-factor")),
        "a used recovery code signs nobody in"
    );

    browser.close().await;
    drop(driver);
}
