//! The CSV source: a header row, then one record per row. UTF-8 with or without a BOM,
//! CRLF or LF, quoted fields (commas, quotes, newlines inside). A ragged row or a row that
//! is not UTF-8 is a per-row error; blank rows are skipped.

use std::collections::VecDeque;
use std::io::Read;
use std::path::Path;

use super::{RowError, SourceData, SourceError, SourceItem, SourceRow};

/// Opens the CSV file at `path` and reads its header; the rows follow one at a time.
pub fn open_path(path: &Path, delimiter: u8) -> Result<CsvRows<std::io::BufReader<std::fs::File>>, SourceError> {
    let origin = path.display().to_string();
    let file = std::fs::File::open(path)
        .map_err(|e| SourceError::Unreadable { origin: origin.clone(), message: e.to_string() })?;
    CsvRows::open(std::io::BufReader::with_capacity(1 << 16, file), delimiter, &origin)
}

/// Reads the whole CSV file at `path`.
pub fn read_path(path: &Path, delimiter: u8) -> Result<SourceData, SourceError> {
    open_path(path, delimiter)?.collect_all()
}

/// Reads a whole CSV from any reader; `origin` names it in errors.
pub fn read(input: impl Read, delimiter: u8, origin: &str) -> Result<SourceData, SourceError> {
    CsvRows::open(input, delimiter, origin)?.collect_all()
}

/// A CSV source read one row at a time: only the row being read is in memory.
pub struct CsvRows<R: Read> {
    reader: ::csv::Reader<LineTracker<R>>,
    record: ::csv::ByteRecord,
    header: Vec<String>,
    origin: String,
    done: bool,
}

impl<R: Read> CsvRows<R> {
    /// Reads up to and including the header row.
    pub fn open(input: R, delimiter: u8, origin: &str) -> Result<CsvRows<R>, SourceError> {
        let reader = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(LineTracker::new(input));
        let mut rows = CsvRows {
            reader,
            record: ::csv::ByteRecord::new(),
            header: Vec::new(),
            origin: origin.to_owned(),
            done: false,
        };
        loop {
            if !rows.read_record()? {
                return Err(SourceError::NoHeader { origin: origin.to_owned() });
            }
            if !is_blank(&rows.record) {
                rows.header = header_cells(&rows.record, origin)?;
                return Ok(rows);
            }
        }
    }

    pub fn header(&self) -> &[String] {
        &self.header
    }

    fn read_record(&mut self) -> Result<bool, SourceError> {
        self.reader
            .read_byte_record(&mut self.record)
            .map_err(|e| SourceError::Unreadable { origin: self.origin.clone(), message: e.to_string() })
    }

    /// The next data row (or row error); `Ok(None)` at the end.
    pub fn next_item(&mut self) -> Result<Option<SourceItem>, SourceError> {
        loop {
            if self.done || !self.read_record()? {
                self.done = true;
                return Ok(None);
            }
            let end = self.reader.position().byte();
            let row = self.reader.get_mut().start_line(end, &self.record);
            if is_blank(&self.record) {
                continue;
            }
            let width = self.header.len();
            return Ok(Some(match decode(&self.record) {
                Ok(cells) if cells.len() == width => SourceItem::Row(SourceRow { row, cells, link: None }),
                Ok(cells) => SourceItem::Bad(RowError {
                    row,
                    external_id: None,
                    message: format!(
                        "the row has {} fields but the header has {width} (a missing or extra delimiter?)",
                        cells.len()
                    ),
                }),
                Err(column) => SourceItem::Bad(RowError {
                    row,
                    external_id: None,
                    message: format!("field {} is not valid UTF-8 (save the file as UTF-8)", column + 1),
                }),
            }));
        }
    }

