//! The second factor: TOTP ([`totp`]) with its secret sealed at rest ([`seal`]),
//! recovery codes, and the sign-in that waits for one ([`pending`]).
//!
//! A factor is something that answers a challenge at the second step or at `/reauth`:
//! [`check`] takes what the user typed and says which factor answered. A passkey is
//! one more answer of the same kind (its ceremony proves the user, then the same
//! pending sign-in is finished).

pub mod pending;
pub mod seal;
pub mod totp;

use rand::rngs::OsRng;
use rand::Rng;

use self::totp::TotpSecret;
use crate::config::AuthConfig;
use crate::db::{two_factor, Conn};
use crate::error::Error;
use crate::primitives::{now, sha256_hex};

/// Recovery codes per set.
pub const RECOVERY_CODES: usize = 10;
/// Characters per recovery code: 10 of 31 (about 50 bits).
const RECOVERY_LEN: usize = 10;
/// Lowercase letters and digits without the ones people misread (0/o, 1/l/i).
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
/// The longest input read as a code (a recovery code typed with spaces is 12
/// characters); anything longer is refused before it is parsed.
const TYPED_MAX: usize = 64;
/// How long an enrolment waits for its first code.
pub const ENROLMENT_TTL: i64 = 600;

/// What a user has set up.
#[derive(Debug, Clone, Default)]
pub struct FactorStatus {
    /// When TOTP was turned on; `None` when it is off.
    pub totp_since: Option<i64>,
    pub recovery_codes_left: i64,
}

impl FactorStatus {
    /// Whether a sign-in needs a second step.
    pub fn required(&self) -> bool {
        self.totp_since.is_some()
    }
}

pub async fn status(conn: &mut Conn, user_id: &str) -> Result<FactorStatus, Error> {
    let totp = two_factor::find_totp(conn, user_id).await?;
    let recovery_codes_left = match totp {
        Some(_) => two_factor::count_recovery_codes(conn, user_id).await?,
        None => 0,
    };
    Ok(FactorStatus { totp_since: totp.map(|t| t.created_at), recovery_codes_left })
}

/// Whether signing in as `user_id` needs a second step.
pub async fn required(conn: &mut Conn, user_id: &str) -> Result<bool, Error> {
    Ok(two_factor::find_totp(conn, user_id).await?.is_some())
}

/// Which factor answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Totp,
    /// A recovery code, now used up; this many are left.
    RecoveryCode {
        left: i64,
    },
}

/// A recovery code as typed: case, spaces and hyphens do not matter.
fn parse_recovery_code(raw: &str) -> Option<String> {
    let code: String =
        raw.chars().filter(|c| !matches!(c, ' ' | '-' | '\u{a0}')).map(|c| c.to_ascii_lowercase()).collect();
    (code.len() == RECOVERY_LEN && code.bytes().all(|b| RECOVERY_ALPHABET.contains(&b))).then_some(code)
}

fn recovery_hash(code: &str) -> String {
    sha256_hex(&format!("recovery-code:{code}"))
}

/// Checks what the user typed: a TOTP code (six digits), or, with `recovery`, one of
/// their recovery codes. `None` for a wrong, reused, malformed, over-long or
/// out-of-window code.
/// A TOTP code is used up by the same statement that checks its step is new, and a
/// recovery code by the statement that deletes it, so two requests with one code
/// cannot both pass.
pub async fn check(
    config: &AuthConfig,
    conn: &mut Conn,
    user_id: &str,
    raw: &str,
    recovery: bool,
) -> Result<Option<Answer>, Error> {
    if raw.len() > TYPED_MAX {
        return Ok(None);
    }
    if let Some(code) = totp::parse_code(raw) {
        let Some(row) = two_factor::find_totp(conn, user_id).await? else { return Ok(None) };
        let Some(opened) = seal::open(config.secrets(), user_id, &row.secret) else {
            log::error!("a TOTP secret did not open with any configured secret (was one dropped?)");
            return Ok(None);
        };
        let Some(secret) = TotpSecret::from_bytes(opened.plain) else { return Ok(None) };
        if opened.stale {
            two_factor::reseal_totp(conn, user_id, &seal::seal(&config.secret, user_id, secret.as_bytes()))
                .await?;
        }
        let Some(step) = secret.matching_step(&code, now(), row.last_step) else { return Ok(None) };
        return Ok(two_factor::use_step(conn, user_id, step).await?.then_some(Answer::Totp));
    }
    match parse_recovery_code(raw).filter(|_| recovery) {
        Some(code) if two_factor::use_recovery_code(conn, user_id, &recovery_hash(&code)).await? => {
            let left = two_factor::count_recovery_codes(conn, user_id).await?;
            Ok(Some(Answer::RecoveryCode { left }))
        }
        _ => Ok(None),
    }
}

