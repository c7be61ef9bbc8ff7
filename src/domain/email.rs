use super::{control_chars_error, has_control_chars, FieldError};

/// An email address, valid by the HTML standard's rule for `input type=email` and
/// normalised to one form: trimmed, ASCII, lowercase, its domain in IDNA ASCII form.
/// Two spellings of one address (case, a Unicode domain in NFC or NFD, fullwidth
/// letters in the domain) are therefore one account, and the unique index sees it.
///
/// Refused, before anything reaches SQL: control characters (U+0000 above all, which
/// PostgreSQL refuses in `text`); invisible and bidirectional characters anywhere
/// (checked before the IDNA conversion, which would drop them silently and let
/// `ad\u{200b}a@example.com` look like `ada@example.com`); any `@` but exactly one
/// ASCII `@` (fullwidth `＠` included); a local part outside the standard's ASCII
/// set (angle brackets, quotes, commas, spaces); a domain label that is empty, longer
/// than 63 characters, or starts or ends with a hyphen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

/// The characters the HTML standard allows before the `@` (its `valid e-mail
/// address` production, a willful violation of RFC 5322 that leaves out quoting).
fn is_local_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || ".!#$%&'*+/=?^_`{|}~-".contains(c)
}

/// One domain label of the standard: `[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?`.
fn is_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

/// Unicode's default-ignorable code points (zero-width characters, joiners, bidi
/// controls, variation selectors, soft hyphen, tags): shown as nothing, so an address
/// holding one looks like another address.
fn is_invisible(c: char) -> bool {
    matches!(
        c as u32,
        0x00AD
            | 0x034F
            | 0x061C
            | 0x115F..=0x1160
            | 0x17B4..=0x17B5
            | 0x180B..=0x180F
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x206F
            | 0x3164
            | 0xFE00..=0xFE0F
            | 0xFEFF
            | 0xFFA0
            | 0xFFF0..=0xFFF8
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0000..=0xE0FFF
    )
}

/// Characters that read as an `@` but are not the ASCII one.
fn is_at_lookalike(c: char) -> bool {
    matches!(c, '\u{FF20}' | '\u{FE6B}')
}

impl Email {
    /// RFC 5321 caps a path at 256 octets, so an address at 254.
    pub const MAX_LENGTH: usize = 254;

    /// RFC 5321's limit on the part before the `@`.
    pub const MAX_LOCAL_LENGTH: usize = 64;

