//! OAuth: `POST {base}/signin/<provider>` starts a **sign-in**, `POST
//! /account/connect/<provider>` starts **connecting** the provider to the signed-in
//! user, and `GET {base}/callback/<provider>` finishes either. All answer 404 for a
//! provider that is not enabled.
//!
//! What a flow is for is decided when it starts and stored with it, server-side (the
//! connecting user's id in the flow row), never inferred from the cookie the browser
//! brings to the callback: a session planted in a victim's browser (cookie tossing
//! from a sibling subdomain, a shared computer, login CSRF) must not turn the victim's
//! "Sign in with Google" into linking the victim's Google account to the attacker.
//!
//! A provider's refusal (the person denied access, the token endpoint refused the
//! code, no verified email, an account or email that belongs to someone else) is the
//! user's failed sign-in: a redirect to `/signin?error=<Auth.js code>` (or back to
//! `/account` for a connect) with a sentence saying what happened, as Auth.js does. A
//! provider that is broken gets its page with `502`, one that does not answer in time
//! `504`; a bad or replayed flow `400`. Nothing is changed by any of them.

use rocket::form::FromForm;
use rocket::http::Status;
use rocket::{get, post, routes, Route};

use super::signin_error_url;
use crate::auth::audit::{self, Event};
use crate::auth::context::Ctx;
use crate::auth::form::{CallbackForm, Payload};
use crate::auth::guards::{MaybeSignedIn, SignedIn};
use crate::auth::session;
use crate::auth::sign_in::{self, Person};
use crate::auth::throttle::{self, Action};
use crate::config::AuthConfig;
use crate::db::users;
use crate::domain::{has_control_chars, CallbackUrl};
use crate::error::{Error, Result};
use crate::oauth::flow::{self, Started};
use crate::oauth::linking::{self, Outcome};
use crate::oauth::{self, OAuthError, Provider};
use crate::primitives::now;
use crate::reply::{ErrorPage, Failure, Html, Reply, ReplyMode};

/// `/account/connect/<provider>`, mounted at `/`.
pub fn routes() -> Vec<Route> {
    routes![connect]
}

/// Sign-in and callback, mounted at the base path.
pub fn api_routes() -> Vec<Route> {
    routes![signin, callback]
}

/// The provider a path names, when it is enabled.
fn enabled(id: &str, config: &AuthConfig) -> Result<Provider> {
    Provider::enabled(config).find(|p| p.id() == id).ok_or(Error::NotFound)
}

/// A provider's refusal: the Auth.js code and the sentence the user reads.
fn refusal(e: &OAuthError, provider: Provider, connecting: bool) -> Option<(&'static str, String)> {
    const CALLBACK: &str = "OAuthCallbackError";
    const NOT_LINKED: &str = "OAuthAccountNotLinked";
    let outcome = if connecting { "it was not connected" } else { "you were not signed in" };
    let name = provider.name();
    Some(match e {
        OAuthError::Denied => {
            (CALLBACK, format!("You did not grant access at {name}, so {outcome}. Nothing was changed."))
        }
        OAuthError::AuthorizationError(_) => {
            (CALLBACK, format!("{name} reported an error, so {outcome}. Try again."))
        }
        OAuthError::Refused(_) => (
            CALLBACK,
            format!(
                "{name} did not accept this sign-in (it may have expired or been used already), so {outcome}. \
                 Try again."
            ),
        ),
        OAuthError::NoVerifiedEmail => (
            CALLBACK,
            format!(
                "{name} did not share a verified email address, so {outcome}. Verify your email address there \
                 (on GitHub, make a verified address your primary one), then try again."
            ),
        ),
        OAuthError::EmailTaken => (
            NOT_LINKED,
            "This email already belongs to an account. Sign in the way you did before, then connect this \
             provider from your account page."
                .to_string(),
        ),
        OAuthError::AccountTaken => (
            NOT_LINKED,
            format!("This {name} account already belongs to another user here, so {outcome}."),
        ),
        OAuthError::AlreadyConnected => (
            NOT_LINKED,
            format!("You already connected a different {name} account. Disconnect it first."),
        ),
        _ => return None,
    })
}

/// The page for a flow that failed on our side or the provider's: a bad or replayed
/// flow, a provider that is broken or too slow.
fn fault_page(e: &OAuthError, starting: bool) -> ErrorPage {
    const CALLBACK: &str = "OAuthCallbackError";
    match e {
        OAuthError::Timeout(_) if starting => ErrorPage::new(
            504,
            "OAuthSignin",
            "The provider did not answer",
            "Signing in with this provider could not be started because it did not answer in time. Try again later.",
        ),
        OAuthError::Timeout(_) => ErrorPage::new(
            504,
            CALLBACK,
            "The provider did not answer",
            "The provider did not answer in time, so you were not signed in. Try again later.",
        ),
        OAuthError::Provider(_) if starting => ErrorPage::for_code("OAuthSignin").with_status(502),
        OAuthError::Provider(_) => ErrorPage::new(
            502,
            CALLBACK,
            "Sign-in was not completed",
            "The provider's answer could not be used, so you were not signed in. Try again later.",
        ),
        OAuthError::LinkSessionLost => ErrorPage::new(
            401,
            "SessionRequired",
            "Connecting was not completed",
            "The account that started connecting this provider is no longer signed in here, so nothing was \
             connected. Sign in and connect it again from your account page.",
        ),
        OAuthError::State | OAuthError::MissingCode => ErrorPage::new(
            400,
            CALLBACK,
            "This sign-in has expired",
            "The sign-in took too long, was already used, or was started in another browser. Start again.",
        ),
        _ => ErrorPage::for_code("Default"),
    }
}

