//! What the mirror knows of each contact, as the plan reads it ([`MirrorIndex`]), and the
//! missing marks a plan decides ([`Marks`]). The mirror builds and stores these; the plan
//! only reads them, so it needs no database.

use crate::model::Digest;

use super::action::Action;

/// A write that was sent and not yet confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pending {
    Create,
    Update,
}

impl Pending {
    /// The action whose write is pending: its word is what the mirror stores.
    pub fn action(self) -> Action {
        match self {
            Pending::Create => Action::Create,
            Pending::Update => Action::Update,
        }
    }

    /// The pending write the mirror stored as `word`.
    pub fn parse(word: &str) -> Option<Pending> {
        match Action::parse(word)? {
            Action::Create => Some(Pending::Create),
            Action::Update => Some(Pending::Update),
            Action::Delete => None,
        }
    }
}

/// What the planner needs to know about one mirrored contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    pub contact_id: Option<String>,
    pub hash: Option<Digest>,
    pub pending: Option<Pending>,
    /// The digest of the source row last confirmed (see `Mapper::source_hash`).
    pub source_hash: Option<Digest>,
    pub presence: Presence,
}

/// Whether a mirrored contact's source row is there, as the mirror last knew it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Presence {
    /// Its row was there at the last run.
    #[default]
    Present,
    /// Its row was first seen missing at this time (Unix milliseconds): deleted once
    /// `delete_after` has passed, unless it comes back.
    MissingSince(i64),
    /// Brought back by `restore` while its row is missing: not deleted again until the row
    /// comes back or `forget` names it.
    Restored,
}

/// Every mirrored contact by externalId. An `IndexMap`: its entries lie in one vector of
/// exactly their number, and the hash table holds only their positions, where a `HashMap`
/// of a million contacts is a table of two million entries (half empty) of 88 bytes
/// (docs/performance.md). Iteration follows the mirror's order.
pub type MirrorIndex = crate::model::IdMap<IndexEntry>;

/// Changes to the missing marks that a run's plan decided.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Marks {
    /// Records whose row was first seen missing in this run: marked missing since now.
    pub missing: Vec<String>,
    /// Records whose row is back: no longer missing, no longer a kept restore.
    pub returned: Vec<String>,
}

impl Marks {
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.returned.is_empty()
    }
}
