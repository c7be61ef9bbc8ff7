//! Notices: messages that tell the owner of a verified address what happened to their
//! account (a password changed or reset, the address being changed, a sign-in from a
//! new device). They are queued with the change and never block it: a notice that
//! cannot be composed or queued is logged.

use serde_json::{json, Value};

use super::{Kind, Mailer};
use crate::config::AuthConfig;
use crate::db::Conn;
use crate::domain::{describe_device, Email};

/// Where the change came from, as the notice tells it.
pub struct Origin<'a> {
    pub user_agent: &'a str,
    /// Empty when unknown.
    pub ip: &'a str,
}

/// Queues a `kind` notice to `to` on `conn`, saying when, from which device and IP
/// (and what `extra` adds). Call [`Mailer::wake`] after the transaction commits.
pub async fn queue(
    mailer: &Mailer,
    config: &AuthConfig,
    conn: &mut Conn,
    kind: Kind,
    to: &str,
    from: Origin<'_>,
    extra: Value,
) {
    let Ok(to) = Email::parse(to) else { return };
    let mut context = json!({
        "when": crate::times::human_time(crate::primitives::now()),
        "device": describe_device(from.user_agent),
        "ip": if from.ip.is_empty() { "an unknown address" } else { from.ip },
    });
    if let (Value::Object(map), Value::Object(more)) = (&mut context, extra) {
        map.extend(more);
    }
    let queued = match mailer.compose(config, kind, &to, context) {
        Ok(composed) => mailer.queue(conn, &composed).await,
        Err(e) => Err(e),
    };
    if let Err(e) = queued {
        log::warn!("a {} notice could not be queued: {e}", kind.name());
    }
}
