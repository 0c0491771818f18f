//! `[source] encoding`: [`TextEncoding`], the text encoding a CSV file is read in (a WHATWG
//! label via `encoding_rs`, a common alias of one, `utf-8`, or `auto`), and the close names
//! an unknown one is told about.

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

/// Names people (and Python, Java, iconv, Excel's menus) use that are not WHATWG labels,
/// with the WHATWG label each means. Compared without case, spaces, `-` and `_`.
const ALIASES: &[(&str, &str)] = &[
    ("latin-1", "windows-1252"),
    ("latin", "windows-1252"),
    ("ansi", "windows-1252"),
    ("western", "windows-1252"),
    ("iso-latin-1", "windows-1252"),
    ("windows-latin-1", "windows-1252"),
    ("utf-8-sig", "utf-8"),
    ("utf-8-bom", "utf-8"),
    ("utf-8-with-bom", "utf-8"),
    ("cyrillic", "windows-1251"),
    ("windows-cyrillic", "windows-1251"),
    ("mac-roman", "macintosh"),
    ("mac", "macintosh"),
    ("ucs-2", "utf-16le"),
    ("ucs-2le", "utf-16le"),
    ("ucs-2be", "utf-16be"),
    ("unicode", "utf-16le"),
    ("s-jis", "shift_jis"),
    ("cp932", "shift_jis"),
    ("ms932", "shift_jis"),
    ("cp936", "gbk"),
    ("cp949", "euc-kr"),
    ("cp950", "big5"),
    ("cp20866", "koi8-r"),
    ("cp28591", "windows-1252"),
    ("cp65001", "utf-8"),
];

/// The names offered when a name is unknown: every encoding's WHATWG name, the labels people
/// type most, and [`ALIASES`].
const KNOWN: &[&str] = &[
    "utf-8",
    "utf-16le",
    "utf-16be",
    "windows-1250",
    "windows-1251",
    "windows-1252",
    "windows-1253",
    "windows-1254",
    "windows-1255",
    "windows-1256",
    "windows-1257",
    "windows-1258",
    "windows-874",
    "iso-8859-1",
    "iso-8859-2",
    "iso-8859-3",
    "iso-8859-4",
    "iso-8859-5",
    "iso-8859-6",
    "iso-8859-7",
    "iso-8859-8",
    "iso-8859-10",
    "iso-8859-13",
    "iso-8859-14",
    "iso-8859-15",
    "iso-8859-16",
    "latin1",
    "cp1250",
    "cp1251",
    "cp1252",
    "koi8-r",
    "koi8-u",
    "ibm866",
    "macintosh",
    "x-mac-cyrillic",
    "shift_jis",
    "euc-jp",
    "iso-2022-jp",
    "euc-kr",
    "gbk",
    "gb18030",
    "big5",
    "auto",
];

/// A name compared loosely: lower case, without spaces, `-` and `_`.
fn compact(name: &str) -> String {
    name.chars().filter(|c| !matches!(c, ' ' | '-' | '_')).flat_map(char::to_lowercase).collect()
}

impl TextEncoding {
    /// `"utf-8"`, `"auto"`, a WHATWG label or a common alias (`ALIASES`, `latin-1`,
    /// `utf8`); `Err` says why not, with the close names for one it does not know.
    pub fn parse(label: &str) -> Result<TextEncoding, String> {
        let trimmed = label.trim();
        if trimmed.eq_ignore_ascii_case("auto") {
            return Ok(TextEncoding::Auto);
        }
        let found = Encoding::for_label(trimmed.as_bytes())
            .or_else(|| Encoding::for_label(trimmed.replace('_', "-").as_bytes()))
            .or_else(|| {
                let wanted = compact(trimmed);
                let alias = ALIASES.iter().find(|(a, _)| compact(a) == wanted).map(|(_, to)| *to);
                let known = KNOWN.iter().find(|k| compact(k) == wanted).copied();
                alias.or(known).and_then(|l| Encoding::for_label(l.as_bytes()))
            });
        match found {
            Some(e) if e == encoding_rs::UTF_8 => Ok(TextEncoding::Utf8),
            Some(e) if e == encoding_rs::REPLACEMENT => {
                Err(format!("{label:?} names no encoding a file is written in"))
            }
            Some(e) => Ok(TextEncoding::Named(e)),
            None => Err(match close_names(trimmed)[..] {
                [] => format!(
                    "{label:?} is not an encoding name (e.g. \"utf-8\", \"windows-1251\", \"iso-8859-2\", \"shift_jis\", or \"auto\")"
                ),
                ref close => format!(
                    "{label:?} is not an encoding name; did you mean {}? (or \"auto\" to detect it)",
                    close.iter().map(|c| format!("{c:?}")).collect::<Vec<_>>().join(" or ")
                ),
            }),
        }
    }
}

/// Up to three known names close to `label` (by edit distance, loosely compared), closest
/// first.
fn close_names(label: &str) -> Vec<&'static str> {
    let wanted = compact(label);
    let mut scored: Vec<(usize, &'static str)> = KNOWN
        .iter()
        .copied()
        .chain(ALIASES.iter().map(|(a, _)| *a))
        .map(|name| (strsim::damerau_levenshtein(&wanted, &compact(name)), name))
        .filter(|(d, name)| *d <= 2.max(compact(name).len() / 4) && *d < wanted.len().max(1))
        .collect();
    scored.sort_unstable();
    let mut out: Vec<&'static str> = Vec::new();
    for (_, name) in scored {
        if out.len() < 3 && !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(label: &str) -> &'static str {
        match TextEncoding::parse(label).unwrap_or_else(|e| panic!("{label}: {e}")) {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Named(e) => e.name(),
            TextEncoding::Auto => "auto",
        }
    }

    #[test]
    fn whatwg_labels_and_the_names_people_use_are_accepted() {
        for label in ["latin-1", "latin1", "Latin_1", "iso-8859-1", "ISO_8859-1", "cp1252", "ANSI", "windows-1252"] {
            assert_eq!(name(label), "windows-1252", "{label}");
        }
        for label in ["utf8", "UTF-8", "utf_8", "utf-8-sig", "cp65001"] {
            assert_eq!(name(label), "UTF-8", "{label}");
        }
        assert_eq!(name("cp1251"), "windows-1251");
        assert_eq!(name("Windows_1251"), "windows-1251");
        assert_eq!(name("koi8_r"), "KOI8-R");
        assert_eq!(name("sjis"), "Shift_JIS");
        assert_eq!(name("cp932"), "Shift_JIS");
        assert_eq!(name("mac-roman"), "macintosh");
        assert_eq!(name(" auto "), "auto");
    }

    #[test]
    fn an_unknown_name_lists_close_ones() {
        let e = TextEncoding::parse("windows-1215").unwrap_err();
        assert!(e.contains("did you mean") && e.contains("\"windows-1251\""), "{e}");
        let e = TextEncoding::parse("latn1").unwrap_err();
        assert!(e.contains("\"latin1\""), "{e}");
        let e = TextEncoding::parse("uft-8").unwrap_err();
        assert!(e.contains("did you mean \"utf-8\""), "{e}");
        let e = TextEncoding::parse("iso-8859-99").unwrap_err();
        assert!(e.contains("did you mean") && e.contains("iso-8859-"), "{e}");
        let e = TextEncoding::parse("klingon").unwrap_err();
        assert!(e.contains("is not an encoding name (e.g. \"utf-8\""), "{e}");
        assert!(TextEncoding::parse("replacement").unwrap_err().contains("names no encoding"));
    }
}
