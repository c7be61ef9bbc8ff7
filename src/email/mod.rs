//! Email: messages rendered from `templates/email/`, queued in the outbox in the same
//! transaction as the change that causes them, and delivered by a worker on every
//! instance ([`worker`]). A request never waits for SMTP, and SMTP being down never
//! fails a sign-up or a reset request: mail queued during an outage goes out when it
//! returns.
//!
//! Every message has a text and an HTML part; every value in them is escaped (the
//! HTML part by Tera's autoescape); headers are built by lettre, which encodes them,
//! and carry no name, only addresses [`Email::parse`] accepted, so nothing a user typed
//! can add a header.

pub mod notices;
mod templates;
pub mod transport;
pub mod worker;

use std::sync::Arc;

use lettre::message::{header, Mailbox, MultiPart};
use lettre::{Address, Message};
use rocket::tokio::sync::Notify;
use rocket_dyn_templates::tera;
use serde_json::Value;

use crate::config::{AuthConfig, EmailConfig, EmailServer};
use crate::db::{outbox, Conn};
use crate::domain::Email;
use crate::error::Error;
use crate::primitives::{new_id, now};

/// What a message is (the outbox's `kind`), its subject and its templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A sign-in link and code (Auth.js's Email provider).
    SignIn,
    /// A password-reset link.
    Reset,
    /// Confirm the address given at sign-up.
    Verify,
    /// Confirm a new address (sent to it).
    EmailChange,
    /// The password was changed or set.
    PasswordChanged,
    /// The password was reset by email.
    PasswordReset,
    /// The address is being changed (sent to the old one).
    EmailChanging,
    /// A sign-in from a device and IP not seen for this account in 90 days.
    NewDevice,
    /// Two-factor authentication was turned on.
    TwoFactorEnabled,
    /// Two-factor authentication was turned off.
    TwoFactorDisabled,
    /// A recovery code was used to sign in.
    RecoveryCodeUsed,
    /// The account was deleted.
    AccountDeleted,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::SignIn => "signin",
            Kind::Reset => "reset",
            Kind::Verify => "verify",
            Kind::EmailChange => "email_change",
            Kind::PasswordChanged => "password_changed",
            Kind::PasswordReset => "password_reset",
            Kind::EmailChanging => "email_changing",
            Kind::NewDevice => "new_device",
            Kind::TwoFactorEnabled => "two_factor_enabled",
            Kind::TwoFactorDisabled => "two_factor_disabled",
            Kind::RecoveryCodeUsed => "recovery_code_used",
            Kind::AccountDeleted => "account_deleted",
        }
    }

    fn subject(self) -> &'static str {
        match self {
            Kind::SignIn => "Your sign-in link for Rocket Auth",
            Kind::Reset => "Reset your Rocket Auth password",
            Kind::Verify => "Confirm your email address for Rocket Auth",
            Kind::EmailChange => "Confirm your new email address for Rocket Auth",
            Kind::PasswordChanged => "Your Rocket Auth password was changed",
            Kind::PasswordReset => "Your Rocket Auth password was reset",
            Kind::EmailChanging => "Your Rocket Auth email address is being changed",
            Kind::NewDevice => "A new sign-in to your Rocket Auth account",
            Kind::TwoFactorEnabled => "Two-factor authentication is on for your Rocket Auth account",
            Kind::TwoFactorDisabled => {
                "Two-factor authentication was turned off for your Rocket Auth account"
            }
            Kind::RecoveryCodeUsed => "A recovery code was used to sign in to your Rocket Auth account",
            Kind::AccountDeleted => "Your Rocket Auth account was deleted",
        }
    }
}

/// A message ready to queue.
pub struct Composed {
    kind: Kind,
    recipient: String,
    message: String,
    /// The links in it, logged when mail goes to a folder (a debug run).
    links: Vec<String>,
}

