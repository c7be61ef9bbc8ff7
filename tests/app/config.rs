//! Configuration: every name works from the environment and from Rocket.toml, and a bad
//! value stops the app at start with a message naming the key.

use std::collections::HashMap;

use rocket::figment::Figment;
use rocket_auth::config::AuthConfig;

use crate::common::{default_env, test_figment};

fn figment(vars: &[(&'static str, &str)]) -> Figment {
    let mut env = default_env();
    for (k, v) in vars {
        env.insert(*k, v.to_string());
    }
    test_figment("sqlite://unused.db", &env)
}

fn config(figment: &Figment) -> Result<AuthConfig, String> {
    AuthConfig::from_figment(figment, false).map_err(|e| e.to_string())
}

#[test]
fn every_environment_name_reaches_the_config() {
    let f = figment(&[
        ("AUTH_URL", "https://app.example.com"),
        ("AUTH_TRUST_HOST", "1"),
        ("AUTH_GOOGLE_ID", "123456789"),
        ("AUTH_GOOGLE_SECRET", "0123"),
        ("AUTH_GOOGLE_ISSUER", "http://127.0.0.1:9999/google"),
        ("AUTH_GITHUB_ID", "gh"),
        ("AUTH_GITHUB_SECRET", "ghs"),
        ("AUTH_GITHUB_URL", "http://127.0.0.1:9999/gh"),
        ("AUTH_GITHUB_API_URL", "http://127.0.0.1:9999/api"),
        ("AUTH_SESSION_MAX_AGE", "3600"),
        ("AUTH_SESSION_UPDATE_AGE", "60"),
        ("AUTH_SESSION_ABSOLUTE_MAX_AGE", "7200"),
        ("AUTH_SESSION_CLEANUP_INTERVAL", "120"),
        ("AUTH_ARGON2_MEMORY_KIB", "1024"),
        ("AUTH_ARGON2_ITERATIONS", "3"),
        ("AUTH_ARGON2_PARALLELISM", "2"),
        ("AUTH_PASSWORD_MIN_LENGTH", "15"),
        ("AUTH_SIGNIN_MAX_FAILURES", "7"),
        ("AUTH_SIGNIN_WINDOW", "60"),
        ("AUTH_PROVIDER_TIMEOUT", "3"),
        ("AUTH_REAUTH_MAX_AGE", "300"),
        ("DATABASE_URL", "postgres://db.example/auth"),
    ]);
    let c = config(&f).unwrap();
    assert_eq!(c.origin.as_str(), "https://app.example.com/");
    assert!(c.secure && c.trust_host);
    assert_eq!(c.google.as_ref().unwrap().client_id, "123456789", "all-digit ids stay strings");
    assert_eq!(c.google_issuer.as_str(), "http://127.0.0.1:9999/google");
    assert_eq!(c.github.as_ref().unwrap().client_id, "gh");
    assert_eq!(c.github_url.as_str(), "http://127.0.0.1:9999/gh");
    assert_eq!(c.github_api_url.as_str(), "http://127.0.0.1:9999/api");
    assert_eq!((c.session.max_age, c.session.update_age, c.session.absolute_max_age), (3600, 60, 7200));
    assert_eq!(c.session.cleanup_interval, 120);
    assert_eq!((c.argon2.m_cost(), c.argon2.t_cost(), c.argon2.p_cost()), (1024, 3, 2));
    assert_eq!(c.password_min_length, 15);
    assert_eq!((c.signin_max_failures, c.signin_window, c.provider_timeout), (7, 60, 3));
    assert_eq!(c.reauth_max_age, 300);
    let env = HashMap::from([("DATABASE_URL", "postgres://db.example/auth".to_string())]);
    let raw = rocket_auth::figment_with_env(|k| env.get(k).cloned());
    assert_eq!(raw.extract_inner::<String>("databases.main.url").unwrap(), "postgres://db.example/auth");
    assert!(!format!("{c:?}").contains("0123"), "secrets never print");
}

#[test]
fn rocket_toml_keys_work_and_the_environment_wins() {
    use rocket::figment::providers::{Format, Toml};
    let toml = Toml::string(
        "[default.auth]\nsession_max_age = 1000\nsession_update_age = 10\npassword_min_length = 12\n",
    )
    .nested();
    let c =
        AuthConfig::from_figment(&Figment::from(toml).merge(("auth.secret", crate::common::SECRET)), false)
            .unwrap();
    assert_eq!((c.session.max_age, c.session.update_age, c.password_min_length), (1000, 10, 12));

    // The repository's Rocket.toml holds the documented defaults...
    let repo = Toml::file("Rocket.toml").nested();
    let c =
        AuthConfig::from_figment(&Figment::from(repo).merge(("auth.secret", crate::common::SECRET)), false)
            .unwrap();
    assert_eq!(
        (c.session.max_age, c.session.update_age, c.session.absolute_max_age),
        (2_592_000, 86_400, 7_776_000)
    );
    assert_eq!((c.argon2.m_cost(), c.argon2.t_cost(), c.argon2.p_cost()), (19_456, 2, 1));
    assert_eq!(c.password_min_length, 8);
    assert_eq!(c.reauth_max_age, 900);
    // ...and the environment overrides them (figment_with_env reads that same file).
    let env = HashMap::from([
        ("AUTH_PASSWORD_MIN_LENGTH", "20".to_string()),
        ("AUTH_SECRET", crate::common::SECRET.to_string()),
    ]);
    let f = rocket_auth::figment_with_env(|k| env.get(k).cloned());
    assert_eq!(AuthConfig::from_figment(&f, false).unwrap().password_min_length, 20);
}

#[test]
fn a_value_that_does_not_parse_names_its_key() {
    for (name, value) in [
        ("AUTH_SESSION_MAX_AGE", "thirty days"),
        ("AUTH_SESSION_UPDATE_AGE", "-1"),
        ("AUTH_TRUST_HOST", "maybe"),
        ("AUTH_ARGON2_MEMORY_KIB", "1"),
        ("AUTH_PASSWORD_MIN_LENGTH", "0"),
        ("AUTH_URL", "not a url"),
        ("AUTH_URL", "ftp://example.com"),
        ("AUTH_GITHUB_URL", "::"),
        ("AUTH_SECRET", "too short"),
        ("AUTH_PROVIDER_TIMEOUT", "0"),
        ("AUTH_REAUTH_MAX_AGE", "0"),
        ("AUTH_REAUTH_MAX_AGE", "a while"),
        ("AUTH_SIGNIN_WINDOW", "1.5"),
        ("AUTH_SESSION_CLEANUP_INTERVAL", "hourly"),
        ("AUTH_SESSION_CLEANUP_INTERVAL", "-5"),
    ] {
        let err = config(&figment(&[(name, value)])).expect_err(name);
        let names_it =
            if name.starts_with("AUTH_ARGON2") { err.contains("AUTH_ARGON2") } else { err.contains(name) };
        assert!(names_it, "{name}={value}: {err}");
    }
    let err = config(&figment(&[("AUTH_SESSION_UPDATE_AGE", "999999999")])).unwrap_err();
    assert!(err.contains("AUTH_SESSION_UPDATE_AGE"), "{err}");
}

#[rocket::async_test]
async fn the_app_refuses_to_start_on_a_bad_value() {
    let rocket = rocket_auth::build(figment(&[("AUTH_SESSION_MAX_AGE", "soon")]));
    assert_fails_to_ignite(rocket).await;
    let rocket = rocket_auth::build(figment(&[]).merge(("databases.main.url", "mysql://x")));
    assert_fails_to_ignite(rocket).await;
}

async fn assert_fails_to_ignite(rocket: rocket::Rocket<rocket::Build>) {
    match rocket.ignite().await {
        Ok(_) => panic!("the app started with a bad configuration"),
        // Rocket's error panics when dropped unread: read it.
        Err(e) => assert!(matches!(e.kind(), rocket::error::ErrorKind::FailedFairings(_))),
    }
}

#[rocket::async_test]
async fn a_release_build_without_auth_secret_refuses_to_start() {
    let mut env = default_env();
    env.remove("AUTH_SECRET");
    let f = test_figment("sqlite://unused.db", &env).select("release");
    let err = AuthConfig::from_figment(&f, true).unwrap_err().to_string();
    assert!(err.contains("AUTH_SECRET"), "{err}");
    assert_fails_to_ignite(rocket_auth::build(f)).await;
    // Debug generates one and warns.
    let f = test_figment("sqlite://unused.db", &env);
    assert!(AuthConfig::from_figment(&f, false).unwrap().secret_generated);
}

#[test]
fn a_path_in_auth_url_becomes_the_base_path() {
    let c = config(&figment(&[("AUTH_URL", "https://example.com/auth")])).unwrap();
    assert_eq!(c.base_path, "/auth");
    assert_eq!(c.absolute("/x"), "https://example.com/x");
    let c = config(&figment(&[("AUTH_URL", "http://localhost:3000/")])).unwrap();
    assert_eq!(c.base_path, "/api/auth");
}

#[rocket::async_test]
async fn a_release_build_without_auth_url_refuses_to_start() {
    let mut env = default_env();
    env.remove("AUTH_URL");
    let f = test_figment("sqlite://unused.db", &env).select("release");
    let err = AuthConfig::from_figment(&f, true).unwrap_err().to_string();
    assert!(err.contains("AUTH_URL") && err.contains("required"), "{err}");
    assert_fails_to_ignite(rocket_auth::build(f)).await;
    // Debug serves http://localhost:8000.
    let f = test_figment("sqlite://unused.db", &env);
    let c = AuthConfig::from_figment(&f, false).unwrap();
    assert_eq!(c.origin.as_str(), "http://localhost:8000/");
    assert!(!c.secure);
}

#[test]
fn the_values_rocket_toml_shows_are_the_built_in_defaults() {
    use rocket::figment::providers::{Format, Toml};
    // Rocket.toml shows every default as a commented `# key = value` line: uncommented,
    // they must change nothing, so the file cannot drift from the code.
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Rocket.toml")).unwrap();
    let uncommented: String = text
        .lines()
        .map(|line| {
            let candidate = line.strip_prefix("# ").unwrap_or(line);
            let is_setting = candidate.split_once(" = ").is_some_and(|(key, _)| {
                !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            });
            if is_setting {
                // Keep the value, drop a trailing comment.
                let (key, value) = candidate.split_once(" = ").unwrap();
                let value = match value.find("  #") {
                    Some(at) => &value[..at],
                    None => value,
                };
                format!("{key} = {}\n", value.trim())
            } else if line.starts_with('[') {
                format!("{line}\n")
            } else {
                String::new()
            }
        })
        .collect();
    let settings = uncommented.lines().filter(|l| l.contains(" = ")).count();
    assert!(settings >= 20, "the file shows the defaults: {uncommented}");

    let env = HashMap::from([("AUTH_SECRET", crate::common::SECRET.to_string())]);
    let built_in = rocket_auth::figment_with_env(|k| env.get(k).cloned());
    let with_file = built_in.clone().merge(Toml::string(&uncommented).nested());
    for figment in [&built_in, &with_file] {
        assert!(figment.find_value("limits").is_ok());
    }
    let rocket = |f: &Figment| {
        let c = rocket::Config::from(f);
        (c.address, c.port, format!("{:?}", c.limits))
    };
    assert_eq!(rocket(&built_in), rocket(&with_file), "Rocket.toml shows other Rocket defaults");
    let pool = |f: &Figment| {
        let c: rocket_db_pools::Config = f.extract_inner("databases.main").unwrap();
        (c.url, c.max_connections, c.connect_timeout, c.idle_timeout)
    };
    assert_eq!(pool(&built_in), pool(&with_file), "Rocket.toml shows other pool defaults");
    let a = format!("{:?}", AuthConfig::from_figment(&built_in, false).unwrap());
    let b = format!("{:?}", AuthConfig::from_figment(&with_file, false).unwrap());
    assert_eq!(a, b, "Rocket.toml shows other auth defaults than the code's");
}
