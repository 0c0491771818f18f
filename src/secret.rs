//! [`ApiKey`]: the OpenPhone API key, which never appears in `Debug`, `Display` or logs; and
//! [`warn_if_shared`], the warning for a key file other users may read.

use std::fmt;
use std::path::Path;

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

/// Logs a warning when the key file at `path` can be read (or written) by its group or by
/// others: a key there is a secret only its owner should read. Says nothing where modes do
/// not exist or the file cannot be examined (reading it reports that).
pub fn warn_if_shared(path: &Path) {
    if let Some(mode) = shared_mode(path) {
        tracing::warn!(
            file = %path.display(),
            mode = format!("{mode:04o}"),
            "Key file {} can be read by other users (mode {mode:04o}): run `chmod 600 {}`",
            path.display(),
            path.display()
        );
    }
}

/// The permission bits of `path` when they give its group or others any access.
fn shared_mode(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o7777;
        (mode & 0o077 != 0).then_some(mode)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_key_file_others_can_read_is_noticed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("key");
        std::fs::write(&p, "k").unwrap();
        for (mode, shared) in [(0o600, None), (0o400, None), (0o640, Some(0o640)), (0o604, Some(0o604))] {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
            assert_eq!(shared_mode(&p), shared, "{mode:o}");
        }
        assert_eq!(shared_mode(&dir.path().join("none")), None);
    }

    #[test]
    fn debug_and_display_hide_the_key() {
        let key = ApiKey::new("  sk-live-abcdef\n").unwrap();
        assert_eq!(key.expose(), "sk-live-abcdef");
        assert!(!format!("{key:?} {key}").contains("abcdef"));
        assert!(ApiKey::new(" \n").is_none());
    }
}
