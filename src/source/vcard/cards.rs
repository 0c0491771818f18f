//! `.vcf` files → cards → rows. The files are read a line at a time: a card is the lines from
//! `BEGIN:VCARD` to `END:VCARD` (folded lines, quoted-printable soft breaks and groups kept as
//! written, for `calcard` to parse); a binary property (`PHOTO`, `LOGO`, `SOUND`, `KEY`) and
//! its continuation lines are dropped as they are read, so a photo is never held at all. Each
//! card becomes one row: one cell per mapped column ([`Selector`]), and the `UID` column holds
//! the card's UID, else `vcard-` and a hash of its name (`FN`, `N`, `ORG`): a phone number or
//! an email edited later keeps the contact; two cards with one name and no UID share an id,
//! which the mapping reports as a duplicate (neither is synced until one has a UID).

use std::fmt::Write as _;
use std::io::BufRead;
use std::path::PathBuf;

use calcard::vcard::VCard;
use sha2::{Digest, Sha256};

use super::select::{SEPARATOR, Selector};
use crate::source::error::SourceError;
use crate::source::row::{RowError, SourceItem, SourceRow};

const BINARY: &[&str] = &["PHOTO", "LOGO", "SOUND", "KEY"];

/// One card as written: its file, its first line's number and text, and its lines.
struct RawCard {
    file: String,
    line: u64,
    first: String,
    text: String,
    /// Its `END:VCARD` was read (not: the file ended, or another card began, inside it).
    ended: bool,
}

/// The rows of every card of `files`, in order.
pub struct CardRows {
    files: std::vec::IntoIter<PathBuf>,
    current: Option<(String, Box<dyn BufRead + Send>, u64)>,
    columns: Vec<Selector>,
    uid: Option<usize>,
    /// FN, N and ORG: what a card without a UID is known by.
    name_parts: Vec<Selector>,
    /// A card whose `BEGIN:VCARD` ended the card before it.
    pending: Option<RawCard>,
    number: u64,
    done: bool,
}

impl CardRows {
    /// Numbers the cards from `before + 1`: a folder's files are read one guarded file at a
    /// time, and a card keeps the number it has in the whole folder.
    pub fn numbered_after(self, before: u64) -> CardRows {
        CardRows { number: before, ..self }
    }

    /// `columns`: the mapping's columns, each a [`Selector`] (checked by the caller).
    pub fn new(files: Vec<PathBuf>, columns: Vec<Selector>) -> CardRows {
        let uid = columns.iter().position(|s| s.name == "UID" && s.part.is_none() && s.types.is_empty());
        let name_parts = ["FN", "N", "ORG"].iter().map(|n| Selector::parse(n).expect("a property name")).collect();
        CardRows {
            files: files.into_iter(),
            current: None,
            columns,
            uid,
            name_parts,
            pending: None,
            number: 0,
            done: false,
        }
    }

    /// The next card as written, from this file or the next.
    fn next_raw(&mut self) -> Result<Option<RawCard>, SourceError> {
        loop {
            if self.current.is_none() {
                let Some(path) = self.files.next() else { return Ok(None) };
                let origin = path.display().to_string();
                let file = std::fs::File::open(&path)
                    .map_err(|e| SourceError::Unreadable { origin: origin.clone(), message: e.to_string() })?;
                self.current = Some((origin, Box::new(std::io::BufReader::with_capacity(1 << 16, file)), 0));
            }
            let (origin, reader, line) = self.current.as_mut().expect("opened above");
            let mut card: Option<RawCard> = self.pending.take();
            let mut skipping = false;
            let mut buf = Vec::new();
            loop {
                buf.clear();
                let n = reader
                    .read_until(b'\n', &mut buf)
                    .map_err(|e| SourceError::Unreadable { origin: origin.clone(), message: e.to_string() })?;
                if n == 0 {
                    // A card never ended is still a card: the parser says what is wrong.
                    let last = card.take();
                    self.current = None;
                    match last {
                        Some(c) => return Ok(Some(c)),
                        None => break,
                    }
                }
                *line += 1;
                let text = String::from_utf8_lossy(&buf);
                let bare = text.trim_end_matches(['\r', '\n']);
                let continued = bare.starts_with([' ', '\t']);
                let begin = bare.trim_start_matches('\u{feff}').eq_ignore_ascii_case("BEGIN:VCARD");
                if skipping && (continued || bare.is_empty()) {
                    continue;
                }
                skipping = false;
                if begin {
                    let new = RawCard {
                        file: origin.clone(),
                        line: *line,
                        first: bare.to_owned(),
                        text: "BEGIN:VCARD\n".to_owned(),
                        ended: false,
                    };
                    match card.replace(new) {
                        // The card before never ended.
                        Some(unended) => {
                            self.pending = card;
                            return Ok(Some(unended));
                        }
                        None => continue,
                    }
                }
                match &mut card {
                    None => {}
                    Some(c) => {
                        if !continued && BINARY.contains(&property_name(bare).as_str()) {
                            skipping = true;
                            continue;
                        }
                        c.text.push_str(bare);
                        c.text.push('\n');
                        if bare.eq_ignore_ascii_case("END:VCARD") {
                            c.ended = true;
                            return Ok(card);
                        }
                    }
                }
            }
        }
    }

