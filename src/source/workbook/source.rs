//! [`WorkbookSource`]: the workbook as a [`Source`]: read whole on a blocking thread (so a
//! large workbook never holds up signal handling or the daemon's schedule), behind the file
//! guard (a workbook saved while it is read is not trusted).

use super::sheet::read;
use crate::config::workbook::WorkbookConfig;
use crate::source::error::SourceError;
use crate::source::kind::Source;
use crate::source::row::SourceRows;
use crate::source::stable;

/// A configured workbook.
pub struct WorkbookSource<'a>(pub &'a WorkbookConfig);

impl Source for WorkbookSource<'_> {
    async fn open(&self, columns: &[String]) -> Result<SourceRows, SourceError> {
        let config = self.0.clone();
        let columns = columns.to_vec();
        let origin = config.path.display().to_string();
        let opened =
            tokio::task::spawn_blocking(move || stable::open_file(&config.path, false, || read(&config, &columns)))
                .await
                .map_err(|e| SourceError::Unreadable { origin, message: e.to_string() })?;
        let (header, rows) = opened?;
        Ok(SourceRows::new(header, rows))
    }
}
