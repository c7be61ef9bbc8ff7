//! Catchers: every status a guard or Rocket itself produces is answered in the client's
//! format, a page for browsers and JSON for scripts.

use rocket::http::{Header, Status};
use rocket::request::Request;
use rocket::response::{self, Redirect, Responder};
use rocket::{catch, catchers, Catcher};

use crate::auth::reply::ReplyMode;
use crate::config::AuthConfig;
use crate::domain::CallbackUrl;
use crate::error::error_response;

pub fn catchers() -> Vec<Catcher> {
    catchers![unauthorized, default]
}

/// The answer of a catcher.
pub struct Caught(Status);

impl<'r> Responder<'r, 'static> for Caught {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let mut response = error_response(self.0, req)?;
        if self.0 == Status::ServiceUnavailable {
            response.set_header(Header::new("Retry-After", "5"));
        }
        Ok(response)
    }
}

/// A page that needs a signed-in user: 303 to `/signin?callbackUrl=<the original path>`.
/// JSON routes (and scripts) get 401.
#[catch(401)]
fn unauthorized(req: &Request<'_>) -> Result<Redirect, Caught> {
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
        Ok(Redirect::to(url))
    } else {
        Err(Caught(Status::Unauthorized))
    }
}

#[catch(default)]
fn default(status: Status, _req: &Request<'_>) -> Caught {
    Caught(status)
}
