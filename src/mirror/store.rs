//! The mirror database itself: [`Mirror`] opened (created private, migrated, checked for
//! damage) for writing or read-only, and what it knows of each contact: the index the plan
//! reads, the last confirmed state, pending writes and their confirmations, the invalid rows
//! of the last run, and the workspace's custom fields as last seen.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, MAIN_DB, OpenFlags, OptionalExtension, params};

use crate::clock::Clock;
use crate::model::{CustomFieldDef, Digest, FieldType, PushedState};
use crate::plan::{IndexEntry, MirrorIndex, Pending, Presence};

use super::error::{self, MirrorError};
use super::timestamp::Timestamp;
use super::{files, mark, migrate};

pub use crate::config::DEFAULT_LOCK_TIMEOUT;

/// An open mirror database.
pub struct Mirror {
    pub(super) conn: Connection,
    path: PathBuf,
    /// The busy timeout: how long a statement waits for another process's lock.
    lock_timeout: Duration,
    /// The run started by [`Mirror::start_run`]: the changes recorded are filed under it.
    pub(super) run: Option<i64>,
    /// Where the times it records come from.
    clock: Clock,
}

const CONFIRM_SQL: &str =
    "INSERT INTO contacts (external_id, contact_id, hash, pushed, pending, created_at, updated_at, source_hash)
     VALUES (?1, ?2, ?3, ?4, NULL, ?5, ?5, ?6)
     ON CONFLICT(external_id) DO UPDATE SET
       contact_id = ?2, hash = ?3, pushed = ?4, pending = NULL, updated_at = ?5, source_hash = ?6";

impl Mirror {
    /// The same mirror, recording times read from `clock` (the system's by default).
    #[must_use]
    pub fn with_clock(mut self, clock: Clock) -> Mirror {
        self.clock = clock;
        self
    }

    /// The clock it records times with.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Now, as the mirror stores times.
    pub(crate) fn now(&self) -> Timestamp {
        self.clock.timestamp()
    }

    /// Opens (creating it with mode 0600 if missing) and migrates the mirror for writing,
    /// waiting up to `lock_timeout` for another process's lock. An existing file is checked
    /// before anything is written to it: one that is read-only, damaged, not a database or
    /// from a newer build is refused and left byte for byte as it was.
    pub fn open(path: &Path, lock_timeout: Duration) -> Result<Mirror, MirrorError> {
        Mirror::opened(path, lock_timeout, false).map(|(m, _)| m)
    }

    /// [`Mirror::open`], with the index of its contacts ([`Mirror::index`]) read while the
    /// integrity check runs: the check reads every page on a second connection, on a thread
    /// of its own, as this one reads the index (a million contacts: about 0.4 s less). The
    /// file is refused as `open` refuses it, and nothing is written before both are done.
    pub fn open_with_index(path: &Path, lock_timeout: Duration) -> Result<(Mirror, MirrorIndex), MirrorError> {
        let (m, index) = Mirror::opened(path, lock_timeout, true)?;
        let index = match index {
            Some(index) => index,
            // Created or migrated just now: read after.
            None => m.index()?,
        };
        Ok((m, index))
    }

