//! Each record's story in the mirror: the `history` table (every change applied to OpenPhone,
//! with its run, time, action, source row and fields before → after, as sent; kept
//! `[state].history_days`) and the `failures` table (records that fail, with when they first
//! and last failed, how often, and why; dropped once they sync or their row goes away).
//! Nothing here holds a credential: only contact values, ids and error messages.

use rusqlite::{OptionalExtension, params};

pub use super::entries::{Event, Failure, HistoryEntry, failure_key};
use super::error::MirrorError;
use super::store::Mirror;
use crate::model::PushedState;
use crate::plan::{Action, FieldChange, RecordError};

type StoredChange = (String, Option<String>, Option<String>);

const HISTORY_COLUMNS: &str = "run_id, at, external_id, action, row, contact_id, changes";

fn history_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<HistoryEntry> {
    let action: String = r.get(3)?;
    let changes: String = r.get(6)?;
    let changes: Vec<StoredChange> = serde_json::from_str(&changes).unwrap_or_default();
    Ok(HistoryEntry {
        run_id: r.get(0)?,
        at: r.get(1)?,
        external_id: r.get(2)?,
        action: Event::parse(&action).unwrap_or(Event::Update),
        row: r.get::<_, Option<i64>>(4)?.map(|n| n as u64),
        contact_id: r.get(5)?,
        changes: changes.into_iter().map(|(field, from, to)| FieldChange { field, from, to }).collect(),
    })
}

fn failure_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Failure> {
    Ok(Failure {
        key: r.get(0)?,
        external_id: r.get(1)?,
        row: r.get::<_, Option<i64>>(2)?.map(|n| n as u64),
        action: r.get::<_, Option<String>>(3)?.as_deref().and_then(Action::parse),
        first_failed: r.get(4)?,
        last_failed: r.get(5)?,
        attempts: r.get::<_, i64>(6)? as u64,
        last_error: r.get(7)?,
        status: r.get::<_, Option<i64>>(8)?.and_then(|s| u16::try_from(s).ok()),
        code: r.get(9)?,
    })
}

const FAILURE_COLUMNS: &str =
    "key, external_id, row, action, first_failed, last_failed, attempts, last_error, status, code";

impl Mirror {
    /// Runs `f` as one SQLite transaction (one sync to disk): a confirmed write and its
    /// history entry land together or not at all.
    pub fn atomically<T>(&mut self, f: impl FnOnce(&mut Mirror) -> Result<T, MirrorError>) -> Result<T, MirrorError> {
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(|e| self.sql_err(e))?;
        match f(self) {
            Ok(v) => {
                if let Err(e) = self.conn.execute_batch("COMMIT") {
                    let _ = self.conn.execute_batch("ROLLBACK");
                    return Err(self.sql_err(e));
                }
                Ok(v)
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Records one applied change under the current run.
    pub fn record_change(
        &mut self,
        external_id: &str,
        action: Event,
        row: Option<u64>,
        contact_id: Option<&str>,
        changes: &[FieldChange],
    ) -> Result<(), MirrorError> {
        let stored: Vec<(&str, &Option<String>, &Option<String>)> =
            changes.iter().map(|c| (c.field.as_str(), &c.from, &c.to)).collect();
        let json = serde_json::to_string(&stored).expect("strings always serialise");
        self.conn
            .prepare_cached(
                "INSERT INTO history (run_id, at, external_id, action, row, contact_id, changes)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    self.run,
                    self.now(),
                    external_id,
                    action.as_str(),
                    row.map(|r| r as i64),
                    contact_id,
                    json
                ])
            })
            .map(drop)
            .map_err(|e| self.sql_err(e))
    }

    /// One record's changes, newest first.
    pub fn history_of(&self, external_id: &str) -> Result<Vec<HistoryEntry>, MirrorError> {
        let sql = format!("SELECT {HISTORY_COLUMNS} FROM history WHERE external_id = ?1 ORDER BY id DESC");
        self.query(&sql, params![external_id], history_row)
    }

