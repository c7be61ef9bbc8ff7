//! A small W3C WebDriver client over reqwest, enough to drive chromium through
//! chromedriver: sessions, navigation, elements, the keyboard, scripts, and
//! full-page screenshots through the DevTools protocol.

use std::time::Duration;

use base64::Engine;
use serde_json::{json, Value};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Browser {
    http: reqwest::Client,
    base: String,
}

pub struct Element<'a> {
    browser: &'a Browser,
    id: String,
}

impl Browser {
    /// A new headless chromium window: its own profile, so its own cookies.
    pub async fn open(driver: &str, width: u32, user_agent: Option<&str>) -> Browser {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
        let mut args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            format!("--window-size={width},900"),
        ];
        if let Some(ua) = user_agent {
            args.push(format!("--user-agent={ua}"));
        }
        let mut options = json!({ "binary": chromium_binary(), "args": args });
        if width < 500 {
            // Narrower than a desktop window can be: chromedriver's phone emulation.
            options["mobileEmulation"] = json!({ "deviceMetrics": { "width": width, "height": 800, "pixelRatio": 1.0, "touch": false } });
        }
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": options,
        }}});
        let res: Value =
            http.post(format!("{driver}/session")).json(&caps).send().await.unwrap().json().await.unwrap();
        let id =
            res["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {res}")).to_string();
        Browser { http, base: format!("{driver}/session/{id}") }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res: Value =
            req.send().await.expect("chromedriver answers").json().await.expect("JSON from chromedriver");
        if let Some(error) = res["value"].get("error") {
            panic!("WebDriver {path}: {error}: {}", res["value"]["message"]);
        }
        res["value"].clone()
    }

    pub async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url }))).await;
    }

    pub async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None).await.as_str().unwrap().to_string()
    }

    /// The page's visible text.
    pub async fn text(&self) -> String {
        self.script("return document.body.innerText", json!([]))
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub async fn script(&self, script: &str, args: Value) -> Value {
        self.call(reqwest::Method::POST, "/execute/sync", Some(json!({ "script": script, "args": args })))
            .await
    }

    /// Runs an asynchronous script: it calls `arguments[arguments.length - 1]` with
    /// its result.
    pub async fn script_async(&self, script: &str, args: Value) -> Value {
        self.call(reqwest::Method::POST, "/execute/async", Some(json!({ "script": script, "args": args })))
            .await
    }

    pub async fn find(&self, css: &str) -> Element<'_> {
        let v = self
            .call(reqwest::Method::POST, "/element", Some(json!({ "using": "css selector", "value": css })))
            .await;
        let id = v[ELEMENT].as_str().unwrap_or_else(|| panic!("no element {css:?}: {v}")).to_string();
        Element { browser: self, id }
    }

    pub async fn count(&self, css: &str) -> usize {
        let v = self
            .call(reqwest::Method::POST, "/elements", Some(json!({ "using": "css selector", "value": css })))
            .await;
        v.as_array().map(Vec::len).unwrap_or(0)
    }

    /// Fills the fields (by CSS selector) and clicks the submit button.
    pub async fn submit(&self, fields: &[(&str, &str)], button: &str) {
        for (css, value) in fields {
            let el = self.find(css).await;
            el.clear().await;
            el.type_text(value).await;
        }
        self.find(button).await.click().await;
    }

    /// Presses Tab, as a keyboard user moves through the page.
    pub async fn press_tab(&self) {
        let tab = "\u{E004}";
        let actions = json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": [
            { "type": "keyDown", "value": tab }, { "type": "keyUp", "value": tab },
        ]}]});
        self.call(reqwest::Method::POST, "/actions", Some(actions)).await;
    }

    pub async fn dark_mode(&self, dark: bool) {
        let value = if dark { "dark" } else { "light" };
        let params = json!({ "features": [{ "name": "prefers-color-scheme", "value": value }] });
        self.cdp("Emulation.setEmulatedMedia", params).await;
    }

    async fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.call(reqwest::Method::POST, "/goog/cdp/execute", Some(json!({ "cmd": cmd, "params": params })))
            .await
    }

    /// Saves a PNG of the whole page, beyond the viewport.
    pub async fn screenshot(&self, path: &std::path::Path) {
        let shot = self
            .cdp("Page.captureScreenshot", json!({ "format": "png", "captureBeyondViewport": true }))
            .await;
        let png = base64::engine::general_purpose::STANDARD.decode(shot["data"].as_str().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }

    pub async fn close(self) {
        let _ = self.http.delete(&self.base).send().await;
    }
}

impl Element<'_> {
    pub async fn click(&self) {
        self.browser
            .call(reqwest::Method::POST, &format!("/element/{}/click", self.id), Some(json!({})))
            .await;
    }

    pub async fn clear(&self) {
        self.browser
            .call(reqwest::Method::POST, &format!("/element/{}/clear", self.id), Some(json!({})))
            .await;
    }

    pub async fn type_text(&self, text: &str) {
        self.browser
            .call(
                reqwest::Method::POST,
                &format!("/element/{}/value", self.id),
                Some(json!({ "text": text })),
            )
            .await;
    }
}

fn chromium_binary() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}
