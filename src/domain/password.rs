use std::fmt;

use super::{control_chars_error, has_control_chars, Email, FieldError};

/// A password, kept as given: never trimmed, never truncated, never printed.
pub struct Password(String);

/// Longest password accepted anywhere. Longer input is refused before any hashing, so
/// a megabyte "password" costs a length check, not an argon2 run (OWASP ASVS 2.1.2
/// asks that at least 64 characters be accepted; 256 leaves room for passphrases).
pub const PASSWORD_MAX_LENGTH: usize = 256;

impl Password {
    /// [`PASSWORD_MAX_LENGTH`].
    pub const MAX_LENGTH: usize = PASSWORD_MAX_LENGTH;

    /// A new password (sign-up, change), by the cheap checks: at least `min_length`
    /// characters, at most [`PASSWORD_MAX_LENGTH`], no control characters, not the
    /// email address. No composition rules (NIST SP 800-63B, OWASP ASVS 2.1.9). The
    /// guessability check is expensive and separate ([`Password::strength_check`]): it
    /// runs off the async workers, after the throttle and these checks.
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

    /// The guessability check of this password, as owned work that can be sent to
    /// another thread: zxcvbn costs milliseconds to seconds of CPU, which must never
    /// run on an async worker.
    pub fn strength_check(&self, email: Option<&Email>) -> StrengthCheck {
        let inputs = match email {
            Some(email) => {
                let local = email.as_str().split('@').next().unwrap_or_default();
                vec![email.as_str().to_string(), local.to_string()]
            }
            None => Vec::new(),
        };
        StrengthCheck { head: self.0.chars().take(STRENGTH_CHECKED_CHARS).collect(), inputs }
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

/// How much of a password zxcvbn sees. Its matching grows faster than linearly with
/// the length: a 256-character password of substituted characters cost 1.5 s of CPU.
/// A password whose first 64 characters are strong is far beyond any attacker's reach;
/// the hash sees all of it.
pub const STRENGTH_CHECKED_CHARS: usize = 64;

/// zxcvbn's estimate of a password, to be run off the async workers.
pub struct StrengthCheck {
    head: String,
    inputs: Vec<String>,
}

impl StrengthCheck {
    /// Refuses a password that zxcvbn estimates at fewer than 10^8 guesses (score
    /// below 3): common passwords, keyboard walks, dates, repeats, words with
    /// predictable substitutions, and variations of the email address. zxcvbn's own
    /// warning says why.
    pub fn run(self) -> Result<(), FieldError> {
        let inputs: Vec<&str> = self.inputs.iter().map(String::as_str).collect();
        let estimate = zxcvbn::zxcvbn(&self.head, &inputs);
        if estimate.score() >= zxcvbn::Score::Three {
            return Ok(());
        }
        let why = estimate.feedback().and_then(|f| f.warning()).map(|w| format!("{w} ")).unwrap_or_default();
        Err(FieldError(format!(
            "This password is too easy to guess. {why}Try a longer passphrase of a few unrelated words."
        )))
    }
}

impl fmt::Debug for StrengthCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StrengthCheck(redacted)")
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

    /// The cheap checks and the strength check, as a route runs them.
    fn new_checked(raw: &str, email: Option<&Email>) -> Result<Password, FieldError> {
        let p = Password::new(raw.to_string(), 8, email)?;
        p.strength_check(email).run()?;
        Ok(p)
    }

    #[test]
    fn accepts_long_passphrases_without_trimming() {
        let p = new_checked(&format!(" {} ", "correct horse ".repeat(4)), None).unwrap();
        assert!(p.expose().starts_with(' ') && p.expose().ends_with(' '));
        let long: String =
            (0..PASSWORD_MAX_LENGTH).map(|i| char::from(b'a' + ((i * 7 + i / 26) % 26) as u8)).collect();
        assert!(new_checked(&long, None).is_ok());
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
    fn refuses_guessable_passwords_and_variations_of_the_email() {
        for weak in ["password", "password123", "qwertyuiop", "11111111", "iloveyou2", "P@ssw0rd!"] {
            let e = new_checked(weak, None).err().unwrap_or_else(|| panic!("{weak} was accepted"));
            assert!(e.0.contains("too easy to guess"), "{weak}: {}", e.0);
        }
        let email = Email::parse("grace.hopper@example.com").unwrap();
        assert!(new_checked("grace.hopper1", Some(&email)).is_err());
        assert!(new_checked("correct horse battery staple", Some(&email)).is_ok());
        assert!(new_checked("vK7#mQ2pXz", None).is_ok(), "short but random");
    }

    #[test]
    fn the_strength_check_sees_only_the_first_64_characters() {
        let weak_tail =
            format!("{}{}", "correct horse battery staple lantern orchard velvet c", "password".repeat(20));
        let check = Password::new(weak_tail, 8, None).unwrap().strength_check(None);
        assert_eq!(check.head.chars().count(), STRENGTH_CHECKED_CHARS);
        assert!(check.run().is_ok());
    }

    #[test]
    fn never_prints_the_password() {
        let p = Password::candidate("hunter2hunter2".into()).unwrap();
        assert!(!format!("{p:?}").contains("hunter2"));
    }
}
