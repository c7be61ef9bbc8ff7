//! The second factor's tables: `totp_credentials`, `totp_enrolments` and
//! `recovery_codes`.

use sqlx::FromRow;

use super::Conn;

/// A confirmed TOTP: the sealed secret and the newest time step accepted.
#[derive(Debug, Clone, FromRow)]
pub struct TotpRow {
    pub secret: String,
    pub last_step: i64,
    pub created_at: i64,
}

pub async fn find_totp(conn: &mut Conn, user_id: &str) -> Result<Option<TotpRow>, sqlx::Error> {
    sqlx::query_as::<_, TotpRow>(
        "SELECT secret, last_step, created_at FROM totp_credentials WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await
    .map(super::at_most_one)
}

/// Stores a confirmed TOTP, whose first code was at time step `step`. False when the
/// user has one already.
pub async fn insert_totp(
    conn: &mut Conn,
    user_id: &str,
    secret: &str,
    step: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "INSERT INTO totp_credentials (user_id, secret, last_step, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id) DO NOTHING",
    )
    .bind(user_id)
    .bind(secret)
    .bind(step)
    .bind(now)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// Records that a code of time step `step` was used, if `step` is newer than the last
/// one: one statement, so of two requests with the same code exactly one gets `true`.
pub async fn use_step(conn: &mut Conn, user_id: &str, step: i64) -> Result<bool, sqlx::Error> {
    sqlx::query("UPDATE totp_credentials SET last_step = $2 WHERE user_id = $1 AND last_step < $2")
        .bind(user_id)
        .bind(step)
        .execute(conn)
        .await
        .map(|r| r.rows_affected() == 1)
}

/// Stores the secret sealed again (under the newest key, after a rotation).
pub async fn reseal_totp(conn: &mut Conn, user_id: &str, secret: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE totp_credentials SET secret = $2 WHERE user_id = $1")
        .bind(user_id)
        .bind(secret)
        .execute(conn)
        .await
        .map(|_| ())
}

/// An enrolment waiting for its first code.
#[derive(Debug, Clone, FromRow)]
pub struct EnrolmentRow {
    pub session_id: String,
    pub secret: String,
    pub expires_at: i64,
}

pub async fn find_enrolment(conn: &mut Conn, user_id: &str) -> Result<Option<EnrolmentRow>, sqlx::Error> {
    sqlx::query_as::<_, EnrolmentRow>(
        "SELECT session_id, secret, expires_at FROM totp_enrolments WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await
    .map(super::at_most_one)
}

/// Starts an enrolment, replacing one the user had.
pub async fn put_enrolment(
    conn: &mut Conn,
    user_id: &str,
    session_id: &str,
    secret: &str,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO totp_enrolments (user_id, session_id, secret, expires_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id) DO UPDATE SET session_id = $2, secret = $3, expires_at = $4",
    )
    .bind(user_id)
    .bind(session_id)
    .bind(secret)
    .bind(expires_at)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Takes the enrolment (it is confirmed): of two confirmations, one gets it.
pub async fn take_enrolment(conn: &mut Conn, user_id: &str) -> Result<Option<EnrolmentRow>, sqlx::Error> {
    sqlx::query_as::<_, EnrolmentRow>(
        "DELETE FROM totp_enrolments WHERE user_id = $1 RETURNING session_id, secret, expires_at",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await
    .map(super::at_most_one)
}

/// Replaces the user's recovery codes with these hashes.
pub async fn replace_recovery_codes(
    conn: &mut Conn,
    user_id: &str,
    hashes: &[String],
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?;
    for hash in hashes {
        sqlx::query("INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES ($1, $2, $3)")
            .bind(user_id)
            .bind(hash)
            .bind(now)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Uses a recovery code: deletes it, in one statement (of two uses, one succeeds).
pub async fn use_recovery_code(conn: &mut Conn, user_id: &str, hash: &str) -> Result<bool, sqlx::Error> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1 AND code_hash = $2")
        .bind(user_id)
        .bind(hash)
        .execute(conn)
        .await
        .map(|r| r.rows_affected() == 1)
}

pub async fn count_recovery_codes(conn: &mut Conn, user_id: &str) -> Result<i64, sqlx::Error> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .fetch_all(conn)
        .await
        .and_then(super::exactly_one)?;
    Ok(n)
}

/// Removes every second factor of the user: TOTP, an enrolment, recovery codes, and
/// sign-ins waiting for a second step. Returns whether a TOTP was removed.
pub async fn delete_all(conn: &mut Conn, user_id: &str) -> Result<bool, sqlx::Error> {
    let removed = sqlx::query("DELETE FROM totp_credentials WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?
        .rows_affected()
        > 0;
    for sql in [
        "DELETE FROM totp_enrolments WHERE user_id = $1",
        "DELETE FROM recovery_codes WHERE user_id = $1",
        "DELETE FROM pending_signins WHERE user_id = $1",
    ] {
        sqlx::query(sql).bind(user_id).execute(&mut *conn).await?;
    }
    Ok(removed)
}

/// Deletes enrolments nobody confirmed in time.
pub async fn delete_expired_enrolments(conn: &mut Conn, now: i64) -> Result<u64, sqlx::Error> {
    let done =
        sqlx::query("DELETE FROM totp_enrolments WHERE expires_at <= $1").bind(now).execute(conn).await?;
    Ok(done.rows_affected())
}
