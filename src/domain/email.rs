use super::{control_chars_error, has_control_chars, FieldError};

/// An email address, normalised: trimmed and Unicode-lowercased in Rust, because
/// SQLite's `lower()` folds ASCII only and the unique index must see one form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// RFC 5321 caps a path at 256 octets, so an address at 254.
    pub const MAX_LENGTH: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        if has_control_chars(raw) {
            return Err(control_chars_error());
        }
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err(FieldError("Enter your email address.".into()));
        }
        let invalid = || FieldError("Enter a valid email address, like name@example.com.".into());
        if email.len() > Self::MAX_LENGTH || email.chars().any(char::is_whitespace) {
            return Err(invalid());
        }
        let Some((local, domain)) = email.rsplit_once('@') else {
            return Err(invalid());
        };
        let domain_ok = !domain.is_empty()
            && domain.len() <= 253
            && !domain.contains('@')
            && domain.contains('.')
            && domain
                .split('.')
                .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'));
        if local.is_empty() || local.len() > 64 || local.contains('@') || !domain_ok {
            return Err(invalid());
        }
        Ok(Email(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_surrounding_space() {
        assert_eq!(Email::parse("  Ada@Example.COM ").unwrap().as_str(), "ada@example.com");
        assert_eq!(Email::parse("ÉMILE@exemple.fr").unwrap().as_str(), "émile@exemple.fr");
    }

    #[test]
    fn refuses_malformed_addresses() {
        for bad in [
            "",
            " ",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "ada@@example.com",
            "ada@example..com",
            "ada@-example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(65))).is_err());
    }

    #[test]
    fn refuses_control_characters() {
        assert!(Email::parse("ada\0@example.com").is_err());
        assert!(Email::parse("ada@example.com\u{7f}").is_err());
        assert!(Email::parse("ada@example.com\u{85}").is_err());
    }
}
