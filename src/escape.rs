//! The one rule for text printed for a person (the dry run, `history`, `failures`, `status`,
//! `restore`, `forget`, `check`, `fields`, every `error:` line): characters that a terminal
//! acts on instead of showing, when they come from data (an external id, a name, a value, an
//! error message quoting them), are shown escaped as `\u{..}`, so no data can move the cursor,
//! set the window title, ring the bell or reverse the text around it:
//! - control characters (C0 but tab and newline, DEL, C1), ESC and BEL included;
//! - bidirectional overrides, embeddings and isolates (U+202A–U+202E, U+2066–U+2069), the
//!   direction marks (U+200E, U+200F, U+061C), and the line and paragraph separators
//!   (U+2028, U+2029).
//!
//! JSON output is not escaped here: serde writes it exactly (control characters as `\u001b`).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::Write;

/// Whether `c` is shown escaped. Tab and newline are layout, and kept.
fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
        || matches!(c, '\u{2028}' | '\u{2029}')
}

/// `text` with every unsafe character (`is_unsafe`) shown as `\u{..}`.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A writer for a person: everything written through it is escaped ([`escape`]). Bytes that
/// are not UTF-8 are shown as U+FFFD.
pub struct ForPerson<W: Write>(pub W);

impl<W: Write> Write for ForPerson<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.0.write_all(escape(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_controls_and_bidi_overrides_are_shown_escaped() {
        assert_eq!(escape("INJ-5\u{1b}]0;TITLE\u{7}"), "INJ-5\\u{1b}]0;TITLE\\u{7}");
        assert_eq!(escape("Ann \u{202e}evil\u{2069}"), "Ann \\u{202e}evil\\u{2069}");
        assert_eq!(escape("C1 \u{9b}31m, DEL \u{7f}"), "C1 \\u{9b}31m, DEL \\u{7f}");
        assert!(matches!(escape("Zoë\tO'Brien\n"), Cow::Borrowed(_)), "tab, newline and letters are kept");
        let mut out = ForPerson(Vec::new());
        let data = "x\u{1b}[2J";
        write!(out, "error: {data}").unwrap();
        assert_eq!(out.0, b"error: x\\u{1b}[2J");
    }
}
