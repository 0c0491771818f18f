//! The records of a record's story, as the mirror stores and returns them: the [`Event`] a
//! history entry records, the [`HistoryEntry`] itself and a failing record's [`Failure`]. The
//! queries that write and read them are `impl Mirror` in [`super::history`]; the types live
//! apart so that the store, whose methods name them, does not import the module that
//! imports the store.

use serde::Serialize;

use super::timestamp::Timestamp;
use crate::plan::FieldChange;
use crate::plan::{Action, RecordError};

/// What a history entry records happened to a record: derived from what was sent and
/// answered, never from the plan alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A create (POST) OpenPhone confirmed.
    Create,
    /// A PATCH OpenPhone confirmed.
    Update,
    /// A DELETE OpenPhone confirmed.
    Delete,
    /// A create that found the contact of ours already in OpenPhone and linked it (with the
    /// PATCH it took, if any).
    Adopt,
    /// A planned update that found the contact already as wanted: nothing was sent.
    AlreadyInSync,
    /// A planned delete that found the contact gone already (deleted in the app, or by a
    /// run killed after its DELETE): nothing was sent.
    AlreadyGone,
    /// `restore` created the contact again (or linked the one it found).
    Restore,
    /// `forget` ended the protection of a restored contact.
    Forget,
}

impl Event {
    pub const ALL: [Event; 8] = [
        Event::Create,
        Event::Update,
        Event::Delete,
        Event::Adopt,
        Event::AlreadyInSync,
        Event::AlreadyGone,
        Event::Restore,
        Event::Forget,
    ];

    /// The word stored, shown and serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Create => "create",
            Event::Update => "update",
            Event::Delete => "delete",
            Event::Adopt => "adopt",
            Event::AlreadyInSync => "already_in_sync",
            Event::AlreadyGone => "already_gone",
            Event::Restore => "restore",
            Event::Forget => "forget",
        }
    }

    pub fn parse(s: &str) -> Option<Event> {
        Event::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

impl Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One applied change, as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEntry {
    pub run_id: Option<i64>,
    pub at: Timestamp,
    pub external_id: String,
    pub action: Event,
    /// The source row the record came from at the time; `None` for a delete.
    pub row: Option<u64>,
    pub contact_id: Option<String>,
    /// Every field and item the write set or cleared, before (as the contact held it) →
    /// after (as sent and confirmed); empty when nothing was sent.
    pub changes: Vec<FieldChange>,
}

/// A record that failed, and keeps failing until it syncs or its row goes away.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The external id, or `row N` for a row without one.
    pub key: String,
    pub external_id: Option<String>,
    /// The source row of the last failure (`None` for a delete).
    pub row: Option<u64>,
    /// The write that failed; `None` for a row that could not be read or mapped.
    pub action: Option<Action>,
    pub first_failed: Timestamp,
    pub last_failed: Timestamp,
    /// Runs in which it failed.
    pub attempts: u64,
    pub last_error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// How a failing record is known from run to run: its external id, else its row.
pub fn failure_key(e: &RecordError) -> String {
    match (&e.external_id, e.row) {
        (Some(id), _) => id.clone(),
        (None, Some(row)) => format!("row {row}"),
        (None, None) => "(unknown)".to_owned(),
    }
}
