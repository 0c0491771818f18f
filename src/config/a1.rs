//! A1 notation: parses the configured `range` (to reject a malformed one before any request,
//! and to know the tab it names) and the range the API says it returned (to number rows), and
//! writes the one-column ranges used to tell date cells from numbers.

use std::fmt;

/// The largest row a Google sheet can have (10 million cells, at least one column).
const MAX_ROW: u32 = 10_000_000;
/// The largest column a Google sheet can have (18,278 columns: `ZZZ`).
const MAX_COL: u32 = 18_278;

/// One end of a range: a column (0-based), a row (1-based), or both (`A`, `5`, `A5`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellRef {
    pub col: Option<u32>,
    pub row: Option<u32>,
}

/// A parsed A1 range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct A1Range {
    /// The tab (`Contacts!A1:Z`), or the name alone (`Contacts`: a tab or a named range).
    pub sheet: Option<String>,
    /// The cells, when given: the start and, for a range, the end.
    pub cells: Option<(CellRef, Option<CellRef>)>,
}

impl A1Range {
    /// The first row of the range (1 when only columns are named).
    pub fn start_row(&self) -> u32 {
        self.cells.and_then(|(s, _)| s.row).unwrap_or(1)
    }

    /// The first column of the range, 0-based (0 when only rows are named).
    pub fn start_col(&self) -> u32 {
        self.cells.and_then(|(s, _)| s.col).unwrap_or(0)
    }

    /// The last row, when the range has one.
    pub fn end_row(&self) -> Option<u32> {
        match self.cells {
            Some((_, Some(end))) => end.row,
            Some((start, None)) => start.row,
            None => None,
        }
    }

    /// Parses A1 notation: `Tab!A1:Z`, `'My tab'!A5:K100`, `Tab!A:K`, `Tab!5:100`, `A1:Z`
    /// (the first tab), or a name alone (a whole tab, or a named range).
    pub fn parse(text: &str) -> Result<A1Range, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("the range is empty (e.g. \"Contacts!A1:Z\")".into());
        }
        let (sheet, cells) = if let Some(rest) = text.strip_prefix('\'') {
            let (name, after) = unquote(rest)?;
            match after {
                "" => (Some(name), None),
                _ => match after.strip_prefix('!') {
                    Some(cells) => (Some(name), Some(cells)),
                    None => return Err(format!("unexpected {after:?} after the quoted tab name")),
                },
            }
        } else if let Some((name, cells)) = text.split_once('!') {
            if name.is_empty() {
                return Err("the tab name before `!` is empty".into());
            }
            if name.contains('\'') {
                return Err("a tab name with a quote must be quoted, its quotes doubled: 'Bob''s tab'!A1:Z".into());
            }
            (Some(name.to_owned()), Some(cells))
        } else {
            match parse_cells(text) {
                Ok(cells) => return Ok(A1Range { sheet: None, cells: Some(cells) }),
                Err(_) => (Some(text.to_owned()), None),
            }
        };
        let cells = match cells {
            Some("") => return Err("no cells after `!` (e.g. \"Contacts!A1:Z\")".into()),
            Some(c) => Some(parse_cells(c)?),
            None => None,
        };
        Ok(A1Range { sheet, cells })
    }
}

impl fmt::Display for A1Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(sheet) = &self.sheet {
            f.write_str(&quote_sheet(sheet))?;
            if self.cells.is_some() {
                f.write_str("!")?;
            }
        }
        if let Some((start, end)) = self.cells {
            write!(f, "{start}")?;
            if let Some(end) = end {
                write!(f, ":{end}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for CellRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(col) = self.col {
            f.write_str(&col_letters(col))?;
        }
        if let Some(row) = self.row {
            write!(f, "{row}")?;
        }
        Ok(())
    }
}

/// The part after the opening quote: the name (with `''` as `'`) and what follows the closing quote.
fn unquote(rest: &str) -> Result<(String, &str), String> {
    let mut name = String::new();
    let mut chars = rest.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '\'' {
            name.push(c);
            continue;
        }
        if let Some((_, '\'')) = chars.peek() {
            chars.next();
            name.push('\'');
            continue;
        }
        if name.is_empty() {
            return Err("the quoted tab name is empty".into());
        }
        return Ok((name, &rest[i + 1..]));
    }
    Err("the tab name's opening quote is not closed".into())
}

fn parse_cells(text: &str) -> Result<(CellRef, Option<CellRef>), String> {
    let mut parts = text.split(':');
    let start = parse_ref(parts.next().unwrap_or(""))?;
    let end = parts.next().map(parse_ref).transpose()?;
    if parts.next().is_some() {
        return Err(format!("{text:?} has more than one `:`"));
    }
    match end {
        None if start.col.is_none() || start.row.is_none() => {
            Err(format!("{text:?} is not a cell or a range (e.g. A1, A1:Z, A:Z, 5:100)"))
        }
        Some(end) => {
            // A5:Z100, A5:Z, A:Z and 5:100; Google's other mixtures are not worth the doubt.
            let shape_ok = matches!(
                (start.col, start.row, end.col, end.row),
                (Some(_), Some(_), Some(_), _) | (Some(_), None, Some(_), None) | (None, Some(_), None, Some(_))
            );
            if !shape_ok {
                return Err(format!(
                    "{text:?} is not a range A1 notation allows here (e.g. A1:Z, A5:K100, A:Z, 5:100)"
                ));
            }
            if let (Some(a), Some(b)) = (start.row, end.row)
                && b < a
            {
                return Err(format!("{text:?} ends on a row before it starts"));
            }
            if let (Some(a), Some(b)) = (start.col, end.col)
                && b < a
            {
                return Err(format!("{text:?} ends on a column before it starts"));
            }
            Ok((start, Some(end)))
        }
        None => Ok((start, None)),
    }
}