/// The email channel, in managed state when email is on.
pub struct Mailer {
    templates: tera::Tera,
    from: Mailbox,
    /// The host of `AUTH_URL`, for Message-IDs.
    host: String,
    /// Mail goes to a folder: links are logged too.
    to_folder: bool,
    /// Wakes this instance's worker when a message was queued here.
    wake: Arc<Notify>,
    pub(crate) config: EmailConfig,
}

impl Mailer {
    pub fn new(config: &AuthConfig, email: &EmailConfig) -> Result<Self, String> {
        let from: Mailbox = email.from.parse().map_err(|e| format!("EMAIL_FROM {:?}: {e}", email.from))?;
        Ok(Mailer {
            templates: templates::load()?,
            from,
            host: config.origin.host_str().unwrap_or("localhost").to_string(),
            to_folder: matches!(email.server, EmailServer::File(_)),
            wake: Arc::new(Notify::new()),
            config: email.clone(),
        })
    }

    /// The address mail comes from.
    pub fn from_address(&self) -> &Address {
        &self.from.email
    }

    /// Renders a `kind` message to `to` from its templates (`context` adds to what
    /// every message gets: the app's origin and the recipient).
    pub fn compose(
        &self,
        config: &AuthConfig,
        kind: Kind,
        to: &Email,
        mut context: Value,
    ) -> Result<Composed, Error> {
        let fault = |e: String| Error::Internal(format!("composing a {} message: {e}", kind.name()));
        if let Value::Object(map) = &mut context {
            map.insert("origin".into(), Value::String(config.absolute("")));
            map.insert("email".into(), Value::String(to.as_str().to_string()));
        }
        let ctx = tera::Context::from_value(context.clone()).map_err(|e| fault(e.to_string()))?;
        let render = |ext: &str| {
            self.templates
                .render(&format!("{}.{ext}", kind.name()), &ctx)
                .map_err(|e| fault(format!("{e:?}")))
        };
        let (text, html) = (render("txt")?, render("html")?);
        let recipient: Address = to.as_str().parse().map_err(|e| fault(format!("{e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, recipient))
            .subject(kind.subject())
            .message_id(Some(format!("<{}@{}>", new_id(), self.host)))
            .header(header::MIME_VERSION_1_0)
            .multipart(MultiPart::alternative_plain_html(text, html))
            .map_err(|e| fault(e.to_string()))?;
        let message = String::from_utf8(message.formatted()).map_err(|e| fault(e.to_string()))?;
        let links = context["link"].as_str().map(str::to_string).into_iter().collect();
        Ok(Composed { kind, recipient: to.as_str().to_string(), message, links })
    }

    /// Queues `composed` on `conn` (the caller's transaction: it is sent only if the
    /// change that caused it commits). [`Mailer::wake`] after the commit sends it now.
    pub async fn queue(&self, conn: &mut Conn, composed: &Composed) -> Result<(), Error> {
        let row = outbox::NewMessage {
            id: &new_id(),
            kind: composed.kind.name(),
            recipient: &composed.recipient,
            message: &composed.message,
            now: now(),
        };
        outbox::insert(conn, &row).await?;
        self.log_links(composed);
        Ok(())
    }

    /// Queues `composed` only when its recipient has an account, with the same work
    /// either way (forgot-password must not tell whether an address is registered).
    pub async fn queue_for_account(&self, conn: &mut Conn, composed: &Composed) -> Result<bool, Error> {
        let row = outbox::NewMessage {
            id: &new_id(),
            kind: composed.kind.name(),
            recipient: &composed.recipient,
            message: &composed.message,
            now: now(),
        };
        let queued = outbox::insert_for_account(conn, &row).await?;
        if queued {
            self.log_links(composed);
        }
        Ok(queued)
    }

    fn log_links(&self, composed: &Composed) {
        if self.to_folder {
            for link in &composed.links {
                log::info!("{} email to {}: {link}", composed.kind.name(), composed.recipient);
            }
        }
    }

    /// Wakes this instance's outbox worker (after the transaction that queued commits).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub(crate) fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }
}
