//! End to end in a real browser: the app on a loopback port with a fresh SQLite
//! database and the Google/GitHub test double, driven in headless chromium through
//! chromedriver. Cookies are where database-session setups break in browsers (Secure
//! over http, SameSite on the OAuth return, cookies set on redirects), so the main
//! flows run here as well as through Rocket's local client.
//!
//! Needs `chromium` and `chromedriver` (Debian: `apt-get install chromium
//! chromium-driver`); without them it fails, it is never skipped. Run it with
//! `cargo test --test browser`. Every page visited is saved as a PNG under
//! `target/screenshots/`.

mod authjs_clients;
mod email_flows;
#[allow(dead_code)]
#[path = "../app/common/providers.rs"]
mod providers;
#[allow(dead_code)]
#[path = "../app/common/smtp.rs"]
mod smtp;
mod two_factor;
mod webdriver;

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use providers::Double;
use serde_json::json;
use webdriver::Browser;

const PASSWORD: &str = "correct horse battery staple";
const NEW_PASSWORD: &str = "lantern orchard velvet compass";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// chromedriver, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    async fn start() -> Driver {
        let port = free_port();
        let child = Command::new(std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into()))
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver is installed (Debian: apt-get install chromium chromium-driver)");
        // Owned at once, so that a panic below still stops the process.
        let driver = Driver { child, url: format!("http://127.0.0.1:{port}") };
        for _ in 0..100 {
            if reqwest::get(format!("{}/status", driver.url)).await.is_ok_and(|r| r.status().is_success()) {
                return driver;
            }
            rocket::tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not start");
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the real app on a loopback port, its mail going to an SMTP double; returns
/// its origin and the double.
async fn start_app(double: &Double, db: &TempDb) -> (String, smtp::SmtpDouble) {
    start_app_with(double, db, |rocket| rocket).await
}

/// [`start_app`], with test-only routes or state added to the app (`extend`).
async fn start_app_with(
    double: &Double,
    db: &TempDb,
    extend: impl FnOnce(rocket::Rocket<rocket::Build>) -> rocket::Rocket<rocket::Build>,
) -> (String, smtp::SmtpDouble) {
    let mail = smtp::SmtpDouble::start().await;
    let port = free_port();
    let origin = format!("http://127.0.0.1:{port}");
    // The providers on `localhost`, the app on `127.0.0.1`: two different sites, as in
    // production, so the OAuth return is a cross-site navigation (SameSite matters).
    let mut env: HashMap<&str, String> =
        double.env().into_iter().map(|(k, v)| (k, v.replace("127.0.0.1", "localhost"))).collect();
    env.insert("AUTH_SECRET", "browser-test-secret-0123456789-abcdefghij".into());
    env.insert("AUTH_URL", origin.clone());
    env.insert("AUTH_ARGON2_MEMORY_KIB", "4096".into());
    env.insert("AUTH_ARGON2_ITERATIONS", "1".into());
    env.insert("EMAIL_SERVER", mail.url());
    env.insert("AUTH_EMAIL_POLL_INTERVAL_MS", "200".into());
    let figment = rocket_auth::figment_with_env(|name| env.get(name).cloned())
        .merge(("databases.main.url", format!("sqlite://{}", db.0.display())))
        .merge(("address", "127.0.0.1"))
        .merge(("port", port))
        .merge(("log_level", "off"))
        .merge(("shutdown.ctrlc", false))
        .merge(("cli_colors", false));
    let rocket = extend(rocket_auth::build(figment));
    rocket::tokio::spawn(async move {
        if let Err(e) = rocket.launch().await {
            panic!("the app did not launch: {e}");
        }
    });
    for _ in 0..100 {
        if reqwest::get(format!("{origin}/healthz")).await.is_ok_and(|r| r.status().is_success()) {
            return (origin, mail);
        }
        rocket::tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the app did not start");
}

/// A fresh SQLite database file for one test, removed when dropped.
struct TempDb(PathBuf);

impl TempDb {
    fn new(name: &str) -> TempDb {
        let path = std::env::temp_dir().join(format!("rocket-auth-browser-{name}-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        TempDb(path)
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Signs a user up through the page, as a person would, and waits for the home page
/// (signed in).
async fn sign_up(browser: &Browser, app: &str, name: &str, email: &str) {
    browser.goto(&format!("{app}/signup")).await;
    browser
        .submit(
            &[("#name", name), ("#email", email), ("#password", PASSWORD)],
            "form[action='/signup'] button[type=submit]",
        )
        .await;
    wait_for_url(browser, "sign-up", |u| u == format!("{app}/")).await;
}

/// Clicks the header's sign-out button and waits for the page that says so.
async fn sign_out(browser: &Browser) {
    browser.find("form[action='/api/auth/signout'] button").await.click().await;
    assert_text(browser, "You have been signed out.").await;
}

struct Shots {
    dir: PathBuf,
    n: usize,
}

impl Shots {
    fn new() -> Self {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        Shots { dir, n: 0 }
    }

    async fn take(&mut self, browser: &Browser, name: &str) {
        self.n += 1;
        browser.screenshot(&self.dir.join(format!("{:02}-{name}.png", self.n))).await;
    }
}

/// Waits until the browser's URL satisfies `ok` (navigation after a click).
async fn wait_for_url(browser: &Browser, what: &str, ok: impl Fn(&str) -> bool) -> String {
    for _ in 0..50 {
        let url = browser.url().await;
        if ok(&url) {
            return url;
        }
        rocket::tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}: still at {}", browser.url().await);
}

/// Waits (up to 5 s, for the navigation a click started) until the page shows `text`.
async fn assert_text(browser: &Browser, text: &str) {
    let mut page = String::new();
    for _ in 0..50 {
        page = browser.text().await;
        if page.contains(text) {
            return;
        }
        rocket::tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page at {} shows {text:?}:\n{page}", browser.url().await);
}

/// Every visible input has a label, and errors are tied to their fields.
async fn assert_accessible_form(browser: &Browser) {
    let unlabelled = browser
        .script(
            "return [...document.querySelectorAll('input:not([type=hidden]):not([hidden])')]\
               .filter(i => !i.id || !document.querySelector(`label[for=\"${i.id}\"]`))\
               .map(i => i.name)",
            json!([]),
        )
        .await;
    assert_eq!(unlabelled, json!([]), "inputs without a label at {}", browser.url().await);
    let untied = browser
        .script(
            "return [...document.querySelectorAll('[aria-invalid=true]')]\
               .filter(i => !(i.getAttribute('aria-describedby') || '').split(' ')\
                  .some(id => document.getElementById(id)?.classList.contains('field-error')))\
               .map(i => i.name)",
            json!([]),
        )
        .await;
    assert_eq!(untied, json!([]), "invalid fields without their message at {}", browser.url().await);
}

/// axe-core, the accessibility engine, fetched by `.ci/run` from the npm registry (the
/// tests themselves never reach the internet).
fn axe_source() -> String {
    let path = std::env::var("AXE_CORE_JS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/axe/axe.min.js"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "axe-core is needed at {} ({e}); `bash .ci/run` fetches it, or: \
             curl -sSfL https://registry.npmjs.org/axe-core/-/axe-core-4.14.1.tgz | \
             tar xz -C target/axe --strip-components=1 package/axe.min.js",
            path.display()
        )
    })
}

/// An automated accessibility audit (WCAG 2.1 A and AA rules) of the current page.
async fn assert_axe_clean(browser: &Browser, axe: &str) {
    browser.script(&format!("{axe}\n;return true;"), json!([])).await;
    let result = browser
        .script_async(
            "const done = arguments[arguments.length - 1]; \
             axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })\
               .then(r => done(r.violations.map(v => ({ id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.html) }))))\
               .catch(e => done([{ id: 'axe-error', impact: String(e), nodes: [] }]));",
            json!([]),
        )
        .await;
    assert_eq!(result, json!([]), "accessibility violations at {}", browser.url().await);
}

#[rocket::async_test]
async fn the_main_flows_work_in_chromium() {
    let axe = axe_source();
    let double = Double::start().await;
    let db = TempDb::new("main");
    double.set(|s| s.consent_page = true);
    let (app, mail) = start_app(&double, &db).await;
    let provider_site = double.url.replace("127.0.0.1", "localhost");
    let driver = Driver::start().await;
    let mut shots = Shots::new();
    let at = |path: &str| format!("{app}{path}");

    // Sign up.
    let laptop = Browser::open(&driver.url, 1280, None).await;
    laptop.goto(&at("/signup")).await;
    assert_accessible_form(&laptop).await;
    assert_axe_clean(&laptop, &axe).await;
    shots.take(&laptop, "signup").await;
    laptop
        .submit(
            &[("#name", "Ada Lovelace"), ("#email", "ada@example.com"), ("#password", PASSWORD)],
            "form[action='/signup'] button[type=submit]",
        )
        .await;
    wait_for_url(&laptop, "sign-up redirects home", |u| u == at("/")).await;
    assert_text(&laptop, "ada@example.com").await;
    shots.take(&laptop, "home-signed-in").await;

    // Confirm the address with the emailed link: its page asks, the button confirms.
    let link = mail.wait_for_subject("ada@example.com", "Confirm your email address").await.link();
    laptop.goto(&link).await;
    assert_text(&laptop, "Confirm that ada@example.com is your address?").await;
    assert_axe_clean(&laptop, &axe).await;
    shots.take(&laptop, "verify-email").await;
    laptop.find("form[action='/verify-email'] button").await.click().await;
    assert_text(&laptop, "Your email address is confirmed.").await;

    // Sign out.
    laptop.find("form[action='/api/auth/signout'] button").await.click().await;
    wait_for_url(&laptop, "sign-out", |u| u == at("/")).await;
    assert_text(&laptop, "You have been signed out.").await;

    // Sign in: a wrong password, then the right one.
    laptop.goto(&at("/signin")).await;
    assert_accessible_form(&laptop).await;
    shots.take(&laptop, "signin").await;
    let signin_button = "form[action='/api/auth/callback/credentials'] button[type=submit]";
    laptop.submit(&[("#email", "ada@example.com"), ("#password", "not my password")], signin_button).await;
    assert_text(&laptop, "The email or password is not correct.").await;
    assert_accessible_form(&laptop).await;
    assert_axe_clean(&laptop, &axe).await;
    shots.take(&laptop, "signin-error").await;
    laptop.submit(&[("#email", "ada@example.com"), ("#password", PASSWORD)], signin_button).await;
    wait_for_url(&laptop, "sign-in", |u| u == at("/")).await;
    assert_text(&laptop, "ada@example.com").await;

    // A second browser (a phone) signs in; the laptop sees both and signs the phone out.
    let phone = Browser::open(&driver.url, 375, Some(IPHONE)).await;
    phone.goto(&at("/signin?callbackUrl=%2Fsessions")).await;
    phone.submit(&[("#email", "ada@example.com"), ("#password", PASSWORD)], signin_button).await;
    wait_for_url(&phone, "phone sign-in", |u| u == at("/sessions")).await;
    shots.take(&phone, "sessions-phone").await;
    laptop.goto(&at("/sessions")).await;
    assert_text(&laptop, "Safari on iPhone").await;
    assert_text(&laptop, "This device").await;
    assert_eq!(laptop.count("li.session").await, 2);
    assert_axe_clean(&laptop, &axe).await;
    shots.take(&laptop, "sessions").await;
    laptop.find("li.session:not(.session-current) form button").await.click().await;
    assert_text(&laptop, "That session was signed out.").await;
    assert_eq!(laptop.count("li.session").await, 1);
    phone.goto(&at("/sessions")).await;
    wait_for_url(&phone, "the revoked phone is signed out", |u| u.starts_with(&at("/signin"))).await;

    // Change the password on the account page.
    laptop.goto(&at("/account")).await;
    assert_accessible_form(&laptop).await;
    shots.take(&laptop, "account").await;
    let change = "form[action='/account/password'] button[type=submit]";
    laptop.submit(&[("#currentPassword", "wrong one"), ("#newPassword", NEW_PASSWORD)], change).await;
    assert_text(&laptop, "That is not your current password.").await;
    assert_accessible_form(&laptop).await;
    assert_axe_clean(&laptop, &axe).await;
    shots.take(&laptop, "account-error").await;
    laptop.submit(&[("#currentPassword", PASSWORD), ("#newPassword", NEW_PASSWORD)], change).await;
    assert_text(&laptop, "Your password was changed.").await;

    // Connect GitHub from the account page (through the provider's consent page),
    // then disconnect it.
    laptop.find("form[action='/account/connect/github'] button").await.click().await;
    wait_for_url(&laptop, "at GitHub's consent page", |u| u.starts_with(&provider_site)).await;
    assert_text(&laptop, "Allow the app").await;
    shots.take(&laptop, "provider-consent").await;
    laptop.find("#allow").await.click().await;
    wait_for_url(&laptop, "back from GitHub", |u| u == at("/account")).await;
    assert_text(&laptop, "GitHub is connected.").await;
    assert_text(&laptop, "octocat").await;
    assert_axe_clean(&laptop, &axe).await;
    shots.take(&laptop, "account-github-connected").await;
    laptop.find("form[action='/account/unlink/github'] button").await.click().await;
    assert_text(&laptop, "GitHub was disconnected.").await;

    // A new user signs in with Google on the phone, through the provider's redirects.
    phone.goto(&at("/signin")).await;
    phone.find("form[action='/api/auth/signin/google'] button").await.click().await;
    wait_for_url(&phone, "at Google's consent page", |u| u.starts_with(&provider_site)).await;
    phone.find("#deny").await.click().await;
    assert_text(&phone, "You did not grant access at Google").await;
    shots.take(&phone, "oauth-denied").await;
    phone.goto(&at("/signin")).await;
    phone.find("form[action='/api/auth/signin/google'] button").await.click().await;
    wait_for_url(&phone, "at Google's consent page", |u| u.starts_with(&provider_site)).await;
    phone.find("#allow").await.click().await;
    wait_for_url(&phone, "back from Google", |u| u == at("/")).await;
    assert_text(&phone, "grace@gmail.example").await;
    phone.goto(&at("/account")).await;
    assert_text(&phone, "Set a password").await;
    shots.take(&phone, "account-google-user").await;

    // And with GitHub in a third browser: the account it was unlinked from is not reused.
    let third = Browser::open(&driver.url, 1280, None).await;
    third.goto(&at("/signin")).await;
    third.find("form[action='/api/auth/signin/github'] button").await.click().await;
    wait_for_url(&third, "at GitHub's consent page", |u| u.starts_with(&provider_site)).await;
    third.find("#allow").await.click().await;
    wait_for_url(&third, "back from GitHub", |u| u == at("/")).await;
    assert_text(&third, "octocat@github.example").await;

    // The pages on a phone in dark mode.
    phone.dark_mode(true).await;
    for (path, name) in [("/sessions", "sessions-phone-dark"), ("/account", "account-phone-dark")] {
        phone.goto(&at(path)).await;
        assert_axe_clean(&phone, &axe).await;
        shots.take(&phone, name).await;
    }

    // The keyboard alone: Tab from the top reaches the skip link first, then the
    // sign-in form in order, each with a visible focus ring; Enter submits.
    let signed_out = Browser::open(&driver.url, 1280, None).await;
    signed_out.goto(&at("/signin")).await;
    let mut order = Vec::new();
    for _ in 0..12 {
        signed_out.press_tab().await;
        let focused = signed_out
            .script(
                "const e = document.activeElement; const s = getComputedStyle(e); \
                 if (e === document.body) return ['BODY', true]; \
                 return [e.id || e.className || e.textContent.trim(), s.outlineStyle !== 'none' || s.boxShadow !== 'none']",
                json!([]),
            )
            .await;
        let name = focused[0].as_str().unwrap_or_default().to_string();
        if name == "BODY" {
            break; // past the last control
        }
        assert_eq!(focused[1], json!(true), "{name} shows no focus ring");
        if name == "email" {
            shots.take(&signed_out, "signin-keyboard-focus").await;
        }
        order.push(name);
    }
    assert_eq!(order[0], "skip-link", "{order:?}");
    let position = |name: &str| {
        order.iter().position(|n| n == name).unwrap_or_else(|| panic!("{name} not reached: {order:?}"))
    };
    assert!(position("email") < position("password"), "{order:?}");
    assert!(position("password") < position("btn btn-primary btn-block"), "{order:?}");
    assert!(order.len() >= 9, "every control is reachable: {order:?}");

    for b in [laptop, phone, third, signed_out] {
        b.close().await;
    }
    drop(driver);
}
