//! Auth.js's Email provider: sign in with a link or a 6-digit code sent to the address.
//!
//! - `POST {base}/signin/email` (alias `{base}/signin/nodemailer`): `email`,
//!   `callbackUrl`: queues the message, then 303 (or `{"url"}`) to
//!   `{base}/verify-request`. The same answer, after the same work, for an address that
//!   has no account: the link creates one (the address is proven), as Auth.js does.
//! - `GET {base}/verify-request`: "check your email", with the code form.
//! - `GET {base}/callback/email`: the link opens a page with one "Sign in" button: a
//!   GET never consumes a token (mail scanners open every link).
//! - `POST {base}/callback/email`: `token` (or `email` and `code`): signs in, the
//!   address verified. A bad, expired or used token or code: the `Verification` page
//!   (a wrong code: the form again, `422`), nothing changed. Wrong codes count against
//!   the account's sign-in throttle, and a code dies after 5.
//!
//! Every route answers 404 when email is off.

use rocket::form::FromForm;
use rocket::http::Status;
use rocket::request::FlashMessage;
use rocket::{get, post, routes, Route};
use serde::Deserialize;
use serde_json::json;

use super::signin_error_url;
use crate::auth::audit::{self, Event};
use crate::auth::context::Ctx;
use crate::auth::email_token::{self, Purpose};
use crate::auth::form::Payload;
use crate::auth::guards::MaybeSignedIn;
use crate::auth::sign_in::{self, Person};
use crate::auth::throttle::{self, Action};
use crate::db::{self, email_tokens::TokenRow, users};
use crate::domain::{has_control_chars, CallbackUrl, Email};
use crate::email::{Kind, Mailer};
use crate::error::{Error, Result};
use crate::primitives::{new_id, now};
use crate::reply::{Html, Reply, ReplyMode};
use crate::views::{Base, ConfirmPage, Field, FieldErrors, VerifyRequestPage};

/// The sign-in method email sign-ins record.
pub const EMAIL_METHOD: &str = "email";

pub fn api_routes() -> Vec<Route> {
    routes![start, start_nodemailer, verify_request, link_page, callback]
}

fn mailer<'r>(ctx: &Ctx<'r>) -> Result<&'r Mailer> {
    ctx.mailer().ok_or(Error::NotFound)
}

#[derive(Deserialize)]
pub struct StartForm {
    email: Option<String>,
    #[serde(rename = "callbackUrl")]
    callback_url: Option<String>,
}

/// `{base}/verify-request?provider=email&type=email&email=…&callbackUrl=…`.
fn verify_request_url(ctx: &Ctx<'_>, email: &Email, callback: &CallbackUrl) -> String {
    let mut url =
        ctx.config.origin.join(&format!("{}/verify-request", ctx.config.base_path)).expect("a path");
    url.query_pairs_mut()
        .append_pair("provider", "email")
        .append_pair("type", "email")
        .append_pair("email", email.as_str())
        .append_pair("callbackUrl", &callback.relative());
    url.to_string()
}

/// Sends the sign-in message: throttled per IP and per address (429 before anything
/// is queued); the token and the message in one transaction.
async fn send_link(ctx: &Ctx<'_>, form: StartForm, mode: ReplyMode) -> Result<Reply> {
    let mailer = mailer(ctx)?;
    let config = ctx.config;
    let callback = CallbackUrl::parse(form.callback_url.as_deref(), &config.origin);
    let raw = form.email.unwrap_or_default();
    let email = match Email::parse(&raw) {
        Ok(email) => email,
        Err(e) => {
            let url = signin_error_url(config, "EmailSignin", &callback);
            let shown = if has_control_chars(&raw) { String::new() } else { raw };
            return Ok(Reply::form_error(mode, Status::UnprocessableEntity, "EmailSignin", url, || {
                let state = super::signin::PageState {
                    callback: callback.clone(),
                    email: String::new(),
                    link_email: shown,
                    error: Some("Check the highlighted fields.".into()),
                    errors: FieldErrors::from([("link_email", e.0)]),
                };
                super::signin::render(Base::new(None, &ctx.csrf, config, None), config, state, None)
            }));
        }
    };
    let now = now();
    let mut conn = ctx.db.conn().await?;
    let ip = throttle::ip(config, Action::Email, &ctx.client.ip);
    throttle::take(&mut conn, &[&ip, &throttle::email_address(config, email.as_str())], now).await?;

    let issued = email_token::issue(config, Purpose::SignIn, &email, None, &callback.relative(), now);
    let link = link_url(ctx, &issued.token, &email, &callback);
    let context = json!({
        "link": link,
        "code": issued.code,
        "minutes": Purpose::SignIn.lifetime() / 60,
    });
    let composed = mailer.compose(config, Kind::SignIn, &email, context)?;
    let mut tx = crate::db::begin(&mut conn).await?;
    issued.store(&mut tx).await?;
    mailer.queue(&mut tx, &composed).await?;
    tx.commit().await?;
    mailer.wake();
    Ok(Reply::Redirect(verify_request_url(ctx, &email, &callback)))
}

