//! What every command starts with: the config and mapping (all problems at once), the API
//! key, the OpenPhone client, and the custom-field catalog for the mapper.

use std::path::Path;

use crate::config::{Config, Problems};
use crate::exit::Exit;
use crate::mapping::{FieldCatalog, Mapping};
use crate::openphone::client::ClientOptions;
use crate::openphone::{ApiError, Client};
use crate::secret::ApiKey;

/// A failure before any work: what to tell the user, and the exit code.
#[derive(Debug)]
pub struct Stop {
    pub exit: Exit,
    pub message: String,
}

impl Stop {
    pub fn new(exit: Exit, message: impl Into<String>) -> Stop {
        Stop { exit, message: message.into() }
    }

    pub fn config(problems: &Problems) -> Stop {
        let n = problems.0.len();
        Stop::new(
            Exit::Config,
            format!("{problems}\n{n} problem{} found; nothing was written.", if n == 1 { "" } else { "s" }),
        )
    }

    pub fn api(e: &ApiError) -> Stop {
        Stop::new(Exit::Unavailable, e.to_string())
    }
}

/// Loads the config and its mapping, reporting the problems of both together.
pub fn load(config_path: &Path) -> Result<(Config, Mapping), Stop> {
    load_problems(config_path).map_err(|p| Stop::config(&p))
}

/// [`load`], with the problems one by one (the daemon logs each on a failed reload).
pub fn load_problems(config_path: &Path) -> Result<(Config, Mapping), Problems> {
    let config = Config::load(config_path)?;
    let mapping = Mapping::load(&config.sync.mapping)?;
    Ok((config, mapping))
}

/// The API key, if one is configured; an unreadable key file is a config error.
pub fn api_key(config: &Config) -> Result<Option<ApiKey>, Stop> {
    config.api_key().map_err(|p| Stop::config(&p))
}

/// The API key, required.
pub fn require_api_key(config: &Config) -> Result<ApiKey, Stop> {
    api_key(config)?.ok_or_else(|| {
        Stop::new(
            Exit::Config,
            format!(
                "{}: no API key: set ${} or [openphone].api_key_file; nothing was written.",
                config.path.display(),
                crate::config::API_KEY_ENV
            ),
        )
    })
}

pub fn client(config: &Config, key: ApiKey) -> Result<Client, Stop> {
    Client::new(ClientOptions {
        base_url: config.openphone.base_url.clone(),
        api_key: key,
        requests_per_second: config.openphone.requests_per_second,
        timeout: config.openphone.timeout,
        max_retries: config.openphone.max_retries,
    })
    .map_err(|e| Stop::new(Exit::Config, e.to_string()))
}

/// The workspace's custom fields, fetched only when the mapping uses any.
pub async fn catalog(mapping: &Mapping, client: &Client) -> Result<FieldCatalog, Stop> {
    if mapping.custom_fields.is_empty() {
        return Ok(FieldCatalog::Workspace(Vec::new()));
    }
    client.custom_fields().await.map(FieldCatalog::Workspace).map_err(|e| Stop::api(&e))
}
