//! Delivering one message: to an SMTP server (lettre over tokio and rustls), or to a
//! folder as an `.eml` file. A refusal is either temporary (no connection, a timeout,
//! a 4xx answer: tried again later) or permanent (a 5xx answer: given up).

use std::path::PathBuf;
use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::config::{EmailServer, SmtpSecurity};

/// Seconds allowed for each SMTP command (lettre's default is a minute).
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// Why a delivery failed.
#[derive(Debug)]
pub enum Failed {
    /// Try again later.
    Temporary(String),
    /// Do not try again.
    Permanent(String),
}

/// Where messages go.
pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(PathBuf),
}

impl Transport {
    pub fn new(server: &EmailServer) -> Result<Self, String> {
        match server {
            EmailServer::File(dir) => Ok(Transport::File(dir.clone())),
            EmailServer::Smtp { host, port, security, credentials } => {
                let tls_parameters = || {
                    TlsParameters::new(host.clone()).map_err(|e| format!("EMAIL_SERVER: TLS for {host}: {e}"))
                };
                let tls = match security {
                    SmtpSecurity::Opportunistic => Tls::Opportunistic(tls_parameters()?),
                    SmtpSecurity::Required => Tls::Required(tls_parameters()?),
                    SmtpSecurity::Implicit => Tls::Wrapper(tls_parameters()?),
                };
                let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.clone())
                    .port(*port)
                    .tls(tls)
                    .timeout(Some(SMTP_TIMEOUT));
                if let Some((user, password)) = credentials {
                    builder = builder
                        .credentials(Credentials::new(user.clone(), password.expose_str().to_string()));
                }
                Ok(Transport::Smtp(builder.build()))
            }
        }
    }

    /// Delivers `message` (the whole RFC 5322 text) to `to`, from `from`.
    pub async fn send(&self, id: &str, from: &Address, to: &str, message: &str) -> Result<(), Failed> {
        match self {
            Transport::Smtp(smtp) => {
                let to: Address =
                    to.parse().map_err(|e| Failed::Permanent(format!("recipient {to:?}: {e}")))?;
                let envelope = Envelope::new(Some(from.clone()), vec![to])
                    .map_err(|e| Failed::Permanent(format!("envelope: {e}")))?;
                smtp.send_raw(&envelope, message.as_bytes()).await.map(|_| ()).map_err(|e| {
                    if e.is_permanent() {
                        Failed::Permanent(e.to_string())
                    } else {
                        Failed::Temporary(e.to_string())
                    }
                })
            }
            Transport::File(dir) => {
                let path = dir.join(format!("{id}.eml"));
                let written = async {
                    rocket::tokio::fs::create_dir_all(dir).await?;
                    rocket::tokio::fs::write(&path, message).await
                };
                written.await.map_err(|e| Failed::Temporary(format!("{}: {e}", path.display())))?;
                log::info!("email to {to} written to {}", path.display());
                Ok(())
            }
        }
    }
}
