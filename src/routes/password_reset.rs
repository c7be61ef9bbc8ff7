//! A forgotten password: `GET, POST /forgot-password` and `GET, POST /reset-password`.
//!
//! The request answers the same for an address with no account as for one with an
//! account, after the same work (the token and the message are stored with one
//! `INSERT … SELECT` each, which stores nothing for an unknown address): the page says
//! a link was sent *if* an account uses the address. The link (an hour) opens the new
//! password form; setting it (the sign-up rules) verifies the address, ends **every**
//! session of the user and signs this browser in. On a never-verified account the
//! ownership rule applies: the first registrant's sessions die (the password is the new
//! one). Every route answers 404 when email is off.

use rocket::form::FromForm;
use rocket::http::Status;
use rocket::request::FlashMessage;
use rocket::{get, post, routes, Route};
use serde::Deserialize;
use serde_json::json;

use crate::auth::audit::{self, Event};
use crate::auth::context::Ctx;
use crate::auth::email_token::{self, Purpose};
use crate::auth::equal_time::Deadline;
use crate::auth::form::Payload;
use crate::auth::guards::MaybeSignedIn;
use crate::auth::session::{self, PASSWORD_METHOD};
use crate::auth::sign_in;
use crate::auth::throttle::{self, Action};
use crate::db::{email_tokens::TokenRow, sessions, users};
use crate::domain::{has_control_chars, CallbackUrl, Email, Password};
use crate::email::{Kind, Mailer};
use crate::error::{Error, Result};
use crate::primitives::now;
use crate::reply::{Html, Reply, ReplyMode};
use crate::views::{Base, FieldErrors, ForgotPasswordPage, ResetPasswordPage};

pub fn routes() -> Vec<Route> {
    routes![forgot_page, forgot, reset_page, reset]
}

fn mailer<'r>(ctx: &Ctx<'r>) -> Result<&'r Mailer> {
    ctx.mailer().ok_or(Error::NotFound)
}

fn forgot_form(
    ctx: &Ctx<'_>,
    flash: Option<FlashMessage<'_>>,
    sent: bool,
    email: String,
    errors: FieldErrors,
) -> Html {
    let error = (!errors.is_empty()).then(|| "Check the highlighted fields.".to_string());
    Html::render(
        "forgot_password",
        ForgotPasswordPage {
            base: Base::new(None, &ctx.csrf, ctx.config, flash),
            email,
            sent,
            error,
            errors,
        },
    )
}

#[derive(FromForm, Default)]
struct ForgotQuery {
    sent: Option<String>,
}

/// `GET /forgot-password`: the form; `?sent=1` adds the answer to a request.
#[get("/forgot-password?<q..>")]
fn forgot_page(q: ForgotQuery, ctx: Ctx<'_>, flash: Option<FlashMessage<'_>>) -> Result<Html> {
    mailer(&ctx)?;
    Ok(forgot_form(&ctx, flash, q.sent.is_some(), String::new(), FieldErrors::new()))
}

#[derive(Deserialize)]
pub struct ForgotForm {
    email: Option<String>,
}

/// `POST /forgot-password` (`email`): 303 to `/forgot-password?sent=1` whether or not
/// an account uses the address; 422 for an address that is not one; 429 past the
/// per-address or per-IP limit.
#[post("/forgot-password", data = "<form>")]
async fn forgot(form: Payload<ForgotForm>, ctx: Ctx<'_>) -> Result<Reply> {
    let (Payload(form, mode), config) = (form, ctx.config);
    let mailer = mailer(&ctx)?;
    let raw = form.email.unwrap_or_default();
    let email = match Email::parse(&raw) {
        Ok(email) => email,
        Err(e) => {
            let shown = if has_control_chars(&raw) { String::new() } else { raw };
            let url = config.absolute("/forgot-password?error=InvalidInput");
            return Ok(Reply::form_error(mode, Status::UnprocessableEntity, "InvalidInput", url, || {
                forgot_form(&ctx, None, false, shown, FieldErrors::from([("email", e.0)]))
            }));
        }
    };
    // A known and an unknown address leave at the same moment (equal_time).
    let deadline = Deadline::start();
    let now = now();
    let mut conn = ctx.db.conn().await?;
    let ip = throttle::ip(config, Action::Email, &ctx.client.ip);
    throttle::take(&mut conn, &[&ip, &throttle::email_address(config, email.as_str())], now).await?;
    let issued = email_token::issue(config, Purpose::Reset, &email, None, "/", now);
    let link = {
        let mut url = config.origin.join("/reset-password").expect("a path");
        url.query_pairs_mut().append_pair("token", &issued.token);
        url.to_string()
    };
    let composed = mailer.compose(config, Kind::Reset, &email, json!({ "link": link, "minutes": 60 }))?;
    // The same statements for a known and an unknown address.
    let mut tx = crate::db::begin(&mut conn).await?;
    issued.store_for_account(&mut tx).await?;
    mailer.queue_for_account(&mut tx, &composed).await?;
    tx.commit().await?;
    mailer.wake();
    deadline.wait().await;
    Ok(Reply::Redirect(config.absolute("/forgot-password?sent=1")))
}

