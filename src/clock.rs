//! The wall clock that deferred deletes, tombstones and the mirror's timestamps read, in
//! Unix milliseconds. `OPENPHONE_SYNC_NOW` (an RFC 3339 time) sets it: the tests use it to
//! play "an hour later", and a user can ask a dry run what a run at that time would delete.

/// The environment variable that sets the clock.
pub const NOW_ENV: &str = "OPENPHONE_SYNC_NOW";

/// Now, in Unix milliseconds (`$OPENPHONE_SYNC_NOW` when set and valid).
pub fn now_millis() -> i64 {
    std::env::var(NOW_ENV)
        .ok()
        .and_then(|v| chrono::DateTime::parse_from_rfc3339(v.trim()).ok())
        .map_or_else(|| chrono::Utc::now().timestamp_millis(), |t| t.timestamp_millis())
}

/// RFC 3339 in UTC with milliseconds, as the mirror stores times.
pub fn format_millis(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Reads a time the mirror stored (0 when unreadable).
pub fn parse_millis(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s).map_or(0, |t| t.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip() {
        let t = parse_millis("2026-12-02T10:00:00.250Z");
        assert_eq!(format_millis(t), "2026-12-02T10:00:00.250Z");
        assert_eq!(parse_millis("yesterday"), 0);
    }
}