/// Where a failed flow goes, and what it was for.
struct FailedFlow<'a> {
    provider: Provider,
    starting: bool,
    /// The flow was a connect from the account page.
    connecting: bool,
    /// The browser holds a session (for the page's way back).
    signed_in: bool,
    callback: &'a CallbackUrl,
}

/// A failed flow: logged without secrets, answered as [`refusal`] or [`fault_page`]
/// say, in the client's format. A database failure stays a server error (503 or 500).
fn failure(e: OAuthError, at: FailedFlow<'_>, mode: ReplyMode, config: &AuthConfig) -> Result<Reply> {
    if let OAuthError::Database(e) = e {
        return Err(Error::Database(e));
    }
    log::warn!("{} sign-in failed: {e}", at.provider.name());
    if let Some((code, message)) = refusal(&e, at.provider, at.connecting) {
        let url = if at.connecting {
            config.absolute("/account")
        } else {
            signin_error_url(config, code, at.callback)
        };
        if mode.is_html() {
            return Ok(Reply::RedirectFlash { url, kind: "error", message });
        }
        return Ok(Reply::Failed(Failure::refused(Status::Forbidden, code, url)));
    }
    let page = fault_page(&e, at.starting);
    let page = if at.signed_in {
        page.with_action("/account", "Back to your account")
    } else {
        page.with_action("/signin", "Back to sign in")
    };
    let status = Status::from_code(page.status).unwrap_or(Status::BadRequest);
    let url = signin_error_url(config, page.code, at.callback);
    Ok(Reply::form_error(mode, status, page.code, url, || Html::render("error", &page)))
}

/// Starts a flow: throttled per client IP, then the provider's authorization URL with
/// a new `state` and PKCE challenge, the flow saved with what it is for.
async fn start(
    ctx: &Ctx<'_>,
    provider: Provider,
    connect_user: Option<&str>,
    callback: CallbackUrl,
    mode: ReplyMode,
) -> Result<Reply> {
    let config = ctx.config;
    {
        let mut conn = ctx.db.conn().await?;
        let limit = throttle::ip(config, Action::OAuthStart, &ctx.client.ip);
        throttle::take(&mut conn, &[&limit], now()).await?;
    }
    let started = Started::new();
    let url = match oauth::start_url(ctx.oauth(), provider, config, &started).await {
        Ok(url) => url,
        Err(e) => {
            let connecting = connect_user.is_some();
            let at = FailedFlow {
                provider,
                starting: true,
                connecting,
                signed_in: connecting,
                callback: &callback,
            };
            return failure(e, at, mode, config);
        }
    };
    let mut conn = ctx.db.conn().await?;
    flow::save(&mut conn, ctx.jar, config, provider, &started, &callback, connect_user).await?;
    Ok(Reply::Redirect(url))
}

/// `POST {base}/signin/<provider>` (`csrfToken`, `callbackUrl`): 303 to the provider's
/// authorization page (`200 {"url"}` for Auth.js's client). Always a sign-in, whatever
/// session the browser holds: it never links (see the module's doc).
#[post("/signin/<provider>", data = "<form>")]
async fn signin(provider: &str, form: Payload<CallbackForm>, ctx: Ctx<'_>) -> Result<Reply> {
    let provider = enabled(provider, ctx.config)?;
    let callback = CallbackUrl::parse(form.0.callback_url.as_deref(), &ctx.config.origin);
    start(&ctx, provider, None, callback, form.1).await
}

/// `POST /account/connect/<provider>` (`csrfToken`; sudo): starts connecting the provider to
/// the signed-in user (linking rule 2); the flow comes back to `/account`. Signed out:
/// 401 (the catcher answers). The user's id is stored with the flow, and the callback
/// links only if that same user is still signed in in this browser.
#[post("/account/connect/<provider>", data = "<form>")]
async fn connect(
    provider: &str,
    me: SignedIn<'_>,
    form: Payload<CallbackForm>,
    ctx: Ctx<'_>,
) -> Result<Reply> {
    let provider = enabled(provider, ctx.config)?;
    crate::auth::sudo::require(ctx.config, me.0, "/account")?;
    // The ownership rule: an account whose address nobody proved cannot add a way in
    // (the person who registered someone else's address must not keep a provider).
    if ctx.config.email.is_some() && me.0.user.email_verified.is_none() {
        let url = ctx.config.absolute("/account");
        let message = "Confirm your email address first: use the link we sent you, or send it again below.";
        return Ok(if form.1.is_html() {
            Reply::RedirectFlash { url, kind: "error", message: message.into() }
        } else {
            Reply::Failed(Failure::refused(Status::Forbidden, "AccessDenied", url))
        });
    }
    let raw = form.0.callback_url.as_deref().unwrap_or("/account");
    let callback = CallbackUrl::parse(Some(raw), &ctx.config.origin);
    start(&ctx, provider, Some(&me.0.user.id), callback, form.1).await
}

