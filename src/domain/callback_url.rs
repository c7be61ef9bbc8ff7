use url::Url;

use super::has_control_chars;

/// Where to send the browser after a sign-in or sign-out: a path, or an absolute URL on
/// the app's own origin (Auth.js's client sends `window.location.href`). Anything else,
/// `//evil.example`, `/\evil.example`, another scheme or host, falls back to `/`, so the
/// parameter can never be used as an open redirect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackUrl(Url);

impl CallbackUrl {
    /// Parses `raw` against `origin` (the app's public origin), falling back to `/`.
    pub fn parse(raw: Option<&str>, origin: &Url) -> Self {
        raw.and_then(|raw| Self::try_parse(raw, origin)).unwrap_or_else(|| Self::root(origin))
    }

    /// `/` on the app's origin.
    pub fn root(origin: &Url) -> Self {
        CallbackUrl(origin.join("/").unwrap_or_else(|_| origin.clone()))
    }

    fn try_parse(raw: &str, origin: &Url) -> Option<Self> {
        let raw = raw.trim();
        if raw.is_empty() || raw.len() > 2048 || has_control_chars(raw) || raw.contains('\\') {
            return None;
        }
        let url = if raw.starts_with('/') {
            if raw.starts_with("//") {
                return None;
            }
            origin.join(raw).ok()?
        } else {
            Url::parse(raw).ok()?
        };
        let same_origin =
            url.origin() == origin.origin() && url.username().is_empty() && url.password().is_none();
        // `/.//evil.example` and `/a/..//evil.example` normalise to the path
        // `//evil.example`: on our origin, but written back as a relative URL (a hidden
        // field, `/signin?callbackUrl=`) it names another host, and a front end that
        // trusts it is an open redirect. Refused, like `//evil.example` itself.
        let path_names_a_host = url.path().starts_with("//") || url.path().starts_with("/\\");
        (same_origin && !path_names_a_host).then_some(CallbackUrl(url))
    }

    /// The absolute URL.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The path, query and fragment, for forms that carry it along.
    pub fn relative(&self) -> String {
        let mut out = self.0.path().to_string();
        if let Some(q) = self.0.query() {
            out.push('?');
            out.push_str(q);
        }
        if let Some(f) = self.0.fragment() {
            out.push('#');
            out.push_str(f);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Url {
        Url::parse("http://localhost:8000").unwrap()
    }

    #[test]
    fn keeps_paths_and_same_origin_urls() {
        let o = origin();
        assert_eq!(
            CallbackUrl::parse(Some("/sessions?x=1"), &o).as_str(),
            "http://localhost:8000/sessions?x=1"
        );
        assert_eq!(
            CallbackUrl::parse(Some("http://localhost:8000/account#top"), &o).relative(),
            "/account#top"
        );
    }

    #[test]
    fn refuses_everything_off_origin() {
        let o = origin();
        for bad in [
            "//evil.example/x",
            "/\\evil.example",
            "https://evil.example/",
            "http://localhost:8001/",
            "https://localhost:8000/",
            "javascript:alert(1)",
            "http://user@localhost:8000/",
            "/ok\u{0}",
            "evil.example",
            "/.//evil.example",
            "/./\\evil.example",
            "/a/..//evil.example",
            "/%2e//evil.example",
            "http://localhost:8000//evil.example",
            "http://localhost:8000/.//evil.example",
        ] {
            assert_eq!(CallbackUrl::parse(Some(bad), &o).as_str(), "http://localhost:8000/", "{bad:?}");
        }
        assert_eq!(CallbackUrl::parse(None, &o).relative(), "/");
    }

    #[test]
    fn what_it_writes_back_never_starts_with_two_slashes() {
        let o = origin();
        for raw in ["/.//evil.example", "/a/..//evil.example", "//x", "/./\\x", "/ok//fine"] {
            let relative = CallbackUrl::parse(Some(raw), &o).relative();
            assert!(!relative.starts_with("//") && !relative.starts_with("/\\"), "{raw:?} -> {relative:?}");
        }
        assert_eq!(CallbackUrl::parse(Some("/ok//fine"), &o).relative(), "/ok//fine");
    }
}
