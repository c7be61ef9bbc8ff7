//! The outbox worker: every instance runs one. It claims due messages under a lease of
//! a minute (so a killed instance's claims pass to another when the lease ends; each
//! message is claimed by one worker at a time), sends them, and records the outcome:
//! sent (the message itself cleared), tried again later (after 30 s, then with
//! doubling backoff up to an hour), or abandoned (a permanent refusal, or a day of
//! temporary ones; cleared too). It looks at the queue every
//! `AUTH_EMAIL_POLL_INTERVAL_MS`, and at once when this instance queued a message.

use std::sync::Arc;
use std::time::Duration;

use lettre::Address;
use rocket::fairing::{Fairing, Info, Kind};
use rocket::tokio::{self, time};
use rocket::{Orbit, Rocket};
use rocket_db_pools::Database;

use super::transport::{Failed, Transport};
use super::Mailer;
use crate::db::{outbox, Db};
use crate::error::Error;
use crate::primitives::now;

/// How long a claim holds a message, in seconds.
pub const LEASE: i64 = 60;
/// The first retry's delay, in seconds; each further one doubles, up to [`MAX_DELAY`].
pub const FIRST_DELAY: i64 = 30;
/// The longest delay between two tries, in seconds.
pub const MAX_DELAY: i64 = 3600;
/// How long a message is tried for before it is abandoned, in seconds.
pub const GIVE_UP_AFTER: i64 = 86400;
/// Messages claimed at once.
const BATCH: i64 = 20;

/// When the next try of a message that failed `attempts` times (this one included)
/// and was queued at `created_at` is due, or `None` when it is time to give up.
pub fn next_attempt(attempts: i64, created_at: i64, now: i64) -> Option<i64> {
    let shift = u32::try_from((attempts - 1).clamp(0, 20)).unwrap_or(20);
    let delay = FIRST_DELAY.saturating_mul(1 << shift).min(MAX_DELAY);
    let at = now + delay;
    (at - created_at <= GIVE_UP_AFTER).then_some(at)
}

/// Messages sent at once (each on its own connection, kept open for the next).
const IN_FLIGHT: usize = 8;

/// What a round of the worker did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub sent: usize,
    /// Some message failed temporarily: the server is probably down, so the worker
    /// rests a poll interval before the next round (it does not hammer a dead server,
    /// nor the database with retries, while requests keep queueing mail).
    pub failed: bool,
}

/// Records the outcome of one message.
async fn record(db: &Db, message: &outbox::Claimed, outcome: Result<(), Failed>) -> Result<bool, Error> {
    let mut conn = db.conn().await?;
    let now = now();
    match outcome {
        Ok(()) => {
            outbox::mark_sent(&mut conn, &message.id, now).await?;
            return Ok(true);
        }
        Err(Failed::Temporary(e)) => match next_attempt(message.attempts + 1, message.created_at, now) {
            Some(at) => {
                log::warn!("{} email to {}: will try again: {e}", message.kind, message.recipient);
                outbox::mark_retry(&mut conn, &message.id, at, &e).await?;
            }
            None => {
                log::error!("{} email to {}: abandoned after a day: {e}", message.kind, message.recipient);
                outbox::mark_abandoned(&mut conn, &message.id, now, &e).await?;
            }
        },
        Err(Failed::Permanent(e)) => {
            log::error!("{} email to {}: refused, abandoned: {e}", message.kind, message.recipient);
            outbox::mark_abandoned(&mut conn, &message.id, now, &e).await?;
        }
    }
    Ok(false)
}

/// Sends what is due, [`IN_FLIGHT`] at a time, until nothing is or a send fails
/// temporarily.
pub async fn run_once(db: &Db, transport: &Transport, from: &Address) -> Result<Round, Error> {
    use rocket::futures::stream::{self, StreamExt, TryStreamExt};
    let mut round = Round::default();
    loop {
        let now = now();
        let claimed = {
            let mut conn = db.conn().await?;
            outbox::claim(&mut conn, now, now + LEASE, BATCH).await?
        };
        if claimed.is_empty() {
            return Ok(round);
        }
        let outcomes: Vec<(bool, bool)> = stream::iter(claimed)
            .map(|message| async move {
                let outcome = transport.send(&message.id, from, &message.recipient, &message.message).await;
                let temporary = matches!(outcome, Err(Failed::Temporary(_)));
                record(db, &message, outcome).await.map(|sent| (sent, temporary))
            })
            .buffer_unordered(IN_FLIGHT)
            .try_collect()
            .await?;
        round.sent += outcomes.iter().filter(|(sent, _)| *sent).count();
        if outcomes.iter().any(|(_, temporary)| *temporary) {
            round.failed = true;
            return Ok(round);
        }
    }
}

/// Starts the worker at liftoff; it ends when Rocket shuts down.
pub struct Worker;

#[rocket::async_trait]
impl Fairing for Worker {
    fn info(&self) -> Info {
        Info { name: "Outbox worker", kind: Kind::Liftoff }
    }

    async fn on_liftoff(&self, rocket: &Rocket<Orbit>) {
        let (Some(mailer), Some(db)) = (rocket.state::<Arc<Mailer>>(), Db::fetch(rocket)) else { return };
        let transport = match Transport::new(&mailer.config.server) {
            Ok(transport) => transport,
            Err(e) => {
                log::error!("the outbox worker cannot start: {e}");
                return;
            }
        };
        let db = Db::from((**db).clone());
        let (wake, from) = (mailer.waker(), mailer.from_address().clone());
        let every = Duration::from_millis(mailer.config.poll_interval_ms);
        let mut shutdown = rocket.shutdown();
        tokio::spawn(async move {
            loop {
                let rest = match run_once(&db, &transport, &from).await {
                    Ok(round) => round.failed,
                    Err(e) => {
                        log::warn!("the outbox worker will try again: {e}");
                        true
                    }
                };
                if rest {
                    // Deaf to wake-ups for a poll interval: the server is likely down.
                    tokio::select! {
                        _ = time::sleep(every) => continue,
                        _ = &mut shutdown => return,
                    }
                }
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = time::sleep(every) => {}
                    _ = &mut shutdown => return,
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_30_seconds_to_an_hour_and_gives_up_after_a_day() {
        let t = 1_000_000;
        assert_eq!(next_attempt(1, t, t), Some(t + 30));
        assert_eq!(next_attempt(2, t, t), Some(t + 60));
        assert_eq!(next_attempt(3, t, t), Some(t + 120));
        assert_eq!(next_attempt(8, t, t), Some(t + 3600));
        assert_eq!(next_attempt(40, t, t), Some(t + 3600));
        assert_eq!(next_attempt(30, t, t + 86400 - 3600), Some(t + 86400));
        assert_eq!(next_attempt(30, t, t + 86400 - 3599), None);
    }
}
