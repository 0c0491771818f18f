//! [`CsvOptions`]: how a CSV file is read (its delimiter, its encoding, where its header is).

use crate::config::encoding::TextEncoding;

/// How many non-blank lines are searched for a header holding every mapped column.
pub const HEADER_SEARCH: usize = 20;

/// Where the header row is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum HeaderAt {
    /// The first non-blank line.
    #[default]
    First,
    /// The first non-blank line from this line on (`[source] header_row`).
    Line(u64),
    /// The first line that holds all of these column names; the first line if none does.
    Find(Vec<String>),
}

/// How to read a CSV file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvOptions {
    pub delimiter: u8,
    pub encoding: TextEncoding,
    pub header: HeaderAt,
}

impl Default for CsvOptions {
    fn default() -> CsvOptions {
        CsvOptions { delimiter: b',', encoding: TextEncoding::Utf8, header: HeaderAt::First }
    }
}
