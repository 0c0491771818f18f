//! [`CsvRows`]: a CSV file read one row at a time, after its header (the first line, the
//! line `header_row` names, or the first holding every mapped column); the whole-file
//! readers built on it.

use std::io::{Chain, Cursor, Read};
use std::path::Path;

use encoding_rs::Encoding;

use super::lines::LineTracker;
use super::options::{CsvOptions, HEADER_SEARCH, HeaderAt};
use super::transcode::{PREFIX, Transcoded, UTF8_BOM, detect, read_prefix, sep_line};
use crate::config::encoding::TextEncoding;
use crate::source::error::{EncodingProblem, SourceError};
use crate::source::row::{Cells, RowError, SourceData, SourceItem, SourceRow};

/// Opens the CSV file at `path` and reads its header; the rows follow one at a time.
pub fn open_path(path: &Path, options: &CsvOptions) -> Result<CsvRows<std::io::BufReader<std::fs::File>>, SourceError> {
    let origin = path.display().to_string();
    let file = std::fs::File::open(path)
        .map_err(|e| SourceError::Unreadable { origin: origin.clone(), message: e.to_string() })?;
    CsvRows::open_with(std::io::BufReader::with_capacity(1 << 16, file), options, &origin)
}

/// Reads the whole CSV file at `path`.
pub fn read_path(path: &Path, options: &CsvOptions) -> Result<SourceData, SourceError> {
    open_path(path, options)?.collect_all()
}

/// Reads a whole UTF-8 CSV from any reader; `origin` names it in errors.
pub fn read(input: impl Read, delimiter: u8, origin: &str) -> Result<SourceData, SourceError> {
    read_with(input, &CsvOptions { delimiter, ..CsvOptions::default() }, origin)
}

/// Reads a whole CSV from any reader with `options`.
pub fn read_with(input: impl Read, options: &CsvOptions, origin: &str) -> Result<SourceData, SourceError> {
    CsvRows::open_with(input, options, origin)?.collect_all()
}

/// The file's bytes: as they are (UTF-8), or transcoded to UTF-8 from its encoding.
type Text<R> = Chain<Cursor<Vec<u8>>, Transcoded<Chain<Cursor<Vec<u8>>, R>>>;

/// A CSV source read one row at a time: only the row being read is in memory.
pub struct CsvRows<R: Read> {
    reader: ::csv::Reader<LineTracker<Text<R>>>,
    record: ::csv::ByteRecord,
    header: Vec<String>,
    origin: String,
    done: bool,
    /// The start of the file, to guess its encoding from when a row is not UTF-8.
    sample: Vec<u8>,
    /// `encoding = "auto"` is set (and took the file for UTF-8): an error does not suggest it.
    auto: bool,
}

impl<R: Read> CsvRows<R> {
    /// Reads a UTF-8 file up to and including its first non-blank line, the header.
    pub fn open(input: R, delimiter: u8, origin: &str) -> Result<CsvRows<R>, SourceError> {
        CsvRows::open_with(input, &CsvOptions { delimiter, ..CsvOptions::default() }, origin)
    }

