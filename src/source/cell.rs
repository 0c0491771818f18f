//! [`Cell`]: a typed value as a typed source reads it (a sheet's or a workbook's cell), and
//! the one way it is written as text for the mapping, whatever the source:
//! - a number is a plain decimal (`2015550123`, `-3.5`, `0.25` for 25 %): no thousands
//!   separators, currency or exponent, so an id or a phone number typed as a number keeps
//!   every digit;
//! - a boolean is `TRUE` / `FALSE`;
//! - a date is ISO 8601 `2024-05-31`; a date-time `2024-05-31T14:30:00` (milliseconds when it
//!   has them; a date-time at midnight is its date), no offset: read as UTC, like a CSV
//!   date-time without one.

use chrono::{NaiveDate, NaiveDateTime, Timelike};

/// One cell of a typed source.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Date(NaiveDate),
    DateTime(NaiveDateTime),
}

impl Cell {
    /// The cell as the mapping reads it.
    pub fn into_text(self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s,
            Cell::Int(i) => i.to_string(),
            Cell::Float(f) => float_text(f),
            Cell::Bool(true) => "TRUE".to_owned(),
            Cell::Bool(false) => "FALSE".to_owned(),
            Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
            Cell::DateTime(at) => {
                let format = if at.time() == chrono::NaiveTime::MIN {
                    "%Y-%m-%d"
                } else if at.nanosecond() == 0 {
                    "%Y-%m-%dT%H:%M:%S"
                } else {
                    "%Y-%m-%dT%H:%M:%S%.3f"
                };
                at.format(format).to_string()
            }
        }
    }
}

/// A float as a plain decimal: an integer without a fraction, never an exponent.
pub fn float_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 9.0e15 { (f as i64).to_string() } else { f.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_every_digit_and_dates_are_iso() {
        assert_eq!(Cell::Float(14155552671.0).into_text(), "14155552671");
        assert_eq!(Cell::Float(1e21).into_text(), "1000000000000000000000");
        assert_eq!(Cell::Float(1e-7).into_text(), "0.0000001");
        assert_eq!(Cell::Int(-12).into_text(), "-12");
        assert_eq!(Cell::Bool(true).into_text(), "TRUE");
        let d = NaiveDate::from_ymd_opt(2024, 5, 31).unwrap();
        assert_eq!(Cell::Date(d).into_text(), "2024-05-31");
        assert_eq!(Cell::DateTime(d.and_hms_opt(0, 0, 0).unwrap()).into_text(), "2024-05-31");
        assert_eq!(Cell::DateTime(d.and_hms_opt(14, 30, 0).unwrap()).into_text(), "2024-05-31T14:30:00");
        assert_eq!(Cell::DateTime(d.and_hms_milli_opt(14, 30, 0, 5).unwrap()).into_text(), "2024-05-31T14:30:00.005");
    }
}
