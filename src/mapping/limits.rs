//! The limits the official spec sets on what a contact may hold (`POST /v1/contacts`,
//! `PATCH /v1/contacts/{id}`), checked before anything is sent so that OpenPhone never
//! refuses a request for them: a row over a limit is reported with its row number and
//! never sent. [`SPEC_LIMITS`] lists every limit the spec sets on those bodies; a test
//! reads the spec and fails when it sets one more, one less, or another value.

use std::ops::RangeInclusive;

/// `externalId`: 1 to 75 characters.
pub const EXTERNAL_ID_MAX: usize = 75;
/// `source` on a create: checked with the config (`[openphone].source_label`).
pub use crate::config::source_label::SOURCE_MAX;
/// `sourceUrl`: a URI of 1 to 200 characters.
pub const SOURCE_URL_MAX: usize = 200;
/// The years an RFC 3339 `date-time` (a date custom field) can write: four digits.
pub const DATE_YEARS: RangeInclusive<i32> = 0..=9999;

/// One constraint of the spec on a request body property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Constraint {
    /// `minLength` / `maxLength`, in characters.
    Length { min: usize, max: usize },
    /// `format` (`uri`, `date-time`).
    Format(&'static str),
    /// `pattern`.
    Pattern(&'static str),
}

/// Where the tool enforces a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enforced {
    /// Row by row, when the row is mapped (a row error naming the column and the limit).
    Row,
    /// When the config is loaded (`[openphone].source_label`, exit 2).
    Config,
    /// The tool never sends the property.
    NeverSent,
}

/// Every limit the spec sets on the bodies of `POST /v1/contacts` and
/// `PATCH /v1/contacts/{id}`: (operation, property, constraint, where it is enforced).
/// Names, emails, phone numbers, custom field values and the lists have none.
pub const SPEC_LIMITS: &[(&str, &str, Constraint, Enforced)] = &[
    ("POST", "externalId", Constraint::Length { min: 1, max: EXTERNAL_ID_MAX }, Enforced::Row),
    ("POST", "source", Constraint::Length { min: 1, max: SOURCE_MAX }, Enforced::Config),
    ("POST", "sourceUrl", Constraint::Length { min: 1, max: SOURCE_URL_MAX }, Enforced::Row),
    ("POST", "sourceUrl", Constraint::Format("uri"), Enforced::Row),
    ("POST", "customFields[].value", Constraint::Format("date-time"), Enforced::Row),
    ("POST", "createdByUserId", Constraint::Pattern("^US(.*)$"), Enforced::NeverSent),
    ("PATCH", "externalId", Constraint::Length { min: 1, max: EXTERNAL_ID_MAX }, Enforced::Row),
    ("PATCH", "source", Constraint::Length { min: 1, max: 75 }, Enforced::Config),
    ("PATCH", "sourceUrl", Constraint::Length { min: 1, max: SOURCE_URL_MAX }, Enforced::Row),
    ("PATCH", "sourceUrl", Constraint::Format("uri"), Enforced::Row),
    ("PATCH", "customFields[].value", Constraint::Format("date-time"), Enforced::Row),
];

/// Why `id` (the cell of `column`) cannot be an `externalId`, if it cannot.
pub fn external_id_problem(id: &str, column: &str) -> Option<String> {
    // No more bytes than the limit is no more characters (every row's id is checked).
    if id.len() <= EXTERNAL_ID_MAX {
        return None;
    }
    let len = id.chars().count();
    (len > EXTERNAL_ID_MAX).then(|| {
        format!(
            "column {column:?}: the external id is {len} characters, over OpenPhone's limit of {EXTERNAL_ID_MAX} for externalId"
        )
    })
}

/// Whether `link` holds only what an RFC 3986 URI holds as it is (a URL parser takes more):
/// unreserved and delimiter characters, `%` only before two hex digits, one `@` at most
/// (no brackets: a sheet's link has no IPv6 host).
fn uri_chars(link: &str) -> bool {
    let b = link.as_bytes();
    let percent_ok = b.iter().enumerate().all(|(i, &c)| {
        c != b'%'
            || (b.get(i + 1).is_some_and(u8::is_ascii_hexdigit) && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
    });
    percent_ok
        && b.iter().filter(|&&c| c == b'@').count() <= 1
        && b.iter().all(|&c| c.is_ascii_alphanumeric() || b"-._~:/?#@!$&'()*+,;=%".contains(&c))
}

/// Why `link` cannot be a `sourceUrl`, if it cannot.
pub fn source_url_problem(link: &str) -> Option<String> {
    let len = link.chars().count();
    if len > SOURCE_URL_MAX {
        return Some(format!(
            "the row's link (sourceUrl) is {len} characters, over OpenPhone's limit of {SOURCE_URL_MAX}: set [source].link = \"sheet\" or \"none\""
        ));
    }
    match url::Url::parse(link) {
        Ok(_) if !link.is_empty() && uri_chars(link) => None,
        _ => Some(format!("the row's link (sourceUrl) {link:?} is not a URL")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_checked_at_and_over_the_limit() {
        assert_eq!(external_id_problem(&"é".repeat(EXTERNAL_ID_MAX), "ID"), None);
        let over = external_id_problem(&"é".repeat(EXTERNAL_ID_MAX + 1), "ID").unwrap();
        assert!(over.contains("column \"ID\"") && over.contains("76 characters") && over.contains("75"), "{over}");
        let at = format!("https://x.io/{}", "a".repeat(SOURCE_URL_MAX - 13));
        assert_eq!(source_url_problem(&at), None);
        assert!(source_url_problem(&format!("{at}b")).unwrap().contains("201 characters"));
        assert!(source_url_problem("not a url").is_some());
    }
}
