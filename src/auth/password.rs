//! Password hashing: argon2id at the configured cost, PHC strings, always on the
//! blocking pool (a hash takes tens of milliseconds of pure CPU; on an async worker it
//! would stall every request sharing that thread).
//!
//! At most one hash per core runs at once. Further sign-ins wait for a slot for a
//! short while, then get 503: a flood of sign-ins queues briefly instead of piling up
//! memory (19 MiB per hash) or starving page requests.

use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::rngs::OsRng;
use rocket::tokio::sync::Semaphore;
use rocket::tokio::task::spawn_blocking;
use rocket::tokio::time::timeout;

use crate::domain::Password;
use crate::error::Error;

/// How long a sign-in waits for a hashing slot before 503.
const SLOT_WAIT: Duration = Duration::from_secs(5);

/// The outcome of a verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub matches: bool,
    /// The stored hash used other parameters than the configured ones: rehash now.
    pub needs_rehash: bool,
}

/// The hashing service, in managed state.
pub struct Hasher {
    params: Params,
    slots: Arc<Semaphore>,
    /// A hash of a random password at the configured cost, verified when the email is
    /// unknown, so that answer costs the same time as a wrong password.
    dummy: String,
}

impl Hasher {
    pub fn new(params: Params) -> Self {
        let slots = std::thread::available_parallelism().map_or(2, |n| n.get());
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let random = crate::auth::token::random_string(24);
        let dummy = argon2
            .hash_password(random.as_bytes(), &SaltString::generate(&mut OsRng))
            .expect("argon2 hashes with checked parameters")
            .to_string();
        Hasher { params, slots: Arc::new(Semaphore::new(slots)), dummy }
    }

    fn argon2(params: Params) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }

    /// Runs `job` on the blocking pool once a slot is free.
    async fn run<T: Send + 'static>(&self, job: impl FnOnce() -> T + Send + 'static) -> Result<T, Error> {
        let permit = timeout(SLOT_WAIT, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| Error::Busy)?
            .map_err(|_| Error::Busy)?;
        let result = spawn_blocking(move || {
            let out = job();
            drop(permit);
            out
        })
        .await
        .map_err(|e| Error::Internal(format!("password hashing task failed: {e}")))?;
        Ok(result)
    }

    /// A PHC string for a new password.
    pub async fn hash(&self, password: &Password) -> Result<String, Error> {
        let params = self.params.clone();
        let password = password.expose().to_string();
        self.run(move || {
            Self::argon2(params)
                .hash_password(password.as_bytes(), &SaltString::generate(&mut OsRng))
                .map(|h| h.to_string())
                .map_err(|e| Error::Internal(format!("argon2 failed: {e}")))
        })
        .await?
    }

    /// Verifies `password` against `stored`, or against the dummy hash when there is no
    /// stored hash (unknown email, or a user without a password): same work either way.
    pub async fn verify(&self, password: &Password, stored: Option<String>) -> Result<Verified, Error> {
        let params = self.params.clone();
        let password = password.expose().to_string();
        let (phc, real) = match stored {
            Some(phc) => (phc, true),
            None => (self.dummy.clone(), false),
        };
        self.run(move || {
            let Ok(hash) = PasswordHash::new(&phc) else {
                log::error!("a stored password hash is not a valid PHC string");
                return Verified { matches: false, needs_rehash: false };
            };
            let matches = Argon2::default().verify_password(password.as_bytes(), &hash).is_ok() && real;
            let current = hash.algorithm == Algorithm::Argon2id.ident()
                && hash.version == Some(Version::V0x13.into())
                && Params::try_from(&hash).is_ok_and(|p| {
                    p.m_cost() == params.m_cost()
                        && p.t_cost() == params.t_cost()
                        && p.p_cost() == params.p_cost()
                });
            Verified { matches, needs_rehash: matches && !current }
        })
        .await
    }
}
