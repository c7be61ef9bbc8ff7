//! Every route, one module per page or endpoint group; mounted in one place.

pub mod account;
pub mod api;
pub mod authjs;
pub mod catchers;
pub mod email_signin;
pub mod health;
pub mod home;
pub mod oauth;
pub mod password_reset;
pub mod reauth;
pub mod second_step;
pub mod sessions;
pub mod signin;
pub mod signout;
pub mod signup;
pub mod two_factor;
pub mod verify_email;

use rocket::{Build, Rocket};

use crate::config::AuthConfig;

/// Mounts pages at `/`, the Auth.js protocol endpoints at `auth.base_path`, the
/// stylesheet at `/static`, and the catchers.
pub fn mount(rocket: Rocket<Build>, config: &AuthConfig) -> Rocket<Build> {
    let base = config.base_path.as_str();
    rocket
        .mount("/", home::routes())
        .mount("/", signin::routes())
        .mount("/", signup::routes())
        .mount("/", health::routes())
        .mount("/", sessions::routes())
        .mount("/", account::routes())
        .mount("/", oauth::routes())
        .mount("/", password_reset::routes())
        .mount("/", verify_email::routes())
        .mount("/", two_factor::routes())
        .mount("/", second_step::routes())
        .mount("/", reauth::routes())
        .mount(base, signin::api_routes())
        .mount(base, oauth::api_routes())
        .mount(base, signout::routes())
        .mount(base, api::routes())
        .mount(base, authjs::routes())
        .mount(base, email_signin::api_routes())
        .mount("/static", crate::assets::routes())
        .register("/", catchers::catchers())
}

/// `/signin?error=<code>&callbackUrl=<path>` on the public origin: where Auth.js sends
/// a failed sign-in.
pub(crate) fn signin_error_url(
    config: &AuthConfig,
    code: &str,
    callback: &crate::domain::CallbackUrl,
) -> String {
    let mut url = config.origin.join("/signin").expect("a path joins any origin");
    {
        let mut query = url.query_pairs_mut();
        query.append_pair("error", code);
        if code == "CredentialsSignin" {
            query.append_pair("code", "credentials");
        }
        let relative = callback.relative();
        if relative != "/" {
            query.append_pair("callbackUrl", &relative);
        }
    }
    url.to_string()
}
