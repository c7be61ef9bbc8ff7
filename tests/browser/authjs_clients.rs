//! The real Auth.js browser clients, `next-auth/react` 4.24 (npm `latest`) and 5 (npm
//! `beta`), unmodified, in a page on the app's origin: they sign in with the
//! credentials provider, read the session and sign out against this app exactly as
//! they would against Auth.js.
//!
//! The packages come from `tests/browser/authjs/` (pinned in its `package-lock.json`;
//! `.ci/run` runs `npm ci` there), and this test bundles them with esbuild
//! (`node build.mjs`) into one script per version, served by a test-only route. The
//! page loads it by `<script src>`, under the app's own CSP (`script-src 'self'`).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use rocket::http::ContentType;
use rocket::response::content::RawHtml;
use rocket::{get, routes, State};
use serde_json::{json, Value};

use crate::providers::Double;
use crate::webdriver::Browser;
use crate::{sign_out, sign_up, start_app_with, wait_for_url, Driver, Shots, PASSWORD};

/// The two bundles, read after esbuild made them.
struct Bundles {
    v4: String,
    v5: String,
}

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser/authjs")
}

/// Bundles both clients with esbuild, from the packages `npm ci` installed.
fn bundle() -> Bundles {
    let dir = fixture_dir();
    assert!(
        dir.join("node_modules/next-auth-v4/react").exists()
            && dir.join("node_modules/next-auth-v5").exists(),
        "the next-auth packages are needed in {}: run `npm ci` there (`bash .ci/run` does)",
        dir.display()
    );
    let out = Command::new("node").arg("build.mjs").current_dir(&dir).output().expect("node runs");
    assert!(
        out.status.success(),
        "esbuild failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let read = |name: &str| std::fs::read_to_string(dir.join("dist").join(name)).unwrap();
    Bundles { v4: read("next-auth-v4.js"), v5: read("next-auth-v5.js") }
}

#[get("/test-clients/<version>")]
fn page(version: &str) -> Option<RawHtml<String>> {
    matches!(version, "v4" | "v5").then(|| {
        RawHtml(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>next-auth {version}</title>\
             <script src=\"/test-clients/next-auth-{version}.js\"></script></head>\
             <body><main><h1>next-auth {version} client</h1></main></body></html>"
        ))
    })
}

#[get("/test-clients/next-auth-v4.js")]
fn v4(bundles: &State<Bundles>) -> (ContentType, String) {
    (ContentType::JavaScript, bundles.v4.clone())
}

#[get("/test-clients/next-auth-v5.js")]
fn v5(bundles: &State<Bundles>) -> (ContentType, String) {
    (ContentType::JavaScript, bundles.v5.clone())
}

/// Every call of the scenario, in order, run by the client in the page; what each
/// returned (or threw) comes back as JSON.
const SCENARIO: &str = r#"
const [email, password] = arguments;
const done = arguments[arguments.length - 1];
const client = window.nextAuth;
const steps = [];
const step = async (name, call) => {
  try { steps.push({ name, value: (await call()) ?? null }); }
  catch (e) { steps.push({ name, thrown: String((e && e.stack) || e) }); }
};
(async () => {
  await step("getCsrfToken", () => client.getCsrfToken());
  await step("getProviders", () => client.getProviders());
  await step("getSession before", () => client.getSession());
  await step("signIn wrong", () => client.signIn("credentials", { email, password: "not the password", redirect: false }));
  await step("signIn right", () => client.signIn("credentials", { email, password, redirect: false }));
  await step("getSession signed in", () => client.getSession());
  await step("signOut", () => client.signOut({ redirect: false }));
  await step("getSession after", () => client.getSession());
  await step("signIn email", () => client.signIn("email", { email, redirect: false }));
  done(steps);
})();
"#;

fn step<'a>(steps: &'a Value, name: &str) -> &'a Value {
    let step = steps
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == name))
        .unwrap_or_else(|| panic!("no step {name}: {steps}"));
    assert!(step.get("thrown").is_none(), "{name} threw: {}", step["thrown"]);
    &step["value"]
}

