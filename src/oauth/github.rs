//! GitHub, as an OAuth 2.0 provider: authorize and token under `AUTH_GITHUB_URL`,
//! `/user` and `/user/emails` under `AUTH_GITHUB_API_URL` (GitHub Enterprise Server
//! users point both at their server). The user is GitHub's numeric id, never the login,
//! which can be renamed and then taken by someone else; the email is the primary
//! verified one from `/user/emails`.

use oauth2::AuthType;
use serde::Deserialize;

use super::client::{Endpoints, OAuth};
use super::{OAuthError, RawProfile};
use crate::config::AuthConfig;

const SCOPES: &[&str] = &["read:user", "user:email"];

/// Headers GitHub's REST API asks for (the User-Agent is the client's own).
const API_HEADERS: &[(&str, &str)] =
    &[("Accept", "application/vnd.github+json"), ("X-GitHub-Api-Version", "2022-11-28")];

fn join(base: &url::Url, path: &str) -> String {
    format!("{}{path}", base.as_str().trim_end_matches('/'))
}

/// GitHub's endpoints. It reads the client's credentials from the body.
pub(super) fn endpoints(config: &AuthConfig) -> Endpoints {
    Endpoints {
        authorize: join(&config.github_url, "/login/oauth/authorize"),
        token: join(&config.github_url, "/login/oauth/access_token"),
        profile: join(&config.github_api_url, "/user"),
        scopes: SCOPES,
        auth_type: AuthType::RequestBody,
    }
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

/// The person, from `/user` and `/user/emails`.
pub(super) async fn profile(
    oauth: &OAuth,
    config: &AuthConfig,
    endpoints: &Endpoints,
    token: &str,
) -> Result<RawProfile, OAuthError> {
    let user: User = oauth.get_json("GitHub /user", &endpoints.profile, Some(token), API_HEADERS).await?;
    let emails_url = join(&config.github_api_url, "/user/emails");
    let emails: Vec<Email> =
        oauth.get_json("GitHub /user/emails", &emails_url, Some(token), API_HEADERS).await?;
    let verified_email = emails.into_iter().find(|e| e.primary && e.verified).map(|e| e.email);
    Ok(RawProfile {
        account_id: user.id.to_string(),
        verified_email,
        name: user.name,
        image: user.avatar_url,
        label: Some(user.login),
    })
}