/// A new set of recovery codes, replacing the old ones (which die); returned once, in
/// the form they are shown (`abcde-fghjk`), never stored but as hashes.
pub async fn new_recovery_codes(conn: &mut Conn, user_id: &str) -> Result<Vec<String>, Error> {
    let codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| {
            (0..RECOVERY_LEN)
                .map(|_| RECOVERY_ALPHABET[OsRng.gen_range(0..RECOVERY_ALPHABET.len())] as char)
                .collect()
        })
        .collect();
    let hashes: Vec<String> = codes.iter().map(|c| recovery_hash(c)).collect();
    two_factor::replace_recovery_codes(conn, user_id, &hashes, now()).await?;
    Ok(codes.into_iter().map(|c| format!("{}-{}", &c[..5], &c[5..])).collect())
}

/// The enrolment shown to the session `session_id`: the one it started, while it
/// lasts, or a new secret (replacing any other enrolment of the user).
pub async fn enrolment(
    config: &AuthConfig,
    conn: &mut Conn,
    user_id: &str,
    session_id: &str,
) -> Result<TotpSecret, Error> {
    let now = now();
    if let Some(row) = two_factor::find_enrolment(conn, user_id).await? {
        if row.expires_at > now && row.session_id == session_id {
            if let Some(secret) = seal::open(config.secrets(), user_id, &row.secret)
                .and_then(|o| TotpSecret::from_bytes(o.plain))
            {
                return Ok(secret);
            }
        }
    }
    let secret = TotpSecret::generate();
    let sealed = seal::seal(&config.secret, user_id, secret.as_bytes());
    two_factor::put_enrolment(conn, user_id, session_id, &sealed, now + ENROLMENT_TTL).await?;
    Ok(secret)
}

/// Why an enrolment was not confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotConfirmed {
    /// Not six digits.
    Malformed,
    /// Not the code of the secret shown (or not of now).
    Wrong,
    /// No enrolment of this session (expired, replaced, or started elsewhere).
    Expired,
    /// TOTP is on already.
    AlreadyOn,
}

/// Confirms the enrolment shown to `session_id` with its first code: TOTP is on, and
/// the new recovery codes are returned (to be shown once). Run it in a transaction.
pub async fn confirm(
    config: &AuthConfig,
    conn: &mut Conn,
    user_id: &str,
    session_id: &str,
    raw: &str,
) -> Result<Result<Vec<String>, NotConfirmed>, Error> {
    let Some(code) = totp::parse_code(raw) else { return Ok(Err(NotConfirmed::Malformed)) };
    if two_factor::find_totp(conn, user_id).await?.is_some() {
        return Ok(Err(NotConfirmed::AlreadyOn));
    }
    let now = now();
    let row = two_factor::find_enrolment(conn, user_id).await?;
    let Some(row) = row.filter(|r| r.expires_at > now && r.session_id == session_id) else {
        return Ok(Err(NotConfirmed::Expired));
    };
    let Some(secret) =
        seal::open(config.secrets(), user_id, &row.secret).and_then(|o| TotpSecret::from_bytes(o.plain))
    else {
        return Ok(Err(NotConfirmed::Expired));
    };
    let Some(step) = secret.matching_step(&code, now, 0) else { return Ok(Err(NotConfirmed::Wrong)) };
    if two_factor::take_enrolment(conn, user_id).await?.is_none() {
        return Ok(Err(NotConfirmed::Expired));
    }
    let sealed = seal::seal(&config.secret, user_id, secret.as_bytes());
    if !two_factor::insert_totp(conn, user_id, &sealed, step, now).await? {
        return Ok(Err(NotConfirmed::AlreadyOn));
    }
    Ok(Ok(new_recovery_codes(conn, user_id).await?))
}

/// Turns every second factor of the user off. Returns whether TOTP was on.
pub async fn remove_all(conn: &mut Conn, user_id: &str) -> Result<bool, Error> {
    Ok(two_factor::delete_all(conn, user_id).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_read_as_people_type_them() {
        assert_eq!(parse_recovery_code("abcde-fghjk").as_deref(), Some("abcdefghjk"));
        assert_eq!(parse_recovery_code(" ABCDE FGHJK ").as_deref(), Some("abcdefghjk"));
        for bad in ["", "abcde-fghj", "abcde-fghjkm", "abcde-fghj0", "abcde-fghjl", "123456", "abcdé-fghjk"]
        {
            assert_eq!(parse_recovery_code(bad), None, "{bad:?}");
        }
        // A TOTP code is never taken for a recovery code.
        assert_eq!(parse_recovery_code("234567"), None);
    }
}