    /// Reads up to and including the header row. A first line `sep=X` (Excel's hint)
    /// sets the delimiter to `X` and is not a row.
    fn open_with(mut input: R, options: &CsvOptions, origin: &str) -> Result<CsvRows<R>, SourceError> {
        let unreadable =
            |e: std::io::Error| SourceError::Unreadable { origin: origin.to_owned(), message: e.to_string() };
        let raw = read_prefix(&mut input).map_err(unreadable)?;
        let bom = Encoding::for_bom(&raw).map(|(e, _)| e).filter(|e| *e != encoding_rs::UTF_8);
        let encoding = match (options.encoding, bom) {
            (TextEncoding::Utf8, Some(_)) => {
                let problem = EncodingProblem::Utf16;
                return Err(SourceError::Encoding { origin: origin.to_owned(), line: 1, problem });
            }
            (TextEncoding::Utf8, None) => None,
            (TextEncoding::Named(e), _) | (TextEncoding::Auto, Some(e)) => Some(e),
            (TextEncoding::Auto, None) => {
                let found = detect(&raw, raw.len() < PREFIX);
                tracing::info!(file = origin, encoding = found.name(), "Detected the file's encoding");
                (found != encoding_rs::UTF_8).then_some(found)
            }
        };
        let sample = raw.clone();
        // From here on the text is UTF-8: a file in another encoding is transcoded as it is read.
        let mut text = Transcoded::new(Cursor::new(raw).chain(input), encoding);
        let mut prefix = read_prefix(&mut text).map_err(unreadable)?;
        if prefix.starts_with(UTF8_BOM) {
            prefix.drain(..UTF8_BOM.len());
        }
        let delimiter = options.delimiter;
        let (delimiter, skipped) = match sep_line(&prefix) {
            Some((sep, len)) => {
                prefix.drain(..len);
                (sep, 1)
            }
            None => (delimiter, 0),
        };
        let reader = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(LineTracker::new(Cursor::new(prefix).chain(text), delimiter, skipped));
        let mut rows = CsvRows {
            reader,
            record: ::csv::ByteRecord::new(),
            header: Vec::new(),
            origin: origin.to_owned(),
            done: false,
            sample,
            auto: options.encoding == TextEncoding::Auto,
        };
        // The first non-blank line, when no line holds every mapped column.
        let mut first: Option<Vec<String>> = None;
        let mut searched = 0;
        loop {
            if !rows.read_record()? {
                return match first {
                    Some(header) => Ok(CsvRows { header, done: true, ..rows }),
                    None => Err(SourceError::NoHeader { origin: origin.to_owned() }),
                };
            }
            let end = rows.reader.position().byte();
            let placed = rows.reader.get_mut().place(end, &rows.record);
            if placed.unclosed {
                return Err(SourceError::UnclosedQuote { origin: origin.to_owned(), line: placed.line });
            }
            if is_blank(&rows.record) {
                continue;
            }
            let cells = || rows.header_cells(placed.line);
            match &options.header {
                HeaderAt::First => {
                    rows.header = cells()?;
                    return Ok(rows);
                }
                HeaderAt::Line(n) if placed.line >= *n => {
                    rows.header = cells()?;
                    return Ok(rows);
                }
                HeaderAt::Line(_) => {}
                HeaderAt::Find(columns) => {
                    let header = cells()?;
                    if columns.iter().all(|c| header.contains(c)) {
                        if first.is_some() {
                            tracing::info!(file = origin, line = placed.line, "Found the header below the first line");
                        }
                        rows.header = header;
                        return Ok(rows);
                    }
                    searched += 1;
                    let first = first.get_or_insert(header);
                    // None of the first lines holds every column: the first line is the
                    // header, and the mapping reports what it lacks (nothing is synced).
                    if searched >= HEADER_SEARCH {
                        rows.header = std::mem::take(first);
                        rows.done = true;
                        return Ok(rows);
                    }
                }
            }
        }
    }

    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// A row (or header) that is not UTF-8, with the encoding the file looks like.
    fn not_utf8(&self, line: u64, field: usize) -> SourceError {
        let mut bytes = self.sample.clone();
        for f in &self.record {
            bytes.push(b'\n');
            bytes.extend_from_slice(f);
        }
        let guess = detect(&bytes, true);
        let guess = if guess == encoding_rs::UTF_8 { encoding_rs::WINDOWS_1252 } else { guess };
        let problem = if self.auto {
            EncodingProblem::NotUtf8Auto { field: field + 1, guess: guess.name() }
        } else {
            EncodingProblem::NotUtf8 { field: field + 1, guess: guess.name() }
        };
        SourceError::Encoding { origin: self.origin.clone(), line, problem }
    }

