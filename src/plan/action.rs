//! What a plan does to a record ([`Action`]), the counts of a plan and of what was applied,
//! and [`RecordError`]: one record that was invalid or failed, with its row, external id and
//! API code. The report, the mirror's history and the metrics all use these words.

use serde::{Serialize, Serializer};

/// What happened (or is planned) to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Create,
    Update,
    Delete,
}

impl Action {
    pub const ALL: [Action; 3] = [Action::Create, Action::Update, Action::Delete];

    /// The word stored, shown and serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

impl Serialize for Action {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// How many records a plan creates, updates, deletes and leaves as they are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Planned {
    pub create: u64,
    pub update: u64,
    pub delete: u64,
    pub unchanged: u64,
}

/// How many writes of each action OpenPhone confirmed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Applied {
    pub create: u64,
    pub update: u64,
    pub delete: u64,
}

impl Applied {
    pub fn get(&self, action: Action) -> u64 {
        match action {
            Action::Create => self.create,
            Action::Update => self.update,
            Action::Delete => self.delete,
        }
    }

    pub fn add(&mut self, action: Action) {
        match action {
            Action::Create => self.create += 1,
            Action::Update => self.update += 1,
            Action::Delete => self.delete += 1,
        }
    }
}

/// One record that was invalid or failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordError {
    pub row: Option<u64>,
    pub external_id: Option<String>,
    pub action: Option<Action>,
    pub message: String,
    /// The HTTP status, when OpenPhone answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The API's error code, when it sent one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl RecordError {
    /// A row that could not be read or mapped (or a warning on one), before any request.
    pub fn from_row(e: &crate::source::RowError) -> RecordError {
        RecordError {
            row: Some(e.row),
            external_id: e.external_id.clone(),
            action: None,
            message: e.message.clone(),
            status: None,
            code: None,
        }
    }
}
