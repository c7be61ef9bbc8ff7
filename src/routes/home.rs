//! The home page and the error page.

use rocket::http::Status;
use rocket::request::FlashMessage;
use rocket::{get, routes, Route};

use crate::auth::context::Ctx;
use crate::auth::guards::MaybeSignedIn;
use crate::reply::{ErrorPage, Html};
use crate::views::{human_time, Base, HomePage, SessionFacts};

pub fn routes() -> Vec<Route> {
    routes![home, error]
}

/// `GET /`: who is signed in, and the way to sign in or out.
#[get("/")]
fn home(session: MaybeSignedIn<'_>, ctx: Ctx<'_>, flash: Option<FlashMessage<'_>>) -> Html {
    let facts = session
        .0
        .map(|s| SessionFacts { created: human_time(s.created_at), expires: human_time(s.expires_at) });
    let base = Base::new(session.0, &ctx.csrf, ctx.config, flash);
    Html::render("home", HomePage { base, session: facts })
}

/// `GET /error?error=<code>`: Auth.js's error page. Unknown codes get a generic page.
#[get("/error?<error>")]
fn error(error: Option<&str>) -> (Status, Html) {
    let page = ErrorPage::for_code(error.unwrap_or("Default"));
    let status = Status::from_code(page.status).unwrap_or(Status::BadRequest);
    (status, Html::render("error", page))
}