    /// One run's changes by source row (deletes, which have none, last, by external id).
    pub fn history_of_run(&self, run_id: i64) -> Result<Vec<HistoryEntry>, MirrorError> {
        let sql = format!(
            "SELECT {HISTORY_COLUMNS} FROM history WHERE run_id = ?1
             ORDER BY row IS NULL, row, external_id, id"
        );
        self.query(&sql, params![run_id], history_row)
    }

    /// The contact id and last confirmed state of a record, before a write replaces them.
    pub fn last_state(&self, external_id: &str) -> Result<(Option<String>, Option<PushedState>), MirrorError> {
        let row: Option<(Option<String>, Option<String>)> = self
            .conn
            .prepare_cached("SELECT contact_id, pushed FROM contacts WHERE external_id = ?1")
            .and_then(|mut s| s.query_row([external_id], |r| Ok((r.get(0)?, r.get(1)?))).optional())
            .map_err(|e| self.sql_err(e))?;
        let Some((contact_id, pushed)) = row else { return Ok((None, None)) };
        Ok((contact_id, pushed.and_then(|json| serde_json::from_str(&json).ok())))
    }

    /// Whether a run with this id was recorded.
    pub fn run_exists(&self, run_id: i64) -> Result<bool, MirrorError> {
        self.conn
            .query_row("SELECT 1 FROM runs WHERE id = ?1", [run_id], |_| Ok(()))
            .optional()
            .map(|r| r.is_some())
            .map_err(|e| self.sql_err(e))
    }

    /// Drops the changes of runs started more than `days` days ago. Returns how many.
    pub fn prune_history(&mut self, days: u32) -> Result<usize, MirrorError> {
        let cutoff = self.now().plus_millis(-i64::from(days) * 86_400_000);
        // Two statements, each through the run_id index: no scan of the whole table.
        self.in_transaction(|tx| {
            let by_run = tx.execute(
                "DELETE FROM history WHERE run_id IN (SELECT id FROM runs WHERE started_at < ?1)",
                [&cutoff],
            )?;
            let outside_runs = tx.execute("DELETE FROM history WHERE run_id IS NULL AND at < ?1", [&cutoff])?;
            Ok(by_run + outside_runs)
        })
    }

