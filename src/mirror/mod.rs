//! The SQLite mirror (the only code that touches SQLite): per externalId the OpenPhone id,
//! the last confirmed state with its item ids, and whether a write is in flight
//! (`store`); the history of runs (`runs`); every applied change and the records that
//! keep failing ([`history`], its types in `entries`); missing rows and tombstones (`deletes`); the workspace's
//! custom fields as last seen; the run lock ([`lock`]); and whether this user could write
//! the mirror at all ([`writable`]).
//!
//! This file only declares and re-exports: every child names the sibling it uses.

mod deletes;
mod entries;
pub mod error;
mod files;
pub mod history;
mod holder;
pub mod lock;
pub mod mark;
pub mod migrate;
#[cfg(test)]
mod migrate_tests;
mod rows;
mod runs;
mod store;
mod timestamp;
pub mod writable;

pub use error::MirrorError;
pub use holder::{Holder, Role};
pub use lock::RunLock;
pub use rows::{DeleteStatus, RunEnd, RunRecord, RunWork, Select, Tombstone, VerifyCounts};
pub use store::{DEFAULT_LOCK_TIMEOUT, Mirror};
pub use timestamp::Timestamp;
