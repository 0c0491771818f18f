//! [`open`]: the configured source opened as [`SourceRows`] through its [`Source`]
//! implementation (one arm per kind); [`read`] all of it at once.

use super::error::SourceError;
use super::kind::Source;
use super::row::{SourceData, SourceItem, SourceRows};
use super::{csv, google_sheets, postgres, vcard, workbook};
use crate::config::source::SourceConfig;

/// Opens the configured source: reads its header; the rows are read as they are iterated.
/// `columns`: the mapped columns, which a CSV's header is looked for by when `header_row` is
/// unset.
pub async fn open(config: &SourceConfig, columns: &[String]) -> Result<SourceRows, SourceError> {
    match config {
        SourceConfig::Csv(c) => csv::CsvSource(c).open(columns).await,
        SourceConfig::GoogleSheets(c) => google_sheets::SheetSource(c).open(columns).await,
        SourceConfig::Workbook(c) => workbook::WorkbookSource(c).open(columns).await,
        SourceConfig::Vcard(c) => vcard::VcardSource(c).open(columns).await,
        SourceConfig::Postgres(c) => postgres::PostgresSource(c).open(columns).await,
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
