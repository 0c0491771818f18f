//! [`CsvSource`]: the CSV file as a [`Source`]: its rows behind the torn-file guard.

use super::options::{CsvOptions, HeaderAt};
use super::rows::open_path;
use crate::config::source::CsvConfig;
use crate::source::error::SourceError;
use crate::source::kind::Source;
use crate::source::row::SourceRows;
use crate::source::stable;

/// A configured CSV file.
pub struct CsvSource<'a>(pub &'a CsvConfig);

impl Source for CsvSource<'_> {
    async fn open(&self, columns: &[String]) -> Result<SourceRows, SourceError> {
        let CsvConfig { path, delimiter, encoding, header_row } = self.0;
        let header = match header_row {
            Some(line) => HeaderAt::Line(*line),
            None => HeaderAt::Find(columns.to_vec()),
        };
        let options = CsvOptions { delimiter: *delimiter, encoding: *encoding, header };
        let (header, rows) = stable::open_file(path, true, || {
            let rows = open_path(path, &options)?;
            Ok((rows.header().to_vec(), rows))
        })?;
        Ok(SourceRows::new(header, rows))
    }
}
