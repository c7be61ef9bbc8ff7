//! The `oauth_flows` table: OAuth flows between their start and the callback.

use sqlx::FromRow;

use super::Conn;
use crate::primitives::or_empty;

/// A flow as stored; the state and the browser binding only as hashes.
#[derive(Debug, FromRow)]
pub struct FlowRow {
    pub binding_hash: String,
    pub provider: String,
    pub pkce_verifier: String,
    pub callback_url: String,
    pub link_user_id: String,
    pub expires_at: i64,
}

pub struct NewFlow<'a> {
    pub state_hash: &'a str,
    pub binding_hash: &'a str,
    pub provider: &'a str,
    pub pkce_verifier: &'a str,
    pub callback_url: &'a str,
    pub link_user_id: Option<&'a str>,
    pub expires_at: i64,
}

pub async fn insert(conn: &mut Conn, f: &NewFlow<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO oauth_flows \
         (state_hash, binding_hash, provider, pkce_verifier, callback_url, link_user_id, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(f.state_hash)
    .bind(f.binding_hash)
    .bind(f.provider)
    .bind(f.pkce_verifier)
    .bind(f.callback_url)
    .bind(or_empty(f.link_user_id))
    .bind(f.expires_at)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Reads and deletes the flow in one statement: of two callbacks carrying the same
/// state, exactly one gets the row.
pub async fn take(conn: &mut Conn, state_hash: &str) -> Result<Option<FlowRow>, sqlx::Error> {
    sqlx::query_as::<_, FlowRow>(
        "DELETE FROM oauth_flows WHERE state_hash = $1 \
         RETURNING binding_hash, provider, pkce_verifier, callback_url, link_user_id, expires_at",
    )
    .bind(state_hash)
    .fetch_all(conn)
    .await
    .map(super::at_most_one)
}

/// Deletes flows that expired by `now` (abandoned at the provider's page).
pub async fn delete_expired(conn: &mut Conn, now: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM oauth_flows WHERE expires_at <= $1").bind(now).execute(conn).await?;
    Ok(done.rows_affected())
}
