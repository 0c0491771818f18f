//! A workbook cell (`calamine::Data`) → [`Cell`]: text as it is, a number as a number (an
//! integer-valued float is an integer: an id keeps every digit), a boolean, a date or
//! date-time cell as a date (the cached value of a formula is what `calamine` returns for it),
//! a time of day as `HH:MM:SS`, an error cell (`#N/A`, `#REF!`, ...) as an empty cell and the
//! error's text, for the caller's warning.

use calamine::Data;
use chrono::{NaiveDate, NaiveDateTime};

use crate::source::cell::Cell;

/// The cell, or (for an error cell) an empty cell and the error as the program shows it.
pub fn convert(data: &Data) -> (Cell, Option<String>) {
    let cell = match data {
        Data::Empty => Cell::Empty,
        Data::String(s) | Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Int(i) => Cell::Int(*i),
        Data::Float(f) => Cell::Float(*f),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(d) if d.is_duration() => Cell::Float(d.as_f64()),
        Data::DateTime(d) => {
            let (y, mo, day, h, mi, s, ms) = d.to_ymd_hms_milli();
            if d.as_f64() < 1.0 && d.as_f64() >= 0.0 {
                // A time of day: no date to give.
                Cell::Text(format!("{h:02}:{mi:02}:{s:02}"))
            } else {
                match NaiveDate::from_ymd_opt(i32::from(y), u32::from(mo), u32::from(day))
                    .and_then(|date| date.and_hms_milli_opt(u32::from(h), u32::from(mi), u32::from(s), u32::from(ms)))
                {
                    Some(at) => Cell::DateTime(at),
                    // Excel's 1900-02-29, which does not exist.
                    None => Cell::Float(d.as_f64()),
                }
            }
        }
        Data::DateTimeIso(s) => iso(s),
        Data::Error(e) => return (Cell::Empty, Some(e.to_string())),
    };
    (cell, None)
}

/// An OpenDocument date value (`2024-05-31`, `2024-05-31T14:30:00`): a date, else as written.
fn iso(s: &str) -> Cell {
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Cell::Date(d);
    }
    match NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        Ok(at) => Cell::DateTime(at),
        Err(_) => Cell::Text(s.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use calamine::{CellErrorType, ExcelDateTime, ExcelDateTimeType};

    use super::*;

    fn text(d: Data) -> String {
        convert(&d).0.into_text()
    }

    #[test]
    fn numbers_dates_and_errors() {
        assert_eq!(text(Data::Float(4_155_552_671_001.0)), "4155552671001");
        assert_eq!(text(Data::Float(1.5e20)), "150000000000000000000");
        assert_eq!(text(Data::Int(7)), "7");
        let date = |v| Data::DateTime(ExcelDateTime::new(v, ExcelDateTimeType::DateTime, false));
        assert_eq!(text(date(45443.0)), "2024-05-31");
        assert_eq!(text(date(45443.604166666664)), "2024-05-31T14:30:00");
        assert_eq!(text(date(0.5)), "12:00:00");
        assert_eq!(text(Data::DateTimeIso("1990-02-03".into())), "1990-02-03");
        assert_eq!(text(Data::DateTimeIso("1990-02-03T10:00:00".into())), "1990-02-03T10:00:00");
        assert_eq!(convert(&Data::Error(CellErrorType::NA)), (Cell::Empty, Some("#N/A".to_owned())));
    }
}
