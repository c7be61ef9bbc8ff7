//! Catchers: every status a guard or Rocket itself produces is answered in the client's
//! format, a page for browsers and JSON for scripts.

use rocket::http::Status;
use rocket::request::Request;
use rocket::response::Redirect;
use rocket::{catch, catchers, Catcher, Either};

use crate::config::AuthConfig;
use crate::domain::CallbackUrl;
use crate::reply::{Failure, ReplyMode};

pub fn catchers() -> Vec<Catcher> {
    catchers![unauthorized, default]
}

/// A page that needs a signed-in user: 303 to `/signin?callbackUrl=<the original path>`.
/// JSON routes (and scripts) get 401.
#[catch(401)]
fn unauthorized(req: &Request<'_>) -> Either<Redirect, Failure> {
    if ReplyMode::of(req).is_html() && req.method() == rocket::http::Method::Get {
        // Through CallbackUrl like every other callbackUrl the app writes: a request
        // path such as `//evil.example` must not come back as one.
        let original = match req.rocket().state::<AuthConfig>() {
            Some(config) => CallbackUrl::parse(Some(&req.uri().to_string()), &config.origin).relative(),
            None => "/".to_string(),
        };
        let mut url = String::from("/signin?");
        url.push_str(
            &url::form_urlencoded::Serializer::new(String::new())
                .append_pair("callbackUrl", &original)
                .finish(),
        );
        Either::Left(Redirect::to(url))
    } else {
        Either::Right(Failure::status(Status::Unauthorized))
    }
}

#[catch(default)]
fn default(status: Status, _req: &Request<'_>) -> Failure {
    Failure::status(status)
}
