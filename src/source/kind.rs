//! [`Source`]: what every kind of source implements (CSV, Google Sheets, ...), so that the
//! engine, `check` and the daemon read them all one way.
//!
//! A source promises:
//! - **rows a user can find**: each [`SourceRow`](super::row::SourceRow) carries the number
//!   the user looks it up by (a CSV's line, a sheet's row as the spreadsheet shows it), and a
//!   row it cannot read is a [`RowError`](super::row::RowError) at that number, not the end
//!   of the source: the other rows still sync;
//! - **typed cells, written one way**: a typed source (a sheet, a workbook) turns each cell
//!   into text through [`Cell`](super::cell::Cell), so a date is `2024-05-31` and a number
//!   keeps every digit whatever the source, and the mapping reads them alike;
//! - **its own consistency check**: rows read from a source caught changing are never
//!   trusted; the rows end with [`SourceError::Changed`] instead (a file: the torn-file guard
//!   of [`stable`](super::stable)), and the run reads the source again or gives up with nothing
//!   written.

use super::error::SourceError;
use super::row::SourceRows;

/// One kind of source, opened from its checked config.
pub trait Source {
    /// Opens the source: its header now, its rows as they are iterated. `columns` are the
    /// mapped columns (a CSV without `header_row` looks for the line that holds them all).
    fn open(&self, columns: &[String]) -> impl Future<Output = Result<SourceRows, SourceError>> + Send;
}
