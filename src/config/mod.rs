//! Typed configuration, read once from Rocket's figment.
//!
//! The defaults are built in ([`defaults`]); Rocket.toml (`[default.auth]`,
//! `[debug.auth]`, `[release.auth]`) may override them, and the environment variables
//! Auth.js users already have in their `.env` (`AUTH_SECRET`, `AUTH_URL`, …) are
//! merged on top by [`env::figment`], so the environment wins. Every value is checked
//! here, at ignition: a value that does not parse stops the app with a message that
//! names the key, instead of failing on the first request.

pub mod defaults;
pub mod email;
pub mod env;
mod secret;

use std::fmt;

use rocket::figment::Figment;
use serde::{de, Deserialize, Deserializer};
use url::Url;

use crate::domain::PASSWORD_MAX_LENGTH;
pub use defaults::DEFAULT_DATABASE_URL;
pub use email::{EmailConfig, EmailServer, SmtpSecurity};
pub use env::{STRING_ENV, VALUE_ENV};
pub use secret::{Secret, DEBUG_SECRET_FILE, SECRET_MIN_LENGTH};

/// The `[auth]` table as written by the user, before checks.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    secret: Option<String>,
    secret_1: Option<String>,
    secret_2: Option<String>,
    secret_3: Option<String>,
    email_server: Option<String>,
    email_from: Option<String>,
    #[serde(default = "defaults::email_max_per_address")]
    email_max_per_address: u32,
    #[serde(default = "defaults::email_max_per_ip")]
    email_max_per_ip: u32,
    #[serde(default = "defaults::email_poll_interval_ms")]
    email_poll_interval_ms: u64,
    url: Option<String>,
    #[serde(default, deserialize_with = "flag")]
    trust_host: bool,
    #[serde(default = "defaults::base_path")]
    base_path: String,
    google_id: Option<String>,
    google_secret: Option<String>,
    #[serde(default = "defaults::google_issuer")]
    google_issuer: String,
    github_id: Option<String>,
    github_secret: Option<String>,
    #[serde(default = "defaults::github_url")]
    github_url: String,
    #[serde(default = "defaults::github_api_url")]
    github_api_url: String,
    #[serde(default = "defaults::session_max_age")]
    session_max_age: u64,
    #[serde(default = "defaults::session_update_age")]
    session_update_age: u64,
    #[serde(default = "defaults::session_absolute_max_age")]
    session_absolute_max_age: u64,
    #[serde(default = "defaults::session_cleanup_interval")]
    session_cleanup_interval: u64,
    #[serde(default = "defaults::argon2_memory_kib")]
    argon2_memory_kib: u32,
    #[serde(default = "defaults::argon2_iterations")]
    argon2_iterations: u32,
    #[serde(default = "defaults::argon2_parallelism")]
    argon2_parallelism: u32,
    #[serde(default = "defaults::password_min_length")]
    password_min_length: usize,
    #[serde(default = "defaults::signin_max_failures")]
    signin_max_failures: u32,
    #[serde(default = "defaults::signin_window")]
    signin_window: u64,
    #[serde(default = "defaults::provider_timeout")]
    provider_timeout: u64,
    #[serde(default = "defaults::reauth_max_age")]
    reauth_max_age: u64,
}

/// Accepts `true/false`, `1/0`, `yes/no`, `on/off` (any case) from TOML or the environment.
fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Bool(bool),
        Int(i64),
        Text(String),
    }
    match Raw::deserialize(d)? {
        Raw::Bool(b) => Ok(b),
        Raw::Int(1) => Ok(true),
        Raw::Int(0) => Ok(false),
        Raw::Text(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" | "" => Ok(false),
            _ => Err(de::Error::custom(format!("expected true or false, found {s:?}"))),
        },
        Raw::Int(n) => Err(de::Error::custom(format!("expected true or false, found {n}"))),
    }
}

/// Session lifetimes, in seconds (DESIGN.md, Sessions).
#[derive(Debug, Clone, Copy)]
pub struct SessionConfig {
    /// Inactivity after which a session expires (Auth.js `maxAge`).
    pub max_age: i64,
    /// Time between two extensions of the expiry (Auth.js `updateAge`).
    pub update_age: i64,
    /// Hard cap on a session's life from sign-in.
    pub absolute_max_age: i64,
    /// Seconds between two runs of the expired-session clean-up; 0 turns it off.
    pub cleanup_interval: i64,
}

