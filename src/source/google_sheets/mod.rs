//! The Google Sheets source: authenticates as a service account, reads the configured range and
//! yields its rows with their sheet row numbers and a link to each row.
//!
//! Requests per read: one token, one `spreadsheets.get` (the tabs and their ids, for links and
//! for naming a missing tab), one `values.get` of the range, and, only when some cells hold
//! numbers, one `values.batchGet` of those columns to tell dates from numbers (see [`cells`]).
//!
//! Memory: the reply body, then its parsed values; rows are converted one at a time as the
//! mapper reads them, each row's JSON freed as it goes.

pub mod api;
pub mod cells;
pub mod error;

use std::time::Instant;

use api::{Api, Tab};
use cells::{Grid, GridRows, ShownColumns};
pub use error::SheetsError;

use crate::config::a1::{self, A1Range};
use crate::config::service_account;
use crate::config::sheets::{LinkMode, SheetsConfig};
use crate::source::error::SourceError;
use crate::source::kind::Source;
use crate::source::row::SourceRows;

/// A configured Google Sheet as a [`Source`]. Its rows come from one reply, so they cannot
/// change while they are read.
pub struct SheetSource<'a>(pub &'a SheetsConfig);

impl Source for SheetSource<'_> {
    async fn open(&self, _columns: &[String]) -> Result<SourceRows, SourceError> {
        let origin = self.0.describe();
        match open(self.0).await {
            Ok(Some((header, rows))) => Ok(SourceRows::new(header, rows.map(Ok))),
            Ok(None) => Err(SourceError::NoHeader { origin }),
            Err(error) => Err(SourceError::Sheets { origin, error }),
        }
    }
}

/// Reads the sheet: its header and its rows (converted as they are iterated).
pub async fn open(config: &SheetsConfig) -> Result<Option<(Vec<String>, GridRows)>, SheetsError> {
    let started = Instant::now();
    let range = &config.range;
    let account = service_account::load(&config.service_account_key)?;
    crate::secret::warn_if_shared(account.path());
    let api = Api::connect(account, config.api_base_url.as_str(), &config.spreadsheet_id).await?;
    let tabs = api.tabs().await?;
    // A tab named with cells must exist (Google may match its name without regard to case); a
    // name alone may also be a named range, which only Google knows.
    let named_tab = range.sheet.as_ref().filter(|_| range.cells.is_some());
    if let Some(tab) = named_tab
        && find_tab(&tabs, tab).is_none()
    {
        return Err(no_such_tab(tab, &tabs));
    }
    let reply = api.values(&config.range_text).await.map_err(|e| match (e, &range.sheet) {
        (SheetsError::BadRange { .. }, Some(name)) if !tabs.iter().any(|t| &t.title == name) => {
            no_such_tab(name, &tabs)
        }
        (e, _) => e,
    })?;
    // The reply names the range it covers, tab included: rows are numbered from it.
    let covered = reply.range.as_deref().and_then(|r| A1Range::parse(r).ok()).unwrap_or_else(|| range.clone());
    let values = reply.values.unwrap_or_default();
    let title = covered.sheet.clone().or_else(|| tabs.first().map(|t| t.title.clone()));
    let shown = shown_columns(&api, &covered, title.as_deref(), &values).await?;
    let gid = title.as_deref().and_then(|t| find_tab(&tabs, t)).map(|t| t.sheet_id);
    tracing::info!(
        spreadsheet_id = %config.spreadsheet_id,
        range = %covered,
        rows = values.len(),
        date_columns_read = shown.len(),
        ms = started.elapsed().as_millis() as u64,
        "Read the sheet"
    );
    let grid = Grid {
        first_row: u64::from(covered.start_row()),
        values,
        shown,
        link: linker(&config.spreadsheet_id, gid, config.link),
    };
    Ok(grid.into_rows())
}

/// The tab named `title`: exactly, else ignoring case.
fn find_tab<'a>(tabs: &'a [Tab], title: &str) -> Option<&'a Tab> {
    tabs.iter()
        .find(|t| t.title == title)
        .or_else(|| tabs.iter().find(|t| t.title.to_lowercase() == title.to_lowercase()))
}

fn no_such_tab(tab: &str, tabs: &[Tab]) -> SheetsError {
    SheetsError::NoSuchTab { tab: tab.to_owned(), tabs: tabs.iter().map(|t| t.title.clone()).collect() }
}

/// Reads again, with dates as strings, the columns that hold numbers.
async fn shown_columns(
    api: &Api,
    covered: &A1Range,
    title: Option<&str>,
    values: &[Vec<serde_json::Value>],
) -> Result<ShownColumns, SheetsError> {
    let cols = cells::numeric_columns(values);
    let Some(title) = title.filter(|_| !cols.is_empty()) else {
        return Ok(ShownColumns::new());
    };
    let (start_col, start_row) = (covered.start_col(), covered.start_row());
    let end_row = covered.end_row().unwrap_or(start_row + values.len().saturating_sub(1) as u32);
    let ranges: Vec<String> = cols
        .iter()
        .map(|&c| {
            let col = a1::col_letters(start_col + c as u32);
            format!("{}!{col}{start_row}:{col}{end_row}", a1::quote_sheet(title))
        })
        .collect();
    let replies = api.shown_columns(&ranges).await?;
    Ok(cols
        .into_iter()
        .zip(replies)
        .map(|(c, vr)| (c, vr.values.and_then(|v| v.into_iter().next()).unwrap_or_default()))
        .collect())
}

/// The link for each row, by `mode`. No link when the tab's id is unknown. A link longer than
/// OpenPhone accepts is kept: the mapping reports its row (`mapping::limits`).
fn linker(spreadsheet_id: &str, gid: Option<i64>, mode: LinkMode) -> cells::LinkFn {
    let base = format!("https://docs.google.com/spreadsheets/d/{spreadsheet_id}/edit");
    match (mode, gid) {
        (LinkMode::Row, Some(gid)) => Box::new(move |row| Some(format!("{base}#gid={gid}&range={row}:{row}"))),
        (LinkMode::Sheet, Some(gid)) => {
            let link = Some(format!("{base}#gid={gid}"));
            Box::new(move |_| link.clone())
        }
        _ => Box::new(|_| None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_to_the_row_or_the_tab() {
        let row = linker("abc-123_X", Some(42), LinkMode::Row);
        assert_eq!(row(7).as_deref(), Some("https://docs.google.com/spreadsheets/d/abc-123_X/edit#gid=42&range=7:7"));
        let tab = linker("abc", Some(0), LinkMode::Sheet);
        assert_eq!(tab(7).as_deref(), Some("https://docs.google.com/spreadsheets/d/abc/edit#gid=0"));
        assert_eq!(linker("abc", Some(0), LinkMode::None)(7), None);
        assert_eq!(linker("abc", None, LinkMode::Row)(7), None);
    }
}
