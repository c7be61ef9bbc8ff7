//! Answers whose time must not tell two cases apart. Forgot-password does the same
//! statements for an address with an account and one without, but the first writes two
//! rows and wakes the mail worker, the second writes none: about a third of a
//! millisecond apart on an idle server, measurable by a prober who sends enough
//! requests. Such an answer leaves no earlier than a fixed time after the request began
//! (a sleep, no CPU), longer than either case takes on a server that is not saturated,
//! so both arrive at the same moment.

use std::time::Duration;

use rocket::tokio::time::{sleep_until, Instant};

/// How long such an answer takes at the least: above the 99th percentile of either case,
/// one request at a time, on both databases (bench/email.sh), and below what a person
/// notices after pressing a button.
pub const FLOOR: Duration = Duration::from_millis(60);

/// When the answer may leave.
pub struct Deadline(Instant);

impl Deadline {
    /// Starts the clock: call it before the work whose time differs.
    pub fn start() -> Deadline {
        Deadline(Instant::now() + FLOOR)
    }

    /// Waits until the deadline (at once when it has passed).
    pub async fn wait(self) {
        sleep_until(self.0).await;
    }
}
