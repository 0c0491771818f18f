//! The CSV source: a header row, then one record per row. UTF-8 with or without a BOM, or
//! the encoding `[source] encoding` names (or the one a byte order mark or `chardetng`
//! finds, with `"auto"`), transcoded to UTF-8 as it is read (`encoding_rs`);
//! CRLF or LF, quoted fields (commas, quotes, newlines inside), Excel's `sep=;` first line
//! (it sets the delimiter). The header is the first line, the line `header_row` names, or
//! the first line (of the first [`HEADER_SEARCH`]) that holds every mapped column, so notes
//! above it are skipped. A file not in its encoding (Windows-1252 read as UTF-8, UTF-16) is
//! a file-level error that names the encoding the file looks like; a ragged row or a NUL
//! byte is a per-row error; blank rows are skipped, and so are empty cells past the
//! header's last named column.

use std::io::{Chain, Cursor, Read};
use std::path::Path;

use encoding_rs::Encoding;

use crate::config::TextEncoding;

use super::{EncodingProblem, RowError, SourceData, SourceError, SourceItem, SourceRow};

const UTF8_BOM: &[u8] = b"\xef\xbb\xbf";
/// How much of the file is read first: for a BOM, a `sep=` line, and the encoding guess.
const PREFIX: usize = 1 << 16;
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
}

impl<R: Read> CsvRows<R> {
    /// Reads a UTF-8 file up to and including its first non-blank line, the header.
    pub fn open(input: R, delimiter: u8, origin: &str) -> Result<CsvRows<R>, SourceError> {
        CsvRows::open_with(input, &CsvOptions { delimiter, ..CsvOptions::default() }, origin)
    }

