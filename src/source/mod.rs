//! Source adapters. Each opens a table as [`SourceRows`]: the header, then the rows one at a
//! time with their origin row numbers (a file's line, a sheet's row), and the rows it could not
//! read (per-row errors). [`read`] collects them all, for `check`.
//!
//! This module only declares and re-exports.

pub mod csv;
pub mod error;
pub mod google_sheets;
pub mod open;
pub mod row;
pub mod stable;

pub use error::{EncodingProblem, SourceError};
pub use open::{SourceRows, open, read};
pub use row::{RowError, SourceData, SourceItem, SourceRow};
