//! What a source yields: [`SourceRow`] (a row with its origin row number and link), or a
//! [`RowError`] for a row it could not read; [`SourceData`] all of them at once.

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
