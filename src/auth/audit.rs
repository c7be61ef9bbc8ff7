//! The per-user security log shown on /account as "Recent security activity". It
//! records what happened, when, from which IP and device; never a password, token or
//! code. Writing it must not fail the action it records: a failure is logged instead.

use super::client::ClientInfo;
use crate::db::{security_events, Conn};
use crate::primitives::{new_id, now};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    SignedUp,
    SignedIn,
    SignInFailed,
    SignedOut,
    SessionRevoked,
    OtherSessionsRevoked,
    PasswordChanged,
    PasswordSet,
    ProviderLinked,
    ProviderUnlinked,
    PasswordReset,
    EmailVerified,
    EmailChangeRequested,
    EmailChanged,
    /// Proof of the address ended what its first registrant had set up.
    OwnershipClaimed,
    TwoFactorEnabled,
    TwoFactorDisabled,
    RecoveryCodesRenewed,
    /// A recovery code signed in (the detail: how many are left).
    RecoveryCodeUsed,
    /// A wrong code at the second step of a sign-in.
    SecondFactorFailed,
    /// Confirmed it is them at `/reauth` (the detail: with what).
    Reauthenticated,
    /// A wrong password or code at `/reauth`.
    ReauthFailed,
}

impl Event {
    pub fn kind(self) -> &'static str {
        match self {
            Event::SignedUp => "signed_up",
            Event::SignedIn => "signed_in",
            Event::SignInFailed => "sign_in_failed",
            Event::SignedOut => "signed_out",
            Event::SessionRevoked => "session_revoked",
            Event::OtherSessionsRevoked => "other_sessions_revoked",
            Event::PasswordChanged => "password_changed",
            Event::PasswordSet => "password_set",
            Event::ProviderLinked => "provider_linked",
            Event::ProviderUnlinked => "provider_unlinked",
            Event::PasswordReset => "password_reset",
            Event::EmailVerified => "email_verified",
            Event::EmailChangeRequested => "email_change_requested",
            Event::EmailChanged => "email_changed",
            Event::OwnershipClaimed => "ownership_claimed",
            Event::TwoFactorEnabled => "two_factor_enabled",
            Event::TwoFactorDisabled => "two_factor_disabled",
            Event::RecoveryCodesRenewed => "recovery_codes_renewed",
            Event::RecoveryCodeUsed => "recovery_code_used",
            Event::SecondFactorFailed => "second_factor_failed",
            Event::Reauthenticated => "reauthenticated",
            Event::ReauthFailed => "reauth_failed",
        }
    }

    /// How the account page says it.
    pub fn describe(kind: &str, detail: &str) -> String {
        let via =
            |what: &str| if detail.is_empty() { what.to_string() } else { format!("{what} with {detail}") };
        match kind {
            "signed_up" => via("Account created"),
            "signed_in" => via("Signed in"),
            "sign_in_failed" => "Failed sign-in (wrong password)".into(),
            "signed_out" => "Signed out".into(),
            "session_revoked" => "Signed out another session".into(),
            "other_sessions_revoked" => format!("Signed out all other sessions ({detail})"),
            "password_changed" => "Password changed".into(),
            "password_set" => "Password set".into(),
            "provider_linked" => format!("{detail} connected"),
            "provider_unlinked" => format!("{detail} disconnected"),
            "password_reset" => "Password reset by email".into(),
            "email_verified" => "Email address confirmed".into(),
            "email_change_requested" => format!("Email change to {detail} requested"),
            "email_changed" => format!("Email address changed to {detail}"),
            "ownership_claimed" => {
                "Address proven: the earlier password, sessions and two-factor settings were removed".into()
            }
            "two_factor_enabled" => "Two-factor authentication turned on".into(),
            "two_factor_disabled" => "Two-factor authentication turned off".into(),
            "recovery_codes_renewed" => "New recovery codes made (the old ones no longer work)".into(),
            "recovery_code_used" => format!("Signed in with a recovery code ({detail} left)"),
            "second_factor_failed" => "Failed sign-in (wrong two-factor code)".into(),
            "reauthenticated" => via("Confirmed it was you"),
            "reauth_failed" => "Failed confirmation (wrong password or code)".into(),
            other => other.to_string(),
        }
    }
}

fn new_event<'a>(
    user_id: &'a str,
    event: Event,
    detail: &'a str,
    client: &'a ClientInfo,
    id: &'a str,
) -> security_events::NewEvent<'a> {
    security_events::NewEvent {
        id,
        user_id,
        kind: event.kind(),
        detail,
        ip: &client.ip,
        user_agent: &client.user_agent,
        now: now(),
    }
}

/// Records `event` for `user_id`, with the client's IP and user agent.
pub async fn record(conn: &mut Conn, user_id: &str, event: Event, detail: &str, client: &ClientInfo) {
    let id = new_id();
    if let Err(e) = security_events::insert(conn, &new_event(user_id, event, detail, client, &id)).await {
        log::warn!("the security log could not record {:?}: {e}", event);
    }
}

/// Records `event` for whoever owns `email`, doing the same work when no one does (see
/// [`security_events::insert_for_email`]): how a failed sign-in is logged.
pub async fn record_for_email(conn: &mut Conn, email: &str, event: Event, client: &ClientInfo) {
    let id = new_id();
    let row = new_event("", event, "", client, &id);
    if let Err(e) = security_events::insert_for_email(conn, email, &row).await {
        log::warn!("the security log could not record {:?}: {e}", event);
    }
}

/// How far back a sign-in from the same device and IP makes a new one familiar.
pub const FAMILIAR_FOR: i64 = 90 * 86400;

/// Whether the user has signed in (or up) from this device and IP in the last 90 days:
/// when not, a verified address gets a notice. The device is the browser and system
/// named from the user agent (a browser's version changes every few weeks).
pub async fn seen_before(conn: &mut Conn, user_id: &str, client: &ClientInfo) -> Result<bool, sqlx::Error> {
    let device = crate::domain::describe_device(&client.user_agent);
    let recent = security_events::recent_signins(conn, user_id, now() - FAMILIAR_FOR).await?;
    Ok(recent.iter().any(|(ip, ua)| ip == &client.ip && crate::domain::describe_device(ua) == device))
}