/// Credentials of one OAuth provider; present only when both id and secret are set.
#[derive(Clone)]
pub struct ProviderCredentials {
    pub client_id: String,
    pub client_secret: Secret,
}

impl fmt::Debug for ProviderCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .finish()
    }
}

/// The checked configuration, kept in Rocket's managed state.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// Key for CSRF tokens and Rocket's private cookies: the newest secret, which signs
    /// and encrypts.
    pub secret: Secret,
    /// `AUTH_SECRET_1..3`: older secrets, still accepted when verifying or decrypting
    /// (Auth.js's rotation), newest first.
    pub old_secrets: Vec<Secret>,
    /// True when `AUTH_SECRET` was missing and a random one was made (debug only).
    pub secret_generated: bool,
    /// Public origin, e.g. `http://localhost:8000`, without a trailing slash.
    pub origin: Url,
    /// Whether the public origin is https: decides `Secure` and the cookie prefixes.
    pub secure: bool,
    /// Where the Auth.js protocol endpoints are mounted, e.g. `/api/auth`.
    pub base_path: String,
    /// Whether `X-Forwarded-*` headers come from a trusted proxy.
    pub trust_host: bool,
    pub session: SessionConfig,
    pub argon2: argon2::Params,
    pub password_min_length: usize,
    pub signin_max_failures: u32,
    pub signin_window: u64,
    pub provider_timeout: u64,
    /// Sudo mode: seconds an authentication lasts for sensitive actions
    /// (`AUTH_REAUTH_MAX_AGE`).
    pub reauth_max_age: i64,
    pub google: Option<ProviderCredentials>,
    pub google_issuer: Url,
    pub github: Option<ProviderCredentials>,
    pub github_url: Url,
    pub github_api_url: Url,
    /// The email channel; `None` when email is off (a release run without
    /// `EMAIL_SERVER`).
    pub email: Option<EmailConfig>,
}

/// A configuration error; its message names the offending key.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(String);

impl ConfigError {
    fn key(env: &str, key: &str, problem: impl fmt::Display) -> Self {
        ConfigError(format!("{env} (Rocket.toml `{key}`): {problem}"))
    }
}

impl AuthConfig {
    /// Reads and checks the `auth` table. `release` decides whether a missing
    /// `AUTH_SECRET` is fatal (release) or replaced by a random one (debug).
    pub fn from_figment(figment: &Figment, release: bool) -> Result<Self, ConfigError> {
        let raw: RawConfig =
            if figment.contains("auth") { figment.extract_inner("auth") } else { Figment::new().extract() }
                .map_err(|e| {
                // Name the variable the user set, not only figment's key path.
                let (env, key) = VALUE_ENV
                    .iter()
                    .chain(STRING_ENV)
                    .find(|(_, k)| e.path.iter().any(|p| k.strip_prefix("auth.") == Some(p.as_str())))
                    .map_or(("auth", "auth".to_string()), |(env, key)| (*env, key.to_string()));
                ConfigError::key(env, &key, e.kind)
            })?;
        Self::check(raw, release)
    }

