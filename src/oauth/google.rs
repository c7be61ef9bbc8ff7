//! Google, as an OpenID Connect provider: its endpoints come from the discovery
//! document of `AUTH_GOOGLE_ISSUER` (fetched once, then cached), its profile from the
//! userinfo endpoint. The user is Google's `sub`; the email counts only when
//! `email_verified`.
//!
//! The ID token is not needed: the access token comes straight from the token endpoint
//! over TLS, and the userinfo endpoint answers for it (OpenID Connect Core 3.1.3.7).

use oauth2::AuthType;
use serde::Deserialize;
use serde_json::Value;

use super::client::{Endpoints, OAuth};
use super::{OAuthError, RawProfile};
use crate::config::AuthConfig;

const SCOPES: &[&str] = &["openid", "email", "profile"];

/// The parts of the discovery document this app uses.
#[derive(Debug, Clone, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: String,
}

/// Google's endpoints, from the discovery document, fetched on first use. A failed
/// fetch is not cached: the next sign-in tries again.
pub(super) async fn endpoints(oauth: &OAuth, config: &AuthConfig) -> Result<Endpoints, OAuthError> {
    let endpoints = oauth
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
            Ok(Endpoints {
                authorize: doc.authorization_endpoint,
                token: doc.token_endpoint,
                profile: doc.userinfo_endpoint,
                scopes: SCOPES,
                auth_type: AuthType::BasicAuth,
            })
        })
        .await?;
    Ok(endpoints.clone())
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

/// The person, from the userinfo endpoint.
pub(super) async fn profile(
    oauth: &OAuth,
    endpoints: &Endpoints,
    token: &str,
) -> Result<RawProfile, OAuthError> {
    let info: UserInfo = oauth.get_json("Google userinfo", &endpoints.profile, Some(token), &[]).await?;
    if info.sub.is_empty() || info.sub.len() > 255 {
        return Err(OAuthError::Provider("Google userinfo: no usable `sub`".into()));
    }
    let verified = matches!(info.email_verified, Some(Value::Bool(true)))
        || matches!(&info.email_verified, Some(Value::String(s)) if s == "true");
    let verified_email = info.email.filter(|_| verified);
    Ok(RawProfile {
        account_id: info.sub,
        label: verified_email.clone(),
        verified_email,
        name: info.name,
        image: info.picture,
    })
}
