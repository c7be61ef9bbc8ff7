//! A sign-in waiting for its second step. The first step (a password, a provider, an
//! emailed link or code, a reset) of a user with a second factor creates no session:
//! it creates this, a database row for five minutes, bound to the browser by an
//! `HttpOnly` cookie whose token the row keeps only as a hash. The browser holds no
//! session meanwhile (the first step ended any it had), so every guard treats it as
//! signed out; `/signin/two-factor` finishes it. Five wrong codes end it.

use rocket::http::CookieJar;
use rocket::time::Duration;

use crate::config::AuthConfig;
use crate::cookies::{self, Name};
use crate::db::{pending_signins, Conn};
use crate::domain::CallbackUrl;
use crate::primitives::{is_token_shaped, now, random_string, sha256_hex};

/// Seconds from the first step to the second.
pub const PENDING_TTL: i64 = 300;
/// Wrong codes that end a pending sign-in.
pub const MAX_FAILURES: i64 = 5;

const TOKEN_BYTES: usize = 32;
const TOKEN_LEN: usize = 43;

/// A pending sign-in, as the second step reads it.
#[derive(Debug, Clone)]
pub struct Pending {
    token_hash: String,
    pub user_id: String,
    pub email: String,
    pub verified: bool,
    /// The session's method once signed in, and how the security log says it.
    pub method: String,
    pub how: String,
    /// Where the first step was going.
    pub callback: CallbackUrl,
}

/// Records a pending sign-in for `user_id` and gives this browser its cookie.
pub async fn start(
    conn: &mut Conn,
    jar: &CookieJar<'_>,
    config: &AuthConfig,
    user_id: &str,
    (method, how): (&str, &str),
    callback: &CallbackUrl,
) -> Result<(), sqlx::Error> {
    let token = random_string(TOKEN_BYTES);
    let now = now();
    pending_signins::insert(
        conn,
        &pending_signins::NewPending {
            token_hash: &sha256_hex(&token),
            user_id,
            method,
            how,
            callback_url: callback.as_str(),
            now,
            expires_at: now + PENDING_TTL,
        },
    )
    .await?;
    cookies::set_for(jar, config, Name::PendingSignIn, token, Duration::seconds(PENDING_TTL));
    Ok(())
}

/// The pending sign-in this browser's cookie names, if it is live. A malformed,
/// unknown or expired one clears the cookie.
pub async fn current(
    conn: &mut Conn,
    jar: &CookieJar<'_>,
    config: &AuthConfig,
) -> Result<Option<Pending>, sqlx::Error> {
    let Some(token) = cookies::get(jar, config, Name::PendingSignIn) else { return Ok(None) };
    if !is_token_shaped(&token, TOKEN_LEN) {
        clear(jar, config);
        return Ok(None);
    }
    let token_hash = sha256_hex(&token);
    let row = pending_signins::find(conn, &token_hash).await?;
    let Some(row) = row.filter(|r| r.expires_at > now() && r.failures < MAX_FAILURES) else {
        clear(jar, config);
        return Ok(None);
    };
    Ok(Some(Pending {
        token_hash,
        user_id: row.user_id,
        email: row.user_email,
        verified: row.user_email_verified != 0,
        method: row.method,
        how: row.how,
        callback: CallbackUrl::parse(Some(&row.callback_url), &config.origin),
    }))
}

/// Counts a wrong code. Returns whether that ended the pending sign-in (the
/// [`MAX_FAILURES`]th), in which case the row and the cookie are gone.
pub async fn fail(
    conn: &mut Conn,
    jar: &CookieJar<'_>,
    config: &AuthConfig,
    p: &Pending,
) -> Result<bool, sqlx::Error> {
    let failures = pending_signins::count_failure(conn, &p.token_hash).await?;
    if failures == 0 || failures >= MAX_FAILURES {
        pending_signins::take(conn, &p.token_hash).await?;
        clear(jar, config);
        return Ok(true);
    }
    Ok(false)
}

/// Takes the pending sign-in (its second step is done): false when another request
/// took it first.
pub async fn take(
    conn: &mut Conn,
    jar: &CookieJar<'_>,
    config: &AuthConfig,
    p: &Pending,
) -> Result<bool, sqlx::Error> {
    let taken = pending_signins::take(conn, &p.token_hash).await?;
    clear(jar, config);
    Ok(taken)
}

pub fn clear(jar: &CookieJar<'_>, config: &AuthConfig) {
    if jar.get(Name::PendingSignIn.as_str(config)).is_some() {
        cookies::remove(jar, config, Name::PendingSignIn);
    }
}
