//! The account page: `GET /account`, `POST /account/name`, `POST /account/password`,
//! `POST /account/unlink/<provider>`.
//!
//! Setting or changing the password ends every other session of the user and gives
//! this browser a fresh token (DESIGN.md, linking rules: a session an attacker planted
//! before the owner took the account back must die with the old password).

use crate::reply::Html;
use rocket::http::{CookieJar, Status};
use rocket::request::FlashMessage;
use rocket::{get, post, routes, Route, State};
use serde::Deserialize;
use sqlx::Connection;

use crate::auth::audit::{self, Event};
use crate::auth::client::ClientInfo;
use crate::auth::csrf::CsrfToken;
use crate::auth::form::{CallbackForm, CsrfProtected, Payload};
use crate::auth::guards::SignedIn;
use crate::auth::password::Hasher;
use crate::auth::session::{self, CurrentSession, PASSWORD_METHOD};
use crate::auth::throttle;
use crate::config::{AuthConfig, PASSWORD_MAX_LENGTH};
use crate::db::{accounts, security_events, sessions, users, Db};
use crate::domain::{describe_device, has_control_chars, DisplayName, Email, Password};
use crate::error::Error;
use crate::error::Result;
use crate::oauth::Provider;
use crate::reply::{Failure, Reply, ReplyMode};
use crate::views::{AccountPage, ActivityRow, Base, FieldErrors, ProviderLink, TimeView};

/// How many security-log entries the page shows.
const ACTIVITY_SHOWN: i64 = 15;

pub fn routes() -> Vec<Route> {
    routes![page, name, password, unlink]
}

/// What a re-rendered account page shows besides the saved state.
#[derive(Default)]
struct FormState {
    /// `name`, `password` or `providers`: the form the messages belong to.
    form: Option<&'static str>,
    /// The message at the top; "check the highlighted fields" when not given.
    error: Option<String>,
    /// The name field's value, when it differs from the saved name (a refused edit).
    name: Option<String>,
    errors: FieldErrors,
}

async fn render(
    db: &Db,
    me: &CurrentSession,
    csrf: &CsrfToken,
    config: &AuthConfig,
    flash: Option<FlashMessage<'_>>,
    state: FormState,
) -> Result<Html> {
    let mut conn = db.conn().await?;
    let has_password = users::find_password_hash(&mut conn, &me.user.id).await?.is_some();
    let now = session::now();
    let session_count = sessions::count_for_user(&mut conn, &me.user.id, now).await?;
    let linked = accounts::list_for_user(&mut conn, &me.user.id).await?;
    let activity = security_events::list_recent(&mut conn, &me.user.id, ACTIVITY_SHOWN)
        .await?
        .into_iter()
        .map(|e| ActivityRow {
            what: Event::describe(&e.kind, &e.detail),
            device: describe_device(&e.user_agent),
            alert: e.kind == Event::SignInFailed.kind(),
            user_agent: e.user_agent,
            ip: e.ip,
            when: TimeView::new(e.created_at, now),
        })
        .collect();
    let error = state.error.or_else(|| state.form.map(|_| "Check the highlighted fields.".to_string()));
    // Any one way to sign in may go while another remains.
    let ways = linked.len() + usize::from(has_password);
    let providers = Provider::ALL
        .into_iter()
        .filter_map(|p| {
            let account = linked.iter().find(|a| a.provider == p.id());
            let enabled = p.credentials(config).is_some();
            (enabled || account.is_some()).then(|| ProviderLink {
                id: p.id(),
                name: p.name(),
                linked: account.is_some(),
                label: account
                    .map(|a| if a.label.is_empty() { a.email.clone() } else { a.label.clone() })
                    .unwrap_or_default(),
                linked_since: account.map(|a| TimeView::new(a.created_at, now)),
                can_unlink: ways > 1,
                enabled,
            })
        })
        .collect();
    Ok(Html::render(
        "account",
        AccountPage {
            base: Base::new(Some(me), csrf, config, flash),
            name: state.name.or_else(|| me.user.name.clone()).unwrap_or_default(),
            email: me.user.email.clone(),
            has_password,
            session_count,
            providers,
            activity,
            form: state.form,
            error,
            errors: state.errors,
            password_min_length: config.password_min_length,
            password_max_length: PASSWORD_MAX_LENGTH,
        },
    ))
}

/// A refused form: the page again with its messages (422) for a browser, JSON for a
/// script.
#[allow(clippy::too_many_arguments)]
async fn refused(
    mode: ReplyMode,
    db: &Db,
    me: &CurrentSession,
    csrf: &CsrfToken,
    config: &AuthConfig,
    state: FormState,
) -> Result<Reply> {
    let status = Status::UnprocessableEntity;
    if mode.is_html() {
        Ok(Reply::Page(status, render(db, me, csrf, config, None, state).await?))
    } else {
        Ok(Reply::Failed(Failure::refused(status, "InvalidInput", config.absolute("/account"))))
    }
}

