//! True line numbers: `LineTracker` sits below the csv parser and counts the line breaks
//! (LF, CRLF, a lone CR) in each record's raw bytes, and tells a quote never closed.

use std::io::Read;

/// Finds the line a record starts on, and keeps the record's raw bytes. The csv crate's own
/// record positions are those of the previous record's end (and differ between LF and CRLF
/// files), so the lines are counted here: the reader below the parser keeps the bytes not
/// yet claimed by a record; when the parser returns one (ending at byte `end`), its bytes
/// are counted for line breaks (LF, CRLF, or a lone CR as old Mac exports have) and let go.
pub(super) struct LineTracker<R> {
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
pub(super) struct Placed {
    pub(super) line: u64,
    pub(super) unclosed: bool,
}

impl<R: Read> LineTracker<R> {
    /// `skipped`: lines before the first byte `inner` yields (a `sep=` line).
    pub(super) fn new(inner: R, delimiter: u8, skipped: u64) -> LineTracker<R> {
        LineTracker { inner, delimiter, kept: Vec::new(), start: 0, mark: 0, mark_line: 1 + skipped, after_cr: false }
    }

    /// Places the record the parser just returned, which ends at byte `end` (terminator
    /// included); `end` only grows between calls.
    pub(super) fn place(&mut self, end: u64, record: &::csv::ByteRecord) -> Placed {
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