    /// The one function that decides whether a string is an email address, for every
    /// route that takes one.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        if has_control_chars(raw) {
            return Err(control_chars_error());
        }
        let email = raw.trim();
        if email.is_empty() {
            return Err(FieldError("Enter your email address.".into()));
        }
        let invalid = || FieldError("Enter a valid email address, like name@example.com.".into());
        // Bounded before any per-character work beyond this scan.
        if email.len() > Self::MAX_LENGTH * 4 {
            return Err(invalid());
        }
        if email.chars().any(|c| is_invisible(c) || is_at_lookalike(c) || c.is_whitespace()) {
            return Err(invalid());
        }
        let mut parts = email.split('@');
        let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(invalid());
        };
        if local.is_empty() || domain.is_empty() {
            return Err(invalid());
        }
        if !local.is_ascii() {
            return Err(FieldError(
                "Use an address whose part before the @ is written in ASCII letters, digits and \
                 punctuation; addresses with other characters there are not supported."
                    .into(),
            ));
        }
        if local.len() > Self::MAX_LOCAL_LENGTH || !local.chars().all(is_local_char) {
            return Err(invalid());
        }
        // A domain written in Unicode becomes its ASCII (IDNA) form: lowercased, NFC,
        // fullwidth letters folded, then Punycode. ASCII domains pass unchanged.
        let domain = if domain.is_ascii() {
            domain.to_ascii_lowercase()
        } else {
            idna::domain_to_ascii_cow(domain.as_bytes(), idna::AsciiDenyList::STD3)
                .map_err(|_| invalid())?
                .into_owned()
        };
        if !domain.split('.').all(is_label) {
            return Err(invalid());
        }
        let email = format!("{}@{domain}", local.to_ascii_lowercase());
        if email.len() > Self::MAX_LENGTH {
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

    fn parsed(raw: &str) -> String {
        Email::parse(raw).unwrap_or_else(|e| panic!("{raw:?} was refused: {e}")).0
    }

    #[test]
    fn normalises_case_and_surrounding_space() {
        assert_eq!(parsed("  Ada@Example.COM "), "ada@example.com");
        assert_eq!(parsed("\tAda@EXAMPLE.com\n".trim_matches(['\t', '\n'])), "ada@example.com");
    }

    #[test]
    fn accepts_what_the_html_standard_accepts() {
        for ok in [
            "simple@example.com",
            "very.common@example.com",
            "x@example.com",
            "long.email-address-with-hyphens@and.subdomains.example.com",
            "user.name+tag+sorting@example.com",
            "name/surname@example.com",
            "admin@example",
            "example@s.example",
            "mailhost!username@example.org",
            "user%example.com@example.org",
            "user-@example.org",
            "a.b..c@example.com",
            "#!$%&'*+-/=?^_`{}|~@example.org",
            "1@2.3",
            "ada@xn--bcher-kva.example",
        ] {
            assert_eq!(parsed(ok), ok.to_ascii_lowercase(), "{ok:?}");
        }
        let label63 = "a".repeat(63);
        assert!(Email::parse(&format!("ada@{label63}.example")).is_ok());
    }

    #[test]
    fn refuses_what_the_html_standard_refuses_and_hostile_input() {
        let label64 = "a".repeat(64);
        let long_label = format!("ada@{label64}.example");
        for bad in [
            "",
            " ",
            "ada",
            "ada@",
            "@example.com",
            "<a@example.com>",
            "Ada <a@example.com>",
            "\"john..doe\"@example.com",
            "\"ada\"@example.com",
            "a,b@example.com",
            "a@b,example.com",
            "a@b@example.com",
            "ada@@example.com",
            "a b@example.com",
            "ada@exam ple.com",
            "ada@example..com",
            "ada@.example.com",
            "ada@example.com.",
            "ada@-example.com",
            "ada@example-.com",
            "ada@exa_mple.com",
            "ada@[127.0.0.1]",
            "i.like.underscores@but_they_are_not_allowed_in_this_part",
            "ada(comment)@example.com",
            "ada;@example.com",
            "ada:x@example.com",
            "ada\\@example.com",
            "ada[@example.com",
            long_label.as_str(),
            // Fullwidth and small commercial at.
            "ada\u{FF20}example.com",
            "ada@exa\u{FF20}mple.com",
            "ada\u{FE6B}example.com",
            // Invisible and bidirectional characters, which IDNA would drop silently.
            "ad\u{200B}a@example.com",
            "ada@exa\u{200B}mple.com",
            "ada@exa\u{200D}mple.com",
            "ada@exa\u{00AD}mple.com",
            "ada@exa\u{202E}mple.com",
            "\u{2066}ada@example.com\u{2069}",
            "ada@example.com\u{FEFF}",
            // Non-breaking and other Unicode spaces.
            "ada\u{00A0}@example.com",
            "ada@example.com\u{3000}x",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(65))).is_err());
        assert!(
            Email::parse(&format!("a@{}.example", vec!["b".repeat(60); 5].join("."))).is_err(),
            "over 254"
        );
    }

    #[test]
    fn refuses_cr_lf_and_other_control_characters() {
        for bad in [
            "ada@example.com\r\nBcc: eve@example.com",
            "ada@example.com\n",
            "ada\r@example.com",
            "ada\0@example.com",
            "ada@example.com\u{7f}",
            "ada@example.com\u{85}",
        ] {
            assert_eq!(Email::parse(bad), Err(control_chars_error()), "{bad:?}");
        }
    }

    #[test]
    fn refuses_a_non_ascii_local_part_saying_why() {
        for bad in ["émile@exemple.fr", "ÉMILE@exemple.fr", "用户@例子.广告", "ünïcode@example.com"]
        {
            let e = Email::parse(bad).expect_err(bad);
            assert!(e.0.contains("before the @"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn a_unicode_domain_becomes_its_ascii_form_whatever_its_spelling() {
        let nfc = parsed("ada@b\u{00FC}cher.example");
        let nfd = parsed("ada@bu\u{0308}cher.example");
        let upper = parsed("ADA@B\u{00DC}CHER.EXAMPLE");
        let fullwidth = parsed("ada@\u{FF42}\u{00FC}\u{FF43}\u{FF48}\u{FF45}\u{FF52}.example");
        assert_eq!(nfc, "ada@xn--bcher-kva.example");
        assert_eq!(nfd, nfc);
        assert_eq!(upper, nfc);
        assert_eq!(fullwidth, nfc);
    }
}