/// `GET /account`: name, email, password, and a summary of the user's sessions.
#[get("/account")]
async fn page(
    me: SignedIn<'_>,
    csrf: CsrfToken,
    config: &State<AuthConfig>,
    db: &State<Db>,
    flash: Option<FlashMessage<'_>>,
) -> Result<Html> {
    render(db, me.0, &csrf, config, flash, FormState::default()).await
}

#[derive(Deserialize)]
pub struct NameForm {
    name: Option<String>,
    #[serde(rename = "csrfToken")]
    csrf_token: Option<String>,
}

impl CsrfProtected for NameForm {
    fn csrf_token(&self) -> Option<&str> {
        self.csrf_token.as_deref()
    }
}

/// `POST /account/name`: sets the display name (blank removes it). 303 to `/account`;
/// 422 with the form for a name that is too long or holds control characters.
#[post("/account/name", data = "<form>")]
async fn name(
    me: SignedIn<'_>,
    form: Payload<NameForm>,
    csrf: CsrfToken,
    config: &State<AuthConfig>,
    db: &State<Db>,
) -> Result<Reply> {
    let mode = form.1;
    let raw = form.0.name.unwrap_or_default();
    let name = match DisplayName::parse(&raw) {
        Ok(name) => name,
        Err(e) => {
            let shown = if has_control_chars(&raw) { String::new() } else { raw };
            let state = FormState {
                form: Some("name"),
                name: Some(shown),
                errors: FieldErrors::from([("name", e.0)]),
                ..FormState::default()
            };
            return refused(mode, db, me.0, &csrf, config, state).await;
        }
    };
    let mut conn = db.conn().await?;
    users::update_name(&mut conn, &me.0.user.id, name.as_deref(), session::now()).await?;
    let message = if name.as_deref().is_some() { "Your name was saved." } else { "Your name was removed." };
    Ok(Reply::RedirectFlash { url: config.absolute("/account"), kind: "success", message: message.into() })
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(rename = "currentPassword")]
    current_password: Option<String>,
    #[serde(rename = "newPassword")]
    new_password: Option<String>,
    #[serde(rename = "csrfToken")]
    csrf_token: Option<String>,
}

impl CsrfProtected for PasswordForm {
    fn csrf_token(&self) -> Option<&str> {
        self.csrf_token.as_deref()
    }
}

/// `POST /account/password`: sets or changes the password. The current password is
/// required when one is set; the new one is checked as at sign-up. On success every
/// session of the user ends and this browser gets a new one (a fresh token), in one
/// transaction with the new hash; 303 to `/account`. A wrong current password or an
/// invalid new one: 422 with the form, nothing changed.
#[allow(clippy::too_many_arguments)]
#[post("/account/password", data = "<form>")]
async fn password(
    me: SignedIn<'_>,
    form: Payload<PasswordForm>,
    csrf: CsrfToken,
    config: &State<AuthConfig>,
    hasher: &State<Hasher>,
    db: &State<Db>,
    jar: &CookieJar<'_>,
    client: ClientInfo,
) -> Result<Reply> {
    let mode = form.1;
    let me = me.0;
    let form = form.0;
    let stored = {
        let mut conn = db.conn().await?;
        users::find_password_hash(&mut conn, &me.user.id).await?
    };
    let had_password = stored.is_some();

    let mut errors = FieldErrors::new();
    let current = match &stored {
        Some(_) => match Password::candidate(form.current_password.unwrap_or_default()) {
            Ok(p) => Some(p),
            Err(_) => {
                errors.insert("currentPassword", "Enter your current password.".into());
                None
            }
        },
        None => None,
    };
    let email = Email::parse(&me.user.email).ok();
    let new =
        Password::new(form.new_password.unwrap_or_default(), config.password_min_length, email.as_ref())
            .map_err(|e| errors.insert("newPassword", e.0))
            .ok();
    let refuse = |errors| FormState { form: Some("password"), errors, ..FormState::default() };
    let Some(new) = new.filter(|_| errors.is_empty()) else {
        return refused(mode, db, me, &csrf, config, refuse(errors)).await;
    };
    if let (Some(current), Some(_)) = (&current, &stored) {
        // A stolen session must not be a way to guess the password: a current password
        // counts as a sign-in attempt of the account, before it is verified, and is
        // given back when it is right.
        let limit = throttle::account(config, &me.user.email);
        {
            let mut conn = db.conn().await?;
            throttle::take(&mut conn, config, &[&limit], session::now()).await?;
        }
        if !hasher.verify(current, stored).await?.matches {
            let errors =
                FieldErrors::from([("currentPassword", "That is not your current password.".into())]);
            return refused(mode, db, me, &csrf, config, refuse(errors)).await;
        }
        let mut conn = db.conn().await?;
        throttle::give_back(&mut conn, &limit).await?;
    }
    // The expensive check of the new password, off the async workers.
    if let Err(e) = hasher.check_strength(new.strength_check(email.as_ref())).await? {
        return refused(mode, db, me, &csrf, config, refuse(FieldErrors::from([("newPassword", e.0)]))).await;
    }

    let hash = hasher.hash(&new).await?;
    let mut conn = db.conn().await?;
    let mut tx = conn.begin().await?;
    users::update_password_hash(&mut tx, &me.user.id, &hash, session::now()).await?;
    sessions::delete_all_for_user(&mut tx, &me.user.id).await?;
    // A change proved the current password; setting a first password proved nothing
    // new, so the fresh session keeps the way this one was signed in (and dies with
    // that provider if it is unlinked).
    let method = if had_password { PASSWORD_METHOD } else { me.method.as_str() };
    session::start(&mut tx, jar, config, &me.user.id, method, &client).await?;
    let event = if had_password { Event::PasswordChanged } else { Event::PasswordSet };
    audit::record(&mut tx, &me.user.id, event, "", &client).await;
    tx.commit().await?;

    let message = if had_password {
        "Your password was changed. Every other session was signed out."
    } else {
        "Your password was set. Every other session was signed out."
    };
    Ok(Reply::RedirectFlash { url: config.absolute("/account"), kind: "success", message: message.into() })
}

