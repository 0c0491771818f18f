//! A column's type → its [`Decoder`], and a value in PostgreSQL's binary format → the text the
//! mapping reads, through [`Cell`] as every typed source writes it:
//! - `text`, `varchar`, `char(n)`, `name`, `citext`, an enum, `json`/`jsonb`: the text;
//! - `int2`/`int4`/`int8`: every digit (`Cell::Int`); `numeric`: its exact decimal text, every
//!   digit and the column's scale (`12.50`), never through a float; `float4`/`float8`: a plain
//!   decimal, never an exponent (`NaN`, `Infinity`, `-Infinity` as PostgreSQL writes them);
//! - `bool`: `TRUE`/`FALSE`; `date`: `2024-05-31`; `timestamp`: as written, `timestamptz`: in
//!   UTC (`2024-05-31T14:30:00`); `infinity`/`-infinity` as PostgreSQL writes them;
//! - `uuid`: lower-case with hyphens;
//! - an array of any of these: its values in order (a multi-dimensional array row by row),
//!   NULLs left out, joined with [`SEPARATOR`] (as several vCard values are), for a mapping
//!   entry with `separator = " ::: "`;
//! - a domain: as its base type; NULL: an empty cell.
//!
//! Any other type has no decoder: the caller reports its column before a row is read.

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate};
use tokio_postgres::types::{Kind, Type};

use crate::source::cell::{Cell, float_text};

/// What joins an array's values in a cell (the vCard source's separator).
pub const SEPARATOR: &str = " ::: ";

/// How one column's values are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoder {
    Text,
    Jsonb,
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    Numeric,
    Bool,
    Date,
    Timestamp,
    TimestampTz,
    Uuid,
    Array(Box<Decoder>),
}

impl Decoder {
    /// The decoder of a column of type `ty`; `None` when the type is not read.
    pub fn for_type(ty: &Type) -> Option<Decoder> {
        match ty.kind() {
            Kind::Array(member) => {
                let inner = Decoder::for_type(member)?;
                return (!matches!(inner, Decoder::Array(_))).then(|| Decoder::Array(Box::new(inner)));
            }
            Kind::Domain(base) => return Decoder::for_type(base),
            Kind::Enum(_) => return Some(Decoder::Text),
            _ => {}
        }
        Some(match *ty {
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN | Type::JSON => Decoder::Text,
            Type::JSONB => Decoder::Jsonb,
            Type::INT2 => Decoder::Int2,
            Type::INT4 => Decoder::Int4,
            Type::INT8 => Decoder::Int8,
            Type::FLOAT4 => Decoder::Float4,
            Type::FLOAT8 => Decoder::Float8,
            Type::NUMERIC => Decoder::Numeric,
            Type::BOOL => Decoder::Bool,
            Type::DATE => Decoder::Date,
            Type::TIMESTAMP => Decoder::Timestamp,
            Type::TIMESTAMPTZ => Decoder::TimestampTz,
            Type::UUID => Decoder::Uuid,
            _ if ty.name() == "citext" => Decoder::Text,
            _ => return None,
        })
    }

    /// A value (`None`: NULL) as the mapping's text; `Err` when the bytes are not a value of
    /// the type (a server never sends that).
    pub fn text(&self, raw: Option<&[u8]>) -> Result<String, String> {
        let Some(raw) = raw else { return Ok(String::new()) };
        Ok(match self {
            Decoder::Text => utf8(raw)?.to_owned(),
            Decoder::Jsonb => match raw.split_first() {
                Some((1, rest)) => utf8(rest)?.to_owned(),
                _ => return Err("a jsonb value of an unknown version".into()),
            },
            Decoder::Int2 => i16::from_be_bytes(fixed(raw)?).to_string(),
            Decoder::Int4 => i32::from_be_bytes(fixed(raw)?).to_string(),
            Decoder::Int8 => Cell::Int(i64::from_be_bytes(fixed(raw)?)).into_text(),
            Decoder::Float4 => float4_text(f32::from_be_bytes(fixed(raw)?)),
            Decoder::Float8 => float8_text(f64::from_be_bytes(fixed(raw)?)),
            Decoder::Numeric => numeric_text(raw)?,
            Decoder::Bool => Cell::Bool(fixed::<1>(raw)?[0] != 0).into_text(),
            Decoder::Date => date_text(i32::from_be_bytes(fixed(raw)?)),
            Decoder::Timestamp | Decoder::TimestampTz => timestamp_text(i64::from_be_bytes(fixed(raw)?)),
            Decoder::Uuid => uuid_text(fixed(raw)?),
            Decoder::Array(inner) => array_values(raw)?
                .into_iter()
                .flatten()
                .map(|v| inner.text(Some(v)))
                .filter(|t| t.as_ref().map_or(true, |t| !t.is_empty()))
                .collect::<Result<Vec<_>, _>>()?
                .join(SEPARATOR),
        })
    }
}

