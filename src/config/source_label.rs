//! The contact `source` this tool writes (`[openphone].source_label`): its default, and the
//! values and lengths OpenPhone refuses.

/// The contact `source` written when `[openphone].source_label` is not set. Not the
/// "openphone-sync" the original interface showed: the API reserves the prefix
/// "openphone" for `source`, so that value would be refused on every create.
pub const DEFAULT_SOURCE_LABEL: &str = "contact-sync";

/// `source` on a create (a PATCH allows 75, but only creates write it): 1 to 72 characters.
pub const SOURCE_MAX: usize = 72;

/// The contact `source` values the API refuses, and the prefixes it refuses.
const RESERVED_SOURCES: &[&str] = &["openphone", "device", "csv", "zapier", "google-people", "other"];
const RESERVED_SOURCE_PREFIXES: &[&str] = &["openphone", "csv"];

/// Why the API would refuse `label` as a contact `source`, if it would.
pub fn source_label_problem(label: &str) -> Option<String> {
    let len = label.chars().count();
    let max = SOURCE_MAX;
    if !(1..=max).contains(&len) {
        return Some(format!("must be 1 to {max} characters (OpenPhone's limit for a contact's source)"));
    }
    let lower = label.to_ascii_lowercase();
    if RESERVED_SOURCES.contains(&lower.as_str()) {
        return Some(format!("{label:?} is reserved by OpenPhone"));
    }
    if let Some(p) = RESERVED_SOURCE_PREFIXES.iter().find(|p| lower.starts_with(**p)) {
        return Some(format!("must not start with {p:?} (reserved by OpenPhone)"));
    }
    None
}
