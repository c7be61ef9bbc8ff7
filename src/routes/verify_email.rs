//! Proving an address: the verification sent at sign-up (and resent from `/account`),
//! and the confirmation of a new address.
//!
//! - `GET /verify-email?token=…`: a page with a "Confirm" button; `POST /verify-email`
//!   (`token`): the address verified.
//! - `POST /account/verify-email`: resends the verification (throttled).
//! - `POST /account/email` (`newEmail`): sends a confirmation link to the new address
//!   (throttled) and, when the old one is verified, a notice to it; nothing changes
//!   until the link's page is confirmed. The answer is the same whether or not the new
//!   address belongs to another account (nothing is sent then).
//! - `GET /account/email/confirm?token=…`, `POST /account/email/confirm`: the change,
//!   the new address verified; every token of the old address dies.
//!
//! A GET never consumes a token. Every route answers 404 when email is off.

use rocket::form::FromForm;
use rocket::http::Status;
use rocket::{get, post, routes, Route};
use serde::Deserialize;
use serde_json::json;

use crate::auth::audit::{self, Event};
use crate::auth::context::Ctx;
use crate::auth::email_token::{self, Purpose};
use crate::auth::equal_time::Deadline;
use crate::auth::form::{CallbackForm, Payload};
use crate::auth::guards::{MaybeSignedIn, SignedIn};
use crate::auth::session::CurrentSession;
use crate::auth::throttle::{self, Action};
use crate::db::{self, users, Conn};
use crate::domain::Email;
use crate::email::{Kind, Mailer};
use crate::error::{Error, Result};
use crate::primitives::now;
use crate::reply::{Html, Reply};
use crate::views::{Base, ConfirmPage, Field};

pub fn routes() -> Vec<Route> {
    routes![verify_page, verify, resend, change, confirm_page, confirm]
}

fn mailer<'r>(ctx: &Ctx<'r>) -> Result<&'r Mailer> {
    ctx.mailer().ok_or(Error::NotFound)
}

/// Queues the verification of `email` for `user_id` on `conn` (sign-up, resend).
pub async fn queue_verification(ctx: &Ctx<'_>, conn: &mut Conn, user_id: &str, email: &Email) -> Result<()> {
    let Some(mailer) = ctx.mailer() else { return Ok(()) };
    let issued = email_token::issue(ctx.config, Purpose::Verify, email, Some(user_id), "/", now());
    let mut url = ctx.config.origin.join("/verify-email").expect("a path");
    url.query_pairs_mut().append_pair("token", &issued.token);
    let composed =
        mailer.compose(ctx.config, Kind::Verify, email, json!({ "link": url.to_string(), "hours": 24 }))?;
    issued.store(conn).await?;
    mailer.queue(conn, &composed).await
}

#[derive(FromForm, Default)]
struct TokenQuery {
    token: Option<String>,
}

fn confirm_form(
    ctx: &Ctx<'_>,
    session: Option<&CurrentSession>,
    page: (&'static str, String, &str, &'static str),
    token: String,
) -> Html {
    let (title, message, action, button) = page;
    Html::render(
        "confirm",
        ConfirmPage {
            base: Base::new(session, &ctx.csrf, ctx.config, None),
            title,
            message,
            action: action.to_string(),
            fields: vec![Field { name: "token", value: token }],
            button,
        },
    )
}

/// `GET /verify-email?token=…`.
#[get("/verify-email?<q..>")]
async fn verify_page(q: TokenQuery, session: MaybeSignedIn<'_>, ctx: Ctx<'_>) -> Result<Html> {
    mailer(&ctx)?;
    let token = q.token.unwrap_or_default();
    let mut conn = ctx.db.conn().await?;
    let row =
        email_token::peek(&mut conn, Purpose::Verify, &token, now()).await?.ok_or(Error::Verification)?;
    let page = (
        "Confirm your email address",
        format!("Confirm that {} is your address?", row.email),
        "/verify-email",
        "Confirm",
    );
    Ok(confirm_form(&ctx, session.0, page, token))
}

