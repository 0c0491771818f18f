//! Cells → text (written as [`Cell`] writes them), and the grid → source rows.
//!
//! Values are read unformatted (`UNFORMATTED_VALUE`, dates as serial numbers), so what a cell
//! holds does not depend on its display format or the spreadsheet's locale:
//! - text is taken as it is;
//! - a number is written as a plain decimal (`2015550123`, `-3.5`, `0.25` for 25 %): no thousands
//!   separators, currency or exponent, so a phone number typed as a number keeps every digit;
//! - a checkbox or boolean is `TRUE` / `FALSE`;
//! - a date, time or date-time cell (a number the API renders as a string when asked for
//!   `FORMATTED_STRING`) becomes ISO 8601: `2024-05-31`, or `2024-05-31T14:30:00` with a time
//!   (no offset: read as UTC, like a CSV date-time without one). A time of day or a duration
//!   under a day has no date: it is taken as shown (`14:30`).
//!
//! Rows: the API drops trailing empty cells and rows, so a short row is padded with empty
//! cells; cells right of the header's last name are ignored; blank rows are skipped. The first
//! non-blank row is the header.

use std::collections::BTreeMap;

use chrono::{NaiveDate, TimeDelta};
use serde_json::Value;

use crate::source::cell::{Cell, float_text};
use crate::source::row::{SourceItem, SourceRow};

/// The `FORMATTED_STRING` rendering of the columns that hold numbers, by column offset in the
/// range: one value per row offset (trailing empty cells dropped, as the API does).
pub type ShownColumns = BTreeMap<usize, Vec<Value>>;

/// The column offsets (in the range) that hold at least one number: the only ones that can
/// hold dates, so the only ones read a second time to tell dates from numbers.
pub fn numeric_columns(values: &[Vec<Value>]) -> Vec<usize> {
    let mut cols = std::collections::BTreeSet::new();
    for row in values {
        for (i, v) in row.iter().enumerate() {
            if v.is_number() {
                cols.insert(i);
            }
        }
    }
    cols.into_iter().collect()
}

