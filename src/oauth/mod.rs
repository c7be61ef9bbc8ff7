//! Sign-in with Google (OpenID Connect) and GitHub (OAuth 2.0): the authorization code
//! flow with `state` and PKCE S256, through the oauth2 crate over reqwest.
//!
//! [`flow`] keeps a flow's state between its start and the callback, [`google`] and
//! [`github`] speak to the providers, and [`linking`] applies the four linking rules of
//! DESIGN.md to the profile that comes back.

pub mod flow;
pub mod github;
pub mod google;
pub mod linking;

use std::time::Duration;

use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, TokenUrl,
};
use serde::de::DeserializeOwned;

use crate::config::{AuthConfig, ProviderCredentials};

/// Largest provider answer read (discovery, profile, emails); real ones are a few KiB.
const MAX_BODY: usize = 256 * 1024;

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

/// What a provider tells us about the person who signed in.
#[derive(Debug, Clone)]
pub struct Profile {
    pub provider: Provider,
    /// The provider's stable id: Google's `sub`, GitHub's numeric id.
    pub account_id: String,
    /// The email, only when the provider says it is verified.
    pub verified_email: Option<String>,
    pub name: Option<String>,
    pub image: Option<String>,
    /// How the account page names the account (GitHub login, or the email).
    pub label: Option<String>,
}

/// Why an OAuth flow failed. Each becomes a page that says what happened and changes
/// nothing.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("the user did not grant access at the provider")]
    Denied,
    #[error("the provider answered the authorization with an error: {0}")]
    AuthorizationError(String),
    #[error("the flow's state is missing, unknown, expired, replayed or from another browser")]
    State,
    #[error("the callback carries no authorization code")]
    MissingCode,
    #[error("the provider refused the authorization code: {0}")]
    Refused(String),
    #[error("the provider did not answer in time: {0}")]
    Timeout(String),
    #[error("the provider's answer could not be used: {0}")]
    Provider(String),
    #[error("the provider gave no verified email")]
    NoVerifiedEmail,
    #[error("the provider account is linked to another user")]
    AccountTaken,
    #[error("an existing user has this email; the provider must be connected from the account page")]
    EmailTaken,
    #[error("the user already has another account of this provider linked")]
    AlreadyConnected,
    #[error("the session that started connecting a provider is gone")]
    LinkSessionLost,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl OAuthError {
    /// A failed call to a provider, told apart by timeout.
    fn from_http(what: &str, e: &(dyn std::error::Error + 'static)) -> Self {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(err) = source {
            // The oauth2 crate wraps reqwest's error in a Box.
            let reqwest = err
                .downcast_ref::<reqwest::Error>()
                .or_else(|| err.downcast_ref::<Box<reqwest::Error>>().map(|b| b.as_ref()));
            if reqwest.is_some_and(|e| e.is_timeout()) {
                return OAuthError::Timeout(what.to_string());
            }
            source = err.source();
        }
        OAuthError::Provider(format!("{what}: {}", error_chain(e)))
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(err) = source {
        text.push_str(": ");
        text.push_str(&err.to_string());
        source = err.source();
    }
    text
}

/// What the app keeps for OAuth: one HTTP client for every provider call, and
/// Google's discovery document once it has been fetched.
pub struct OAuth {
    http: reqwest::Client,
    google: rocket::tokio::sync::OnceCell<google::Discovery>,
}

impl OAuth {
    /// The HTTP client follows no redirects (a provider endpoint that redirects is not
    /// followed to wherever it points: the oauth2 crate's advice against SSRF) and gives
    /// up after `AUTH_PROVIDER_TIMEOUT` seconds per call.
    pub fn new(config: &AuthConfig) -> Result<Self, String> {
        let timeout = Duration::from_secs(config.provider_timeout);
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("rocket-auth/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("the HTTP client for OAuth providers: {e}"))?;
        Ok(OAuth { http, google: Default::default() })
    }

    /// GET `url` with a bearer token and extra headers, as JSON of type `T`.
    async fn get_json<T: DeserializeOwned>(
        &self,
        what: &str,
        url: &str,
        bearer: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Result<T, OAuthError> {
        let mut req = self.http.get(url).header(reqwest::header::ACCEPT, "application/json");
        if let Some(token) = bearer {
            req = req.bearer_auth(token);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let mut res = req.send().await.map_err(|e| OAuthError::from_http(what, &e))?;
        if !res.status().is_success() {
            return Err(OAuthError::Provider(format!("{what}: HTTP {}", res.status())));
        }
        let mut body = Vec::new();
        while let Some(chunk) = res.chunk().await.map_err(|e| OAuthError::from_http(what, &e))? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_BODY {
                return Err(OAuthError::Provider(format!("{what}: answer larger than {MAX_BODY} bytes")));
            }
        }
        serde_json::from_slice(&body).map_err(|e| OAuthError::Provider(format!("{what}: {e}")))
    }
}

/// The endpoints and settings of one authorization-code exchange.
pub(crate) struct Endpoints<'a> {
    pub authorize: &'a str,
    pub token: &'a str,
    pub scopes: &'a [&'a str],
    /// How the client authenticates at the token endpoint.
    pub auth_type: AuthType,
}

type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

fn client(provider: Provider, config: &AuthConfig, endpoints: &Endpoints<'_>) -> Result<Client, OAuthError> {
    let creds = provider
        .credentials(config)
        .ok_or_else(|| OAuthError::Provider(format!("{} is not configured", provider.name())))?;
    let bad = |what: &str, e: oauth2::url::ParseError| OAuthError::Provider(format!("{what} URL: {e}"));
    let redirect = config.absolute(&format!("{}/callback/{}", config.base_path, provider.id()));
    Ok(BasicClient::new(ClientId::new(creds.client_id.clone()))
        .set_client_secret(ClientSecret::new(creds.client_secret.expose_str().to_string()))
        .set_auth_uri(AuthUrl::new(endpoints.authorize.to_string()).map_err(|e| bad("authorization", e))?)
        .set_token_uri(TokenUrl::new(endpoints.token.to_string()).map_err(|e| bad("token", e))?)
        .set_redirect_uri(RedirectUrl::new(redirect).map_err(|e| bad("redirect", e))?)
        .set_auth_type(endpoints.auth_type.clone()))
}

/// The provider's authorization URL for a flow with this `state` and PKCE verifier.
pub(crate) fn authorize_url(
    provider: Provider,
    config: &AuthConfig,
    endpoints: &Endpoints<'_>,
    state: &str,
    pkce_verifier: &str,
) -> Result<String, OAuthError> {
    let challenge =
        PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(pkce_verifier.into()));
    let client = client(provider, config, endpoints)?;
    let (url, _) = client
        .authorize_url(|| CsrfToken::new(state.to_string()))
        .add_scopes(endpoints.scopes.iter().map(|s| Scope::new(s.to_string())))
        .set_pkce_challenge(challenge)
        .url();
    Ok(url.to_string())
}

