//! [`Schedule`]: when the daemon runs, from `[schedule].cron` (six fields, seconds first)
//! read in `[schedule].timezone` (an IANA name; UTC when unset). Times come out in UTC.
//!
//! In a zone with daylight saving time, a time that falls in the spring-forward gap does
//! not exist that day, so that run is skipped; a time in the fall-back overlap runs once
//! (its first occurrence). UTC, the default, has neither.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// A validated cron schedule in a time zone.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    expr: String,
    cron: cron::Schedule,
    tz: Tz,
}

/// Why a schedule cannot be used: which key, and what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleError {
    Cron(String),
    TimeZone(String),
}

impl Schedule {
    /// Parses `expr` (six fields) in `timezone` (an IANA name such as `Europe/Paris`;
    /// `None` for UTC).
    pub fn parse(expr: &str, timezone: Option<&str>) -> Result<Schedule, ScheduleError> {
        let cron = cron::Schedule::from_str(expr).map_err(|e| {
            // The cron crate's message quotes the expression over several lines with a `^`
            // under the fault; the problem list wants one line.
            let e = e.to_string();
            let e: Vec<&str> =
                e.lines().map(str::trim).filter(|l| !l.is_empty() && !l.trim_matches('^').is_empty()).collect();
            let e = e.join(": ");
            ScheduleError::Cron(format!(
                "not a valid schedule ({e}); six fields are expected: sec min hour day-of-month month \
                 day-of-week, e.g. \"0 */15 * * * *\" (every 15 minutes)"
            ))
        })?;
        let tz = match timezone {
            None => Tz::UTC,
            Some(name) => Tz::from_str(name).map_err(|_| {
                ScheduleError::TimeZone(format!(
                    "unknown time zone {name:?}: use an IANA name such as \"UTC\", \"Europe/Paris\" or \
                     \"America/New_York\""
                ))
            })?,
        };
        Ok(Schedule { expr: expr.to_owned(), cron, tz })
    }

    /// The first scheduled time strictly after `t`, if the schedule has one.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron.after(&t.with_timezone(&self.tz)).next().map(|d| d.with_timezone(&Utc))
    }

    pub fn expr(&self) -> &str {
        &self.expr
    }

    /// The time zone's IANA name (`UTC` by default).
    pub fn timezone(&self) -> &str {
        self.tz.name()
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\" ({})", self.expr, self.tz.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn next_run_is_strictly_after_and_in_utc_by_default() {
        let s = Schedule::parse("0 */15 * * * *", None).unwrap();
        assert_eq!(s.timezone(), "UTC");
        assert_eq!(s.next_after(utc("2025-03-01T10:00:00Z")), Some(utc("2025-03-01T10:15:00Z")));
        assert_eq!(s.next_after(utc("2025-03-01T10:14:59Z")), Some(utc("2025-03-01T10:15:00Z")));
        let every_second = Schedule::parse("* * * * * *", None).unwrap();
        assert_eq!(every_second.next_after(utc("2025-03-01T10:00:00.300Z")), Some(utc("2025-03-01T10:00:01Z")));
    }

    #[test]
    fn a_time_zone_moves_the_wall_clock_and_follows_dst() {
        // 09:00 on weekdays in Paris: 08:00 UTC in winter, 07:00 UTC in summer.
        let s = Schedule::parse("0 0 9 * * Mon-Fri", Some("Europe/Paris")).unwrap();
        assert_eq!(s.next_after(utc("2025-01-06T00:00:00Z")), Some(utc("2025-01-06T08:00:00Z")));
        assert_eq!(s.next_after(utc("2025-07-07T00:00:00Z")), Some(utc("2025-07-07T07:00:00Z")));
        // 02:30 does not exist in Paris on 2025-03-30: that day is skipped.
        let gap = Schedule::parse("0 30 2 * * *", Some("Europe/Paris")).unwrap();
        assert_eq!(gap.next_after(utc("2025-03-29T12:00:00Z")), Some(utc("2025-03-31T00:30:00Z")));
    }

    #[test]
    fn rejects_five_fields_and_unknown_zones() {
        assert!(matches!(Schedule::parse("*/5 * * * *", None), Err(ScheduleError::Cron(_))));
        assert!(matches!(Schedule::parse("0 * * * * *", Some("Mars/Olympus")), Err(ScheduleError::TimeZone(_))));
    }
}
