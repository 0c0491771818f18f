//! What a source yields: [`SourceRow`] (a row with its origin row number and link), or a
//! [`RowError`] for a row it could not read; [`SourceRows`] them one at a time after the
//! header, as every source opens; [`SourceData`] all of them at once.

/// One data row, with the 1-based row number where it starts in its source
/// (the header is row 1 of a CSV file; a sheet's rows keep their numbers in the sheet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRow {
    pub row: u64,
    pub cells: Cells,
    /// A link to the row in its source, when the source can be linked (the contact's `sourceUrl`).
    pub link: Option<String>,
}

/// A row's cells as text, in one buffer with the end of each cell (a `String` a cell cost a
/// million-row source eleven million allocations, each freed a moment later). A CSV row
/// becomes one as it is parsed, without copying a cell on its own.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Cells(::csv::StringRecord);

impl Cells {
    /// The cell at `index` (0-based), if the row has it.
    pub fn get(&self, index: usize) -> Option<&str> {
        self.0.get(index)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter()
    }

    /// Keeps the first `len` cells.
    pub fn truncate(&mut self, len: usize) {
        self.0.truncate(len);
    }

    /// The cells of a CSV record, or the record back with the index of its first cell that
    /// is not UTF-8.
    pub(super) fn from_csv(record: ::csv::ByteRecord) -> Result<Cells, (::csv::ByteRecord, usize)> {
        ::csv::StringRecord::from_byte_record(record).map(Cells).map_err(|e| {
            let field = e.utf8_error().field();
            (e.into_byte_record(), field)
        })
    }
}

impl<S: AsRef<str>> FromIterator<S> for Cells {
    fn from_iter<I: IntoIterator<Item = S>>(cells: I) -> Cells {
        Cells(cells.into_iter().collect())
    }
}

impl<S: AsRef<str>> From<Vec<S>> for Cells {
    fn from(cells: Vec<S>) -> Cells {
        cells.into_iter().collect()
    }
}

impl std::ops::Index<usize> for Cells {
    type Output = str;

    fn index(&self, index: usize) -> &str {
        &self.0[index]
    }
}

impl<S: AsRef<str>> PartialEq<Vec<S>> for Cells {
    fn eq(&self, other: &Vec<S>) -> bool {
        self.len() == other.len() && self.iter().zip(other).all(|(a, b)| a == b.as_ref())
    }
}

impl std::fmt::Debug for Cells {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
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
