//! `/account/two-factor`: turning TOTP on (a QR code, the key as text, a first code)
//! and off, and renewing the recovery codes. Every action here is a sudo action: a
//! session that did not prove its user in the last `AUTH_REAUTH_MAX_AGE` seconds is
//! sent to `/reauth` first. The page shows the state to any session, and a new secret
//! only to a fresh one.

use rocket::http::Status;
use rocket::request::FlashMessage;
use rocket::{get, post, routes, Route};
use serde::Deserialize;
use serde_json::json;

use crate::auth::audit::{self, Event};
use crate::auth::context::Ctx;
use crate::auth::form::{CallbackForm, Payload};
use crate::auth::guards::SignedIn;
use crate::auth::second_factor::totp::{self, TotpSecret};
use crate::auth::second_factor::{self, NotConfirmed};
use crate::auth::session::CurrentSession;
use crate::auth::sudo;
use crate::email::Kind;
use crate::error::{Error, Result};
use crate::primitives::now;
use crate::reply::{Html, Reply, ReplyMode};
use crate::views::{Base, EnrolmentView, FieldErrors, RecoveryCodesPage, TimeView, TwoFactorPage};

/// The page every action here is on.
const PAGE: &str = "/account/two-factor";

pub fn routes() -> Vec<Route> {
    routes![page, confirm, disable, recovery_codes]
}

/// The name authenticator apps list the account under: the app's host.
fn issuer(ctx: &Ctx<'_>) -> String {
    ctx.config.origin.host_str().unwrap_or("rocket-auth").to_string()
}

fn enrolment_view(ctx: &Ctx<'_>, me: &CurrentSession, secret: &TotpSecret) -> Result<EnrolmentView> {
    let issuer = issuer(ctx);
    let uri = secret.otpauth_uri(&issuer, &me.user.email);
    let qr_svg =
        totp::qr_svg(&uri).ok_or_else(|| Error::Internal("the QR code could not be drawn".into()))?;
    let key = secret.base32();
    let grouped =
        key.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>();
    Ok(EnrolmentView { qr_svg, secret: grouped.join(" "), issuer, account: me.user.email.clone() })
}

async fn render(
    ctx: &Ctx<'_>,
    me: &CurrentSession,
    flash: Option<FlashMessage<'_>>,
    error: Option<String>,
    errors: FieldErrors,
) -> Result<Html> {
    let mut conn = ctx.db.conn().await?;
    let status = second_factor::status(&mut conn, &me.user.id).await?;
    let fresh = sudo::fresh(ctx.config, me);
    let enrolment = match status.totp_since {
        None if fresh => {
            let secret = second_factor::enrolment(ctx.config, &mut conn, &me.user.id, &me.id).await?;
            Some(enrolment_view(ctx, me, &secret)?)
        }
        _ => None,
    };
    // A stale session sees no secret: setting up starts with confirming it is you.
    let reauth_url =
        (status.totp_since.is_none() && !fresh).then(|| ctx.config.absolute(&sudo::reauth_path(PAGE)));
    let now = now();
    Ok(Html::render(
        "two_factor",
        TwoFactorPage {
            base: Base::new(Some(me), &ctx.csrf, ctx.config, flash),
            totp_since: status.totp_since.map(|t| TimeView::new(t, now)),
            recovery_codes_left: status.recovery_codes_left,
            enrolment,
            reauth_url,
            error,
            errors,
        },
    ))
}

/// `GET /account/two-factor`: the state, and while TOTP is off, an enrolment: the QR
/// code and the key of a secret kept server-side for this session, ten minutes (a
/// reload shows the same one; starting after it ran out makes a new one). A session
/// outside sudo mode gets no secret, only a link to `/reauth` that comes back here.
#[get("/account/two-factor")]
async fn page(me: SignedIn<'_>, ctx: Ctx<'_>, flash: Option<FlashMessage<'_>>) -> Result<Html> {
    render(&ctx, me.0, flash, None, FieldErrors::new()).await
}

/// The recovery codes, shown once: a page for a browser, JSON for a script.
fn codes_reply(
    ctx: &Ctx<'_>,
    me: &CurrentSession,
    mode: ReplyMode,
    codes: Vec<String>,
    enabled_now: bool,
) -> Reply {
    if !mode.is_html() {
        return Reply::Json(Status::Ok, json!({ "recoveryCodes": codes }));
    }
    let page =
        RecoveryCodesPage { base: Base::new(Some(me), &ctx.csrf, ctx.config, None), codes, enabled_now };
    Reply::Page(Status::Ok, Html::render("recovery_codes", page))
}

