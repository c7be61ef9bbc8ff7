//! The account page: `GET /account` and `POST /account/name` here; the password in
//! [`password`], providers in [`providers`], the export and deletion in [`data`]. Each
//! refused form shows the whole page again ([`refused`]), with its messages by the form
//! they belong to.

mod data;
mod password;
mod providers;

use rocket::http::Status;
use rocket::request::FlashMessage;
use rocket::{get, post, routes, Route};
use serde::Deserialize;

use crate::auth::audit::Event;
use crate::auth::context::Ctx;
use crate::auth::form::Payload;
use crate::auth::guards::SignedIn;
use crate::auth::second_factor;
use crate::auth::session::CurrentSession;
use crate::db::{accounts, security_events, sessions, users};
use crate::domain::{describe_device, has_control_chars, DisplayName, Password};
use crate::error::Result;
use crate::oauth::Provider;
use crate::primitives::now;
use crate::reply::{Html, Reply, ReplyMode};
use crate::views::{AccountPage, ActivityRow, Base, FieldErrors, ProviderLink, TimeView};

/// How many security-log entries the page shows.
const ACTIVITY_SHOWN: i64 = 15;

pub fn routes() -> Vec<Route> {
    routes![page, name, password::password, providers::unlink, data::export, data::delete]
}

/// What a re-rendered account page shows besides the saved state.
#[derive(Default)]
pub(crate) struct FormState {
    /// `name`, `email`, `password`, `providers` or `delete`: the form the messages
    /// belong to.
    pub form: Option<&'static str>,
    /// The message at the top; "check the highlighted fields" when not given.
    pub error: Option<String>,
    /// The name field's value, when it differs from the saved name (a refused edit).
    pub name: Option<String>,
    pub errors: FieldErrors,
}

async fn render(
    ctx: &Ctx<'_>,
    me: &CurrentSession,
    flash: Option<FlashMessage<'_>>,
    state: FormState,
) -> Result<Html> {
    let config = ctx.config;
    let mut conn = ctx.db.conn().await?;
    let has_password = users::find_password_hash(&mut conn, &me.user.id).await?.is_some();
    let now = now();
    let session_count = sessions::count_for_user(&mut conn, &me.user.id, now).await?;
    let linked = accounts::list_for_user(&mut conn, &me.user.id).await?;
    let factors = second_factor::status(&mut conn, &me.user.id).await?;
    let activity = security_events::list_recent(&mut conn, &me.user.id, ACTIVITY_SHOWN)
        .await?
        .into_iter()
        .map(|e| ActivityRow {
            what: Event::describe(&e.kind, &e.detail),
            device: describe_device(&e.user_agent),
            alert: [Event::SignInFailed, Event::SecondFactorFailed, Event::ReauthFailed]
                .iter()
                .any(|k| k.kind() == e.kind),
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
                label: account.and_then(|a| a.label().or_else(|| a.email())).unwrap_or_default(),
                linked_since: account.map(|a| TimeView::new(a.created_at, now)),
                can_unlink: ways > 1,
                enabled,
            })
        })
        .collect();
    Ok(Html::render(
        "account",
        AccountPage {
            base: Base::new(Some(me), &ctx.csrf, config, flash),
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
            password_max_length: Password::MAX_LENGTH,
            email_enabled: config.email.is_some(),
            email_verified: me.user.email_verified.is_some(),
            two_factor: factors.required(),
            recovery_codes_left: factors.recovery_codes_left,
        },
    ))
}

/// A refused account form: the page again with its messages for a browser, the
/// failure `code` for a script.
pub(crate) async fn refused(
    ctx: &Ctx<'_>,
    mode: ReplyMode,
    me: &CurrentSession,
    (status, code): (Status, &'static str),
    state: FormState,
) -> Result<Reply> {
    let url = ctx.config.absolute("/account");
    Reply::form_error_async(mode, status, code, url, || render(ctx, me, None, state)).await
}

/// 422 `InvalidInput`: the fields of a form were refused.
const INVALID: (Status, &str) = (Status::UnprocessableEntity, "InvalidInput");

/// `GET /account`: name, email, password, and a summary of the user's sessions.
#[get("/account")]
async fn page(me: SignedIn<'_>, ctx: Ctx<'_>, flash: Option<FlashMessage<'_>>) -> Result<Html> {
    render(&ctx, me.0, flash, FormState::default()).await
}

#[derive(Deserialize)]
pub struct NameForm {
    name: Option<String>,
}

/// `POST /account/name`: sets the display name (blank removes it). 303 to `/account`;
/// 422 with the form for a name that is too long or holds control characters.
#[post("/account/name", data = "<form>")]
async fn name(me: SignedIn<'_>, form: Payload<NameForm>, ctx: Ctx<'_>) -> Result<Reply> {
    let Payload(form, mode) = form;
    let raw = form.name.unwrap_or_default();
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
            return refused(&ctx, mode, me.0, INVALID, state).await;
        }
    };
    let mut conn = ctx.db.conn().await?;
    users::update_name(&mut conn, &me.0.user.id, name.as_deref(), now()).await?;
    let message = if name.as_deref().is_some() { "Your name was saved." } else { "Your name was removed." };
    Ok(Reply::done(ctx.config.absolute("/account"), message))
}
