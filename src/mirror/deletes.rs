//! The mirror's side of deferred deletes and tombstones: which records' rows are missing and
//! since when, which contacts `restore` brought back, and the complete state of every
//! contact just before this tool deleted it (kept `[state].keep_deleted_days`).

use rusqlite::{OptionalExtension, params};

use super::error::MirrorError;
use super::rows::{DeleteStatus, Select, Tombstone};
use super::store::Mirror;
use super::timestamp::Timestamp;
use crate::model::PushedState;
use crate::plan::Marks;

/// A `tombstones` row: id, external id, contact id, run, deleted at, contact, pushed.
type TombRow = (i64, String, String, Option<i64>, Timestamp, String, Option<String>);

/// Drops the tombstones whose delete never happened (the contact is still mirrored), asked
/// tombstone by tombstone: `external_id IN (SELECT external_id FROM contacts)` walked every
/// contact of the table (650 MB for a million) in every run.
pub(super) const UNCONFIRMED_TOMBSTONES: &str = "DELETE FROM tombstones WHERE deleted_at IS NULL
   AND EXISTS (SELECT 1 FROM contacts c WHERE c.external_id = tombstones.external_id)";

impl Mirror {
    /// Records the marks a plan decided, in one transaction.
    pub fn apply_marks(&mut self, marks: &Marks, now_ms: i64) -> Result<(), MirrorError> {
        if marks.is_empty() {
            return Ok(());
        }
        let since = Timestamp::from_millis(now_ms);
        self.in_transaction(|tx| {
            let mut miss = tx.prepare_cached(
                "UPDATE contacts SET missing_since = ?2 WHERE external_id = ?1 AND missing_since IS NULL",
            )?;
            for id in &marks.missing {
                miss.execute(params![id, since])?;
            }
            let mut back =
                tx.prepare_cached("UPDATE contacts SET missing_since = NULL, restored = 0 WHERE external_id = ?1")?;
            for id in &marks.returned {
                back.execute([id])?;
            }
            Ok(())
        })
    }

    /// Writes the tombstones of contacts about to be deleted (before any DELETE is sent):
    /// (external id, contact id, the contact as read). They count once confirmed.
    pub fn save_tombstones(
        &mut self,
        run_id: Option<i64>,
        doomed: &[(String, String, serde_json::Value)],
    ) -> Result<(), MirrorError> {
        if doomed.is_empty() {
            return Ok(());
        }
        self.in_transaction(|tx| {
            let mut ins = tx.prepare_cached(
                "INSERT INTO tombstones (external_id, contact_id, run_id, contact, pushed)
                 VALUES (?1, ?2, ?3, ?4, (SELECT pushed FROM contacts WHERE external_id = ?1))",
            )?;
            for (ext, cid, contact) in doomed {
                ins.execute(params![ext, cid, run_id, contact.to_string()])?;
            }
            Ok(())
        })
    }

    /// Records that a record's contact is deleted: its tombstones count, then it leaves the
    /// mirror. No transaction of its own (the caller's holds it with the history entry); a
    /// stop between the two leaves the record mirrored, and the next run finds it gone.
    pub fn confirm_deleted(&mut self, external_id: &str) -> Result<(), MirrorError> {
        let sql = |e| self.sql_err(e);
        self.conn
            .execute(
                "UPDATE tombstones SET deleted_at = ?2 WHERE external_id = ?1 AND deleted_at IS NULL",
                params![external_id, self.now()],
            )
            .map_err(sql)?;
        self.conn.execute("DELETE FROM contacts WHERE external_id = ?1", [external_id]).map(drop).map_err(sql)
    }

    /// Drops tombstones deleted before `before_ms`, and those whose delete never happened.
    /// Returns how many went.
    pub fn purge_tombstones(&mut self, before_ms: i64) -> Result<usize, MirrorError> {
        let before = Timestamp::from_millis(before_ms);
        self.in_transaction(|tx| {
            let old =
                tx.execute("DELETE FROM tombstones WHERE deleted_at IS NOT NULL AND deleted_at < ?1", [before])?;
            // A tombstone written for a delete that then failed: the contact still exists.
            let unconfirmed = tx.execute(UNCONFIRMED_TOMBSTONES, [])?;
            Ok(old + unconfirmed)
        })
    }

