//! The `users` table.

use sqlx::FromRow;

use super::Conn;
use crate::primitives::{non_empty, or_empty};

/// A user as pages and the session JSON show it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct User {
    pub id: String,
    pub name: Option<String>,
    pub email: String,
    pub image: Option<String>,
    /// When the email was verified (Unix seconds); `None` when never.
    pub email_verified: Option<i64>,
}

#[derive(FromRow)]
struct UserRow {
    id: String,
    name: String,
    email: String,
    image: String,
    email_verified: i64,
}

/// `0` in the database is "never" in Rust.
pub fn verified_at(t: i64) -> Option<i64> {
    (t != 0).then_some(t)
}

impl User {
    /// The address, when it was verified: the only kind notices go to.
    pub fn verified_email(&self) -> Option<&str> {
        self.email_verified.map(|_| self.email.as_str())
    }
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        User {
            id: r.id,
            name: non_empty(r.name),
            email: r.email,
            image: non_empty(r.image),
            email_verified: verified_at(r.email_verified),
        }
    }
}

/// The user who owns an email, with the password hash (for sign-in) and whether the
/// address was ever verified (the ownership rule).
pub struct EmailOwner {
    pub id: String,
    pub password_hash: Option<String>,
    pub email_verified: Option<i64>,
}

#[derive(FromRow)]
struct OwnerRow {
    id: String,
    password_hash: String,
    email_verified: i64,
}

/// What sign-up (or a first sign-in with a provider) stores.
pub struct NewUser<'a> {
    pub id: &'a str,
    pub name: Option<&'a str>,
    pub email: &'a str,
    /// When a provider verified the email; 0 when nobody did.
    pub email_verified: i64,
    pub image: Option<&'a str>,
    pub password_hash: Option<&'a str>,
    pub now: i64,
}

pub async fn insert(conn: &mut Conn, user: &NewUser<'_>) -> Result<User, sqlx::Error> {
    sqlx::query_as::<_, UserRow>(
        "INSERT INTO users (id, name, email, email_verified, image, password_hash, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
         RETURNING id, name, email, image, email_verified",
    )
    .bind(user.id)
    .bind(or_empty(user.name))
    .bind(user.email)
    .bind(user.email_verified)
    .bind(or_empty(user.image))
    .bind(or_empty(user.password_hash))
    .bind(user.now)
    .fetch_all(conn)
    .await
    .and_then(super::exactly_one)
    .map(User::from)
}

/// The user who owns `email` (normalised), if any: sign-in, sign-up's taken check,
/// and the OAuth linking rules all ask this one question.
pub async fn find_by_email(conn: &mut Conn, email: &str) -> Result<Option<EmailOwner>, sqlx::Error> {
    let row =
        sqlx::query_as::<_, OwnerRow>("SELECT id, password_hash, email_verified FROM users WHERE email = $1")
            .bind(email)
            .fetch_all(conn)
            .await
            .map(super::at_most_one)?;
    Ok(row.map(|r| EmailOwner {
        id: r.id,
        password_hash: non_empty(r.password_hash),
        email_verified: verified_at(r.email_verified),
    }))
}

/// The user by id (an email change's confirmation).
pub async fn find_by_id(conn: &mut Conn, id: &str) -> Result<Option<User>, sqlx::Error> {
    let row = sqlx::query_as::<_, UserRow>(
        "SELECT id, name, email, image, email_verified FROM users WHERE id = $1",
    )
    .bind(id)
    .fetch_all(conn)
    .await
    .map(super::at_most_one)?;
    Ok(row.map(User::from))
}

/// Records that the user proved they own their address, now (if not before).
pub async fn mark_verified(conn: &mut Conn, id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE users SET email_verified = CASE WHEN email_verified = 0 THEN $2 ELSE email_verified END,          updated_at = $2 WHERE id = $1",
    )
    .bind(id)
    .bind(now)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Removes the password (the ownership rule: a first registrant's password dies when
/// the owner of the address proves it).
pub async fn remove_password(conn: &mut Conn, id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET password_hash = '', updated_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Changes the address (confirmed from it, so verified now). A unique violation means
/// someone took the address meanwhile.
pub async fn update_email(conn: &mut Conn, id: &str, email: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET email = $2, email_verified = $3, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(email)
        .bind(now)
        .execute(conn)
        .await
        .map(|_| ())
}

/// The user's password hash, `None` when they have none (a provider-only user).
pub async fn find_password_hash(conn: &mut Conn, id: &str) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(String,)> = sqlx::query_as("SELECT password_hash FROM users WHERE id = $1")
        .bind(id)
        .fetch_all(conn)
        .await
        .map(super::at_most_one)?;
    Ok(row.and_then(|(hash,)| non_empty(hash)))
}

/// Sets or clears (`None`) the display name.
pub async fn update_name(conn: &mut Conn, id: &str, name: Option<&str>, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET name = $2, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(or_empty(name))
        .bind(now)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Replaces a password hash (a rehash at new parameters, or a password change).
pub async fn update_password_hash(
    conn: &mut Conn,
    id: &str,
    hash: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(hash)
        .bind(now)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Touches the user's row inside a transaction. Its real purpose is the row lock it
/// takes on PostgreSQL (SQLite locks the whole database for any write): two requests
/// that must not interleave for one user, such as unlinking two providers at once,
/// run one after the other.
pub async fn lock(conn: &mut Conn, id: &str, now: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE users SET updated_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Everything the user's row holds but the password hash: the data export.
#[derive(Debug, Clone, FromRow)]
pub struct ExportRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub image: String,
    pub email_verified: i64,
    /// 1 when a password is set (the hash itself is never exported).
    pub has_password: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

pub async fn find_for_export(conn: &mut Conn, id: &str) -> Result<Option<ExportRow>, sqlx::Error> {
    sqlx::query_as::<_, ExportRow>(
        "SELECT id, name, email, image, email_verified, \
                CASE WHEN password_hash = '' THEN 0 ELSE 1 END AS has_password, created_at, updated_at \
         FROM users WHERE id = $1",
    )
    .bind(id)
    .fetch_all(conn)
    .await
    .map(super::at_most_one)
}

/// Deletes the user; every row of theirs that references the user goes with it
/// (`ON DELETE CASCADE`: sessions, provider accounts, second factors, pending sign-ins,
/// the security log).
pub async fn delete(conn: &mut Conn, id: &str) -> Result<bool, sqlx::Error> {
    sqlx::query("DELETE FROM users WHERE id = $1").bind(id).execute(conn).await.map(|r| r.rows_affected() > 0)
}
