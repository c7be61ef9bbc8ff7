//! A test double of Google and GitHub: a real HTTP server on an ephemeral loopback
//! port, started inside the test process, with the real endpoints' shapes (Google's
//! discovery, authorize, token, userinfo; GitHub's authorize, access_token, `/user`,
//! `/user/emails`). It checks what a real provider checks (client credentials, the
//! redirect URI, PKCE S256, single-use codes) and has a switch for each failure.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use rocket::fairing::AdHoc;
use rocket::form::{Form, FromForm};
use rocket::http::uri::Origin;
use rocket::http::{ContentType, Status};
use rocket::request::{self, FromRequest, Request};
use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::serde::json::{json, Value};
use rocket::Either;
use rocket::{get, post, routes, State};
use sha2::{Digest, Sha256};

pub const GOOGLE_ID: &str = "google-client-id.apps.example";
pub const GOOGLE_SECRET: &str = "google-client-secret";
pub const GITHUB_ID: &str = "Iv1.github-client-id";
pub const GITHUB_SECRET: &str = "github-client-secret";

/// The person who "signs in" at the Google double.
#[derive(Clone, Debug)]
pub struct GoogleUser {
    pub sub: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: String,
}

/// The person who "signs in" at the GitHub double.
#[derive(Clone, Debug)]
pub struct GitHubUser {
    pub id: u64,
    pub login: String,
    pub name: Option<String>,
    /// `(email, primary, verified)`
    pub emails: Vec<(String, bool, bool)>,
}

#[derive(Clone, Debug)]
enum Person {
    Google(GoogleUser),
    GitHub(GitHubUser),
}

struct Grant {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    person: Person,
}

/// What the double does; tests flip the switches.
pub struct Switches {
    pub google_user: GoogleUser,
    pub github_user: GitHubUser,
    /// The user refuses at the consent screen: `error=access_denied`.
    pub deny: bool,
    /// Token endpoints answer 500 with an HTML page.
    pub token_500: bool,
    /// Token endpoints answer 200 with a body that is not JSON.
    pub token_invalid_json: bool,
    /// Token endpoints refuse the code as GitHub does: HTTP 200 with an `error` field.
    pub token_error_200: bool,
    /// Token endpoints answer 503 with a well-formed OAuth error of the provider's own
    /// (`temporarily_unavailable`): its outage, not a refusal.
    pub token_server_error: bool,
    /// Token endpoints answer with a redirect (302) instead of a token.
    pub token_redirect: bool,
    /// Token endpoints wait this long before answering.
    pub token_delay: Option<Duration>,
    /// Profile endpoints (userinfo, /user) answer 500.
    pub profile_500: bool,
    /// Google's discovery document is unavailable.
    pub discovery_500: bool,
    /// Google's discovery document names another issuer than the one it is fetched from.
    pub discovery_wrong_issuer: bool,
    /// Authorize shows a consent page (Allow / Deny links) instead of answering at once,
    /// as the real providers do for a person in a browser.
    pub consent_page: bool,
}

#[derive(Default)]
struct Store {
    codes: HashMap<String, Grant>,
    tokens: HashMap<String, Person>,
    /// Every token request's form, for assertions.
    token_requests: Vec<HashMap<String, String>>,
    discovery_fetches: usize,
}

pub struct Double {
    /// `http://127.0.0.1:<port>`
    pub url: String,
    pub switches: Arc<Mutex<Switches>>,
    store: Arc<Mutex<Store>>,
}

struct Shared {
    switches: Arc<Mutex<Switches>>,
    store: Arc<Mutex<Store>>,
}

fn random() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

