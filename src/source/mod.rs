//! Source adapters, each implementing [`Source`] (`kind.rs`: rows a user can find, typed
//! cells written one way by `cell.rs`, the source's own consistency check). Each opens a
//! table as [`SourceRows`]: the header, then the rows one at a time with their origin row
//! numbers (a file's line, a sheet's row), and the rows it could not read (per-row errors).
//! [`read`] collects them all, for `check`.
//!
//! This module only declares and re-exports.

pub mod cell;
pub mod csv;
pub mod error;
pub mod google_sheets;
pub mod kind;
pub mod open;
pub mod postgres;
pub mod row;
pub mod stable;
pub mod vcard;
pub mod workbook;

pub use cell::Cell;
pub use error::{EncodingProblem, SourceError};
pub use kind::Source;
pub use open::{open, read};
pub use row::{Cells, RowError, SourceData, SourceItem, SourceRow, SourceRows};
