//! DESIGN.md's four linking rules, applied to the profile a provider returned:
//!
//! 1. A known provider account signs its user in.
//! 2. A signed-in user who started the flow (connect, from the account page) links the
//!    provider account to themself and keeps their session; refused when the account
//!    belongs to someone else.
//! 3. An unknown provider account whose email belongs to an existing user is not linked
//!    silently (account pre-hijacking): the user is told to sign in as before and
//!    connect the provider from the account page.
//! 4. Otherwise a new user is created and the account linked to them.
//!
//! Everything happens in one transaction; the unique indexes settle races (two
//! callbacks for one new person cannot make two users).

use super::{OAuthError, Profile};
use crate::db::{accounts, is_unique_violation, users, Conn};
use crate::domain::{DisplayName, Email};
use crate::primitives::{new_id, now};

/// What the callback does next.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Start a session for this user (rules 1 and 4).
    SignIn { user_id: String, created: bool },
    /// The provider account was linked to the signed-in user (rule 2).
    Linked,
    /// The signed-in user had already linked this very account.
    AlreadyLinked,
}

/// Applies the rules to a profile cleaned at the edge ([`Profile::clean`]), in one
/// transaction.
pub async fn resolve(
    conn: &mut Conn,
    profile: &Profile,
    link_user_id: Option<&str>,
) -> Result<Outcome, OAuthError> {
    let provider = profile.provider.id();
    let email = profile.email.as_ref();
    let label = profile.label.as_deref();
    let now = now();
    let mut tx = crate::db::begin(conn).await?;
    let owner = accounts::find_user_id(&mut tx, provider, &profile.account_id).await?;
    let outcome = match (owner, link_user_id) {
        (Some(owner), Some(me)) if owner == me => Outcome::AlreadyLinked,
        (Some(_), Some(_)) => return Err(OAuthError::AccountTaken),
        (Some(owner), None) => Outcome::SignIn { user_id: owner, created: false },
        (None, Some(me)) => {
            let account = accounts::NewAccount {
                id: &new_id(),
                user_id: me,
                provider,
                provider_account_id: &profile.account_id,
                email: email.map(Email::as_str),
                label,
                now,
            };
            match accounts::insert(&mut tx, &account).await {
                Ok(()) => Outcome::Linked,
                // The user has another account at this provider, or a racing
                // callback linked this one to someone: either way, not linked.
                Err(e) if is_unique_violation(&e) => return Err(OAuthError::AlreadyConnected),
                Err(e) => return Err(e.into()),
            }
        }
        (None, None) => {
            let email = email.ok_or(OAuthError::NoVerifiedEmail)?;
            if users::find_by_email(&mut tx, email.as_str()).await?.is_some() {
                return Err(OAuthError::EmailTaken);
            }
            let user_id = new_id();
            let user = users::NewUser {
                id: &user_id,
                name: profile.name.as_ref().and_then(DisplayName::as_deref),
                email: email.as_str(),
                email_verified: now,
                image: profile.image.as_deref(),
                password_hash: None,
                now,
            };
            match users::insert(&mut tx, &user).await {
                Ok(_) => {}
                Err(e) if is_unique_violation(&e) => return Err(OAuthError::EmailTaken),
                Err(e) => return Err(e.into()),
            }
            let account = accounts::NewAccount {
                id: &new_id(),
                user_id: &user_id,
                provider,
                provider_account_id: &profile.account_id,
                email: Some(email.as_str()),
                label,
                now,
            };
            match accounts::insert(&mut tx, &account).await {
                Ok(()) => {}
                Err(e) if is_unique_violation(&e) => return Err(OAuthError::AccountTaken),
                Err(e) => return Err(e.into()),
            }
            Outcome::SignIn { user_id, created: true }
        }
    };
    if matches!(outcome, Outcome::AlreadyLinked | Outcome::SignIn { created: false, .. }) {
        let email = email.map(Email::as_str);
        accounts::update_profile(&mut tx, provider, &profile.account_id, email, label, now).await?;
    }
    tx.commit().await?;
    Ok(outcome)
}