impl Double {
    pub async fn start() -> Self {
        let switches = Arc::new(Mutex::new(Switches {
            google_user: GoogleUser {
                sub: "110169484474386276334".into(),
                email: Some("grace@gmail.example".into()),
                email_verified: true,
                name: "Grace Hopper".into(),
            },
            github_user: GitHubUser {
                id: 583231,
                login: "octocat".into(),
                name: Some("The Octocat".into()),
                emails: vec![
                    ("octocat@github.example".into(), true, true),
                    ("other@github.example".into(), false, true),
                ],
            },
            deny: false,
            token_500: false,
            token_invalid_json: false,
            token_error_200: false,
            token_server_error: false,
            token_redirect: false,
            token_delay: None,
            profile_500: false,
            discovery_500: false,
            discovery_wrong_issuer: false,
            consent_page: false,
        }));
        let store = Arc::new(Mutex::new(Store::default()));
        let (tx, rx) = rocket::tokio::sync::oneshot::channel::<u16>();
        let tx = Mutex::new(Some(tx));
        let mut config = rocket::Config::debug_default();
        config.address = std::net::Ipv4Addr::LOCALHOST.into();
        config.port = 0;
        config.log_level = rocket::config::LogLevel::Off;
        config.shutdown.ctrlc = false;
        config.cli_colors = false;
        let shared_switches = switches.clone();
        let shared_store = store.clone();
        let rocket = rocket::custom(config)
            .mount(
                "/",
                routes![
                    discovery,
                    google_authorize,
                    google_token,
                    userinfo,
                    github_authorize,
                    github_token,
                    github_user,
                    github_emails
                ],
            )
            .attach(AdHoc::on_liftoff("port", move |rocket| {
                let port = rocket.config().port;
                let sender = tx.lock().unwrap().take();
                Box::pin(async move {
                    if let Some(sender) = sender {
                        let _ = sender.send(port);
                    }
                })
            }))
            .manage(Shared { switches: shared_switches, store: shared_store });
        rocket::tokio::spawn(async move {
            let _ = rocket.launch().await;
        });
        let port = rx.await.expect("the provider double starts");
        let url = format!("http://127.0.0.1:{port}");
        Double { url, switches, store }
    }

    pub fn set(&self, f: impl FnOnce(&mut Switches)) {
        f(&mut self.switches.lock().unwrap());
    }

    /// The environment that points the app at this double.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AUTH_GOOGLE_ID", GOOGLE_ID.into()),
            ("AUTH_GOOGLE_SECRET", GOOGLE_SECRET.into()),
            ("AUTH_GOOGLE_ISSUER", format!("{}/google", self.url)),
            ("AUTH_GITHUB_ID", GITHUB_ID.into()),
            ("AUTH_GITHUB_SECRET", GITHUB_SECRET.into()),
            ("AUTH_GITHUB_URL", format!("{}/github", self.url)),
            ("AUTH_GITHUB_API_URL", format!("{}/github-api", self.url)),
            ("AUTH_PROVIDER_TIMEOUT", "1".into()),
        ]
    }

    /// The forms the token endpoints received.
    pub fn token_requests(&self) -> Vec<HashMap<String, String>> {
        self.store.lock().unwrap().token_requests.clone()
    }

    pub fn discovery_fetches(&self) -> usize {
        self.store.lock().unwrap().discovery_fetches
    }

    /// Plays the browser at the provider: GETs the authorization URL the app sent it
    /// to (where a person would consent) and returns where the provider sends it back.
    pub async fn authorize(&self, authorization_url: &str) -> String {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let res = client.get(authorization_url).send().await.expect("the double answers");
        assert_eq!(
            res.status().as_u16(),
            303,
            "the double refused the authorization request: {:?}",
            res.text().await
        );
        res.headers()["location"].to_str().unwrap().to_string()
    }
}

fn base_of(req: &Request<'_>) -> String {
    let host = req.headers().get_one("Host").unwrap_or("127.0.0.1");
    format!("http://{host}")
}

/// The request's `Host`, which names the double's own address.
struct Base(String);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Base {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        request::Outcome::Success(Base(base_of(req)))
    }
}

/// A bearer token from `Authorization`.
struct Bearer(String);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Bearer {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        match req.headers().get_one("Authorization").and_then(|v| v.strip_prefix("Bearer ")) {
            Some(token) => request::Outcome::Success(Bearer(token.to_string())),
            None => request::Outcome::Error((Status::Unauthorized, ())),
        }
    }
}

