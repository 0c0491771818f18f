//! The chosen sheet of a workbook → its header and [`SheetRows`]: the header at `header_row`,
//! else the first row (of the first [`HEADER_SEARCH`] non-blank ones) holding every mapped
//! column, else the first non-blank row. Rows keep the numbers the spreadsheet program shows;
//! blank rows are skipped and cells right of the header's last name are ignored. An error cell
//! is read as empty, with a warning naming it (`Contacts!C7`).

use std::path::Path;

use calamine::{Data, Range, Reader};

use super::cells::convert;
use crate::config::a1::{col_letters, quote_sheet};
use crate::config::workbook::{SheetChoice, WorkbookConfig};
use crate::source::cell::Cell;
use crate::source::csv::HEADER_SEARCH;
use crate::source::error::SourceError;
use crate::source::row::{SourceItem, SourceRow};

/// Reads the workbook at `config.path` and splits off its header.
pub fn read(config: &WorkbookConfig, columns: &[String]) -> Result<(Vec<String>, SheetRows), SourceError> {
    let origin = config.path.display().to_string();
    let bad = |message: String| SourceError::BadWorkbook { origin: origin.clone(), message };
    let mut book = open(&config.path).map_err(|e| bad(e.to_string()))?;
    let names = book.sheet_names();
    let name = match &config.sheet {
        SheetChoice::First => names.first().cloned(),
        SheetChoice::Name(want) => names
            .iter()
            .find(|n| *n == want)
            .or_else(|| names.iter().find(|n| n.to_lowercase() == want.to_lowercase()))
            .cloned(),
        SheetChoice::Position(p) => names.get(*p as usize - 1).cloned(),
    };
    let Some(name) = name else {
        let sheet = match &config.sheet {
            SheetChoice::First => return Err(SourceError::NoHeader { origin }),
            SheetChoice::Name(n) => format!("{n:?}"),
            SheetChoice::Position(p) => format!("number {p}"),
        };
        return Err(SourceError::NoSuchSheet { origin, sheet, sheets: names });
    };
    let range = book.worksheet_range(&name).map_err(|e| bad(format!("sheet {name:?}: {e}")))?;
    // An OpenDocument error cell reaches calamine as the error's text: its formula tells it
    // from a text cell that holds "#N/A".
    let formulas = match &book {
        calamine::Sheets::Ods(_) => book.worksheet_formula(&name).ok(),
        _ => None,
    };
    let (first_row, first_col) = range.start().unwrap_or((0, 0));
    let mut rows = SheetRows { sheet: quote_sheet(&name), range, formulas, first_row, first_col, next: 0, width: 0 };
    let header = rows.header(config.header_row, columns).ok_or(SourceError::NoHeader { origin })?;
    Ok((header, rows))
}

