//! How long one password hash takes with the app's default argon2 parameters, and so
//! how many sign-ins per second the machine's cores allow at most. `bench/run.sh` runs
//! it to put the sign-in figure next to its ceiling.

use std::time::Instant;

use argon2::password_hash::SaltString;
use argon2::{Algorithm, Argon2, Params, PasswordHasher, Version};

fn main() {
    // OWASP: 19 MiB, 2 iterations, 1 lane (the app's defaults).
    let params = Params::new(19456, 2, 1, None).expect("valid parameters");
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let salt = SaltString::encode_b64(b"bench-salt-16by").expect("salt");
    let runs = 40;
    let start = Instant::now();
    for _ in 0..runs {
        argon2.hash_password(b"correct horse battery staple", &salt).expect("hash");
    }
    let per_hash = start.elapsed().as_secs_f64() / runs as f64;
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!("{:.1} {} {:.0}", per_hash * 1000.0, cores, cores as f64 / per_hash);
}