/// The link in the message: `{base}/callback/email?token=…&email=…&callbackUrl=…`.
fn link_url(ctx: &Ctx<'_>, token: &str, email: &Email, callback: &CallbackUrl) -> String {
    let mut url =
        ctx.config.origin.join(&format!("{}/callback/email", ctx.config.base_path)).expect("a path");
    url.query_pairs_mut()
        .append_pair("token", token)
        .append_pair("email", email.as_str())
        .append_pair("callbackUrl", &callback.relative());
    url.to_string()
}

/// `POST {base}/signin/email`.
#[post("/signin/email", data = "<form>")]
async fn start(form: Payload<StartForm>, ctx: Ctx<'_>) -> Result<Reply> {
    send_link(&ctx, form.0, form.1).await
}

/// `POST {base}/signin/nodemailer`: Auth.js v5's name for the same provider.
#[post("/signin/nodemailer", data = "<form>")]
async fn start_nodemailer(form: Payload<StartForm>, ctx: Ctx<'_>) -> Result<Reply> {
    send_link(&ctx, form.0, form.1).await
}

#[derive(FromForm, Default)]
struct RequestQuery {
    email: Option<String>,
    #[field(name = "callbackUrl")]
    callback_url: Option<String>,
}

fn verify_page(
    ctx: &Ctx<'_>,
    flash: Option<FlashMessage<'_>>,
    email: String,
    callback: &CallbackUrl,
    errors: FieldErrors,
) -> Html {
    let error = (!errors.is_empty()).then(|| "The code was not accepted.".to_string());
    Html::render(
        "verify_request",
        VerifyRequestPage {
            base: Base::new(None, &ctx.csrf, ctx.config, flash),
            email,
            callback_url: callback.relative(),
            error,
            errors,
        },
    )
}

/// `GET {base}/verify-request`: "check your email", with a form for the code.
#[get("/verify-request?<q..>")]
fn verify_request(q: RequestQuery, ctx: Ctx<'_>, flash: Option<FlashMessage<'_>>) -> Result<Html> {
    mailer(&ctx)?;
    let callback = CallbackUrl::parse(q.callback_url.as_deref(), &ctx.config.origin);
    let email =
        q.email.and_then(|e| Email::parse(&e).ok()).map(|e| e.as_str().to_string()).unwrap_or_default();
    Ok(verify_page(&ctx, flash, email, &callback, FieldErrors::new()))
}

#[derive(FromForm, Default)]
struct LinkQuery {
    token: Option<String>,
    email: Option<String>,
    #[field(name = "callbackUrl")]
    callback_url: Option<String>,
}

/// `GET {base}/callback/email`: the link's page, with the button that signs in. A token
/// that is already bad gets the `Verification` page at once; nothing is consumed.
#[get("/callback/email?<q..>")]
async fn link_page(q: LinkQuery, session: MaybeSignedIn<'_>, ctx: Ctx<'_>) -> Result<Html> {
    mailer(&ctx)?;
    let token = q.token.unwrap_or_default();
    let mut conn = ctx.db.conn().await?;
    let row = email_token::peek(&mut conn, Purpose::SignIn, &token, now()).await?;
    let Some(row) = row.filter(|r| {
        q.email.as_deref().and_then(|e| Email::parse(e).ok()).is_some_and(|e| e.as_str() == r.email)
    }) else {
        return Err(Error::Verification);
    };
    let callback =
        CallbackUrl::parse(q.callback_url.as_deref().or(Some(&row.callback_url)), &ctx.config.origin);
    Ok(Html::render(
        "confirm",
        ConfirmPage {
            base: Base::new(session.0, &ctx.csrf, ctx.config, None),
            title: "Sign in",
            message: format!("Sign in as {}?", row.email),
            action: format!("{}/callback/email", ctx.config.base_path),
            fields: vec![
                Field { name: "token", value: token },
                Field { name: "email", value: row.email },
                Field { name: "callbackUrl", value: callback.relative() },
            ],
            button: "Sign in",
        },
    ))
}

