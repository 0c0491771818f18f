//! A mapping column as a vCard property selector, and the values it takes from a card:
//! `FN`, `N.family` (`given`, `additional`, `prefix`, `suffix`), `ORG`, `TITLE`, `EMAIL`,
//! `EMAIL[type=work]`, `TEL[type=cell]`, `URL`, `BDAY`, `NOTE`, `UID`, `X-…`, `ADR.street`
//! (`pobox`, `ext`, `locality`, `region`, `code`, `country`). Names and types ignore case; a
//! group (`item1.EMAIL`) is not part of the name. Several values are joined with
//! [`SEPARATOR`], which the mapping splits with `separator = " ::: "`.

use calcard::vcard::{VCardEntry, VCardParameterName, VCardValue};

/// What joins several values of one selector in a cell (Google Contacts' separator).
pub const SEPARATOR: &str = " ::: ";

/// A parsed column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    /// The property name, upper case.
    pub name: String,
    /// The component of a structured value (`N.family` → 0).
    pub part: Option<usize>,
    /// Types every value must have (`[type=work,voice]`), lower case.
    pub types: Vec<String>,
}

const N_PARTS: &[&str] = &["family", "given", "additional", "prefix", "suffix"];
const ADR_PARTS: &[&str] = &["pobox", "ext", "street", "locality", "region", "code", "country"];

impl Selector {
    /// Reads a column; `Err` says what is wrong with it.
    pub fn parse(column: &str) -> Result<Selector, String> {
        let (head, types) = match column.split_once('[') {
            Some((head, rest)) => {
                let inner = rest.strip_suffix(']').ok_or("a `[` without its `]`")?;
                let (key, list) = inner.split_once('=').ok_or("write the filter as [type=work]")?;
                if !key.trim().eq_ignore_ascii_case("type") {
                    return Err(format!("only [type=...] filters a property, not [{key}=...]"));
                }
                (head, list.split(',').map(|t| t.trim().to_ascii_lowercase()).collect())
            }
            None => (column, Vec::new()),
        };
        let (name, part) = match head.split_once('.') {
            Some((name, part)) => (name, Some(part)),
            None => (head, None),
        };
        let name = name.trim().to_ascii_uppercase();
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err("not a vCard property name (FN, N.given, EMAIL[type=work], X-...)".into());
        }
        let part = match (name.as_str(), part) {
            (_, None) => None,
            ("N", Some(p)) => Some(position(N_PARTS, p)?),
            ("ADR", Some(p)) => Some(position(ADR_PARTS, p)?),
            (_, Some(_)) => return Err(format!("{name} has no parts (only N and ADR do)")),
        };
        Ok(Selector { name, part, types })
    }

    /// This selector's values in `entries`, in the card's order.
    pub fn values(&self, entries: &[VCardEntry]) -> Vec<String> {
        entries.iter().filter(|e| self.matches(e)).filter_map(|e| self.value(e)).filter(|v| !v.is_empty()).collect()
    }

    fn matches(&self, e: &VCardEntry) -> bool {
        if !e.name.as_str().eq_ignore_ascii_case(&self.name) {
            return false;
        }
        let types: Vec<String> =
            e.parameters(&VCardParameterName::Type).map(|v| v.clone().into_text().to_ascii_lowercase()).collect();
        self.types.iter().all(|t| types.contains(t))
    }

    fn value(&self, e: &VCardEntry) -> Option<String> {
        let text = match self.part {
            Some(i) => text(e.values.get(i)?)?,
            // ORG's first component is the organisation.
            None if self.name == "ORG" => text(e.values.first()?)?,
            None => {
                let parts: Vec<String> = e.values.iter().filter_map(text).collect();
                parts.join(if self.name == "N" || self.name == "ADR" { " " } else { "," })
            }
        };
        let text = text.trim();
        let text = match self.name.as_str() {
            "TEL" => text.strip_prefix("tel:").unwrap_or(text),
            "EMAIL" => text.strip_prefix("mailto:").unwrap_or(text),
            _ => text,
        };
        Some(text.to_owned())
    }
}

fn position(parts: &[&str], part: &str) -> Result<usize, String> {
    parts
        .iter()
        .position(|p| p.eq_ignore_ascii_case(part.trim()))
        .ok_or_else(|| format!("unknown part {part:?} (one of: {})", parts.join(", ")))
}

/// A value as text; a binary value (a photo) is no text.
fn text(v: &VCardValue) -> Option<String> {
    Some(match v {
        VCardValue::Text(s) => s.clone(),
        VCardValue::Integer(i) => i.to_string(),
        VCardValue::Float(f) => f.to_string(),
        VCardValue::Boolean(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        VCardValue::PartialDateTime(d) => {
            let date = match (d.year, d.month, d.day) {
                (Some(y), Some(m), Some(day)) => format!("{y:04}-{m:02}-{day:02}"),
                (None, Some(m), Some(day)) => format!("--{m:02}-{day:02}"),
                (Some(y), None, None) => format!("{y:04}"),
                _ => return None,
            };
            match (d.hour, d.minute) {
                (Some(h), Some(mi)) => format!("{date}T{h:02}:{mi:02}:{:02}", d.second.unwrap_or(0)),
                _ => date,
            }
        }
        VCardValue::Component(parts) => parts.join(" "),
        VCardValue::Binary(_) => return None,
        other => format!("{other:?}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_name_properties_parts_and_types() {
        let s = Selector::parse("tel[type=Cell]").unwrap();
        assert_eq!((s.name.as_str(), s.part, s.types.clone()), ("TEL", None, vec!["cell".to_owned()]));
        assert_eq!(Selector::parse("N.given").unwrap().part, Some(1));
        assert_eq!(Selector::parse("X-ANDROID-CUSTOM").unwrap().name, "X-ANDROID-CUSTOM");
        assert!(Selector::parse("N.nick").unwrap_err().contains("unknown part"));
        assert!(Selector::parse("EMAIL[pref=1]").is_err());
        assert!(Selector::parse("First Name").is_err());
    }
}