#[derive(Deserialize)]
pub struct CodeForm {
    code: Option<String>,
}

/// `POST /account/two-factor/totp` (`code`, `csrfToken`; sudo): confirms the enrolment
/// this session was shown with a code of its secret (one step of drift either way).
/// TOTP is on, ten recovery codes are made and shown once (200), the security log and
/// a notice say so. A malformed or wrong code, or an enrolment that ran out: 422 with
/// the page (nothing changed); TOTP already on: 409.
#[post("/account/two-factor/totp", data = "<form>")]
async fn confirm(me: SignedIn<'_>, form: Payload<CodeForm>, ctx: Ctx<'_>) -> Result<Reply> {
    let (Payload(form, mode), me, config) = (form, me.0, ctx.config);
    sudo::require(config, me, PAGE)?;
    let raw = form.code.unwrap_or_default();
    let mut conn = ctx.db.conn().await?;
    let mut tx = crate::db::begin(&mut conn).await?;
    let outcome = second_factor::confirm(config, &mut tx, &me.user.id, &me.id, &raw).await?;
    let codes = match outcome {
        Ok(codes) => codes,
        Err(why) => {
            tx.rollback().await?;
            drop(conn);
            if why == NotConfirmed::AlreadyOn {
                return Err(Error::Conflict("Two-factor authentication is already on."));
            }
            let message = match why {
                NotConfirmed::Malformed => "Enter the 6 digits your app shows.",
                NotConfirmed::Expired => "This set-up ran out. Scan the new code below and try again.",
                _ => "That code is not right. Check that the app shows this account, and that your device's clock is right.",
            };
            let errors = FieldErrors::from([("code", message.to_string())]);
            let url = config.absolute(PAGE);
            return Reply::form_error_async(mode, Status::UnprocessableEntity, "InvalidCode", url, || {
                render(&ctx, me, None, Some("Two-factor authentication is not on yet.".into()), errors)
            })
            .await;
        }
    };
    audit::record(&mut tx, &me.user.id, Event::TwoFactorEnabled, "", &ctx.client).await;
    ctx.notify(&mut tx, me.user.verified_email(), Kind::TwoFactorEnabled, json!({})).await;
    tx.commit().await?;
    ctx.wake_mailer();
    Ok(codes_reply(&ctx, me, mode, codes, true))
}

/// `POST /account/two-factor/disable` (`csrfToken`; sudo): removes TOTP, the recovery
/// codes and the requirement; the security log and a notice say so. 303 to the page.
#[post("/account/two-factor/disable", data = "<form>")]
async fn disable(me: SignedIn<'_>, form: Payload<CallbackForm>, ctx: Ctx<'_>) -> Result<Reply> {
    let (me, config) = (me.0, ctx.config);
    let _ = form;
    sudo::require(config, me, PAGE)?;
    let mut conn = ctx.db.conn().await?;
    let mut tx = crate::db::begin(&mut conn).await?;
    if !second_factor::remove_all(&mut tx, &me.user.id).await? {
        tx.rollback().await?;
        return Ok(Reply::done(config.absolute(PAGE), "Two-factor authentication was already off."));
    }
    audit::record(&mut tx, &me.user.id, Event::TwoFactorDisabled, "", &ctx.client).await;
    ctx.notify(&mut tx, me.user.verified_email(), Kind::TwoFactorDisabled, json!({})).await;
    tx.commit().await?;
    ctx.wake_mailer();
    Ok(Reply::done(
        config.absolute(PAGE),
        "Two-factor authentication is off. Signing in no longer asks for a code.",
    ))
}

/// `POST /account/two-factor/recovery-codes` (`csrfToken`; sudo): ten new recovery
/// codes, shown once (200); the old ones die. 409 while TOTP is off.
#[post("/account/two-factor/recovery-codes", data = "<form>")]
async fn recovery_codes(me: SignedIn<'_>, form: Payload<CallbackForm>, ctx: Ctx<'_>) -> Result<Reply> {
    let (mode, me, config) = (form.1, me.0, ctx.config);
    sudo::require(config, me, PAGE)?;
    let mut conn = ctx.db.conn().await?;
    let mut tx = crate::db::begin(&mut conn).await?;
    if !second_factor::required(&mut tx, &me.user.id).await? {
        return Err(Error::Conflict("Recovery codes come with two-factor authentication: turn it on first."));
    }
    let codes = second_factor::new_recovery_codes(&mut tx, &me.user.id).await?;
    audit::record(&mut tx, &me.user.id, Event::RecoveryCodesRenewed, "", &ctx.client).await;
    tx.commit().await?;
    Ok(codes_reply(&ctx, me, mode, codes, false))
}
