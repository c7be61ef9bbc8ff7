//! A user agent in words, for the sessions page: "Firefox on Linux", "Safari on
//! iPhone". A short ordered list of tokens covers the browsers people use; the raw
//! string stays available next to it, so an unusual client is never misreported
//! silently, only named less precisely.

/// Browser tokens, most specific first: Edge, Opera and Samsung Internet also say
/// "Chrome", Chrome also says "Safari".
const BROWSERS: &[(&str, &str)] = &[
    ("EdgiOS/", "Edge"),
    ("EdgA/", "Edge"),
    ("Edg/", "Edge"),
    ("Edge/", "Edge"),
    ("OPR/", "Opera"),
    ("OPiOS/", "Opera"),
    ("Opera", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("YaBrowser/", "Yandex Browser"),
    ("Vivaldi/", "Vivaldi"),
    ("DuckDuckGo/", "DuckDuckGo"),
    ("FxiOS/", "Firefox"),
    ("Firefox/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("HeadlessChrome/", "Headless Chrome"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
    ("MSIE ", "Internet Explorer"),
    ("Trident/", "Internet Explorer"),
    ("curl/", "curl"),
    ("Wget/", "Wget"),
    ("python-requests/", "Python requests"),
    ("okhttp/", "OkHttp"),
    ("PostmanRuntime/", "Postman"),
    ("node-fetch", "Node.js"),
    ("undici", "Node.js"),
];

/// Operating-system tokens, most specific first: Android also says "Linux", iOS
/// browsers also say "Mac OS X".
const SYSTEMS: &[(&str, &str)] = &[
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("iPod", "iPod"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Windows Phone", "Windows Phone"),
    ("Windows", "Windows"),
    ("Macintosh", "macOS"),
    ("Mac OS X", "macOS"),
    ("FreeBSD", "FreeBSD"),
    ("OpenBSD", "OpenBSD"),
    ("Linux", "Linux"),
];

fn first_match(user_agent: &str, table: &[(&str, &'static str)]) -> Option<&'static str> {
    table.iter().find(|(token, _)| user_agent.contains(token)).map(|(_, name)| *name)
}

/// Names the device behind a user agent, e.g. "Chrome on Windows".
pub fn describe_device(user_agent: &str) -> String {
    let browser = first_match(user_agent, BROWSERS);
    let system = first_match(user_agent, SYSTEMS);
    match (browser, system) {
        (Some(browser), Some(system)) => format!("{browser} on {system}"),
        (Some(browser), None) => browser.to_string(),
        (None, Some(system)) => format!("Browser on {system}"),
        (None, None) => "Unknown device".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::describe_device;

    #[test]
    fn names_the_common_browsers_and_systems() {
        let cases = [
            ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox on Linux"),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
                "Safari on iPhone",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
                "Chrome on Windows",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.87",
                "Edge on Windows",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
                "Safari on macOS",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
                "Chrome on Android",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1",
                "Chrome on iPhone",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
                "Samsung Internet on Android",
            ),
            ("curl/8.5.0", "curl"),
            ("", "Unknown device"),
            ("<script>alert(1)</script>", "Unknown device"),
        ];
        for (ua, expected) in cases {
            assert_eq!(describe_device(ua), expected, "{ua}");
        }
    }
}
