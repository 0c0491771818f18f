//! [`open`]: the configured source opened as [`SourceRows`] (a header, then rows as they are
//! iterated), a CSV file guarded against being written while it is read, or a Google Sheet;
//! [`read`] all of it at once.

use super::error::SourceError;
use super::row::{SourceData, SourceItem};
use super::{csv, google_sheets, stable};
use crate::config::source::SourceConfig;

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
