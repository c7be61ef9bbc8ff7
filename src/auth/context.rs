//! The request context every page and POST handler takes, in one guard: the
//! configuration, the database, the cookie jar, who the client is, and the browser's
//! CSRF token (for a form shown again). With [`super::form::Payload`] (the parsed,
//! CSRF-checked body and the reply mode) and a session guard, a handler needs nothing
//! else, however many things it touches.

use std::sync::Arc;

use rocket::http::CookieJar;
use rocket::request::{self, FromRequest, Request};
use rocket::{Orbit, Rocket};

use super::client::ClientInfo;
use super::csrf::CsrfToken;
use super::password::Hasher;
use crate::config::AuthConfig;
use crate::db::{Conn, Db};
use crate::email::{notices, Kind, Mailer};
use crate::oauth::OAuth;

/// What a handler needs of the app for this request.
pub struct Ctx<'r> {
    pub config: &'r AuthConfig,
    pub db: &'r Db,
    pub jar: &'r CookieJar<'r>,
    pub client: ClientInfo,
    /// The browser's CSRF token (created with its cookie when it has none).
    pub csrf: CsrfToken,
    rocket: &'r Rocket<Orbit>,
}

impl<'r> Ctx<'r> {
    /// The password hashing service (argon2 and zxcvbn off the async workers).
    pub fn hasher(&self) -> &'r Hasher {
        self.rocket.state::<Hasher>().expect("Hasher is managed")
    }

    /// The email channel, when email is on.
    pub fn mailer(&self) -> Option<&'r Mailer> {
        self.rocket.state::<Arc<Mailer>>().map(|m| m.as_ref())
    }

    /// Queues a `kind` notice on `conn` to `to`, a verified address (`None` for an
    /// unverified one: notices never go to an address nobody proved), saying when and
    /// from which device and IP, with what `extra` adds. Nothing when email is off.
    /// Returns whether one was queued: then [`Ctx::wake_mailer`] after the commit.
    pub async fn notify(
        &self,
        conn: &mut Conn,
        to: Option<&str>,
        kind: Kind,
        extra: serde_json::Value,
    ) -> bool {
        let (Some(mailer), Some(to)) = (self.mailer(), to) else { return false };
        let from = notices::Origin { user_agent: &self.client.user_agent, ip: &self.client.ip };
        notices::queue(mailer, self.config, conn, kind, to, from, extra).await;
        true
    }

    /// Tells the outbox worker that mail is waiting (call it after the commit).
    pub fn wake_mailer(&self) {
        if let Some(mailer) = self.mailer() {
            mailer.wake();
        }
    }

    /// The OAuth client (provider calls, Google's discovery document).
    pub fn oauth(&self) -> &'r OAuth {
        self.rocket.state::<OAuth>().expect("OAuth is managed")
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Ctx<'r> {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        let rocket = req.rocket();
        let config = rocket.state::<AuthConfig>().expect("AuthConfig is managed");
        let client = ClientInfo::of(req, config);
        let csrf = CsrfToken::get_or_create(req.cookies(), config);
        request::Outcome::Success(Ctx {
            config,
            db: rocket.state::<Db>().expect("Db is managed"),
            jar: req.cookies(),
            client,
            csrf,
            rocket,
        })
    }
}
