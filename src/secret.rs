//! [`ApiKey`]: the OpenPhone API key, which never appears in `Debug`, `Display` or logs.

use std::fmt;

/// The OpenPhone API key. Only [`ApiKey::expose`] gives the text, and only the
/// HTTP client calls it, to build the `Authorization` header.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key, trimming the whitespace and newline a key file usually ends with.
    /// `None` when nothing is left.
    pub fn new(raw: &str) -> Option<ApiKey> {
        let key = raw.trim();
        (!key.is_empty()).then(|| ApiKey(key.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_the_key() {
        let key = ApiKey::new("  sk-live-abcdef\n").unwrap();
        assert_eq!(key.expose(), "sk-live-abcdef");
        assert!(!format!("{key:?} {key}").contains("abcdef"));
        assert!(ApiKey::new(" \n").is_none());
    }
}
