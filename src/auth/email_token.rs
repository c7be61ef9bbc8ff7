//! What a link or a code sent by email proves: at least 32 random bytes (base64url) in
//! a link, a 6-digit code where a person types it. Stored only as hashes (the link's
//! token as SHA-256, the code as an HMAC under `AUTH_SECRET` bound to the address, since
//! a million codes are no secret from their plain SHA-256); single use (consumed by
//! one statement); bound to their purpose and to the address they were sent to; dead
//! after their lifetime, when another of their kind is used, or when the password or
//! email changes. A code allows [`CODE_TRIES`] tries, then dies, whatever the sign-in
//! throttle allows. Nothing here consumes a token on a GET.

use rand::Rng;

use crate::config::AuthConfig;
use crate::db::email_tokens::{self, NewToken, TokenRow};
use crate::db::Conn;
use crate::domain::Email;
use crate::error::Error;
use crate::primitives::{constant_time_eq, hmac_hex, is_token_shaped, random_string, sha256_hex};

/// Random bytes in a link's token.
const TOKEN_BYTES: usize = 32;
const TOKEN_LEN: usize = 43;
/// Tries a code allows.
pub const CODE_TRIES: i64 = 5;

/// What a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Sign in (Auth.js's Email provider): 15 minutes, with a code.
    SignIn,
    /// Choose a new password: 1 hour.
    Reset,
    /// Confirm the address given at sign-up: 24 hours.
    Verify,
    /// Confirm a new address: 24 hours.
    EmailChange,
}

impl Purpose {
    pub fn name(self) -> &'static str {
        match self {
            Purpose::SignIn => "signin",
            Purpose::Reset => "reset",
            Purpose::Verify => "verify",
            Purpose::EmailChange => "email_change",
        }
    }

    /// Seconds it lives.
    pub fn lifetime(self) -> i64 {
        match self {
            Purpose::SignIn => 15 * 60,
            Purpose::Reset => 3600,
            Purpose::Verify | Purpose::EmailChange => 24 * 3600,
        }
    }
}

/// A token made for sending: the link's token and the code in the clear (for the
/// message), the row with only their hashes.
pub struct Issued {
    pub token: String,
    pub code: Option<String>,
    token_hash: String,
    code_hash: String,
    purpose: Purpose,
    email: String,
    user_id: String,
    callback_url: String,
    now: i64,
}

fn code_mac(secret: &crate::config::Secret, email: &str, code: &str) -> String {
    hmac_hex(secret.expose(), "email-code", &format!("{email}\0{code}"))
}

/// Makes a token (and a code, for a sign-in) for `email`, for `user_id` when the
/// address has an account.
pub fn issue(
    config: &AuthConfig,
    purpose: Purpose,
    email: &Email,
    user_id: Option<&str>,
    callback_url: &str,
    now: i64,
) -> Issued {
    let token = random_string(TOKEN_BYTES);
    let code =
        (purpose == Purpose::SignIn).then(|| format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000)));
    let code_hash = code.as_deref().map(|c| code_mac(&config.secret, email.as_str(), c)).unwrap_or_default();
    Issued {
        token_hash: sha256_hex(&token),
        token,
        code,
        code_hash,
        purpose,
        email: email.as_str().to_string(),
        user_id: user_id.unwrap_or_default().to_string(),
        callback_url: callback_url.to_string(),
        now,
    }
}

impl Issued {
    fn row(&self) -> NewToken<'_> {
        NewToken {
            token_hash: &self.token_hash,
            code_hash: &self.code_hash,
            purpose: self.purpose.name(),
            email: &self.email,
            user_id: &self.user_id,
            callback_url: &self.callback_url,
            now: self.now,
            expires_at: self.now + self.purpose.lifetime(),
        }
    }

    /// Stores it.
    pub async fn store(&self, conn: &mut Conn) -> Result<(), Error> {
        Ok(email_tokens::insert(conn, &self.row()).await?)
    }

    /// Stores it only when the address has an account, with the same work either way.
    pub async fn store_for_account(&self, conn: &mut Conn) -> Result<bool, Error> {
        Ok(email_tokens::insert_for_account(conn, &self.row()).await?)
    }
}

/// A link's token, if it has the shape of one (checked before it gets near SQL).
fn shaped(token: &str) -> Option<&str> {
    is_token_shaped(token, TOKEN_LEN).then_some(token)
}

/// The live token a link carries, without consuming it: what the page the link opens
/// checks (a mail scanner opening it changes nothing).
pub async fn peek(
    conn: &mut Conn,
    purpose: Purpose,
    token: &str,
    now: i64,
) -> Result<Option<TokenRow>, Error> {
    let Some(token) = shaped(token) else { return Ok(None) };
    let row = email_tokens::find(conn, &sha256_hex(token), purpose.name()).await?;
    Ok(row.filter(|r| r.expires_at > now))
}

/// Consumes the token a link carries: `None` when it is malformed, unknown, used,
/// expired, or (with `email`) for another address. Every other token of its kind sent
/// to that address dies with it.
pub async fn take(
    conn: &mut Conn,
    purpose: Purpose,
    token: &str,
    email: Option<&str>,
    now: i64,
) -> Result<Option<TokenRow>, Error> {
    let Some(token) = shaped(token) else { return Ok(None) };
    let Some(row) = email_tokens::take(conn, &sha256_hex(token), purpose.name()).await? else {
        return Ok(None);
    };
    if row.expires_at <= now || email.is_some_and(|e| e != row.email) {
        return Ok(None);
    }
    email_tokens::delete_for_email(conn, purpose.name(), &row.email).await?;
    Ok(Some(row))
}

/// Consumes the live sign-in code sent to `email` that matches `code`. Every try
/// counts against every live code of the address (malformed ones too); a code tried
/// [`CODE_TRIES`] times dies, right or wrong.
pub async fn take_code(
    conn: &mut Conn,
    config: &AuthConfig,
    email: &Email,
    code: &str,
    now: i64,
) -> Result<Option<TokenRow>, Error> {
    let purpose = Purpose::SignIn.name();
    let tried = email_tokens::count_code_try(conn, purpose, email.as_str(), now).await?;
    let well_formed = code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit());
    let mut found = None;
    for row in tried {
        let matches = well_formed
            && config.secrets().any(|s| constant_time_eq(&row.code_hash, &code_mac(s, email.as_str(), code)));
        if matches && row.attempts <= CODE_TRIES && found.is_none() {
            found = Some(row);
        } else if row.attempts >= CODE_TRIES {
            email_tokens::delete(conn, &row.token_hash).await?;
        }
    }
    let Some(row) = found else { return Ok(None) };
    // Single use: of two requests with the right code, one gets the row.
    let Some(row) = email_tokens::take(conn, &row.token_hash, purpose).await? else { return Ok(None) };
    email_tokens::delete_for_email(conn, purpose, &row.email).await?;
    Ok(Some(row))
}

/// Every token of the user dies: the password or the email changed.
pub async fn revoke_for_user(conn: &mut Conn, user_id: &str, email: &str) -> Result<(), Error> {
    email_tokens::delete_for_user(conn, user_id, email).await?;
    Ok(())
}
