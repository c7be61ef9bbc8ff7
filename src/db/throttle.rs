//! The `throttle` table: fixed-window counters shared by every instance.

use super::Conn;

/// Counts one hit in the current window (a new window when the last one is over), in
/// one statement so that concurrent hits on any instance are all counted. Returns the
/// count with this hit, and when its window began.
pub async fn hit(conn: &mut Conn, key: &str, now: i64, window: i64) -> Result<(i64, i64), sqlx::Error> {
    sqlx::query_as(
        "INSERT INTO throttle (key, hits, window_start) VALUES ($1, 1, $2) \
         ON CONFLICT (key) DO UPDATE SET \
           hits = CASE WHEN throttle.window_start + $3 <= $2 THEN 1 ELSE throttle.hits + 1 END, \
           window_start = CASE WHEN throttle.window_start + $3 <= $2 THEN $2 ELSE throttle.window_start END \
         RETURNING hits, window_start",
    )
    .bind(key)
    .bind(now)
    .bind(window)
    .fetch_all(conn)
    .await
    .and_then(super::exactly_one)
}

/// Takes one hit back (never below zero).
pub async fn give_back(conn: &mut Conn, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE throttle SET hits = hits - 1 WHERE key = $1 AND hits > 0")
        .bind(key)
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn delete(conn: &mut Conn, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM throttle WHERE key = $1").bind(key).execute(conn).await.map(|_| ())
}

/// Deletes counters whose window began before `before`.
pub async fn delete_expired(conn: &mut Conn, before: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM throttle WHERE window_start < $1").bind(before).execute(conn).await?;
    Ok(done.rows_affected())
}
