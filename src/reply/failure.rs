//! One answer for every failure, whichever way it leaves: a handler's [`Error`], a
//! refused form for a script ([`super::Reply::Failed`]), or a catcher's bare status.
//! The status, `Retry-After`, and the body for each kind of client are decided here
//! and nowhere else:
//!
//! - a browser gets the error page (Tera), with the status;
//! - a JSON client gets `{"error": code, "message": …, "url": …}` with the status;
//! - next-auth 5's client gets `{"url": …}` (the code in the URL's `error`), with
//!   `200` for refused credentials and invalid fields, as Auth.js answers, and the
//!   status otherwise (403 reload the token, 429 wait, 5xx retry);
//! - next-auth 4's client gets `{"url": …}` with Auth.js v4's statuses: refused
//!   credentials are `401` with `{base}/error?error=CredentialsSignin&provider=credentials`.

use rocket::http::{Header, Status};
use rocket::request::Request;
use rocket::response::{self, Responder};
use rocket::serde::json::{json, Json};

use super::page::{ErrorPage, Html};
use super::ReplyMode;
use crate::config::AuthConfig;
use crate::error::Error;

/// Seconds a client is told to wait when a service it needs is unavailable.
const RETRY_OUTAGE: i64 = 5;

/// A failed request, answered in the client's format.
pub struct Failure {
    pub status: Status,
    /// The error page: its Auth.js code, title and sentences.
    pub page: ErrorPage,
    /// Where a script is pointed (`…/error?error=…` unless the caller knows better,
    /// e.g. `…/signin?error=CredentialsSignin`); absolute.
    pub url: Option<String>,
    /// Seconds for `Retry-After`.
    pub retry_after: Option<i64>,
}

impl Failure {
    /// The failure for a bare status (catchers): its page, and `Retry-After` on 503.
    pub fn status(status: Status) -> Self {
        let retry_after = (status == Status::ServiceUnavailable).then_some(RETRY_OUTAGE);
        Failure { status, page: ErrorPage::for_status(status), url: None, retry_after }
    }

    /// A refused form or flow for a script: `code` (an Auth.js code or ours) at `url`.
    pub fn refused(status: Status, code: &'static str, url: String) -> Self {
        let mut page = ErrorPage::for_status(status);
        page.code = code;
        Failure { status, page, url: Some(url), retry_after: None }
    }
}

impl From<&Error> for Failure {
    fn from(e: &Error) -> Self {
        let mut failure = Failure::status(e.status());
        match e {
            Error::Verification => failure.page = ErrorPage::for_code("Verification"),
            Error::Conflict(why) => failure.page.detail = Some(why.to_string()),
            Error::ReauthRequired(_) => failure.page = ErrorPage::for_code("ReauthRequired"),
            _ => {}
        }
        if let Error::TooManyAttempts { retry_after } = e {
            failure.page.detail = Some(format!("Try again in {}.", wait_in_words(*retry_after)));
            failure.retry_after = Some(*retry_after);
        }
        failure
    }
}

/// "about 12 minutes", "30 seconds": how long a throttled client must wait.
fn wait_in_words(seconds: i64) -> String {
    match seconds {
        s if s < 60 => format!("{s} seconds"),
        s if s < 120 => "about a minute".to_string(),
        s => format!("about {} minutes", (s + 59) / 60),
    }
}

impl<'r> Responder<'r, 'static> for Failure {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let config = req.rocket().state::<AuthConfig>();
        let code = self.page.code;
        let url = self.url.clone().unwrap_or_else(|| {
            config.map(|c| c.absolute(&format!("/error?error={code}"))).unwrap_or_default()
        });
        let (status, mut response) = match ReplyMode::of(req) {
            ReplyMode::Html => (self.status, Html::render("error", &self.page).respond_to(req)?),
            ReplyMode::Json => {
                let body = json!({ "error": code, "message": self.page.message, "url": url });
                (self.status, Json(body).respond_to(req)?)
            }
            ReplyMode::ReturnRedirect => {
                let status = if matches!(self.status.code, 401 | 422) { Status::Ok } else { self.status };
                (status, Json(json!({ "url": url })).respond_to(req)?)
            }
            ReplyMode::AuthJsV4 => {
                let (status, url) = match (code, config) {
                    ("CredentialsSignin", Some(config)) => (
                        Status::Unauthorized,
                        config.absolute(&format!(
                            "{}/error?error=CredentialsSignin&provider=credentials",
                            config.base_path
                        )),
                    ),
                    _ => (self.status, url),
                };
                (status, Json(json!({ "url": url })).respond_to(req)?)
            }
        };
        response.set_status(status);
        if let Some(seconds) = self.retry_after {
            response.set_header(Header::new("Retry-After", seconds.to_string()));
        }
        Ok(response)
    }
}

/// A handler's error: logged (internal faults with their cause, which never reaches
/// the client), then answered as its [`Failure`].
impl<'r> Responder<'r, 'static> for Error {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let (method, path) = (req.method(), req.uri().path());
        match &self {
            Error::Unavailable(e) => log::warn!("{method} {path}: no database connection: {e}"),
            Error::Database(e) => log::error!("{method} {path}: database error: {e}"),
            Error::Internal(e) => log::error!("{method} {path}: {e}"),
            _ => {}
        }
        if let Error::ReauthRequired(path) = &self {
            let url =
                req.rocket().state::<AuthConfig>().map(|c| c.absolute(path)).unwrap_or_else(|| path.clone());
            if ReplyMode::of(req).is_html() {
                let message = "For your security, confirm it is you to continue.".to_string();
                return super::Reply::RedirectFlash { url, kind: "info", message }.respond_to(req);
            }
            return Failure::refused(Status::Forbidden, "ReauthRequired", url).respond_to(req);
        }
        Failure::from(&self).respond_to(req)
    }
}
