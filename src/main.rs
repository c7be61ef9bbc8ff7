//! The server: Rocket.toml and the environment decide everything (see README).

#[rocket::launch]
fn rocket() -> _ {
    rocket_auth::build(rocket_auth::figment())
}