    /// Opens the mirror for writing; with `read_index`, and its schema current, reads the
    /// index during the integrity check.
    fn opened(
        path: &Path,
        lock_timeout: Duration,
        read_index: bool,
    ) -> Result<(Mirror, Option<MirrorIndex>), MirrorError> {
        let io_err = |what: String, e: std::io::Error| error::classify_io(path, what, &e);
        mark::check_file(path)?;
        let exists = path.try_exists().map_err(|e| io_err(format!("cannot look for {}", path.display()), e))?;
        if exists {
            files::warn_if_shared(path);
        } else {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| io_err(format!("cannot create {}", dir.display()), e))?;
            }
            create_private(path).map_err(|e| io_err("cannot create it".into(), e))?;
        }
        files::check_companions(path)?;
        let sql = |e: rusqlite::Error| error::classify(path, lock_timeout, e);
        let mut conn =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                .map_err(sql)?;
        conn.busy_timeout(lock_timeout).map_err(sql)?;
        if conn.is_readonly(MAIN_DB).map_err(sql)? {
            return Err(MirrorError::NotWritable {
                path: path.to_path_buf(),
                detail: "the file is read-only for this user".into(),
            });
        }
        // Reads only: a file that is not a database, truncated or locked fails here.
        let version = migrate::version(&conn).map_err(sql)?;
        mark::check_owner(&conn, path, version).map_err(sql)??;
        if version > migrate::SCHEMA_VERSION {
            return Err(MirrorError::Newer { path: path.to_path_buf(), found: version, ours: migrate::SCHEMA_VERSION });
        }
        let mut index = None;
        if version > 0 {
            let (checked, scanned) = if read_index && version == migrate::SCHEMA_VERSION {
                std::thread::scope(|s| {
                    let check = s.spawn(|| {
                        let second = Connection::open_with_flags(
                            path,
                            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                        )
                        .map_err(Integrity::Sql)?;
                        second.busy_timeout(lock_timeout).map_err(Integrity::Sql)?;
                        check_integrity(&second)
                    });
                    let scanned = scan_index(&conn);
                    (check.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)), Some(scanned))
                })
            } else {
                (check_integrity(&conn), None)
            };
            // Damage found by the check is what is reported, whatever the scan met.
            checked.map_err(|e| match e {
                Integrity::Sql(e) => sql(e),
                Integrity::Damaged(detail) => MirrorError::Corrupt { path: path.to_path_buf(), detail },
            })?;
            index = scanned.transpose().map_err(sql)?;
        }
        let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0)).map_err(sql)?;
        let schema_err = |message: String| MirrorError::Schema { path: path.to_path_buf(), message };
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(schema_err(format!("cannot switch to WAL journal mode (got {mode})")));
        }
        conn.pragma_update(None, "synchronous", "FULL").map_err(sql)?;
        migrate::migrate(&mut conn).map_err(|e| match e {
            migrate::MigrateError::Sql(e) => sql(e),
            migrate::MigrateError::Failed(message) => schema_err(message),
        })?;
        mark::mark(&conn).map_err(sql)?;
        Ok((Mirror { conn, path: path.to_path_buf(), lock_timeout, run: None, clock: Clock::system() }, index))
    }

    /// Opens an existing mirror read-only (dry run, status). `Ok(None)` when there is none.
    pub fn open_read_only(path: &Path, lock_timeout: Duration) -> Result<Option<Mirror>, MirrorError> {
        let exists = path
            .try_exists()
            .map_err(|e| error::classify_io(path, format!("cannot look for {}", path.display()), &e))?;
        if !exists {
            return Ok(None);
        }
        mark::check_file(path)?;
        files::warn_if_shared(path);
        files::check_companions(path)?;
        let sql = |e: rusqlite::Error| error::classify(path, lock_timeout, e);
        let conn =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                .map_err(sql)?;
        conn.busy_timeout(lock_timeout).map_err(sql)?;
        let version = migrate::version(&conn).map_err(sql)?;
        mark::check_owner(&conn, path, version).map_err(sql)??;
        if version == 0 {
            // Created but never migrated (a run stopped at once): same as empty.
            return Ok(None);
        }
        if version > migrate::SCHEMA_VERSION {
            return Err(MirrorError::Newer { path: path.to_path_buf(), found: version, ours: migrate::SCHEMA_VERSION });
        }
        if version < migrate::READS_FROM {
            return Err(MirrorError::Schema {
                path: path.to_path_buf(),
                message: format!(
                    "schema version {version}, this build reads {}: run a real sync first",
                    migrate::SCHEMA_VERSION
                ),
            });
        }
        Ok(Some(Mirror { conn, path: path.to_path_buf(), lock_timeout, run: None, clock: Clock::system() }))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(super) fn sql_err(&self, e: rusqlite::Error) -> MirrorError {
        error::classify(&self.path, self.lock_timeout, e)
    }

    /// Runs `f` in one transaction and commits it; any SQLite failure becomes the
    /// [`MirrorError`] a user can act on.
    pub(super) fn in_transaction<T>(
        &mut self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Result<T, MirrorError> {
        let err = |e| error::classify(&self.path, self.lock_timeout, e);
        let tx = self.conn.transaction().map_err(err)?;
        let out = f(&tx).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(out)
    }

    /// Every mirrored contact, for planning.
    pub fn index(&self) -> Result<MirrorIndex, MirrorError> {
        scan_index(&self.conn).map_err(|e| self.sql_err(e))
    }

    /// The last confirmed states of `ids` (those that have one).
    pub fn pushed(&self, ids: &[&str]) -> Result<HashMap<String, PushedState>, MirrorError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT pushed FROM contacts WHERE external_id = ?1 AND pushed IS NOT NULL")
            .map_err(|e| self.sql_err(e))?;
        let mut out = HashMap::with_capacity(ids.len());
        for id in ids {
            let json: Option<String> = stmt.query_row([id], |r| r.get(0)).optional().map_err(|e| self.sql_err(e))?;
            if let Some(json) = json {
                let state: PushedState = serde_json::from_str(&json).map_err(|e| MirrorError::Schema {
                    path: self.path.clone(),
                    message: format!("the stored state of {id:?} is unreadable: {e}"),
                })?;
                out.insert((*id).to_owned(), state);
            }
        }
        Ok(out)
    }

    /// Records, in one transaction, that creates and updates are about to be sent, so a
    /// run killed before their replies re-reads those contacts instead of trusting the mirror.
    /// `stop` is asked every few thousand records: when it says stop, the transaction is
    /// rolled back (nothing is marked) and the answer is `false`.
    pub fn mark_pending(
        &mut self,
        creates: &[&str],
        updates: &[&str],
        stop: &dyn Fn() -> bool,
    ) -> Result<bool, MirrorError> {
        const EVERY: usize = 4096;
        let now = self.now();
        let err = |e| error::classify(&self.path, self.lock_timeout, e);
        let tx = self.conn.transaction().map_err(err)?;
        {
            let mut ins = tx
                .prepare(
                    "INSERT INTO contacts (external_id, pending, created_at, updated_at) VALUES (?1, ?3, ?2, ?2)
                     ON CONFLICT(external_id) DO UPDATE SET pending = ?3, updated_at = ?2",
                )
                .map_err(err)?;
            let mut upd =
                tx.prepare("UPDATE contacts SET pending = ?3, updated_at = ?2 WHERE external_id = ?1").map_err(err)?;
            let marks =
                creates.iter().map(|id| (id, Pending::Create)).chain(updates.iter().map(|id| (id, Pending::Update)));
            for (n, (id, pending)) in marks.enumerate() {
                if n % EVERY == 0 && stop() {
                    // Dropping `tx` rolls the marks back.
                    return Ok(false);
                }
                let stmt = if pending == Pending::Create { &mut ins } else { &mut upd };
                stmt.execute(params![id, now, pending.action().as_str()]).map_err(err)?;
            }
        }
        tx.commit().map_err(err)?;
        Ok(true)
    }

    /// Records a confirmed write: the contact's id, the state now in OpenPhone, and the
    /// digest of the source row it came from.
    pub fn confirm(
        &mut self,
        external_id: &str,
        contact_id: &str,
        pushed: &PushedState,
        source_hash: Option<Digest>,
    ) -> Result<(), MirrorError> {
        let json = serde_json::to_string(pushed).expect("a PushedState always serialises");
        let now = self.now();
        self.conn
            .prepare_cached(CONFIRM_SQL)
            .and_then(|mut s| {
                let (hash, source) = (pushed.state.hash().to_string(), source_hash.map(|d| d.to_string()));
                s.execute(params![external_id, contact_id, hash, json, now, source])
            })
            .map(drop)
            .map_err(|e| self.sql_err(e))
    }

    /// Records many confirmed contacts in one transaction (bulk import; benchmarks).
    pub fn confirm_many<'a>(
        &mut self,
        rows: impl IntoIterator<Item = (&'a str, &'a str, &'a PushedState, Option<Digest>)>,
    ) -> Result<(), MirrorError> {
        let now = self.now();
        self.in_transaction(|tx| {
            let mut stmt = tx.prepare(CONFIRM_SQL)?;
            for (external_id, contact_id, pushed, source_hash) in rows {
                let json = serde_json::to_string(pushed).expect("a PushedState always serialises");
                let (hash, source) = (pushed.state.hash().to_string(), source_hash.map(|d| d.to_string()));
                stmt.execute(params![external_id, contact_id, hash, json, now, source])?;
            }
            Ok(())
        })
    }

    /// Replaces a contact's confirmed state and keeps its source digest: the same values,
    /// re-read with the item ids OpenPhone holds now.
    pub fn update_pushed(
        &mut self,
        external_id: &str,
        contact_id: &str,
        pushed: &PushedState,
    ) -> Result<(), MirrorError> {
        let json = serde_json::to_string(pushed).expect("a PushedState always serialises");
        let hash = pushed.state.hash().to_string();
        self.conn
            .prepare_cached(
                "UPDATE contacts SET pushed = ?3, hash = ?4, updated_at = ?5 WHERE external_id = ?1 AND contact_id = ?2",
            )
            .and_then(|mut s| s.execute(params![external_id, contact_id, json, hash, self.now()]))
            .map(drop)
            .map_err(|e| self.sql_err(e))
    }

    /// Forgets a contact (deleted, or found not to exist).
    pub fn forget(&mut self, external_id: &str) -> Result<(), MirrorError> {
        self.conn
            .prepare_cached("DELETE FROM contacts WHERE external_id = ?1")
            .and_then(|mut s| s.execute([external_id]))
            .map(drop)
            .map_err(|e| self.sql_err(e))
    }

    /// Drops a pending create that is known not to have been applied (the API refused it).
    pub fn drop_unconfirmed(&mut self, external_id: &str) -> Result<(), MirrorError> {
        self.conn
            .prepare_cached("DELETE FROM contacts WHERE external_id = ?1 AND contact_id IS NULL")
            .and_then(|mut s| s.execute([external_id]))
            .map(drop)
            .map_err(|e| self.sql_err(e))
    }

    /// Undoes, in one transaction, the pending marks of writes that were never sent (the
    /// run stopped before their turn): drops the unconfirmed `creates` (as
    /// [`Mirror::drop_unconfirmed`]) and clears the mark of `updates`, so the next run
    /// trusts the mirror for them instead of re-reading. One transaction: a commit each took
    /// minutes for the million creates of a stopped first run.
    pub fn unmark(&mut self, creates: &[&str], updates: &[&str]) -> Result<(), MirrorError> {
        if creates.is_empty() && updates.is_empty() {
            return Ok(());
        }
        self.in_transaction(|tx| {
            let mut stmt = tx.prepare("DELETE FROM contacts WHERE external_id = ?1 AND contact_id IS NULL")?;
            for id in creates {
                stmt.execute([id])?;
            }
            let mut stmt = tx.prepare("UPDATE contacts SET pending = NULL WHERE external_id = ?1 AND pending = ?2")?;
            for id in updates {
                stmt.execute([id, &Pending::Update.action().as_str()])?;
            }
            Ok(())
        })
    }

    /// (contacts, of which with a write pending).
    pub fn counts(&self) -> Result<(u64, u64), MirrorError> {
        self.conn
            .query_row("SELECT COUNT(*), COUNT(pending) FROM contacts", [], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64))
            })
            .map_err(|e| self.sql_err(e))
    }

    /// The invalid rows the last apply run recorded: (row key, message).
    pub fn known_invalid(&self) -> Result<HashSet<(String, String)>, MirrorError> {
        let mut stmt = self.conn.prepare("SELECT row_key, message FROM invalid_rows").map_err(|e| self.sql_err(e))?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).map_err(|e| self.sql_err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.sql_err(e))
    }

    /// Replaces the recorded invalid rows with this run's.
    pub fn record_invalid(&mut self, rows: &[(String, String)]) -> Result<(), MirrorError> {
        self.in_transaction(|tx| {
            tx.execute("DELETE FROM invalid_rows", [])?;
            for (key, message) in rows {
                tx.execute(
                    "INSERT OR IGNORE INTO invalid_rows (row_key, message) VALUES (?1, ?2)",
                    params![key, message],
                )?;
            }
            Ok(())
        })
    }

    /// Remembers the workspace's custom fields (for offline dry runs).
    pub fn save_fields(&mut self, defs: &[CustomFieldDef]) -> Result<(), MirrorError> {
        let now = self.now();
        self.in_transaction(|tx| {
            tx.execute("DELETE FROM custom_fields", [])?;
            for d in defs {
                tx.execute(
                    "INSERT OR REPLACE INTO custom_fields (key, name, type, fetched_at) VALUES (?1, ?2, ?3, ?4)",
                    params![d.key, d.name, d.field_type.as_str(), now],
                )?;
            }
            Ok(())
        })
    }

    /// The custom fields as last fetched, if ever.
    pub fn cached_fields(&self) -> Result<Option<Vec<CustomFieldDef>>, MirrorError> {
        let mut stmt = self
            .conn
            .prepare("SELECT name, key, type FROM custom_fields ORDER BY name")
            .map_err(|e| self.sql_err(e))?;
        let defs: Vec<CustomFieldDef> = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))
            .map_err(|e| self.sql_err(e))?
            .filter_map(std::result::Result::ok)
            .filter_map(|(name, key, ty)| {
                FieldType::parse(&ty).map(|field_type| CustomFieldDef { name, key, field_type })
            })
            .collect();
        Ok((!defs.is_empty()).then_some(defs))
    }
}

