//! The API key: from the environment, the configured key file or the systemd credential, and
//! the check that refuses a key pasted where its file's path belongs.

use std::path::PathBuf;

use super::settings::Config;
use crate::secret::ApiKey;
use crate::toml_strict::Problems;

/// The environment variable holding the API key.
pub const API_KEY_ENV: &str = "OPENPHONE_API_KEY";
/// Where systemd puts the credentials of `LoadCredential=` (`$CREDENTIALS_DIRECTORY`).
pub const CREDENTIALS_DIRECTORY_ENV: &str = "CREDENTIALS_DIRECTORY";
/// The credential name the API key is read from there: `LoadCredential=api-key:/path`.
pub const API_KEY_CREDENTIAL: &str = "api-key";

impl Config {
    /// The API key: `$OPENPHONE_API_KEY`, else `[openphone].api_key_file`, else the systemd
    /// credential `$CREDENTIALS_DIRECTORY/api-key` (`LoadCredential=api-key:...`). `Ok(None)`
    /// when none is set; an unreadable key file is an error naming it.
    pub fn api_key(&self) -> Result<Option<ApiKey>, Problems> {
        if let Some(key) = std::env::var(API_KEY_ENV).ok().as_deref().and_then(ApiKey::new) {
            return Ok(Some(key));
        }
        let credential = std::env::var_os(CREDENTIALS_DIRECTORY_ENV)
            .filter(|d| !d.is_empty())
            .map(|d| PathBuf::from(d).join(API_KEY_CREDENTIAL))
            .filter(|p| p.exists());
        let Some(file) = self.openphone.api_key_file.as_ref().or(credential.as_ref()) else { return Ok(None) };
        let mut problems = Problems::default();
        // The credential is not in the config: no line to point at.
        let line = self.openphone.api_key_file.as_ref().and(self.openphone.api_key_file_line);
        match super::key_file::read(file) {
            Ok(text) => match ApiKey::new(&text).inspect(|_| crate::secret::warn_if_shared(file)) {
                Some(key) => return Ok(Some(key)),
                None => problems.push(
                    &self.path,
                    line,
                    Some("openphone.api_key_file"),
                    format!("{} is empty", file.display()),
                ),
            },
            Err(e) => problems.push(
                &self.path,
                line,
                Some("openphone.api_key_file"),
                format!("cannot read the API key from {}: {e}", file.display()),
            ),
        }
        Err(problems)
    }
}

/// Whether a value given as a key *file* is more likely the key itself: one long token
/// with no path separator and no extension.
pub(super) fn looks_like_a_key(value: &str) -> bool {
    value.len() >= 20
        && !value.contains(['/', '\\', '.'])
        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}
