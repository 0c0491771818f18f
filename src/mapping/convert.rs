//! Cell → API value conversions: custom field values by the field's type, and emails.
//! An empty cell is `null` (it clears the field); a value that does not convert is an
//! error message naming the value.

use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, Utc};
use serde_json::Value;

use super::limits;
use crate::model::{FieldType, canonical_number};

/// A cell quoted for a message, cut after 60 characters (a cell may hold 30,000).
pub fn shown(cell: &str) -> String {
    const SHOWN: usize = 60;
    match cell.char_indices().nth(SHOWN) {
        None => format!("{cell:?}"),
        Some((cut, _)) => format!("{:?}... ({} characters)", &cell[..cut], cell.chars().count()),
    }
}

/// Converts a cell for a custom field of type `ty`; `separator` splits multi-select cells,
/// `formats` (strftime) are tried in order on a date before ISO 8601.
pub fn custom_value(cell: &str, ty: FieldType, separator: &str, formats: &[String]) -> Result<Value, String> {
    let cell = cell.trim();
    if cell.is_empty() {
        return Ok(Value::Null);
    }
    match ty {
        FieldType::Address | FieldType::String => Ok(Value::String(cell.to_owned())),
        FieldType::Url => {
            url::Url::parse(cell).map_err(|_| format!("{} is not a URL (e.g. https://example.com)", shown(cell)))?;
            Ok(Value::String(cell.to_owned()))
        }
        FieldType::Boolean => match cell.to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "1" => Ok(Value::Bool(true)),
            "false" | "no" | "n" | "0" => Ok(Value::Bool(false)),
            _ => Err(format!("{} is not a boolean (true/false, yes/no, y/n, 1/0)", shown(cell))),
        },
        FieldType::Number => parse_decimal(cell)
            .and_then(canonical_number)
            .ok_or_else(|| format!("{} is not a number (e.g. 42 or -3.5)", shown(cell))),
        FieldType::Date => date_time_in(cell, formats).map(Value::String).ok_or_else(|| match formats {
            [] => format!(
                "{} is not an ISO 8601 date or date-time between the years 0000 and 9999 (e.g. 2024-05-31); \
                 for another layout set `format` on the field (e.g. format = \"%m/%d/%y %H:%M\")",
                shown(cell)
            ),
            _ => format!(
                "{} is not a date in the format {} nor an ISO 8601 date (years 0000 to 9999)",
                shown(cell),
                formats.iter().map(|f| format!("{f:?}")).collect::<Vec<_>>().join(" or ")
            ),
        }),
        FieldType::MultiSelect => Ok(Value::Array(
            cell.split(separator)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_owned()))
                .collect(),
        )),
    }
}

/// A plain decimal: optional sign, digits, optional fraction. No thousands separators,
/// no exponent, no `inf`/`nan`: what a spreadsheet user means by a number.
fn parse_decimal(s: &str) -> Option<f64> {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let mut parts = body.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next();
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    let ok = digits(int) && frac.is_none_or(digits) && !(int.is_empty() && frac.is_none_or(str::is_empty));
    if ok { s.parse().ok() } else { None }
}

/// An ISO 8601 date (midnight UTC) or RFC 3339 date-time, as the API's canonical
/// date-time: UTC with milliseconds (`2024-05-31T00:00:00.000Z`). `None` also for a year
/// an RFC 3339 date-time cannot write (outside 0000 to 9999 once in UTC).
pub fn date_time(s: &str) -> Option<String> {
    let dt = parse_date_time(s.trim())?;
    limits::DATE_YEARS.contains(&dt.year()).then(|| dt.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// [`date_time`], after trying each of `formats` (strftime: a date-time with or without an
/// offset, or a date alone at midnight UTC). A date is never guessed: `2/5/24` needs one.
fn date_time_in(s: &str, formats: &[String]) -> Option<String> {
    let s = s.trim();
    let parsed = formats.iter().find_map(|f| {
        DateTime::parse_from_str(s, f)
            .map(|d| d.with_timezone(&Utc))
            .or_else(|_| chrono::NaiveDateTime::parse_from_str(s, f).map(|d| d.and_utc()))
            .ok()
            .or_else(|| NaiveDate::parse_from_str(s, f).ok()?.and_hms_opt(0, 0, 0).map(|d| d.and_utc()))
    });
    match parsed {
        Some(dt) => limits::DATE_YEARS.contains(&dt.year()).then(|| dt.to_rfc3339_opts(SecondsFormat::Millis, true)),
        None => date_time(s),
    }
}

/// Why `format` is not a strftime pattern chrono can read a date with, if it is not.
pub fn date_format_problem(format: &str) -> Option<String> {
    use chrono::format::{Fixed, Item, StrftimeItems};
    let items: Vec<Item<'_>> = StrftimeItems::new(format).collect();
    if items.iter().any(|i| matches!(i, Item::Error)) {
        return Some("not a strftime pattern (e.g. \"%d/%m/%Y\", \"%b %d, %Y %H:%M\")".to_owned());
    }
    let has = |n: chrono::format::Numeric| items.iter().any(|i| matches!(i, Item::Numeric(m, _) if *m == n));
    use chrono::format::Numeric::{Day, Month, Year, YearMod100};
    let month =
        has(Month) || items.iter().any(|i| matches!(i, Item::Fixed(Fixed::ShortMonthName | Fixed::LongMonthName)));
    if !(has(Year) || has(YearMod100)) || !month || !has(Day) {
        return Some("a date format needs a year, a month and a day (%Y or %y, %m or %b, %d)".to_owned());
    }
    None
}

fn parse_date_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(d.and_hms_opt(0, 0, 0)?.and_utc());
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.with_timezone(&Utc));
    }
    // A date-time without an offset is read as UTC.
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
        .into_iter()
        .find_map(|fmt| chrono::NaiveDateTime::parse_from_str(s, fmt).ok())
        .map(|dt| dt.and_utc())
}