/// OAuth error codes that say the provider itself is failing (RFC 6749 5.2 and 4.1.2.1):
/// answered as its outage, not as a refusal of this sign-in.
const PROVIDER_FAULTS: &[&str] = &["server_error", "temporarily_unavailable"];

/// A token endpoint's well-formed OAuth error: `{"error": "invalid_grant", …}` from a
/// 400 (RFC 6749 5.2), or GitHub's, which arrives as HTTP 200.
fn token_refusal(code: &str) -> OAuthError {
    let code: String = code.chars().filter(|c| c.is_ascii_graphic()).take(100).collect();
    if PROVIDER_FAULTS.contains(&code.as_str()) {
        OAuthError::Provider(format!("token endpoint: {code}"))
    } else {
        OAuthError::Refused(code)
    }
}

/// The `error` of a body that is an OAuth error response, if it is one.
fn oauth_error_code(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        error: String,
    }
    serde_json::from_slice::<ErrorBody>(body).ok().map(|b| b.error).filter(|e| !e.is_empty())
}

/// Exchanges the authorization code for an access token, proving the flow with the
/// PKCE verifier. A token error (`invalid_grant` for a code that was used, expired or
/// injected from another flow and fails PKCE, GitHub's HTTP-200 errors) is the user's
/// failed sign-in ([`OAuthError::Refused`]), never a server error; a body that is not
/// the JSON it should be, a 5xx, a redirect, or `server_error` is the provider's fault
/// ([`OAuthError::Provider`]).
pub(crate) async fn exchange_code(
    oauth: &OAuth,
    provider: Provider,
    config: &AuthConfig,
    endpoints: &Endpoints<'_>,
    code: &str,
    pkce_verifier: &str,
) -> Result<String, OAuthError> {
    use oauth2::RequestTokenError as E;
    let client = client(provider, config, endpoints)?;
    let result = client
        .exchange_code(AuthorizationCode::new(code.to_string()))
        .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_string()))
        .request_async(&oauth.http)
        .await;
    match result {
        Ok(token) => Ok(token.access_token().secret().clone()),
        Err(E::Request(e)) => Err(OAuthError::from_http("token endpoint", &e)),
        Err(E::ServerResponse(e)) => Err(token_refusal(e.error().as_ref())),
        Err(E::Parse(e, body)) => match oauth_error_code(&body) {
            Some(code) => Err(token_refusal(&code)),
            None => Err(OAuthError::Provider(format!("token endpoint: {e}"))),
        },
        Err(E::Other(e)) => Err(OAuthError::Provider(format!("token endpoint: {e}"))),
    }
}

/// Reads the signed-in person's profile after the code exchange.
pub async fn fetch_profile(
    oauth: &OAuth,
    provider: Provider,
    config: &AuthConfig,
    code: &str,
    pkce_verifier: &str,
) -> Result<Profile, OAuthError> {
    match provider {
        Provider::Google => google::profile(oauth, config, code, pkce_verifier).await,
        Provider::GitHub => github::profile(oauth, config, code, pkce_verifier).await,
    }
}

/// The provider's authorization URL for a new flow.
pub async fn start_url(
    oauth: &OAuth,
    provider: Provider,
    config: &AuthConfig,
    started: &flow::Started,
) -> Result<String, OAuthError> {
    let (state, verifier) = (started.state.as_str(), started.pkce_verifier.as_str());
    match provider {
        Provider::Google => google::authorize_url(oauth, config, state, verifier).await,
        Provider::GitHub => github::authorize_url(config, state, verifier),
    }
}
