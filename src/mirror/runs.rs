//! The `runs` table: one row per apply-mode run, started before its first write and
//! finished however it ends, read back by `status`, the daemon and `history`. Mode,
//! outcome and counts are stored and read through their enums and count types.

use rusqlite::{OptionalExtension, params};

use crate::outcome::{Mode, Outcome};
use crate::plan::{Applied, Planned};

use super::rows::{RunEnd, RunRecord, RunWork, VerifyCounts};

use super::error::MirrorError;
use super::store::Mirror;
use super::timestamp::Timestamp;

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
            .execute("INSERT INTO runs (started_at, mode) VALUES (?1, ?2)", params![self.now(), mode.as_str()])
            .map_err(|e| self.sql_err(e))?;
        self.run = Some(self.conn.last_insert_rowid());
        Ok(self.conn.last_insert_rowid())
    }

    /// Completes run `id`'s record with how it ended.
    pub fn finish_run(&mut self, id: i64, end: &RunEnd) -> Result<(), MirrorError> {
        let work = end.work.as_ref();
        let p = work.map(|w| w.planned);
        let a = work.map(|w| w.applied);
        let v = work.and_then(|w| w.verify);
        self.conn
            .execute(
                "UPDATE runs SET finished_at = ?2, outcome = ?3, exit_code = ?4, source_rows = ?5, invalid_rows = ?6,
                 planned_create = ?7, planned_update = ?8, planned_delete = ?9, planned_unchanged = ?10,
                 applied_create = ?11, applied_update = ?12, applied_delete = ?13, failed = ?14,
                 api_requests = ?15, duration_ms = ?16, first_error = ?17,
                 verify_checked = ?18, verify_drifted = ?19, verify_missing = ?20, known_invalid_rows = ?21
                 WHERE id = ?1",
                params![
                    id,
                    end.finished_at,
                    end.outcome.as_str(),
                    end.exit_code,
                    int(work.map(|w| w.source_rows)),
                    int(work.map(|w| w.invalid_rows)),
                    int(p.map(|p| p.create)),
                    int(p.map(|p| p.update)),
                    int(p.map(|p| p.delete)),
                    int(p.map(|p| p.unchanged)),
                    int(a.map(|a| a.create)),
                    int(a.map(|a| a.update)),
                    int(a.map(|a| a.delete)),
                    int(work.map(|w| w.failed)),
                    int(work.map(|w| w.api_requests)),
                    int(Some(end.duration_ms)),
                    end.first_error,
                    int(v.map(|v| v.checked)),
                    int(v.map(|v| v.drifted)),
                    int(v.map(|v| v.missing)),
                    int(work.and_then(|w| w.known_invalid_rows))
                ],
            )
            .map(drop)
            .map_err(|e| self.sql_err(e))
    }

    /// When the last run that finished its work (`ok` or `partial`) ended.
    pub fn last_success(&self) -> Result<Option<Timestamp>, MirrorError> {
        let sql = format!(
            "SELECT finished_at FROM runs WHERE outcome IN ({}) AND finished_at IS NOT NULL ORDER BY id DESC LIMIT 1",
            finished_outcomes(&[])
        );
        self.conn.query_row(&sql, [], |r| r.get(0)).optional().map_err(|e| self.sql_err(e))
    }

    /// When the last run that verified (and was not cut short by an outage) ended.
    pub fn last_verified(&self) -> Result<Option<Timestamp>, MirrorError> {
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
                let verify = match (n(19)?, n(20)?, n(21)?) {
                    (Some(checked), Some(drifted), Some(missing)) => Some(VerifyCounts { checked, drifted, missing }),
                    _ => None,
                };
                let work = match (n(6)?, n(7)?, planned, applied, n(15)?, n(16)?) {
                    (Some(source_rows), Some(invalid_rows), Some(planned), Some(applied), Some(failed), Some(api)) => {
                        Some(RunWork {
                            source_rows,
                            invalid_rows,
                            known_invalid_rows: n(22)?,
                            planned,
                            applied,
                            failed,
                            api_requests: api,
                            verify,
                        })
                    }
                    _ => None,
                };
                let outcome = r.get::<_, Option<String>>(4)?.as_deref().and_then(Outcome::parse);
                let end = match (r.get::<_, Option<Timestamp>>(2)?, outcome, r.get::<_, Option<i64>>(5)?, n(17)?) {
                    (Some(finished_at), Some(outcome), Some(exit_code), Some(duration_ms)) => {
                        Some(RunEnd { finished_at, outcome, exit_code, duration_ms, first_error: r.get(18)?, work })
                    }
                    _ => None,
                };
                Ok(RunRecord {
                    id: r.get(0)?,
                    started_at: r.get(1)?,
                    mode: r.get::<_, String>(3).map(|m| Mode::parse(&m).unwrap_or(Mode::Apply))?,
                    end,
                })
            })
            .map_err(|e| self.sql_err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.sql_err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DEFAULT_LOCK_TIMEOUT;

    /// A run that has not ended, one that stopped before its report and one that finished
    /// read back as `status --output json` shows them: one flat object, every field present.
    #[test]
    fn runs_read_back_in_the_flat_shape_status_shows() {
        let dir = tempfile::tempdir().unwrap();
        let mut m = Mirror::open(&dir.path().join("m.sqlite3"), DEFAULT_LOCK_TIMEOUT).unwrap();
        let (stopped, finished, running) =
            (m.start_run(Mode::Apply).unwrap(), m.start_run(Mode::Apply).unwrap(), m.start_run(Mode::Apply).unwrap());
        let end = |outcome, work| RunEnd {
            finished_at: Timestamp::from_millis(1_796_119_200_000),
            outcome,
            exit_code: 4,
            duration_ms: 12,
            first_error: Some("the source is unreadable".into()),
            work,
        };
        m.finish_run(stopped, &end(Outcome::Unavailable, None)).unwrap();
        let work = RunWork {
            source_rows: 5,
            invalid_rows: 1,
            known_invalid_rows: Some(0),
            planned: Planned { create: 2, update: 1, delete: 1, unchanged: 1 },
            applied: Applied { create: 2, update: 1, delete: 1 },
            failed: 0,
            api_requests: 6,
            verify: Some(VerifyCounts { checked: 3, drifted: 1, missing: 0 }),
        };
        m.finish_run(finished, &end(Outcome::Partial, Some(work.clone()))).unwrap();
        let runs = m.recent_runs(10).unwrap();
        assert_eq!(runs.iter().map(|r| r.id).collect::<Vec<_>>(), [running, finished, stopped]);
        assert_eq!(runs[0].end, None);
        assert_eq!(runs[1].end.as_ref().and_then(|e| e.work.as_ref()), Some(&work));
        let json = serde_json::to_value(&runs).unwrap();
        let keys = |i: usize| json[i].as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(0), keys(1));
        assert_eq!(keys(0).len(), 16);
        assert!(json[0]["finished_at"].is_null() && json[0]["outcome"].is_null() && json[0]["verify"].is_null());
        assert_eq!(json[1]["verify"], serde_json::json!([3, 1, 0]));
        assert_eq!(json[1]["planned"]["unchanged"], 1);
        assert_eq!(json[2]["outcome"], "unavailable");
        assert_eq!(json[2]["exit_code"], 4);
        assert!(json[2]["source_rows"].is_null() && json[2]["applied"].is_null());
        assert_eq!(json[2]["first_error"], "the source is unreadable");
    }
}
