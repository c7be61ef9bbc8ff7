//! Throttling of sign-in, sign-up and OAuth starts, with counters in the database so
//! that the limits hold across every instance.
//!
//! - Sign-in, per account: `AUTH_SIGNIN_MAX_FAILURES` failures (5) within
//!   `AUTH_SIGNIN_WINDOW` seconds (900) lock the account's sign-in until the window
//!   ends; a successful sign-in resets the count. Variants of one email (case, spaces)
//!   are one account, since the key is the normalised email.
//! - Sign-in, per client IP: [`IP_MULTIPLE`] times as many failures, across accounts
//!   (one address trying many accounts). A success does not reset it.
//! - Sign-up and OAuth starts, per client IP: [`IP_MULTIPLE`] × max attempts per window.
//! - Mail sent on request (sign-in by email, forgot-password, resending the
//!   verification, an email change), per address and per client IP:
//!   `AUTH_EMAIL_MAX_PER_ADDRESS` (5) and `AUTH_EMAIL_MAX_PER_IP` (30) per hour, shared
//!   by those routes. Wrong emailed codes count against the account's sign-in limit.
//!
//! A throttled request gets 429 with `Retry-After` before any password is checked:
//! the attempt is counted first, atomically, then checked ([`take`]).
//! IPv6 clients are counted per /64, the block one subscriber usually gets.

use std::net::IpAddr;

use crate::config::AuthConfig;
use crate::db::{throttle, Conn};
use crate::error::Error;
use crate::primitives::hmac_hex;

/// How many times the per-account limit the per-IP limits are.
pub const IP_MULTIPLE: u32 = 4;

/// What is being limited.
#[derive(Debug, Clone, Copy)]
pub enum Action {
    SignIn,
    SignUp,
    OAuthStart,
    Email,
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Action::SignIn => "signin",
            Action::SignUp => "signup",
            Action::OAuthStart => "oauth",
            Action::Email => "email",
        }
    }
}

/// The window of the mail limits, in seconds.
pub const EMAIL_WINDOW: i64 = 3600;

/// One counter, its limit and its window.
pub struct Limit {
    key: String,
    max: i64,
    window: i64,
}

fn key(config: &AuthConfig, what: &str) -> String {
    hmac_hex(config.secret.expose(), "throttle", what)
}

/// The per-account sign-in counter of a normalised email.
pub fn account(config: &AuthConfig, email: &str) -> Limit {
    Limit {
        key: key(config, &format!("signin:account:{email}")),
        max: i64::from(config.signin_max_failures),
        window: config.signin_window as i64,
    }
}

/// The mail sent on request to a normalised address (or `0`-limit when email is off).
pub fn email_address(config: &AuthConfig, email: &str) -> Limit {
    let max = config.email.as_ref().map_or(0, |e| e.max_per_address);
    Limit { key: key(config, &format!("email:address:{email}")), max: i64::from(max), window: EMAIL_WINDOW }
}

/// The mail sent on request from a client IP.
pub fn email_ip(config: &AuthConfig, ip: &str) -> Limit {
    let max = config.email.as_ref().map_or(0, |e| e.max_per_ip);
    Limit { key: key(config, &format!("email:ip:{}", block(ip))), max: i64::from(max), window: EMAIL_WINDOW }
}

/// What counts as one client: an IPv4 address, an IPv6 /64.
fn block(ip: &str) -> String {
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(IpAddr::V6(v6)) => v6.to_ipv4_mapped().map(|v4| v4.to_string()).unwrap_or_default(),
        _ => ip.to_string(),
    }
}

/// The per-IP counter of an action; `ip` is as [`crate::auth::client::ClientInfo`]
/// records it.
pub fn ip(config: &AuthConfig, action: Action, ip: &str) -> Limit {
    if let Action::Email = action {
        return email_ip(config, ip);
    }
    Limit {
        key: key(config, &format!("{}:ip:{}", action.name(), block(ip))),
        max: i64::from(config.signin_max_failures.saturating_mul(IP_MULTIPLE)),
        window: config.signin_window as i64,
    }
}

/// Counts this attempt against `limits`, in order, and refuses with
/// [`Error::TooManyAttempts`] at the first whose count goes past its limit, saying when
/// it frees up. Each count is one atomic statement and comes *before* the work it
/// guards (a password verified, a mail sent), so parallel attempts get no more tries
/// than sequential ones: of 40 wrong passwords sent at once for one account, exactly
/// `AUTH_SIGNIN_MAX_FAILURES` are checked. A refused attempt stays counted (the window
/// does not move) but is not counted against the limits after the one that refused
/// it: put the widest limit (the client's address) first, so an address past its limit
/// cannot add to an account's count.
pub async fn take(conn: &mut Conn, limits: &[&Limit], now: i64) -> Result<(), Error> {
    for limit in limits {
        let (hits, start) = throttle::hit(conn, &limit.key, now, limit.window).await?;
        if hits > limit.max {
            return Err(Error::TooManyAttempts { retry_after: (start + limit.window - now).max(1) });
        }
    }
    Ok(())
}

/// Takes back the attempt [`take`] counted, when it turned out to be no failure (the
/// right password): a person who signs in is not one try closer to a lock.
pub async fn give_back(conn: &mut Conn, limit: &Limit) -> Result<(), Error> {
    Ok(throttle::give_back(conn, &limit.key).await?)
}

/// Forgets a counter (a successful sign-in resets its account's count).
pub async fn reset(conn: &mut Conn, limit: &Limit) -> Result<(), Error> {
    Ok(throttle::delete(conn, &limit.key).await?)
}
