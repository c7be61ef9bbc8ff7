//! Sign-in with Google (OpenID Connect) and GitHub (OAuth 2.0): the authorization code
//! flow with `state` and PKCE S256, through the oauth2 crate over reqwest.
//!
//! [`flow`] keeps a flow's state between its start and the callback; [`client`] holds
//! the HTTP client and the authorization and code exchange every provider shares;
//! [`google`] and [`github`] say only where their endpoints are and how to read their
//! profile; [`profile`] cleans what comes back at the edge, before [`linking`] applies
//! the four linking rules of DESIGN.md to it.

pub mod client;
mod error;
pub mod flow;
pub mod github;
pub mod google;
pub mod linking;
mod profile;

pub use client::OAuth;
pub use error::OAuthError;
pub use profile::{Profile, RawProfile};

use crate::config::{AuthConfig, ProviderCredentials};

/// The providers this app knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Google,
    GitHub,
}

impl Provider {
    pub const ALL: [Provider; 2] = [Provider::Google, Provider::GitHub];

    /// The provider an id in a path names (`google`, `github`).
    pub fn parse(id: &str) -> Option<Self> {
        match id {
            "google" => Some(Provider::Google),
            "github" => Some(Provider::GitHub),
            _ => None,
        }
    }

    pub fn id(self) -> &'static str {
        match self {
            Provider::Google => "google",
            Provider::GitHub => "github",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Provider::Google => "Google",
            Provider::GitHub => "GitHub",
        }
    }

    /// The providers whose id and secret are configured, in the order pages list them.
    pub fn enabled(config: &AuthConfig) -> impl Iterator<Item = Provider> + '_ {
        Provider::ALL.into_iter().filter(|p| p.credentials(config).is_some())
    }

    /// Auth.js's `type` for it in `/api/auth/providers`: Google speaks OpenID Connect.
    pub fn kind(self) -> &'static str {
        match self {
            Provider::Google => "oidc",
            Provider::GitHub => "oauth",
        }
    }

    /// The client id and secret, when this provider is enabled.
    pub fn credentials(self, config: &AuthConfig) -> Option<&ProviderCredentials> {
        match self {
            Provider::Google => config.google.as_ref(),
            Provider::GitHub => config.github.as_ref(),
        }
    }
}

/// The provider's endpoints (Google's come from its discovery document).
async fn endpoints(
    oauth: &OAuth,
    provider: Provider,
    config: &AuthConfig,
) -> Result<client::Endpoints, OAuthError> {
    match provider {
        Provider::Google => google::endpoints(oauth, config).await,
        Provider::GitHub => Ok(github::endpoints(config)),
    }
}

/// The provider's authorization URL for a new flow.
pub async fn start_url(
    oauth: &OAuth,
    provider: Provider,
    config: &AuthConfig,
    started: &flow::Started,
) -> Result<String, OAuthError> {
    let endpoints = endpoints(oauth, provider, config).await?;
    client::authorize_url(provider, config, &endpoints, &started.state, &started.pkce_verifier)
}

/// Exchanges the code (with the flow's PKCE verifier), reads the person's profile, and
/// cleans it.
pub async fn fetch_profile(
    oauth: &OAuth,
    provider: Provider,
    config: &AuthConfig,
    code: &str,
    pkce_verifier: &str,
) -> Result<Profile, OAuthError> {
    let endpoints = endpoints(oauth, provider, config).await?;
    let token = client::exchange_code(oauth, provider, config, &endpoints, code, pkce_verifier).await?;
    let raw = match provider {
        Provider::Google => google::profile(oauth, &endpoints, &token).await?,
        Provider::GitHub => github::profile(oauth, config, &endpoints, &token).await?,
    };
    Ok(Profile::clean(provider, raw))
}