#[derive(Deserialize)]
pub struct TokenForm {
    token: Option<String>,
}

/// `POST /verify-email` (`token`): the address verified; 303 to `/account` (or `/`).
#[post("/verify-email", data = "<form>")]
async fn verify(form: Payload<TokenForm>, session: MaybeSignedIn<'_>, ctx: Ctx<'_>) -> Result<Reply> {
    mailer(&ctx)?;
    let token = form.0.token.unwrap_or_default();
    let now = now();
    let mut conn = ctx.db.conn().await?;
    let mut tx = crate::db::begin(&mut conn).await?;
    let row =
        email_token::take(&mut tx, Purpose::Verify, &token, None, now).await?.ok_or(Error::Verification)?;
    // The token is for the account and the address it was sent to; an address changed
    // since is not proven by it.
    let owner = users::find_by_email(&mut tx, &row.email).await?.filter(|o| o.id == row.user_id);
    let Some(owner) = owner else { return Err(Error::Verification) };
    users::mark_verified(&mut tx, &owner.id, now).await?;
    if owner.email_verified.is_none() {
        audit::record(&mut tx, &owner.id, Event::EmailVerified, "", &ctx.client).await;
    }
    tx.commit().await?;
    let to = if session.0.is_some() { "/account" } else { "/" };
    Ok(Reply::done(ctx.config.absolute(to), "Your email address is confirmed."))
}

/// `POST /account/verify-email`: sends the verification again.
#[post("/account/verify-email", data = "<form>")]
async fn resend(me: SignedIn<'_>, form: Payload<CallbackForm>, ctx: Ctx<'_>) -> Result<Reply> {
    let (_, me, config) = (form, me.0, ctx.config);
    let mailer = mailer(&ctx)?;
    if me.user.email_verified.is_some() {
        return Ok(Reply::done(config.absolute("/account"), "Your email address is already confirmed."));
    }
    let email = Email::parse(&me.user.email).map_err(|_| Error::NotFound)?;
    let mut conn = ctx.db.conn().await?;
    let ip = throttle::ip(config, Action::Email, &ctx.client.ip);
    throttle::take(&mut conn, &[&ip, &throttle::email_address(config, email.as_str())], now()).await?;
    let mut tx = crate::db::begin(&mut conn).await?;
    queue_verification(&ctx, &mut tx, &me.user.id, &email).await?;
    tx.commit().await?;
    mailer.wake();
    Ok(Reply::done(
        config.absolute("/account"),
        format!("We sent a new confirmation link to {}.", email.as_str()),
    ))
}

#[derive(Deserialize)]
pub struct ChangeForm {
    #[serde(rename = "newEmail")]
    new_email: Option<String>,
}