    fn header_cells(&self, line: u64) -> Result<Vec<String>, SourceError> {
        let mut cells = decode(&self.record).map_err(|field| self.not_utf8(line, field))?;
        if cells.iter().any(|c| c.contains('\0')) {
            let problem = EncodingProblem::NulInHeader;
            return Err(SourceError::Encoding { origin: self.origin.clone(), line, problem });
        }
        for c in &mut cells {
            let trimmed = c.trim();
            if trimmed.len() != c.len() {
                *c = trimmed.to_owned();
            }
        }
        // Unnamed columns at the end (Excel's trailing delimiters) are not columns.
        while cells.last().is_some_and(String::is_empty) {
            cells.pop();
        }
        Ok(cells)
    }

    fn read_record(&mut self) -> Result<bool, SourceError> {
        self.reader
            .read_byte_record(&mut self.record)
            .map_err(|e| SourceError::Unreadable { origin: self.origin.clone(), message: e.to_string() })
    }

    /// The next data row (or row error); `Ok(None)` at the end.
    fn next_item(&mut self) -> Result<Option<SourceItem>, SourceError> {
        loop {
            if self.done || !self.read_record()? {
                self.done = true;
                return Ok(None);
            }
            let end = self.reader.position().byte();
            let placed = self.reader.get_mut().place(end, &self.record);
            let row = placed.line;
            if placed.unclosed {
                self.done = true;
                return Err(SourceError::UnclosedQuote { origin: self.origin.clone(), line: row });
            }
            if is_blank(&self.record) {
                continue;
            }
            let width = self.header.len();
            // The record's one buffer becomes the row's (no `String` a cell); the next row is
            // read into a new one of the same size.
            let fresh = ::csv::ByteRecord::with_capacity(self.record.as_slice().len(), self.record.len());
            let mut cells = match Cells::from_csv(std::mem::replace(&mut self.record, fresh)) {
                Ok(cells) => cells,
                Err((record, field)) => {
                    self.record = record;
                    return Err(self.not_utf8(row, field));
                }
            };
            // Empty cells past the header's last column (Excel's trailing delimiters) are nothing.
            if cells.len() > width && cells.iter().skip(width).all(|c| c.trim().is_empty()) {
                cells.truncate(width);
            }
            let nul = cells.iter().position(|c| c.contains('\0'));
            return Ok(Some(match nul {
                Some(field) => SourceItem::Bad(RowError {
                    row,
                    external_id: None,
                    message: format!(
                        "field {} holds a NUL byte (the file is damaged or not a text CSV): remove it",
                        field + 1
                    ),
                }),
                None if cells.len() == width => SourceItem::Row(SourceRow { row, cells, link: None }),
                None => SourceItem::Bad(RowError {
                    row,
                    external_id: None,
                    message: format!(
                        "the row has {} fields but the header has {width} (a missing or extra delimiter?)",
                        cells.len()
                    ),
                }),
            }));
        }
    }

    /// Reads every remaining row into memory.
    fn collect_all(mut self) -> Result<SourceData, SourceError> {
        let mut data = SourceData { header: self.header.clone(), ..SourceData::default() };
        while let Some(item) = self.next_item()? {
            match item {
                SourceItem::Row(r) => data.rows.push(r),
                SourceItem::Bad(e) => data.errors.push(e),
            }
        }
        Ok(data)
    }
}

impl<R: Read> Iterator for CsvRows<R> {
    type Item = Result<SourceItem, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_item().transpose()
    }
}

fn is_blank(record: &::csv::ByteRecord) -> bool {
    record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace))
}

/// The fields as strings, or the index of the first field that is not UTF-8.
fn decode(record: &::csv::ByteRecord) -> Result<Vec<String>, usize> {
    record.iter().enumerate().map(|(i, f)| std::str::from_utf8(f).map(str::to_owned).map_err(|_| i)).collect()
}
