//! What a source yields: [`SourceRow`] (a row with its origin row number and link), or a
//! [`RowError`] for a row it could not read; [`SourceRows`] them one at a time after the
//! header, as every source opens; [`SourceData`] all of them at once.

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

/// A source opened for reading: its header, then its rows one at a time. A source whose own
/// consistency check fails (a file written while it was read) ends its rows with
/// [`SourceError::Changed`](super::error::SourceError::Changed).
pub struct SourceRows {
    pub header: Vec<String>,
    rows: Box<dyn Iterator<Item = Result<SourceItem, super::error::SourceError>> + Send>,
}

impl SourceRows {
    pub fn new(
        header: Vec<String>,
        rows: impl Iterator<Item = Result<SourceItem, super::error::SourceError>> + Send + 'static,
    ) -> SourceRows {
        SourceRows { header, rows: Box::new(rows) }
    }
}

impl Iterator for SourceRows {
    type Item = Result<SourceItem, super::error::SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.rows.next()
    }
}
