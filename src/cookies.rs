//! Every cookie the app sets, named and built in one place. All are `HttpOnly`,
//! `SameSite=Lax` (set explicitly: Rocket's default is `Strict`, which a browser does
//! not send on a redirect chain that began at an OAuth provider), `Path=/`, and
//! `Secure` when `AUTH_URL` is https, where the names carry Auth.js's prefixes.

use rocket::http::{Cookie, CookieJar, SameSite};
use rocket::time::Duration;

use crate::config::AuthConfig;

/// The app's cookies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Name {
    /// `authjs.session-token`: the session token. `__Secure-` on https, as Auth.js
    /// names it (not `__Host-`, for compatibility with Auth.js's clients and cookies).
    Session,
    /// `authjs.csrf-token`: the signed CSRF token. `__Host-` on https (no `Domain`), so
    /// a sibling subdomain cannot plant a token of its choosing.
    Csrf,
    /// `authjs.oauth-flow`: binds an OAuth flow to the browser that started it.
    /// `__Host-` on https.
    OAuthFlow,
    /// `authjs.pending-signin`: a sign-in waiting for its second factor. `__Host-` on
    /// https.
    PendingSignIn,
    /// `_flash`: a message for the next page, in the format Rocket's `FlashMessage`
    /// reads.
    Flash,
}

impl Name {
    pub fn as_str(self, config: &AuthConfig) -> &'static str {
        match (self, config.secure) {
            (Name::Session, true) => "__Secure-authjs.session-token",
            (Name::Session, false) => "authjs.session-token",
            (Name::Csrf, true) => "__Host-authjs.csrf-token",
            (Name::Csrf, false) => "authjs.csrf-token",
            (Name::OAuthFlow, true) => "__Host-authjs.oauth-flow",
            (Name::OAuthFlow, false) => "authjs.oauth-flow",
            (Name::PendingSignIn, true) => "__Host-authjs.pending-signin",
            (Name::PendingSignIn, false) => "authjs.pending-signin",
            (Name::Flash, _) => "_flash",
        }
    }
}

/// The cookie `name` with `value` and the app's attributes; the caller sets a
/// lifetime (`set_expires` or `set_max_age`) where it has one.
pub fn build(config: &AuthConfig, name: Name, value: String) -> Cookie<'static> {
    Cookie::build((name.as_str(config), value))
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/")
        .secure(config.secure)
        .build()
}

/// Sets `name` for `max_age`.
pub fn set_for(jar: &CookieJar<'_>, config: &AuthConfig, name: Name, value: String, max_age: Duration) {
    let mut cookie = build(config, name, value);
    cookie.set_max_age(max_age);
    jar.add(cookie);
}

/// The value of `name` in the request (or as this response already set it).
pub fn get(jar: &CookieJar<'_>, config: &AuthConfig, name: Name) -> Option<String> {
    jar.get_pending(name.as_str(config)).map(|c| c.value().to_string())
}

/// Removes `name` (with the attributes it was set with, so the browser drops it).
pub fn remove(jar: &CookieJar<'_>, config: &AuthConfig, name: Name) {
    jar.remove(build(config, name, String::new()));
}
