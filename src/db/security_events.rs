//! The `security_events` table: the per-user security log.

use sqlx::FromRow;

use super::Conn;

/// An entry of the log, as the account page shows it.
#[derive(Debug, Clone, FromRow)]
pub struct EventRow {
    pub kind: String,
    pub detail: String,
    pub ip: String,
    pub user_agent: String,
    pub created_at: i64,
}

pub struct NewEvent<'a> {
    pub id: &'a str,
    pub user_id: &'a str,
    pub kind: &'a str,
    pub detail: &'a str,
    pub ip: &'a str,
    pub user_agent: &'a str,
    pub now: i64,
}

pub async fn insert(conn: &mut Conn, e: &NewEvent<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO security_events (id, user_id, kind, detail, ip, user_agent, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(e.id)
    .bind(e.user_id)
    .bind(e.kind)
    .bind(e.detail)
    .bind(e.ip)
    .bind(e.user_agent)
    .bind(e.now)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Records an event for the user who owns `email`, if anyone does, in one statement:
/// a failed sign-in for a known email and one for an unknown email then run the same
/// query and take the same write path, so the time of the answer does not tell them
/// apart. Returns whether a row was written.
pub async fn insert_for_email(conn: &mut Conn, email: &str, e: &NewEvent<'_>) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "INSERT INTO security_events (id, user_id, kind, detail, ip, user_agent, created_at) \
         SELECT $1, id, $3, $4, $5, $6, $7 FROM users WHERE email = $2",
    )
    .bind(e.id)
    .bind(email)
    .bind(e.kind)
    .bind(e.detail)
    .bind(e.ip)
    .bind(e.user_agent)
    .bind(e.now)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() > 0)
}

/// The user's latest events, newest first.
pub async fn list_recent(conn: &mut Conn, user_id: &str, limit: i64) -> Result<Vec<EventRow>, sqlx::Error> {
    sqlx::query_as::<_, EventRow>(
        "SELECT kind, detail, ip, user_agent, created_at FROM security_events \
         WHERE user_id = $1 ORDER BY created_at DESC, id LIMIT $2",
    )
    .bind(user_id)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Deletes events older than `before`.
pub async fn delete_older_than(conn: &mut Conn, before: i64) -> Result<u64, sqlx::Error> {
    let done =
        sqlx::query("DELETE FROM security_events WHERE created_at < $1").bind(before).execute(conn).await?;
    Ok(done.rows_affected())
}

/// The IP and user agent of the user's sign-ins and sign-ups since `since`, latest
/// first, at most 500.
pub async fn recent_signins(
    conn: &mut Conn,
    user_id: &str,
    since: i64,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT ip, user_agent FROM security_events \
         WHERE user_id = $1 AND kind IN ('signed_in', 'signed_up') AND created_at >= $2 \
         ORDER BY created_at DESC LIMIT 500",
    )
    .bind(user_id)
    .bind(since)
    .fetch_all(conn)
    .await
}

/// Every entry of the user's log, oldest first: the data export.
pub async fn list_all(conn: &mut Conn, user_id: &str) -> Result<Vec<EventRow>, sqlx::Error> {
    sqlx::query_as::<_, EventRow>(
        "SELECT kind, detail, ip, user_agent, created_at FROM security_events \
         WHERE user_id = $1 ORDER BY created_at, id",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await
}
