//! The `throttle` table: fixed-window counters shared by every instance.

use super::Executor;

/// `(hits, window_start)` of a counter.
pub async fn find(conn: &mut Executor, key: &str) -> Result<Option<(i64, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT hits, window_start FROM throttle WHERE key = $1")
        .bind(key)
        .fetch_all(conn)
        .await
        .map(super::at_most_one)
}

/// Counts one hit in the current window (a new window when the last one is over), in
/// one statement so that concurrent hits on any instance are all counted. Returns the
/// count.
pub async fn hit(conn: &mut Executor, key: &str, now: i64, window: i64) -> Result<i64, sqlx::Error> {
    let (hits,): (i64,) = sqlx::query_as(
        "INSERT INTO throttle (key, hits, window_start) VALUES ($1, 1, $2) \
         ON CONFLICT (key) DO UPDATE SET \
           hits = CASE WHEN throttle.window_start + $3 <= $2 THEN 1 ELSE throttle.hits + 1 END, \
           window_start = CASE WHEN throttle.window_start + $3 <= $2 THEN $2 ELSE throttle.window_start END \
         RETURNING hits",
    )
    .bind(key)
    .bind(now)
    .bind(window)
    .fetch_all(conn)
    .await
    .and_then(super::exactly_one)?;
    Ok(hits)
}

pub async fn delete(conn: &mut Executor, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM throttle WHERE key = $1").bind(key).execute(conn).await.map(|_| ())
}

/// Deletes counters whose window began before `before`.
pub async fn delete_expired(conn: &mut Executor, before: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM throttle WHERE window_start < $1").bind(before).execute(conn).await?;
    Ok(done.rows_affected())
}
