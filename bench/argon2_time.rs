//! How many password hashes per second the machine's cores allow at most, with the
//! app's argon2 parameters: one thread per core, each hashing in a loop with one reused
//! memory buffer, as the app's hashing threads do. `bench/run.sh` runs it to put the
//! sign-in figure next to its ceiling.
//!
//! The parameters are the app's defaults (OWASP: 19 MiB, 2 iterations, 1 lane) unless
//! `AUTH_ARGON2_MEMORY_KIB`, `AUTH_ARGON2_ITERATIONS` or `AUTH_ARGON2_PARALLELISM` say
//! otherwise, as they do for the app.
//!
//! Prints: milliseconds per hash (on one thread), cores, hashes per second (all cores),
//! and the parameters (memory in KiB, iterations, lanes).

use std::time::Instant;

use argon2::{Algorithm, Argon2, Block, Params, Version};

/// Hashes per thread.
const RUNS: usize = 100;

fn main() {
    let setting = |name: &str, default: u32| {
        std::env::var(name).ok().map_or(default, |v| v.parse().expect("a whole number"))
    };
    let (m, t, p) = (
        setting("AUTH_ARGON2_MEMORY_KIB", 19456),
        setting("AUTH_ARGON2_ITERATIONS", 2),
        setting("AUTH_ARGON2_PARALLELISM", 1),
    );
    let params = Params::new(m, t, p, None).expect("valid parameters");
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let start = Instant::now();
    let threads: Vec<_> = (0..cores)
        .map(|_| {
            let params = params.clone();
            std::thread::spawn(move || {
                let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
                let mut memory = vec![Block::default(); params.block_count()];
                let mut out = [0u8; 32];
                let thread_start = Instant::now();
                for _ in 0..RUNS {
                    argon2
                        .hash_password_into_with_memory(
                            b"correct horse battery staple",
                            b"bench-salt-16by!",
                            &mut out,
                            &mut memory,
                        )
                        .expect("hash");
                }
                thread_start.elapsed().as_secs_f64() / RUNS as f64
            })
        })
        .collect();
    let per_hash: Vec<f64> = threads.into_iter().map(|t| t.join().expect("a hashing thread")).collect();
    let elapsed = start.elapsed().as_secs_f64();
    let mean = per_hash.iter().sum::<f64>() / per_hash.len() as f64;
    println!("{:.1} {} {:.0} {m} {t} {p}", mean * 1000.0, cores, (cores * RUNS) as f64 / elapsed);
}
