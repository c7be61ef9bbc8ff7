//! The second factor from the user's side: an authenticator app that computes codes
//! from the key the enrolment page shows (RFC 6238, as the phone does), and helpers
//! that enrol a browser and make its sudo mode run out.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rocket::http::Status;
use totp_rs::{Algorithm, TOTP};

use super::{Browser, TestApp};

/// Seconds per TOTP step.
const STEP: u64 = 30;
/// A code is sent at least this long before its step ends, so the app checks it in
/// the step it was computed for.
const MARGIN: u64 = 3;

fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
}

fn step_now() -> i64 {
    (unix_now() as u64 / STEP) as i64
}

/// Waits for the next step when the current one ends within [`MARGIN`] seconds.
pub async fn clear_of_step_end() {
    let now = unix_now();
    let left = STEP as f64 - now % STEP as f64;
    if left < MARGIN as f64 {
        rocket::tokio::time::sleep(Duration::from_secs_f64(left + 0.2)).await;
    }
}

/// An authenticator app holding one account's key.
pub struct Authenticator {
    totp: TOTP,
    /// The newest step whose code was handed out: the app accepts only newer ones.
    last: i64,
}

impl Authenticator {
    /// From the key as the page shows it (base32, in groups).
    pub fn from_key(key: &str) -> Self {
        let key: String = key.split_whitespace().collect();
        let secret = totp_rs::Secret::Encoded(key).to_bytes().expect("a base32 key");
        assert_eq!(secret.len(), 20, "a 160-bit secret");
        Authenticator { totp: TOTP::new(Algorithm::SHA1, 6, 1, STEP, secret).unwrap(), last: 0 }
    }

    /// The code of the current step plus `offset` (the app accepts -1, 0 and +1).
    /// Call [`clear_of_step_end`] first when the test needs it to be checked in the
    /// same step.
    pub fn code(&self, offset: i64) -> String {
        self.at_step(step_now() + offset)
    }

    pub fn at_step(&self, step: i64) -> String {
        self.totp.generate(step as u64 * STEP)
    }

    /// A code the app has not seen: the oldest step it still accepts that is newer than
    /// the last one handed out, waiting for a new step when all three were used.
    pub async fn next_code(&mut self) -> String {
        loop {
            clear_of_step_end().await;
            let now = step_now();
            let step = (self.last + 1).max(now - 1);
            if step <= now + 1 {
                self.last = step;
                return self.at_step(step);
            }
            rocket::tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// Records that `step`'s code was used (by a request the test made itself).
    pub fn used(&mut self, step_offset: i64) {
        self.last = self.last.max(step_now() + step_offset);
    }
}

/// What a finished enrolment gives the user.
pub struct Enrolled {
    pub app: Authenticator,
    pub recovery_codes: Vec<String>,
}

/// The key on `/account/two-factor`, as the page shows it.
pub fn key_on_page(body: &str) -> String {
    let start = body.find("id=\"totp-secret\">").expect("the key on the page") + "id=\"totp-secret\">".len();
    body[start..].split('<').next().unwrap().trim().to_string()
}

/// The recovery codes on the page that shows them once.
pub fn codes_on_page(body: &str) -> Vec<String> {
    body.split("<code>").skip(1).map(|s| s.split('<').next().unwrap().to_string()).collect()
}

impl Browser {
    /// Turns TOTP on for the signed-in user (their session must be fresh): the page,
    /// then the app's code of the previous step (so the current and next ones remain for
    /// the sign-ins that follow without waiting).
    pub async fn enable_totp(&self, app: &TestApp) -> Enrolled {
        let page = self.get(app, "/account/two-factor").await;
        assert_eq!(page.status, Status::Ok, "the enrolment page: {}", page.body);
        let mut authenticator = Authenticator::from_key(&key_on_page(&page.body));
        clear_of_step_end().await;
        let code = authenticator.code(-1);
        authenticator.used(-1);
        let csrf = self.csrf_token(app).await;
        let res =
            self.post_form(app, "/account/two-factor/totp", &[("code", &code), ("csrfToken", &csrf)]).await;
        assert_eq!(res.status, Status::Ok, "enrolment refused: {}", res.body);
        let recovery_codes = codes_on_page(&res.body);
        assert_eq!(recovery_codes.len(), 10, "{}", res.body);
        Enrolled { app: authenticator, recovery_codes }
    }

    /// `POST /signin/two-factor` with `code`.
    pub async fn second_step(&self, app: &TestApp, code: &str) -> super::Resp {
        let csrf = self.csrf_token(app).await;
        self.post_form(app, "/signin/two-factor", &[("code", code), ("csrfToken", &csrf)]).await
    }
}

impl TestApp {
    /// Makes every session's last authentication older than sudo mode allows, as if
    /// `AUTH_REAUTH_MAX_AGE` had passed since the sign-in.
    pub async fn age_authentication(&self) {
        self.exec("UPDATE sessions SET authenticated_at = authenticated_at - 100000").await;
    }

    pub async fn enable_totp(&self) -> Enrolled {
        self.browser.enable_totp(self).await
    }

    pub async fn second_step(&self, code: &str) -> super::Resp {
        self.browser.second_step(self, code).await
    }
}
