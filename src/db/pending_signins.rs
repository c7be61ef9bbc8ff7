//! The `pending_signins` table: first steps done, waiting for the second factor.

use sqlx::FromRow;

use super::Conn;

/// A pending sign-in with its user's address.
#[derive(Debug, Clone, FromRow)]
pub struct PendingRow {
    pub user_id: String,
    pub method: String,
    pub how: String,
    pub callback_url: String,
    pub failures: i64,
    pub expires_at: i64,
    pub user_email: String,
    pub user_email_verified: i64,
}

pub struct NewPending<'a> {
    pub token_hash: &'a str,
    pub user_id: &'a str,
    pub method: &'a str,
    pub how: &'a str,
    pub callback_url: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

pub async fn insert(conn: &mut Conn, p: &NewPending<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO pending_signins (token_hash, user_id, method, how, callback_url, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(p.token_hash)
    .bind(p.user_id)
    .bind(p.method)
    .bind(p.how)
    .bind(p.callback_url)
    .bind(p.now)
    .bind(p.expires_at)
    .execute(conn)
    .await
    .map(|_| ())
}

const SELECTED: &str = "p.user_id, p.method, p.how, p.callback_url, p.failures, p.expires_at, \
                        u.email AS user_email, u.email_verified AS user_email_verified";

pub async fn find(conn: &mut Conn, token_hash: &str) -> Result<Option<PendingRow>, sqlx::Error> {
    sqlx::query_as::<_, PendingRow>(&format!(
        "SELECT {SELECTED} FROM pending_signins p JOIN users u ON u.id = p.user_id WHERE p.token_hash = $1"
    ))
    .bind(token_hash)
    .fetch_all(conn)
    .await
    .map(super::at_most_one)
}

/// Takes the pending sign-in (its second step is done): one statement, so of two
/// requests with the same cookie exactly one gets it.
pub async fn take(conn: &mut Conn, token_hash: &str) -> Result<bool, sqlx::Error> {
    sqlx::query("DELETE FROM pending_signins WHERE token_hash = $1")
        .bind(token_hash)
        .execute(conn)
        .await
        .map(|r| r.rows_affected() == 1)
}

/// Counts a wrong code; returns the failures so far (0 when the row is gone).
pub async fn count_failure(conn: &mut Conn, token_hash: &str) -> Result<i64, sqlx::Error> {
    let rows: Vec<(i64,)> = sqlx::query_as(
        "UPDATE pending_signins SET failures = failures + 1 WHERE token_hash = $1 RETURNING failures",
    )
    .bind(token_hash)
    .fetch_all(conn)
    .await?;
    Ok(rows.first().map_or(0, |r| r.0))
}

/// Deletes sign-ins whose second step never came.
pub async fn delete_expired(conn: &mut Conn, now: i64) -> Result<u64, sqlx::Error> {
    let done =
        sqlx::query("DELETE FROM pending_signins WHERE expires_at <= $1").bind(now).execute(conn).await?;
    Ok(done.rows_affected())
}
