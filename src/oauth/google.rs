//! Google, as an OpenID Connect provider: endpoints from the discovery document of
//! `AUTH_GOOGLE_ISSUER` (fetched once, then cached), the profile from the userinfo
//! endpoint. The user is Google's `sub`; the email counts only when `email_verified`.
//!
//! The ID token is not needed: the access token comes straight from the token endpoint
//! over TLS, and the userinfo endpoint answers for it (OpenID Connect Core 3.1.3.7).

use oauth2::AuthType;
use serde::Deserialize;
use serde_json::Value;

use super::{exchange_code, Endpoints, OAuth, OAuthError, Profile, Provider};
use crate::config::AuthConfig;

const SCOPES: &[&str] = &["openid", "email", "profile"];

/// The parts of the discovery document this app uses.
#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: String,
}

/// The discovery document, fetched on first use. A failed fetch is not cached: the next
/// sign-in tries again.
async fn discovery<'a>(oauth: &'a OAuth, config: &AuthConfig) -> Result<&'a Discovery, OAuthError> {
    oauth
        .google
        .get_or_try_init(|| async {
            let issuer = config.google_issuer.as_str().trim_end_matches('/');
            let url = format!("{issuer}/.well-known/openid-configuration");
            let doc: Discovery = oauth.get_json("Google discovery", &url, None, &[]).await?;
            // OpenID Connect Discovery 4.3: the document must name the issuer it was
            // fetched from.
            if doc.issuer.trim_end_matches('/') != issuer {
                return Err(OAuthError::Provider(format!(
                    "Google discovery: issuer {:?} does not match AUTH_GOOGLE_ISSUER {issuer:?}",
                    doc.issuer
                )));
            }
            Ok(doc)
        })
        .await
}

fn endpoints(doc: &Discovery) -> Endpoints<'_> {
    Endpoints {
        authorize: &doc.authorization_endpoint,
        token: &doc.token_endpoint,
        scopes: SCOPES,
        auth_type: AuthType::BasicAuth,
    }
}

pub(crate) async fn authorize_url(
    oauth: &OAuth,
    config: &AuthConfig,
    state: &str,
    pkce_verifier: &str,
) -> Result<String, OAuthError> {
    let doc = discovery(oauth, config).await?;
    super::authorize_url(Provider::Google, config, &endpoints(doc), state, pkce_verifier)
}

#[derive(Deserialize)]
struct UserInfo {
    sub: String,
    email: Option<String>,
    /// A boolean per the spec; some servers send the string `"true"`.
    email_verified: Option<Value>,
    name: Option<String>,
    picture: Option<String>,
}

pub(crate) async fn profile(
    oauth: &OAuth,
    config: &AuthConfig,
    code: &str,
    pkce_verifier: &str,
) -> Result<Profile, OAuthError> {
    let doc = discovery(oauth, config).await?;
    let token = exchange_code(oauth, Provider::Google, config, &endpoints(doc), code, pkce_verifier).await?;
    let info: UserInfo = oauth.get_json("Google userinfo", &doc.userinfo_endpoint, Some(&token), &[]).await?;
    if info.sub.is_empty() || info.sub.len() > 255 {
        return Err(OAuthError::Provider("Google userinfo: no usable `sub`".into()));
    }
    let verified = matches!(info.email_verified, Some(Value::Bool(true)))
        || matches!(&info.email_verified, Some(Value::String(s)) if s == "true");
    let verified_email = info.email.filter(|e| verified && !e.is_empty());
    Ok(Profile {
        provider: Provider::Google,
        account_id: info.sub,
        label: verified_email.clone(),
        verified_email,
        name: info.name,
        image: info.picture,
    })
}
