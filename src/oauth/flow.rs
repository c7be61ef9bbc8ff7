//! Where an OAuth flow lives between its start and the provider's callback.
//!
//! In the database, keyed by a hash of its `state`, and bound to the browser that
//! started it by a random value in that browser's flow cookie (hashed in the row too).
//! A database row rather than an encrypted cookie because the flow must be single use:
//! the callback deletes the row as it reads it, in one statement, so a replayed
//! callback (or two racing ones) finds nothing, on every instance sharing the database.
//! A cookie alone could be replayed until it expired. The cookie is what makes a
//! `state` useless in another browser (login CSRF: an attacker cannot finish their own
//! flow in a victim's browser). Flows expire after [`FLOW_TTL`] seconds; the periodic
//! clean-up deletes the abandoned ones.

use rocket::http::CookieJar;
use rocket::time::Duration;

use super::{OAuthError, Provider};
use crate::config::AuthConfig;
use crate::cookies::{self, Name};
use crate::db::{oauth_flows, Conn};
use crate::domain::CallbackUrl;
use crate::primitives::{constant_time_eq, is_token_shaped, non_empty, now, random_string, sha256_hex};

/// How long a flow may take from its start to the callback.
pub const FLOW_TTL: i64 = 600;

/// Random bytes in the state, the PKCE verifier and the browser binding: 32, which
/// base64url-encode to 43 characters (PKCE asks 43 to 128).
const RANDOM_BYTES: usize = 32;
const RANDOM_LEN: usize = 43;

/// A new flow's secrets: the `state` and the PKCE verifier (whose S256 challenge goes
/// to the provider).
pub struct Started {
    pub state: String,
    pub pkce_verifier: String,
}

impl Started {
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Started { state: random_string(RANDOM_BYTES), pkce_verifier: random_string(RANDOM_BYTES) }
    }
}

/// Records a new flow and binds it to this browser. The browser's binding value is
/// kept when it already has one, so two sign-ins started in two tabs both work.
pub async fn save(
    conn: &mut Conn,
    jar: &CookieJar<'_>,
    config: &AuthConfig,
    provider: Provider,
    started: &Started,
    callback: &CallbackUrl,
    link_user_id: Option<&str>,
) -> Result<(), sqlx::Error> {
    let binding = cookies::get(jar, config, Name::OAuthFlow)
        .filter(|v| is_token_shaped(v, RANDOM_LEN))
        .unwrap_or_else(|| random_string(RANDOM_BYTES));
    oauth_flows::insert(
        conn,
        &oauth_flows::NewFlow {
            state_hash: &sha256_hex(&started.state),
            binding_hash: &sha256_hex(&binding),
            provider: provider.id(),
            pkce_verifier: &started.pkce_verifier,
            callback_url: callback.as_str(),
            link_user_id,
            expires_at: now() + FLOW_TTL,
        },
    )
    .await?;
    // Lax (as every cookie here): it must come back on the provider's redirect.
    cookies::set_for(jar, config, Name::OAuthFlow, binding, Duration::seconds(FLOW_TTL));
    Ok(())
}

/// A flow the callback may finish.
#[derive(Debug)]
pub struct Flow {
    pub callback: CallbackUrl,
    pub link_user_id: Option<String>,
    pub pkce_verifier: String,
}

/// Takes the flow named by `state`: it must exist (not used before), belong to this
/// browser, be for this provider and not have expired. The row is gone afterwards
/// whatever the outcome.
pub async fn finish(
    conn: &mut Conn,
    jar: &CookieJar<'_>,
    config: &AuthConfig,
    provider: Provider,
    state: Option<&str>,
) -> Result<Flow, OAuthError> {
    let state = state.filter(|s| is_token_shaped(s, RANDOM_LEN)).ok_or(OAuthError::State)?;
    let row = oauth_flows::take(conn, &sha256_hex(state)).await?.ok_or(OAuthError::State)?;
    let binding = cookies::get(jar, config, Name::OAuthFlow).unwrap_or_default();
    let bound = constant_time_eq(&sha256_hex(&binding), &row.binding_hash);
    if !bound || row.expires_at <= now() || row.provider != provider.id() {
        return Err(OAuthError::State);
    }
    Ok(Flow {
        callback: CallbackUrl::parse(Some(&row.callback_url), &config.origin),
        link_user_id: non_empty(row.link_user_id),
        pkce_verifier: row.pkce_verifier,
    })
}