#[derive(FromForm, Default)]
struct ResetQuery {
    token: Option<String>,
}

fn reset_form(ctx: &Ctx<'_>, token: String, email: String, errors: FieldErrors) -> Html {
    let error = (!errors.is_empty()).then(|| "Check the highlighted fields.".to_string());
    Html::render(
        "reset_password",
        ResetPasswordPage {
            base: Base::new(None, &ctx.csrf, ctx.config, None),
            token,
            email,
            error,
            errors,
            password_min_length: ctx.config.password_min_length,
            password_max_length: Password::MAX_LENGTH,
        },
    )
}

/// `GET /reset-password?token=…`: the new-password form, or the `Verification` page for
/// a token that is already bad. Nothing is consumed.
#[get("/reset-password?<q..>")]
async fn reset_page(q: ResetQuery, _session: MaybeSignedIn<'_>, ctx: Ctx<'_>) -> Result<Html> {
    mailer(&ctx)?;
    let token = q.token.unwrap_or_default();
    let mut conn = ctx.db.conn().await?;
    let row =
        email_token::peek(&mut conn, Purpose::Reset, &token, now()).await?.ok_or(Error::Verification)?;
    Ok(reset_form(&ctx, token, row.email, FieldErrors::new()))
}

#[derive(Deserialize)]
pub struct ResetForm {
    token: Option<String>,
    #[serde(rename = "newPassword")]
    new_password: Option<String>,
}

/// A refused new password: the form again (the token is not consumed), 422.
fn refused(ctx: &Ctx<'_>, mode: ReplyMode, token: String, row: &TokenRow, message: String) -> Reply {
    let url = ctx.config.absolute("/reset-password?error=InvalidInput");
    let email = row.email.clone();
    Reply::form_error(mode, Status::UnprocessableEntity, "InvalidInput", url, || {
        reset_form(ctx, token, email, FieldErrors::from([("newPassword", message)]))
    })
}

/// `POST /reset-password` (`token`, `newPassword`): sets the password, verifies the
/// address, ends every session of the user, signs this browser in; 303 to `/`. A bad
/// token: the `Verification` page; a refused password: the form again (422).
#[post("/reset-password", data = "<form>")]
async fn reset(form: Payload<ResetForm>, ctx: Ctx<'_>) -> Result<Reply> {
    let (Payload(form, mode), config, hasher) = (form, ctx.config, ctx.hasher());
    let mailer = mailer(&ctx)?;
    let token = form.token.unwrap_or_default();
    let row = {
        let mut conn = ctx.db.conn().await?;
        email_token::peek(&mut conn, Purpose::Reset, &token, now()).await?.ok_or(Error::Verification)?
    };
    let email = Email::parse(&row.email).map_err(|_| Error::Verification)?;
    let password = match Password::new(
        form.new_password.unwrap_or_default(),
        config.password_min_length,
        Some(&email),
    ) {
        Ok(p) => p,
        Err(e) => return Ok(refused(&ctx, mode, token, &row, e.0)),
    };
    if let Err(e) = hasher.check_strength(password.strength_check(Some(&email))).await? {
        return Ok(refused(&ctx, mode, token, &row, e.0));
    }
    let hash = hasher.hash(&password).await?;

    let now = now();
    let mut conn = ctx.db.conn().await?;
    let mut tx = crate::db::begin(&mut conn).await?;
    // Consumed here, once: of two submissions, one sets the password.
    let row =
        email_token::take(&mut tx, Purpose::Reset, &token, None, now).await?.ok_or(Error::Verification)?;
    let owner = users::find_by_email(&mut tx, &row.email).await?.filter(|o| o.id == row.user_id);
    let Some(owner) = owner else { return Err(Error::Verification) };
    sign_in::prove_address(&ctx, &mut tx, &owner.id, owner.email_verified.is_some(), true).await?;
    users::update_password_hash(&mut tx, &owner.id, &hash, now).await?;
    users::mark_verified(&mut tx, &owner.id, now).await?;
    sessions::delete_all_for_user(&mut tx, &owner.id).await?;
    email_token::revoke_for_user(&mut tx, &owner.id, &row.email).await?;
    audit::record(&mut tx, &owner.id, Event::PasswordReset, "", &ctx.client).await;
    // The reset proved the address: it is verified now.
    ctx.notify(&mut tx, Some(&row.email), Kind::PasswordReset, json!({})).await;
    // A reset link alone is not the second factor of a verified account: it asks for it.
    let root = CallbackUrl::root(&config.origin);
    let second =
        sign_in::second_step(&ctx, &mut tx, &owner.id, (PASSWORD_METHOD, PASSWORD_METHOD), &root).await?;
    if second.is_none() {
        session::start(&mut tx, ctx.jar, config, &owner.id, PASSWORD_METHOD, &ctx.client).await?;
    }
    tx.commit().await?;
    mailer.wake();
    Ok(match second {
        Some(url) => Reply::done(
            url,
            "Your password was reset, and every session was signed out. Enter a code from your authenticator app to sign in.",
        ),
        None => Reply::done(
            config.absolute("/"),
            "Your password was reset. Every other session was signed out, and you are signed in.",
        ),
    })
}
