//! `POST {base}/signout`: ends the browser's session at once, on every instance (the
//! row is deleted), and clears the cookie.

use rocket::{post, routes, Route};

use crate::auth::audit::{self, Event};
use crate::auth::context::Ctx;
use crate::auth::form::{CallbackForm, Payload};
use crate::auth::guards::MaybeSignedIn;
use crate::auth::session;
use crate::domain::CallbackUrl;
use crate::error::Result;
use crate::reply::Reply;

pub fn routes() -> Vec<Route> {
    routes![signout]
}

/// 303 to `callbackUrl` (default `/`), or `200 {"url"}` for Auth.js's client. CSRF-checked
/// like every POST, so another site cannot sign the user out.
#[post("/signout", data = "<form>")]
async fn signout(form: Payload<CallbackForm>, session: MaybeSignedIn<'_>, ctx: Ctx<'_>) -> Result<Reply> {
    let callback = CallbackUrl::parse(form.0.callback_url.as_deref(), &ctx.config.origin);
    let mut conn = ctx.db.conn().await?;
    if session::end_current(&mut conn, ctx.jar, ctx.config).await? {
        if let Some(me) = session.0 {
            audit::record(&mut conn, &me.user.id, Event::SignedOut, "", &ctx.client).await;
        }
    }
    Ok(Reply::done(callback.as_str().to_string(), "You have been signed out."))
}