/// The text of one cell; `shown` is its `FORMATTED_STRING` value when its column was read twice.
pub fn text(value: Value, shown: Option<&Value>) -> String {
    match value {
        Value::String(s) => s,
        Value::Number(n) => match shown {
            Some(Value::String(shown)) => date_text(n.as_f64().unwrap_or(f64::NAN)).unwrap_or_else(|| shown.clone()),
            _ => number_text(&n),
        },
        Value::Bool(true) => "TRUE".to_owned(),
        Value::Bool(false) => "FALSE".to_owned(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A number as a plain decimal: integers without a fraction, never an exponent.
fn number_text(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    float_text(n.as_f64().unwrap_or(0.0))
}

/// A date serial number (days since 1899-12-30, the fraction being the time of day) as ISO 8601.
/// `None` for a time of day or a duration under a day (no date to give).
fn date_text(serial: f64) -> Option<String> {
    if !serial.is_finite() || (0.0..1.0).contains(&serial) {
        return None;
    }
    const DAY_MS: i64 = 86_400_000;
    let ms = (serial * DAY_MS as f64).round() as i64;
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)?.and_hms_opt(0, 0, 0)?;
    let at = epoch.checked_add_signed(TimeDelta::try_milliseconds(ms)?)?;
    Some(Cell::DateTime(at).into_text())
}

/// How rows are linked: the URL for a sheet row, if any.
pub type LinkFn = Box<dyn Fn(u64) -> Option<String> + Send>;

/// The grid as the API returned it, turned into a header and rows read one at a time.
pub struct Grid {
    /// The sheet row of `values[0]`.
    pub first_row: u64,
    pub values: Vec<Vec<Value>>,
    pub shown: ShownColumns,
    pub link: LinkFn,
}

impl Grid {
    /// Splits off the header (the first non-blank row, its names trimmed). `None` when every
    /// row is blank. The rows follow, converted as they are iterated.
    pub fn into_rows(self) -> Option<(Vec<String>, GridRows)> {
        let Grid { first_row, values, shown, link } = self;
        let mut rows = GridRows { first_row, values: values.into_iter().enumerate(), shown, link, width: 0 };
        loop {
            let (offset, cells) = rows.values.next()?;
            let cells = rows.render(offset, cells);
            if is_blank(&cells) {
                continue;
            }
            let mut header: Vec<String> = cells.into_iter().map(|c| c.trim().to_owned()).collect();
            while header.last().is_some_and(String::is_empty) {
                header.pop();
            }
            rows.width = header.len();
            return Some((header, rows));
        }
    }
}

/// The data rows of a [`Grid`]; each is converted (and its JSON values freed) as it is read.
pub struct GridRows {
    first_row: u64,
    values: std::iter::Enumerate<std::vec::IntoIter<Vec<Value>>>,
    shown: ShownColumns,
    link: LinkFn,
    width: usize,
}

impl GridRows {
    fn render(&self, offset: usize, cells: Vec<Value>) -> Vec<String> {
        cells
            .into_iter()
            .enumerate()
            .map(|(col, v)| {
                let shown = if v.is_number() { self.shown.get(&col).and_then(|c| c.get(offset)) } else { None };
                text(v, shown)
            })
            .collect()
    }
}

impl Iterator for GridRows {
    type Item = SourceItem;

    fn next(&mut self) -> Option<SourceItem> {
        loop {
            let (offset, cells) = self.values.next()?;
            let mut cells = self.render(offset, cells);
            if is_blank(&cells) {
                continue;
            }
            cells.resize(self.width, String::new());
            let row = self.first_row + offset as u64;
            return Some(SourceItem::Row(SourceRow { row, cells: cells.into(), link: (self.link)(row) }));
        }
    }
}

fn is_blank(cells: &[String]) -> bool {
    cells.iter().all(|c| c.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_booleans_and_text() {
        let t = |v: Value| text(v, None);
        assert_eq!(t(json!(2015550123)), "2015550123");
        assert_eq!(t(json!(14155552671.0)), "14155552671");
        assert_eq!(t(json!(-3.5)), "-3.5");
        assert_eq!(t(json!(0.25)), "0.25");
        assert_eq!(t(json!(1e21)), "1000000000000000000000");
        assert_eq!(t(json!(1e-7)), "0.0000001");
        assert_eq!(t(json!(true)), "TRUE");
        assert_eq!(t(json!(false)), "FALSE");
        assert_eq!(t(json!(" x ")), " x ");
        // A number in a column read twice stays a number unless the API showed it as a string.
        assert_eq!(text(json!(45443), Some(&json!(45443))), "45443");
    }

    #[test]
    fn dates_from_serial_numbers() {
        let shown = json!("5/31/2024");
        assert_eq!(text(json!(45443), Some(&shown)), "2024-05-31");
        assert_eq!(text(json!(45443.5), Some(&shown)), "2024-05-31T12:00:00");
        assert_eq!(text(json!(45443.604166666664), Some(&shown)), "2024-05-31T14:30:00");
        assert_eq!(date_text(1.0).as_deref(), Some("1899-12-31"));
        assert_eq!(date_text(-1.0).as_deref(), Some("1899-12-29"));
        assert_eq!(date_text(45_443.000_011_574).as_deref(), Some("2024-05-31T00:00:01"));
        // A time of day has no date: it is taken as shown.
        assert_eq!(text(json!(0.604166666664), Some(&json!("14:30"))), "14:30");
    }

    #[test]
    fn rows_are_padded_numbered_and_linked() {
        let values = vec![
            vec![],
            vec![json!(" ID "), json!("Name"), json!("")],
            vec![json!("1")],
            vec![],
            vec![json!(""), json!("  ")],
            vec![json!("2"), json!("b"), json!("ignored"), json!("too")],
            vec![json!(""), json!(""), json!("note")],
        ];
        let grid =
            Grid { first_row: 5, values, shown: ShownColumns::new(), link: Box::new(|row| Some(format!("link{row}"))) };
        let (header, rows) = grid.into_rows().unwrap();
        assert_eq!(header, vec!["ID", "Name"]);
        let rows: Vec<SourceRow> = rows
            .map(|i| match i {
                SourceItem::Row(r) => r,
                SourceItem::Bad(e) => panic!("{e:?}"),
            })
            .collect();
        let got: Vec<(u64, Vec<&str>, Option<&str>)> =
            rows.iter().map(|r| (r.row, r.cells.iter().collect(), r.link.as_deref())).collect();
        assert_eq!(
            got,
            vec![
                (7, vec!["1", ""], Some("link7")),
                (10, vec!["2", "b"], Some("link10")),
                (11, vec!["", ""], Some("link11")),
            ]
        );
    }

    #[test]
    fn an_all_blank_grid_has_no_header() {
        let grid = Grid {
            first_row: 1,
            values: vec![vec![], vec![json!(" ")]],
            shown: ShownColumns::new(),
            link: Box::new(|_| None),
        };
        assert!(grid.into_rows().is_none());
    }

    #[test]
    fn only_columns_with_numbers_are_read_twice() {
        let values = vec![vec![json!("ID"), json!("Phone")], vec![json!("a"), json!(1), json!(true)], vec![json!(2)]];
        assert_eq!(numeric_columns(&values), vec![0, 1]);
    }
}
