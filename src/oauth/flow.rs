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

use rocket::http::{Cookie, CookieJar, SameSite};
use rocket::time::Duration;

use super::{OAuthError, Provider};
use crate::auth::session::now;
use crate::auth::token::{constant_time_eq, is_token_shaped, random_string, sha256_hex};
use crate::config::AuthConfig;
use crate::db::{oauth_flows, Executor};
use crate::domain::CallbackUrl;

/// How long a flow may take from its start to the callback.
pub const FLOW_TTL: i64 = 600;

/// Random bytes in the state, the PKCE verifier and the browser binding: 32, which
/// base64url-encode to 43 characters (PKCE asks 43 to 128).
const RANDOM_BYTES: usize = 32;
const RANDOM_LEN: usize = 43;

/// The flow cookie's name: `__Host-` prefixed on https.
pub fn cookie_name(config: &AuthConfig) -> &'static str {
    if config.secure {
        "__Host-authjs.oauth-flow"
    } else {
        "authjs.oauth-flow"
    }
}

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
    conn: &mut Executor,
    jar: &CookieJar<'_>,
    config: &AuthConfig,
    provider: Provider,
    started: &Started,
    callback: &CallbackUrl,
    link_user_id: Option<&str>,
) -> Result<(), sqlx::Error> {
    let binding = jar
        .get(cookie_name(config))
        .map(|c| c.value().to_string())
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
    jar.add(
        Cookie::build((cookie_name(config), binding))
            .http_only(true)
            // Lax: the cookie must come back on the provider's top-level redirect.
            .same_site(SameSite::Lax)
            .path("/")
            .secure(config.secure)
            .max_age(Duration::seconds(FLOW_TTL)),
    );
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
    conn: &mut Executor,
    jar: &CookieJar<'_>,
    config: &AuthConfig,
    provider: Provider,
    state: Option<&str>,
) -> Result<Flow, OAuthError> {
    let state = state.filter(|s| is_token_shaped(s, RANDOM_LEN)).ok_or(OAuthError::State)?;
    let row = oauth_flows::take(conn, &sha256_hex(state)).await?.ok_or(OAuthError::State)?;
    let binding = jar.get(cookie_name(config)).map(|c| c.value().to_string()).unwrap_or_default();
    let bound = constant_time_eq(&sha256_hex(&binding), &row.binding_hash);
    if !bound || row.expires_at <= now() || row.provider != provider.id() {
        return Err(OAuthError::State);
    }
    Ok(Flow {
        callback: CallbackUrl::parse(Some(&row.callback_url), &config.origin),
        link_user_id: Some(row.link_user_id).filter(|id| !id.is_empty()),
        pkce_verifier: row.pkce_verifier,
    })
}