/// Every mirrored contact, for planning (what [`Mirror::index`] returns).
fn scan_index(conn: &Connection) -> rusqlite::Result<MirrorIndex> {
    // Made as big as it will be at once: growing it copies the table, and for a moment
    // holds the old and the new (a third more memory at the peak).
    let count: i64 = conn.query_row("SELECT COUNT(*) FROM contacts", [], |r| r.get(0))?;
    let mut index = crate::model::id_map(usize::try_from(count).unwrap_or(0));
    let mut stmt = conn.prepare(INDEX_SCAN)?;
    let rows = stmt.query_map([], |r| {
        // Read in place (no `String` a column): a million rows made four million
        // allocations here, each freed at once.
        let text = |i: usize| {
            let v = r.get_ref(i)?;
            v.as_str_or_null().map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, v.data_type(), Box::new(e)))
        };
        Ok((
            r.get::<_, String>(0)?,
            IndexEntry {
                contact_id: r.get(1)?,
                hash: text(2)?.and_then(Digest::parse),
                pending: text(3)?.and_then(Pending::parse),
                source_hash: text(4)?.and_then(Digest::parse),
                presence: match (r.get::<_, bool>(6)?, r.get::<_, Option<Timestamp>>(5)?) {
                    (true, _) => Presence::Restored,
                    // The epoch is what an unreadable time became (migration 0009):
                    // present, marked again.
                    (false, Some(since)) if since.millis() != 0 => Presence::MissingSince(since.millis()),
                    (false, _) => Presence::Present,
                },
            },
        ))
    })?;
    for row in rows {
        let (id, entry) = row?;
        index.insert(id, entry);
    }
    Ok(index)
}

