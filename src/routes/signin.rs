//! Password sign-in: the page and `POST {base}/callback/credentials`.

use rocket::form::FromForm;
use rocket::http::Status;
use rocket::request::FlashMessage;
use rocket::{get, post, routes, Route};
use serde::Deserialize;

use super::signin_error_url;
use crate::auth::audit::{self, Event};
use crate::auth::context::Ctx;
use crate::auth::form::Payload;
use crate::auth::guards::MaybeSignedIn;
use crate::auth::session::PASSWORD_METHOD;
use crate::auth::sign_in::{self, Person};
use crate::auth::throttle::{self, Action};
use crate::config::AuthConfig;
use crate::db::users;
use crate::domain::{has_control_chars, CallbackUrl, Email, Password};
use crate::error::Result;
use crate::oauth::Provider;
use crate::primitives::now;
use crate::reply::Reply;
use crate::reply::{ErrorPage, Html};
use crate::views::{Base, FieldErrors, ProviderView, SigninPage};

pub fn routes() -> Vec<Route> {
    routes![page]
}

pub fn api_routes() -> Vec<Route> {
    routes![credentials]
}

/// The query of the sign-in and sign-up pages.
#[derive(FromForm, Default)]
pub struct PageQuery {
    #[field(name = "callbackUrl")]
    pub callback_url: Option<String>,
    pub error: Option<String>,
}

/// What the sign-in page shows, whether fresh or after a failed attempt.
pub(crate) struct PageState {
    pub callback: CallbackUrl,
    pub email: String,
    /// The sign-in-link form's address (when that form was refused).
    pub link_email: String,
    pub error: Option<String>,
    pub errors: FieldErrors,
}

pub(crate) fn render(
    base: Base,
    config: &AuthConfig,
    state: PageState,
    signed_in_as: Option<String>,
) -> Html {
    Html::render(
        "signin",
        SigninPage {
            base,
            callback_url: state.callback.relative(),
            email: state.email,
            error: state.error,
            errors: state.errors,
            providers: Provider::enabled(config).map(ProviderView::from).collect(),
            signed_in_as,
            email_enabled: config.email.is_some(),
            link_email: state.link_email,
        },
    )
}

/// `GET /signin`: the credentials form and a button per enabled provider.
#[get("/signin?<q..>")]
fn page(q: PageQuery, session: MaybeSignedIn<'_>, ctx: Ctx<'_>, flash: Option<FlashMessage<'_>>) -> Html {
    let config = ctx.config;
    let callback = CallbackUrl::parse(q.callback_url.as_deref(), &config.origin);
    // Only known codes are shown, never the raw parameter; a flash message that says
    // more about this failure (an OAuth refusal) is shown instead of the code's.
    let explained = flash.as_ref().is_some_and(|f| f.kind() == "error");
    let error = q
        .error
        .as_deref()
        .filter(|_| !explained)
        .map(ErrorPage::for_code)
        .filter(|p| p.code != "Default")
        .map(|p| p.message.to_string());
    let signed_in_as = session.0.map(|s| s.user.email.clone());
    let base = Base::new(session.0, &ctx.csrf, config, flash);
    let state = PageState {
        callback,
        email: String::new(),
        link_email: String::new(),
        error,
        errors: FieldErrors::new(),
    };
    render(base, config, state, signed_in_as)
}

/// The sign-in body: Auth.js's field names, from a form or JSON.
#[derive(Deserialize)]
pub struct CredentialsForm {
    email: Option<String>,
    password: Option<String>,
    #[serde(rename = "callbackUrl")]
    callback_url: Option<String>,
}

/// `POST {base}/callback/credentials`: checks the password and starts a new session.
///
/// 303 to `callbackUrl` on success (`200 {"url"}` for Auth.js's client). An unknown
/// email and a wrong password get the same answer after the same work (a dummy argon2
/// verification, the same writes): 401 `CredentialsSignin`. Invalid fields: 422. CSRF:
/// 403. Too many attempts for the account or from the client's address: 429 before any
/// password check (see [`throttle`]).
#[post("/callback/credentials", data = "<form>")]
async fn credentials(form: Payload<CredentialsForm>, ctx: Ctx<'_>) -> Result<Reply> {
    let Payload(form, mode) = form;
    let (config, hasher, db, client) = (ctx.config, ctx.hasher(), ctx.db, &ctx.client);
    let callback = CallbackUrl::parse(form.callback_url.as_deref(), &config.origin);
    let raw_email = form.email.unwrap_or_default();
    let mut errors = FieldErrors::new();
    let email = Email::parse(&raw_email).map_err(|e| errors.insert("email", e.0)).ok();
    let password = Password::candidate(form.password.unwrap_or_default())
        .map_err(|e| errors.insert("password", e.0))
        .ok();

    let failure = |status: Status, error: Option<&str>, errors: FieldErrors| {
        let url = signin_error_url(config, "CredentialsSignin", &callback);
        let email = if has_control_chars(&raw_email) { String::new() } else { raw_email.clone() };
        Reply::form_error(mode, status, "CredentialsSignin", url, || {
            let state = PageState {
                callback: callback.clone(),
                email,
                link_email: String::new(),
                error: error.map(str::to_string),
                errors,
            };
            render(Base::new(None, &ctx.csrf, config, None), config, state, None)
        })
    };

    let (Some(email), Some(password)) = (email, password) else {
        return Ok(failure(Status::UnprocessableEntity, Some("Check the highlighted fields."), errors));
    };

    // Counted before any password is checked, atomically (the point is to stop
    // guessing, in parallel too); a success gives the attempt back.
    let account_limit = throttle::account(config, email.as_str());
    let ip_limit = throttle::ip(config, Action::SignIn, &client.ip);
    let user = {
        let mut conn = db.conn().await?;
        throttle::take(&mut conn, &[&ip_limit, &account_limit], now()).await?;
        users::find_by_email(&mut conn, email.as_str()).await?
    };
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let verified = hasher.verify(&password, stored).await?;
    let Some(user) = user.as_ref().filter(|_| verified.matches) else {
        // The same statement whether or not the email is known, so the answer's timing
        // does not say which.
        let mut conn = db.conn().await?;
        audit::record_for_email(&mut conn, email.as_str(), Event::SignInFailed, client).await;
        return Ok(failure(
            Status::Unauthorized,
            Some("The email or password is not correct."),
            FieldErrors::new(),
        ));
    };

    let mut conn = db.conn().await?;
    if verified.needs_rehash {
        // The configured cost changed since this hash was made: upgrade it now, while
        // the plaintext is at hand. A failure here must not fail the sign-in.
        match hasher.hash(&password).await {
            Ok(hash) => users::update_password_hash(&mut conn, &user.id, &hash, now()).await?,
            Err(e) => log::warn!("rehashing a password failed: {e}"),
        }
    }
    throttle::give_back(&mut conn, &ip_limit).await?;
    let who = Person { id: &user.id, email: email.as_str(), verified: user.email_verified.is_some() };
    let done =
        sign_in::complete(&ctx, &mut conn, &who, (PASSWORD_METHOD, PASSWORD_METHOD), &callback).await?;
    // A sign-in resets its account's count; a password that only reached the second
    // step gives back its own try and no more (the wrong codes before it still count,
    // or every right password would buy five more guesses at the code).
    if done.pending {
        throttle::give_back(&mut conn, &account_limit).await?;
    } else {
        throttle::reset(&mut conn, &account_limit).await?;
    }
    if done.notice {
        ctx.mailer().inspect(|m| m.wake());
    }
    Ok(Reply::Redirect(done.url))
}
