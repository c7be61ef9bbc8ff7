//! The `accounts` table: provider accounts linked to users.

use sqlx::FromRow;

use super::Conn;
use crate::primitives::{non_empty, or_empty};

/// A linked provider account, as the account page shows it.
#[derive(Debug, Clone, FromRow)]
pub struct Account {
    pub provider: String,
    pub email: String,
    pub label: String,
    pub created_at: i64,
}

/// What linking stores.
pub struct NewAccount<'a> {
    pub id: &'a str,
    pub user_id: &'a str,
    pub provider: &'a str,
    pub provider_account_id: &'a str,
    pub email: Option<&'a str>,
    pub label: Option<&'a str>,
    pub now: i64,
}

pub async fn insert(conn: &mut Conn, a: &NewAccount<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO accounts (id, user_id, provider, provider_account_id, email, label, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(a.id)
    .bind(a.user_id)
    .bind(a.provider)
    .bind(a.provider_account_id)
    .bind(or_empty(a.email))
    .bind(or_empty(a.label))
    .bind(a.now)
    .execute(conn)
    .await
    .map(|_| ())
}

/// The user a provider account belongs to.
pub async fn find_user_id(
    conn: &mut Conn,
    provider: &str,
    provider_account_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT user_id FROM accounts WHERE provider = $1 AND provider_account_id = $2")
            .bind(provider)
            .bind(provider_account_id)
            .fetch_all(conn)
            .await
            .map(super::at_most_one)?;
    Ok(row.map(|(id,)| id))
}

/// Keeps what the account page shows up to date after a sign-in with the provider.
pub async fn update_profile(
    conn: &mut Conn,
    provider: &str,
    provider_account_id: &str,
    email: Option<&str>,
    label: Option<&str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE accounts SET email = $3, label = $4, updated_at = $5 \
         WHERE provider = $1 AND provider_account_id = $2",
    )
    .bind(provider)
    .bind(provider_account_id)
    .bind(or_empty(email))
    .bind(or_empty(label))
    .bind(now)
    .execute(conn)
    .await
    .map(|_| ())
}

/// The user's linked accounts, oldest first.
pub async fn list_for_user(conn: &mut Conn, user_id: &str) -> Result<Vec<Account>, sqlx::Error> {
    sqlx::query_as::<_, Account>(
        "SELECT provider, email, label, created_at FROM accounts WHERE user_id = $1 ORDER BY created_at, provider",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await
}

/// How many accounts the user has linked besides `provider`.
pub async fn count_other_providers(
    conn: &mut Conn,
    user_id: &str,
    provider: &str,
) -> Result<i64, sqlx::Error> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM accounts WHERE user_id = $1 AND provider <> $2")
        .bind(user_id)
        .bind(provider)
        .fetch_all(conn)
        .await
        .and_then(super::exactly_one)?;
    Ok(n)
}

/// Unlinks the user's account at `provider`. Returns whether there was one.
pub async fn delete_for_user(conn: &mut Conn, user_id: &str, provider: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM accounts WHERE user_id = $1 AND provider = $2")
        .bind(user_id)
        .bind(provider)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

impl Account {
    /// The email, or `None` when the provider gave none.
    pub fn email(&self) -> Option<String> {
        non_empty(self.email.clone())
    }

    /// How the provider names the account (GitHub's login), or `None`.
    pub fn label(&self) -> Option<String> {
        non_empty(self.label.clone())
    }
}

/// A linked provider account with the provider's id for it: the data export.
#[derive(Debug, Clone, FromRow)]
pub struct ExportRow {
    pub provider: String,
    pub provider_account_id: String,
    pub email: String,
    pub label: String,
    pub created_at: i64,
    pub updated_at: i64,
}

pub async fn list_for_export(conn: &mut Conn, user_id: &str) -> Result<Vec<ExportRow>, sqlx::Error> {
    sqlx::query_as::<_, ExportRow>(
        "SELECT provider, provider_account_id, email, label, created_at, updated_at FROM accounts \
         WHERE user_id = $1 ORDER BY created_at, provider",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await
}
