//! Source adapters. Each opens a table as [`SourceRows`]: the header, then the rows one at a
//! time with their origin row numbers (a file's line, a sheet's row), and the rows it could not
//! read (per-row errors). [`read`] collects them all, for `check`.

pub mod csv;
pub mod google_sheets;
pub mod stable;

use thiserror::Error;

use crate::config::SourceConfig;
use google_sheets::SheetsError;

/// One data row, with the 1-based row number where it starts in its source
/// (the header is row 1 of a CSV file; a sheet's rows keep their numbers in the sheet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRow {
    pub row: u64,
    pub cells: Vec<String>,
    /// A link to the row in its source, when the source can be linked (the contact's `sourceUrl`).
    pub link: Option<String>,
}

/// What a source yields for each row: the row, or why it could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceItem {
    Row(SourceRow),
    Bad(RowError),
}

/// A row that could not be read; the rest of the source still syncs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub row: u64,
    /// The record's external id, when it could still be read.
    pub external_id: Option<String>,
    pub message: String,
}

/// Everything a source returned.
#[derive(Debug, Clone, Default)]
pub struct SourceData {
    pub header: Vec<String>,
    pub rows: Vec<SourceRow>,
    pub errors: Vec<RowError>,
}

impl SourceData {
    /// Data rows seen, read or not.
    pub fn total_rows(&self) -> usize {
        self.rows.len() + self.errors.len()
    }
}

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
    /// A Google Sheet could not be read; [`SheetsError::is_config`] tells whose fault it is.
    #[error("{origin}: {error}")]
    Sheets { origin: String, error: SheetsError },
}

impl SourceError {
    /// Whether the user's config, mapping or key file must change (exit 2), rather than the
    /// source being unreadable for now (exit 4).
    pub fn is_config(&self) -> bool {
        match self {
            SourceError::NoHeader { .. }
            | SourceError::DuplicateColumn { .. }
            | SourceError::Encoding { .. }
            | SourceError::UnclosedQuote { .. } => true,
            SourceError::Unreadable { .. } | SourceError::Changed { .. } => false,
            SourceError::Sheets { error, .. } => error.is_config(),
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
    /// A UTF-16 byte order mark (Excel's "Unicode Text").
    #[error(
        "the file is UTF-16 (Excel's \"Unicode Text\"), not UTF-8: set [source] encoding = \"auto\" (Excel's Unicode Text is also tab-delimited: delimiter = \"tab\"), or save the file as UTF-8 (in Excel: Save As, \"CSV UTF-8 (Comma delimited)\")"
    )]
    Utf16,
    /// NUL bytes in the header: UTF-16 without a byte order mark, or not a text file.
    #[error("the header holds NUL bytes (a UTF-16 file, or not a text file): save the file as UTF-8 text")]
    NulInHeader,
}

/// A source opened for reading: its header, then its rows one at a time.
pub struct SourceRows {
    pub header: Vec<String>,
    rows: Box<dyn Iterator<Item = Result<SourceItem, SourceError>> + Send>,
}

impl Iterator for SourceRows {
    type Item = Result<SourceItem, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.rows.next()
    }
}

/// Opens the configured source: reads its header; the rows are read as they are iterated
/// (a sheet arrives in one reply, but its rows are converted one at a time). `columns`:
/// the mapped columns, which a CSV's header is looked for by when `header_row` is unset.
pub async fn open(config: &SourceConfig, columns: &[String]) -> Result<SourceRows, SourceError> {
    match config {
        SourceConfig::Csv { path, delimiter, encoding, header_row } => {
            let header = match header_row {
                Some(line) => csv::HeaderAt::Line(*line),
                None => csv::HeaderAt::Find(columns.to_vec()),
            };
            let options = csv::CsvOptions { delimiter: *delimiter, encoding: *encoding, header };
            // Looked at before the header is read, so that a write during the read shows.
            let guard = stable::Stable::new((), path, path.display().to_string());
            let (rows, guard) = match (csv::open_path(path, &options), guard) {
                (Ok(rows), Ok(guard)) => (rows, guard),
                (Err(e), Ok(mut guard)) => return Err(guard.excuse(e)),
                // The file could not even be looked at: a writer in the middle of replacing it.
                (Err(e), Err(_)) if e.is_config() => {
                    return Err(SourceError::Changed { origin: path.display().to_string(), detail: e.to_string() });
                }
                (Err(e), Err(_)) | (Ok(_), Err(e)) => return Err(e),
            };
            let header = rows.header().to_vec();
            Ok(SourceRows { header, rows: Box::new(guard.wrap(rows)) })
        }
        SourceConfig::GoogleSheets(sheet) => {
            let origin = sheet.describe();
            match google_sheets::open(sheet).await {
                Ok(Some((header, rows))) => Ok(SourceRows { header, rows: Box::new(rows.map(Ok)) }),
                Ok(None) => Err(SourceError::NoHeader { origin }),
                Err(error) => Err(SourceError::Sheets { origin, error }),
            }
        }
    }
}

/// Reads the whole configured source into memory.
pub async fn read(config: &SourceConfig, columns: &[String]) -> Result<SourceData, SourceError> {
    let mut rows = open(config, columns).await?;
    let mut data = SourceData { header: std::mem::take(&mut rows.header), ..SourceData::default() };
    for item in rows {
        match item? {
            SourceItem::Row(r) => data.rows.push(r),
            SourceItem::Bad(e) => data.errors.push(e),
        }
    }
    Ok(data)
}
