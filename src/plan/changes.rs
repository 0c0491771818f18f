//! What a plan holds: the creates, updates (each with the fields it changes) and deletes of
//! a run, the deletes still waiting for `delete_after`, and the missing marks to record.

use crate::model::{ContactState, Digest, PushedState};

use super::diff::Diff;
use super::known::Marks;

/// A contact to create (after looking its externalId up, in case it exists).
#[derive(Debug, Clone, PartialEq)]
pub struct Create {
    pub row: u64,
    pub external_id: String,
    pub state: ContactState,
    /// The source row's digest, recorded with the confirmed write.
    pub source_hash: Option<Digest>,
}

/// A mirrored contact whose record changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    pub row: u64,
    pub external_id: String,
    /// The source row's digest, recorded with the confirmed write.
    pub source_hash: Option<Digest>,
    pub contact_id: String,
    pub desired: ContactState,
    /// The last confirmed state, when the mirror has one.
    pub base: Option<PushedState>,
    /// A write to this contact was sent and not confirmed, or its state is unknown:
    /// re-read it from OpenPhone and diff against that before writing.
    pub refresh: bool,
    /// The change against `base` (empty when `refresh` and there is no base).
    pub diff: Diff,
}

/// A mirrored contact whose source row is gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delete {
    pub external_id: String,
    /// `None` when only a create was ever sent: look it up to find out.
    pub contact_id: Option<String>,
}

/// A mirrored contact whose row is missing, not deleted yet: its row has been missing for
/// less than `[sync].delete_after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingDelete {
    pub external_id: String,
    /// When its row was first seen missing (Unix milliseconds).
    pub missing_since: i64,
    /// When it will be deleted if its row is still missing (Unix milliseconds).
    pub due: i64,
}

/// What a run will do, in a stable order: creates and updates by source row, deletes by id,
/// pending deletes by due time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub creates: Vec<Create>,
    pub updates: Vec<Update>,
    /// Records whose row has been missing for `delete_after` or longer.
    pub deletes: Vec<Delete>,
    pub unchanged: usize,
    /// Records whose row is missing, deleted later unless it comes back.
    pub pending_deletes: Vec<PendingDelete>,
    /// Contacts `restore` brought back whose row is still missing: kept until `forget`.
    pub kept_restored: Vec<String>,
    /// The missing marks to record (written only when the plan is applied).
    pub marks: Marks,
}