    /// Records this run's failures (each once more, or for the first time). When the run
    /// was `complete` (every record was tried), the failures it did not see again are
    /// dropped: they synced, or their row went away.
    pub fn record_failures(&mut self, errors: &[RecordError], complete: bool) -> Result<(), MirrorError> {
        let (now, run) = (self.now(), self.run);
        self.in_transaction(|tx| {
            let mut upsert = tx.prepare(
                "INSERT INTO failures (key, external_id, row, action, first_failed, last_failed, attempts,
                   last_error, status, code, last_run)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5, 1, ?6, ?7, ?8, ?9)
                 ON CONFLICT(key) DO UPDATE SET external_id = ?2, row = ?3, action = ?4, last_failed = ?5,
                   attempts = attempts + (last_run IS NOT ?9), last_error = ?6, status = ?7, code = ?8,
                   last_run = ?9",
            )?;
            for e in errors {
                upsert.execute(params![
                    failure_key(e),
                    e.external_id,
                    e.row.map(|r| r as i64),
                    e.action.map(Action::as_str),
                    now,
                    e.message,
                    e.status,
                    e.code,
                    run
                ])?;
            }
            if complete {
                tx.execute("DELETE FROM failures WHERE last_run IS NOT ?1", [run])?;
            }
            Ok(())
        })
    }

    /// The failing records, oldest first.
    pub fn failures(&self) -> Result<Vec<Failure>, MirrorError> {
        let sql = format!("SELECT {FAILURE_COLUMNS} FROM failures ORDER BY first_failed, key");
        self.query(&sql, [], failure_row)
    }

    /// How many records fail, and the one failing longest.
    pub fn failure_summary(&self) -> Result<(u64, Option<Failure>), MirrorError> {
        let count: i64 =
            self.conn.query_row("SELECT COUNT(*) FROM failures", [], |r| r.get(0)).map_err(|e| self.sql_err(e))?;
        let sql = format!("SELECT {FAILURE_COLUMNS} FROM failures ORDER BY first_failed, key LIMIT 1");
        let oldest = self.query(&sql, [], failure_row)?.into_iter().next();
        Ok((count as u64, oldest))
    }

    fn query<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        f: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, MirrorError> {
        let mut stmt = self.conn.prepare(sql).map_err(|e| self.sql_err(e))?;
        let rows = stmt.query_map(params, f).map_err(|e| self.sql_err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.sql_err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mirror::DEFAULT_LOCK_TIMEOUT;

    fn err(id: Option<&str>, row: Option<u64>, message: &str) -> RecordError {
        RecordError {
            row,
            external_id: id.map(str::to_owned),
            action: id.map(|_| Action::Create),
            message: message.into(),
            status: Some(400),
            code: None,
        }
    }

    #[test]
    fn failures_count_attempts_and_leave_once_a_complete_run_does_not_see_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut m = Mirror::open(&dir.path().join("m.sqlite3"), DEFAULT_LOCK_TIMEOUT).unwrap();
        m.start_run(crate::outcome::Mode::Apply).unwrap();
        m.record_failures(&[err(Some("A"), Some(2), "bad"), err(None, Some(5), "no id")], true).unwrap();
        m.start_run(crate::outcome::Mode::Apply).unwrap();
        // An incomplete run keeps what it did not see.
        m.record_failures(&[err(Some("A"), Some(3), "still bad")], false).unwrap();
        let f = m.failures().unwrap();
        assert_eq!(f.iter().map(|f| f.key.as_str()).collect::<Vec<_>>(), vec!["A", "row 5"]);
        assert_eq!((f[0].attempts, f[0].row, f[0].last_error.as_str()), (2, Some(3), "still bad"));
        m.start_run(crate::outcome::Mode::Apply).unwrap();
        m.record_failures(&[err(Some("A"), Some(3), "still bad")], true).unwrap();
        let (count, oldest) = m.failure_summary().unwrap();
        assert_eq!((count, oldest.map(|f| f.attempts)), (1, Some(3)));
        m.start_run(crate::outcome::Mode::Apply).unwrap();
        m.record_failures(&[], true).unwrap();
        assert_eq!(m.failure_summary().unwrap(), (0, None));
    }

    #[test]
    fn history_is_kept_per_record_and_per_run_and_pruned_by_age() {
        let dir = tempfile::tempdir().unwrap();
        let mut m = Mirror::open(&dir.path().join("m.sqlite3"), DEFAULT_LOCK_TIMEOUT).unwrap();
        let run = m.start_run(crate::outcome::Mode::Apply).unwrap();
        let change = FieldChange { field: "first_name".into(), from: None, to: Some("Ann".into()) };
        m.record_change("A", Event::Create, Some(2), Some("c1"), std::slice::from_ref(&change)).unwrap();
        m.record_change("A", Event::Delete, None, Some("c1"), &[]).unwrap();
        let h = m.history_of("A").unwrap();
        assert_eq!(h.iter().map(|e| e.action).collect::<Vec<_>>(), vec![Event::Delete, Event::Create]);
        assert_eq!(h[1].changes, vec![change]);
        assert_eq!(h[1].run_id, Some(run));
        assert_eq!(m.history_of_run(run).unwrap().len(), 2);
        assert_eq!(m.prune_history(1).unwrap(), 0);
        m.conn.execute("UPDATE runs SET started_at = 946684800000", []).unwrap();
        assert_eq!(m.prune_history(1).unwrap(), 2);
        assert!(m.history_of("A").unwrap().is_empty());
    }
}