    /// Reads up to and including the header row. A first line `sep=X` (Excel's hint)
    /// sets the delimiter to `X` and is not a row.
    pub fn open_with(mut input: R, options: &CsvOptions, origin: &str) -> Result<CsvRows<R>, SourceError> {
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
            (TextEncoding::Named(e), _) => Some(e),
            (TextEncoding::Auto, Some(e)) => Some(e),
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
        for f in self.record.iter() {
            bytes.push(b'\n');
            bytes.extend_from_slice(f);
        }
        let guess = detect(&bytes, true);
        let guess = if guess == encoding_rs::UTF_8 { encoding_rs::WINDOWS_1252 } else { guess };
        let problem = EncodingProblem::NotUtf8 { field: field + 1, guess: guess.name() };
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
    pub fn next_item(&mut self) -> Result<Option<SourceItem>, SourceError> {
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
            let mut cells = match decode(&self.record) {
                Ok(cells) => cells,
                Err(field) => return Err(self.not_utf8(row, field)),
            };
            // Empty cells past the header's last column (Excel's trailing delimiters) are nothing.
            if cells.len() > width && cells[width..].iter().all(|c| c.trim().is_empty()) {
                cells.truncate(width);
            }
            return Ok(Some(match cells.iter().position(|c| c.contains('\0')) {
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

/// Finds the line a record starts on, and keeps the record's raw bytes. The csv crate's own
/// record positions are those of the previous record's end (and differ between LF and CRLF
/// files), so the lines are counted here: the reader below the parser keeps the bytes not
/// yet claimed by a record; when the parser returns one (ending at byte `end`), its bytes
/// are counted for line breaks (LF, CRLF, or a lone CR as old Mac exports have) and let go.
struct LineTracker<R> {
    inner: R,
    delimiter: u8,
    /// Bytes read from `inner` from offset `mark` on (`kept[start..]`; `kept[..start]` is spent).
    kept: Vec<u8>,
    start: usize,
    mark: u64,
    /// The line at offset `mark`, and whether the byte before it was a CR.
    mark_line: u64,
    after_cr: bool,
}

/// A record's place in the file: its first line, and whether it ends inside a quoted field
/// (a quote opened and never closed: the parser read to the end of the file).
struct Placed {
    line: u64,
    unclosed: bool,
}

impl<R: Read> LineTracker<R> {
    /// `skipped`: lines before the first byte `inner` yields (a `sep=` line).
    fn new(inner: R, delimiter: u8, skipped: u64) -> LineTracker<R> {
        LineTracker { inner, delimiter, kept: Vec::new(), start: 0, mark: 0, mark_line: 1 + skipped, after_cr: false }
    }

    /// Places the record the parser just returned, which ends at byte `end` (terminator
    /// included); `end` only grows between calls.
    fn place(&mut self, end: u64, record: &::csv::ByteRecord) -> Placed {
        let len =
            usize::try_from(end.saturating_sub(self.mark)).unwrap_or(usize::MAX).min(self.kept.len() - self.start);
        let raw = &self.kept[self.start..self.start + len];
        // Empty lines before a record are skipped by the parser but are lines.
        let lead = raw.iter().take_while(|b| matches!(b, b'\r' | b'\n')).count();
        let line = self.mark_line + breaks_after(&raw[..lead], self.after_cr);
        let unclosed = record.iter().any(|f| line_breaks(f) > 0) && ends_in_quotes(&raw[lead..], self.delimiter);
        self.mark_line += breaks_after(raw, self.after_cr);
        if let Some(&last) = raw.last() {
            self.after_cr = last == b'\r';
        }
        self.start += len;
        self.mark += len as u64;
        if self.start > (1 << 16) && self.start * 2 > self.kept.len() {
            self.kept.drain(..self.start);
            self.start = 0;
        }
        Placed { line, unclosed }
    }
}

impl<R: Read> Read for LineTracker<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.kept.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

/// Line breaks in `bytes` when the byte before them was a CR (`after_cr`): a leading LF then
/// completes that CRLF.
fn breaks_after(bytes: &[u8], after_cr: bool) -> u64 {
    let skip = usize::from(after_cr && bytes.first() == Some(&b'\n'));
    line_breaks(&bytes[skip..])
}

/// Whether the raw bytes of a record end inside a quoted field, read as the parser reads
/// them: a quote opens a field only at its start, and `""` inside one is a quote.
fn ends_in_quotes(raw: &[u8], delimiter: u8) -> bool {
    let mut quoted = false;
    let mut field_start = true;
    let mut bytes = raw.iter().copied().peekable();
    while let Some(b) = bytes.next() {
        if quoted {
            if b == b'"' {
                if bytes.peek() == Some(&b'"') {
                    bytes.next();
                } else {
                    quoted = false;
                    field_start = false;
                }
            }
        } else if b == b'"' && field_start {
            quoted = true;
        } else {
            field_start = b == delimiter || b == b'\n' || b == b'\r';
        }
    }
    quoted
}

/// Line breaks in `bytes`: LF, CRLF, or a lone CR.
pub fn line_breaks(bytes: &[u8]) -> u64 {
    memchr::memchr2_iter(b'\n', b'\r', bytes).filter(|&i| bytes[i] == b'\n' || bytes.get(i + 1) != Some(&b'\n')).count()
        as u64
}

fn is_blank(record: &::csv::ByteRecord) -> bool {
    record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace))
}

/// Reads the first [`PREFIX`] bytes (fewer in a shorter file).
fn read_prefix(input: &mut impl Read) -> std::io::Result<Vec<u8>> {
    let mut prefix = vec![0; PREFIX];
    let mut len = 0;
    while len < PREFIX {
        match input.read(&mut prefix[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    prefix.truncate(len);
    Ok(prefix)
}

/// Excel's `sep=X` first line: the delimiter and the line's length with its line break.
fn sep_line(prefix: &[u8]) -> Option<(u8, usize)> {
    prefix.get(..4).filter(|p| p.eq_ignore_ascii_case(b"sep="))?;
    let sep = *prefix.get(4).filter(|b| b.is_ascii() && !matches!(b, b'\r' | b'\n' | b'"'))?;
    match prefix.get(5..) {
        Some([b'\n', ..]) => Some((sep, 6)),
        Some([b'\r', b'\n', ..]) => Some((sep, 7)),
        _ => None,
    }
}

/// The encoding of a file that starts with `bytes`: UTF-8 if they are UTF-8 (a character
/// cut at the end of an unfinished sample counts), else `chardetng`'s guess.
fn detect(bytes: &[u8], whole: bool) -> &'static Encoding {
    match std::str::from_utf8(bytes) {
        Ok(_) => return encoding_rs::UTF_8,
        Err(e) if !whole && e.error_len().is_none() => return encoding_rs::UTF_8,
        Err(_) => {}
    }
    let mut detector = chardetng::EncodingDetector::new();
    detector.feed(bytes, true);
    detector.guess(None, true)
}

/// The fields as strings, or the index of the first field that is not UTF-8.
fn decode(record: &::csv::ByteRecord) -> Result<Vec<String>, usize> {
    record.iter().enumerate().map(|(i, f)| std::str::from_utf8(f).map(str::to_owned).map_err(|_| i)).collect()
}

/// A reader of a file in `encoding`, transcoded to UTF-8 (its byte order mark dropped);
/// with no encoding, the file's bytes as they are.
struct Transcoded<R> {
    inner: R,
    decoder: Option<encoding_rs::Decoder>,
    /// Transcoded bytes not yet read (`out[start..]`).
    out: Vec<u8>,
    start: usize,
    done: bool,
}

impl<R: Read> Transcoded<R> {
    fn new(inner: R, encoding: Option<&'static Encoding>) -> Transcoded<R> {
        let decoder = encoding.map(Encoding::new_decoder_with_bom_removal);
        Transcoded { inner, decoder, out: Vec::new(), start: 0, done: false }
    }
}

impl<R: Read> Read for Transcoded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let Some(decoder) = self.decoder.as_mut() else { return self.inner.read(buf) };
        while self.start == self.out.len() {
            if self.done {
                return Ok(0);
            }
            let mut raw = [0u8; 1 << 13];
            let n = self.inner.read(&mut raw)?;
            self.done = n == 0;
            let room = decoder.max_utf8_buffer_length(n).unwrap_or(4 * n + 16);
            self.out.resize(room, 0);
            // With room for the worst case, one call takes all of the input.
            let (_, _, written, _) = decoder.decode_to_utf8(&raw[..n], &mut self.out, self.done);
            self.out.truncate(written);
            self.start = 0;
        }
        let n = buf.len().min(self.out.len() - self.start);
        buf[..n].copy_from_slice(&self.out[self.start..self.start + n]);
        self.start += n;
        Ok(n)
    }
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
    fn a_quote_never_closed_is_a_file_error_at_its_line() {
        // Read as the csv crate does, rows 4 and 5 would vanish into row 3's second cell.
        let err = read(&b"ID,Name\r\n1,a\r\n\r\n3,\"b\r\n4,c\r\n5,d\r\n"[..], b',', "t.csv").unwrap_err();
        assert!(err.is_config());
        assert!(err.to_string().starts_with("t.csv:4: a quote opened on this line is never closed"), "{err}");
        // Closed quotes, doubled quotes and a quote inside an unquoted field are fine.
        let data = parse(b"ID,Name\n1,\"a\n\"\"b\"\"\"\n2,x\"y\n3,z\n");
        assert_eq!(data.rows.iter().map(|r| r.row).collect::<Vec<_>>(), vec![2, 4, 5]);
        assert_eq!(data.rows[1].cells[1], "x\"y");
    }

    #[test]
    fn line_numbers_in_cr_files() {
        let data = parse(b"ID,Name\r1,a\r\r2,\"m\rl\"\r3,x\r");
        let rows: Vec<u64> = data.rows.iter().map(|r| r.row).collect();
        assert_eq!(rows, vec![2, 4, 6]);
    }

    #[test]
    fn line_numbers_in_lf_files_and_without_a_final_newline() {
        let data = parse(b"ID,Name\n1,a\n\n2,\"m\nl\"\n\n\n3,x");
        let rows: Vec<u64> = data.rows.iter().map(|r| r.row).collect();
        assert_eq!(rows, vec![2, 4, 8]);
    }

    #[test]
    fn ragged_rows_and_nul_bytes_are_row_errors() {
        let data = parse(b"ID,Name\n1,a\n2\n3,x\0y\n4,b,c\n5,ok\n6,ok,,\n");
        assert_eq!(data.rows.iter().map(|r| r.row).collect::<Vec<_>>(), vec![2, 6, 7]);
        assert_eq!(data.rows[2].cells, vec!["6", "ok"]);
        let errs: Vec<u64> = data.errors.iter().map(|e| e.row).collect();
        assert_eq!(errs, vec![3, 4, 5]);
        assert!(data.errors[1].message.contains("field 2 holds a NUL byte"), "{}", data.errors[1].message);
    }

    #[test]
    fn a_file_that_is_not_utf8_is_a_file_error_with_its_line() {
        let err = read(&b"ID,Name\n1,a\n\n3,Ren\xe9\n"[..], b',', "t.csv").unwrap_err();
        assert!(err.is_config());
        let msg = err.to_string();
        assert!(msg.starts_with("t.csv:4: field 2 is not UTF-8: the file looks like windows-125"), "{msg}");
        assert!(msg.contains("CSV UTF-8"), "{msg}");
        let err = read(&b"\xff\xfeI\0D\0\n\0"[..], b',', "t.csv").unwrap_err();
        assert!(err.to_string().contains("UTF-16"), "{err}");
        let err = read(&b"I\0D\0\n\0"[..], b',', "t.csv").unwrap_err();
        assert!(err.to_string().contains("NUL"), "{err}");
    }

    #[test]
    fn other_encodings_by_name_or_detected_and_suggested() {
        // "Имя,Телефон\nИван,1\n" in Windows-1251.
        let cp1251: &[u8] = b"\xc8\xec\xff,\xd2\xe5\xeb\xe5\xf4\xee\xed\n\xc8\xe2\xe0\xed \xcf\xe5\xf2\xf0\xee\xe2,1\n";
        let err = read(cp1251, b',', "t.csv").unwrap_err().to_string();
        assert!(err.starts_with("t.csv:1: field 1 is not UTF-8: the file looks like windows-1251"), "{err}");
        assert!(err.contains("set [source] encoding = \"windows-1251\""), "{err}");
        for encoding in [TextEncoding::parse("windows-1251").unwrap(), TextEncoding::Auto] {
            let options = CsvOptions { encoding, ..CsvOptions::default() };
            let data = read_with(cp1251, &options, "t.csv").unwrap();
            assert_eq!(data.header, vec!["Имя", "Телефон"]);
            assert_eq!(data.rows[0].cells[0], "Иван Петров");
        }
        // Auto keeps UTF-8 as it is.
        let options = CsvOptions { encoding: TextEncoding::Auto, ..CsvOptions::default() };
        assert_eq!(read_with("ID,Näme\n1,é\n".as_bytes(), &options, "t.csv").unwrap().header[1], "Näme");
        assert!(TextEncoding::parse("klingon").is_err());
        assert!(TextEncoding::parse("iso-2022-kr").is_err());
        // UTF-16 (Excel's "Unicode Text") by name or by its byte order mark.
        let utf16: Vec<u8> = [0xff, 0xfe]
            .into_iter()
            .chain("ID\tName\r\n1\tRené\r\n".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        for encoding in [TextEncoding::parse("utf-16le").unwrap(), TextEncoding::Auto] {
            let options = CsvOptions { encoding, delimiter: b'\t', ..CsvOptions::default() };
            let data = read_with(&utf16[..], &options, "t.csv").unwrap();
            assert_eq!(
                (data.header[1].as_str(), data.rows[0].cells[1].as_str(), data.rows[0].row),
                ("Name", "René", 2)
            );
        }
        assert_eq!(TextEncoding::parse("UTF8"), Ok(TextEncoding::Utf8));
    }

    #[test]
    fn the_header_is_found_below_notes_or_at_its_line() {
        let text = b"Notes:\n\"Some notes, with a comma\"\n\nFirst Name,Email\nAnn,a@x.io\n";
        let find =
            CsvOptions { header: HeaderAt::Find(vec!["First Name".into(), "Email".into()]), ..CsvOptions::default() };
        let data = read_with(&text[..], &find, "t.csv").unwrap();
        assert_eq!(data.header, vec!["First Name", "Email"]);
        assert_eq!((data.rows[0].row, data.errors.len()), (5, 0));
        let at = CsvOptions { header: HeaderAt::Line(4), ..CsvOptions::default() };
        assert_eq!(read_with(&text[..], &at, "t.csv").unwrap().header, vec!["First Name", "Email"]);
        // No line holds every column: the first line is the header (the mapping says what it lacks).
        let find = CsvOptions { header: HeaderAt::Find(vec!["Phone".into()]), ..CsvOptions::default() };
        assert_eq!(read_with(&text[..], &find, "t.csv").unwrap().header, vec!["Notes:"]);
    }

    #[test]
    fn excel_sep_line_sets_the_delimiter_and_counts_as_a_line() {
        let data = parse(b"\xef\xbb\xbfsep=;\r\nID;Name;;\r\n1;\"a;b\";;\r\n2;c\r\n");
        assert_eq!(data.header, vec!["ID", "Name"]);
        let rows: Vec<(u64, &str)> = data.rows.iter().map(|r| (r.row, r.cells[1].as_str())).collect();
        assert_eq!(rows, vec![(3, "a;b"), (4, "c")]);
        // Not a sep line: a header that starts with "sep=".
        let data = parse(b"sep=x,y\n1,2\n");
        assert_eq!(data.header, vec!["sep=x", "y"]);
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
