//! The body of every state-changing POST, read from a form-encoded or a JSON body alike
//! (Auth.js's field names), size-limited, and CSRF-checked before the handler runs: a
//! handler that takes a [`Payload`] cannot forget the CSRF check, nor the `Origin`
//! check before it. The `csrfToken` field is read here, beside the handler's own
//! fields, so a form type lists only what its handler uses.

use rocket::data::{self, Data, FromData, ToByteUnit};
use rocket::http::Status;
use rocket::request::Request;
use serde::de::DeserializeOwned;

use super::csrf::CsrfToken;
use crate::config::AuthConfig;
use crate::reply::ReplyMode;

/// A body: Auth.js's `csrfToken` beside the handler's fields.
#[derive(serde::Deserialize)]
struct WithToken<T> {
    #[serde(rename = "csrfToken")]
    csrf_token: Option<String>,
    #[serde(flatten)]
    fields: T,
}

/// A parsed, CSRF-checked request body, and how the client wants to be answered
/// ([`ReplyMode`], known only once the body is read: next-auth v4's client asks for
/// JSON with the body field `json=true`). Fails with 413 (too large), 400
/// (unreadable) or 403 (CSRF, another `Origin`); the catchers answer those in the
/// client's format.
pub struct Payload<T>(pub T, pub ReplyMode);

#[rocket::async_trait]
impl<'r, T: DeserializeOwned + Send + 'static> FromData<'r> for Payload<T> {
    type Error = String;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        let config = req.rocket().state::<AuthConfig>().expect("AuthConfig is managed");
        // A second layer behind the token: a browser names the page's origin on every
        // POST, and one from another site (or an opaque `null` origin) is refused even
        // with a valid token. Requests without `Origin` (older clients, scripts) rely
        // on the token alone.
        if let Some(origin) = req.headers().get_one("Origin") {
            if origin != config.origin.origin().ascii_serialization() {
                return data::Outcome::Error((Status::Forbidden, "cross-origin request".into()));
            }
        }
        let json = req.content_type().is_some_and(|ct| ct.is_json());
        let limit_name = if json { "json" } else { "form" };
        let limit = req.limits().get(limit_name).unwrap_or_else(|| 16.kibibytes());
        let body = match data.open(limit).into_string().await {
            Ok(body) if body.is_complete() => body.into_inner(),
            Ok(_) => return data::Outcome::Error((Status::PayloadTooLarge, "body too large".into())),
            Err(_) => return data::Outcome::Error((Status::BadRequest, "unreadable body".into())),
        };
        if !json && url::form_urlencoded::parse(body.as_bytes()).any(|(k, v)| k == "json" && v == "true") {
            ReplyMode::mark_authjs_v4(req);
        }
        let parsed = if json {
            serde_json::from_str::<WithToken<T>>(&body).map_err(|e| e.to_string())
        } else {
            serde_urlencoded::from_str::<WithToken<T>>(&body).map_err(|e| e.to_string())
        };
        let value = match parsed {
            Ok(value) => value,
            // The message names the field, never its value.
            Err(e) => return data::Outcome::Error((Status::BadRequest, e)),
        };
        if CsrfToken::verify(req.cookies(), config, value.csrf_token.as_deref()) {
            data::Outcome::Success(Payload(value.fields, ReplyMode::of(req)))
        } else {
            data::Outcome::Error((Status::Forbidden, "CSRF token missing or invalid".into()))
        }
    }
}

/// A body with nothing but the CSRF token and where to go next (sign-out, revoke).
#[derive(serde::Deserialize)]
pub struct CallbackForm {
    #[serde(rename = "callbackUrl")]
    pub callback_url: Option<String>,
}
