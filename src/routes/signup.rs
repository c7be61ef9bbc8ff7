//! Registration: `GET /signup` and `POST /signup`. Success creates the user with an
//! argon2id hash and signs them in.

use rocket::http::Status;
use rocket::request::FlashMessage;
use rocket::{get, post, routes, Route};
use serde::Deserialize;

use super::signin::PageQuery;
use crate::auth::audit::{self, Event};
use crate::auth::context::Ctx;
use crate::auth::form::Payload;
use crate::auth::guards::MaybeSignedIn;
use crate::auth::session::{self, PASSWORD_METHOD};
use crate::auth::throttle::{self, Action};
use crate::config::AuthConfig;
use crate::db::{self, users};
use crate::domain::{has_control_chars, CallbackUrl, DisplayName, Email, Password};
use crate::error::Result;
use crate::primitives::{new_id, now};
use crate::reply::{Html, Reply};
use crate::views::{Base, FieldErrors, SignupPage};

pub fn routes() -> Vec<Route> {
    routes![page, signup]
}

const EMAIL_TAKEN: &str = "An account with this email already exists. Sign in instead.";

/// What the form shows besides its defaults: the values typed and their messages.
#[derive(Default)]
struct Shown {
    name: String,
    email: String,
    error: Option<String>,
    errors: FieldErrors,
}

fn render(base: Base, config: &AuthConfig, callback: &CallbackUrl, shown: Shown) -> Html {
    Html::render(
        "signup",
        SignupPage {
            base,
            callback_url: callback.relative(),
            name: shown.name,
            email: shown.email,
            error: shown.error,
            errors: shown.errors,
            password_min_length: config.password_min_length,
            password_max_length: Password::MAX_LENGTH,
        },
    )
}

/// `GET /signup`: the registration form.
#[get("/signup?<q..>")]
fn page(q: PageQuery, session: MaybeSignedIn<'_>, ctx: Ctx<'_>, flash: Option<FlashMessage<'_>>) -> Html {
    let callback = CallbackUrl::parse(q.callback_url.as_deref(), &ctx.config.origin);
    let base = Base::new(session.0, &ctx.csrf, ctx.config, flash);
    render(base, ctx.config, &callback, Shown::default())
}

#[derive(Deserialize)]
pub struct SignupForm {
    name: Option<String>,
    email: Option<String>,
    password: Option<String>,
    #[serde(rename = "callbackUrl")]
    callback_url: Option<String>,
}

/// `POST /signup`: 303 to `callbackUrl`, signed in, on success; 422 with the form and
/// its messages (never the password) for invalid fields or an email already taken,
/// also when two sign-ups with one email race (the unique index decides); 429 past the
/// per-IP limit, before any check. Order: CSRF, the throttle, the cheap checks, the
/// taken email, then zxcvbn and argon2 on the hashing threads.
#[post("/signup", data = "<form>")]
async fn signup(form: Payload<SignupForm>, ctx: Ctx<'_>) -> Result<Reply> {
    let Payload(form, mode) = form;
    let (config, hasher, db, jar, client) = (ctx.config, ctx.hasher(), ctx.db, ctx.jar, &ctx.client);
    let callback = CallbackUrl::parse(form.callback_url.as_deref(), &config.origin);
    let raw_name = form.name.unwrap_or_default();
    let raw_email = form.email.unwrap_or_default();

    // Every attempt, refused or not, counts against the client's address (account
    // farming, probing which emails are taken, and floods of expensive checks), and is
    // counted first: nothing below runs for a throttled client.
    {
        let mut conn = db.conn().await?;
        let limit = throttle::ip(config, Action::SignUp, &client.ip);
        throttle::take(&mut conn, &[&limit], now()).await?;
    }

    // The cheap checks.
    let mut errors = FieldErrors::new();
    let name = DisplayName::parse(&raw_name).map_err(|e| errors.insert("name", e.0)).ok();
    let email = Email::parse(&raw_email).map_err(|e| errors.insert("email", e.0)).ok();
    let password =
        Password::new(form.password.unwrap_or_default(), config.password_min_length, email.as_ref())
            .map_err(|e| errors.insert("password", e.0))
            .ok();

    let failure = |errors: FieldErrors| {
        let url = config.absolute("/signup?error=InvalidInput");
        let clean = |s: &String| if has_control_chars(s) { String::new() } else { s.clone() };
        let (name, email) = (clean(&raw_name), clean(&raw_email));
        Reply::form_error(mode, Status::UnprocessableEntity, "InvalidInput", url, || {
            let base = Base::new(None, &ctx.csrf, config, None);
            let error = Some("Check the highlighted fields.".to_string());
            render(base, config, &callback, Shown { name, email, error, errors })
        })
    };

    let (Some(name), Some(email), Some(password)) = (name, email, password) else {
        return Ok(failure(errors));
    };
    let taken = || FieldErrors::from([("email", EMAIL_TAKEN.to_string())]);

    // A taken email is refused before spending zxcvbn or a hash on it; the unique index
    // still decides a race between two sign-ups that both pass this check.
    {
        let mut conn = db.conn().await?;
        if users::find_by_email(&mut conn, email.as_str()).await?.is_some() {
            return Ok(failure(taken()));
        }
    }
    // The expensive checks, off the async workers.
    if let Err(e) = hasher.check_strength(password.strength_check(Some(&email))).await? {
        return Ok(failure(FieldErrors::from([("password", e.0)])));
    }
    let hash = hasher.hash(&password).await?;
    let mut conn = db.conn().await?;
    let mut tx = crate::db::begin(&mut conn).await?;
    let id = new_id();
    let new_user = users::NewUser {
        id: &id,
        name: name.as_deref(),
        email: email.as_str(),
        email_verified: 0,
        image: None,
        password_hash: Some(&hash),
        now: now(),
    };
    match users::insert(&mut tx, &new_user).await {
        Ok(_) => {}
        Err(e) if db::is_unique_violation(&e) => return Ok(failure(taken())),
        Err(e) => return Err(e.into()),
    }
    session::start(&mut tx, jar, config, &id, PASSWORD_METHOD, client).await?;
    audit::record(&mut tx, &id, Event::SignedUp, PASSWORD_METHOD, client).await;
    // The verification goes with the account, in its transaction.
    super::verify_email::queue_verification(&ctx, &mut tx, &id, &email).await?;
    tx.commit().await?;
    let message = match ctx.mailer() {
        Some(mailer) => {
            mailer.wake();
            format!(
                "Welcome! You are signed in. We sent a link to {} to confirm your address.",
                email.as_str()
            )
        }
        None => "Welcome! Your account is ready and you are signed in.".to_string(),
    };
    Ok(Reply::done(callback.as_str().to_string(), message))
}
