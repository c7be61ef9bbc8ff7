//! The environment names Auth.js users already have (`AUTH_SECRET`, `AUTH_URL`,
//! `DATABASE_URL`, …), mapped onto the figment's keys, and the figment itself.

use rocket::figment::providers::{Env, Format, Serialized, Toml};
use rocket::figment::value::Value;
use rocket::figment::{Figment, Profile};

/// The environment variables read as strings, with their key under `auth`.
/// They are merged as strings on purpose: figment's own environment provider would
/// turn an all-digit client id or secret into a number and then refuse it.
pub const STRING_ENV: &[(&str, &str)] = &[
    ("AUTH_SECRET", "auth.secret"),
    ("AUTH_SECRET_1", "auth.secret_1"),
    ("AUTH_SECRET_2", "auth.secret_2"),
    ("AUTH_SECRET_3", "auth.secret_3"),
    ("AUTH_URL", "auth.url"),
    ("AUTH_GOOGLE_ID", "auth.google_id"),
    ("AUTH_GOOGLE_SECRET", "auth.google_secret"),
    ("AUTH_GOOGLE_ISSUER", "auth.google_issuer"),
    ("AUTH_GITHUB_ID", "auth.github_id"),
    ("AUTH_GITHUB_SECRET", "auth.github_secret"),
    ("AUTH_GITHUB_URL", "auth.github_url"),
    ("AUTH_GITHUB_API_URL", "auth.github_api_url"),
    ("EMAIL_SERVER", "auth.email_server"),
    ("EMAIL_FROM", "auth.email_from"),
    ("DATABASE_URL", "databases.main.url"),
];

/// The environment variables read as numbers or flags, with their key under `auth`.
pub const VALUE_ENV: &[(&str, &str)] = &[
    ("AUTH_TRUST_HOST", "auth.trust_host"),
    ("AUTH_SESSION_MAX_AGE", "auth.session_max_age"),
    ("AUTH_SESSION_UPDATE_AGE", "auth.session_update_age"),
    ("AUTH_SESSION_ABSOLUTE_MAX_AGE", "auth.session_absolute_max_age"),
    ("AUTH_SESSION_CLEANUP_INTERVAL", "auth.session_cleanup_interval"),
    ("AUTH_ARGON2_MEMORY_KIB", "auth.argon2_memory_kib"),
    ("AUTH_ARGON2_ITERATIONS", "auth.argon2_iterations"),
    ("AUTH_ARGON2_PARALLELISM", "auth.argon2_parallelism"),
    ("AUTH_PASSWORD_MIN_LENGTH", "auth.password_min_length"),
    ("AUTH_SIGNIN_MAX_FAILURES", "auth.signin_max_failures"),
    ("AUTH_SIGNIN_WINDOW", "auth.signin_window"),
    ("AUTH_PROVIDER_TIMEOUT", "auth.provider_timeout"),
    ("AUTH_REAUTH_MAX_AGE", "auth.reauth_max_age"),
    ("AUTH_EMAIL_MAX_PER_ADDRESS", "auth.email_max_per_address"),
    ("AUTH_EMAIL_MAX_PER_IP", "auth.email_max_per_ip"),
    ("AUTH_EMAIL_POLL_INTERVAL_MS", "auth.email_poll_interval_ms"),
];

/// Rocket's figment: the app's built-in defaults ([`super::defaults::rocket_defaults`]), then
/// Rocket.toml if there is one, then `ROCKET_*`, with Auth.js's environment names
/// merged on top so the environment wins, and Rocket's `X-Real-IP` trust turned off:
/// any client can send that header, so the client IP is the socket's unless
/// `AUTH_TRUST_HOST` declares a proxy. The defaults live in the binary, so it behaves
/// the same from any directory, with or without Rocket.toml.
pub fn figment() -> Figment {
    figment_with_env(|name| std::env::var(name).ok())
}

/// [`figment`] with the environment read through `lookup`: how tests set `AUTH_*`
/// variables without touching the process environment that parallel tests share.
pub fn figment_with_env(lookup: impl Fn(&str) -> Option<String>) -> Figment {
    let mut figment = Figment::from(rocket::Config::default())
        .merge(super::defaults::rocket_defaults())
        .merge(Toml::file(Env::var_or("ROCKET_CONFIG", "Rocket.toml")).nested())
        .merge(Env::prefixed("ROCKET_").ignore(&["PROFILE"]).global())
        .select(Profile::from_env_or("ROCKET_PROFILE", rocket::Config::DEFAULT_PROFILE));
    for (env, key) in STRING_ENV {
        if let Some(value) = lookup(env) {
            figment = figment.merge(Serialized::global(key, value));
        }
    }
    for (env, key) in VALUE_ENV {
        if let Some(value) = lookup(env) {
            // Parsed as figment parses any environment value: numbers, booleans, text.
            let value: Value = value.parse().unwrap_or_else(|_| Value::from(value));
            figment = figment.merge(Serialized::global(key, value));
        }
    }
    figment.merge(("ip_header", false))
}
