//! Housekeeping: the periodic clean-up of expired sessions, abandoned OAuth flows and
//! pending sign-ins, finished throttle windows, and security-log entries past their
//! retention. Expired sessions are refused on use
//! anyway; this keeps the table from growing without bound. It starts with the app
//! (at liftoff) and runs every `AUTH_SESSION_CLEANUP_INTERVAL` seconds, first one
//! interval after start so a restart loop cannot hammer the database.
//!
//! Every instance runs it; that is harmless, since deleting an expired row twice
//! deletes nothing the second time. It deletes in batches of [`BATCH`] rows, so a
//! backlog of a million rows never turns into one long statement holding the table's
//! write lock (SQLite) or a huge transaction (PostgreSQL) while sign-ins wait, and
//! after each batch it rests [`REST_PER_WORK`] times as long as the batch took (as
//! pt-archiver's `--sleep-coef` does): the database spends at most a fifth of its time
//! on the clean-up and the rest on requests, on a busy server as on an idle one. Small
//! batches keep each commit short: on 2 cores, 100-row batches kept the session
//! check's p99 within 1.5× of its usual figure while a backlog of 300,000 rows went
//! (in about 80 s on PostgreSQL and 150 s on SQLite); 500-row batches, only a little
//! faster, let it reach 2×. An hour of expiries goes in a few batches.

use std::time::Duration;

use rocket::fairing::{Fairing, Info, Kind};
use rocket::tokio::{self, time};
use rocket::{Orbit, Rocket};
use rocket_db_pools::Database;

use crate::config::AuthConfig;
use crate::db::{
    email_tokens, oauth_flows, outbox, pending_signins, security_events, sessions, throttle, two_factor, Db,
};
use crate::error::Error;
use crate::primitives::now;

/// Rows deleted per statement.
pub const BATCH: i64 = 100;

/// How long the clean-up rests after a batch, as a multiple of the time the batch took.
pub const REST_PER_WORK: u32 = 4;

/// The shortest rest between two batches.
const MIN_REST: Duration = Duration::from_millis(20);

/// Deletes every session that expired by `now`, batch by batch. Returns how many.
pub async fn delete_expired_sessions(db: &Db, now: i64) -> Result<u64, Error> {
    let mut total = 0;
    loop {
        let started = time::Instant::now();
        let deleted = {
            let mut conn = db.conn().await?;
            sessions::delete_expired_batch(&mut conn, now, BATCH).await?
        };
        total += deleted;
        if deleted < BATCH as u64 {
            return Ok(total);
        }
        time::sleep(MIN_REST.max(started.elapsed() * REST_PER_WORK)).await;
    }
}

/// Deletes OAuth flows abandoned at the provider's page (few: one per started sign-in).
pub async fn delete_expired_flows(db: &Db, now: i64) -> Result<u64, Error> {
    let mut conn = db.conn().await?;
    Ok(oauth_flows::delete_expired(&mut conn, now).await?)
}

/// How long the security log keeps an entry.
pub const SECURITY_LOG_RETENTION: i64 = 90 * 86400;

/// Deletes throttle counters whose window is over, security-log entries past
/// [`SECURITY_LOG_RETENTION`], expired email tokens, finished mail, and sign-ins and
/// TOTP enrolments that waited out their time.
pub async fn delete_stale_records(db: &Db, now: i64, window: i64) -> Result<u64, Error> {
    let mut conn = db.conn().await?;
    // The longest window any counter has.
    let window = window.max(crate::auth::throttle::EMAIL_WINDOW);
    let counters = throttle::delete_expired(&mut conn, now - window).await?;
    let events = security_events::delete_older_than(&mut conn, now - SECURITY_LOG_RETENTION).await?;
    let tokens = email_tokens::delete_expired(&mut conn, now).await?;
    let mail = outbox::delete_finished_before(&mut conn, now - SECURITY_LOG_RETENTION).await?;
    let pending = pending_signins::delete_expired(&mut conn, now).await?;
    let enrolments = two_factor::delete_expired_enrolments(&mut conn, now).await?;
    Ok(counters + events + tokens + mail + pending + enrolments)
}

/// Starts the clean-up task at liftoff; it ends when Rocket shuts down.
pub struct Housekeeping;

#[rocket::async_trait]
impl Fairing for Housekeeping {
    fn info(&self) -> Info {
        Info { name: "Housekeeping", kind: Kind::Liftoff }
    }

    async fn on_liftoff(&self, rocket: &Rocket<Orbit>) {
        let Some(config) = rocket.state::<AuthConfig>() else { return };
        let Ok(every) = u64::try_from(config.session.cleanup_interval) else { return };
        if every == 0 {
            log::info!("expired-session clean-up is off (AUTH_SESSION_CLEANUP_INTERVAL = 0)");
            return;
        }
        let Some(db) = Db::fetch(rocket) else { return };
        let window = config.signin_window as i64;
        let db = Db::from((**db).clone());
        let mut shutdown = rocket.shutdown();
        tokio::spawn(async move {
            let period = Duration::from_secs(every);
            let mut ticks = time::interval_at(time::Instant::now() + period, period);
            ticks.set_missed_tick_behavior(time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = ticks.tick() => {}
                    _ = &mut shutdown => return,
                }
                match delete_expired_sessions(&db, now()).await {
                    Ok(0) => {}
                    Ok(n) => log::info!("deleted {n} expired sessions"),
                    Err(e) => log::warn!("expired-session clean-up failed, will retry: {e}"),
                }
                if let Err(e) = delete_expired_flows(&db, now()).await {
                    log::warn!("expired OAuth flow clean-up failed, will retry: {e}");
                }
                if let Err(e) = delete_stale_records(&db, now(), window).await {
                    log::warn!("throttle and security log clean-up failed, will retry: {e}");
                }
            }
        });
    }
}
