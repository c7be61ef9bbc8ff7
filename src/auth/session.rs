//! Server-side sessions: created by every successful sign-in, loaded from the cookie,
//! extended as the user stays active, ended by sign-out or revocation.
//!
//! The token has Lucia's `id.secret` shape: `id` (16 random bytes) is the public,
//! indexed session id shown on the sessions page; `secret` (32 random bytes) is checked
//! against its SHA-256 in constant time. The database never holds a working token.

use rocket::http::CookieJar;
use rocket::request::Request;
use rocket::time::OffsetDateTime;

use super::client::ClientInfo;
use super::csrf::CsrfToken;
use crate::config::AuthConfig;
use crate::cookies::{self, Name};
use crate::db::users::User;
use crate::db::{sessions, Conn, Db};
use crate::domain::PublicSessionId;
use crate::error::Error;
use crate::primitives::{constant_time_eq, is_token_shaped, non_empty, now, random_string, sha256_hex};

/// Seconds between two writes of a session's last-active time. Inside this interval
/// (and the `updateAge` window) a request writes nothing.
pub const ACTIVITY_INTERVAL: i64 = 300;

const SECRET_BYTES: usize = 32;
const SECRET_LEN: usize = 43;

/// The sign-in method of a session signed in with a password.
pub const PASSWORD_METHOD: &str = "password";

/// The signed-in user's session, loaded once per request.
#[derive(Debug, Clone)]
pub struct CurrentSession {
    /// The public session id.
    pub id: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub last_active_at: i64,
    /// When it last proved its user (the sign-in, or `/reauth`): sudo mode.
    pub authenticated_at: i64,
    /// How it was signed in: `password` or a provider's id.
    pub method: String,
    pub user: User,
}

/// Splits a cookie value into `(id, secret)` if it has the token's exact shape.
fn split_token(raw: &str) -> Option<(&str, &str)> {
    let (id, secret) = raw.split_once('.')?;
    (PublicSessionId::parse(id).is_some() && is_token_shaped(secret, SECRET_LEN)).then_some((id, secret))
}

fn token_from_jar(jar: &CookieJar<'_>, config: &AuthConfig) -> Option<String> {
    jar.get(Name::Session.as_str(config)).map(|c| c.value().to_string())
}

fn set_cookie(jar: &CookieJar<'_>, config: &AuthConfig, token: String, expires_at: i64) {
    let mut cookie = cookies::build(config, Name::Session, token);
    if let Ok(expires) = OffsetDateTime::from_unix_timestamp(expires_at) {
        cookie.set_expires(expires);
    }
    jar.add(cookie);
}

/// Removes the session cookie (its row is already gone, or was never valid).
pub fn clear_cookie(jar: &CookieJar<'_>, config: &AuthConfig) {
    cookies::remove(jar, config, Name::Session);
}

/// The browser is signed out (its session was revoked or ended here): the session
/// cookie goes and the CSRF token is renewed, so no token read before works after.
pub fn signed_out(jar: &CookieJar<'_>, config: &AuthConfig) {
    clear_cookie(jar, config);
    CsrfToken::renew(jar, config);
}

/// When a session signed in at `created_at` would expire if extended `now`.
fn extended_expiry(config: &AuthConfig, created_at: i64, now: i64) -> i64 {
    (now + config.session.max_age).min(created_at + config.session.absolute_max_age)
}

/// Loads the session named by the request's cookie. Refuses (and clears the cookie of)
/// a malformed, unknown, forged or expired token. Writes only when the expiry is due
/// for extension (`updateAge` elapsed) or last-active is [`ACTIVITY_INTERVAL`] old.
pub async fn load(req: &Request<'_>) -> Result<Option<CurrentSession>, Error> {
    let config = req.rocket().state::<AuthConfig>().expect("AuthConfig is managed");
    let jar = req.cookies();
    let Some(cookie) = token_from_jar(jar, config) else {
        return Ok(None);
    };
    let Some((id, secret)) = split_token(&cookie) else {
        clear_cookie(jar, config);
        return Ok(None);
    };
    let db = req.rocket().state::<Db>().expect("Db is managed");
    let mut conn = db.conn().await?;
    let Some(row) = sessions::find_with_user(&mut conn, id).await? else {
        clear_cookie(jar, config);
        return Ok(None);
    };
    let now = now();
    let hard_limit = row.expires_at.min(row.created_at + config.session.absolute_max_age);
    if !constant_time_eq(&sha256_hex(secret), &row.secret_hash) || now >= hard_limit {
        clear_cookie(jar, config);
        return Ok(None);
    }

    let mut session = CurrentSession {
        id: row.id,
        created_at: row.created_at,
        expires_at: row.expires_at,
        last_active_at: row.last_active_at,
        authenticated_at: row.authenticated_at,
        method: row.method,
        user: User {
            id: row.user_id,
            name: non_empty(row.user_name),
            email: row.user_email,
            image: non_empty(row.user_image),
            email_verified: crate::db::users::verified_at(row.user_email_verified),
        },
    };
    // Auth.js's rule: extend once updateAge has passed since the expiry was last set.
    // Near the absolute limit the new expiry is the cap itself; once it is stored,
    // there is nothing left to change and nothing is written.
    let new_expiry = extended_expiry(config, session.created_at, now);
    let extend = now >= session.expires_at - config.session.max_age + config.session.update_age
        && new_expiry != session.expires_at;
    let touch = now - session.last_active_at >= ACTIVITY_INTERVAL;
    if extend || touch {
        let expires_at = if extend { new_expiry } else { session.expires_at };
        sessions::update_activity(&mut conn, &session.id, expires_at, now).await?;
        if extend {
            set_cookie(jar, config, cookie.clone(), expires_at);
        }
        session.expires_at = expires_at;
        session.last_active_at = now;
    }
    Ok(Some(session))
}

/// Starts a new session for `user_id` after a successful sign-in with `method`
/// (`password` or a provider's id): a new row and a new token, always, and a new CSRF
/// token. A session the browser already had is ended first (one browser, one live
/// session), and its token is never reused (no session fixation).
pub async fn start(
    conn: &mut Conn,
    jar: &CookieJar<'_>,
    config: &AuthConfig,
    user_id: &str,
    method: &str,
    client: &ClientInfo,
) -> Result<(), Error> {
    end_current(conn, jar, config).await?;
    let id = PublicSessionId::random();
    let id = id.as_str();
    let secret = random_string(SECRET_BYTES);
    let now = now();
    let expires_at = extended_expiry(config, now, now);
    sessions::insert(
        conn,
        &sessions::NewSession {
            id,
            secret_hash: &sha256_hex(&secret),
            user_id,
            now,
            expires_at,
            user_agent: &client.user_agent,
            ip: &client.ip,
            method,
        },
    )
    .await?;
    set_cookie(jar, config, format!("{id}.{secret}"), expires_at);
    CsrfToken::renew(jar, config);
    Ok(())
}

/// Ends the session the browser holds, if it proves it (sign-out), clears the cookie
/// and renews the CSRF token. Returns whether a session was ended.
pub async fn end_current(conn: &mut Conn, jar: &CookieJar<'_>, config: &AuthConfig) -> Result<bool, Error> {
    let Some(cookie) = token_from_jar(jar, config) else {
        return Ok(false);
    };
    let ended = match split_token(&cookie) {
        Some((id, secret)) => sessions::delete_by_token(conn, id, &sha256_hex(secret)).await?,
        None => false,
    };
    signed_out(jar, config);
    Ok(ended)
}