    fn check(raw: RawConfig, release: bool) -> Result<Self, ConfigError> {
        let (secret, secret_generated) = match raw.secret.filter(|s| !s.is_empty()) {
            Some(s) if s.chars().count() < SECRET_MIN_LENGTH => {
                return Err(ConfigError::key(
                    "AUTH_SECRET",
                    "auth.secret",
                    format!(
                        "must be at least {SECRET_MIN_LENGTH} characters; generate one with `openssl rand -base64 32`"
                    ),
                ))
            }
            Some(s) => (Secret(s.into_bytes()), false),
            None if release => {
                return Err(ConfigError::key(
                    "AUTH_SECRET",
                    "auth.secret",
                    "is required in a release build; generate one with `openssl rand -base64 32`",
                ))
            }
            None => (Secret::generate(), true),
        };

        let mut old_secrets = Vec::new();
        for (n, old) in [raw.secret_1, raw.secret_2, raw.secret_3].into_iter().enumerate() {
            if let Some(old) = old.filter(|s| !s.is_empty()) {
                if old.chars().count() < SECRET_MIN_LENGTH {
                    let (env, key) = (format!("AUTH_SECRET_{}", n + 1), format!("auth.secret_{}", n + 1));
                    return Err(ConfigError::key(
                        &env,
                        &key,
                        format!("must be at least {SECRET_MIN_LENGTH} characters"),
                    ));
                }
                old_secrets.push(Secret(old.into_bytes()));
            }
        }

        // A release run without AUTH_URL would listen on http://localhost:8000's terms:
        // cookies without `Secure`, OAuth redirect URIs nobody registered.
        let url = match raw.url.filter(|u| !u.trim().is_empty()) {
            Some(url) => url,
            None if release => return Err(ConfigError::key(
                "AUTH_URL",
                "auth.url",
                "is required in a release build: the public origin of the app, e.g. https://auth.example.com",
            )),
            None => defaults::DEBUG_URL.to_string(),
        };
        let (origin, url_path) = parse_public_url("AUTH_URL", "auth.url", &url)?;
        let secure = origin.scheme() == "https";
        // Auth.js v5 reads a path in AUTH_URL as the base path of its endpoints.
        let base_path = match url_path {
            Some(path) => path,
            None => normalise_base_path(&raw.base_path)?,
        };

        let session = SessionConfig {
            max_age: positive("AUTH_SESSION_MAX_AGE", "auth.session_max_age", raw.session_max_age)?,
            update_age: seconds(
                "AUTH_SESSION_UPDATE_AGE",
                "auth.session_update_age",
                raw.session_update_age,
            )?,
            absolute_max_age: positive(
                "AUTH_SESSION_ABSOLUTE_MAX_AGE",
                "auth.session_absolute_max_age",
                raw.session_absolute_max_age,
            )?,
            cleanup_interval: seconds(
                "AUTH_SESSION_CLEANUP_INTERVAL",
                "auth.session_cleanup_interval",
                raw.session_cleanup_interval,
            )?,
        };
        if session.update_age > session.max_age {
            return Err(ConfigError::key(
                "AUTH_SESSION_UPDATE_AGE",
                "auth.session_update_age",
                "must not exceed AUTH_SESSION_MAX_AGE, or sessions would expire before they are ever extended",
            ));
        }

        let argon2 =
            argon2::Params::new(raw.argon2_memory_kib, raw.argon2_iterations, raw.argon2_parallelism, None)
                .map_err(|e| {
                ConfigError(format!(
                    "AUTH_ARGON2_MEMORY_KIB / AUTH_ARGON2_ITERATIONS / AUTH_ARGON2_PARALLELISM \
                 (Rocket.toml `auth.argon2_*`): invalid argon2 parameters: {e}"
                ))
            })?;

        if raw.password_min_length == 0 || raw.password_min_length > PASSWORD_MAX_LENGTH {
            return Err(ConfigError::key(
                "AUTH_PASSWORD_MIN_LENGTH",
                "auth.password_min_length",
                format!("must be between 1 and {PASSWORD_MAX_LENGTH}"),
            ));
        }
        if raw.signin_max_failures == 0 {
            return Err(ConfigError::key(
                "AUTH_SIGNIN_MAX_FAILURES",
                "auth.signin_max_failures",
                "must be at least 1",
            ));
        }
        positive("AUTH_SIGNIN_WINDOW", "auth.signin_window", raw.signin_window)?;
        positive("AUTH_PROVIDER_TIMEOUT", "auth.provider_timeout", raw.provider_timeout)?;
        let reauth_max_age = positive("AUTH_REAUTH_MAX_AGE", "auth.reauth_max_age", raw.reauth_max_age)?;

        let google = provider(raw.google_id, raw.google_secret);
        let github = provider(raw.github_id, raw.github_secret);
        let google_issuer =
            parse_provider_url("AUTH_GOOGLE_ISSUER", "auth.google_issuer", &raw.google_issuer)?;
        let github_url = parse_provider_url("AUTH_GITHUB_URL", "auth.github_url", &raw.github_url)?;
        let github_api_url =
            parse_provider_url("AUTH_GITHUB_API_URL", "auth.github_api_url", &raw.github_api_url)?;

        let email_server = match raw.email_server.filter(|s| !s.trim().is_empty()) {
            Some(raw) => Some(email::parse_server(&raw)?),
            None if release => None,
            None => Some(email::parse_server(email::DEBUG_SERVER)?),
        };
        let from = match raw.email_from.filter(|s| !s.trim().is_empty()) {
            Some(from) => email::parse_from(&from)?,
            None => format!("no-reply@{}", origin.host_str().unwrap_or("localhost")),
        };
        for (env, key, value) in [
            ("AUTH_EMAIL_MAX_PER_ADDRESS", "auth.email_max_per_address", raw.email_max_per_address),
            ("AUTH_EMAIL_MAX_PER_IP", "auth.email_max_per_ip", raw.email_max_per_ip),
        ] {
            if value == 0 {
                return Err(ConfigError::key(env, key, "must be at least 1"));
            }
        }
        if raw.email_poll_interval_ms == 0 {
            return Err(ConfigError::key(
                "AUTH_EMAIL_POLL_INTERVAL_MS",
                "auth.email_poll_interval_ms",
                "must be at least 1",
            ));
        }
        let email = email_server.map(|server| EmailConfig {
            server,
            from,
            max_per_address: raw.email_max_per_address,
            max_per_ip: raw.email_max_per_ip,
            poll_interval_ms: raw.email_poll_interval_ms,
        });

        Ok(AuthConfig {
            secret,
            old_secrets,
            secret_generated,
            origin,
            secure,
            base_path,
            trust_host: raw.trust_host,
            session,
            argon2,
            password_min_length: raw.password_min_length,
            signin_max_failures: raw.signin_max_failures,
            signin_window: raw.signin_window,
            provider_timeout: raw.provider_timeout,
            reauth_max_age,
            google,
            google_issuer,
            github,
            github_url,
            github_api_url,
            email,
        })
    }

