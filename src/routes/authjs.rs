//! Auth.js's built-in page addresses under the base path, where its browser clients
//! send people: `signIn()` without a provider and `useSession({ required: true })` go
//! to `GET {base}/signin?callbackUrl=…`, `/api/auth/providers` advertises
//! `{base}/signin/<provider>`, v4's refused credentials point at `{base}/error`, and
//! v4's logger posts its beacons to `{base}/_log`. The pages themselves are the app's
//! own: these routes send the browser there.

use rocket::data::{Data, ToByteUnit};
use rocket::form::FromForm;
use rocket::http::uri::Origin;
use rocket::request::FlashMessage;
use rocket::response::Redirect;
use rocket::{get, post, routes, Route, State};

use super::signin::PageQuery;
use crate::auth::context::Ctx;
use crate::auth::guards::MaybeSignedIn;
use crate::config::AuthConfig;
use crate::domain::CallbackUrl;
use crate::reply::Html;
use crate::views::{Base, SignoutPage};

pub fn routes() -> Vec<Route> {
    routes![signin, signin_provider, signout, error, log]
}

/// Longest `_log` body read (and thrown away).
const LOG_LIMIT_KIB: u64 = 16;

/// `/signin?callbackUrl=…&error=…`, with the callback made safe and the error code
/// kept only when it looks like one (the page explains known codes, ignores others).
fn signin_url(config: &AuthConfig, q: &PageQuery) -> String {
    let mut url = String::from("/signin");
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if let Some(raw) = q.callback_url.as_deref() {
        let callback = CallbackUrl::parse(Some(raw), &config.origin).relative();
        if callback != "/" {
            query.append_pair("callbackUrl", &callback);
        }
    }
    if let Some(code) = q.error.as_deref() {
        if !code.is_empty() && code.len() <= 64 && code.bytes().all(|b| b.is_ascii_alphanumeric()) {
            query.append_pair("error", code);
        }
    }
    let query = query.finish();
    if !query.is_empty() {
        url.push('?');
        url.push_str(&query);
    }
    url
}

/// `GET {base}/signin`: 303 to `/signin`, `callbackUrl` and `error` kept.
#[get("/signin?<q..>")]
fn signin(q: PageQuery, config: &State<AuthConfig>) -> Redirect {
    Redirect::to(signin_url(config, &q))
}

/// `GET {base}/signin/<provider>` (the `signinUrl` of `/api/auth/providers`): the same
/// sign-in page, which has the provider's button. Starting a flow is a POST.
#[get("/signin/<provider>?<q..>")]
fn signin_provider(provider: &str, q: PageQuery, config: &State<AuthConfig>) -> Redirect {
    let _ = provider;
    Redirect::to(signin_url(config, &q))
}

/// The query of `GET {base}/signout`.
#[derive(FromForm, Default)]
struct SignoutQuery {
    #[field(name = "callbackUrl")]
    callback_url: Option<String>,
}

/// `GET {base}/signout`: a page with the sign-out button (a CSRF-checked POST), as
/// Auth.js serves; a GET never signs anyone out.
#[get("/signout?<q..>")]
fn signout(
    q: SignoutQuery,
    session: MaybeSignedIn<'_>,
    ctx: Ctx<'_>,
    flash: Option<FlashMessage<'_>>,
) -> Html {
    let callback = CallbackUrl::parse(q.callback_url.as_deref(), &ctx.config.origin);
    let base = Base::new(session.0, &ctx.csrf, ctx.config, flash);
    Html::render("signout", SignoutPage { base, callback_url: callback.relative() })
}

/// `GET {base}/error`: 303 to the error page, `/error`, with the query kept.
#[get("/error")]
fn error(uri: &Origin<'_>) -> Redirect {
    match uri.query() {
        Some(query) if !query.is_empty() => Redirect::to(format!("/error?{query}")),
        _ => Redirect::to("/error"),
    }
}

/// `POST {base}/_log`: next-auth v4's client logger sends its errors here with
/// `navigator.sendBeacon`. Answered `200`; the body is read up to 16 KiB and
/// dropped: nothing a browser reports is stored or logged. No CSRF token (a beacon
/// carries none), since it changes nothing.
#[post("/_log", data = "<body>")]
async fn log(body: Data<'_>) {
    let _ = body.open(LOG_LIMIT_KIB.kibibytes()).stream_to(rocket::tokio::io::sink()).await;
}