/// Checks an email address the way a mail form would: one `@`, a local part, a domain with
/// a dot, no spaces. Returns the trimmed address.
pub fn email(cell: &str) -> Result<String, String> {
    let s = cell.trim();
    let valid = match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'))
        }
        None => false,
    };
    if valid { Ok(s.to_owned()) } else { Err(format!("{} is not an email address", shown(s))) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn converts_by_type() {
        let c = |cell, ty| custom_value(cell, ty, ";", &[]);
        assert_eq!(c("", FieldType::Number).unwrap(), Value::Null);
        assert_eq!(c("Yes", FieldType::Boolean).unwrap(), json!(true));
        assert_eq!(c("n", FieldType::Boolean).unwrap(), json!(false));
        assert!(c("maybe", FieldType::Boolean).unwrap_err().contains("\"maybe\""));
        assert_eq!(c("42", FieldType::Number).unwrap(), json!(42));
        assert_eq!(c("-3.25", FieldType::Number).unwrap(), json!(-3.25));
        for bad in ["1,000", "1e5", "nan", ".", "-", "12abc"] {
            assert!(c(bad, FieldType::Number).is_err(), "{bad}");
        }
        assert_eq!(c("2024-05-31", FieldType::Date).unwrap(), json!("2024-05-31T00:00:00.000Z"));
        assert_eq!(c("2024-05-31T10:00:00+02:00", FieldType::Date).unwrap(), json!("2024-05-31T08:00:00.000Z"));
        assert!(c("31/05/2024", FieldType::Date).is_err());
        assert_eq!(c("9999-12-31", FieldType::Date).unwrap(), json!("9999-12-31T00:00:00.000Z"));
        for out_of_range in ["+10000-01-01", "-0001-01-01", "0000-01-01T00:30:00+01:00"] {
            assert!(c(out_of_range, FieldType::Date).is_err(), "{out_of_range}");
        }
        assert_eq!(c(" a; b ;;c", FieldType::MultiSelect).unwrap(), json!(["a", "b", "c"]));
        assert_eq!(custom_value("a|b", FieldType::MultiSelect, "|", &[]).unwrap(), json!(["a", "b"]));
        assert_eq!(c("x", FieldType::String).unwrap(), json!("x"));
        assert!(c("not a url", FieldType::Url).is_err());
    }

    #[test]
    fn dates_in_the_formats_people_write() {
        let f = |cell: &str, formats: &[&str]| {
            let formats: Vec<String> = formats.iter().map(std::string::ToString::to_string).collect();
            custom_value(cell, FieldType::Date, ";", &formats)
        };
        assert_eq!(f("2/5/24 1:51", &["%m/%d/%y %H:%M"]).unwrap(), json!("2024-02-05T01:51:00.000Z"));
        assert_eq!(f("30 May 2024", &["%d %b %Y"]).unwrap(), json!("2024-05-30T00:00:00.000Z"));
        assert_eq!(f("16 Apr, 2021 00:02:00", &["%d %b, %Y %H:%M:%S"]).unwrap(), json!("2021-04-16T00:02:00.000Z"));
        // Tried in order; ISO 8601 still reads.
        assert_eq!(f("2024-05-31", &["%d %b %Y"]).unwrap(), json!("2024-05-31T00:00:00.000Z"));
        assert_eq!(f("5/2/24", &["%d/%m/%y", "%m/%d/%y"]).unwrap(), json!("2024-02-05T00:00:00.000Z"));
        // Never guessed.
        let e = f("2/5/24", &[]).unwrap_err();
        assert!(e.contains("set `format` on the field"), "{e}");
        assert!(f("2/5/24", &["%d %b %Y"]).unwrap_err().contains("not a date in the format \"%d %b %Y\""));
        assert_eq!(date_format_problem("%d/%m/%Y"), None);
        assert!(date_format_problem("%d/%m").is_some());
        assert!(date_format_problem("%Q").is_some());
    }

    #[test]
    fn emails() {
        assert_eq!(email(" a@b.co ").unwrap(), "a@b.co");
        for bad in ["a", "a@b", "@b.co", "a@@b.co", "a b@c.co", "a@b.co,"] {
            assert!(email(bad).is_err(), "{bad}");
        }
    }
}
