//! Password hashing: argon2id at the configured cost, PHC strings, always on threads
//! of its own (a hash takes tens of milliseconds of pure CPU; on an async worker it
//! would stall every request sharing that thread).
//!
//! One hashing thread per core, started with the app. Further sign-ins wait for a
//! thread for a short while, then get 503: a flood of sign-ins queues briefly instead
//! of piling up memory (19 MiB per hash) or starving page requests. Each thread keeps
//! one argon2 memory buffer for its whole life instead of allocating 19 MiB per hash:
//! the allocator kept freed blocks in per-thread arenas, and hashes spread over Tokio's
//! blocking pool left hundreds of MiB resident. Memory for hashing is now fixed at one
//! buffer per core.

use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::{Output, ParamsString, PasswordHash, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::rngs::OsRng;
use std::sync::mpsc;
use std::sync::Mutex;

use rocket::tokio::sync::{oneshot, Semaphore};
use rocket::tokio::time::timeout;

use crate::domain::{FieldError, Password, StrengthCheck};
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

/// Work for a hashing thread, given that thread's argon2 memory.
type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// The hashing service, in managed state.
pub struct Hasher {
    params: Params,
    slots: Arc<Semaphore>,
    /// Jobs for the hashing threads; they stop when the `Hasher` is dropped.
    jobs: Mutex<mpsc::Sender<Job>>,
    /// A hash of a random password at the configured cost, verified when the email is
    /// unknown, so that answer costs the same time as a wrong password.
    dummy: String,
}

impl Hasher {
    pub fn new(params: Params) -> Self {
        let slots = std::thread::available_parallelism().map_or(2, |n| n.get());
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..slots {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    let mut memory: Vec<Block> = Vec::new();
                    loop {
                        let job = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(&mut memory),
                            Err(_) => return, // the Hasher is gone
                        }
                    }
                })
                .expect("a hashing thread starts");
        }
        // The dummy hash is made on a hashing thread too, in its buffer.
        let (made, dummy) = mpsc::channel();
        let dummy_params = params.clone();
        let job: Job = Box::new(move |memory| {
            let random = crate::primitives::random_string(24);
            let _ = made.send(hash_with(&dummy_params, random.as_bytes(), memory));
        });
        jobs.send(job).expect("the hashing threads run");
        let dummy =
            dummy.recv().expect("a hashing thread answers").expect("argon2 hashes with checked parameters");
        Hasher { params, slots: Arc::new(Semaphore::new(slots)), jobs: Mutex::new(jobs), dummy }
    }

    /// Runs `job` on a hashing thread once one is free.
    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, Error> {
        let permit = timeout(SLOT_WAIT, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| Error::Busy)?
            .map_err(|_| Error::Busy)?;
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move |memory| {
            let _ = done.send(job(memory));
            drop(permit);
        });
        let sent =
            self.jobs.lock().map_err(|_| Error::Internal("the hashing queue is poisoned".into()))?.send(job);
        sent.map_err(|_| Error::Internal("the hashing threads are gone".into()))?;
        result.await.map_err(|_| Error::Internal("a password hashing job failed".into()))
    }

    /// zxcvbn's verdict on a new password, on a hashing thread: it costs milliseconds of
    /// CPU (far more for long inputs, which [`StrengthCheck`] bounds), and a flood of
    /// sign-ups must queue here, a core at a time, rather than stall the async workers.
    pub async fn check_strength(&self, check: StrengthCheck) -> Result<Result<(), FieldError>, Error> {
        self.run(move |_| check.run()).await
    }

    /// A PHC string for a new password.
    pub async fn hash(&self, password: &Password) -> Result<String, Error> {
        let params = self.params.clone();
        let password = password.expose().to_string();
        self.run(move |memory| {
            hash_with(&params, password.as_bytes(), memory)
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
        self.run(move |memory| {
            let Ok(hash) = PasswordHash::new(&phc) else {
                log::error!("a stored password hash is not a valid PHC string");
                return Verified { matches: false, needs_rehash: false };
            };
            let matches = verify_with(&hash, password.as_bytes(), memory) && real;
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

/// argon2id of `password` and raw `salt` into `out`, in `memory` (grown when `params`
/// need more than it has, which only an older hash with other parameters can).
fn compute(
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
    memory: &mut Vec<Block>,
) -> argon2::Result<()> {
    let blocks = params.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone()).hash_password_into_with_memory(
        password,
        salt,
        out,
        &mut memory[..blocks],
    )
}

/// A PHC string for `password` with a fresh salt, computed in `memory`.
fn hash_with(
    params: &Params,
    password: &[u8],
    memory: &mut Vec<Block>,
) -> argon2::password_hash::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let raw_salt = salt.as_salt().decode_b64(&mut salt_bytes)?;
    let len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let output = Output::init_with(len, |out| {
        compute(params, password, raw_salt, out, memory).map_err(|_| argon2::password_hash::Error::Crypto)
    })?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches `hash`, computed in `memory`; the comparison is constant
/// time (`Output`'s equality). Hashes of other argon2 variants take the crate's own
/// path, which allocates.
fn verify_with(hash: &PasswordHash<'_>, password: &[u8], memory: &mut Vec<Block>) -> bool {
    if hash.algorithm != Algorithm::Argon2id.ident() || hash.version != Some(Version::V0x13.into()) {
        return Argon2::default().verify_password(password, hash).is_ok();
    }
    let (Ok(params), Some(salt), Some(expected)) = (Params::try_from(hash), hash.salt, hash.hash) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(raw_salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    compute(&params, password, raw_salt, &mut out, memory).is_ok()
        && Output::new(&out).is_ok_and(|computed| computed == expected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::PasswordHasher;

    #[test]
    fn reused_memory_hashes_verify_with_the_standard_verifier_and_back() {
        let params = Params::new(256, 1, 1, None).unwrap();
        let mut memory = Vec::new();
        let phc = hash_with(&params, b"correct horse", &mut memory).unwrap();
        let parsed = PasswordHash::new(&phc).unwrap();
        assert!(
            Argon2::default().verify_password(b"correct horse", &parsed).is_ok(),
            "a standard PHC string"
        );
        assert!(verify_with(&parsed, b"correct horse", &mut memory));
        assert!(!verify_with(&parsed, b"correct horsf", &mut memory));
        // A hash made elsewhere with other parameters (a bigger buffer is needed).
        let other = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(512, 2, 1, None).unwrap())
            .hash_password(b"pw", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert!(verify_with(&PasswordHash::new(&other).unwrap(), b"pw", &mut memory));
        assert_eq!(memory.len(), 512);
    }
}
