//! The built binary, started from an empty directory: it carries (release) or finds
//! (debug) its templates and static files wherever it runs, and `--help` says how to
//! use it. `ROCKET_AUTH_BINARY` points the tests at another build, as CI does with the
//! release binary: `ROCKET_AUTH_BINARY=target/release/rocket-auth cargo test --test app binary`.

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

fn binary() -> PathBuf {
    std::env::var_os("ROCKET_AUTH_BINARY")
        .map(PathBuf::from)
        .map(|p| if p.is_relative() { PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(p) } else { p })
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_rocket-auth")))
}

/// A fresh, empty directory, removed afterwards.
struct EmptyDir(PathBuf);

impl EmptyDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "rocket-auth-bin-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        EmptyDir(dir)
    }
}

impl Drop for EmptyDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The server process, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn command(dir: &EmptyDir) -> Command {
    let mut cmd = Command::new(binary());
    cmd.current_dir(&dir.0).env_clear().stdin(Stdio::null());
    cmd
}

fn run(dir: &EmptyDir, args: &[&str], env: &[(&str, &str)]) -> Output {
    command(dir).args(args).envs(env.iter().copied()).output().expect("the binary runs")
}

#[rocket::async_test]
async fn the_binary_serves_its_pages_and_stylesheet_from_an_empty_directory() {
    let dir = EmptyDir::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let origin = format!("http://127.0.0.1:{port}");
    let child = command(&dir)
        .env("AUTH_SECRET", crate::common::SECRET)
        .env("AUTH_URL", &origin)
        .env("ROCKET_ADDRESS", "127.0.0.1")
        .env("ROCKET_PORT", port.to_string())
        .env("AUTH_ARGON2_MEMORY_KIB", "64")
        .env("AUTH_ARGON2_ITERATIONS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let mut server = Server(child);
    let http = reqwest::Client::new();
    let mut up = false;
    for _ in 0..300 {
        if let Some(status) = server.0.try_wait().unwrap() {
            panic!("the binary exited at start from an empty directory: {status}");
        }
        if http.get(format!("{origin}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
            up = true;
            break;
        }
        rocket::tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "the binary did not answer /healthz");

    let page = http.get(format!("{origin}/signin")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let body = page.text().await.unwrap();
    assert!(body.contains("action=\"/api/auth/callback/credentials\""), "{body}");
    let href = body
        .split("rel=\"stylesheet\" href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a stylesheet link")
        .to_string();
    assert!(href.starts_with("/static/css/app.css?v="), "{href}");

    let css = http.get(format!("{origin}{href}")).send().await.unwrap();
    assert_eq!(css.status(), 200);
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    assert_eq!(css.headers()["cache-control"], "public, max-age=31536000, immutable");
    let etag = css.headers()["etag"].to_str().unwrap().to_string();
    assert!(css.text().await.unwrap().contains("--"), "the stylesheet itself");
    let again =
        http.get(format!("{origin}/static/css/app.css")).header("If-None-Match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304, "a current copy is not sent again");
    let unversioned = http.get(format!("{origin}/static/css/app.css")).send().await.unwrap();
    assert_eq!(unversioned.headers()["cache-control"], "no-cache", "revalidated without the version");
    for missing in ["/static/css/nope.css", "/static/../Cargo.toml", "/static/%2e%2e/Cargo.toml"] {
        assert_eq!(http.get(format!("{origin}{missing}")).send().await.unwrap().status(), 404, "{missing}");
    }
    // What a user typed is escaped on the page, in this build too.
    let csrf = http.get(format!("{origin}/api/auth/csrf")).send().await.unwrap();
    let cookie = csrf.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let token = csrf.json::<serde_json::Value>().await.unwrap()["csrfToken"].as_str().unwrap().to_string();
    let refused = http
        .post(format!("{origin}/api/auth/callback/credentials"))
        .header("Cookie", &cookie)
        .form(&[("email", "<b>\"x@example.com"), ("password", "whatever it is"), ("csrfToken", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    let body = refused.text().await.unwrap();
    assert!(body.contains("value=\"&lt;b&gt;&quot;x@example.com\""), "escaped: {body}");
    assert!(!body.contains("<b>\"x@"), "never raw");

    // The default database is created in the directory it runs in, and nothing else.
    let made: Vec<String> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(made, ["data"]);
    drop(server);
}

#[test]
fn help_names_the_commands_and_the_variables() {
    let dir = EmptyDir::new();
    let out = run(&dir, &["--help"], &[]);
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for name in [
        "serve",
        "--version",
        "DATABASE_URL",
        "AUTH_SECRET",
        "AUTH_URL",
        "AUTH_GOOGLE_ID",
        "AUTH_GITHUB_ID",
        "AUTH_SESSION_MAX_AGE",
        "AUTH_PROVIDER_TIMEOUT",
        "AUTH_SECRET_1",
        "EMAIL_SERVER",
        "EMAIL_FROM",
        "AUTH_REAUTH_MAX_AGE",
    ] {
        assert!(help.contains(name), "--help names {name}");
    }
    let out = run(&dir, &["--version"], &[]);
    assert!(String::from_utf8(out.stdout).unwrap().starts_with("rocket-auth "));
    let out = run(&dir, &["no-such-command"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr).unwrap().contains("unknown command"));
}

#[test]
fn a_mistyped_database_url_stops_the_binary_without_printing_its_password() {
    let dir = EmptyDir::new();
    let out = run(
        &dir,
        &[],
        &[
            ("DATABASE_URL", "postgress://ada:hunter2-secret@db.example/auth"),
            ("AUTH_SECRET", crate::common::SECRET),
            ("AUTH_URL", "http://127.0.0.1:1"),
        ],
    );
    assert!(!out.status.success());
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(all.contains("DATABASE_URL"), "names the variable: {all}");
    assert!(!all.contains("hunter2"), "the password is not printed: {all}");
    assert!(!all.contains("ada:"), "nor the user: {all}");
}
