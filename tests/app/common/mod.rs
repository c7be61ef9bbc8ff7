//! The test app: the real Rocket built on a fresh database, driven through Rocket's
//! local asynchronous client. Every test runs on SQLite; with `TEST_DATABASE_URL`
//! pointing at a PostgreSQL server (any database on it: it is only used to create and
//! drop one database per test), the same tests run on PostgreSQL instead.

#![allow(dead_code)]

pub mod providers;
pub mod smtp;
pub mod two_factor;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;

use rocket::figment::Figment;
use rocket::http::{Cookie, Header, Status};
use rocket::local::asynchronous::{Client, LocalRequest, LocalResponse};
use rocket::serde::json::Value;
use rocket_auth::db::{Backend, Db};
use rocket_db_pools::Database;
use sqlx::{AnyPool, Connection};

pub const SECRET: &str = "test-secret-0123456789-abcdefghijklmnop";
pub const PASSWORD: &str = "correct horse battery staple";
pub const ORIGIN: &str = "http://localhost:8000";
/// Connections in the test app's pool.
pub const POOL_SIZE: usize = 8;
/// The socket address the local client reports for every request.
pub const CLIENT_ADDR: &str = "203.0.113.7:50000";

/// A database made for one test and dropped after it.
pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    cleanup: Cleanup,
}

enum Cleanup {
    File(std::path::PathBuf),
    Postgres {
        admin_url: String,
        name: String,
    },
    /// Another instance's view of a database that its first instance owns.
    Shared,
}

fn random_suffix() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..16).map(|_| char::from(b'a' + rng.gen_range(0..26))).collect()
}

impl TestDb {
    /// The PostgreSQL maintenance URL and this test's database name (PostgreSQL only).
    pub fn postgres_admin(&self) -> Option<(&str, &str)> {
        match &self.cleanup {
            Cleanup::Postgres { admin_url, name } => Some((admin_url.as_str(), name.as_str())),
            _ => None,
        }
    }

    pub async fn create() -> Self {
        match std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) {
            Some(admin_url) => {
                let name = format!("test_{}", random_suffix());
                let mut conn = sqlx::postgres::PgConnection::connect(&admin_url)
                    .await
                    .expect("TEST_DATABASE_URL must point at a reachable PostgreSQL server");
                sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
                    .await
                    .expect("create the test database");
                let mut url = url::Url::parse(&admin_url).expect("TEST_DATABASE_URL is a URL");
                url.set_path(&name);
                TestDb {
                    url: url.to_string(),
                    backend: Backend::Postgres,
                    cleanup: Cleanup::Postgres { admin_url, name },
                }
            }
            None => {
                let path = std::env::temp_dir().join(format!("rocket-auth-test-{}.db", random_suffix()));
                TestDb {
                    url: format!("sqlite://{}", path.display()),
                    backend: Backend::Sqlite,
                    cleanup: Cleanup::File(path),
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Shared => {}
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs outside any runtime the test may still hold: use a thread.
                let _ = std::thread::spawn(move || {
                    let rt =
                        rocket::tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                    rt.block_on(async move {
                        if let Ok(mut conn) = sqlx::postgres::PgConnection::connect(&admin_url).await {
                            let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                            let _ = sqlx::Executor::execute(&mut conn, sql.as_str()).await;
                        }
                    })
                })
                .join();
            }
        }
    }
}

/// The figment every test app starts from: a fixed secret, cheap argon2 (one test
/// runs the production cost), quiet logs, and the environment given as a map.
pub fn test_figment(db_url: &str, env: &HashMap<&str, String>) -> Figment {
    rocket_auth::figment_with_env(|name| env.get(name).cloned())
        .merge(("databases.main.url", db_url))
        .merge(("databases.main.max_connections", POOL_SIZE))
        // TEST_LOG=1 shows the app's log when a test needs explaining.
        .merge(("log_level", if std::env::var_os("TEST_LOG").is_some() { "normal" } else { "off" }))
}