/// The provider's redirect back: Auth.js's parameters; others are ignored.
#[derive(FromForm, Default)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET {base}/callback/<provider>`: checks the flow, exchanges the code (with the PKCE
/// verifier), reads the profile and applies the linking rules. A sign-in flow starts a
/// session exactly as password sign-in does (ending whatever session the browser had,
/// whoever it belonged to); a connect links the account to the user who started it,
/// and only while that user is the one signed in here. Then 303 to the flow's
/// `callbackUrl`.
#[get("/callback/<provider>?<q..>")]
async fn callback(
    provider: &str,
    q: CallbackQuery,
    session: MaybeSignedIn<'_>,
    ctx: Ctx<'_>,
) -> Result<Reply> {
    let (config, db, jar, client) = (ctx.config, ctx.db, ctx.jar, &ctx.client);
    // Only a browser, sent back by the provider, comes here: it gets pages.
    let mode = ReplyMode::Html;
    let provider = enabled(provider, config)?;
    let signed_in = session.0.is_some();
    let root = CallbackUrl::root(&config.origin);

    let taken = {
        let mut conn = db.conn().await?;
        flow::finish(&mut conn, jar, config, provider, q.state.as_deref()).await
    };
    let flow = match taken {
        Ok(flow) => flow,
        Err(e) => {
            let at = FailedFlow { provider, starting: false, connecting: false, signed_in, callback: &root };
            return failure(e, at, mode, config);
        }
    };
    let connecting = flow.link_user_id.is_some();
    let fail = |e| {
        let at = FailedFlow { provider, starting: false, connecting, signed_in, callback: &flow.callback };
        failure(e, at, mode, config)
    };
    if let Some(error) = q.error {
        let e = if error == "access_denied" {
            OAuthError::Denied
        } else {
            OAuthError::AuthorizationError(error.chars().filter(|c| !c.is_control()).take(100).collect())
        };
        return fail(e);
    }
    let Some(code) = q.code.filter(|c| !c.is_empty() && c.len() <= 2048 && !has_control_chars(c)) else {
        return fail(OAuthError::MissingCode);
    };
    // A connect must finish where the user who started it is still signed in: a
    // browser where someone else has since signed in links nothing to them.
    if let Some(link_user) = &flow.link_user_id {
        if session.0.map(|s| &s.user.id) != Some(link_user) {
            return fail(OAuthError::LinkSessionLost);
        }
    }

    let profile = match oauth::fetch_profile(ctx.oauth(), provider, config, &code, &flow.pkce_verifier).await
    {
        Ok(profile) => profile,
        Err(e) => return fail(e),
    };
    let mut conn = db.conn().await?;
    let outcome = match linking::resolve(&mut conn, &profile, flow.link_user_id.as_deref()).await {
        Ok(outcome) => outcome,
        Err(e) => return fail(e),
    };
    let url = flow.callback.as_str().to_string();
    Ok(match outcome {
        Outcome::SignIn { user_id, created: true } => {
            session::start(&mut conn, jar, config, &user_id, provider.id(), client).await?;
            audit::record(&mut conn, &user_id, Event::SignedUp, provider.name(), client).await;
            Reply::Redirect(url)
        }
        Outcome::SignIn { user_id, created: false } => {
            let email = profile.email.as_ref().map(|e| e.as_str().to_string());
            let user = users::find_by_id(&mut conn, &user_id).await?;
            let (email, verified) = match &user {
                Some(u) => (u.email.clone(), u.email_verified.is_some()),
                None => (email.unwrap_or_default(), false),
            };
            let who = Person { id: &user_id, email: &email, verified };
            let done =
                sign_in::complete(&ctx, &mut conn, &who, (provider.id(), provider.name()), &flow.callback)
                    .await?;
            if done.notice {
                ctx.mailer().inspect(|m| m.wake());
            }
            Reply::Redirect(done.url)
        }
        Outcome::Linked => {
            if let Some(user_id) = &flow.link_user_id {
                audit::record(&mut conn, user_id, Event::ProviderLinked, provider.name(), client).await;
            }
            Reply::RedirectFlash {
                url,
                kind: "success",
                message: format!("{} is connected. You can now sign in with it.", provider.name()),
            }
        }
        Outcome::AlreadyLinked => Reply::RedirectFlash {
            url,
            kind: "success",
            message: format!("This {} account was already connected.", provider.name()),
        },
    })
}