fn utf8(raw: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(raw).map_err(|_| "text that is not UTF-8".to_owned())
}

fn fixed<const N: usize>(raw: &[u8]) -> Result<[u8; N], String> {
    raw.try_into().map_err(|_| format!("{} bytes where {N} were expected", raw.len()))
}

fn special_float(f: f64) -> Option<&'static str> {
    if f.is_nan() {
        Some("NaN")
    } else if f.is_infinite() {
        Some(if f > 0.0 { "Infinity" } else { "-Infinity" })
    } else {
        None
    }
}

fn float8_text(f: f64) -> String {
    special_float(f).map_or_else(|| float_text(f), str::to_owned)
}

/// A `real` as its own shortest decimal (`0.1`, not the `0.10000000149011612` of its f64).
fn float4_text(f: f32) -> String {
    if let Some(s) = special_float(f64::from(f)) {
        return s.to_owned();
    }
    if f.fract() == 0.0 && f.abs() < 9.0e15 { float_text(f64::from(f)) } else { f.to_string() }
}

/// Days since 2000-01-01.
fn date_text(days: i32) -> String {
    match days {
        i32::MAX => "infinity".into(),
        i32::MIN => "-infinity".into(),
        _ => NaiveDate::from_ymd_opt(2000, 1, 1)
            .and_then(|d| d.checked_add_signed(chrono::TimeDelta::days(i64::from(days))))
            .map_or_else(|| days.to_string(), |d| Cell::Date(d).into_text()),
    }
}

/// Microseconds since 2000-01-01 00:00:00 (UTC, for a `timestamptz`).
fn timestamp_text(micros: i64) -> String {
    match micros {
        i64::MAX => "infinity".into(),
        i64::MIN => "-infinity".into(),
        _ => {
            const EPOCH_2000: i64 = 946_684_800_000_000;
            DateTime::from_timestamp_micros(micros.saturating_add(EPOCH_2000))
                .map_or_else(|| micros.to_string(), |at| Cell::DateTime(at.naive_utc()).into_text())
        }
    }
}

fn uuid_text(b: [u8; 16]) -> String {
    let hex = b.iter().fold(String::with_capacity(32), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    });
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// A `numeric` in the binary format: digit count, weight (of the first base-10000 digit),
/// sign, display scale, then the base-10000 digits. Written as PostgreSQL writes it:
/// `-1234.5000` for scale 4, `0.001`, `NaN`, `Infinity`.
pub fn numeric_text(raw: &[u8]) -> Result<String, String> {
    let word = |at: usize| -> Result<u16, String> {
        raw.get(at..at + 2).map(|b| u16::from_be_bytes([b[0], b[1]])).ok_or_else(|| "a short numeric".to_owned())
    };
    let ndigits = usize::from(word(0)?);
    let weight = i64::from(word(2)?.cast_signed());
    let sign = word(4)?;
    let dscale = usize::from(word(6)?);
    match sign {
        0x0000 | 0x4000 => {}
        0xC000 => return Ok("NaN".into()),
        0xD000 => return Ok("Infinity".into()),
        0xF000 => return Ok("-Infinity".into()),
        other => return Err(format!("a numeric with sign {other:#x}")),
    }
    let digits: Vec<u16> = (0..ndigits).map(|i| word(8 + 2 * i)).collect::<Result<_, _>>()?;
    if digits.iter().any(|d| *d > 9999) {
        return Err("a numeric digit above 9999".into());
    }
    // The base-10000 digit at exponent `e` (10000^e).
    let at = |e: i64| -> u16 {
        let index = weight - e;
        usize::try_from(index).ok().and_then(|i| digits.get(i).copied()).unwrap_or(0)
    };
    let mut out = String::new();
    if sign == 0x4000 && digits.iter().any(|d| *d != 0) {
        out.push('-');
    }
    if weight < 0 {
        out.push('0');
    } else {
        for e in (0..=weight).rev() {
            if e == weight {
                out.push_str(&at(e).to_string());
            } else {
                let _ = write!(out, "{:04}", at(e));
            }
        }
    }
    if dscale > 0 {
        let mut fraction = String::with_capacity(dscale + 4);
        let mut e = -1;
        while fraction.len() < dscale {
            let _ = write!(fraction, "{:04}", at(e));
            e -= 1;
        }
        fraction.truncate(dscale);
        out.push('.');
        out.push_str(&fraction);
    }
    Ok(out)
}

