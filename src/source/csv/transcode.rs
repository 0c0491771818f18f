//! The bytes before the parser: the file's first `PREFIX` bytes (for a byte order mark,
//! Excel's `sep=` line and the encoding guess, `chardetng`), and `Transcoded`, the reader
//! that turns a file in another encoding into UTF-8 as it is read (`encoding_rs`).

use std::io::Read;

use encoding_rs::Encoding;

pub(super) const UTF8_BOM: &[u8] = b"\xef\xbb\xbf";
/// How much of the file is read first: for a BOM, a `sep=` line, and the encoding guess.
pub(super) const PREFIX: usize = 1 << 16;
/// Reads the first [`PREFIX`] bytes (fewer in a shorter file).
pub(super) fn read_prefix(input: &mut impl Read) -> std::io::Result<Vec<u8>> {
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
pub(super) fn sep_line(prefix: &[u8]) -> Option<(u8, usize)> {
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
pub(super) fn detect(bytes: &[u8], whole: bool) -> &'static Encoding {
    match std::str::from_utf8(bytes) {
        Ok(_) => return encoding_rs::UTF_8,
        Err(e) if !whole && e.error_len().is_none() => return encoding_rs::UTF_8,
        Err(_) => {}
    }
    let mut detector = chardetng::EncodingDetector::new();
    detector.feed(bytes, true);
    detector.guess(None, true)
}

/// A reader of a file in `encoding`, transcoded to UTF-8 (its byte order mark dropped);
/// with no encoding, the file's bytes as they are.
pub(super) struct Transcoded<R> {
    inner: R,
    decoder: Option<encoding_rs::Decoder>,
    /// Transcoded bytes not yet read (`out[start..]`).
    out: Vec<u8>,
    start: usize,
    done: bool,
}

impl<R: Read> Transcoded<R> {
    pub(super) fn new(inner: R, encoding: Option<&'static Encoding>) -> Transcoded<R> {
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
