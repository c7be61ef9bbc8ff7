//! The `outbox` table: mail between the transaction that causes it and its delivery.

use sqlx::FromRow;

use super::Conn;

/// A message to queue.
pub struct NewMessage<'a> {
    pub id: &'a str,
    pub kind: &'a str,
    pub recipient: &'a str,
    pub message: &'a str,
    pub now: i64,
}

/// Queues a message, due at once.
pub async fn insert(conn: &mut Conn, m: &NewMessage<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO outbox (id, kind, recipient, message, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(m.id)
    .bind(m.kind)
    .bind(m.recipient)
    .bind(m.message)
    .bind(m.now)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Queues a message only when `recipient` is a user's address, in one statement: a
/// request for an address with no account does the same work as one for an address
/// with an account, so its time does not tell them apart. Returns whether it queued.
pub async fn insert_for_account(conn: &mut Conn, m: &NewMessage<'_>) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "INSERT INTO outbox (id, kind, recipient, message, next_attempt_at, created_at) \
         SELECT $1, $2, email, $4, $5, $5 FROM users WHERE email = $3",
    )
    .bind(m.id)
    .bind(m.kind)
    .bind(m.recipient)
    .bind(m.message)
    .bind(m.now)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() > 0)
}

/// A message a worker claimed.
#[derive(Debug, FromRow)]
pub struct Claimed {
    pub id: String,
    pub kind: String,
    pub recipient: String,
    pub message: String,
    pub attempts: i64,
    pub created_at: i64,
}

/// Claims up to `limit` due messages until `lease_until`, in one statement. A message
/// is due when it is queued, its time has come and no live lease holds it; the outer
/// condition is checked again on each row as it is updated, so of two workers on two
/// instances racing for a row, exactly one gets it (PostgreSQL re-checks an updated
/// row; SQLite runs one writer at a time).
pub async fn claim(
    conn: &mut Conn,
    now: i64,
    lease_until: i64,
    limit: i64,
) -> Result<Vec<Claimed>, sqlx::Error> {
    sqlx::query_as::<_, Claimed>(
        "UPDATE outbox SET lease_until = $2 \
         WHERE id IN (SELECT id FROM outbox \
                      WHERE status = 'queued' AND next_attempt_at <= $1 AND lease_until <= $1 \
                      ORDER BY next_attempt_at LIMIT $3) \
           AND status = 'queued' AND lease_until <= $1 \
         RETURNING id, kind, recipient, message, attempts, created_at",
    )
    .bind(now)
    .bind(lease_until)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Delivered: the message itself is cleared.
pub async fn mark_sent(conn: &mut Conn, id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE outbox SET status = 'sent', message = '', attempts = attempts + 1, lease_until = 0, \
         last_error = '', finished_at = $2 WHERE id = $1",
    )
    .bind(id)
    .bind(now)
    .execute(conn)
    .await
    .map(|_| ())
}

/// A temporary failure: tried again at `next_attempt_at`.
pub async fn mark_retry(
    conn: &mut Conn,
    id: &str,
    next_attempt_at: i64,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $2, lease_until = 0, last_error = $3 \
         WHERE id = $1",
    )
    .bind(id)
    .bind(next_attempt_at)
    .bind(error)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Given up (a permanent refusal, or a day of temporary ones): the message is cleared.
pub async fn mark_abandoned(conn: &mut Conn, id: &str, now: i64, error: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE outbox SET status = 'abandoned', message = '', attempts = attempts + 1, lease_until = 0, \
         last_error = $3, finished_at = $2 WHERE id = $1",
    )
    .bind(id)
    .bind(now)
    .bind(error)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Deletes the records of messages finished before `before`.
pub async fn delete_finished_before(conn: &mut Conn, before: i64) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM outbox WHERE status <> 'queued' AND finished_at < $1")
        .bind(before)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
}

/// Drops the mail still waiting for `recipient` (an account deleted: nothing more is
/// sent to it but the notice that says so).
pub async fn delete_queued_for(conn: &mut Conn, recipient: &str) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM outbox WHERE recipient = $1 AND status = 'queued'")
        .bind(recipient)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
}