/// Everything about the request a token endpoint looks at.
struct TokenAuth {
    basic: Option<(String, String)>,
    accept_json: bool,
    user_agent: Option<String>,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for TokenAuth {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        let basic = req
            .headers()
            .get_one("Authorization")
            .and_then(|v| v.strip_prefix("Basic "))
            .and_then(|b| STANDARD.decode(b).ok())
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.split_once(':').map(|(a, b)| (decode(a), decode(b))));
        let accept_json = req.headers().get_one("Accept").is_some_and(|a| a.contains("application/json"));
        let user_agent = req.headers().get_one("User-Agent").map(str::to_string);
        request::Outcome::Success(TokenAuth { basic, accept_json, user_agent })
    }
}

fn decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[derive(FromForm)]
struct AuthorizeQuery {
    client_id: String,
    redirect_uri: String,
    response_type: String,
    state: String,
    code_challenge: String,
    code_challenge_method: String,
    scope: String,
    /// The person's answer on the consent page: `allow` or `deny`.
    consent: Option<String>,
}

type AuthorizeAnswer = Result<Either<Redirect, RawHtml<String>>, (Status, String)>;

/// The consent page a person sees at the provider, when the switch asks for one.
fn consent_page(provider: &str, uri: &Origin<'_>) -> RawHtml<String> {
    let href = |answer: &str| format!("{uri}&consent={answer}").replace('&', "&amp;");
    RawHtml(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{provider}: sign in</title></head>\
         <body><main><h1>{provider} test double</h1><p>Allow the app to see your profile and email?</p>\
         <a id=\"allow\" href=\"{}\">Allow</a> <a id=\"deny\" href=\"{}\">Deny</a></main></body></html>",
        href("allow"),
        href("deny"),
    ))
}

fn authorize(
    shared: &Shared,
    q: AuthorizeQuery,
    uri: &Origin<'_>,
    (provider, expected_client): (&str, &str),
    person: Person,
) -> AuthorizeAnswer {
    let bad = |m: &str| Err((Status::BadRequest, m.to_string()));
    if q.client_id != expected_client {
        return bad("unknown client_id");
    }
    if q.response_type != "code" || q.code_challenge_method != "S256" || q.code_challenge.len() != 43 {
        return bad("response_type=code and PKCE S256 are required");
    }
    if q.state.is_empty() || q.scope.is_empty() {
        return bad("state and scope are required");
    }
    let mut url =
        url::Url::parse(&q.redirect_uri).map_err(|_| (Status::BadRequest, "bad redirect_uri".into()))?;
    let (deny, consent) = {
        let s = shared.switches.lock().unwrap();
        (s.deny, s.consent_page)
    };
    if consent && q.consent.is_none() {
        return Ok(Either::Right(consent_page(provider, uri)));
    }
    if deny || q.consent.as_deref() == Some("deny") {
        url.query_pairs_mut().append_pair("error", "access_denied").append_pair("state", &q.state);
        return Ok(Either::Left(Redirect::to(url.to_string())));
    }
    let code = random();
    shared.store.lock().unwrap().codes.insert(
        code.clone(),
        Grant { client_id: q.client_id, redirect_uri: q.redirect_uri, challenge: q.code_challenge, person },
    );
    url.query_pairs_mut().append_pair("code", &code).append_pair("state", &q.state);
    Ok(Either::Left(Redirect::to(url.to_string())))
}