/// `POST /account/email` (`newEmail`; sudo): 303 to `/account` saying a link was sent to the
/// new address; 422 for an address that is not one, or the current one.
#[post("/account/email", data = "<form>")]
async fn change(me: SignedIn<'_>, form: Payload<ChangeForm>, ctx: Ctx<'_>) -> Result<Reply> {
    let (Payload(form, mode), me, config) = (form, me.0, ctx.config);
    let mailer = mailer(&ctx)?;
    crate::auth::sudo::require(config, me, "/account")?;
    let new = match Email::parse(&form.new_email.unwrap_or_default()) {
        Ok(new) if new.as_str() == me.user.email => Err("That is already your address.".to_string()),
        Ok(new) => Ok(new),
        Err(e) => Err(e.0),
    };
    let new = match new {
        Ok(new) => new,
        Err(message) => {
            let state = super::account::FormState {
                form: Some("email"),
                errors: crate::views::FieldErrors::from([("newEmail", message)]),
                ..Default::default()
            };
            return super::account::refused(
                &ctx,
                mode,
                me,
                (Status::UnprocessableEntity, "InvalidInput"),
                state,
            )
            .await;
        }
    };
    // A taken and a free address leave at the same moment (equal_time).
    let deadline = Deadline::start();
    let now = now();
    let mut conn = ctx.db.conn().await?;
    let ip = throttle::ip(config, Action::Email, &ctx.client.ip);
    throttle::take(&mut conn, &[&ip, &throttle::email_address(config, new.as_str())], now).await?;
    let mut tx = crate::db::begin(&mut conn).await?;
    if users::find_by_email(&mut tx, new.as_str()).await?.is_none() {
        let issued =
            email_token::issue(config, Purpose::EmailChange, &new, Some(&me.user.id), "/account", now);
        let mut url = config.origin.join("/account/email/confirm").expect("a path");
        url.query_pairs_mut().append_pair("token", &issued.token);
        let composed = mailer.compose(
            config,
            Kind::EmailChange,
            &new,
            json!({ "link": url.to_string(), "hours": 24 }),
        )?;
        issued.store(&mut tx).await?;
        mailer.queue(&mut tx, &composed).await?;
    }
    let extra = json!({ "new_email": new.as_str() });
    ctx.notify(&mut tx, me.user.verified_email(), Kind::EmailChanging, extra).await;
    audit::record(&mut tx, &me.user.id, Event::EmailChangeRequested, new.as_str(), &ctx.client).await;
    tx.commit().await?;
    mailer.wake();
    deadline.wait().await;
    Ok(Reply::done(
        config.absolute("/account"),
        format!("We sent a link to {} to confirm it. Your address changes when you open it.", new.as_str()),
    ))
}

/// `GET /account/email/confirm?token=…`.
#[get("/account/email/confirm?<q..>")]
async fn confirm_page(q: TokenQuery, session: MaybeSignedIn<'_>, ctx: Ctx<'_>) -> Result<Html> {
    mailer(&ctx)?;
    let token = q.token.unwrap_or_default();
    let mut conn = ctx.db.conn().await?;
    let row = email_token::peek(&mut conn, Purpose::EmailChange, &token, now())
        .await?
        .ok_or(Error::Verification)?;
    let page = (
        "Confirm your new email address",
        format!("Use {} as the address of your account?", row.email),
        "/account/email/confirm",
        "Use this address",
    );
    Ok(confirm_form(&ctx, session.0, page, token))
}

/// `POST /account/email/confirm` (`token`): the account's address becomes the new one,
/// verified; 303 to `/account` (or `/signin`). The address taken by someone else
/// meanwhile: 409, nothing changed.
#[post("/account/email/confirm", data = "<form>")]
async fn confirm(form: Payload<TokenForm>, session: MaybeSignedIn<'_>, ctx: Ctx<'_>) -> Result<Reply> {
    mailer(&ctx)?;
    let token = form.0.token.unwrap_or_default();
    let now = now();
    let mut conn = ctx.db.conn().await?;
    let mut tx = crate::db::begin(&mut conn).await?;
    let row = email_token::take(&mut tx, Purpose::EmailChange, &token, None, now)
        .await?
        .ok_or(Error::Verification)?;
    let user = users::find_by_id(&mut tx, &row.user_id).await?.ok_or(Error::Verification)?;
    match users::update_email(&mut tx, &user.id, &row.email, now).await {
        Ok(()) => {}
        Err(e) if db::is_unique_violation(&e) => {
            tx.rollback().await?;
            return Err(Error::Conflict("That address now belongs to another account, so it was not used."));
        }
        Err(e) => return Err(e.into()),
    }
    email_token::revoke_for_user(&mut tx, &user.id, &user.email).await?;
    audit::record(&mut tx, &user.id, Event::EmailChanged, &row.email, &ctx.client).await;
    tx.commit().await?;
    let to = if session.0.is_some() { "/account" } else { "/signin" };
    Ok(Reply::done(ctx.config.absolute(to), format!("Your address is now {}.", row.email)))
}
