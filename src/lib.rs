//! Password and OAuth sign-in for Rocket, with every sign-in creating the same kind of
//! server-side session in SQL (SQLite embedded, PostgreSQL in production).
//!
//! [`figment`] reads the configuration (Rocket.toml, then Auth.js's environment
//! names); [`build`] makes the app from any figment, which is how tests run it on a
//! fresh database with their own settings.

/// Templates and static files: inside the binary in release builds.
pub mod assets;
/// Authentication: passwords, sessions, CSRF, request guards.
pub mod auth;
/// Typed configuration from Rocket's figment.
pub mod config;
/// Every cookie the app sets: names and attributes.
pub mod cookies;
/// The database pool, migrations, and all SQL.
pub mod db;
/// Values parsed at the edge: email, password, callback URL, name.
pub mod domain;
/// Email: messages, the outbox and its worker.
pub mod email;
/// The one error type and its responder.
pub mod error;
/// Global response policy: security headers.
pub mod fairings;
/// The periodic clean-up of expired rows.
pub mod housekeeping;
/// Google and GitHub sign-in: flows, provider calls, linking rules.
pub mod oauth;
/// Time, random tokens and ids, hashes: the bottom layer.
pub mod primitives;
/// Every answer: reply modes, redirects, failures, the error page.
pub mod reply;
/// Every route and catcher.
pub mod routes;
/// How times are written: for people, relative, ISO.
pub mod times;
/// Template contexts.
pub mod views;

use base64::Engine;
use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::{Build, Rocket};
use rocket_db_pools::Database;
use rocket_dyn_templates::Template;

use crate::auth::password::Hasher;
use crate::config::AuthConfig;
use crate::db::{Backend, Db};

pub use config::env::{figment, figment_with_env};

/// Builds the app from `figment`. A configuration error does not panic: the returned
/// Rocket fails at ignition with a message naming the key.
pub fn build(figment: Figment) -> Rocket<Build> {
    sqlx::any::install_default_drivers();
    let release = figment.profile() == rocket::Config::RELEASE_PROFILE;
    let url = figment
        .extract_inner::<String>("databases.main.url")
        .unwrap_or_else(|_| config::DEFAULT_DATABASE_URL.to_string());

    let prepared = AuthConfig::from_figment(&figment, release)
        .map_err(|e| e.to_string())
        .and_then(|config| {
            let backend = Backend::from_url(&url).ok_or_else(|| {
                format!(
                    "DATABASE_URL (Rocket.toml `databases.main.url`): expected sqlite://… or postgres://…, found {:?}",
                    db::redact_url(&url)
                )
            })?;
            let url = db::prepare_url(&url).map_err(|e| format!("DATABASE_URL: {e}"))?;
            Ok((config, backend, url))
        });
    let (mut config, backend, url) = match prepared {
        Ok(parts) => parts,
        Err(message) => {
            return rocket::custom(figment.merge(("secret_key", rocket_key(&config::Secret::generate()))))
                .attach(AdHoc::try_on_ignite("Configuration", |rocket| async move {
                    log::error!("invalid configuration: {message}");
                    eprintln!("invalid configuration: {message}");
                    Err(rocket)
                }));
        }
    };
    // Said at liftoff: Rocket's logger does not exist yet while building.
    let mut warnings = Vec::new();
    if config.secret_generated {
        match config::Secret::kept_in(std::path::Path::new(config::DEBUG_SECRET_FILE)) {
            Ok(kept) => {
                config.secret = kept;
                warnings.push(format!(
                    "AUTH_SECRET is not set: using the development secret kept in {} (made on the \
                     first start; a restart keeps sessions and forms working). Set AUTH_SECRET \
                     (openssl rand -base64 32) anywhere else.",
                    config::DEBUG_SECRET_FILE
                ));
            }
            Err(e) => warnings.push(format!(
                "AUTH_SECRET is not set and {} could not be kept ({e}): using a random secret for \
                 this run. Forms open before a restart will need a reload.",
                config::DEBUG_SECRET_FILE
            )),
        }
    }
    if config.email.is_none() {
        warnings.push(
            "EMAIL_SERVER is not set: email is off (no email verification, password reset or \
             sign-in by email). Set EMAIL_SERVER=smtp://user:password@host:587 to turn it on."
                .to_string(),
        );
    }
    let figment = figment
        .merge(("secret_key", rocket_key(&config.secret)))
        .merge(("databases.main.url", url))
        .merge(("template_dir", assets::template_dir()));
    let hasher = Hasher::new(config.argon2.clone());
    let oauth = match oauth::OAuth::new(&config) {
        Ok(oauth) => oauth,
        Err(message) => {
            return rocket::custom(figment).attach(AdHoc::try_on_ignite("OAuth", |rocket| async move {
                log::error!("{message}");
                Err(rocket)
            }))
        }
    };
    let mailer = match config.email.as_ref().map(|email| email::Mailer::new(&config, email)).transpose() {
        Ok(mailer) => mailer,
        Err(message) => {
            return rocket::custom(figment).attach(AdHoc::try_on_ignite("Email", |rocket| async move {
                log::error!("invalid configuration: {message}");
                Err(rocket)
            }))
        }
    };
    let rocket = match mailer {
        Some(mailer) => {
            rocket::custom(figment).manage(std::sync::Arc::new(mailer)).attach(email::worker::Worker)
        }
        None => rocket::custom(figment),
    };
    let rocket = rocket
        .manage(backend)
        .manage(hasher)
        .manage(oauth)
        .attach(Db::init())
        .attach(db::migrations())
        .attach(Template::try_custom(assets::customize))
        .attach(fairings::SecurityHeaders::new(&config))
        .attach(housekeeping::Housekeeping);
    let rocket = rocket.attach(AdHoc::on_liftoff("Start-up warnings", move |_| {
        Box::pin(async move {
            for warning in &warnings {
                log::warn!("{warning}");
            }
        })
    }));
    let rocket = routes::mount(rocket, &config);
    rocket.manage(config)
}

fn rocket_key(secret: &config::Secret) -> String {
    base64::engine::general_purpose::STANDARD.encode(secret.rocket_secret_key())
}
