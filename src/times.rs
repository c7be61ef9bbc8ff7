//! How a stored time (Unix seconds) is written: for people, in words relative to now,
//! and as JavaScript's ISO string (Auth.js's `expires`). Pages, the session JSON, the
//! export and the emailed notices all write times this way.

use rocket::time::format_description::FormatItem;
use rocket::time::macros::format_description;
use rocket::time::OffsetDateTime;

const HUMAN: &[FormatItem<'static>] =
    format_description!("[day padding:none] [month repr:short] [year], [hour]:[minute] UTC");
const ISO: &[FormatItem<'static>] = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].000Z");

fn format(unix: i64, format: &[FormatItem<'_>]) -> String {
    OffsetDateTime::from_unix_timestamp(unix).ok().and_then(|t| t.format(format).ok()).unwrap_or_default()
}

/// A time for people: `25 Nov 2026, 14:03 UTC`.
pub fn human_time(unix: i64) -> String {
    format(unix, HUMAN)
}

/// How long ago (or how far ahead) `unix` is from `now`, in words: "just now",
/// "3 minutes ago", "in 29 days". Units round down, as people read them.
pub fn relative_time(unix: i64, now: i64) -> String {
    let delta = unix - now;
    let seconds = delta.unsigned_abs();
    if seconds < 60 {
        return if delta <= 0 { "just now".into() } else { "in less than a minute".into() };
    }
    const UNITS: [(u64, &str); 5] =
        [(365 * 86400, "year"), (30 * 86400, "month"), (86400, "day"), (3600, "hour"), (60, "minute")];
    let (size, unit) = UNITS.into_iter().find(|(size, _)| seconds >= *size).unwrap_or((60, "minute"));
    let n = seconds / size;
    let plural = if n == 1 { "" } else { "s" };
    if delta < 0 {
        format!("{n} {unit}{plural} ago")
    } else {
        format!("in {n} {unit}{plural}")
    }
}

/// A time as JavaScript's `Date.toISOString()` writes it, as Auth.js's `expires` is.
pub fn iso_time(unix: i64) -> String {
    format(unix, ISO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_times_like_javascript_and_for_people() {
        assert_eq!(iso_time(1_764_072_000), "2025-11-25T12:00:00.000Z");
        assert_eq!(human_time(1_764_072_000), "25 Nov 2025, 12:00 UTC");
    }

    #[test]
    fn says_how_long_ago_in_words() {
        let now = 1_764_072_000;
        assert_eq!(relative_time(now, now), "just now");
        assert_eq!(relative_time(now - 59, now), "just now");
        assert_eq!(relative_time(now - 60, now), "1 minute ago");
        assert_eq!(relative_time(now - 3 * 60 - 59, now), "3 minutes ago");
        assert_eq!(relative_time(now - 2 * 3600, now), "2 hours ago");
        assert_eq!(relative_time(now - 86400, now), "1 day ago");
        assert_eq!(relative_time(now - 400 * 86400, now), "1 year ago");
        assert_eq!(relative_time(now + 30, now), "in less than a minute");
        assert_eq!(relative_time(now + 29 * 86400 + 100, now), "in 29 days");
        assert_eq!(relative_time(now + 90 * 86400, now), "in 3 months");
    }
}