/// The text an OpenDocument formula cell holds when its formula fails (`#N/A`, `Err:502`).
fn is_error_text(s: &str) -> bool {
    matches!(s, "#N/A" | "#DIV/0!" | "#VALUE!" | "#REF!" | "#NAME?" | "#NUM!" | "#NULL!")
        || s.strip_prefix("Err:").is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn open(path: &Path) -> Result<calamine::Sheets<std::io::BufReader<std::fs::File>>, calamine::Error> {
    calamine::open_workbook_auto(path)
}

/// A sheet's data rows, converted one at a time as they are read.
pub struct SheetRows {
    /// The sheet's name as a cell address writes it (`Contacts`, `'My contacts'`).
    sheet: String,
    range: Range<Data>,
    /// The sheet's formulas, for an OpenDocument workbook.
    formulas: Option<Range<String>>,
    /// Where the range starts in the sheet (0-based row and column).
    first_row: u32,
    first_col: u32,
    /// The offset in the range of the next row to read.
    next: usize,
    width: usize,
}

impl SheetRows {
    /// The row at `offset` in the range as text, with a warning per error cell.
    fn cells(&self, offset: usize) -> Vec<String> {
        let Some(row) = self.range.rows().nth(offset) else { return Vec::new() };
        row.iter()
            .enumerate()
            .map(|(col, data)| {
                let (cell, error) = match data {
                    Data::String(s) if is_error_text(s) && self.is_formula(offset, col) => {
                        (Cell::Empty, Some(s.clone()))
                    }
                    _ => convert(data),
                };
                if let Some(error) = error {
                    let at = format!(
                        "{}!{}{}",
                        self.sheet,
                        col_letters(self.first_col + col as u32),
                        self.row_number(offset)
                    );
                    tracing::warn!(cell = %crate::escape::escape(&at), error = %error, "An error cell is read as an empty cell");
                }
                cell.into_text()
            })
            .collect()
    }

    fn is_formula(&self, offset: usize, col: usize) -> bool {
        let at = (self.first_row + offset as u32, self.first_col + col as u32);
        self.formulas.as_ref().and_then(|f| f.get_value(at)).is_some_and(|f| !f.is_empty())
    }

    fn row_number(&self, offset: usize) -> u64 {
        u64::from(self.first_row) + offset as u64 + 1
    }

    fn height(&self) -> usize {
        self.range.height()
    }

    /// Finds the header and leaves `next` on the row after it.
    fn header(&mut self, at: Option<u64>, columns: &[String]) -> Option<Vec<String>> {
        let mut first: Option<(usize, Vec<String>)> = None;
        let mut searched = 0;
        for offset in 0..self.height() {
            if at.is_some_and(|at| self.row_number(offset) < at) {
                continue;
            }
            let cells = self.header_cells(offset);
            if cells.is_empty() {
                continue;
            }
            if at.is_some() || columns.iter().all(|c| cells.contains(c)) {
                return Some(self.take_header(offset, cells));
            }
            searched += 1;
            first.get_or_insert((offset, cells));
            if searched >= HEADER_SEARCH {
                break;
            }
        }
        let (offset, cells) = first?;
        Some(self.take_header(offset, cells))
    }

    fn header_cells(&self, offset: usize) -> Vec<String> {
        let mut cells: Vec<String> = self.cells(offset).into_iter().map(|c| c.trim().to_owned()).collect();
        while cells.last().is_some_and(String::is_empty) {
            cells.pop();
        }
        cells
    }

    fn take_header(&mut self, offset: usize, cells: Vec<String>) -> Vec<String> {
        self.next = offset + 1;
        self.width = cells.len();
        cells
    }
}

impl Iterator for SheetRows {
    type Item = Result<SourceItem, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        while self.next < self.height() {
            let offset = self.next;
            self.next += 1;
            let mut cells = self.cells(offset);
            cells.truncate(self.width);
            if cells.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            cells.resize(self.width, String::new());
            return Some(Ok(SourceItem::Row(SourceRow {
                row: self.row_number(offset),
                cells: cells.into(),
                link: None,
            })));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str, sheet: SheetChoice, header_row: Option<u64>) -> WorkbookConfig {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/workbooks").join(name);
        WorkbookConfig { path, sheet, header_row }
    }

    fn rows(rows: SheetRows) -> Vec<(u64, Vec<String>)> {
        rows.map(|i| match i.unwrap() {
            SourceItem::Row(r) => (r.row, r.cells.iter().map(str::to_owned).collect()),
            SourceItem::Bad(e) => panic!("{e:?}"),
        })
        .collect()
    }

    #[test]
    fn libreoffices_xlsx_xls_and_ods_read_alike() {
        let columns = vec!["Customer ID".to_owned(), "Phone".to_owned()];
        for name in ["contacts.xlsx", "contacts.xls", "contacts.ods"] {
            let (header, got) = read(&fixture(name, SheetChoice::Name("contacts".into()), None), &columns).unwrap();
            assert_eq!(
                header,
                ["Customer ID", "First name", "Last name", "Phone", "Email", "Customer since", "Orders", "Region"],
                "{name}"
            );
            let got = rows(got);
            let s = |v: &[&str]| v.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>();
            assert_eq!(
                got,
                vec![
                    (
                        4,
                        s(&[
                            "4155552671001",
                            "Ana",
                            "Silva",
                            "2015550111",
                            "ana@example.com",
                            "2019-02-03",
                            "5",
                            "West"
                        ])
                    ),
                    (5, s(&["4155552671002", "Bo", "Chen", "+1 201-555-0112", "bo@example.com", "2021-11-30", "", ""])),
                    (7, s(&["4155552671003", "Cy", "Diaz", "2015550113", "cy@example.com", "", "20", "East"])),
                    (8, s(&["", "Dee", "No-id", "2015550114", "", "", "", ""])),
                ],
                "{name}"
            );
        }
    }

    #[test]
    fn sheets_by_position_header_row_and_what_is_missing() {
        let cfg = fixture("contacts.xlsx", SheetChoice::Position(2), Some(3));
        let (header, _) = read(&cfg, &[]).unwrap();
        assert_eq!(header[0], "Customer ID");
        // Without the mapped columns to look for, the first non-blank row is the header.
        let (header, _) = read(&fixture("contacts.xlsx", SheetChoice::Position(2), None), &[]).unwrap();
        assert_eq!(header, ["Customer list"]);
        let err = read(&fixture("contacts.xlsx", SheetChoice::Name("People".into()), None), &[]).err().unwrap();
        assert_eq!(
            err.to_string(),
            format!("{}: no sheet \"People\": its sheets are \"Notes\", \"Contacts\"", cfg.path.display())
        );
        let err = read(&fixture("contacts.xlsx", SheetChoice::Position(3), None), &[]).err().unwrap();
        assert!(err.to_string().contains("no sheet number 3"), "{err}");
        let err = read(&fixture("empty.xlsx", SheetChoice::First, None), &[]).err().unwrap();
        assert!(matches!(err, SourceError::NoHeader { .. }), "{err}");
    }
}
