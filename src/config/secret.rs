//! The secret type: `AUTH_SECRET` and the provider secrets, never printed.

use std::fmt;

use sha2::{Digest, Sha512};

/// Shortest `AUTH_SECRET` accepted: 32 characters, what `openssl rand -base64 32` gives.
pub const SECRET_MIN_LENGTH: usize = 32;

/// A secret that never prints: `Debug` shows its length only.
#[derive(Clone)]
pub struct Secret(pub(super) Vec<u8>);

impl Secret {
    /// The raw key bytes, for HMAC.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// The secret as text (every secret comes from text configuration).
    pub fn expose_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// A fresh random secret, for debug runs started without `AUTH_SECRET`.
    pub fn generate() -> Self {
        Secret(crate::primitives::random_string(32).into_bytes())
    }

    /// Rocket's 512-bit `secret_key` (private cookies), derived from this secret with
    /// domain separation, so several instances sharing `AUTH_SECRET` share it too.
    pub fn rocket_secret_key(&self) -> Vec<u8> {
        let mut hasher = Sha512::new();
        hasher.update(b"rocket-auth/rocket-secret-key/v1\0");
        hasher.update(&self.0);
        hasher.finalize().to_vec()
    }
}

/// Where a debug run keeps the secret it generated, so a restart of `cargo run` keeps
/// forms, signed cookies and encrypted data working (as Rails keeps its development
/// secret). A release run never reads it: it needs `AUTH_SECRET`.
pub const DEBUG_SECRET_FILE: &str = "data/secret";

impl Secret {
    /// The secret kept at `path`, or a new one written there (readable by its owner
    /// only) when there is none yet or it is too short.
    pub fn kept_in(path: &std::path::Path) -> std::io::Result<Secret> {
        if let Ok(text) = std::fs::read_to_string(path) {
            let text = text.trim();
            if text.chars().count() >= SECRET_MIN_LENGTH {
                return Ok(Secret(text.as_bytes().to_vec()));
            }
        }
        let secret = Secret::generate();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        std::io::Write::write_all(&mut options.open(path)?, &secret.0)?;
        Ok(secret)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret([{} bytes redacted])", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_secret_is_kept_and_read_back() {
        let dir = std::env::temp_dir().join(format!("rocket-auth-secret-{}", crate::primitives::new_id()));
        let path = dir.join("data/secret");
        let first = Secret::kept_in(&path).unwrap();
        let second = Secret::kept_in(&path).unwrap();
        assert_eq!(first.expose(), second.expose(), "a restart keeps it");
        assert!(first.expose().len() >= SECRET_MIN_LENGTH);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        std::fs::write(&path, "short").unwrap();
        assert_ne!(Secret::kept_in(&path).unwrap().expose(), b"short", "a broken file is replaced");
        let _ = std::fs::remove_dir_all(dir);
    }
}
