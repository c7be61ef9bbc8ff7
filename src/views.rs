//! One serialisable context per template. Tera autoescapes every `.html.tera` page, so
//! whatever a user typed (a name, a user agent) is shown as text, never as markup.

use std::collections::BTreeMap;

use rocket::request::FlashMessage;
use serde::Serialize;

use crate::auth::csrf::CsrfToken;
use crate::auth::session::CurrentSession;
use crate::config::AuthConfig;
use crate::oauth::Provider;

/// Messages per field name, shown under the fields.
pub type FieldErrors = BTreeMap<&'static str, String>;

/// What the layout needs on every page.
#[derive(Serialize)]
pub struct Base {
    pub user: Option<UserView>,
    pub csrf_token: String,
    pub base_path: String,
    pub flash: Option<FlashView>,
}

impl Base {
    pub fn new(
        session: Option<&CurrentSession>,
        csrf: &CsrfToken,
        config: &AuthConfig,
        flash: Option<FlashMessage<'_>>,
    ) -> Self {
        Base {
            user: session.map(|s| UserView {
                id: s.user.id.clone(),
                name: s.user.name.clone(),
                email: s.user.email.clone(),
            }),
            csrf_token: csrf.0.clone(),
            base_path: config.base_path.clone(),
            flash: flash.map(|f| FlashView {
                kind: match f.kind() {
                    "success" => "success",
                    "info" => "info",
                    _ => "error",
                },
                message: f.message().to_string(),
            }),
        }
    }
}

#[derive(Serialize)]
pub struct UserView {
    pub id: String,
    pub name: Option<String>,
    pub email: String,
}

#[derive(Serialize)]
pub struct FlashView {
    pub kind: &'static str,
    pub message: String,
}

#[derive(Serialize)]
pub struct SessionFacts {
    pub created: String,
    pub expires: String,
}

#[derive(Serialize)]
pub struct HomePage {
    #[serde(flatten)]
    pub base: Base,
    pub session: Option<SessionFacts>,
}

#[derive(Serialize)]
pub struct ProviderView {
    pub id: &'static str,
    pub name: &'static str,
}

impl From<Provider> for ProviderView {
    fn from(p: Provider) -> Self {
        ProviderView { id: p.id(), name: p.name() }
    }
}

/// One entry of the security log on the account page.
#[derive(Serialize)]
pub struct ActivityRow {
    pub what: String,
    pub device: String,
    pub user_agent: String,
    pub ip: String,
    pub when: TimeView,
    /// A failed sign-in: shown as a warning.
    pub alert: bool,
}

/// A provider on the account page: linked (with the account's name and an unlink
/// button) or not (with a connect button).
#[derive(Serialize)]
pub struct ProviderLink {
    pub id: &'static str,
    pub name: &'static str,
    pub linked: bool,
    /// The provider's login or email, when linked.
    pub label: String,
    pub linked_since: Option<TimeView>,
    /// False while it is the user's last way to sign in.
    pub can_unlink: bool,
    /// Whether the app can start a flow for it (a linked provider may since have been
    /// switched off).
    pub enabled: bool,
}

#[derive(Serialize)]
pub struct SigninPage {
    #[serde(flatten)]
    pub base: Base,
    pub callback_url: String,
    pub email: String,
    pub error: Option<String>,
    pub errors: FieldErrors,
    pub providers: Vec<ProviderView>,
    pub signed_in_as: Option<String>,
    /// Email is on: the forgot-password link and the sign-in-link form.
    pub email_enabled: bool,
    /// The sign-in-link form's address, when it was refused.
    pub link_email: String,
}

/// "Check your email", with the code form.
#[derive(Serialize)]
pub struct VerifyRequestPage {
    #[serde(flatten)]
    pub base: Base,
    pub email: String,
    pub callback_url: String,
    pub error: Option<String>,
    pub errors: FieldErrors,
}

/// A hidden field of a confirm page's form.
#[derive(Serialize)]
pub struct Field {
    pub name: &'static str,
    pub value: String,
}

/// The page a link in an email opens: it says what the button will do, and only the
/// button (a POST) does it.
#[derive(Serialize)]
pub struct ConfirmPage {
    #[serde(flatten)]
    pub base: Base,
    pub title: &'static str,
    pub message: String,
    pub action: String,
    pub fields: Vec<Field>,
    pub button: &'static str,
}

#[derive(Serialize)]
pub struct ForgotPasswordPage {
    #[serde(flatten)]
    pub base: Base,
    pub email: String,
    pub sent: bool,
    pub error: Option<String>,
    pub errors: FieldErrors,
}

#[derive(Serialize)]
pub struct ResetPasswordPage {
    #[serde(flatten)]
    pub base: Base,
    pub token: String,
    pub email: String,
    pub error: Option<String>,
    pub errors: FieldErrors,
    pub password_min_length: usize,
    pub password_max_length: usize,
}

