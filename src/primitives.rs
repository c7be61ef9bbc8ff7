//! The primitives every layer may use, and which use nothing of the crate: the time,
//! random tokens and ids, the hashes and MACs that protect tokens at rest, and how an
//! absent value is spelled in the database.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The current Unix time in seconds: every stored time is one.
pub fn now() -> i64 {
    rocket::time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Random bytes in a new row id.
const ID_BYTES: usize = 16;

/// A new random id for a row (a user, an account, a log entry): 16 bytes, base64url,
/// 22 characters.
pub fn new_id() -> String {
    random_string(ID_BYTES)
}

/// `''` in the database is `None` in Rust: no column is nullable (sqlx 0.7's `Any`
/// driver can neither decode nor bind a NULL portably; see the first migration).
pub fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// `None` as the database spells it: `''`.
pub fn or_empty(s: Option<&str>) -> &str {
    s.unwrap_or("")
}

/// `n` bytes from the operating system's CSPRNG, base64url without padding.
pub fn random_string(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Lowercase hex SHA-256 of `input`: what the database keeps instead of a token.
pub fn sha256_hex(input: &str) -> String {
    hex(&Sha256::digest(input.as_bytes()))
}

/// Lowercase hex HMAC-SHA256 of `message` under `key`, with a `purpose` label so one
/// secret can key several uses without one MAC standing in for another.
pub fn hmac_hex(key: &[u8], purpose: &str, message: &str) -> String {
    hex(&hmac_sha256(key, purpose, message))
}

/// [`hmac_hex`]'s MAC as bytes: a key derived from a secret for one purpose.
pub fn hmac_sha256(key: &[u8], purpose: &str, message: &str) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(purpose.as_bytes());
    mac.update(b"\0");
    mac.update(message.as_bytes());
    mac.finalize().into_bytes().into()
}

/// `n` bytes from the operating system's CSPRNG.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; n];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

/// Compares two strings in time that depends on their length only.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Whether `s` looks like a base64url token of `len` characters: checked before a
/// cookie value gets anywhere near SQL.
pub fn is_token_shaped(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 0x0f) as usize] as char);
    }
    out
}

/// Tera's autoescape, minus its escaping of `/` (which turns every URL in an attribute
/// into `&#x2F;` soup): `& < > " '` are what text and quoted attributes need (OWASP XSS
/// prevention, rule 1 and 2). Templates quote every attribute.
pub fn escape_html(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for c in input.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_strings_have_the_expected_length_and_differ() {
        let a = random_string(32);
        assert_eq!(a.len(), 43);
        assert!(is_token_shaped(&a, 43));
        assert_ne!(a, random_string(32));
    }

    #[test]
    fn sha256_matches_a_known_vector() {
        assert_eq!(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn hmac_depends_on_key_purpose_and_message() {
        let base = hmac_hex(b"k", "csrf", "m");
        assert_ne!(base, hmac_hex(b"k2", "csrf", "m"));
        assert_ne!(base, hmac_hex(b"k", "other", "m"));
        assert_ne!(base, hmac_hex(b"k", "csrf", "m2"));
        assert!(constant_time_eq(&base, &hmac_hex(b"k", "csrf", "m")));
    }
}
