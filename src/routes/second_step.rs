//! `/signin/two-factor`: the second step of a sign-in, for a user with a second
//! factor. The first step (a password, a provider, an emailed link or code, a reset)
//! left a pending sign-in bound to this browser ([`pending`]); a code from the
//! authenticator app, or one of the recovery codes, finishes it.

use rocket::http::Status;
use rocket::request::FlashMessage;
use rocket::{get, post, routes, Route};
use serde::Deserialize;
use serde_json::json;

use crate::auth::audit::{self, Event};
use crate::auth::context::Ctx;
use crate::auth::form::Payload;
use crate::auth::second_factor::pending::{self, Pending};
use crate::auth::second_factor::{self, Answer};
use crate::auth::sign_in::{self, Person};
use crate::auth::throttle::{self, Action};
use crate::email::Kind;
use crate::error::Result;
use crate::primitives::now;
use crate::reply::{Failure, Html, Reply, ReplyMode};
use crate::views::{Base, FieldErrors, SecondStepPage};

pub fn routes() -> Vec<Route> {
    routes![page, submit]
}

fn render(ctx: &Ctx<'_>, p: &Pending, flash: Option<FlashMessage<'_>>, errors: FieldErrors) -> Html {
    let error = (!errors.is_empty()).then(|| "The code was not accepted.".to_string());
    let page = SecondStepPage {
        base: Base::new(None, &ctx.csrf, ctx.config, flash),
        email: p.email.clone(),
        error,
        errors,
    };
    Html::render("signin_two_factor", page)
}

/// No pending sign-in (none started, ended, expired, or another browser's): back to
/// `/signin`, saying so; 401 `SessionRequired` for a script.
fn no_pending(ctx: &Ctx<'_>, mode: ReplyMode, message: &str) -> Reply {
    let url = ctx.config.absolute("/signin");
    if mode.is_html() {
        return Reply::RedirectFlash { url, kind: "error", message: message.to_string() };
    }
    Reply::Failed(Failure::refused(Status::Unauthorized, "SessionRequired", url))
}

/// `GET /signin/two-factor`: the code form for this browser's pending sign-in; without
/// one, 303 to `/signin`.
#[get("/signin/two-factor")]
async fn page(ctx: Ctx<'_>, mode: ReplyMode, flash: Option<FlashMessage<'_>>) -> Result<Reply> {
    let mut conn = ctx.db.conn().await?;
    match pending::current(&mut conn, ctx.jar, ctx.config).await? {
        Some(p) => Ok(Reply::Page(Status::Ok, render(&ctx, &p, flash, FieldErrors::new()))),
        None => Ok(no_pending(&ctx, mode, "Sign in first. A sign-in waits 5 minutes for its second step.")),
    }
}

#[derive(Deserialize)]
pub struct CodeForm {
    code: Option<String>,
}

/// `POST /signin/two-factor` (`code`, `csrfToken`): a TOTP code (or a recovery code)
/// of the pending sign-in's user signs this browser in, and goes on to the first
/// step's `callbackUrl` (303). Every try counts against the account's sign-in throttle
/// first (429 past it) and a right code gives it back. A wrong, reused or malformed
/// code: 422 with the form; the fifth ends the pending sign-in (303 to `/signin`). A
/// recovery code is used up, logged, and the owner told.
#[post("/signin/two-factor", data = "<form>")]
async fn submit(form: Payload<CodeForm>, ctx: Ctx<'_>) -> Result<Reply> {
    let (Payload(form, mode), config) = (form, ctx.config);
    let mut conn = ctx.db.conn().await?;
    let Some(p) = pending::current(&mut conn, ctx.jar, config).await? else {
        return Ok(no_pending(&ctx, mode, "This sign-in ended or took too long. Sign in again."));
    };
    let account = throttle::account(config, &p.email);
    let ip = throttle::ip(config, Action::SignIn, &ctx.client.ip);
    throttle::take(&mut conn, &[&ip, &account], now()).await?;
    let raw = form.code.unwrap_or_default();
    let answer = second_factor::check(config, &mut conn, &p.user_id, raw.trim(), true).await?;
    let Some(answer) = answer else {
        audit::record(&mut conn, &p.user_id, Event::SecondFactorFailed, "", &ctx.client).await;
        if pending::fail(&mut conn, ctx.jar, config, &p).await? {
            return Ok(no_pending(&ctx, mode, "Too many wrong codes. Sign in again."));
        }
        let errors = FieldErrors::from([(
            "code",
            "That code is not right, or was used already. Wait for the next code in your app, or use a recovery code."
                .to_string(),
        )]);
        let url = config.absolute("/signin/two-factor?error=InvalidCode");
        return Ok(Reply::form_error(mode, Status::UnprocessableEntity, "InvalidCode", url, || {
            render(&ctx, &p, None, errors)
        }));
    };
    if !pending::take(&mut conn, ctx.jar, config, &p).await? {
        return Ok(no_pending(&ctx, mode, "This sign-in ended or took too long. Sign in again."));
    }
    throttle::reset(&mut conn, &account).await?;
    throttle::give_back(&mut conn, &ip).await?;
    let who = Person { id: &p.user_id, email: &p.email, verified: p.verified };
    let mut wake = sign_in::establish(&ctx, &mut conn, &who, (&p.method, &p.how)).await?;
    if let Answer::RecoveryCode { left } = answer {
        audit::record(&mut conn, &p.user_id, Event::RecoveryCodeUsed, &left.to_string(), &ctx.client).await;
        let to = p.verified.then_some(p.email.as_str());
        wake |= ctx.notify(&mut conn, to, Kind::RecoveryCodeUsed, json!({ "left": left })).await;
    }
    if wake {
        ctx.wake_mailer();
    }
    Ok(Reply::Redirect(p.callback.as_str().to_string()))
}