/// The token exchange both providers share: a single-use code, its client, its
/// redirect URI, and the PKCE verifier whose S256 hash is the challenge.
async fn token(
    shared: &Shared,
    form: HashMap<String, String>,
    client: (String, String),
    expected: (&str, &str),
    github: bool,
) -> JsonAnswer {
    let json = |status, v: Value| answer(status, v.to_string());
    let delay = {
        let mut store = shared.store.lock().unwrap();
        store.token_requests.push(form.clone());
        shared.switches.lock().unwrap().token_delay
    };
    if let Some(delay) = delay {
        rocket::tokio::time::sleep(delay).await;
    }
    let (token_500, invalid_json, error_200, server_error, redirect) = {
        let s = shared.switches.lock().unwrap();
        (s.token_500, s.token_invalid_json, s.token_error_200, s.token_server_error, s.token_redirect)
    };
    if server_error {
        return json(Status::ServiceUnavailable, json!({ "error": "temporarily_unavailable" }));
    }
    if redirect {
        return (Status::Found, (ContentType::HTML, String::new()));
    }
    if token_500 {
        return (Status::InternalServerError, (ContentType::HTML, "<h1>Internal Server Error</h1>".into()));
    }
    if invalid_json {
        return answer(Status::Ok, "{\"access_token\": ".into());
    }
    // GitHub answers token errors with 200; Google with 400.
    let refuse = |error: &str| {
        let status = if github { Status::Ok } else { Status::BadRequest };
        json(status, json!({ "error": error, "error_description": "refused by the test double" }))
    };
    if error_200 {
        return refuse("bad_verification_code");
    }
    if (client.0.as_str(), client.1.as_str()) != expected {
        return refuse("invalid_client");
    }
    if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return refuse("unsupported_grant_type");
    }
    let code = form.get("code").cloned().unwrap_or_default();
    let Some(grant) = shared.store.lock().unwrap().codes.remove(&code) else {
        return refuse(if github { "bad_verification_code" } else { "invalid_grant" });
    };
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    if grant.client_id != client.0
        || Some(&grant.redirect_uri) != form.get("redirect_uri")
        || challenge != grant.challenge
    {
        return refuse("invalid_grant");
    }
    let access_token = random();
    shared.store.lock().unwrap().tokens.insert(access_token.clone(), grant.person);
    if github {
        json(
            Status::Ok,
            json!({ "access_token": access_token, "token_type": "bearer", "scope": "read:user,user:email" }),
        )
    } else {
        json(
            Status::Ok,
            json!({
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": 3599,
                "scope": "openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile",
                "id_token": "eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl",
            }),
        )
    }
}

type JsonAnswer = (Status, (ContentType, String));

fn answer(status: Status, body: String) -> JsonAnswer {
    (status, (ContentType::JSON, body))
}

fn person_for(shared: &Shared, token: &str) -> Option<Person> {
    shared.store.lock().unwrap().tokens.get(token).cloned()
}

