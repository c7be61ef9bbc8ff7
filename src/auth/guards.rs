//! Request guards. The session is loaded at most once per request (cached in the
//! request's local cache), whichever guards ask for it.
//!
//! - [`SignedIn`]: fails with 401. The 401 catcher sends a page request to
//!   `/signin?callbackUrl=<the original path>` and answers JSON routes with 401.
//! - [`MaybeSignedIn`]: never fails for a signed-out visitor, but a database fault is
//!   surfaced (503) instead of pretending the visitor is signed out.

use rocket::http::Status;
use rocket::request::{self, FromRequest, Request};

use super::session::{self, CurrentSession};

async fn cached<'r>(req: &'r Request<'_>) -> &'r Result<Option<CurrentSession>, Status> {
    req.local_cache_async(async {
        session::load(req).await.map_err(|e| {
            let source = std::error::Error::source(&e).map(|s| s.to_string()).unwrap_or_default();
            if e.status() == Status::ServiceUnavailable {
                log::warn!("loading the session failed: {e}: {source}");
            } else {
                log::error!("loading the session failed: {e}: {source}");
            }
            e.status()
        })
    })
    .await
}

/// A signed-in user's session.
pub struct SignedIn<'r>(pub &'r CurrentSession);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SignedIn<'r> {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        match cached(req).await {
            Ok(Some(session)) => request::Outcome::Success(SignedIn(session)),
            Ok(None) => request::Outcome::Error((Status::Unauthorized, ())),
            Err(status) => request::Outcome::Error((*status, ())),
        }
    }
}

/// The session if there is one.
pub struct MaybeSignedIn<'r>(pub Option<&'r CurrentSession>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for MaybeSignedIn<'r> {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        match cached(req).await {
            Ok(session) => request::Outcome::Success(MaybeSignedIn(session.as_ref())),
            Err(status) => request::Outcome::Error((*status, ())),
        }
    }
}
