//! OAuth sign-in: `POST {base}/signin/<provider>` starts a flow, `GET
//! {base}/callback/<provider>` finishes it. Both answer 404 for a provider that is not
//! enabled. A failure shows a page that says what happened; it changes nothing.

use rocket::form::FromForm;
use rocket::http::{CookieJar, Status};
use rocket::{get, post, routes, Route, State};
use rocket_dyn_templates::Template;

use super::signin_error_url;
use crate::auth::audit::{self, Event};
use crate::auth::client::ClientInfo;
use crate::auth::form::{CallbackForm, Payload};
use crate::auth::guards::MaybeSignedIn;
use crate::auth::reply::{Reply, ReplyMode};
use crate::auth::session;
use crate::auth::throttle::{self, Action};
use crate::config::AuthConfig;
use crate::db::Db;
use crate::domain::{has_control_chars, CallbackUrl};
use crate::error::{Error, Result};
use crate::oauth::flow::{self, Started};
use crate::oauth::linking::{self, Outcome};
use crate::oauth::{self, OAuth, OAuthError, Provider};
use crate::views::ErrorPage;

pub fn api_routes() -> Vec<Route> {
    routes![signin, callback]
}

/// The provider a path names, when it is enabled.
fn enabled(id: &str, config: &AuthConfig) -> Result<Provider> {
    Provider::parse(id).filter(|p| p.credentials(config).is_some()).ok_or(Error::NotFound)
}

/// The page for a failed flow, and its Auth.js error code.
fn failure_page(e: &OAuthError, starting: bool, signed_in: bool) -> ErrorPage {
    const CALLBACK: &str = "OAuthCallbackError";
    const NOT_LINKED: &str = "OAuthAccountNotLinked";
    let page = match e {
        OAuthError::Denied => ErrorPage::new(
            403,
            CALLBACK,
            "Access was not granted",
            "You did not grant access at the provider, so you were not signed in. Nothing was changed.",
        ),
        OAuthError::AuthorizationError(_) => ErrorPage::new(
            400,
            CALLBACK,
            "Sign-in was not completed",
            "The provider reported an error, so you were not signed in. Try again.",
        ),
        OAuthError::State | OAuthError::MissingCode => ErrorPage::new(
            400,
            CALLBACK,
            "This sign-in has expired",
            "The sign-in took too long, was already used, or was started in another browser. Start again.",
        ),
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
        OAuthError::NoVerifiedEmail => ErrorPage::new(
            403,
            CALLBACK,
            "No verified email",
            "The provider did not share a verified email address. Verify your email address there (on GitHub, \
             make a verified address your primary one), then try again.",
        ),
        OAuthError::AccountTaken => ErrorPage::new(
            409,
            NOT_LINKED,
            "Linked to another account",
            "This provider account already belongs to another user here, so it was not connected to yours.",
        ),
        OAuthError::AlreadyConnected => ErrorPage::new(
            409,
            NOT_LINKED,
            "Another account is connected",
            "You already connected a different account of this provider. Disconnect it first.",
        ),
        OAuthError::EmailTaken => ErrorPage::for_code(NOT_LINKED),
        OAuthError::LinkSessionLost => ErrorPage::for_code("SessionRequired"),
        OAuthError::Database(_) => ErrorPage::for_code("Default"),
    };
    if signed_in {
        page.with_action("/account", "Back to your account")
    } else {
        page.with_action("/signin", "Back to sign in")
    }
}

/// A failed flow: logged without secrets, answered with its page (a browser) or its
/// Auth.js error code (a script). A database failure stays a server error.
fn failure(
    e: OAuthError,
    provider: Provider,
    starting: bool,
    signed_in: bool,
    mode: ReplyMode,
    config: &AuthConfig,
    callback: &CallbackUrl,
) -> Result<Reply> {
    if let OAuthError::Database(e) = e {
        return Err(Error::Database(e));
    }
    log::warn!("{} sign-in failed: {e}", provider.name());
    let page = failure_page(&e, starting, signed_in);
    let status = Status::from_code(page.status).unwrap_or(Status::BadRequest);
    Ok(Reply::form_error(mode, status, page.code, signin_error_url(config, page.code, callback), || {
        Template::render("error", &page)
    }))
}

