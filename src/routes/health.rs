//! `GET /healthz` for load balancers: 200 when the database answers, 503 with
//! `Retry-After` when not.

use rocket::http::Header;
use rocket::serde::json::{json, Json, Value};
use rocket::{get, routes, Responder, Route, State};

use crate::db::{self, Db};

pub fn routes() -> Vec<Route> {
    routes![healthz]
}

#[derive(Responder)]
enum Health {
    #[response(status = 200)]
    Ok(Json<Value>),
    #[response(status = 503)]
    Unavailable(Json<Value>, Header<'static>),
}

#[get("/healthz")]
async fn healthz(db: &State<Db>) -> Health {
    match db::ping(db).await {
        Ok(()) => Health::Ok(Json(json!({ "status": "ok" }))),
        Err(e) => {
            log::warn!("health check: database unavailable: {e}");
            Health::Unavailable(Json(json!({ "status": "unavailable" })), Header::new("Retry-After", "5"))
        }
    }
}
