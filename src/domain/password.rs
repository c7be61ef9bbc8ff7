use std::fmt;

use super::{control_chars_error, has_control_chars, Email, FieldError};
use crate::config::PASSWORD_MAX_LENGTH;

/// A password, kept as given: never trimmed, never truncated, never printed.
pub struct Password(String);

impl Password {
    /// A new password (sign-up, change): at least `min_length` characters, at most
    /// [`PASSWORD_MAX_LENGTH`], no control characters, not the email address. No
    /// composition rules (NIST SP 800-63B, OWASP ASVS 2.1.9).
    pub fn new(raw: String, min_length: usize, email: Option<&Email>) -> Result<Self, FieldError> {
        let password = Self::candidate(raw)?;
        let length = password.0.chars().count();
        if length < min_length {
            return Err(FieldError(format!("Use at least {min_length} characters.")));
        }
        if let Some(email) = email {
            if password.0.trim().to_lowercase() == email.as_str() {
                return Err(FieldError("Your password must not be your email address.".into()));
            }
        }
        Ok(password)
    }

    /// A password offered at sign-in: only the checks that must precede hashing (length
    /// cap, control characters). Minimum lengths are not applied: a password set before
    /// the minimum was raised must still sign in.
    pub fn candidate(raw: String) -> Result<Self, FieldError> {
        if raw.is_empty() {
            return Err(FieldError("Enter your password.".into()));
        }
        // Byte length first: a megabyte of input is refused without walking its chars.
        if raw.len() > PASSWORD_MAX_LENGTH * 4 || raw.chars().count() > PASSWORD_MAX_LENGTH {
            return Err(FieldError(format!("Use at most {PASSWORD_MAX_LENGTH} characters.")));
        }
        if has_control_chars(&raw) {
            return Err(control_chars_error());
        }
        Ok(Password(raw))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(redacted)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_long_passphrases_without_trimming() {
        let p = Password::new(format!(" {} ", "correct horse ".repeat(4)), 8, None).unwrap();
        assert!(p.expose().starts_with(' ') && p.expose().ends_with(' '));
        assert!(Password::new("x".repeat(PASSWORD_MAX_LENGTH), 8, None).is_ok());
    }

    #[test]
    fn refuses_short_long_and_email_passwords() {
        assert!(Password::new("short".into(), 8, None).is_err());
        assert!(Password::new("x".repeat(PASSWORD_MAX_LENGTH + 1), 8, None).is_err());
        let email = Email::parse("ada@example.com").unwrap();
        assert!(Password::new("Ada@Example.com".into(), 8, Some(&email)).is_err());
        assert!(Password::new("pass\0word-long".into(), 8, None).is_err());
    }

    #[test]
    fn never_prints_the_password() {
        let p = Password::candidate("hunter2hunter2".into()).unwrap();
        assert!(!format!("{p:?}").contains("hunter2"));
    }
}