/// An array's values, every dimension flattened in order (`None`: a NULL element).
fn array_values(raw: &[u8]) -> Result<Vec<Option<&[u8]>>, String> {
    let short = || "a short array".to_owned();
    let int = |at: usize| -> Result<i32, String> {
        raw.get(at..at + 4).map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]])).ok_or_else(short)
    };
    let ndim = usize::try_from(int(0)?).map_err(|_| "an array with negative dimensions".to_owned())?;
    let mut count: usize = usize::from(ndim > 0);
    for d in 0..ndim {
        let len = usize::try_from(int(12 + 8 * d)?).map_err(|_| "an array with a negative length".to_owned())?;
        count = count.checked_mul(len).ok_or_else(short)?;
    }
    let mut at = 12 + 8 * ndim;
    let mut values = Vec::with_capacity(count.min(raw.len() / 4));
    for _ in 0..count {
        let len = int(at)?;
        at += 4;
        if len < 0 {
            values.push(None);
            continue;
        }
        let end = at + len.unsigned_abs() as usize;
        values.push(Some(raw.get(at..end).ok_or_else(short)?));
        at = end;
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric(weight: i16, sign: u16, dscale: u16, digits: &[u16]) -> Vec<u8> {
        let mut b = Vec::new();
        for w in [digits.len() as u16, weight.cast_unsigned(), sign, dscale] {
            b.extend_from_slice(&w.to_be_bytes());
        }
        for d in digits {
            b.extend_from_slice(&d.to_be_bytes());
        }
        b
    }

    #[test]
    fn numerics_are_written_exactly() {
        assert_eq!(numeric_text(&numeric(0, 0, 0, &[])).unwrap(), "0");
        assert_eq!(numeric_text(&numeric(0, 0, 2, &[12, 5000])).unwrap(), "12.50");
        assert_eq!(numeric_text(&numeric(1, 0x4000, 4, &[1, 2345, 6700])).unwrap(), "-12345.6700");
        assert_eq!(numeric_text(&numeric(-1, 0, 3, &[10])).unwrap(), "0.001");
        assert_eq!(numeric_text(&numeric(-2, 0, 6, &[1200])).unwrap(), "0.000012");
        assert_eq!(numeric_text(&numeric(2, 0, 0, &[1])).unwrap(), "100000000");
        assert_eq!(numeric_text(&numeric(0, 0xC000, 0, &[])).unwrap(), "NaN");
    }

    #[test]
    fn scalars() {
        assert_eq!(float4_text(0.1), "0.1");
        assert_eq!(float8_text(1e21), "1000000000000000000000");
        assert_eq!(float8_text(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(date_text(0), "2000-01-01");
        assert_eq!(date_text(i32::MAX), "infinity");
        assert_eq!(timestamp_text(3_600_000_000), "2000-01-01T01:00:00");
        assert_eq!(uuid_text([0xab; 16]), "abababab-abab-abab-abab-abababababab");
    }

    #[test]
    fn arrays_flatten_and_leave_out_nulls() {
        // text[] {a,NULL,b}: 1 dimension, has nulls, element oid 25, length 3, lower bound 1.
        let mut b = Vec::new();
        for v in [1i32, 1, 25, 3, 1] {
            b.extend_from_slice(&v.to_be_bytes());
        }
        b.extend_from_slice(&1i32.to_be_bytes());
        b.push(b'a');
        b.extend_from_slice(&(-1i32).to_be_bytes());
        b.extend_from_slice(&1i32.to_be_bytes());
        b.push(b'b');
        assert_eq!(Decoder::Array(Box::new(Decoder::Text)).text(Some(&b)).unwrap(), "a ::: b");
        let empty = [0i32, 0, 25].iter().flat_map(|v| v.to_be_bytes()).collect::<Vec<u8>>();
        assert_eq!(Decoder::Array(Box::new(Decoder::Text)).text(Some(&empty)).unwrap(), "");
        assert_eq!(Decoder::Text.text(None).unwrap(), "");
    }
}
