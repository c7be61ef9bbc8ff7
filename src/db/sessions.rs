//! The `sessions` table.

use sqlx::FromRow;

use super::Conn;

/// A session row joined with its user: what the per-request check loads, in one
/// primary-key lookup.
#[derive(Debug, Clone, FromRow)]
pub struct SessionWithUser {
    pub id: String,
    pub secret_hash: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub last_active_at: i64,
    pub authenticated_at: i64,
    pub method: String,
    pub user_id: String,
    pub user_name: String,
    pub user_email: String,
    pub user_image: String,
    pub user_email_verified: i64,
}

/// What a sign-in stores.
pub struct NewSession<'a> {
    pub id: &'a str,
    pub secret_hash: &'a str,
    pub user_id: &'a str,
    pub now: i64,
    pub expires_at: i64,
    pub user_agent: &'a str,
    pub ip: &'a str,
    /// How the session was signed in: `password` or a provider's id.
    pub method: &'a str,
}

pub async fn insert(conn: &mut Conn, s: &NewSession<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sessions \
         (id, secret_hash, user_id, created_at, expires_at, last_active_at, user_agent, ip, method, \
          authenticated_at) \
         VALUES ($1, $2, $3, $4, $5, $4, $6, $7, $8, $4)",
    )
    .bind(s.id)
    .bind(s.secret_hash)
    .bind(s.user_id)
    .bind(s.now)
    .bind(s.expires_at)
    .bind(s.user_agent)
    .bind(s.ip)
    .bind(s.method)
    .execute(conn)
    .await
    .map(|_| ())
}

/// The session check: one indexed query, by the public id (the primary key).
pub async fn find_with_user(conn: &mut Conn, id: &str) -> Result<Option<SessionWithUser>, sqlx::Error> {
    sqlx::query_as::<_, SessionWithUser>(
        "SELECT s.id, s.secret_hash, s.created_at, s.expires_at, s.last_active_at, s.authenticated_at, s.method, \
                u.id AS user_id, u.name AS user_name, u.email AS user_email, u.image AS user_image, \
                u.email_verified AS user_email_verified \
         FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.id = $1",
    )
    .bind(id)
    .fetch_all(conn)
    .await
    .map(super::at_most_one)
}

/// Sliding expiry and last-active, in one write; only called when one of them is due.
pub async fn update_activity(
    conn: &mut Conn,
    id: &str,
    expires_at: i64,
    last_active_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET expires_at = $2, last_active_at = $3 WHERE id = $1")
        .bind(id)
        .bind(expires_at)
        .bind(last_active_at)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Records that the session proved its user again (`/reauth`): sudo mode.
pub async fn mark_authenticated(conn: &mut Conn, id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET authenticated_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Ends one session, given proof of its token (the hash of its secret half): sign-out,
/// and the old session of a browser that signs in again.
pub async fn delete_by_token(conn: &mut Conn, id: &str, secret_hash: &str) -> Result<bool, sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE id = $1 AND secret_hash = $2")
        .bind(id)
        .bind(secret_hash)
        .execute(conn)
        .await
        .map(|r| r.rows_affected() > 0)
}

/// A row of the sessions page.
#[derive(Debug, Clone, FromRow)]
pub struct SessionListing {
    pub id: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub last_active_at: i64,
    pub user_agent: String,
    pub ip: String,
}

/// The user's live sessions, most recently active first.
pub async fn list_for_user(
    conn: &mut Conn,
    user_id: &str,
    now: i64,
) -> Result<Vec<SessionListing>, sqlx::Error> {
    sqlx::query_as::<_, SessionListing>(
        "SELECT id, created_at, expires_at, last_active_at, user_agent, ip FROM sessions \
         WHERE user_id = $1 AND expires_at > $2 \
         ORDER BY last_active_at DESC, created_at DESC",
    )
    .bind(user_id)
    .bind(now)
    .fetch_all(conn)
    .await
}

/// Revokes one of the user's sessions by its public id. The user id is part of the
/// condition, so another user's session id matches nothing. Returns whether a session
/// was ended.
pub async fn delete_for_user(conn: &mut Conn, user_id: &str, id: &str) -> Result<bool, sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected() > 0)
}

/// Ends every session of the user that was signed in with `method` (a provider being
/// unlinked). Returns how many.
pub async fn delete_by_method(conn: &mut Conn, user_id: &str, method: &str) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND method = $2")
        .bind(user_id)
        .bind(method)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
}

/// Ends every session of the user but `keep` (the current one). Returns how many.
pub async fn delete_others(conn: &mut Conn, user_id: &str, keep: &str) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
        .bind(user_id)
        .bind(keep)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
}

/// Ends every session of the user (a password change, before the current browser gets
/// a fresh one). Returns how many.
pub async fn delete_all_for_user(conn: &mut Conn, user_id: &str) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
}

/// Deletes at most `limit` sessions that expired by `now`, through the `expires_at`
/// index; the periodic clean-up calls it until a batch comes back short, so no single
/// statement holds locks on a large part of the table.
pub async fn delete_expired_batch(conn: &mut Conn, now: i64, limit: i64) -> Result<u64, sqlx::Error> {
    sqlx::query(
        "DELETE FROM sessions WHERE id IN \
         (SELECT id FROM sessions WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2)",
    )
    .bind(now)
    .bind(limit)
    .execute(conn)
    .await
    .map(|r| r.rows_affected())
}

/// How many live sessions the user has (the account page's summary).
pub async fn count_for_user(conn: &mut Conn, user_id: &str, now: i64) -> Result<i64, sqlx::Error> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sessions WHERE user_id = $1 AND expires_at > $2")
        .bind(user_id)
        .bind(now)
        .fetch_all(conn)
        .await
        .and_then(super::exactly_one)?;
    Ok(n)
}