/// Test defaults for `AUTH_*`, which a test may override.
pub fn default_env() -> HashMap<&'static str, String> {
    HashMap::from([
        ("AUTH_SECRET", SECRET.to_string()),
        ("AUTH_URL", ORIGIN.to_string()),
        ("AUTH_ARGON2_MEMORY_KIB", "64".to_string()),
        ("AUTH_ARGON2_ITERATIONS", "1".to_string()),
    ])
}

pub struct TestApp {
    pub client: Client,
    pub db: TestDb,
    /// The SMTP server the app sends its mail to.
    pub mail: std::sync::Arc<smtp::SmtpDouble>,
    env: HashMap<&'static str, String>,
    /// The browser most tests use.
    pub browser: Browser,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::with_env(&[]).await
    }

    /// An app with some `AUTH_*` variables set (or overridden).
    pub async fn with_env(vars: &[(&'static str, &str)]) -> Self {
        Self::with_figment(vars, |figment| figment).await
    }

    /// An app with some `AUTH_*` variables and other settings (`tweak` merges them into
    /// the figment, e.g. the pool's `connect_timeout`).
    pub async fn with_figment(vars: &[(&'static str, &str)], tweak: impl FnOnce(Figment) -> Figment) -> Self {
        let mail = std::sync::Arc::new(smtp::SmtpDouble::start().await);
        let mut env = default_env();
        env.insert("EMAIL_SERVER", mail.url());
        env.insert("AUTH_EMAIL_POLL_INTERVAL_MS", "200".to_string());
        for (k, v) in vars {
            env.insert(*k, v.to_string());
        }
        let db = TestDb::create().await;
        let rocket = rocket_auth::build(tweak(test_figment(&db.url, &env)));
        let client = Client::untracked(rocket).await.expect("the test app ignites");
        TestApp { client, db, mail, env, browser: Browser::new() }
    }

    /// A second instance of the same app (same configuration) on the same database, as
    /// when several instances share one PostgreSQL behind a load balancer.
    pub async fn another_instance(&self) -> TestApp {
        self.another_instance_with(&[]).await
    }

    /// [`TestApp::another_instance`] with some variables changed (a rotated secret).
    pub async fn another_instance_with(&self, vars: &[(&'static str, &str)]) -> TestApp {
        let db = TestDb { url: self.db.url.clone(), backend: self.db.backend, cleanup: Cleanup::Shared };
        let mut env = self.env.clone();
        for (k, v) in vars {
            env.insert(*k, v.to_string());
        }
        let rocket = rocket_auth::build(test_figment(&db.url, &env));
        let client = Client::untracked(rocket).await.expect("the second instance ignites");
        TestApp { client, db, mail: self.mail.clone(), env, browser: Browser::new() }
    }

    /// An app with Google and GitHub enabled, pointed at the provider double.
    pub async fn with_double(double: &providers::Double, extra: &[(&'static str, &str)]) -> Self {
        let env = double.env();
        let mut vars: Vec<(&'static str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        vars.extend_from_slice(extra);
        Self::with_env(&vars).await
    }

    pub fn pool(&self) -> &AnyPool {
        Db::fetch(self.client.rocket()).expect("the pool is managed")
    }

    /// A second browser: its own cookie jar and user agent.
    pub fn new_browser(&self, user_agent: &str) -> Browser {
        let mut b = Browser::new();
        b.user_agent = user_agent.to_string();
        b
    }

    // --- requests through the default browser ---

    pub async fn get(&self, path: &str) -> Resp {
        self.browser.get(self, path).await
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Resp {
        self.browser.post_form(self, path, fields).await
    }

    pub async fn csrf_token(&self) -> String {
        self.browser.csrf_token(self).await
    }

    pub async fn signup(&self, name: &str, email: &str, password: &str) -> Resp {
        self.browser.signup(self, name, email, password).await
    }

    pub async fn post_credentials(&self, email: &str, password: &str) -> Resp {
        self.browser.post_credentials(self, email, password).await
    }

    pub async fn signout(&self) -> Resp {
        self.browser.signout(self).await
    }

    pub async fn session_json(&self) -> Value {
        self.browser.session_json(self).await
    }

    /// Signs a new user up with the default browser and returns their email.
    pub async fn signed_up_user(&self) -> String {
        let email = format!("{}@example.com", random_suffix());
        let res = self.signup("Ada Lovelace", &email, PASSWORD).await;
        assert_eq!(res.status, Status::SeeOther, "sign-up failed: {}", res.body);
        email
    }

    /// Signs a new user up and confirms their address with the emailed link, as a person
    /// would; returns the email.
    pub async fn verified_user(&self) -> String {
        let email = self.signed_up_user().await;
        self.verify_email(&email).await;
        email
    }

    /// Opens the latest verification link sent to `email` and confirms it.
    pub async fn verify_email(&self, email: &str) {
        let message = self.mail.wait_for_subject(email, "Confirm your email address").await;
        let link = message.link();
        let token = link.split("token=").nth(1).expect("a token").to_string();
        let csrf = self.csrf_token().await;
        let res = self.post_form("/verify-email", &[("token", &token), ("csrfToken", &csrf)]).await;
        assert_eq!(res.status, Status::SeeOther, "verification failed: {}", res.body);
    }

    // --- the database, as the tests inspect it ---
    //
    // Always `fetch_all`, never `fetch_one`/`fetch_optional`, on the app's pool: those
    // leave an SQLite statement un-reset in the connection they borrowed, and the app
    // would then read an old snapshot on that connection (see `db::at_most_one`).

    pub async fn count(&self, sql: &str, bind: &str) -> i64 {
        let (n,): (i64,) =
            sqlx::query_as(sql).bind(bind).fetch_all(self.pool()).await.expect("count query").remove(0);
        n
    }

    pub async fn user_count(&self) -> i64 {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM users").fetch_all(self.pool()).await.unwrap().remove(0);
        n
    }

    pub async fn session_count(&self) -> i64 {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM sessions").fetch_all(self.pool()).await.unwrap().remove(0);
        n
    }

    pub async fn exec(&self, sql: &str) {
        sqlx::query(sql).execute(self.pool()).await.expect("test SQL");
    }

    /// `(created_at, expires_at, last_active_at)` of the only session row.
    pub async fn session_times(&self) -> (i64, i64, i64) {
        sqlx::query_as("SELECT created_at, expires_at, last_active_at FROM sessions")
            .fetch_all(self.pool())
            .await
            .expect("exactly one session")
            .remove(0)
    }

    /// Installs triggers that count every write to `sessions`, so a test can prove a
    /// request wrote nothing (not merely that the values happened to stay the same).
    pub async fn count_session_writes(&self) {
        match self.db.backend {
            Backend::Sqlite => {
                self.exec("CREATE TABLE test_writes (n INTEGER)").await;
                for event in ["INSERT", "UPDATE", "DELETE"] {
                    self.exec(&format!(
                        "CREATE TRIGGER test_count_{event} AFTER {event} ON sessions \
                         BEGIN INSERT INTO test_writes VALUES (1); END"
                    ))
                    .await;
                }
            }
            Backend::Postgres => {
                self.exec("CREATE TABLE test_writes (n BIGINT)").await;
                self.exec(
                    "CREATE FUNCTION test_count() RETURNS trigger AS $$ \
                     BEGIN INSERT INTO test_writes VALUES (1); RETURN NULL; END $$ LANGUAGE plpgsql",
                )
                .await;
                self.exec(
                    "CREATE TRIGGER test_count AFTER INSERT OR UPDATE OR DELETE ON sessions \
                     FOR EACH STATEMENT EXECUTE FUNCTION test_count()",
                )
                .await;
            }
        }
    }

    pub async fn session_writes(&self) -> i64 {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM test_writes")
            .fetch_all(self.pool())
            .await
            .unwrap()
            .remove(0);
        n
    }
}

/// A browser: a cookie jar and a user agent, over the app's one client.
pub struct Browser {
    jar: Mutex<HashMap<String, String>>,
    pub user_agent: String,
    pub remote: SocketAddr,
}

impl Browser {
    pub fn new() -> Self {
        Browser {
            jar: Mutex::new(HashMap::new()),
            user_agent: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0".into(),
            remote: CLIENT_ADDR.parse().unwrap(),
        }
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar.lock().unwrap().get(name).cloned()
    }

    pub fn set_cookie(&self, name: &str, value: &str) {
        self.jar.lock().unwrap().insert(name.into(), value.into());
    }

    pub fn clear_cookies(&self) {
        self.jar.lock().unwrap().clear();
    }

    /// A request carrying this browser's cookies, user agent and socket address.
    pub fn request<'c>(&self, req: LocalRequest<'c>) -> LocalRequest<'c> {
        let cookies: Vec<Cookie<'static>> =
            self.jar.lock().unwrap().iter().map(|(k, v)| Cookie::new(k.clone(), v.clone())).collect();
        req.cookies(cookies).remote(self.remote).header(Header::new("User-Agent", self.user_agent.clone()))
    }

    /// Sends `req`, keeps the cookies it sets (and forgets those it removes).
    pub async fn send(&self, req: LocalRequest<'_>) -> Resp {
        let res = self.request(req).dispatch().await;
        self.absorb(&res);
        Resp::read(res).await
    }

    fn absorb(&self, res: &LocalResponse<'_>) {
        let mut jar = self.jar.lock().unwrap();
        for value in res.headers().get("Set-Cookie") {
            let cookie = Cookie::parse_encoded(value.to_string()).expect("a valid Set-Cookie");
            let removed = cookie.max_age().is_some_and(|a| a.is_zero())
                || cookie.expires_datetime().is_some_and(|t| t < rocket::time::OffsetDateTime::now_utc());
            if removed {
                jar.remove(cookie.name());
            } else {
                jar.insert(cookie.name().to_string(), cookie.value().to_string());
            }
        }
    }

    pub async fn get(&self, app: &TestApp, path: &str) -> Resp {
        self.send(app.client.get(path.to_string())).await
    }

    pub async fn post_form(&self, app: &TestApp, path: &str, fields: &[(&str, &str)]) -> Resp {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        let req = app.client.post(path.to_string()).header(rocket::http::ContentType::Form).body(body);
        self.send(req).await
    }

    pub async fn post_json(&self, app: &TestApp, path: &str, body: &Value, headers: &[(&str, &str)]) -> Resp {
        let mut req =
            app.client.post(path.to_string()).header(rocket::http::ContentType::JSON).body(body.to_string());
        for (k, v) in headers {
            req = req.header(Header::new(k.to_string(), v.to_string()));
        }
        self.send(req).await
    }

    pub async fn csrf_token(&self, app: &TestApp) -> String {
        let res = self.get(app, "/api/auth/csrf").await;
        assert_eq!(res.status, Status::Ok);
        res.json()["csrfToken"].as_str().expect("csrfToken").to_string()
    }

    pub async fn signup(&self, app: &TestApp, name: &str, email: &str, password: &str) -> Resp {
        let token = self.csrf_token(app).await;
        self.post_form(
            app,
            "/signup",
            &[("name", name), ("email", email), ("password", password), ("csrfToken", &token)],
        )
        .await
    }

    pub async fn post_credentials(&self, app: &TestApp, email: &str, password: &str) -> Resp {
        let token = self.csrf_token(app).await;
        self.post_form(
            app,
            "/api/auth/callback/credentials",
            &[("email", email), ("password", password), ("csrfToken", &token)],
        )
        .await
    }

    pub async fn signout(&self, app: &TestApp) -> Resp {
        let token = self.csrf_token(app).await;
        self.post_form(app, "/api/auth/signout", &[("csrfToken", &token)]).await
    }

    pub async fn session_json(&self, app: &TestApp) -> Value {
        let res = self.get(app, "/api/auth/session").await;
        assert_eq!(res.status, Status::Ok, "{}", res.body);
        res.json()
    }

    /// `POST {base}/signin/<provider>`, as the button on /signin or /account does.
    pub async fn oauth_start(&self, app: &TestApp, provider: &str, callback_url: Option<&str>) -> Resp {
        let token = self.csrf_token(app).await;
        let mut fields = vec![("csrfToken", token.as_str())];
        if let Some(url) = callback_url {
            fields.push(("callbackUrl", url));
        }
        self.post_form(app, &format!("/api/auth/signin/{provider}"), &fields).await
    }

    /// `POST /account/connect/<provider>`, as the Connect buttons on /account do.
    pub async fn oauth_connect_start(&self, app: &TestApp, provider: &str) -> Resp {
        let token = self.csrf_token(app).await;
        self.post_form(app, &format!("/account/connect/{provider}"), &[("csrfToken", &token)]).await
    }

    /// A whole connect round trip from /account: the button, consent at the provider
    /// double, and the callback. Returns the callback's response.
    pub async fn oauth_connect(&self, app: &TestApp, double: &providers::Double, provider: &str) -> Resp {
        let start = self.oauth_connect_start(app, provider).await;
        assert_eq!(start.status, Status::SeeOther, "the connect did not start: {}", start.body);
        let back = double.authorize(start.location().unwrap()).await;
        self.follow(app, &back).await
    }

    /// GETs a URL on the app's origin (absolute or relative) with this browser.
    pub async fn follow(&self, app: &TestApp, url: &str) -> Resp {
        let path = url.strip_prefix(ORIGIN).unwrap_or(url);
        assert!(path.starts_with('/'), "not a URL on the app's origin: {url}");
        self.get(app, path).await
    }

    /// A whole OAuth round trip: the button, consent at the provider double, and the
    /// callback. Returns the callback's response.
    pub async fn oauth_signin(&self, app: &TestApp, double: &providers::Double, provider: &str) -> Resp {
        self.oauth_signin_to(app, double, provider, None).await
    }

    pub async fn oauth_signin_to(
        &self,
        app: &TestApp,
        double: &providers::Double,
        provider: &str,
        callback_url: Option<&str>,
    ) -> Resp {
        let start = self.oauth_start(app, provider, callback_url).await;
        assert_eq!(start.status, Status::SeeOther, "the flow did not start: {}", start.body);
        let back = double.authorize(start.location().unwrap()).await;
        self.follow(app, &back).await
    }

    pub fn session_token(&self) -> Option<String> {
        self.cookie("authjs.session-token")
    }
}

/// A response read in full.
pub struct Resp {
    pub status: Status,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    async fn read(res: LocalResponse<'_>) -> Self {
        let status = res.status();
        let headers = res.headers().iter().map(|h| (h.name().to_string(), h.value().to_string())).collect();
        let body = res.into_string().await.unwrap_or_default();
        Resp { status, headers, body }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn location(&self) -> Option<&str> {
        self.header("Location")
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The `Set-Cookie` header that sets `name`.
    pub fn set_cookie(&self, name: &str) -> Option<Cookie<'static>> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("Set-Cookie"))
            .filter_map(|(_, v)| Cookie::parse_encoded(v.clone()).ok())
            .find(|c| c.name() == name)
    }

    /// Asserts a 303 to `path` on the app's origin (absolute or relative).
    pub fn assert_redirects_to(&self, path: &str) {
        assert_eq!(self.status, Status::SeeOther, "expected a redirect, got: {}", self.body);
        let location = self.location().expect("a Location header");
        let relative = location.strip_prefix(ORIGIN).unwrap_or(location);
        assert_eq!(relative, path, "redirected to {location}");
    }
}
