//! The `runs` table: one row per apply-mode run, started before its first write and
//! finished however it ends, read back by `status`, the daemon and `history`. Mode,
//! outcome and counts are stored and read through their enums and count types.

use rusqlite::{OptionalExtension, params};

use crate::outcome::{Mode, Outcome};
use crate::plan::{Applied, Planned};

use super::rows::RunRecord;

use super::error::MirrorError;
use super::store::{Mirror, now};

/// The outcomes of the runs that finished their work (`ok`, `partial`), as an SQL list.
fn finished_outcomes(also: &[Outcome]) -> String {
    let words: Vec<String> = Outcome::ALL
        .into_iter()
        .filter(|o| o.finished() || also.contains(o))
        .map(|o| format!("'{}'", o.as_str()))
        .collect();
    words.join(", ")
}

/// SQLite stores integers as i64; counts are never negative.
fn count(v: Option<i64>) -> Option<u64> {
    v.map(|n| n.max(0) as u64)
}

fn int(v: Option<u64>) -> Option<i64> {
    v.map(|n| i64::try_from(n).unwrap_or(i64::MAX))
}

impl Mirror {
    /// Starts a run record; returns its id.
    pub fn start_run(&mut self, mode: Mode) -> Result<i64, MirrorError> {
        self.conn
            .execute("INSERT INTO runs (started_at, mode) VALUES (?1, ?2)", params![now(), mode.as_str()])
            .map_err(|e| self.sql_err(e))?;
        self.run = Some(self.conn.last_insert_rowid());
        Ok(self.conn.last_insert_rowid())
    }

    /// Completes a run record.
    pub fn finish_run(&mut self, run: &RunRecord) -> Result<(), MirrorError> {
        let p = run.planned;
        let a = run.applied;
        self.conn
            .execute(
                "UPDATE runs SET finished_at = ?2, outcome = ?3, exit_code = ?4, source_rows = ?5, invalid_rows = ?6,
                 planned_create = ?7, planned_update = ?8, planned_delete = ?9, planned_unchanged = ?10,
                 applied_create = ?11, applied_update = ?12, applied_delete = ?13, failed = ?14,
                 api_requests = ?15, duration_ms = ?16, first_error = ?17,
                 verify_checked = ?18, verify_drifted = ?19, verify_missing = ?20, known_invalid_rows = ?21
                 WHERE id = ?1",
                params![
                    run.id,
                    now(),
                    run.outcome.map(Outcome::as_str),
                    run.exit_code,
                    int(run.source_rows),
                    int(run.invalid_rows),
                    int(p.map(|p| p.create)),
                    int(p.map(|p| p.update)),
                    int(p.map(|p| p.delete)),
                    int(p.map(|p| p.unchanged)),
                    int(a.map(|a| a.create)),
                    int(a.map(|a| a.update)),
                    int(a.map(|a| a.delete)),
                    int(run.failed),
                    int(run.api_requests),
                    int(run.duration_ms),
                    run.first_error,
                    run.verify.map(|v| v[0]),
                    run.verify.map(|v| v[1]),
                    run.verify.map(|v| v[2]),
                    int(run.known_invalid_rows)
                ],
            )
            .map(drop)
            .map_err(|e| self.sql_err(e))
    }

    /// When the last run that finished its work (`ok` or `partial`) ended, RFC 3339.
    pub fn last_success(&self) -> Result<Option<String>, MirrorError> {
        let sql = format!(
            "SELECT finished_at FROM runs WHERE outcome IN ({}) AND finished_at IS NOT NULL ORDER BY id DESC LIMIT 1",
            finished_outcomes(&[])
        );
        self.conn.query_row(&sql, [], |r| r.get(0)).optional().map_err(|e| self.sql_err(e))
    }

    /// When the last run that verified (and was not cut short by an outage) ended, RFC 3339.
    pub fn last_verified(&self) -> Result<Option<String>, MirrorError> {
        let sql = format!(
            "SELECT finished_at FROM runs WHERE verify_checked IS NOT NULL AND finished_at IS NOT NULL
             AND outcome IN ({}) ORDER BY id DESC LIMIT 1",
            finished_outcomes(&[Outcome::Stopped])
        );
        self.conn.query_row(&sql, [], |r| r.get(0)).optional().map_err(|e| self.sql_err(e))
    }

    /// The latest runs, newest first.
    pub fn recent_runs(&self, limit: usize) -> Result<Vec<RunRecord>, MirrorError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, started_at, finished_at, mode, outcome, exit_code, source_rows, invalid_rows,
                 planned_create, planned_update, planned_delete, planned_unchanged,
                 applied_create, applied_update, applied_delete, failed, api_requests, duration_ms, first_error,
                 verify_checked, verify_drifted, verify_missing, known_invalid_rows
                 FROM runs ORDER BY id DESC LIMIT ?1",
            )
            .map_err(|e| self.sql_err(e))?;
        let rows = stmt
            .query_map([limit as i64], |r| {
                let n = |i: usize| r.get::<_, Option<i64>>(i).map(count);
                let planned = match (n(8)?, n(9)?, n(10)?, n(11)?) {
                    (Some(create), Some(update), Some(delete), Some(unchanged)) => {
                        Some(Planned { create, update, delete, unchanged })
                    }
                    _ => None,
                };
                let applied = match (n(12)?, n(13)?, n(14)?) {
                    (Some(create), Some(update), Some(delete)) => Some(Applied { create, update, delete }),
                    _ => None,
                };
                Ok(RunRecord {
                    id: r.get(0)?,
                    started_at: r.get(1)?,
                    finished_at: r.get(2)?,
                    mode: r.get::<_, String>(3).map(|m| Mode::parse(&m).unwrap_or(Mode::Apply))?,
                    outcome: r.get::<_, Option<String>>(4)?.as_deref().and_then(Outcome::parse),
                    exit_code: r.get(5)?,
                    source_rows: n(6)?,
                    invalid_rows: n(7)?,
                    planned,
                    applied,
                    failed: n(15)?,
                    api_requests: n(16)?,
                    duration_ms: n(17)?,
                    first_error: r.get(18)?,
                    verify: match (r.get(19)?, r.get(20)?, r.get(21)?) {
                        (Some(c), Some(d), Some(m)) => Some([c, d, m]),
                        _ => None,
                    },
                    known_invalid_rows: n(22)?,
                })
            })
            .map_err(|e| self.sql_err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.sql_err(e))
    }
}
