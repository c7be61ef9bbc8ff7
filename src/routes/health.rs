//! `GET /healthz` for load balancers: 200 when the database answers, 503 when not.

use rocket::http::Status;
use rocket::serde::json::{json, Json, Value};
use rocket::{get, routes, Route, State};

use crate::db::{self, Db};

pub fn routes() -> Vec<Route> {
    routes![healthz]
}

#[get("/healthz")]
async fn healthz(db: &State<Db>) -> (Status, Json<Value>) {
    match db::ping(db).await {
        Ok(()) => (Status::Ok, Json(json!({ "status": "ok" }))),
        Err(e) => {
            log::warn!("health check: database unavailable: {e}");
            (Status::ServiceUnavailable, Json(json!({ "status": "unavailable" })))
        }
    }
}
