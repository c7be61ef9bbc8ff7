//! CSRF protection by signed double submit, as Auth.js does it: the cookie holds
//! `token|HMAC(AUTH_SECRET, token)`, the form (or JSON body) carries `token`. A POST is
//! accepted only when both are present, the MAC verifies and the two tokens match.
//! Nothing is stored server-side, so every instance behind a load balancer agrees, and
//! the sign-in form is covered too (login CSRF).

use rocket::http::CookieJar;
use rocket::request::{self, FromRequest, Request};

use crate::config::AuthConfig;
use crate::cookies::{self, Name};
use crate::primitives::{constant_time_eq, hmac_hex, is_token_shaped, random_string};

const TOKEN_BYTES: usize = 32;
const TOKEN_LEN: usize = 43;
const PURPOSE: &str = "csrf-token";

/// The browser's CSRF token, created (and its cookie set) on first use.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

impl CsrfToken {
    /// The token of a valid cookie, if the request carries one (or this response
    /// already set a new one).
    fn from_cookie(jar: &CookieJar<'_>, config: &AuthConfig) -> Option<String> {
        let cookie = cookies::get(jar, config, Name::Csrf)?;
        let (token, mac) = cookie.split_once('|')?;
        // Signed by the newest secret, or by an older one being rotated out.
        let signed = config.secrets().any(|s| constant_time_eq(mac, &hmac_hex(s.expose(), PURPOSE, token)));
        (is_token_shaped(token, TOKEN_LEN) && signed).then(|| token.to_string())
    }

    /// The request's token, or a new one with its cookie.
    pub fn get_or_create(jar: &CookieJar<'_>, config: &AuthConfig) -> Self {
        if let Some(token) = Self::from_cookie(jar, config) {
            return CsrfToken(token);
        }
        Self::renew(jar, config)
    }

    /// A new token and its cookie, replacing the browser's: done when the browser signs
    /// in, signs out or changes its password, so a token read before (on a shared
    /// computer, by whoever used it last) is refused after.
    pub fn renew(jar: &CookieJar<'_>, config: &AuthConfig) -> Self {
        let token = random_string(TOKEN_BYTES);
        let value = format!("{token}|{}", hmac_hex(config.secret.expose(), PURPOSE, &token));
        jar.add(cookies::build(config, Name::Csrf, value));
        CsrfToken(token)
    }

    /// Whether a submitted token matches the cookie's (in constant time).
    pub fn verify(jar: &CookieJar<'_>, config: &AuthConfig, submitted: Option<&str>) -> bool {
        matches!(
            (Self::from_cookie(jar, config), submitted),
            (Some(cookie), Some(form)) if constant_time_eq(&cookie, form)
        )
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CsrfToken {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        let config = req.rocket().state::<AuthConfig>().expect("AuthConfig is managed");
        request::Outcome::Success(CsrfToken::get_or_create(req.cookies(), config))
    }
}
