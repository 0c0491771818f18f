//! The mirror's rows as Rust values: a run ([`RunRecord`]), a deleted contact as it was
//! ([`Tombstone`]), which tombstones to restore ([`Select`]) and the deletes to come
//! ([`DeleteStatus`]). Only data: the files that read and write them name this one.

use serde::Serialize;

use super::timestamp::Timestamp;
use crate::model::PushedState;
use crate::outcome::{Mode, Outcome};
use crate::plan::{Applied, Planned};

/// One row of the `runs` table.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    pub id: i64,
    pub started_at: Timestamp,
    pub mode: Mode,
    /// How it ended: `None` while it runs, or when it was killed.
    pub end: Option<RunEnd>,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct RunEnd {
    pub finished_at: Timestamp,
    pub outcome: Outcome,
    pub exit_code: i64,
    pub duration_ms: u64,
    pub first_error: Option<String>,
    /// What it did: `None` when it stopped before it had a report.
    pub work: Option<RunWork>,
}

/// What a run that got as far as a report did.
#[derive(Debug, Clone, PartialEq)]
pub struct RunWork {
    pub source_rows: u64,
    pub invalid_rows: u64,
    /// How many of `invalid_rows` were invalid in the same way in the run before (`None`
    /// for a run recorded before the mirror kept it).
    pub known_invalid_rows: Option<u64>,
    pub planned: Planned,
    pub applied: Applied,
    pub failed: u64,
    pub api_requests: u64,
    /// What the run's verify found (`None` when it did not verify).
    pub verify: Option<VerifyCounts>,
}

/// What a run's verify found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyCounts {
    /// Mirrored contacts read back.
    pub checked: u64,
    /// Of those, edited in the app.
    pub drifted: u64,
    /// Of those, deleted there.
    pub missing: u64,
}

/// `status --output json` shows a run as one flat object, every field present (`null`
/// when the run has not ended or did not get that far), `verify` as
/// `[checked, drifted, missing]`: the shape docs/cli.md gives.
impl Serialize for RunRecord {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let end = self.end.as_ref();
        let work = end.and_then(|e| e.work.as_ref());
        let mut r = s.serialize_struct("RunRecord", 16)?;
        r.serialize_field("id", &self.id)?;
        r.serialize_field("started_at", &self.started_at)?;
        r.serialize_field("finished_at", &end.map(|e| &e.finished_at))?;
        r.serialize_field("mode", &self.mode)?;
        r.serialize_field("outcome", &end.map(|e| e.outcome))?;
        r.serialize_field("exit_code", &end.map(|e| e.exit_code))?;
        r.serialize_field("source_rows", &work.map(|w| w.source_rows))?;
        r.serialize_field("invalid_rows", &work.map(|w| w.invalid_rows))?;
        r.serialize_field("planned", &work.map(|w| w.planned))?;
        r.serialize_field("applied", &work.map(|w| w.applied))?;
        r.serialize_field("failed", &work.map(|w| w.failed))?;
        r.serialize_field("api_requests", &work.map(|w| w.api_requests))?;
        r.serialize_field("duration_ms", &end.map(|e| e.duration_ms))?;
        r.serialize_field("first_error", &end.and_then(|e| e.first_error.as_ref()))?;
        let verify = work.and_then(|w| w.verify).map(|v| [v.checked, v.drifted, v.missing]);
        r.serialize_field("verify", &verify)?;
        r.serialize_field("known_invalid_rows", &work.and_then(|w| w.known_invalid_rows))?;
        r.end()
    }
}

/// A deleted contact as it was just before the delete.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tombstone {
    pub id: i64,
    pub external_id: String,
    pub contact_id: String,
    pub run_id: Option<i64>,
    pub deleted_at: Timestamp,
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
    /// When the first of them is missing since, if any.
    pub oldest_missing_since: Option<Timestamp>,
    /// Contacts `restore` brought back whose row is still missing (kept until `forget`).
    pub restored_missing: Vec<String>,
    /// Tombstones kept for `restore`.
    pub tombstones: u64,
}
