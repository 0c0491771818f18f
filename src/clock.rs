//! [`Clock`]: the wall clock that deferred deletes, tombstones, the mirror's timestamps and
//! the daemon's schedule read. Production reads the system's; a test hands the engine or the
//! daemon a [`Clock::test`] it moves itself ("an hour later") or lets tokio's paused time move.
//! Nothing else in the crate asks the system for the date.

use std::fmt;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

/// Where "now" comes from. Cloning shares it: moving a test clock moves every clone.
#[derive(Debug, Clone, Default)]
pub struct Clock(Source);

#[derive(Debug, Clone, Default)]
enum Source {
    #[default]
    System,
    Test(Arc<Mutex<TestTime>>),
}

/// A test clock: `at` was the time when tokio's clock said `since` (`None`: it stands still).
#[derive(Debug)]
struct TestTime {
    at: DateTime<Utc>,
    since: Option<tokio::time::Instant>,
}

impl Clock {
    /// The system's clock.
    pub fn system() -> Clock {
        Clock(Source::System)
    }

    /// A clock that says `at` now and then moves with tokio's clock: in a runtime started
    /// paused (`#[tokio::test(start_paused = true)]`) it moves only when tokio's time does
    /// (auto-advanced to the next timer when every task waits, or `tokio::time::advance`);
    /// elsewhere with the real time. [`Clock::set`] moves it.
    pub fn test(at: DateTime<Utc>) -> Clock {
        Clock(Source::Test(Arc::new(Mutex::new(TestTime { at, since: Some(tokio::time::Instant::now()) }))))
    }

    /// A clock that says `at` until [`Clock::set`] moves it: every time a run records is
    /// exactly the one the test chose.
    pub fn fixed(at: DateTime<Utc>) -> Clock {
        Clock(Source::Test(Arc::new(Mutex::new(TestTime { at, since: None }))))
    }

    /// Moves a test clock to `at` (backwards too); one that moves with tokio's clock goes on
    /// from there. The system's clock cannot be set: a no-op there.
    pub fn set(&self, at: DateTime<Utc>) {
        if let Source::Test(t) = &self.0 {
            let mut t = t.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let since = t.since.map(|_| tokio::time::Instant::now());
            *t = TestTime { at, since };
        }
    }

    /// Now.
    pub fn now(&self) -> DateTime<Utc> {
        match &self.0 {
            Source::System => Utc::now(),
            Source::Test(t) => {
                let t = t.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                let elapsed =
                    t.since.map_or_else(Default::default, |s| tokio::time::Instant::now().saturating_duration_since(s));
                t.at + chrono::Duration::from_std(elapsed).unwrap_or_default()
            }
        }
    }

    /// Now, in Unix milliseconds.
    pub fn now_millis(&self) -> i64 {
        self.now().timestamp_millis()
    }

    /// Now, as the mirror records it.
    pub fn timestamp(&self) -> Timestamp {
        Timestamp::from_datetime(self.now())
    }
}

/// A moment as the mirror stores every time: Unix milliseconds, UTC (an SQLite INTEGER;
/// migration 0009 converted the RFC 3339 text of older mirrors). Shown and serialised as
/// RFC 3339 in UTC with milliseconds (`2026-12-01T10:00:00.000Z`), as the commands always
/// showed times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    pub fn from_millis(ms: i64) -> Timestamp {
        Timestamp(ms)
    }

    pub fn from_datetime(t: DateTime<Utc>) -> Timestamp {
        Timestamp(t.timestamp_millis())
    }

    /// Unix milliseconds.
    pub fn millis(self) -> i64 {
        self.0
    }

    pub fn to_datetime(self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.0).unwrap_or_default()
    }

    /// `ms` milliseconds later (saturating).
    #[must_use]
    pub fn plus_millis(self, ms: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(ms))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_millis(self.0))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// RFC 3339 in UTC with milliseconds, as the commands show times.
pub fn format_millis(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timestamp_shows_and_serialises_as_rfc_3339_with_milliseconds() {
        let t = Timestamp::from_datetime(utc("2026-12-01T10:00:00.25Z"));
        assert_eq!(t.millis(), 1_796_119_200_250);
        assert_eq!(t.to_string(), "2026-12-01T10:00:00.250Z");
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"2026-12-01T10:00:00.250Z\"");
        assert_eq!(t.plus_millis(3_600_000).to_datetime(), utc("2026-12-01T11:00:00.25Z"));
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[tokio::test(start_paused = true)]
    async fn a_test_clock_moves_with_tokio_time_and_when_set_and_its_clones_follow() {
        let clock = Clock::test(utc("2026-12-01T10:00:00Z"));
        let clone = clock.clone();
        assert_eq!(clock.now(), utc("2026-12-01T10:00:00Z"));
        tokio::time::sleep(std::time::Duration::from_secs(90)).await;
        assert_eq!(clone.now(), utc("2026-12-01T10:01:30Z"));
        clock.set(utc("2026-12-01T09:00:00Z"));
        assert_eq!(clone.now_millis(), utc("2026-12-01T09:00:00Z").timestamp_millis());
    }

    #[tokio::test(start_paused = true)]
    async fn a_fixed_clock_stands_still_until_set() {
        let clock = Clock::fixed(utc("2026-12-01T10:00:00Z"));
        tokio::time::sleep(std::time::Duration::from_secs(90)).await;
        assert_eq!(clock.now(), utc("2026-12-01T10:00:00Z"));
        clock.set(utc("2026-12-01T11:00:00Z"));
        assert_eq!(clock.now(), utc("2026-12-01T11:00:00Z"));
    }

    #[test]
    fn the_system_clock_is_the_system_time_and_cannot_be_set() {
        let clock = Clock::system();
        clock.set(utc("2000-01-01T00:00:00Z"));
        assert!((clock.now() - Utc::now()).num_seconds().abs() < 5);
    }
}
