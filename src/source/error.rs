//! [`SourceError`]: why a source could not be read at all, and whether that is the user's to
//! fix (exit 2) or the source's for now (exit 4); [`EncodingProblem`] a file not in its encoding.

use thiserror::Error;

use super::google_sheets::error::SheetsError;
use super::postgres::error::PgError;

/// Why a source could not be read at all.
#[derive(Debug, Error)]
pub enum SourceError {
    /// The table has no header row; this is the user's to fix (exit 2).
    #[error("{origin}: no header row: the first row must hold the column names")]
    NoHeader { origin: String },
    /// The header names a column twice, and the mapping uses it (exit 2).
    #[error("{origin}: the header has more than one column named {column:?}")]
    DuplicateColumn { origin: String, column: String },
    /// The file is not in the encoding it is read in (exit 2): it was saved in another one.
    #[error("{origin}:{line}: {problem}")]
    Encoding { origin: String, line: u64, problem: EncodingProblem },
    /// A quoted field is never closed, so the rest of the file would be one cell (exit 2).
    #[error(
        "{origin}:{line}: a quote opened on this line is never closed, so every line after it would be read as one cell: close it (a quote inside a quoted cell is written \"\")"
    )]
    UnclosedQuote { origin: String, line: u64 },
    /// The source could not be opened or read (exit 4).
    #[error("{origin}: cannot read: {message}")]
    Unreadable { origin: String, message: String },
    /// The file changed while it was read, or its last line was still being written: its
    /// rows are not trusted (exit 4; the run reads it again first, a few times).
    #[error(
        "{origin}: not trusted: {detail}; it is being written while the sync reads it. Write exports to a temporary name and rename them into place"
    )]
    Changed { origin: String, detail: String },
    /// The workbook has no sheet by that name or at that position (exit 2).
    #[error("{origin}: no sheet {sheet}: its sheets are {}", sheets.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(", "))]
    NoSuchSheet { origin: String, sheet: String, sheets: Vec<String> },
    /// The file is not a workbook the reader understands, or is damaged (exit 2).
    #[error("{origin}: not a readable workbook: {message}")]
    BadWorkbook { origin: String, message: String },
    /// A mapped column is not a vCard property selector (exit 2).
    #[error("{origin}: the mapping's column {column:?} is not a vCard property: {why}")]
    BadColumn { origin: String, column: String, why: String },
    /// A Google Sheet could not be read; [`SheetsError::is_config`] tells whose fault it is.
    #[error("{origin}: {error}")]
    Sheets { origin: String, error: SheetsError },
    /// A PostgreSQL query could not be read; [`PgError::is_config`] tells whose fault it is.
    #[error("{origin}: {error}")]
    Postgres { origin: String, error: PgError },
}

impl SourceError {
    /// Whether the user's config, mapping or key file must change (exit 2), rather than the
    /// source being unreadable for now (exit 4).
    pub fn is_config(&self) -> bool {
        match self {
            SourceError::NoHeader { .. }
            | SourceError::DuplicateColumn { .. }
            | SourceError::Encoding { .. }
            | SourceError::UnclosedQuote { .. }
            | SourceError::NoSuchSheet { .. }
            | SourceError::BadWorkbook { .. }
            | SourceError::BadColumn { .. } => true,
            SourceError::Unreadable { .. } | SourceError::Changed { .. } => false,
            SourceError::Sheets { error, .. } => error.is_config(),
            SourceError::Postgres { error, .. } => error.is_config(),
        }
    }
}

/// Why a file is not text in its encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum EncodingProblem {
    /// Bytes that are not UTF-8 (`[source] encoding` unset): `guess` is the encoding
    /// `chardetng` finds in the file (its WHATWG name, e.g. `windows-1251`).
    #[error(
        "field {field} is not UTF-8: the file looks like {guess}: set [source] encoding = \"{guess}\" (or \"auto\"), or save the file as UTF-8 (in Excel: Save As, \"CSV UTF-8 (Comma delimited)\")"
    )]
    NotUtf8 { field: usize, guess: &'static str },
    /// The same with `encoding = "auto"` set: the start of the file is UTF-8, so "auto" read
    /// it as UTF-8, and a later line is not.
    #[error(
        "field {field} is not UTF-8, although the start of the file is (encoding = \"auto\" read the file as UTF-8): the file mixes encodings; this line looks like {guess}: set [source] encoding = \"{guess}\" if the whole file is, or save the file as UTF-8 (in Excel: Save As, \"CSV UTF-8 (Comma delimited)\")"
    )]
    NotUtf8Auto { field: usize, guess: &'static str },
    /// A UTF-16 byte order mark (Excel's "Unicode Text").
    #[error(
        "the file is UTF-16 (Excel's \"Unicode Text\"), not UTF-8: set [source] encoding = \"auto\" (Excel's Unicode Text is also tab-delimited: delimiter = \"tab\"), or save the file as UTF-8 (in Excel: Save As, \"CSV UTF-8 (Comma delimited)\")"
    )]
    Utf16,
    /// NUL bytes in the header: UTF-16 without a byte order mark, or not a text file.
    #[error("the header holds NUL bytes (a UTF-16 file, or not a text file): save the file as UTF-8 text")]
    NulInHeader,
}
