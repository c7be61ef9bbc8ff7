//! The server: built-in defaults, Rocket.toml and the environment decide everything
//! (see README). `rocket-auth --help` lists the commands and the variables.

use std::process::ExitCode;

const USAGE: &str = "\
rocket-auth: password and OAuth sign-in with server-side database sessions

Usage:
  rocket-auth              serve the app (the default command)
  rocket-auth serve        the same
  rocket-auth --help       this text
  rocket-auth --version    the version

Configuration comes from built-in defaults, then Rocket.toml (if the directory it
runs in has one), then the environment. Variables (Auth.js's names):
  DATABASE_URL                    sqlite://… or postgres://… (default sqlite://data/auth.db)
  AUTH_SECRET                     key for cookies and CSRF tokens, >= 32 characters
                                  (openssl rand -base64 32); required in release
  AUTH_URL                        public origin, e.g. https://auth.example.com; required in release
  AUTH_TRUST_HOST                 a trusted proxy is in front: read X-Forwarded-For
  AUTH_GOOGLE_ID, AUTH_GOOGLE_SECRET, AUTH_GOOGLE_ISSUER
  AUTH_GITHUB_ID, AUTH_GITHUB_SECRET, AUTH_GITHUB_URL, AUTH_GITHUB_API_URL
  AUTH_SESSION_MAX_AGE, AUTH_SESSION_UPDATE_AGE, AUTH_SESSION_ABSOLUTE_MAX_AGE,
  AUTH_SESSION_CLEANUP_INTERVAL   session lifetimes, in seconds
  AUTH_ARGON2_MEMORY_KIB, AUTH_ARGON2_ITERATIONS, AUTH_ARGON2_PARALLELISM
  AUTH_PASSWORD_MIN_LENGTH
  AUTH_SIGNIN_MAX_FAILURES, AUTH_SIGNIN_WINDOW
  AUTH_PROVIDER_TIMEOUT
  AUTH_REAUTH_MAX_AGE             sudo mode: seconds an authentication stays fresh (900)
  AUTH_SECRET_1, AUTH_SECRET_2, AUTH_SECRET_3   older secrets, still accepted (rotation)
  EMAIL_SERVER                    smtp://user:password@host:587 (STARTTLS), smtps://…:465, or
                                  file://DIR; debug default file://data/outbox, release: email off
  EMAIL_FROM                      the From address
  AUTH_EMAIL_MAX_PER_ADDRESS, AUTH_EMAIL_MAX_PER_IP, AUTH_EMAIL_POLL_INTERVAL_MS
  ROCKET_ADDRESS, ROCKET_PORT, ROCKET_LOG_LEVEL, ROCKET_DATABASES, …  Rocket's own

README.md has the meaning and default of each.
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        [] | ["serve"] => serve(),
        ["--help" | "-h" | "help"] => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        ["--version" | "-V"] => {
            println!("rocket-auth {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        other => {
            eprintln!("rocket-auth: unknown command {:?}\n\n{USAGE}", other.join(" "));
            ExitCode::from(2)
        }
    }
}

fn serve() -> ExitCode {
    let result = rocket::execute(async { rocket_auth::build(rocket_auth::figment()).launch().await });
    match result {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            // Logs why (a configuration error also names its variable) and marks the
            // error handled: Rocket's errors panic when dropped unread.
            let _ = e.pretty_print();
            ExitCode::FAILURE
        }
    }
}
