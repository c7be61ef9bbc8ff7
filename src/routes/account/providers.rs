//! `POST /account/unlink/<provider>`: disconnect a provider. (Connecting one starts
//! an OAuth flow: `routes::oauth`.)

use rocket::http::Status;
use rocket::post;

use super::{refused, FormState};
use crate::auth::audit::{self, Event};
use crate::auth::context::Ctx;
use crate::auth::form::{CallbackForm, Payload};
use crate::auth::guards::SignedIn;
use crate::auth::session;
use crate::db::{accounts, sessions, users};
use crate::error::{Error, Result};
use crate::oauth::Provider;
use crate::primitives::now;
use crate::reply::Reply;

/// `POST /account/unlink/<provider>` (`csrfToken`; sudo): disconnects the provider and ends
/// every session that was signed in through it (this browser's too, when it was: it is
/// then sent to `/signin`). Refused with 409 while it is the user's last way to sign
/// in (no password, no other provider); 404 when the provider is not linked. The
/// user's row is locked for the check, so two unlinks at once cannot both leave the
/// user with nothing.
#[post("/account/unlink/<provider>", data = "<form>")]
pub(super) async fn unlink(
    provider: &str,
    me: SignedIn<'_>,
    form: Payload<CallbackForm>,
    ctx: Ctx<'_>,
) -> Result<Reply> {
    let (mode, me, config) = (form.1, me.0, ctx.config);
    let provider = Provider::parse(provider).ok_or(Error::NotFound)?;
    crate::auth::sudo::require(config, me, "/account")?;
    let name = provider.name();
    let mut conn = ctx.db.conn().await?;
    let mut tx = crate::db::begin(&mut conn).await?;
    users::lock(&mut tx, &me.user.id, now()).await?;
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
            "{name} is your only way to sign in. Set a password or connect another provider before you disconnect it."
        );
        let state = FormState { form: Some("providers"), error: Some(message), ..FormState::default() };
        return refused(&ctx, mode, me, (Status::Conflict, "LastSignInMethod"), state).await;
    }
    if !accounts::delete_for_user(&mut tx, &me.user.id, provider.id()).await? {
        return Err(Error::NotFound);
    }
    // The sessions signed in through it end with it, this one included if it was.
    sessions::delete_by_method(&mut tx, &me.user.id, provider.id()).await?;
    audit::record(&mut tx, &me.user.id, Event::ProviderUnlinked, name, &ctx.client).await;
    tx.commit().await?;
    if me.method == provider.id() {
        session::signed_out(ctx.jar, config);
        return Ok(Reply::done(
            config.absolute("/signin?callbackUrl=%2Faccount"),
            format!(
                "{name} was disconnected, and every session signed in with it was signed out, this one too. \
                 Sign in another way."
            ),
        ));
    }
    Ok(Reply::done(
        config.absolute("/account"),
        format!(
            "{name} was disconnected. It can no longer be used to sign in, and the sessions signed in with it \
             were signed out."
        ),
    ))
}
