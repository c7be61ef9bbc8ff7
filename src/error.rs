//! The one error type. Each variant says the status it answers with; its answer, an
//! HTML page to a browser and JSON to a script, is built in [`crate::reply`], which
//! also logs internal faults with their source: nothing internal reaches the client.
//! This module depends on nothing of the crate.

use rocket::http::Status;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 404.
    #[error("not found")]
    NotFound,
    /// 400 `Verification` (Auth.js's code): a link or code sent by email that is
    /// malformed, unknown, used, replaced or expired. Nothing was changed.
    #[error("the link or code is not valid")]
    Verification,
    /// 409: the request cannot be done as things stand; the sentence says why.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// Sudo mode: the action needs a recent authentication. A browser is sent (303) to
    /// the path held here, `/reauth?callbackUrl=…`; a script gets 403
    /// `ReauthRequired` with that URL.
    #[error("a recent authentication is required")]
    ReauthRequired(String),
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
            Error::NotFound => Status::NotFound,
            Error::Verification => Status::BadRequest,
            Error::Conflict(_) => Status::Conflict,
            Error::ReauthRequired(_) => Status::Forbidden,
            Error::TooManyAttempts { .. } => Status::TooManyRequests,
            Error::Busy | Error::Unavailable(_) => Status::ServiceUnavailable,
            Error::Database(e) if is_outage(e) => Status::ServiceUnavailable,
            Error::Database(_) | Error::Internal(_) => Status::InternalServerError,
        }
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