    /// The tombstones `select` names: for each record the newest, deleted and not restored.
    pub fn tombstones(&self, select: &Select) -> Result<Vec<Tombstone>, MirrorError> {
        const NEWEST: &str = "SELECT id, external_id, contact_id, run_id, deleted_at, contact, pushed FROM tombstones t
             WHERE deleted_at IS NOT NULL AND restored_at IS NULL
               AND id = (SELECT MAX(id) FROM tombstones u WHERE u.external_id = t.external_id
                         AND u.deleted_at IS NOT NULL AND u.restored_at IS NULL)";
        let read = |r: &rusqlite::Row<'_>| -> rusqlite::Result<TombRow> {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
        };
        // Every tombstone of one run, or deleted since a time: one query, one parameter.
        let all = |condition: &str, param: &dyn rusqlite::ToSql| -> Result<Vec<TombRow>, MirrorError> {
            let sql = format!("{NEWEST} AND {condition} ORDER BY external_id");
            let mut stmt = self.conn.prepare(&sql).map_err(|e| self.sql_err(e))?;
            let rows = stmt.query_map([param], read).and_then(Iterator::collect::<Result<Vec<_>, _>>);
            rows.map_err(|e| self.sql_err(e))
        };
        let rows: Vec<TombRow> = match select {
            Select::Run(run) => all("run_id = ?1", run)?,
            Select::Since(ms) => all("deleted_at >= ?1", &Timestamp::from_millis(*ms))?,
            Select::Ids(ids) => {
                let mut stmt =
                    self.conn.prepare_cached(&format!("{NEWEST} AND external_id = ?1")).map_err(|e| self.sql_err(e))?;
                let mut out = Vec::new();
                for id in ids {
                    if let Some(row) = stmt.query_row([id], read).optional().map_err(|e| self.sql_err(e))? {
                        out.push(row);
                    }
                }
                out
            }
        };
        rows.into_iter()
            .map(|(id, external_id, contact_id, run_id, deleted_at, contact, pushed)| {
                let unreadable = |what: &str, e: serde_json::Error| MirrorError::Schema {
                    path: self.path().to_path_buf(),
                    message: format!("the {what} kept for {external_id:?} is unreadable: {e}"),
                };
                let contact = serde_json::from_str(&contact).map_err(|e| unreadable("deleted contact", e))?;
                let pushed = match pushed {
                    Some(p) => Some(serde_json::from_str(&p).map_err(|e| unreadable("last state", e))?),
                    None => None,
                };
                Ok(Tombstone { id, external_id, contact_id, run_id, deleted_at, contact, pushed })
            })
            .collect()
    }

    /// Links a restored contact: the record is mirrored again (kept while its row is
    /// missing), and its tombstone is spent.
    pub fn link_restored(
        &mut self,
        tombstone: &Tombstone,
        contact_id: &str,
        pushed: &PushedState,
    ) -> Result<(), MirrorError> {
        let json = serde_json::to_string(pushed).expect("a PushedState always serialises");
        let (hash, now) = (pushed.state.hash().to_string(), self.now());
        let ext = tombstone.external_id.as_str();
        // Two statements; the caller runs them in one transaction with the history entry.
        let run = |conn: &rusqlite::Connection| -> rusqlite::Result<()> {
            conn.execute(
                "INSERT INTO contacts (external_id, contact_id, hash, pushed, pending, created_at, updated_at, source_hash, restored)
                 VALUES (?1, ?2, ?3, ?4, NULL, ?5, ?5, NULL, 1)
                 ON CONFLICT(external_id) DO UPDATE SET contact_id = ?2, hash = ?3, pushed = ?4, pending = NULL,
                   updated_at = ?5, source_hash = NULL, missing_since = NULL, restored = 1",
                params![ext, contact_id, hash, json, now],
            )?;
            conn.execute(
                "UPDATE tombstones SET restored_at = ?2 WHERE external_id = ?1 AND restored_at IS NULL",
                params![ext, now],
            )?;
            Ok(())
        };
        run(&self.conn).map_err(|e| self.sql_err(e))
    }

    /// Ends the protection of restored contacts: from the next run on they are missing
    /// again (and deleted once `delete_after` has passed). Returns the ids that were kept
    /// restores; the others are left as they were.
    pub fn forget_restores(&mut self, ids: &[String]) -> Result<Vec<String>, MirrorError> {
        // The caller runs it in one transaction with the history entries.
        let run = |conn: &rusqlite::Connection| -> rusqlite::Result<Vec<String>> {
            let mut stmt = conn.prepare_cached(
                "UPDATE contacts SET restored = 0, missing_since = NULL WHERE external_id = ?1 AND restored = 1",
            )?;
            let mut done = Vec::new();
            for id in ids {
                if stmt.execute([id])? > 0 {
                    done.push(id.clone());
                }
            }
            Ok(done)
        };
        run(&self.conn).map_err(|e| self.sql_err(e))
    }

    /// The deletes to come and the kept restores, for `status` and the metrics.
    pub fn delete_status(&self) -> Result<DeleteStatus, MirrorError> {
        let sql = |e| self.sql_err(e);
        let (pending, oldest): (i64, Option<Timestamp>) = self
            .conn
            .query_row("SELECT COUNT(missing_since), MIN(missing_since) FROM contacts WHERE restored = 0", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(sql)?;
        let mut stmt = self
            .conn
            .prepare("SELECT external_id FROM contacts WHERE restored = 1 ORDER BY external_id")
            .map_err(sql)?;
        let restored_missing =
            stmt.query_map([], |r| r.get(0)).and_then(Iterator::collect::<Result<Vec<String>, _>>).map_err(sql)?;
        let tombstones: i64 = self
            .conn
            .query_row(
                "SELECT COUNT(*) FROM tombstones WHERE deleted_at IS NOT NULL AND restored_at IS NULL",
                [],
                |r| r.get(0),
            )
            .map_err(sql)?;
        Ok(DeleteStatus {
            pending: pending as u64,
            oldest_missing_since: oldest,
            restored_missing,
            tombstones: tombstones as u64,
        })
    }
}