#[derive(Deserialize)]
pub struct CallbackForm {
    token: Option<String>,
    email: Option<String>,
    code: Option<String>,
    #[serde(rename = "callbackUrl")]
    callback_url: Option<String>,
}

/// `POST {base}/callback/email`: signs in with the link's token, or with the address
/// and its code.
#[post("/callback/email", data = "<form>")]
async fn callback(form: Payload<CallbackForm>, ctx: Ctx<'_>) -> Result<Reply> {
    let (Payload(form, mode), config) = (form, ctx.config);
    let mailer = mailer(&ctx)?;
    let now = now();
    let mut conn = ctx.db.conn().await?;
    let row = match (form.token.as_deref().filter(|t| !t.is_empty()), form.code.as_deref()) {
        (Some(token), _) => {
            let email = form.email.as_deref().and_then(|e| Email::parse(e).ok());
            email_token::take(&mut conn, Purpose::SignIn, token, email.as_ref().map(Email::as_str), now)
                .await?
        }
        (None, Some(code)) => {
            let callback = CallbackUrl::parse(form.callback_url.as_deref(), &config.origin);
            let Some(email) = form.email.as_deref().and_then(|e| Email::parse(e).ok()) else {
                let errors =
                    FieldErrors::from([("email", "Enter the address the code was sent to.".to_string())]);
                let url = config.absolute("/error?error=Verification");
                return Ok(Reply::form_error(mode, Status::UnprocessableEntity, "Verification", url, || {
                    verify_page(&ctx, None, String::new(), &callback, errors)
                }));
            };
            // Wrong codes are failed sign-ins of the account: counted before the
            // check, given back when the code is right.
            let limit = throttle::account(config, email.as_str());
            throttle::take(&mut conn, &[&limit], now).await?;
            let taken = email_token::take_code(&mut conn, config, &email, code.trim(), now).await?;
            if taken.is_none() {
                let errors = FieldErrors::from([(
                    "code",
                    "That code is not right, has expired, or was tried too often. Check the latest message, or ask for a new one."
                        .to_string(),
                )]);
                let url = config.absolute("/error?error=Verification");
                let shown = email.as_str().to_string();
                return Ok(Reply::form_error(mode, Status::UnprocessableEntity, "Verification", url, || {
                    verify_page(&ctx, None, shown, &callback, errors)
                }));
            }
            throttle::give_back(&mut conn, &limit).await?;
            taken
        }
        (None, None) => None,
    };
    let Some(row) = row else { return Err(Error::Verification) };
    drop(conn);
    let url = signed_in(&ctx, mailer, &row).await?;
    Ok(Reply::Redirect(url))
}

/// The address is proven: the user who owns it signs in (one is created for an
/// address with no account), the address verified; the ownership rule ends what an
/// earlier registrant of a never-verified address set up. Returns where to go.
async fn signed_in(ctx: &Ctx<'_>, mailer: &Mailer, row: &TokenRow) -> Result<String> {
    let now = now();
    let mut conn = ctx.db.conn().await?;
    let mut tx = crate::db::begin(&mut conn).await?;
    let (user_id, created) = match users::find_by_email(&mut tx, &row.email).await? {
        Some(owner) => {
            sign_in::prove_address(ctx, &mut tx, &owner.id, owner.email_verified.is_some(), false).await?;
            (owner.id, false)
        }
        None => {
            let id = new_id();
            let user = users::NewUser {
                id: &id,
                name: None,
                email: &row.email,
                email_verified: now,
                image: None,
                password_hash: None,
                now,
            };
            match users::insert(&mut tx, &user).await {
                Ok(_) => {}
                // Someone signed up with the address meanwhile: try again.
                Err(e) if db::is_unique_violation(&e) => return Err(Error::Verification),
                Err(e) => return Err(e.into()),
            }
            audit::record(&mut tx, &id, Event::SignedUp, EMAIL_METHOD, &ctx.client).await;
            (id, true)
        }
    };
    let who = Person { id: &user_id, email: &row.email, verified: true };
    let callback = CallbackUrl::parse(Some(&row.callback_url), &ctx.config.origin);
    let done = if created {
        crate::auth::session::start(&mut tx, ctx.jar, ctx.config, &user_id, EMAIL_METHOD, &ctx.client)
            .await?;
        sign_in::Finished { url: callback.as_str().to_string(), notice: false, pending: false }
    } else {
        sign_in::complete(ctx, &mut tx, &who, (EMAIL_METHOD, EMAIL_METHOD), &callback).await?
    };
    tx.commit().await?;
    if done.notice {
        mailer.wake();
    }
    Ok(done.url)
}
