//! What every way of signing in does once the first factor is proven: for a user with
//! a second factor, a pending sign-in and the second step; otherwise (and after the
//! second step) a new session, the security log, and a notice to a verified address
//! when the device and IP are new to the account. And the ownership rule, for the
//! flows that prove the address.

use serde_json::json;

use super::audit::{self, Event};
use super::context::Ctx;
use super::second_factor::{self, pending};
use super::session;
use crate::db::{sessions, users, Conn};
use crate::domain::CallbackUrl;
use crate::email::Kind;
use crate::error::Error;
use crate::primitives::now;

/// The user a sign-in is for.
pub struct Person<'a> {
    pub id: &'a str,
    pub email: &'a str,
    /// Whether the address is verified (notices go only to verified addresses).
    pub verified: bool,
}

/// Where a first step goes next.
#[derive(Debug)]
pub struct Finished {
    /// The absolute URL to send the browser to: the flow's `callbackUrl`, or
    /// `/signin/two-factor`.
    pub url: String,
    /// A notice was queued: [`crate::email::Mailer::wake`] it after the caller's
    /// transaction commits (on a plain connection it is committed already).
    pub notice: bool,
    /// The browser was sent to the second step: not signed in yet.
    pub pending: bool,
}

/// The first step of a sign-in as `who` is done, with `method` (`password`, `email`, a
/// provider's id; `how` is how the security log says it, e.g. "GitHub"), on its way to
/// `callback`. With a second factor, no session: the browser's session (whoever's it
/// was) ends, and a pending sign-in sends it to `/signin/two-factor`. Without one, the
/// browser is signed in ([`establish`]).
pub async fn complete(
    ctx: &Ctx<'_>,
    conn: &mut Conn,
    who: &Person<'_>,
    (method, how): (&str, &str),
    callback: &CallbackUrl,
) -> Result<Finished, Error> {
    if let Some(url) = second_step(ctx, conn, who.id, (method, how), callback).await? {
        return Ok(Finished { url, notice: false, pending: true });
    }
    let notice = establish(ctx, conn, who, (method, how)).await?;
    Ok(Finished { url: callback.as_str().to_string(), notice, pending: false })
}

/// When `user_id` has a second factor: ends the browser's session, starts a pending
/// sign-in, and returns the second step's absolute URL. `None` when there is no second
/// factor (the caller signs the browser in).
pub async fn second_step(
    ctx: &Ctx<'_>,
    conn: &mut Conn,
    user_id: &str,
    (method, how): (&str, &str),
    callback: &CallbackUrl,
) -> Result<Option<String>, Error> {
    if !second_factor::required(conn, user_id).await? {
        return Ok(None);
    }
    session::end_current(conn, ctx.jar, ctx.config).await?;
    pending::start(conn, ctx.jar, ctx.config, user_id, (method, how), callback).await?;
    Ok(Some(ctx.config.absolute("/signin/two-factor")))
}

/// Signs this browser in as `who` (every factor the account asks for is proven): a new
/// session, the security log, a notice for a new device. Returns whether a notice was
/// queued.
pub async fn establish(
    ctx: &Ctx<'_>,
    conn: &mut Conn,
    who: &Person<'_>,
    (method, how): (&str, &str),
) -> Result<bool, Error> {
    let familiar = audit::seen_before(conn, who.id, &ctx.client).await.unwrap_or(true);
    session::start(conn, ctx.jar, ctx.config, who.id, method, &ctx.client).await?;
    audit::record(conn, who.id, Event::SignedIn, how, &ctx.client).await;
    let to = (who.verified && !familiar).then_some(who.email);
    Ok(ctx.notify(conn, to, Kind::NewDevice, json!({})).await)
}

/// The ownership rule (pre-hijacking, Sudhodanan & Paverd 2022): when someone proves
/// they own the address of an account that was never verified, whatever the person who
/// registered the address first set up dies: the password (unless this same flow sets
/// it, `keeps_password`), every session, and every second factor (so the flow asks
/// for no second step: the factors were the first registrant's). Then the address is
/// verified. Returns whether the rule ended anything.
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
    second_factor::remove_all(conn, user_id).await?;
    users::mark_verified(conn, user_id, now).await?;
    audit::record(conn, user_id, Event::OwnershipClaimed, "", &ctx.client).await;
    Ok(true)
}
