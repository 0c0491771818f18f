//! The mirror's rows as Rust values: a run ([`RunRecord`]), a deleted contact as it was
//! ([`Tombstone`]), which tombstones to restore ([`Select`]) and the deletes to come
//! ([`DeleteStatus`]). Only data: the files that read and write them name this one.

use serde::Serialize;

use crate::model::PushedState;
use crate::outcome::{Mode, Outcome};
use crate::plan::{Applied, Planned};

/// One row of the `runs` table.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RunRecord {
    pub id: i64,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub mode: Mode,
    /// `None` while it runs, or when it was killed.
    pub outcome: Option<Outcome>,
    pub exit_code: Option<i64>,
    pub source_rows: Option<u64>,
    pub invalid_rows: Option<u64>,
    /// `None` when the run stopped before it had a plan.
    pub planned: Option<Planned>,
    pub applied: Option<Applied>,
    pub failed: Option<u64>,
    pub api_requests: Option<u64>,
    pub duration_ms: Option<u64>,
    pub first_error: Option<String>,
    /// What the run's verify found: contacts read back, edited in the app, deleted there
    /// (`None` when it did not verify).
    pub verify: Option<[i64; 3]>,
    /// How many of `invalid_rows` were invalid in the same way in the run before.
    pub known_invalid_rows: Option<u64>,
}

impl RunRecord {
    /// A run with nothing known yet but its id and mode.
    pub fn new(id: i64, mode: Mode) -> RunRecord {
        RunRecord {
            id,
            started_at: String::new(),
            finished_at: None,
            mode,
            outcome: None,
            exit_code: None,
            source_rows: None,
            invalid_rows: None,
            planned: None,
            applied: None,
            failed: None,
            api_requests: None,
            duration_ms: None,
            first_error: None,
            verify: None,
            known_invalid_rows: None,
        }
    }
}

/// A deleted contact as it was just before the delete.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tombstone {
    pub id: i64,
    pub external_id: String,
    pub contact_id: String,
    pub run_id: Option<i64>,
    pub deleted_at: String,
    /// The contact as read just before the delete (API JSON).
    #[serde(skip)]
    pub contact: serde_json::Value,
    /// The mirror's last confirmed state then, to link the contact again.
    #[serde(skip)]
    pub pushed: Option<PushedState>,
}

/// Which tombstones `restore` takes: the newest of each record, not yet restored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Select {
    /// Those deleted by one run.
    Run(i64),
    /// Those of these records.
    Ids(Vec<String>),
    /// Those deleted at or after this time (Unix milliseconds).
    Since(i64),
}

/// What `status` shows of the deletes to come.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeleteStatus {
    /// Records whose row is missing, waiting for `delete_after`.
    pub pending: u64,
    /// When the first of them is missing since (Unix milliseconds), if any.
    pub oldest_missing_since: Option<i64>,
    /// Contacts `restore` brought back whose row is still missing (kept until `forget`).
    pub restored_missing: Vec<String>,
    /// Tombstones kept for `restore`.
    pub tombstones: u64,
}