    /// Every secret that verifies: the newest first, then `AUTH_SECRET_1..3`.
    pub fn secrets(&self) -> impl Iterator<Item = &Secret> {
        std::iter::once(&self.secret).chain(&self.old_secrets)
    }

    /// The absolute URL of a path on this app's public origin.
    pub fn absolute(&self, path: &str) -> String {
        let origin = self.origin.as_str().trim_end_matches('/');
        format!("{origin}{path}")
    }
}

fn provider(id: Option<String>, secret: Option<String>) -> Option<ProviderCredentials> {
    match (id, secret) {
        (Some(id), Some(secret)) if !id.is_empty() && !secret.is_empty() => {
            Some(ProviderCredentials { client_id: id, client_secret: Secret(secret.into_bytes()) })
        }
        _ => None,
    }
}

fn seconds(env: &str, key: &str, value: u64) -> Result<i64, ConfigError> {
    // Ten years is far beyond any sane lifetime and keeps every sum well inside i64.
    const MAX: u64 = 10 * 365 * 24 * 3600;
    if value > MAX {
        return Err(ConfigError::key(env, key, format!("must be at most {MAX} seconds")));
    }
    Ok(value as i64)
}

fn positive(env: &str, key: &str, value: u64) -> Result<i64, ConfigError> {
    if value == 0 {
        return Err(ConfigError::key(env, key, "must be greater than 0"));
    }
    seconds(env, key, value)
}

/// Splits `AUTH_URL` into its origin and, when present, a base path.
fn parse_public_url(env: &str, key: &str, raw: &str) -> Result<(Url, Option<String>), ConfigError> {
    let url = Url::parse(raw.trim())
        .map_err(|e| ConfigError::key(env, key, format!("is not a URL ({e}): {raw:?}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(ConfigError::key(env, key, format!("must be an http or https URL: {raw:?}")));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(ConfigError::key(env, key, "must not carry credentials, a query or a fragment"));
    }
    let path = url.path().trim_end_matches('/');
    let base_path = (!path.is_empty()).then(|| path.to_string());
    let origin =
        Url::parse(&url.origin().ascii_serialization()).map_err(|e| ConfigError::key(env, key, e))?;
    Ok((origin, base_path))
}

fn parse_provider_url(env: &str, key: &str, raw: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(raw.trim())
        .map_err(|e| ConfigError::key(env, key, format!("is not a URL ({e}): {raw:?}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(ConfigError::key(env, key, format!("must be an http or https URL: {raw:?}")));
    }
    Ok(url)
}

fn normalise_base_path(raw: &str) -> Result<String, ConfigError> {
    let path = raw.trim().trim_end_matches('/');
    let valid = path.starts_with('/')
        && path.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.'));
    if !valid || path.contains("//") {
        return Err(ConfigError::key(
            "AUTH_URL",
            "auth.base_path",
            format!("must be a path such as /api/auth, found {raw:?}"),
        ));
    }
    Ok(path.to_string())
}
