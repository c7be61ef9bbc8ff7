//! Who is on the other end: IP address and user agent, recorded with each session.

use std::net::IpAddr;

use rocket::request::Request;

use crate::config::AuthConfig;

/// Longest user agent kept; real ones are a few hundred bytes.
const MAX_USER_AGENT: usize = 512;

/// The client as the session rows record it.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    pub ip: String,
    pub user_agent: String,
}

/// The client's IP: the socket's peer address. Forwarding headers are read only when
/// `AUTH_TRUST_HOST` says a trusted proxy is in front (Rocket's own `X-Real-IP`
/// handling is turned off in [`crate::figment`], since any client can send it). Behind
/// the proxy, the last `X-Forwarded-For` entry is the one the proxy itself appended.
pub fn client_ip(req: &Request<'_>, config: &AuthConfig) -> Option<IpAddr> {
    if config.trust_host {
        let forwarded = req
            .headers()
            .get("X-Forwarded-For")
            .last()
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse().ok())
            .or_else(|| req.headers().get_one("X-Real-IP").and_then(|v| v.trim().parse().ok()));
        if forwarded.is_some() {
            return forwarded;
        }
    }
    req.remote().map(|addr| addr.ip())
}

impl ClientInfo {
    /// The client of `req`: its IP (see [`client_ip`]) and its user agent, without
    /// control characters, at most 512 characters.
    pub fn of(req: &Request<'_>, config: &AuthConfig) -> Self {
        let ip = client_ip(req, config).map(|ip| ip.to_string()).unwrap_or_default();
        let user_agent: String = req
            .headers()
            .get_one("User-Agent")
            .unwrap_or("")
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_USER_AGENT)
            .collect();
        ClientInfo { ip, user_agent }
    }
}
