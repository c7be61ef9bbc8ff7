//! `EMAIL_SERVER` and `EMAIL_FROM`, Auth.js's Email (Nodemailer) provider names.
//!
//! - `smtp://user:pass@host:port`: STARTTLS when the server offers it; add
//!   `?tls=required` to refuse a server that does not (port 587, the submission port,
//!   is the default);
//! - `smtps://user:pass@host:port`: TLS from the first byte (port 465 by default);
//! - `file://DIR`: each message is written to `DIR` as an `.eml` file and its links are
//!   logged: the debug default (`file://data/outbox`), so `cargo run` shows every
//!   flow with nothing installed.
//!
//! A release run without `EMAIL_SERVER` has no email: the features that need it are
//! off, and the start-up log says so.

use std::fmt;
use std::path::PathBuf;

use super::{ConfigError, Secret};

/// How the connection to an SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// STARTTLS when the server offers it, plain otherwise (`smtp://`).
    Opportunistic,
    /// STARTTLS, or no delivery (`smtp://…?tls=required`).
    Required,
    /// TLS from the first byte (`smtps://`).
    Implicit,
}

/// Where mail goes.
#[derive(Clone)]
pub enum EmailServer {
    Smtp {
        host: String,
        port: u16,
        security: SmtpSecurity,
        /// User and password, when the URL carries them.
        credentials: Option<(String, Secret)>,
    },
    /// A folder: each message as an `.eml` file.
    File(PathBuf),
}

impl fmt::Debug for EmailServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EmailServer::Smtp { host, port, security, credentials } => f
                .debug_struct("Smtp")
                .field("host", host)
                .field("port", port)
                .field("security", security)
                .field("user", &credentials.as_ref().map(|(user, _)| user))
                .finish(),
            EmailServer::File(dir) => f.debug_tuple("File").field(dir).finish(),
        }
    }
}

/// The email channel, when there is one.
#[derive(Debug, Clone)]
pub struct EmailConfig {
    pub server: EmailServer,
    /// The `From` header: `Name <address>` or an address.
    pub from: String,
    /// Messages per address per hour on the routes that send (sign-in by email,
    /// forgot-password, resend).
    pub max_per_address: u32,
    /// Messages per client IP per hour on those routes.
    pub max_per_ip: u32,
    /// Milliseconds between two looks of the outbox worker at the queue (a message
    /// queued by this instance wakes it at once).
    pub poll_interval_ms: u64,
}

/// The debug default of `EMAIL_SERVER`.
pub const DEBUG_SERVER: &str = "file://data/outbox";

fn decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Parses `EMAIL_SERVER`.
pub fn parse_server(raw: &str) -> Result<EmailServer, ConfigError> {
    let bad = |problem: &str| ConfigError::key("EMAIL_SERVER", "auth.email_server", problem);
    let raw = raw.trim();
    if let Some(dir) = raw.strip_prefix("file://") {
        if dir.is_empty() {
            return Err(bad("file:// needs a folder, e.g. file://data/outbox"));
        }
        return Ok(EmailServer::File(PathBuf::from(dir)));
    }
    let url = url::Url::parse(raw)
        .map_err(|_| bad("expected smtp://user:password@host:port, smtps://… or file://DIR"))?;
    let (default_port, mut security) = match url.scheme() {
        "smtp" => (587, SmtpSecurity::Opportunistic),
        "smtps" => (465, SmtpSecurity::Implicit),
        _ => return Err(bad("expected smtp://user:password@host:port, smtps://… or file://DIR")),
    };
    let host = url.host_str().filter(|h| !h.is_empty()).ok_or_else(|| bad("names no host"))?;
    for (key, value) in url.query_pairs() {
        match (key.as_ref(), value.as_ref(), security) {
            ("tls", "required", SmtpSecurity::Opportunistic) => security = SmtpSecurity::Required,
            ("tls", "required" | "implicit", SmtpSecurity::Implicit) => {}
            ("tls", "opportunistic", SmtpSecurity::Opportunistic) => {}
            _ => return Err(bad(&format!("unknown option {key}={value}; smtp:// takes ?tls=required"))),
        }
    }
    let credentials = (!url.username().is_empty()).then(|| {
        let password = url.password().map(decode).unwrap_or_default();
        (decode(url.username()), Secret(password.into_bytes()))
    });
    Ok(EmailServer::Smtp {
        host: host.trim_start_matches('[').trim_end_matches(']').to_string(),
        port: url.port().unwrap_or(default_port),
        security,
        credentials,
    })
}

/// Checks `EMAIL_FROM`: `Name <address>` or an address, with a valid address.
pub fn parse_from(raw: &str) -> Result<String, ConfigError> {
    let raw = raw.trim();
    let address = match (raw.rfind('<'), raw.ends_with('>')) {
        (Some(open), true) => &raw[open + 1..raw.len() - 1],
        _ => raw,
    };
    let valid = crate::domain::Email::parse(address).is_ok() && !raw.chars().any(char::is_control);
    if !valid {
        return Err(ConfigError::key("EMAIL_FROM", "auth.email_from", format!("is not an address: {raw:?}")));
    }
    Ok(raw.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_smtp_forms_and_the_file_form() {
        match parse_server("smtp://ada:p%40ss+word@smtp.example.com").unwrap() {
            EmailServer::Smtp { host, port, security, credentials } => {
                assert_eq!(
                    (host.as_str(), port, security),
                    ("smtp.example.com", 587, SmtpSecurity::Opportunistic)
                );
                let (user, password) = credentials.unwrap();
                assert_eq!((user.as_str(), password.expose_str()), ("ada", "p@ss+word"));
            }
            other => panic!("{other:?}"),
        }
        match parse_server("smtp://mail.example:2525?tls=required").unwrap() {
            EmailServer::Smtp { port, security, credentials, .. } => {
                assert_eq!((port, security), (2525, SmtpSecurity::Required));
                assert!(credentials.is_none());
            }
            other => panic!("{other:?}"),
        }
        match parse_server("smtps://u:p@mail.example").unwrap() {
            EmailServer::Smtp { port, security, .. } => {
                assert_eq!((port, security), (465, SmtpSecurity::Implicit))
            }
            other => panic!("{other:?}"),
        }
        match parse_server("file://data/outbox").unwrap() {
            EmailServer::File(dir) => assert_eq!(dir, PathBuf::from("data/outbox")),
            other => panic!("{other:?}"),
        }
        for bad in ["http://x", "smtp://", "smtp://h?tls=maybe", "file://", "nonsense"] {
            assert!(parse_server(bad).is_err(), "{bad}");
        }
        assert!(!format!("{:?}", parse_server("smtp://u:hunter2@h").unwrap()).contains("hunter2"));
    }

    #[test]
    fn from_is_an_address_or_a_name_with_one() {
        assert!(parse_from("no-reply@example.com").is_ok());
        assert!(parse_from("Rocket Auth <no-reply@example.com>").is_ok());
        assert!(parse_from("not an address").is_err());
        assert!(parse_from("Eve <eve@example.com>\r\nBcc: x@y.z").is_err());
    }
}
