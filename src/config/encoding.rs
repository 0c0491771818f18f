//! `[source] encoding`: [`TextEncoding`], the text encoding a CSV file is read in (a WHATWG
//! label via `encoding_rs`, `utf-8`, or `auto`).

use encoding_rs::Encoding;

/// The text encoding a CSV file is read in (`[source] encoding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextEncoding {
    /// UTF-8; anything else is an error that suggests the encoding the file looks like.
    #[default]
    Utf8,
    /// A WHATWG encoding (`windows-1251`, `shift_jis`, `iso-8859-2`, ...).
    Named(&'static Encoding),
    /// UTF-8 if the start of the file is UTF-8, else what `chardetng` guesses (logged).
    Auto,
}

impl TextEncoding {
    /// `"utf-8"`, `"auto"` or a WHATWG label; `Err` says why not.
    pub fn parse(label: &str) -> Result<TextEncoding, String> {
        if label.trim().eq_ignore_ascii_case("auto") {
            return Ok(TextEncoding::Auto);
        }
        match Encoding::for_label(label.trim().as_bytes()) {
            Some(e) if e == encoding_rs::UTF_8 => Ok(TextEncoding::Utf8),
            Some(e) if e == encoding_rs::REPLACEMENT => {
                Err(format!("{label:?} names no encoding a file is written in"))
            }
            Some(e) => Ok(TextEncoding::Named(e)),
            None => Err(format!(
                "{label:?} is not an encoding name (e.g. \"utf-8\", \"windows-1251\", \"iso-8859-2\", \"shift_jis\", or \"auto\")"
            )),
        }
    }
}
