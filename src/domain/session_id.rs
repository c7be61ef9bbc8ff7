use std::fmt;

/// A public session id, as the sessions page names a session in its revoke URL: 16
/// random bytes in base64url (22 characters), the first half of the cookie token. It
/// proves nothing by itself; the secret half, never shown, does.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicSessionId(String);

impl PublicSessionId {
    /// Random bytes in an id.
    const BYTES: usize = 16;
    /// Its length in base64url.
    pub const LEN: usize = 22;

    /// A new random id, for a new session.
    pub fn random() -> Self {
        PublicSessionId(crate::primitives::random_string(Self::BYTES))
    }

    pub fn parse(raw: &str) -> Option<Self> {
        crate::primitives::is_token_shaped(raw, Self::LEN).then(|| PublicSessionId(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PublicSessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicSessionId({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::PublicSessionId;

    #[test]
    fn accepts_only_the_id_shape() {
        assert!(PublicSessionId::parse("AAAAAAAAAAAAAAAAAAAAAA").is_some());
        assert!(PublicSessionId::parse("abc-_0123456789ABCDEFG").is_some());
        for bad in
            ["", "short", "AAAAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAA/", "AAAAAAAAAAAAAAAAAAAAA\0"]
        {
            assert!(PublicSessionId::parse(bad).is_none(), "{bad:?}");
        }
    }
}
