//! TOTP (RFC 6238) as every authenticator app speaks it: HMAC-SHA-1, 6 digits, 30-second
//! steps, a 160-bit secret (RFC 4226's recommended length). A code is accepted for the
//! current step and one step either way (clock drift), and only for a step newer than
//! the last one used, so a code works once and never after a newer one.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};
use totp_rs::{Algorithm, TOTP};

use crate::primitives::{constant_time_eq, random_bytes};

/// Seconds per time step.
pub const STEP: i64 = 30;
/// Digits per code.
pub const DIGITS: usize = 6;
/// Bytes of secret: 160 bits.
pub const SECRET_BYTES: usize = 20;
/// Steps accepted on either side of the current one.
const DRIFT: i64 = 1;

/// A TOTP secret. Never printed.
pub struct TotpSecret(Vec<u8>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret([redacted])")
    }
}

/// The time step of Unix time `t`.
pub fn step_of(t: i64) -> i64 {
    t.div_euclid(STEP)
}

/// A code as typed: six digits, spaces and hyphens allowed between them.
pub fn parse_code(raw: &str) -> Option<String> {
    let code: String = raw.chars().filter(|c| !matches!(c, ' ' | '-' | '\u{a0}')).collect();
    (code.len() == DIGITS && code.bytes().all(|b| b.is_ascii_digit())).then_some(code)
}

impl TotpSecret {
    pub fn generate() -> Self {
        TotpSecret(random_bytes(SECRET_BYTES))
    }

    /// A secret read back (opened from its sealed form); `None` when it is not 160 bits.
    pub fn from_bytes(bytes: Vec<u8>) -> Option<Self> {
        (bytes.len() == SECRET_BYTES).then_some(TotpSecret(bytes))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    fn totp(&self) -> TOTP {
        TOTP::new_unchecked(Algorithm::SHA1, DIGITS, DRIFT as u8, STEP as u64, self.0.clone())
    }

    /// The code of time step `step`.
    pub fn code_at_step(&self, step: i64) -> String {
        self.totp().generate((step.max(0) * STEP) as u64)
    }

    /// The secret in base32 (RFC 4648, no padding), as authenticator apps take it typed
    /// in: 32 characters.
    pub fn base32(&self) -> String {
        totp_rs::Secret::Raw(self.0.clone()).to_encoded().to_string()
    }

    /// The `otpauth://` URI the QR code carries (Google Authenticator's key URI format).
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> String {
        let enc = |s: &str| {
            url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20")
        };
        format!(
            "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP}",
            enc(issuer),
            enc(account),
            self.base32(),
            enc(issuer)
        )
    }

    /// The step `code` belongs to, among the current one (at Unix time `now`) and its
    /// neighbours, if that step is newer than `after` (the last one used). Every
    /// candidate is compared, in constant time each.
    pub fn matching_step(&self, code: &str, now: i64, after: i64) -> Option<i64> {
        let current = step_of(now);
        let mut found = None;
        for step in current - DRIFT..=current + DRIFT {
            if constant_time_eq(&self.code_at_step(step), code) && step > after && found.is_none() {
                found = Some(step);
            }
        }
        found
    }
}

/// `text` as a QR code in SVG (dark modules on white, a quiet zone around), to be put
/// in the page as it is: no script, no image from anywhere.
pub fn qr_svg(text: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let svg = code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    // The XML declaration has no place inside an HTML page.
    Some(match svg.find("<svg") {
        Some(start) => svg[start..].to_string(),
        None => svg,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238, appendix B: the SHA-1 test vectors (the 20-byte ASCII secret
    /// "12345678901234567890"), cut to the 6 digits authenticator apps use (the RFC
    /// prints 8; the last 6 are the 6-digit code).
    #[test]
    fn the_rfc_6238_vectors() {
        let secret = TotpSecret::from_bytes(b"12345678901234567890".to_vec()).unwrap();
        for (t, eight) in [
            (59, "94287082"),
            (1111111109, "07081804"),
            (1111111111, "14050471"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
            (20000000000, "65353130"),
        ] {
            assert_eq!(secret.code_at_step(step_of(t)), eight[2..], "T = {t}");
        }
        assert_eq!(secret.base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    }

    #[test]
    fn a_code_matches_its_step_and_one_either_side_once_newer_than_the_last() {
        // A fixed secret: with a random one, two steps' codes could (rarely) be equal.
        let secret = TotpSecret::from_bytes(b"12345678901234567890".to_vec()).unwrap();
        let now = 1_700_000_015;
        let step = step_of(now);
        for offset in [-1, 0, 1] {
            let code = secret.code_at_step(step + offset);
            assert_eq!(secret.matching_step(&code, now, 0), Some(step + offset));
            // Used already, or a newer one was: refused.
            assert_eq!(secret.matching_step(&code, now, step + offset), None);
        }
        for offset in [-3, -2, 2, 3] {
            assert_eq!(secret.matching_step(&secret.code_at_step(step + offset), now, 0), None, "{offset}");
        }
    }

    #[test]
    fn codes_are_six_digits_with_spaces_allowed() {
        assert_eq!(parse_code("123456").as_deref(), Some("123456"));
        assert_eq!(parse_code(" 123 456 ").as_deref(), Some("123456"));
        assert_eq!(parse_code("123-456").as_deref(), Some("123456"));
        for bad in ["", "12345", "1234567", "12345a", "１２３４５６", "123\n456x", "abcdef"] {
            assert_eq!(parse_code(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_uri_and_the_qr_code() {
        let secret = TotpSecret::from_bytes(b"12345678901234567890".to_vec()).unwrap();
        let uri = secret.otpauth_uri("auth.example.com", "ada+1@example.com");
        assert_eq!(
            uri,
            "otpauth://totp/auth.example.com:ada%2B1%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=auth.example.com&algorithm=SHA1&digits=6&period=30"
        );
        let svg = qr_svg(&uri).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
        assert!(!svg.contains("<script"));
        assert!(format!("{secret:?}").contains("redacted"));
    }
}
