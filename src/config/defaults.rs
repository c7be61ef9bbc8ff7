//! The built-in defaults: the Rocket settings the app ships with, and the `[auth]`
//! values a missing key takes. One source: Rocket.toml only overrides them (and shows
//! them commented out, a test keeps it so).

/// The database used when `DATABASE_URL` is not set: a file created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/auth.db";

/// The Rocket settings the app ships with, under Rocket.toml and the environment (both
/// may override them). Built in, so the binary behaves the same from any directory.
///
/// - Body limits: auth forms are a few hundred bytes; 16 KiB leaves room and keeps a
///   flood of large bodies cheap (Rocket's own JSON limit is 1 MiB).
/// - The pool, `databases.main`: 8 connections. A signed-in request holds one for a
///   single query and sign-in holds none while argon2 runs, so a few serve many
///   requests: on 2 cores, 4, 8 and 16 gave the same session-check throughput on both
///   databases and 32 was slower on PostgreSQL (more backends contending for the same
///   cores); 8 leaves room for bursts of sign-in writes and lets a dozen instances
///   share one PostgreSQL's 100 connections. `connect_timeout` (5 s) is how long a
///   request waits for a connection (and, on SQLite, for the write lock) before 503;
///   `idle_timeout` (600 s) gives a quiet instance's PostgreSQL backends back.
/// - `ip_header = false`: the client IP is the socket's (see [`crate::figment`]).
/// - A release build listens on every interface (`0.0.0.0`), as a container needs.
pub fn rocket_defaults() -> impl rocket::figment::Provider {
    use rocket::figment::providers::Serialized;
    let limits = serde_json::json!({
        "form": "16KiB", "data-form": "16KiB", "json": "16KiB", "string": "16KiB",
        "bytes": "16KiB", "file": "1MiB",
    });
    let all = serde_json::json!({
        "ip_header": false,
        "limits": limits,
        "databases": { "main": {
            "url": DEFAULT_DATABASE_URL,
            "max_connections": 8,
            "connect_timeout": 5,
            "idle_timeout": 600,
        }},
    });
    let release = serde_json::json!({ "address": "0.0.0.0" });
    rocket::figment::Figment::from(Serialized::defaults(all)).merge(Serialized::from(release, "release"))
}

/// `AUTH_URL` of a debug run; a release run must say where it is served.
pub(super) const DEBUG_URL: &str = "http://localhost:8000";

pub(super) fn base_path() -> String {
    "/api/auth".into()
}
pub(super) fn google_issuer() -> String {
    "https://accounts.google.com".into()
}
pub(super) fn github_url() -> String {
    "https://github.com".into()
}
pub(super) fn github_api_url() -> String {
    "https://api.github.com".into()
}
pub(super) fn session_max_age() -> u64 {
    30 * 24 * 3600
}
pub(super) fn session_update_age() -> u64 {
    24 * 3600
}
pub(super) fn session_absolute_max_age() -> u64 {
    90 * 24 * 3600
}
pub(super) fn session_cleanup_interval() -> u64 {
    3600
}
pub(super) fn argon2_memory_kib() -> u32 {
    19_456
}
pub(super) fn argon2_iterations() -> u32 {
    2
}
pub(super) fn argon2_parallelism() -> u32 {
    1
}
pub(super) fn password_min_length() -> usize {
    8
}
pub(super) fn signin_max_failures() -> u32 {
    5
}
pub(super) fn signin_window() -> u64 {
    900
}
pub(super) fn provider_timeout() -> u64 {
    10
}
pub(super) fn reauth_max_age() -> u64 {
    900
}
pub(super) fn email_max_per_address() -> u32 {
    5
}
pub(super) fn email_max_per_ip() -> u32 {
    30
}
pub(super) fn email_poll_interval_ms() -> u64 {
    5000
}
