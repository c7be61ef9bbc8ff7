//! The one HTTP client for every provider call, and the two calls of the
//! authorization-code flow every provider shares: the authorization URL (with
//! `state` and a PKCE S256 challenge) and the code exchange, through the oauth2 crate.
//! A provider module only says where its endpoints are and how to read its profile.

use std::time::Duration;

use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, TokenUrl,
};
use serde::de::DeserializeOwned;

use super::{OAuthError, Provider};
use crate::config::AuthConfig;

/// Largest provider answer read (discovery, profile, emails); real ones are a few KiB.
const MAX_BODY: usize = 256 * 1024;

/// What the app keeps for OAuth: one HTTP client for every provider call, and
/// Google's endpoints once its discovery document has been fetched.
pub struct OAuth {
    http: reqwest::Client,
    pub(super) google: rocket::tokio::sync::OnceCell<Endpoints>,
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

    /// GET `url` with a bearer token and extra headers, as JSON of type `T`: a 5xx, a
    /// redirect, a body over 256 KiB or one that is not that JSON is the provider's
    /// fault ([`OAuthError::Provider`]), no answer in time [`OAuthError::Timeout`].
    pub(super) async fn get_json<T: DeserializeOwned>(
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

/// Where a provider's flow goes, and how the client authenticates at its token
/// endpoint.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub authorize: String,
    pub token: String,
    /// The profile: Google's userinfo endpoint, GitHub's `/user`.
    pub profile: String,
    pub scopes: &'static [&'static str],
    pub auth_type: AuthType,
}

type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

fn client(provider: Provider, config: &AuthConfig, endpoints: &Endpoints) -> Result<Client, OAuthError> {
    let creds = provider
        .credentials(config)
        .ok_or_else(|| OAuthError::Provider(format!("{} is not configured", provider.name())))?;
    let bad = |what: &str, e: oauth2::url::ParseError| OAuthError::Provider(format!("{what} URL: {e}"));
    let redirect = config.absolute(&format!("{}/callback/{}", config.base_path, provider.id()));
    Ok(BasicClient::new(ClientId::new(creds.client_id.clone()))
        .set_client_secret(ClientSecret::new(creds.client_secret.expose_str().to_string()))
        .set_auth_uri(AuthUrl::new(endpoints.authorize.clone()).map_err(|e| bad("authorization", e))?)
        .set_token_uri(TokenUrl::new(endpoints.token.clone()).map_err(|e| bad("token", e))?)
        .set_redirect_uri(RedirectUrl::new(redirect).map_err(|e| bad("redirect", e))?)
        .set_auth_type(endpoints.auth_type.clone()))
}

/// The provider's authorization URL for a flow with this `state` and PKCE verifier.
pub fn authorize_url(
    provider: Provider,
    config: &AuthConfig,
    endpoints: &Endpoints,
    state: &str,
    pkce_verifier: &str,
) -> Result<String, OAuthError> {
    let challenge =
        PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(pkce_verifier.into()));
    let (url, _) = client(provider, config, endpoints)?
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
pub async fn exchange_code(
    oauth: &OAuth,
    provider: Provider,
    config: &AuthConfig,
    endpoints: &Endpoints,
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