#[derive(Serialize)]
pub struct SignupPage {
    #[serde(flatten)]
    pub base: Base,
    pub callback_url: String,
    pub name: String,
    pub email: String,
    pub error: Option<String>,
    pub errors: FieldErrors,
    pub password_min_length: usize,
    pub password_max_length: usize,
}

#[derive(Serialize)]
pub struct SignoutPage {
    #[serde(flatten)]
    pub base: Base,
    /// Where to go after signing out, as a path.
    pub callback_url: String,
}

/// A moment shown to people: relative ("3 minutes ago") with the exact time on hover
/// and in the `<time datetime>` attribute.
#[derive(Serialize)]
pub struct TimeView {
    pub relative: String,
    pub exact: String,
    pub iso: String,
}

impl TimeView {
    pub fn new(unix: i64, now: i64) -> Self {
        TimeView { relative: relative_time(unix, now), exact: human_time(unix), iso: iso_time(unix) }
    }
}

#[derive(Serialize)]
pub struct SessionRow {
    pub id: String,
    pub current: bool,
    /// The user agent in words ("Firefox on Linux").
    pub device: String,
    /// The raw user agent, shown on hover.
    pub user_agent: String,
    pub ip: String,
    pub created: TimeView,
    pub last_active: TimeView,
    pub expires: TimeView,
}

#[derive(Serialize)]
pub struct SessionsPage {
    #[serde(flatten)]
    pub base: Base,
    pub sessions: Vec<SessionRow>,
    /// Minutes between two writes of a session's last-active time.
    pub activity_minutes: i64,
}

#[derive(Serialize)]
pub struct AccountPage {
    #[serde(flatten)]
    pub base: Base,
    /// The name field's value: the saved name, or what was just typed.
    pub name: String,
    pub email: String,
    pub has_password: bool,
    pub session_count: i64,
    /// Every provider that is enabled or linked, with its state.
    pub providers: Vec<ProviderLink>,
    /// The latest entries of the security log, newest first.
    pub activity: Vec<ActivityRow>,
    /// Which form the messages belong to: `name` or `password`.
    pub form: Option<&'static str>,
    pub error: Option<String>,
    pub errors: FieldErrors,
    pub password_min_length: usize,
    pub password_max_length: usize,
    /// Email is on: the address can be verified and changed.
    pub email_enabled: bool,
    pub email_verified: bool,
    /// TOTP is on.
    pub two_factor: bool,
    pub recovery_codes_left: i64,
}

/// The second-factor settings (`/account/two-factor`).
#[derive(Serialize)]
pub struct TwoFactorPage {
    #[serde(flatten)]
    pub base: Base,
    /// TOTP is on, since then.
    pub totp_since: Option<TimeView>,
    pub recovery_codes_left: i64,
    /// While TOTP is off: the enrolment shown.
    pub enrolment: Option<EnrolmentView>,
    /// While TOTP is off and the session is outside sudo mode: where to confirm first.
    pub reauth_url: Option<String>,
    pub error: Option<String>,
    pub errors: FieldErrors,
}

/// A TOTP enrolment: the QR code (an inline SVG the app drew) and the secret as text.
#[derive(Serialize)]
pub struct EnrolmentView {
    /// Rendered unescaped: markup the app generated from its own data, never user text.
    pub qr_svg: String,
    /// The base32 secret in groups of four, for typing in.
    pub secret: String,
    pub issuer: String,
    pub account: String,
}

/// Recovery codes, shown once.
#[derive(Serialize)]
pub struct RecoveryCodesPage {
    #[serde(flatten)]
    pub base: Base,
    pub codes: Vec<String>,
    /// TOTP was just turned on (rather than the codes renewed).
    pub enabled_now: bool,
}

/// The second step of a sign-in.
#[derive(Serialize)]
pub struct SecondStepPage {
    #[serde(flatten)]
    pub base: Base,
    pub email: String,
    pub error: Option<String>,
    pub errors: FieldErrors,
}

/// `/reauth`: confirm it is you.
#[derive(Serialize)]
pub struct ReauthPage {
    #[serde(flatten)]
    pub base: Base,
    pub callback_url: String,
    pub has_password: bool,
    pub has_totp: bool,
    /// The providers linked to the account (a new sign-in with one counts).
    pub providers: Vec<ProviderView>,
    /// Email is on: a sign-in link counts too (for an account with no password).
    pub email_enabled: bool,
    pub email: String,
    /// Which form the messages belong to: `password` or `code`.
    pub form: Option<&'static str>,
    pub error: Option<String>,
    pub errors: FieldErrors,
}

pub use crate::primitives::escape_html;
pub use crate::times::{human_time, iso_time, relative_time};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes_but_not_slashes() {
        assert_eq!(
            escape_html("<a href=\"/x?a=1&b='2'\">"),
            "&lt;a href=&quot;/x?a=1&amp;b=&#x27;2&#x27;&quot;&gt;"
        );
    }
}
