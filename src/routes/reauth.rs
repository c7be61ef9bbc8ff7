//! `/reauth`: sudo mode's "confirm it is you". The password, or a code from the
//! authenticator app, marks the session as recently authenticated and goes back to the
//! page that asked; so does a new sign-in with a linked provider or, for an account
//! without a password, an emailed sign-in link (both are sign-ins, which count). Wrong
//! passwords and codes here are failed sign-ins of the account: the same throttle.

use rocket::form::FromForm;
use rocket::http::Status;
use rocket::request::FlashMessage;
use rocket::{get, post, routes, Route};
use serde::Deserialize;

use crate::auth::audit::{self, Event};
use crate::auth::context::Ctx;
use crate::auth::form::Payload;
use crate::auth::guards::SignedIn;
use crate::auth::second_factor;
use crate::auth::session::CurrentSession;
use crate::auth::throttle::{self, Action};
use crate::db::{accounts, sessions, users};
use crate::domain::{CallbackUrl, Password};
use crate::error::Result;
use crate::oauth::Provider;
use crate::primitives::now;
use crate::reply::{Html, Reply, ReplyMode};
use crate::views::{Base, FieldErrors, ProviderView, ReauthPage};

pub fn routes() -> Vec<Route> {
    routes![page, submit]
}

/// Where to go back to: the page that asked, on this origin; `/account` by default.
fn callback(raw: Option<&str>, ctx: &Ctx<'_>) -> CallbackUrl {
    CallbackUrl::parse(Some(raw.unwrap_or("/account")), &ctx.config.origin)
}

async fn render(
    ctx: &Ctx<'_>,
    me: &CurrentSession,
    callback: &CallbackUrl,
    flash: Option<FlashMessage<'_>>,
    (form, errors): (Option<&'static str>, FieldErrors),
) -> Result<Html> {
    let mut conn = ctx.db.conn().await?;
    let has_password = users::find_password_hash(&mut conn, &me.user.id).await?.is_some();
    let has_totp = second_factor::required(&mut conn, &me.user.id).await?;
    let linked = accounts::list_for_user(&mut conn, &me.user.id).await?;
    let providers = Provider::enabled(ctx.config)
        .filter(|p| linked.iter().any(|a| a.provider == p.id()))
        .map(ProviderView::from)
        .collect();
    let error = form.map(|_| "That did not confirm it is you.".to_string());
    Ok(Html::render(
        "reauth",
        ReauthPage {
            base: Base::new(Some(me), &ctx.csrf, ctx.config, flash),
            callback_url: callback.relative(),
            has_password,
            has_totp,
            providers,
            email_enabled: ctx.config.email.is_some(),
            email: me.user.email.clone(),
            form,
            error,
            errors,
        },
    ))
}

#[derive(FromForm, Default)]
struct PageQuery {
    #[field(name = "callbackUrl")]
    callback_url: Option<String>,
}

/// `GET /reauth?callbackUrl=…`: the ways this account can confirm it is the user:
/// the password (when it has one), a TOTP code (when it has TOTP), a new sign-in with
/// each linked provider, an emailed sign-in link (email on, no password). Signed out:
/// to `/signin` (the 401 catcher).
#[get("/reauth?<q..>")]
async fn page(q: PageQuery, me: SignedIn<'_>, ctx: Ctx<'_>, flash: Option<FlashMessage<'_>>) -> Result<Html> {
    let callback = callback(q.callback_url.as_deref(), &ctx);
    render(&ctx, me.0, &callback, flash, (None, FieldErrors::new())).await
}

/// A refused confirmation: the page again with the message under `field`, 422; for a
/// script, `ReauthFailed`.
async fn refused(
    ctx: &Ctx<'_>,
    me: &CurrentSession,
    mode: ReplyMode,
    callback: &CallbackUrl,
    (field, message): (&'static str, &str),
) -> Result<Reply> {
    let errors = FieldErrors::from([(field, message.to_string())]);
    let url = ctx.config.absolute(&crate::auth::sudo::reauth_path(&callback.relative()));
    Reply::form_error_async(mode, Status::UnprocessableEntity, "ReauthFailed", url, || {
        render(ctx, me, callback, None, (Some(field), errors))
    })
    .await
}

#[derive(Deserialize)]
pub struct ReauthForm {
    password: Option<String>,
    code: Option<String>,
    #[serde(rename = "callbackUrl")]
    callback_url: Option<String>,
}

/// `POST /reauth` (`password` or `code`, `csrfToken`, `callbackUrl`): the right password
/// or a fresh TOTP code records an authentication on this session (sudo mode for
/// `AUTH_REAUTH_MAX_AGE` seconds) and goes back to `callbackUrl` (303). Counted against
/// the account's sign-in throttle first (429 past it), given back when right. Wrong,
/// malformed, reused, or neither given: 422 with the page, nothing changed.
#[post("/reauth", data = "<form>")]
async fn submit(me: SignedIn<'_>, form: Payload<ReauthForm>, ctx: Ctx<'_>) -> Result<Reply> {
    let (Payload(form, mode), me, config) = (form, me.0, ctx.config);
    let callback = callback(form.callback_url.as_deref(), &ctx);
    let password = form.password.filter(|p| !p.is_empty());
    let code = form.code.map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
    if password.is_none() && code.is_none() {
        let message = "Enter your password, or a code from your authenticator app.";
        return refused(&ctx, me, mode, &callback, ("password", message)).await;
    }
    let account = throttle::account(config, &me.user.email);
    let ip = throttle::ip(config, Action::SignIn, &ctx.client.ip);
    {
        let mut conn = ctx.db.conn().await?;
        throttle::take(&mut conn, &[&ip, &account], now()).await?;
    }
    let (confirmed, field, with) = match (password, code) {
        (Some(password), _) => {
            let stored = {
                let mut conn = ctx.db.conn().await?;
                users::find_password_hash(&mut conn, &me.user.id).await?
            };
            let right = match (Password::candidate(password), stored) {
                (Ok(candidate), Some(stored)) => ctx.hasher().verify(&candidate, Some(stored)).await?.matches,
                _ => false,
            };
            (right, "password", "password")
        }
        (None, Some(code)) => {
            let mut conn = ctx.db.conn().await?;
            let answer = second_factor::check(config, &mut conn, &me.user.id, &code, false).await?;
            (answer.is_some(), "code", "an authenticator code")
        }
        (None, None) => unreachable!("refused above"),
    };
    let mut conn = ctx.db.conn().await?;
    if !confirmed {
        audit::record(&mut conn, &me.user.id, Event::ReauthFailed, "", &ctx.client).await;
        drop(conn);
        let message = if field == "password" {
            "That is not your password."
        } else {
            "That code is not right, or was used already. Wait for the next one."
        };
        return refused(&ctx, me, mode, &callback, (field, message)).await;
    }
    throttle::give_back(&mut conn, &ip).await?;
    throttle::give_back(&mut conn, &account).await?;
    sessions::mark_authenticated(&mut conn, &me.id, now()).await?;
    audit::record(&mut conn, &me.user.id, Event::Reauthenticated, with, &ctx.client).await;
    Ok(Reply::Redirect(callback.as_str().to_string()))
}
