//! Every answer has its room here, below `auth` and the routes: how the client wants
//! to be answered ([`ReplyMode`]), what a state-changing endpoint answers ([`Reply`]),
//! every failure ([`Failure`], also for [`crate::error::Error`] and the catchers), the
//! error page and the HTML responder ([`ErrorPage`], [`Html`]).
//!
//! A browser form gets `303 See Other`, Auth.js's browser clients get `{"url": …}` (v5
//! sends the header `X-Auth-Return-Redirect: 1`, v4 the body field `json=true`, each
//! with its own statuses), and a JSON client gets JSON errors it can read.

mod failure;
mod page;

pub use failure::Failure;
pub use page::{Download, ErrorPage, Html};

use crate::config::AuthConfig;
use crate::cookies::{self, Name};

use std::sync::atomic::{AtomicBool, Ordering};

use rocket::http::Status;
use rocket::request::{self, FromRequest, Request};
use rocket::response::{self, Redirect, Responder};
use rocket::serde::json::{json, Json};
use rocket::Response;

/// How the client that sent this request wants to be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyMode {
    /// A browser navigating: redirects and HTML pages.
    Html,
    /// A script that sent or asked for JSON (the `LoginForm` of the seeds): redirects
    /// on success, JSON on failure.
    Json,
    /// Auth.js v5's client (`X-Auth-Return-Redirect: 1`): every outcome as
    /// `{"url": …}`, refused credentials with `200` (`…/signin?error=CredentialsSignin`).
    ReturnRedirect,
    /// next-auth v4's client (body field `json=true`): every outcome as `{"url": …}`,
    /// refused credentials with `401` and v4's error URL
    /// (`{base}/error?error=CredentialsSignin&provider=credentials`).
    AuthJsV4,
}

/// Set on a request whose form body carries `json=true` (read by
/// [`crate::auth::form::Payload`]).
struct AuthJsV4Body(AtomicBool);

fn v4_flag<'r>(req: &'r Request<'_>) -> &'r AtomicBool {
    &req.local_cache(|| AuthJsV4Body(AtomicBool::new(false))).0
}

impl ReplyMode {
    pub fn of(req: &Request<'_>) -> Self {
        if matches!(req.headers().get_one("X-Auth-Return-Redirect"), Some("1" | "true")) {
            return ReplyMode::ReturnRedirect;
        }
        if v4_flag(req).load(Ordering::Relaxed) {
            return ReplyMode::AuthJsV4;
        }
        let sent_json = req.content_type().is_some_and(|ct| ct.is_json());
        let wants_json =
            req.accept().is_some_and(|a| a.iter().any(|m| m.is_json()) && !a.iter().any(|m| m.is_html()));
        let api = req
            .rocket()
            .state::<crate::config::AuthConfig>()
            .is_some_and(|c| req.uri().path().as_str().starts_with(&c.base_path));
        // The protocol's GET endpoints answer JSON, unless a browser navigates there
        // (`{base}/signout` is a page).
        let navigating = req.accept().is_some_and(|a| a.iter().any(|m| m.is_html()));
        if sent_json || wants_json || (api && req.method() == rocket::http::Method::Get && !navigating) {
            ReplyMode::Json
        } else {
            ReplyMode::Html
        }
    }

    pub fn is_html(self) -> bool {
        self == ReplyMode::Html
    }

    /// Records that the request's body asked for v4's JSON answers.
    pub(crate) fn mark_authjs_v4(req: &Request<'_>) {
        v4_flag(req).store(true, Ordering::Relaxed);
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ReplyMode {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        request::Outcome::Success(ReplyMode::of(req))
    }
}

/// The answer of a state-changing auth endpoint.
pub enum Reply {
    /// Done: go to this absolute URL (303, or `200 {"url"}` for Auth.js's client).
    Redirect(String),
    /// Done, with a message for the next page (Rocket's flash cookie).
    RedirectFlash { url: String, kind: &'static str, message: String },
    /// A page: a form shown again with its messages, or a result shown once (recovery
    /// codes); browser posts only.
    Page(Status, Html),
    /// What a script gets instead of such a page.
    Json(Status, serde_json::Value),
    /// A failure, for a script: answered as every failure is ([`Failure`]).
    Failed(Failure),
}

impl Reply {
    /// A refused form: the page again, with `status`, for a browser; [`Failure`]
    /// (`code` at `url`) for scripts. `page` is only built for a browser.
    pub fn form_error(
        mode: ReplyMode,
        status: Status,
        code: &'static str,
        url: String,
        page: impl FnOnce() -> Html,
    ) -> Self {
        if mode.is_html() {
            Reply::Page(status, page())
        } else {
            Reply::Failed(Failure::refused(status, code, url))
        }
    }

    /// [`Reply::form_error`] for a page that takes queries to build.
    pub async fn form_error_async<F>(
        mode: ReplyMode,
        status: Status,
        code: &'static str,
        url: String,
        page: impl FnOnce() -> F,
    ) -> Result<Self, crate::error::Error>
    where
        F: std::future::Future<Output = Result<Html, crate::error::Error>>,
    {
        if mode.is_html() {
            Ok(Reply::Page(status, page().await?))
        } else {
            Ok(Reply::Failed(Failure::refused(status, code, url)))
        }
    }

    /// Done: go to `url` with a success message for the next page.
    pub fn done(url: String, message: impl Into<String>) -> Self {
        Reply::RedirectFlash { url, kind: "success", message: message.into() }
    }
}

impl<'r> Responder<'r, 'static> for Reply {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let mode = ReplyMode::of(req);
        match self {
            Reply::Redirect(url) if matches!(mode, ReplyMode::ReturnRedirect | ReplyMode::AuthJsV4) => {
                Json(json!({ "url": url })).respond_to(req)
            }
            Reply::Redirect(url) => Redirect::to(url).respond_to(req).map(see_other),
            Reply::RedirectFlash { url, kind, message } => {
                set_flash(req, kind, &message);
                Reply::Redirect(url).respond_to(req)
            }
            Reply::Page(status, template) => {
                let mut response = template.respond_to(req)?;
                response.set_status(status);
                Ok(response)
            }
            Reply::Json(status, body) => {
                let mut response = Json(body).respond_to(req)?;
                response.set_status(status);
                Ok(response)
            }
            Reply::Failed(failure) => failure.respond_to(req),
        }
    }
}

/// The cookie Rocket's [`rocket::request::FlashMessage`] reads, in its format, but
/// with the app's attributes ([`cookies`]: `SameSite=Lax`): Rocket's own `Flash`
/// cookie is `Strict`, and a browser does not send a `Strict` cookie on a redirect
/// chain that began on another site, so the message of an OAuth return ("GitHub is
/// connected") was lost in real browsers.
fn set_flash(req: &Request<'_>, kind: &str, message: &str) {
    if let Some(config) = req.rocket().state::<AuthConfig>() {
        let value = format!("{}:{kind}{message}", kind.len());
        cookies::set_for(req.cookies(), config, Name::Flash, value, rocket::time::Duration::minutes(5));
    }
}

fn see_other(mut response: Response<'static>) -> Response<'static> {
    response.set_status(Status::SeeOther);
    response
}
