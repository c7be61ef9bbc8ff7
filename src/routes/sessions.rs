//! The sessions page: where the signed-in user is signed in, and the way to end any of
//! it. `GET /sessions`, `POST /sessions/<id>/revoke`, `POST /sessions/revoke-others`.
//!
//! Revoking deletes the row, so the session stops working at once on every instance:
//! the next request that brings its token finds nothing.

use rocket::request::FlashMessage;
use rocket::{get, post, routes, Route};

use crate::auth::audit::{self, Event};
use crate::auth::context::Ctx;
use crate::auth::form::{CallbackForm, Payload};
use crate::auth::guards::SignedIn;
use crate::auth::session::{self, ACTIVITY_INTERVAL};
use crate::db::sessions;
use crate::domain::{describe_device, PublicSessionId};
use crate::error::{Error, Result};
use crate::primitives::now;
use crate::reply::{Html, Reply};
use crate::views::{Base, SessionRow, SessionsPage, TimeView};

pub fn routes() -> Vec<Route> {
    routes![list, revoke, revoke_others]
}

/// Every live session of the user, most recently active first, the current one marked.
/// Signed out: 303 to `/signin?callbackUrl=/sessions` (401 for JSON clients).
#[get("/sessions")]
async fn list(me: SignedIn<'_>, ctx: Ctx<'_>, flash: Option<FlashMessage<'_>>) -> Result<Html> {
    let now = now();
    let mut conn = ctx.db.conn().await?;
    let rows = sessions::list_for_user(&mut conn, &me.0.user.id, now).await?;
    let sessions = rows
        .into_iter()
        .map(|s| {
            let current = s.id == me.0.id;
            // The current request's own activity may not be written yet (throttled):
            // show the truth, which is "now".
            let last_active = if current { now } else { s.last_active_at };
            SessionRow {
                current,
                device: describe_device(&s.user_agent),
                created: TimeView::new(s.created_at, now),
                last_active: TimeView::new(last_active, now),
                expires: TimeView::new(s.expires_at, now),
                user_agent: s.user_agent,
                ip: s.ip,
                id: s.id,
            }
        })
        .collect();
    let base = Base::new(Some(me.0), &ctx.csrf, ctx.config, flash);
    Ok(Html::render("sessions", SessionsPage { base, sessions, activity_minutes: ACTIVITY_INTERVAL / 60 }))
}

/// Ends one of the user's sessions. The id is the public half of a token; an id that
/// is malformed, unknown, or another user's answers 404 and changes nothing (after the
/// CSRF check, which comes first). Revoking the current session signs this browser out.
#[post("/sessions/<id>/revoke", data = "<form>")]
async fn revoke(id: &str, me: SignedIn<'_>, form: Payload<CallbackForm>, ctx: Ctx<'_>) -> Result<Reply> {
    let _ = form;
    let id = PublicSessionId::parse(id).ok_or(Error::NotFound)?;
    let mut conn = ctx.db.conn().await?;
    if !sessions::delete_for_user(&mut conn, &me.0.user.id, id.as_str()).await? {
        return Err(Error::NotFound);
    }
    let current = id.as_str() == me.0.id;
    let event = if current { Event::SignedOut } else { Event::SessionRevoked };
    audit::record(&mut conn, &me.0.user.id, event, "", &ctx.client).await;
    if current {
        session::signed_out(ctx.jar, ctx.config);
        return Ok(Reply::done(ctx.config.absolute("/signin"), "You signed out of this device."));
    }
    Ok(Reply::done(
        ctx.config.absolute("/sessions"),
        "That session was signed out. It can no longer be used.",
    ))
}

/// Ends every session of the user but this one, and says how many it ended.
#[post("/sessions/revoke-others", data = "<form>")]
async fn revoke_others(me: SignedIn<'_>, form: Payload<CallbackForm>, ctx: Ctx<'_>) -> Result<Reply> {
    let _ = form;
    let mut conn = ctx.db.conn().await?;
    let ended = sessions::delete_others(&mut conn, &me.0.user.id, &me.0.id).await?;
    if ended > 0 {
        audit::record(&mut conn, &me.0.user.id, Event::OtherSessionsRevoked, &ended.to_string(), &ctx.client)
            .await;
    }
    let message = match ended {
        0 => "There were no other sessions to sign out.".to_string(),
        1 => "Signed out of 1 other session.".to_string(),
        n => format!("Signed out of {n} other sessions."),
    };
    Ok(Reply::done(ctx.config.absolute("/sessions"), message))
}