fn parse_ref(text: &str) -> Result<CellRef, String> {
    let letters = text.bytes().take_while(u8::is_ascii_alphabetic).count();
    let (col, row) = text.split_at(letters);
    if (col.is_empty() && row.is_empty()) || !row.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{text:?} is not a cell reference (e.g. A1, A, 5)"));
    }
    let col = match col {
        "" => None,
        letters => Some(col_index(letters).ok_or_else(|| format!("column {letters:?} is beyond the last column ZZZ"))?),
    };
    let row = match row {
        "" => None,
        digits => match digits.parse::<u32>() {
            Ok(n) if (1..=MAX_ROW).contains(&n) => Some(n),
            _ => return Err(format!("row {digits} is not between 1 and {MAX_ROW}")),
        },
    };
    Ok(CellRef { col, row })
}

/// `A` → 0, `Z` → 25, `AA` → 26; `None` beyond `ZZZ`.
fn col_index(letters: &str) -> Option<u32> {
    if letters.is_empty() || letters.len() > 3 {
        return None;
    }
    let n = letters.bytes().fold(0u32, |n, b| n * 26 + u32::from(b.to_ascii_uppercase() - b'A' + 1));
    (n <= MAX_COL).then(|| n - 1)
}

/// 0 → `A`, 25 → `Z`, 26 → `AA`.
pub fn col_letters(index: u32) -> String {
    let mut n = index + 1;
    let mut out = Vec::new();
    while n > 0 {
        let r = (n - 1) % 26;
        out.push(b'A' + r as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).expect("ASCII letters")
}

/// A tab name as A1 notation wants it: bare when plain, else quoted with `'` doubled.
pub fn quote_sheet(name: &str) -> String {
    let plain = name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.is_empty()
        && A1Range::parse(name).is_ok_and(|r| r.cells.is_none());
    if plain { name.to_owned() } else { format!("'{}'", name.replace('\'', "''")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(col: Option<u32>, row: Option<u32>) -> CellRef {
        CellRef { col, row }
    }

    #[test]
    fn parses_the_usual_forms() {
        let a = A1Range::parse("Contacts!A5:Z").unwrap();
        assert_eq!(a.sheet.as_deref(), Some("Contacts"));
        assert_eq!(a.cells, Some((r(Some(0), Some(5)), Some(r(Some(25), None)))));
        assert_eq!((a.start_row(), a.start_col(), a.end_row()), (5, 0, None));

        let a = A1Range::parse("'Bob''s list'!C2:F100").unwrap();
        assert_eq!(a.sheet.as_deref(), Some("Bob's list"));
        assert_eq!((a.start_row(), a.start_col(), a.end_row()), (2, 2, Some(100)));
        assert_eq!(a.to_string(), "'Bob''s list'!C2:F100");

        let a = A1Range::parse("A1:Z").unwrap();
        assert_eq!(a.sheet, None);
        assert_eq!(a.to_string(), "A1:Z");

        let a = A1Range::parse("Contacts").unwrap();
        assert_eq!((a.sheet.as_deref(), a.cells), (Some("Contacts"), None));
        assert_eq!(a.start_row(), 1);
        assert_eq!(A1Range::parse("'My tab'").unwrap().sheet.as_deref(), Some("My tab"));

        assert_eq!(A1Range::parse("S!B:D").unwrap().start_row(), 1);
        assert_eq!(A1Range::parse("S!3:9").unwrap().start_col(), 0);
        assert_eq!(A1Range::parse("My tab!a2:c").unwrap().cells.unwrap().0, r(Some(0), Some(2)));
    }

    #[test]
    fn rejects_malformed_ranges() {
        for bad in [
            "",
            "!A1",
            "Contacts!",
            "'Open!A1",
            "'x'A1",
            "S!A0:B",
            "S!A1:B2:C3",
            "S!B5:A",
            "S!A9:B2",
            "S!1A",
            "S!A",
            "S!AAAA1",
            "x'y!A1",
            "S!A1:-",
            "S!5:A",
            "S!A5:9",
            "S!A:B9",
        ] {
            assert!(A1Range::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn columns_and_quoting() {
        for (i, s) in [(0, "A"), (25, "Z"), (26, "AA"), (701, "ZZ"), (702, "AAA"), (18_277, "ZZZ")] {
            assert_eq!(col_letters(i), s);
            assert_eq!(col_index(s), Some(i));
        }
        assert_eq!(col_index("zz"), Some(701));
        assert_eq!(quote_sheet("Contacts"), "Contacts");
        assert_eq!(quote_sheet("My tab"), "'My tab'");
        assert_eq!(quote_sheet("A1"), "'A1'");
        assert_eq!(quote_sheet("it's"), "'it''s'");
    }
}
