use super::{control_chars_error, has_control_chars, FieldError};

/// A display name: optional, trimmed, at most [`DisplayName::MAX_LENGTH`] characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(Option<String>);

impl DisplayName {
    pub const MAX_LENGTH: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        if has_control_chars(raw) {
            return Err(control_chars_error());
        }
        let name = raw.trim();
        if name.chars().count() > Self::MAX_LENGTH {
            return Err(FieldError(format!("Use at most {} characters for your name.", Self::MAX_LENGTH)));
        }
        Ok(DisplayName((!name.is_empty()).then(|| name.to_string())))
    }

    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_treats_blank_as_none() {
        assert_eq!(DisplayName::parse("  Ada ").unwrap().as_deref(), Some("Ada"));
        assert_eq!(DisplayName::parse("   ").unwrap().as_deref(), None);
    }

    #[test]
    fn refuses_long_names_and_control_characters() {
        assert!(DisplayName::parse(&"x".repeat(101)).is_err());
        assert!(DisplayName::parse(&"é".repeat(100)).is_ok());
        assert!(DisplayName::parse("Ada\u{0}").is_err());
    }
}
