//! What a provider says about the person who signed in, and the same cleaned at the
//! edge: the linking rules ([`super::linking`]) only ever see typed, bounded values.

use super::Provider;
use crate::domain::{has_control_chars, DisplayName, Email};

/// A provider's answer as it came: Google's userinfo, GitHub's `/user` and emails.
#[derive(Debug, Clone)]
pub struct RawProfile {
    /// The provider's stable id: Google's `sub`, GitHub's numeric id.
    pub account_id: String,
    /// The email, only when the provider says it is verified.
    pub verified_email: Option<String>,
    pub name: Option<String>,
    pub image: Option<String>,
    /// How the account page names the account (GitHub login, or the email).
    pub label: Option<String>,
}

/// A profile fit to store: the email valid by [`Email::parse`] (a verified address that
/// is not one counts as none), the name a [`DisplayName`] (dropped when it is not
/// one), the label and image bounded and free of control characters, the image an
/// http(s) URL.
#[derive(Debug, Clone)]
pub struct Profile {
    pub provider: Provider,
    pub account_id: String,
    pub email: Option<Email>,
    pub name: Option<DisplayName>,
    pub image: Option<String>,
    pub label: Option<String>,
}

/// Longest provider-supplied text kept (labels, image URLs).
const MAX_TEXT: usize = 2048;

fn clean(text: Option<&str>) -> Option<String> {
    text.map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= MAX_TEXT && !has_control_chars(t))
        .map(str::to_string)
}

impl Profile {
    pub fn clean(provider: Provider, raw: RawProfile) -> Self {
        let image = clean(raw.image.as_deref())
            .filter(|u| url::Url::parse(u).is_ok_and(|u| matches!(u.scheme(), "https" | "http")));
        Profile {
            provider,
            account_id: raw.account_id,
            email: raw.verified_email.as_deref().and_then(|e| Email::parse(e).ok()),
            name: raw
                .name
                .as_deref()
                .and_then(|n| DisplayName::parse(n).ok())
                .filter(|n| n.as_deref().is_some()),
            image,
            label: clean(raw.label.as_deref()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_is_cleaned_at_the_edge() {
        let raw = RawProfile {
            account_id: "1".into(),
            verified_email: Some(" Ada@Example.COM ".into()),
            name: Some("Ada\u{0}".into()),
            image: Some("javascript:alert(1)".into()),
            label: Some("  ada  ".into()),
        };
        let p = Profile::clean(Provider::GitHub, raw);
        assert_eq!(p.email.unwrap().as_str(), "ada@example.com");
        assert!(p.name.is_none() && p.image.is_none());
        assert_eq!(p.label.as_deref(), Some("ada"));
        let raw = RawProfile {
            account_id: "2".into(),
            verified_email: Some("<not an address>".into()),
            name: Some("Grace".into()),
            image: Some("https://img.example/a.png".into()),
            label: None,
        };
        let p = Profile::clean(Provider::Google, raw);
        assert!(p.email.is_none());
        assert_eq!(p.name.unwrap().as_deref(), Some("Grace"));
        assert_eq!(p.image.as_deref(), Some("https://img.example/a.png"));
    }
}
