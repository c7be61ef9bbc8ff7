//! The one error type. Each variant says the status it answers with; the same error
//! answers an HTML page to a browser and JSON to a script. Internal faults log their
//! source and show a generic message: nothing internal reaches the client.

use crate::views::Html;
use rocket::http::{Header, Status};
use rocket::request::Request;
use rocket::response::{self, Responder};
use rocket::serde::json::{json, Json};

use crate::auth::reply::ReplyMode;
use crate::views::ErrorPage;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 403 `MissingCSRF`: the form's token is missing or does not match the cookie.
    #[error("missing or invalid CSRF token")]
    Csrf,
    /// 401 `SessionRequired`.
    #[error("sign-in required")]
    SessionRequired,
    /// 404.
    #[error("not found")]
    NotFound,
    /// 429 `TooManyAttempts` with `Retry-After`: a throttle limit is used up.
    #[error("too many attempts; retry after {retry_after} s")]
    TooManyAttempts { retry_after: i64 },
    /// 503 with `Retry-After`: every password-hashing slot is taken and the wait ran out.
    #[error("too many password checks in progress")]
    Busy,
    /// 503 with `Retry-After`: no connection to the database could be had. Whatever
    /// went wrong while acquiring or opening a connection (the pool timed out or is
    /// closed, the server refused the connection, is starting up or shutting down, does
    /// not accept connections to this database, refused the credentials) is an outage,
    /// never a fault of the request: the place of the failure decides, not its code.
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// A query failed on a connection the request already held: 503 with `Retry-After`
    /// when the error says the database went away or is overloaded ([`is_outage`]),
    /// 500 for any other fault.
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// 500.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn status(&self) -> Status {
        match self {
            Error::Csrf => Status::Forbidden,
            Error::SessionRequired => Status::Unauthorized,
            Error::NotFound => Status::NotFound,
            Error::TooManyAttempts { .. } => Status::TooManyRequests,
            Error::Busy | Error::Unavailable(_) => Status::ServiceUnavailable,
            Error::Database(e) if is_outage(e) => Status::ServiceUnavailable,
            Error::Database(_) | Error::Internal(_) => Status::InternalServerError,
        }
    }
}

impl<'r> Responder<'r, 'static> for Error {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let status = self.status();
        match &self {
            Error::Unavailable(e) => {
                log::warn!("{} {}: no database connection: {e}", req.method(), req.uri().path())
            }
            Error::Database(e) => log::error!("{} {}: database error: {e}", req.method(), req.uri().path()),
            Error::Internal(e) => log::error!("{} {}: {e}", req.method(), req.uri().path()),
            _ => {}
        }
        let mut page = ErrorPage::for_status(status);
        let retry_after = match self {
            Error::TooManyAttempts { retry_after } => {
                page.detail = Some(format!("Try again in {}.", wait_in_words(retry_after)));
                Some(retry_after)
            }
            _ if status == Status::ServiceUnavailable => Some(5),
            _ => None,
        };
        let mut response = page_response(page, status, req)?;
        if let Some(seconds) = retry_after {
            response.set_header(Header::new("Retry-After", seconds.to_string()));
        }
        Ok(response)
    }
}

/// Whether an error that arrived in the middle of a query means the database went away
/// or is overloaded (503) rather than a fault in the query (500): the connection broke
/// (I/O, TLS, protocol), the pool is gone, or the server said so. PostgreSQL: class
/// `08` (connection exception), `57P0x` (admin or crash shutdown, cannot connect now),
/// `53xxx` (insufficient resources, `53300` too many connections), `3D000` (the
/// database was dropped or renamed). SQLite: busy and locked, with their extended
/// codes.
pub fn is_outage(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => {
            let code = db.code();
            let code = code.as_deref().unwrap_or("");
            matches!(code, "5" | "6" | "261" | "262" | "517" | "773" | "3D000")
                || code.starts_with("08")
                || code.starts_with("57P")
                || code.starts_with("53")
        }
        _ => false,
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

/// The error page, or its JSON twin, for a status: used by [`Error`] and the catchers.
pub fn error_response(status: Status, req: &Request<'_>) -> response::Result<'static> {
    page_response(ErrorPage::for_status(status), status, req)
}

fn page_response(page: ErrorPage, status: Status, req: &Request<'_>) -> response::Result<'static> {
    let mut response = if ReplyMode::of(req).is_html() {
        Html::render("error", &page).respond_to(req)?
    } else {
        let url = req
            .rocket()
            .state::<crate::config::AuthConfig>()
            .map(|c| c.absolute(&format!("/error?error={}", page.code)))
            .unwrap_or_default();
        Json(json!({ "error": page.code, "message": page.message, "url": url })).respond_to(req)?
    };
    response.set_status(status);
    Ok(response)
}
