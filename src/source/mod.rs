//! Source adapters. Each reads a whole table into [`SourceData`]: the header, the rows
//! with their origin row numbers, and the rows it could not read (per-row errors).

pub mod csv;

use thiserror::Error;

use crate::config::SourceConfig;

/// One data row, with the 1-based row number where it starts in its source
/// (the header is row 1 of a CSV file).
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
    /// The source could not be opened or read (exit 4).
    #[error("{origin}: cannot read: {message}")]
    Unreadable { origin: String, message: String },
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

/// Opens the configured source: reads its header; the rows are read as they are iterated.
pub fn open(config: &SourceConfig) -> Result<SourceRows, SourceError> {
    match config {
        SourceConfig::Csv { path, delimiter } => {
            let rows = csv::open_path(path, *delimiter)?;
            Ok(SourceRows { header: rows.header().to_vec(), rows: Box::new(rows) })
        }
    }
}

/// Reads the whole configured source into memory.
pub fn read(config: &SourceConfig) -> Result<SourceData, SourceError> {
    let mut rows = open(config)?;
    let mut data = SourceData { header: std::mem::take(&mut rows.header), ..SourceData::default() };
    for item in rows {
        match item? {
            SourceItem::Row(r) => data.rows.push(r),
            SourceItem::Bad(e) => data.errors.push(e),
        }
    }
    Ok(data)
}
