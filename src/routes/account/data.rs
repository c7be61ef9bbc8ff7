//! The account's data: `GET /account/export` (a JSON file of everything stored about
//! the user) and `POST /account/delete`. Both are sudo actions.

use rocket::{get, post};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{refused, FormState, INVALID};
use crate::auth::audit::Event;
use crate::auth::context::Ctx;
use crate::auth::form::Payload;
use crate::auth::guards::SignedIn;
use crate::auth::second_factor;
use crate::auth::session;
use crate::auth::sudo;
use crate::db::{accounts, email_tokens, outbox, security_events, sessions, users};
use crate::domain::Email;
use crate::email::Kind;
use crate::error::{Error, Result};
use crate::primitives::now;
use crate::reply::{Download, Reply};
use crate::views::FieldErrors;
use crate::views::{human_time, iso_time};

/// The page both actions are on.
const PAGE: &str = "/account";

/// A time in the export: ISO 8601, `null` for never.
fn time(t: i64) -> Value {
    if t == 0 {
        Value::Null
    } else {
        Value::String(iso_time(t))
    }
}

/// `GET /account/export` (sudo): a JSON file (`Content-Disposition: attachment`) of
/// everything stored about the user: the profile, linked provider accounts, live
/// sessions (devices, IPs, times), the second factor's state and the whole security
/// log. No password hash, token, code or TOTP secret: only whether they exist.
#[get("/account/export")]
pub(super) async fn export(me: SignedIn<'_>, ctx: Ctx<'_>) -> Result<Download> {
    let me = me.0;
    sudo::require(ctx.config, me, PAGE)?;
    let mut conn = ctx.db.conn().await?;
    let user = users::find_for_export(&mut conn, &me.user.id).await?.ok_or(Error::NotFound)?;
    let now = now();
    let linked = accounts::list_for_export(&mut conn, &me.user.id).await?;
    let live = sessions::list_for_user(&mut conn, &me.user.id, now).await?;
    let log = security_events::list_all(&mut conn, &me.user.id).await?;
    let factors = second_factor::status(&mut conn, &me.user.id).await?;
    let body = json!({
        "exportedAt": iso_time(now),
        "user": {
            "id": user.id,
            "name": user.name,
            "email": user.email,
            "emailVerified": time(user.email_verified),
            "image": user.image,
            "hasPassword": user.has_password != 0,
            "createdAt": time(user.created_at),
            "updatedAt": time(user.updated_at),
        },
        "accounts": linked.iter().map(|a| json!({
            "provider": a.provider,
            "providerAccountId": a.provider_account_id,
            "email": a.email,
            "login": a.label,
            "connectedAt": time(a.created_at),
            "updatedAt": time(a.updated_at),
        })).collect::<Vec<_>>(),
        "sessions": live.iter().map(|s| json!({
            "id": s.id,
            "current": s.id == me.id,
            "createdAt": time(s.created_at),
            "lastActiveAt": time(s.last_active_at),
            "expiresAt": time(s.expires_at),
            "ip": s.ip,
            "userAgent": s.user_agent,
        })).collect::<Vec<_>>(),
        "twoFactor": {
            "totp": factors.totp_since.is_some(),
            "enabledAt": time(factors.totp_since.unwrap_or(0)),
            "recoveryCodesLeft": factors.recovery_codes_left,
        },
        "securityLog": log.iter().map(|e| json!({
            "event": e.kind,
            "description": Event::describe(&e.kind, &e.detail),
            "at": time(e.created_at),
            "ip": e.ip,
            "userAgent": e.user_agent,
        })).collect::<Vec<_>>(),
    });
    let body = serde_json::to_string_pretty(&body).map_err(|e| Error::Internal(e.to_string()))?;
    let date = iso_time(now).chars().take(10).collect::<String>();
    Ok(Download { filename: format!("rocket-auth-export-{date}.json"), body })
}

#[derive(Deserialize)]
pub struct DeleteForm {
    confirm: Option<String>,
}

/// `POST /account/delete` (`confirm` = the account's email, trimmed and in any case;
/// `csrfToken`; sudo): deletes the user and everything of theirs in one transaction
/// (sessions, provider accounts, second factors, emailed tokens, the security log,
/// mail still queued for them), sends a notice to a verified address, signs this
/// browser out; 303 to `/`. Another or no address: 422 with the page, nothing deleted.
#[post("/account/delete", data = "<form>")]
pub(super) async fn delete(me: SignedIn<'_>, form: Payload<DeleteForm>, ctx: Ctx<'_>) -> Result<Reply> {
    let (Payload(form, mode), me, config) = (form, me.0, ctx.config);
    sudo::require(config, me, PAGE)?;
    let typed = form.confirm.unwrap_or_default();
    let confirmed = Email::parse(&typed).is_ok_and(|e| e.as_str() == me.user.email);
    if !confirmed {
        let message = format!("Type your email address, {}, to confirm.", me.user.email);
        let state = FormState {
            form: Some("delete"),
            error: Some(message.clone()),
            errors: FieldErrors::from([("confirm", message)]),
            ..FormState::default()
        };
        return refused(&ctx, mode, me, INVALID, state).await;
    }
    let mut conn = ctx.db.conn().await?;
    let mut tx = crate::db::begin(&mut conn).await?;
    users::lock(&mut tx, &me.user.id, now()).await?;
    outbox::delete_queued_for(&mut tx, &me.user.email).await?;
    email_tokens::delete_for_user(&mut tx, &me.user.id, &me.user.email).await?;
    if !users::delete(&mut tx, &me.user.id).await? {
        return Err(Error::NotFound);
    }
    ctx.notify(&mut tx, me.user.verified_email(), Kind::AccountDeleted, json!({})).await;
    tx.commit().await?;
    ctx.wake_mailer();
    log::info!("user {} deleted their account at {}", me.user.id, human_time(now()));
    session::signed_out(ctx.jar, config);
    Ok(Reply::done(config.absolute("/"), "Your account was deleted, with everything stored about you."))
}