#[get("/google/.well-known/openid-configuration")]
fn discovery(shared: &State<Shared>, base: Base) -> JsonAnswer {
    shared.store.lock().unwrap().discovery_fetches += 1;
    if shared.switches.lock().unwrap().discovery_500 {
        return answer(Status::InternalServerError, "{}".into());
    }
    let issuer = format!("{}/google", base.0);
    let named = if shared.switches.lock().unwrap().discovery_wrong_issuer {
        "https://accounts.evil.example".to_string()
    } else {
        issuer.clone()
    };
    let doc = json!({
        "issuer": named,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "jwks_uri": format!("{issuer}/certs"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["plain", "S256"],
    });
    answer(Status::Ok, doc.to_string())
}

#[get("/google/authorize?<q..>")]
fn google_authorize(shared: &State<Shared>, q: AuthorizeQuery, uri: &Origin<'_>) -> AuthorizeAnswer {
    if !q.scope.split(' ').any(|s| s == "openid") {
        return Err((Status::BadRequest, "scope must include openid".into()));
    }
    let person = Person::Google(shared.switches.lock().unwrap().google_user.clone());
    authorize(shared, q, uri, ("Google", GOOGLE_ID), person)
}

#[post("/google/token", data = "<form>")]
async fn google_token(
    shared: &State<Shared>,
    auth: TokenAuth,
    form: Form<HashMap<String, String>>,
) -> JsonAnswer {
    let form = form.into_inner();
    // Google takes client_secret_basic or client_secret_post.
    let client = auth.basic.unwrap_or_else(|| {
        (
            form.get("client_id").cloned().unwrap_or_default(),
            form.get("client_secret").cloned().unwrap_or_default(),
        )
    });
    token(shared, form, client, (GOOGLE_ID, GOOGLE_SECRET), false).await
}

#[get("/google/userinfo")]
fn userinfo(shared: &State<Shared>, bearer: Bearer) -> JsonAnswer {
    if shared.switches.lock().unwrap().profile_500 {
        return answer(Status::InternalServerError, "{}".into());
    }
    match person_for(shared, &bearer.0) {
        Some(Person::Google(u)) => {
            let mut v = json!({
                "sub": u.sub,
                "name": u.name,
                "given_name": u.name.split(' ').next(),
                "picture": "https://lh3.googleusercontent.example/a/photo.jpg",
            });
            if let Some(email) = u.email {
                v["email"] = json!(email);
                v["email_verified"] = json!(u.email_verified);
            }
            answer(Status::Ok, v.to_string())
        }
        _ => answer(Status::Unauthorized, json!({ "error": "invalid_token" }).to_string()),
    }
}

#[get("/github/login/oauth/authorize?<q..>")]
fn github_authorize(shared: &State<Shared>, q: AuthorizeQuery, uri: &Origin<'_>) -> AuthorizeAnswer {
    let person = Person::GitHub(shared.switches.lock().unwrap().github_user.clone());
    authorize(shared, q, uri, ("GitHub", GITHUB_ID), person)
}

#[post("/github/login/oauth/access_token", data = "<form>")]
async fn github_token(
    shared: &State<Shared>,
    auth: TokenAuth,
    form: Form<HashMap<String, String>>,
) -> JsonAnswer {
    let form = form.into_inner();
    if !auth.accept_json {
        // GitHub answers form-encoded unless asked for JSON; the app must ask.
        return (Status::Ok, (ContentType::Form, "error=accept_json_expected".into()));
    }
    let client = auth.basic.unwrap_or_else(|| {
        (
            form.get("client_id").cloned().unwrap_or_default(),
            form.get("client_secret").cloned().unwrap_or_default(),
        )
    });
    token(shared, form, client, (GITHUB_ID, GITHUB_SECRET), true).await
}

/// GitHub's API refuses requests without a User-Agent.
fn github_person(shared: &Shared, bearer: &Bearer, auth: &TokenAuth) -> Result<GitHubUser, Box<JsonAnswer>> {
    if auth.user_agent.as_deref().unwrap_or("").is_empty() {
        let message = "Request forbidden by administrative rules. Please make sure your request has a User-Agent header";
        return Err(Box::new((Status::Forbidden, (ContentType::Plain, message.into()))));
    }
    if shared.switches.lock().unwrap().profile_500 {
        return Err(Box::new(answer(Status::InternalServerError, "{}".into())));
    }
    match person_for(shared, &bearer.0) {
        Some(Person::GitHub(u)) => Ok(u),
        _ => Err(Box::new(answer(Status::Unauthorized, json!({ "message": "Bad credentials" }).to_string()))),
    }
}

#[get("/github-api/user")]
fn github_user(shared: &State<Shared>, bearer: Bearer, auth: TokenAuth) -> JsonAnswer {
    match github_person(shared, &bearer, &auth) {
        Ok(u) => answer(
            Status::Ok,
            json!({
                "login": u.login,
                "id": u.id,
                "avatar_url": format!("https://avatars.githubusercontent.example/u/{}?v=4", u.id),
                "name": u.name,
                // The public profile email: often null, and never proof of anything.
                "email": null,
            })
            .to_string(),
        ),
        Err(e) => *e,
    }
}

#[get("/github-api/user/emails")]
fn github_emails(shared: &State<Shared>, bearer: Bearer, auth: TokenAuth) -> JsonAnswer {
    match github_person(shared, &bearer, &auth) {
        Ok(u) => {
            let emails: Vec<Value> = u
                .emails
                .iter()
                .map(|(email, primary, verified)| {
                    json!({ "email": email, "primary": primary, "verified": verified, "visibility": "private" })
                })
                .collect();
            answer(Status::Ok, Value::Array(emails).to_string())
        }
        Err(e) => *e,
    }
}
