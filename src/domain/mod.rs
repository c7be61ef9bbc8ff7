//! Values parsed at the edge: once a handler holds an [`Email`] or a [`Password`], it
//! is valid. Each constructor refuses control characters (U+0000 above all, which
//! PostgreSQL rejects in `text`) before anything reaches SQL.

mod callback_url;
mod device;
mod email;
mod name;
mod password;
mod session_id;

pub use callback_url::CallbackUrl;
pub use device::describe_device;
pub use email::Email;
pub use name::DisplayName;
pub use password::{Password, StrengthCheck, PASSWORD_MAX_LENGTH};
pub use session_id::PublicSessionId;

/// Why a field was refused; the message is shown next to the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError(pub String);

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether `s` holds a control character (C0, DEL or C1), refused on every field.
pub fn has_control_chars(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// The message for a field that holds control characters.
pub(crate) fn control_chars_error() -> FieldError {
    FieldError("This field contains characters that are not allowed.".into())
}