/// `POST {base}/signin/<provider>` (`csrfToken`, `callbackUrl`): 303 to the provider's
/// authorization page (`200 {"url"}` for Auth.js's client). Started by a signed-in user,
/// the flow connects the provider to them (rule 2) and returns to `/account` unless a
/// `callbackUrl` says otherwise.
#[allow(clippy::too_many_arguments)]
#[post("/signin/<provider>", data = "<form>")]
async fn signin(
    provider: &str,
    form: Payload<CallbackForm>,
    session: MaybeSignedIn<'_>,
    mode: ReplyMode,
    config: &State<AuthConfig>,
    oauth: &State<OAuth>,
    db: &State<Db>,
    jar: &CookieJar<'_>,
    client: ClientInfo,
) -> Result<Reply> {
    let provider = enabled(provider, config)?;
    {
        let mut conn = db.conn().await?;
        let limit = throttle::ip(config, Action::OAuthStart, &client.ip);
        throttle::take(&mut conn, config, &[&limit], session::now()).await?;
    }
    let link_user = session.0.map(|s| s.user.id.as_str());
    let default = if link_user.is_some() { "/account" } else { "/" };
    let callback =
        CallbackUrl::parse(Some(form.0.callback_url.as_deref().unwrap_or(default)), &config.origin);
    let started = Started::new();
    let url = match oauth::start_url(oauth, provider, config, &started).await {
        Ok(url) => url,
        Err(e) => return failure(e, provider, true, link_user.is_some(), mode, config, &callback),
    };
    let mut conn = db.conn().await?;
    flow::save(&mut conn, jar, config, provider, &started, &callback, link_user).await?;
    Ok(Reply::Redirect(url))
}

/// The provider's redirect back: Auth.js's parameters; others are ignored.
#[derive(FromForm, Default)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET {base}/callback/<provider>`: checks the flow, exchanges the code (with the PKCE
/// verifier), reads the profile, applies the linking rules, and for a sign-in starts a
/// session exactly as password sign-in does; then 303 to the flow's `callbackUrl`.
#[allow(clippy::too_many_arguments)]
#[get("/callback/<provider>?<q..>")]
async fn callback(
    provider: &str,
    q: CallbackQuery,
    session: MaybeSignedIn<'_>,
    config: &State<AuthConfig>,
    oauth: &State<OAuth>,
    db: &State<Db>,
    jar: &CookieJar<'_>,
    client: ClientInfo,
) -> Result<Reply> {
    // Only a browser, sent back by the provider, comes here: it gets pages.
    let mode = ReplyMode::Html;
    let provider = enabled(provider, config)?;
    let signed_in = session.0.is_some();
    let root = CallbackUrl::root(&config.origin);
    let fail = |e, callback: &CallbackUrl| failure(e, provider, false, signed_in, mode, config, callback);

    let taken = {
        let mut conn = db.conn().await?;
        flow::finish(&mut conn, jar, config, provider, q.state.as_deref()).await
    };
    let flow = match taken {
        Ok(flow) => flow,
        Err(e) => return fail(e, &root),
    };
    if let Some(error) = q.error {
        let e = if error == "access_denied" {
            OAuthError::Denied
        } else {
            OAuthError::AuthorizationError(error.chars().filter(|c| !c.is_control()).take(100).collect())
        };
        return fail(e, &flow.callback);
    }
    let Some(code) = q.code.filter(|c| !c.is_empty() && c.len() <= 2048 && !has_control_chars(c)) else {
        return fail(OAuthError::MissingCode, &flow.callback);
    };
    // A connect must finish in the session that started it.
    if let Some(link_user) = &flow.link_user_id {
        if session.0.map(|s| &s.user.id) != Some(link_user) {
            return fail(OAuthError::LinkSessionLost, &flow.callback);
        }
    }

    let profile = match oauth::fetch_profile(oauth, provider, config, &code, &flow.pkce_verifier).await {
        Ok(profile) => profile,
        Err(e) => return fail(e, &flow.callback),
    };
    let mut conn = db.conn().await?;
    let outcome = match linking::resolve(&mut conn, &profile, flow.link_user_id.as_deref()).await {
        Ok(outcome) => outcome,
        Err(e) => return fail(e, &flow.callback),
    };
    let url = flow.callback.as_str().to_string();
    Ok(match outcome {
        Outcome::SignIn { user_id, created } => {
            session::start(&mut conn, jar, config, &user_id, &client).await?;
            let event = if created { Event::SignedUp } else { Event::SignedIn };
            audit::record(&mut conn, &user_id, event, provider.name(), &client).await;
            Reply::Redirect(url)
        }
        Outcome::Linked => {
            if let Some(user_id) = &flow.link_user_id {
                audit::record(&mut conn, user_id, Event::ProviderLinked, provider.name(), &client).await;
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
