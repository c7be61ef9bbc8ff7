//! Auth.js's JSON endpoints: `{base}/csrf`, `{base}/session`, `{base}/providers`.

use rocket::http::Header;
use rocket::serde::json::{json, Json, Value};
use rocket::{get, routes, Responder, Route, State};

use crate::auth::csrf::CsrfToken;
use crate::auth::guards::MaybeSignedIn;
use crate::config::AuthConfig;
use crate::oauth::Provider;
use crate::views::iso_time;

pub fn routes() -> Vec<Route> {
    routes![csrf, session, providers]
}

/// JSON that no cache may keep: it describes one browser's session.
#[derive(Responder)]
pub struct Private {
    inner: Json<Value>,
    cache: Header<'static>,
}

impl Private {
    fn new(value: Value) -> Self {
        Private { inner: Json(value), cache: Header::new("Cache-Control", "private, no-cache, no-store") }
    }
}

/// `GET {base}/csrf`: `{"csrfToken": "…"}`, setting the CSRF cookie when it is missing.
#[get("/csrf")]
fn csrf(token: CsrfToken) -> Private {
    Private::new(json!({ "csrfToken": token.0 }))
}

/// `GET {base}/session`: the session, or the JSON literal `null` when signed out (never
/// `{}`, which Auth.js v5 clients read as signed in). 503 when the database is down.
#[get("/session")]
fn session(session: MaybeSignedIn<'_>) -> Private {
    Private::new(match session.0 {
        Some(s) => json!({
            "user": {
                "id": s.user.id,
                "name": s.user.name,
                "email": s.user.email,
                "image": s.user.image,
                "emailVerified": s.user.email_verified.map(iso_time),
            },
            "expires": iso_time(s.expires_at),
        }),
        None => Value::Null,
    })
}

/// `GET {base}/providers`: Auth.js's shape, absolute URLs; `credentials` always listed.
#[get("/providers")]
fn providers(config: &State<AuthConfig>) -> Json<Value> {
    let base = &config.base_path;
    let mut map = serde_json::Map::new();
    map.insert(
        "credentials".into(),
        json!({
            "id": "credentials",
            "name": "Credentials",
            "type": "credentials",
            "signinUrl": config.absolute(&format!("{base}/signin/credentials")),
            "callbackUrl": config.absolute(&format!("{base}/callback/credentials")),
        }),
    );
    for p in Provider::enabled(config) {
        let id = p.id();
        map.insert(
            id.into(),
            json!({
                "id": id,
                "name": p.name(),
                "type": p.kind(),
                "signinUrl": config.absolute(&format!("{base}/signin/{id}")),
                "callbackUrl": config.absolute(&format!("{base}/callback/{id}")),
            }),
        );
    }
    if config.email.is_some() {
        map.insert(
            "email".into(),
            json!({
                "id": "email",
                "name": "Email",
                "type": "email",
                "signinUrl": config.absolute(&format!("{base}/signin/email")),
                "callbackUrl": config.absolute(&format!("{base}/callback/email")),
            }),
        );
    }
    Json(Value::Object(map))
}
