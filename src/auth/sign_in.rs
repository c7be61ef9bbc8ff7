//! What every way of signing in does once the first factor is proven: a new session,
//! the security log, and a notice to a verified address when the device and IP are new
//! to the account. And the ownership rule, for the flows that prove the address.

use serde_json::json;

use super::audit::{self, Event};
use super::context::Ctx;
use super::session;
use crate::db::{sessions, users, Conn};
use crate::email::{notices, Kind};
use crate::error::Error;
use crate::primitives::now;

/// The user a sign-in is for.
pub struct Person<'a> {
    pub id: &'a str,
    pub email: &'a str,
    /// Whether the address is verified (notices go only to verified addresses).
    pub verified: bool,
}

/// Signs this browser in as `who`, signed in with `method` (`password`, `email`, a
/// provider's id; `how` is how the security log says it, e.g. "GitHub"). Returns
/// whether a notice was queued ([`crate::email::Mailer::wake`] it after the caller's
/// transaction commits; on a plain connection it is committed already).
pub async fn complete(
    ctx: &Ctx<'_>,
    conn: &mut Conn,
    who: &Person<'_>,
    (method, how): (&str, &str),
) -> Result<bool, Error> {
    let familiar = audit::seen_before(conn, who.id, &ctx.client).await.unwrap_or(true);
    session::start(conn, ctx.jar, ctx.config, who.id, method, &ctx.client).await?;
    audit::record(conn, who.id, Event::SignedIn, how, &ctx.client).await;
    match ctx.mailer() {
        Some(mailer) if !familiar && who.verified => {
            notices::queue(mailer, ctx.config, conn, Kind::NewDevice, who.email, &ctx.client, json!({}))
                .await;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// The ownership rule (pre-hijacking, Sudhodanan & Paverd 2022): when someone proves
/// they own the address of an account that was never verified, whatever the person who
/// registered the address first set up dies: the password (unless this same flow sets
/// it, `keeps_password`) and every session. Then the address is verified. Returns
/// whether the rule ended anything.
pub async fn prove_address(
    ctx: &Ctx<'_>,
    conn: &mut Conn,
    user_id: &str,
    verified: bool,
    keeps_password: bool,
) -> Result<bool, Error> {
    let now = now();
    if verified {
        return Ok(false);
    }
    if !keeps_password {
        users::remove_password(conn, user_id, now).await?;
    }
    sessions::delete_all_for_user(conn, user_id).await?;
    users::mark_verified(conn, user_id, now).await?;
    audit::record(conn, user_id, Event::OwnershipClaimed, "", &ctx.client).await;
    Ok(true)
}