/// What [`Mirror::index`] reads of every contact: the columns of the `contacts_known` index
/// (migration 0010), so that SQLite reads that index and not the table with its JSON.
pub(super) const INDEX_SCAN: &str =
    "SELECT external_id, contact_id, hash, pending, source_hash, missing_since, restored FROM contacts";

/// Why [`check_integrity`] refused a mirror.
enum Integrity {
    Sql(rusqlite::Error),
    Damaged(String),
}

/// `PRAGMA quick_check`: every page of the file is read and checked (about 0.4 s for a
/// million contacts), so damage is found before the run writes to the file or to OpenPhone.
fn check_integrity(conn: &Connection) -> Result<(), Integrity> {
    let mut stmt = conn.prepare("PRAGMA quick_check(3)").map_err(Integrity::Sql)?;
    let found: Vec<String> =
        stmt.query_map([], |r| r.get(0)).and_then(|rows| rows.collect()).map_err(Integrity::Sql)?;
    match found.as_slice() {
        [ok] if ok == "ok" => Ok(()),
        problems => Err(Integrity::Damaged(format!("integrity check: {}", problems.join("; ")))),
    }
}

/// Creates an empty file readable by its owner only: the mirror holds contact data.
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ContactState;

    #[test]
    fn a_stop_during_the_marking_marks_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut m = Mirror::open(&dir.path().join("m.sqlite3"), DEFAULT_LOCK_TIMEOUT).unwrap();
        let ids: Vec<String> = (0..10_000).map(|i| format!("C-{i}")).collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        // Stops at the second question, with thousands of marks made in the transaction.
        let asked = std::cell::Cell::new(0);
        let stop = || {
            asked.set(asked.get() + 1);
            asked.get() > 1
        };
        assert!(!m.mark_pending(&ids, &[], &stop).unwrap());
        assert_eq!(m.counts().unwrap(), (0, 0), "rolled back");
        assert!(m.mark_pending(&ids, &[], &|| false).unwrap());
        assert_eq!(m.counts().unwrap(), (10_000, 10_000));
    }

    #[test]
    fn a_tombstone_whose_delete_never_happened_is_dropped_by_asking_for_its_contact_only() {
        let dir = tempfile::tempdir().unwrap();
        let mut m = Mirror::open(&dir.path().join("m.sqlite3"), DEFAULT_LOCK_TIMEOUT).unwrap();
        assert!(m.mark_pending(&["kept", "failed"], &[], &|| false).unwrap());
        let doomed: Vec<(String, String, serde_json::Value)> =
            ["kept", "failed"].iter().map(|id| ((*id).to_owned(), format!("c-{id}"), serde_json::json!({}))).collect();
        m.save_tombstones(None, &doomed).unwrap();
        // "kept" was deleted (it leaves the mirror); the DELETE of "failed" never happened.
        m.confirm_deleted("kept").unwrap();
        assert_eq!(m.purge_tombstones(0).unwrap(), 1);
        let left: Vec<String> = m
            .conn
            .prepare("SELECT external_id FROM tombstones")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(left, ["kept"]);
        // Every run purges: contacts are only looked up by key, never walked (a million).
        let plan = super::super::migrate_tests::query_plan(&m.conn, super::super::deletes::UNCONFIRMED_TOMBSTONES);
        let contacts: Vec<&str> = plan.split("; ").filter(|p| p.contains(" c ") || p.contains("contacts")).collect();
        assert_eq!(contacts, ["SEARCH c USING PRIMARY KEY (external_id=?)"], "{plan:?}");
    }

    #[test]
    fn pending_confirm_forget_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.sqlite3");
        let mut m = Mirror::open(&path, DEFAULT_LOCK_TIMEOUT).unwrap();
        assert!(m.mark_pending(&["a", "b"], &[], &|| false).unwrap());
        #[cfg(unix)]
        {
            // The mirror, and the -wal and -shm files SQLite made beside it, are private
            // whatever the umask.
            use std::os::unix::fs::PermissionsExt;
            for name in ["m.sqlite3", "m.sqlite3-wal", "m.sqlite3-shm"] {
                let mode = std::fs::metadata(dir.path().join(name)).unwrap().permissions().mode();
                assert_eq!(mode & 0o777, 0o600, "{name}");
            }
        }
        let idx = m.index().unwrap();
        assert_eq!(
            idx["a"],
            IndexEntry {
                contact_id: None,
                hash: None,
                pending: Some(Pending::Create),
                source_hash: None,
                presence: Presence::Present,
            }
        );
        let pushed = PushedState {
            state: ContactState { first_name: Some("A".into()), ..Default::default() },
            ..Default::default()
        };
        m.confirm("a", "c1", &pushed, Some(Digest::from_u128(7 << 64))).unwrap();
        m.drop_unconfirmed("b").unwrap();
        let idx = m.index().unwrap();
        assert_eq!(idx.len(), 1);
        assert_eq!(idx["a"].contact_id.as_deref(), Some("c1"));
        assert_eq!(idx["a"].hash, Some(pushed.state.hash()));
        assert_eq!(idx["a"].source_hash, Some(Digest::from_u128(7 << 64)));
        assert_eq!(m.pushed(&["a", "zz"]).unwrap()["a"], pushed);
        assert!(m.mark_pending(&[], &["a"], &|| false).unwrap());
        assert_eq!(m.index().unwrap()["a"].pending, Some(Pending::Update));
        m.forget("a").unwrap();
        assert_eq!(m.counts().unwrap(), (0, 0));
        drop(m);
        // Reopening does not migrate twice; read-only sees the same.
        Mirror::open(&path, DEFAULT_LOCK_TIMEOUT).unwrap();
        assert!(Mirror::open_read_only(&path, DEFAULT_LOCK_TIMEOUT).unwrap().is_some());
        assert!(Mirror::open_read_only(&dir.path().join("none"), DEFAULT_LOCK_TIMEOUT).unwrap().is_none());
    }

    #[test]
    fn refuses_garbage_and_newer_schemas() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.sqlite3");
        std::fs::write(
            &junk,
            b"this is not a database at all, not even close.....................................................",
        )
        .unwrap();
        assert!(matches!(Mirror::open(&junk, DEFAULT_LOCK_TIMEOUT), Err(MirrorError::Corrupt { .. })));
        let newer = dir.path().join("newer.sqlite3");
        drop(Mirror::open(&newer, DEFAULT_LOCK_TIMEOUT).unwrap());
        Connection::open(&newer).unwrap().pragma_update(None, "user_version", 99).unwrap();
        let err = Mirror::open(&newer, DEFAULT_LOCK_TIMEOUT).err().unwrap();
        assert!(matches!(err, MirrorError::Newer { found: 99, .. }), "{err}");
        assert!(err.to_string().contains("upgrade openphone-sync"), "{err}");
        let err = Mirror::open_read_only(&newer, DEFAULT_LOCK_TIMEOUT).err().unwrap();
        assert!(matches!(err, MirrorError::Newer { found: 99, .. }), "{err}");
    }
}
