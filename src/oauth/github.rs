//! GitHub, as an OAuth 2.0 provider: authorize and token under `AUTH_GITHUB_URL`,
//! `/user` and `/user/emails` under `AUTH_GITHUB_API_URL` (GitHub Enterprise Server
//! users point both at their server). The user is GitHub's numeric id, never the login,
//! which can be renamed and then taken by someone else; the email is the primary
//! verified one from `/user/emails`.

use oauth2::AuthType;
use serde::Deserialize;

use super::{exchange_code, Endpoints, OAuth, OAuthError, Profile, Provider};
use crate::config::AuthConfig;

const SCOPES: &[&str] = &["read:user", "user:email"];

/// Headers GitHub's REST API asks for (the User-Agent is the client's own).
const API_HEADERS: &[(&str, &str)] =
    &[("Accept", "application/vnd.github+json"), ("X-GitHub-Api-Version", "2022-11-28")];

fn join(base: &url::Url, path: &str) -> String {
    format!("{}{path}", base.as_str().trim_end_matches('/'))
}

/// The OAuth endpoints under `AUTH_GITHUB_URL`.
struct Urls {
    authorize: String,
    token: String,
}

impl Urls {
    fn new(config: &AuthConfig) -> Self {
        Urls {
            authorize: join(&config.github_url, "/login/oauth/authorize"),
            token: join(&config.github_url, "/login/oauth/access_token"),
        }
    }

    fn endpoints(&self) -> Endpoints<'_> {
        // GitHub reads the client's credentials from the body.
        Endpoints {
            authorize: &self.authorize,
            token: &self.token,
            scopes: SCOPES,
            auth_type: AuthType::RequestBody,
        }
    }
}

pub(crate) fn authorize_url(
    config: &AuthConfig,
    state: &str,
    pkce_verifier: &str,
) -> Result<String, OAuthError> {
    super::authorize_url(Provider::GitHub, config, &Urls::new(config).endpoints(), state, pkce_verifier)
}

#[derive(Deserialize)]
struct User {
    id: u64,
    login: String,
    name: Option<String>,
    avatar_url: Option<String>,
}

#[derive(Deserialize)]
struct Email {
    email: String,
    primary: bool,
    verified: bool,
}

pub(crate) async fn profile(
    oauth: &OAuth,
    config: &AuthConfig,
    code: &str,
    pkce_verifier: &str,
) -> Result<Profile, OAuthError> {
    let urls = Urls::new(config);
    let token =
        exchange_code(oauth, Provider::GitHub, config, &urls.endpoints(), code, pkce_verifier).await?;
    let api = &config.github_api_url;
    let user: User = oauth.get_json("GitHub /user", &join(api, "/user"), Some(&token), API_HEADERS).await?;
    let emails: Vec<Email> =
        oauth.get_json("GitHub /user/emails", &join(api, "/user/emails"), Some(&token), API_HEADERS).await?;
    let verified_email = emails.into_iter().find(|e| e.primary && e.verified).map(|e| e.email);
    Ok(Profile {
        provider: Provider::GitHub,
        account_id: user.id.to_string(),
        verified_email,
        name: user.name.filter(|n| !n.is_empty()),
        image: user.avatar_url,
        label: Some(user.login),
    })
}
