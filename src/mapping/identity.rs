//! The external id of a row: one column as it is, several columns joined with a space, or
//! hashed into a stable id of [`HASHED_ID_LEN`] characters; and the cells no id is taken
//! from (all empty, or a number Excel turned into scientific notation).

use std::borrow::Cow;
use std::fmt::Write as _;

use sha2::{Digest as _, Sha256};

use super::convert;
use super::limits::{self, EXTERNAL_ID_MAX};

/// The length of a hashed external id: `h-` and 40 hex digits of a SHA-256 (160 bits).
pub const HASHED_ID_LEN: usize = 42;

/// The id's columns (index in the header, name), and whether they are hashed.
#[derive(Debug, Clone)]
pub struct IdColumns {
    columns: Vec<(usize, String)>,
    hash: bool,
}

impl IdColumns {
    pub fn new(columns: Vec<(usize, String)>, hash: bool) -> IdColumns {
        IdColumns { columns, hash }
    }

    /// The header positions of the id's columns.
    pub fn positions(&self) -> impl Iterator<Item = usize> + '_ {
        self.columns.iter().map(|(i, _)| *i)
    }

    /// The id from the cells `cell` gives by column index, or why there is none. Called for
    /// every row (twice when a cell starts with Excel's text marker): an id of one column is
    /// the cell itself, not a copy.
    pub fn id<'r>(&self, cell: impl Fn(usize) -> &'r str) -> Result<Cow<'r, str>, String> {
        let cells = || self.columns.iter().map(|(i, c)| (cell(*i), c.as_str()));
        for (cell, column) in cells() {
            if looks_scientific(cell) {
                return Err(format!(
                    "column {column:?}: {} is a number in scientific notation: Excel changed the id when it opened the file, and its last digits are lost; export the column as text from the original system",
                    convert::shown(cell)
                ));
            }
        }
        let names = || cells().map(|(_, c)| format!("{c:?}")).collect::<Vec<_>>().join(", ");
        if cells().all(|(c, _)| c.is_empty()) {
            return Err(match &self.columns[..] {
                [(_, column)] => format!("missing external id: column {column:?} is empty"),
                _ => format!("missing external id: columns {} are all empty", names()),
            });
        }
        if self.hash {
            let mut h = Sha256::new();
            for (cell, _) in cells() {
                h.update(cell.as_bytes());
                h.update([0x1f]);
            }
            let hex = h.finalize().iter().fold(String::new(), |mut s, b| {
                let _ = write!(s, "{b:02x}");
                s
            });
            return Ok(Cow::Owned(format!("h-{}", &hex[..HASHED_ID_LEN - 2])));
        }
        if let [(i, column)] = &self.columns[..] {
            let id = cell(*i);
            return limits::external_id_problem(id, column).map_or(Ok(Cow::Borrowed(id)), Err);
        }
        let id = cells().map(|(c, _)| c).filter(|c| !c.is_empty()).collect::<Vec<_>>().join(" ");
        if id.chars().count() > EXTERNAL_ID_MAX {
            return Err(format!(
                "the external id built from {} is {} characters, over OpenPhone's limit of {EXTERNAL_ID_MAX}: set `hash = true` on external_id",
                names(),
                id.chars().count()
            ));
        }
        Ok(Cow::Owned(id))
    }
}

/// An id Excel turned into a number in scientific notation (`1.11015E+11`).
fn looks_scientific(cell: &str) -> bool {
    let Some((mantissa, exponent)) = cell.split_once(['E', 'e']) else { return false };
    let exponent = exponent.strip_prefix('+').unwrap_or(exponent);
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, "0"));
    int.len() == 1
        && int.bytes().all(|b| b.is_ascii_digit())
        && !frac.is_empty()
        && frac.bytes().all(|b| b.is_ascii_digit())
        && !exponent.is_empty()
        && exponent.bytes().all(|b| b.is_ascii_digit())
}
