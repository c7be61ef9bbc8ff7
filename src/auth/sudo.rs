//! Sudo mode: actions that could take an account over, or out, need a recent proof of
//! who is at the keyboard, not only a session (which may have been left open, or
//! stolen). A sign-in counts as one, and so does `/reauth` (the password, a TOTP code,
//! or a new sign-in); either is recorded on the session (`authenticated_at`) and lasts
//! `AUTH_REAUTH_MAX_AGE` seconds (900).
//!
//! What needs it: changing the email, adding or removing a second factor, new recovery
//! codes, connecting or disconnecting a provider, setting a first password, deleting
//! the account, exporting its data. Changing a password asks for the current one
//! instead; revoking sessions needs nothing more (it is defensive).

use super::session::CurrentSession;
use crate::config::AuthConfig;
use crate::error::Error;
use crate::primitives::now;

/// Whether the session proved its user recently enough for a sudo action.
pub fn fresh(config: &AuthConfig, session: &CurrentSession) -> bool {
    now() - session.authenticated_at <= config.reauth_max_age
}

/// Refuses a sudo action of a session that did not prove its user recently: a browser
/// is sent to `/reauth`, then back to `page` (the page the action is on; a POST is not
/// replayed, the user submits again); a script gets `403 ReauthRequired` with that URL.
pub fn require(config: &AuthConfig, session: &CurrentSession, page: &str) -> Result<(), Error> {
    if fresh(config, session) {
        return Ok(());
    }
    Err(Error::ReauthRequired(reauth_path(page)))
}

/// `/reauth?callbackUrl=<page>`.
pub fn reauth_path(page: &str) -> String {
    let page: String = url::form_urlencoded::byte_serialize(page.as_bytes()).collect();
    format!("/reauth?callbackUrl={page}")
}