    fn row(&self, raw: RawCard) -> SourceItem {
        let row = self.number;
        if !raw.ended {
            return SourceItem::Bad(RowError {
                row,
                external_id: None,
                message: format!(
                    "card {row} ({}:{}, {:?}) has no END:VCARD: the file ends, or another card begins, inside it",
                    crate::escape::escape(&raw.file),
                    raw.line,
                    raw.first
                ),
            });
        }
        let card = match VCard::parse(&raw.text) {
            Ok(card) => card,
            Err(e) => {
                let why = match e {
                    calcard::Entry::InvalidLine(l) => format!("a line it cannot read: {l:?}"),
                    calcard::Entry::UnterminatedComponent(_) | calcard::Entry::Eof => "it has no END:VCARD".to_owned(),
                    other => format!("{other:?}"),
                };
                return SourceItem::Bad(RowError {
                    row,
                    external_id: None,
                    message: format!(
                        "card {row} ({}:{}, {:?}) is not a vCard that can be read: {why}",
                        crate::escape::escape(&raw.file),
                        raw.line,
                        raw.first
                    ),
                });
            }
        };
        let mut cells: Vec<String> = self.columns.iter().map(|s| s.values(&card.entries).join(SEPARATOR)).collect();
        if let Some(uid) = self.uid
            && cells[uid].is_empty()
        {
            let mut h = Sha256::new();
            for name in &self.name_parts {
                h.update(name.values(&card.entries).join(SEPARATOR).as_bytes());
                h.update([0x1f]);
            }
            let digest = h.finalize();
            cells[uid] = digest.iter().take(8).fold(String::from("vcard-"), |mut s, b| {
                let _ = write!(s, "{b:02x}");
                s
            });
        }
        SourceItem::Row(SourceRow { row, cells: cells.into(), link: None })
    }
}

/// The property's name on a content line, without its group: `item1.EMAIL;TYPE=x:` → `EMAIL`.
fn property_name(line: &str) -> String {
    let end = line.find([':', ';']).unwrap_or(line.len());
    let name = &line[..end];
    name.rsplit('.').next().unwrap_or(name).to_ascii_uppercase()
}

impl Iterator for CardRows {
    type Item = Result<SourceItem, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_raw() {
            Ok(Some(raw)) => {
                self.number += 1;
                Some(Ok(self.row(raw)))
            }
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cards_of_every_origin_read_as_rows() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vcards");
        let cols = [
            "UID",
            "N.given",
            "N.family",
            "ORG",
            "TEL[type=cell]",
            "TEL",
            "EMAIL",
            "NOTE",
            "BDAY",
            "URL",
            "X-ANDROID-CUSTOM",
        ];
        let selectors = cols.iter().map(|c| Selector::parse(c).unwrap()).collect();
        let files = ["android.vcf", "google.vcf", "iphone.vcf", "outlook.vcf", "rfc6350.vcf"]
            .iter()
            .map(|f| dir.join(f))
            .collect();
        let rows: Vec<_> = CardRows::new(files, selectors)
            .map(|r| match r.unwrap() {
                SourceItem::Row(r) => (r.row, r.cells.iter().map(str::to_owned).collect::<Vec<_>>()),
                SourceItem::Bad(e) => panic!("{e:?}"),
            })
            .collect();
        assert_eq!(rows.len(), 6);
        let card = |given: &str| &rows.iter().find(|r| r.1[1] == given).unwrap().1;
        // Android 2.1: quoted-printable UTF-8, an X- property, a photo skipped.
        assert_eq!((card("Jürgen")[2].as_str(), card("Jürgen")[4].as_str()), ("Müller", "+49 151 23456789"));
        assert_eq!(card("Jürgen")[10], "vnd.android.cursor.item/nickname;Jo;1;;;;;;;;;;;;;");
        // Google: several emails in one cell, `\:` unescaped, a folded note unfolded.
        assert_eq!(card("Bo")[6], "bo@work.example.com ::: bo@example.com");
        assert_eq!(card("Bo")[9], "https://bo.example.com");
        assert!(card("Eve")[7].ends_with("seventy-five octets, as RFC 6350 folding says."));
        // iPhone: a grouped email, the cell phone by its type, a date.
        assert_eq!((card("Ana")[4].as_str(), card("Ana")[6].as_str()), ("(201) 555-0111", "ana@example.com"));
        assert_eq!(card("Ana")[8], "1990-02-03");
        // Outlook 2.1: bare types, a quoted-printable note.
        assert_eq!(card("Cy")[4], "(201) 555-0133");
        assert_eq!(card("Cy")[7], "First line\r\nSecond line");
        // 4.0: a UID, a tel: URI.
        assert_eq!(card("Dee")[0], "urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1");
        assert_eq!(card("Dee")[4], "+1-201-555-0114");
        assert!(card("Ana")[0].starts_with("vcard-"), "no UID: hashed from the name");
    }
}