    /// Reads every remaining row into memory.
    pub fn collect_all(mut self) -> Result<SourceData, SourceError> {
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

/// Finds the line a record starts on. The csv crate's own record positions are those of
/// the previous record's end (and differ between LF and CRLF files), so the lines are
/// counted here: the reader below the parser notes where each newline is, and a record
/// starts on the line of its last byte, less the newlines inside its fields.
struct LineTracker<R> {
    inner: R,
    offset: u64,
    newlines: VecDeque<u64>,
    passed: u64,
}

impl<R: Read> LineTracker<R> {
    fn new(inner: R) -> LineTracker<R> {
        LineTracker { inner, offset: 0, newlines: VecDeque::new(), passed: 0 }
    }

    /// The 1-based line of byte `end - 1` (a record's last byte, or its terminator),
    /// less the newlines inside the record. `end` only grows between calls.
    fn start_line(&mut self, end: u64, record: &::csv::ByteRecord) -> u64 {
        let last = end.saturating_sub(1);
        while self.newlines.front().is_some_and(|&o| o < last) {
            self.newlines.pop_front();
            self.passed += 1;
        }
        let inside = record.iter().map(|f| memchr::memchr_iter(b'\n', f).count() as u64).sum::<u64>();
        (self.passed + 1).saturating_sub(inside).max(1)
    }
}

impl<R: Read> Read for LineTracker<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let offset = self.offset;
        self.newlines.extend(memchr::memchr_iter(b'\n', &buf[..n]).map(|i| offset + i as u64));
        self.offset += n as u64;
        Ok(n)
    }
}

fn is_blank(record: &::csv::ByteRecord) -> bool {
    record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace))
}

fn header_cells(record: &::csv::ByteRecord, origin: &str) -> Result<Vec<String>, SourceError> {
    let mut cells = decode(record).map_err(|column| SourceError::Unreadable {
        origin: origin.to_owned(),
        message: format!("header field {} is not valid UTF-8", column + 1),
    })?;
    if let Some(first) = cells.first_mut()
        && let Some(stripped) = first.strip_prefix('\u{feff}')
    {
        *first = stripped.to_owned();
    }
    for c in &mut cells {
        let trimmed = c.trim();
        if trimmed.len() != c.len() {
            *c = trimmed.to_owned();
        }
    }
    Ok(cells)
}

/// The fields as strings, or the index of the first field that is not UTF-8.
fn decode(record: &::csv::ByteRecord) -> Result<Vec<String>, usize> {
    record.iter().enumerate().map(|(i, f)| std::str::from_utf8(f).map(str::to_owned).map_err(|_| i)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8]) -> SourceData {
        read(bytes, b',', "t.csv").unwrap()
    }

    #[test]
    fn bom_crlf_quotes_and_line_numbers() {
        let data = parse(b"\xef\xbb\xbfID,Name\r\n1,\"Doe, Jane\"\r\n\r\n2,\"multi\nline \"\"q\"\"\"\r\n3,x\r\n");
        assert_eq!(data.header, vec!["ID", "Name"]);
        let rows: Vec<(u64, &str)> = data.rows.iter().map(|r| (r.row, r.cells[1].as_str())).collect();
        assert_eq!(rows, vec![(2, "Doe, Jane"), (4, "multi\nline \"q\""), (6, "x")]);
        assert!(data.errors.is_empty());
    }

    #[test]
    fn line_numbers_in_lf_files_and_without_a_final_newline() {
        let data = parse(b"ID,Name\n1,a\n\n2,\"m\nl\"\n\n\n3,x");
        let rows: Vec<u64> = data.rows.iter().map(|r| r.row).collect();
        assert_eq!(rows, vec![2, 4, 8]);
    }

    #[test]
    fn ragged_and_invalid_utf8_rows_are_row_errors() {
        let data = parse(b"ID,Name\n1,a\n2\n3,\xff\xfe\n4,b,c\n5,ok\n");
        assert_eq!(data.rows.iter().map(|r| r.row).collect::<Vec<_>>(), vec![2, 6]);
        let errs: Vec<u64> = data.errors.iter().map(|e| e.row).collect();
        assert_eq!(errs, vec![3, 4, 5]);
        assert!(data.errors[1].message.contains("UTF-8"));
    }

    #[test]
    fn empty_input_has_no_header() {
        assert!(matches!(read(&b""[..], b',', "t.csv"), Err(SourceError::NoHeader { .. })));
        assert!(matches!(read(&b"\n\n"[..], b',', "t.csv"), Err(SourceError::NoHeader { .. })));
    }

    #[test]
    fn blank_rows_and_delimiter() {
        let data = read(&b"ID;Name\n1;a\n;\n2;b\n"[..], b';', "t.csv").unwrap();
        assert_eq!(data.rows.len(), 2);
        assert_eq!(data.rows[1].row, 4);
    }
}
