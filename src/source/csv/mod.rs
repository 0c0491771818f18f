//! The CSV source: a header row, then one record per row. UTF-8 with or without a BOM, or
//! the encoding `[source] encoding` names (or the one a byte order mark or `chardetng`
//! finds, with `"auto"`), transcoded to UTF-8 as it is read (`encoding_rs`);
//! CRLF or LF, quoted fields (commas, quotes, newlines inside), Excel's `sep=;` first line
//! (it sets the delimiter). The header is the first line, the line `header_row` names, or
//! the first line (of the first [`HEADER_SEARCH`]) that holds every mapped column, so notes
//! above it are skipped. A file not in its encoding (Windows-1252 read as UTF-8, UTF-16) is
//! a file-level error that names the encoding the file looks like; a ragged row or a NUL
//! byte is a per-row error; blank rows are skipped, and so are empty cells past the
//! header's last named column.
//!
//! This module only declares and re-exports: [`rows`] the reader, [`options`] how to read,
//! [`lines`] the line numbers, [`transcode`] the bytes before the parser, [`source`] the file
//! as a [`Source`](crate::source::kind::Source), behind the torn-file guard.

pub mod lines;
pub mod options;
pub mod rows;
pub mod source;
#[cfg(test)]
mod tests;
pub mod transcode;

pub use lines::line_breaks;
pub use options::{CsvOptions, HEADER_SEARCH, HeaderAt};
pub use rows::{CsvRows, open_path, read, read_path, read_with};
pub use source::CsvSource;