async fn run_client(driver: &Driver, app: &str, version: &str, shots: &mut Shots) {
    let email = format!("next-auth-{version}@example.com");
    let browser = Browser::open(&driver.url, 1280, None).await;
    sign_up(&browser, app, "Client Test", &email).await;
    sign_out(&browser).await;

    let page = format!("{app}/test-clients/{version}");
    browser.goto(&page).await;
    for _ in 0..50 {
        if browser.script("return typeof window.nextAuth === 'object'", json!([])).await == json!(true) {
            break;
        }
        rocket::tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let loaded = browser.script("return window.nextAuthVersion", json!([])).await;
    assert_eq!(loaded, json!(version.trim_start_matches('v')), "the {version} bundle loaded under the CSP");

    let steps = browser.script_async(SCENARIO, json!([email, PASSWORD])).await;
    let csrf = step(&steps, "getCsrfToken");
    assert!(csrf.as_str().is_some_and(|t| t.len() >= 43), "{version}: a CSRF token: {csrf}");
    let providers = step(&steps, "getProviders");
    assert_eq!(providers["credentials"]["type"], "credentials", "{version}: {providers}");
    assert_eq!(step(&steps, "getSession before"), &Value::Null, "{version}: signed out");

    let wrong = step(&steps, "signIn wrong");
    assert_eq!(wrong["error"], "CredentialsSignin", "{version}: {wrong}");
    assert_eq!(wrong["url"], Value::Null, "{version}: {wrong}");
    if version == "v4" {
        // Auth.js v4's answer to refused credentials: 401.
        assert_eq!((wrong["ok"].clone(), wrong["status"].clone()), (json!(false), json!(401)), "{wrong}");
    } else {
        // Auth.js v5's: 200, the error in the URL.
        assert_eq!((wrong["ok"].clone(), wrong["status"].clone()), (json!(true), json!(200)), "{wrong}");
    }
    let right = step(&steps, "signIn right");
    assert_eq!(right["ok"], true, "{version}: {right}");
    assert_eq!(right["status"], 200, "{version}: {right}");
    assert_eq!(right["error"], Value::Null, "{version}: {right}");
    assert_eq!(right["url"], json!(page), "{version}: back to the page it was called on");

    let session = step(&steps, "getSession signed in");
    assert_eq!(session["user"]["email"], json!(email), "{version}: {session}");
    assert!(session["expires"].as_str().is_some_and(|e| e.ends_with('Z')), "{version}: {session}");
    let signed_out = step(&steps, "signOut");
    assert_eq!(signed_out["url"], json!(page), "{version}: {signed_out}");
    assert_eq!(step(&steps, "getSession after"), &Value::Null, "{version}: signed out again");
    // The Email provider: the link and code are sent, the client is told where to wait.
    let email_signin = step(&steps, "signIn email");
    assert_eq!(email_signin["ok"], true, "{version}: {email_signin}");
    assert_eq!(email_signin["error"], Value::Null, "{version}: {email_signin}");
    let url = email_signin["url"].as_str().unwrap_or_default();
    assert!(url.starts_with(&format!("{app}/api/auth/verify-request?provider=email")), "{version}: {url}");

    // signIn() without a provider sends the browser to Auth.js's sign-in page address,
    // which lands on a working sign-in page that keeps where to come back to.
    browser.script("window.nextAuth.signIn(); return true;", json!([])).await;
    let landed =
        wait_for_url(&browser, "signIn() without a provider", |u| u.starts_with(&format!("{app}/signin")))
            .await;
    assert_eq!(landed, format!("{app}/signin?callbackUrl=%2Ftest-clients%2F{version}"));
    crate::assert_text(&browser, "Sign in").await;
    assert_eq!(browser.count("form[action='/api/auth/callback/credentials']").await, 1);
    shots.take(&browser, &format!("signin-from-next-auth-{version}")).await;
    browser.close().await;
}

#[rocket::async_test]
async fn both_auth_js_clients_sign_in_read_the_session_and_sign_out() {
    let bundles = bundle();
    let double = Double::start().await;
    let db = crate::TempDb::new("authjs");
    let (app, _mail) =
        start_app_with(&double, &db, |rocket| rocket.manage(bundles).mount("/", routes![page, v4, v5])).await;
    let driver = Driver::start().await;
    let mut shots = Shots::new();
    for version in ["v4", "v5"] {
        run_client(&driver, &app, version, &mut shots).await;
    }
    drop(driver);
}