/// `POST /account/unlink/<provider>` (`csrfToken`): disconnects the provider and ends
/// every session that was signed in through it (this browser's too, when it was: it is
/// then sent to `/signin`). Refused
/// with 409 while it is the user's last way to sign in (no password, no other
/// provider); 404 when the provider is not linked. The user's row is locked for the
/// check, so two unlinks at once cannot both leave the user with nothing.
#[allow(clippy::too_many_arguments)]
#[post("/account/unlink/<provider>", data = "<form>")]
async fn unlink(
    provider: &str,
    me: SignedIn<'_>,
    form: Payload<CallbackForm>,
    csrf: CsrfToken,
    config: &State<AuthConfig>,
    db: &State<Db>,
    jar: &CookieJar<'_>,
    client: ClientInfo,
) -> Result<Reply> {
    let mode = form.1;
    let _ = form;
    let provider = Provider::parse(provider).ok_or(Error::NotFound)?;
    let me = me.0;
    let mut conn = db.conn().await?;
    let mut tx = conn.begin().await?;
    users::lock(&mut tx, &me.user.id, session::now()).await?;
    let has_password = users::find_password_hash(&mut tx, &me.user.id).await?.is_some();
    let others = accounts::count_other_providers(&mut tx, &me.user.id, provider.id()).await?;
    if !has_password && others == 0 {
        let linked = accounts::list_for_user(&mut tx, &me.user.id).await?;
        if !linked.iter().any(|a| a.provider == provider.id()) {
            return Err(Error::NotFound);
        }
        tx.rollback().await?;
        drop(conn);
        let message = format!(
            "{} is your only way to sign in. Set a password or connect another provider before you disconnect it.",
            provider.name()
        );
        let status = Status::Conflict;
        if !mode.is_html() {
            return Ok(Reply::Failed(Failure::refused(
                status,
                "LastSignInMethod",
                config.absolute("/account"),
            )));
        }
        let state = FormState { form: Some("providers"), error: Some(message), ..FormState::default() };
        return Ok(Reply::Page(status, render(db, me, &csrf, config, None, state).await?));
    }
    if !accounts::delete_for_user(&mut tx, &me.user.id, provider.id()).await? {
        return Err(Error::NotFound);
    }
    // The sessions signed in through it end with it, this one included if it was.
    sessions::delete_by_method(&mut tx, &me.user.id, provider.id()).await?;
    audit::record(&mut tx, &me.user.id, Event::ProviderUnlinked, provider.name(), &client).await;
    tx.commit().await?;
    let name = provider.name();
    if me.method == provider.id() {
        session::clear_cookie(jar, config);
        CsrfToken::renew(jar, config);
        return Ok(Reply::RedirectFlash {
            url: config.absolute("/signin?callbackUrl=%2Faccount"),
            kind: "success",
            message: format!(
                "{name} was disconnected, and every session signed in with it was signed out, this one too. \
                 Sign in another way."
            ),
        });
    }
    Ok(Reply::RedirectFlash {
        url: config.absolute("/account"),
        kind: "success",
        message: format!(
            "{name} was disconnected. It can no longer be used to sign in, and the sessions signed in with it \
             were signed out."
        ),
    })
}
