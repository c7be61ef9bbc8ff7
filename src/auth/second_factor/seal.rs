//! Secrets the app must read back (a TOTP secret) are stored sealed: AES-256-GCM under
//! a key derived from `AUTH_SECRET` for this one purpose, with a random 96-bit nonce,
//! and the owner's user id as associated data, so a sealed value copied to another
//! user's row does not open. A database dump alone yields no TOTP secret.
//!
//! After a rotation (`AUTH_SECRET` new, the old one as `AUTH_SECRET_1`), values sealed
//! under the old key still open; [`open`] says when one did, so the caller seals it
//! again under the newest key.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::config::Secret;
use crate::primitives::{hmac_sha256, random_bytes};

const NONCE_BYTES: usize = 12;

/// The purpose label of the derived key.
const PURPOSE: &str = "seal:totp";

fn cipher(secret: &Secret) -> Aes256Gcm {
    let key = hmac_sha256(secret.expose(), PURPOSE, "");
    Aes256Gcm::new_from_slice(&key).expect("a 32-byte key")
}

/// Seals `plain` for `owner` under `secret` (the newest, `AUTH_SECRET`):
/// base64url(nonce ‖ ciphertext ‖ tag).
pub fn seal(secret: &Secret, owner: &str, plain: &[u8]) -> String {
    let nonce = random_bytes(NONCE_BYTES);
    let sealed = cipher(secret)
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain, aad: owner.as_bytes() })
        .expect("AES-GCM encrypts any message this size");
    let mut out = nonce;
    out.extend_from_slice(&sealed);
    URL_SAFE_NO_PAD.encode(out)
}

/// What [`open`] found.
pub struct Opened {
    pub plain: Vec<u8>,
    /// Opened with an older secret: seal it again.
    pub stale: bool,
}

/// Opens a value [`seal`] made for `owner`, trying each of `secrets` (every configured
/// one, the newest first). `None` when none opens it (a secret was dropped, or the
/// value was altered).
pub fn open<'a>(secrets: impl IntoIterator<Item = &'a Secret>, owner: &str, sealed: &str) -> Option<Opened> {
    let raw = URL_SAFE_NO_PAD.decode(sealed).ok()?;
    if raw.len() <= NONCE_BYTES {
        return None;
    }
    let (nonce, body) = raw.split_at(NONCE_BYTES);
    secrets.into_iter().enumerate().find_map(|(i, secret)| {
        cipher(secret)
            .decrypt(Nonce::from_slice(nonce), Payload { msg: body, aad: owner.as_bytes() })
            .ok()
            .map(|plain| Opened { plain, stale: i > 0 })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_for_its_owner_only() {
        let secret = Secret::generate();
        let sealed = seal(&secret, "user-1", b"twenty bytes secret!");
        assert!(!sealed.contains("twenty"));
        let opened = open([&secret], "user-1", &sealed).expect("opens");
        assert_eq!(opened.plain, b"twenty bytes secret!");
        assert!(!opened.stale);
        assert!(open([&secret], "user-2", &sealed).is_none(), "another user's row");
        // Every seal has its own nonce.
        assert_ne!(seal(&secret, "user-1", b"x"), seal(&secret, "user-1", b"x"));
    }

    #[test]
    fn an_altered_value_or_a_dropped_secret_does_not_open() {
        let secret = Secret::generate();
        let sealed = seal(&secret, "u", b"secret");
        let mut raw = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        assert!(open([&secret], "u", &URL_SAFE_NO_PAD.encode(raw)).is_none());
        assert!(open([&secret], "u", "").is_none());
        assert!(open([&secret], "u", "not base64 !").is_none());
        assert!(open([&Secret::generate()], "u", &sealed).is_none());
    }

    #[test]
    fn after_a_rotation_the_old_secret_still_opens_and_says_so() {
        let (old, new) = (Secret::generate(), Secret::generate());
        let sealed = seal(&old, "u", b"secret");
        let opened = open([&new, &old], "u", &sealed).expect("opens with AUTH_SECRET_1");
        assert_eq!(opened.plain, b"secret");
        assert!(opened.stale);
        let resealed = seal(&new, "u", &opened.plain);
        assert!(!open([&new, &old], "u", &resealed).unwrap().stale);
    }
}
