//! The `email_tokens` table: what links and codes sent by email prove.

use sqlx::FromRow;

use super::Conn;

/// A token to store.
pub struct NewToken<'a> {
    pub token_hash: &'a str,
    pub code_hash: &'a str,
    pub purpose: &'a str,
    pub email: &'a str,
    pub user_id: &'a str,
    pub callback_url: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

const COLUMNS: &str = "token_hash, code_hash, purpose, email, user_id, callback_url, created_at, expires_at";

pub async fn insert(conn: &mut Conn, t: &NewToken<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(&format!("INSERT INTO email_tokens ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"))
        .bind(t.token_hash)
        .bind(t.code_hash)
        .bind(t.purpose)
        .bind(t.email)
        .bind(t.user_id)
        .bind(t.callback_url)
        .bind(t.now)
        .bind(t.expires_at)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Stores the token only when `email` is a user's address (for that user), in one
/// statement: the same work whether or not the address has an account. Returns whether
/// it stored.
pub async fn insert_for_account(conn: &mut Conn, t: &NewToken<'_>) -> Result<bool, sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO email_tokens ({COLUMNS}) SELECT $1, $2, $3, email, id, $6, $7, $8 FROM users WHERE email = $4"
    ))
    .bind(t.token_hash)
    .bind(t.code_hash)
    .bind(t.purpose)
    .bind(t.email)
    .bind(t.user_id)
    .bind(t.callback_url)
    .bind(t.now)
    .bind(t.expires_at)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() > 0)
}

/// A token as stored.
#[derive(Debug, Clone, FromRow)]
pub struct TokenRow {
    pub token_hash: String,
    pub code_hash: String,
    pub purpose: String,
    pub email: String,
    pub user_id: String,
    pub callback_url: String,
    pub attempts: i64,
    pub expires_at: i64,
}

const RETURNED: &str = "token_hash, code_hash, purpose, email, user_id, callback_url, attempts, expires_at";

/// The token, without consuming it (the page a link opens: a GET never consumes).
pub async fn find(conn: &mut Conn, token_hash: &str, purpose: &str) -> Result<Option<TokenRow>, sqlx::Error> {
    sqlx::query_as::<_, TokenRow>(&format!(
        "SELECT {RETURNED} FROM email_tokens WHERE token_hash = $1 AND purpose = $2"
    ))
    .bind(token_hash)
    .bind(purpose)
    .fetch_all(conn)
    .await
    .map(super::at_most_one)
}

/// Consumes the token in one statement: of two requests that carry it, exactly one gets
/// the row.
pub async fn take(conn: &mut Conn, token_hash: &str, purpose: &str) -> Result<Option<TokenRow>, sqlx::Error> {
    sqlx::query_as::<_, TokenRow>(&format!(
        "DELETE FROM email_tokens WHERE token_hash = $1 AND purpose = $2 RETURNING {RETURNED}"
    ))
    .bind(token_hash)
    .bind(purpose)
    .fetch_all(conn)
    .await
    .map(super::at_most_one)
}

/// Counts one try of a code against every live code sent to `email` for `purpose`, and
/// returns them, to be compared: a wrong code is counted whatever happens next.
pub async fn count_code_try(
    conn: &mut Conn,
    purpose: &str,
    email: &str,
    now: i64,
) -> Result<Vec<TokenRow>, sqlx::Error> {
    sqlx::query_as::<_, TokenRow>(&format!(
        "UPDATE email_tokens SET attempts = attempts + 1 \
         WHERE purpose = $1 AND email = $2 AND expires_at > $3 AND code_hash <> '' RETURNING {RETURNED}"
    ))
    .bind(purpose)
    .bind(email)
    .bind(now)
    .fetch_all(conn)
    .await
}

/// Every token of `purpose` sent to `email` dies (a newer one of its kind was used).
pub async fn delete_for_email(conn: &mut Conn, purpose: &str, email: &str) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM email_tokens WHERE purpose = $1 AND email = $2")
        .bind(purpose)
        .bind(email)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
}

/// Every token of the user dies (the password or the email changed), and every token
/// sent to `email`, the user's address.
pub async fn delete_for_user(conn: &mut Conn, user_id: &str, email: &str) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM email_tokens WHERE user_id = $1 OR email = $2")
        .bind(user_id)
        .bind(email)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
}

/// Deletes one token (a code tried too often).
pub async fn delete(conn: &mut Conn, token_hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM email_tokens WHERE token_hash = $1")
        .bind(token_hash)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Deletes tokens that expired by `now`.
pub async fn delete_expired(conn: &mut Conn, now: i64) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM email_tokens WHERE expires_at <= $1")
        .bind(now)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
}
