//! `GET /sessions`: where the signed-in user is signed in.

use rocket::request::FlashMessage;
use rocket::{get, routes, Route, State};
use rocket_dyn_templates::Template;

use crate::auth::csrf::CsrfToken;
use crate::auth::guards::SignedIn;
use crate::auth::session;
use crate::config::AuthConfig;
use crate::db::{sessions, Db};
use crate::error::Result;
use crate::views::{human_time, Base, SessionRow, SessionsPage};

pub fn routes() -> Vec<Route> {
    routes![list]
}

/// Every live session of the user, most recently active first, the current one marked.
/// Signed out: 303 to `/signin?callbackUrl=/sessions` (401 for JSON clients).
#[get("/sessions")]
async fn list(
    me: SignedIn<'_>,
    csrf: CsrfToken,
    config: &State<AuthConfig>,
    db: &State<Db>,
    flash: Option<FlashMessage<'_>>,
) -> Result<Template> {
    let mut conn = db.acquire().await?;
    let rows = sessions::list_for_user(&mut conn, &me.0.user.id, session::now()).await?;
    let sessions = rows
        .into_iter()
        .map(|s| SessionRow {
            current: s.id == me.0.id,
            created: human_time(s.created_at),
            last_active: human_time(s.last_active_at),
            expires: human_time(s.expires_at),
            user_agent: s.user_agent,
            ip: s.ip,
            id: s.id,
        })
        .collect();
    let base = Base::new(Some(me.0), &csrf, config, flash);
    Ok(Template::render("sessions", SessionsPage { base, sessions }))
}
