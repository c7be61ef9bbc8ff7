//! `POST /account/password`: set or change the password.
//!
//! Setting or changing the password ends every other session of the user and gives
//! this browser a fresh token (DESIGN.md, linking rules: a session an attacker planted
//! before the owner took the account back must die with the old password).

use rocket::post;
use serde::Deserialize;

use super::{refused, FormState, INVALID};
use crate::auth::audit::{self, Event};
use crate::auth::context::Ctx;
use crate::auth::form::Payload;
use crate::auth::guards::SignedIn;
use crate::auth::session::{self, PASSWORD_METHOD};
use crate::auth::throttle;
use crate::db::{sessions, users};
use crate::domain::{Email, Password};
use crate::error::Result;
use crate::primitives::now;
use crate::reply::Reply;
use crate::views::FieldErrors;

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(rename = "currentPassword")]
    current_password: Option<String>,
    #[serde(rename = "newPassword")]
    new_password: Option<String>,
}

/// `POST /account/password`: sets or changes the password. The current password is
/// required when one is set; the new one is checked as at sign-up. On success every
/// session of the user ends and this browser gets a new one (a fresh token), in one
/// transaction with the new hash; 303 to `/account`. A wrong current password or an
/// invalid new one: 422 with the form, nothing changed.
#[post("/account/password", data = "<form>")]
pub(super) async fn password(me: SignedIn<'_>, form: Payload<PasswordForm>, ctx: Ctx<'_>) -> Result<Reply> {
    let (Payload(form, mode), me, config, hasher) = (form, me.0, ctx.config, ctx.hasher());
    let stored = {
        let mut conn = ctx.db.conn().await?;
        users::find_password_hash(&mut conn, &me.user.id).await?
    };
    let had_password = stored.is_some();
    // Changing a password asks for the current one; setting a first one (an account
    // that signs in with a provider or by email) is a sudo action instead.
    if !had_password {
        crate::auth::sudo::require(config, me, "/account")?;
    }

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
        return refused(&ctx, mode, me, INVALID, refuse(errors)).await;
    };
    if let (Some(current), Some(_)) = (&current, &stored) {
        // A stolen session must not be a way to guess the password: a current password
        // counts as a sign-in attempt of the account, before it is verified, and is
        // given back when it is right.
        let limit = throttle::account(config, &me.user.email);
        {
            let mut conn = ctx.db.conn().await?;
            throttle::take(&mut conn, &[&limit], now()).await?;
        }
        if !hasher.verify(current, stored).await?.matches {
            let errors =
                FieldErrors::from([("currentPassword", "That is not your current password.".into())]);
            return refused(&ctx, mode, me, INVALID, refuse(errors)).await;
        }
        let mut conn = ctx.db.conn().await?;
        throttle::give_back(&mut conn, &limit).await?;
    }
    // The expensive check of the new password, off the async workers.
    if let Err(e) = hasher.check_strength(new.strength_check(email.as_ref())).await? {
        return refused(&ctx, mode, me, INVALID, refuse(FieldErrors::from([("newPassword", e.0)]))).await;
    }

    let hash = hasher.hash(&new).await?;
    let mut conn = ctx.db.conn().await?;
    let mut tx = crate::db::begin(&mut conn).await?;
    users::update_password_hash(&mut tx, &me.user.id, &hash, now()).await?;
    sessions::delete_all_for_user(&mut tx, &me.user.id).await?;
    // A change proved the current password; setting a first password proved nothing
    // new, so the fresh session keeps the way this one was signed in (and dies with
    // that provider if it is unlinked).
    let method = if had_password { PASSWORD_METHOD } else { me.method.as_str() };
    session::start(&mut tx, ctx.jar, config, &me.user.id, method, &ctx.client).await?;
    let event = if had_password { Event::PasswordChanged } else { Event::PasswordSet };
    audit::record(&mut tx, &me.user.id, event, "", &ctx.client).await;
    // Links sent before the change (a reset above all) die with the old password.
    crate::auth::email_token::revoke_for_user(&mut tx, &me.user.id, &me.user.email).await?;
    let kind = crate::email::Kind::PasswordChanged;
    ctx.notify(&mut tx, me.user.verified_email(), kind, serde_json::json!({})).await;
    tx.commit().await?;
    ctx.wake_mailer();

    let message = if had_password {
        "Your password was changed. Every other session was signed out."
    } else {
        "Your password was set. Every other session was signed out."
    };
    Ok(Reply::done(config.absolute("/account"), message))
}
