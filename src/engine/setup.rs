//! What every command starts with: the config and mapping (all problems at once), the API
//! key, the OpenPhone client, the custom-field catalog for the mapper, and how many
//! requests to keep in flight.

use std::path::Path;

use crate::config::{Config, Problems};
use crate::mapping::{FieldCatalog, Mapping};
use crate::openphone::Client;
use crate::openphone::client::ClientOptions;
use crate::secret::ApiKey;

use super::stop::Stop;

/// Loads the config and its mapping, reporting the problems of both together.
pub fn load(config_path: &Path) -> Result<(Config, Mapping), Stop> {
    Ok(load_problems(config_path)?)
}

/// [`load`], with the problems one by one (the daemon logs each on a failed reload).
pub fn load_problems(config_path: &Path) -> Result<(Config, Mapping), Problems> {
    let config = Config::load(config_path)?;
    let mapping = Mapping::load(&config.sync.mapping)?;
    Ok((config, mapping))
}

/// The API key, if one is configured; an unreadable key file is a config error.
pub fn api_key(config: &Config) -> Result<Option<ApiKey>, Stop> {
    Ok(config.api_key()?)
}

/// The API key, required.
pub fn require_api_key(config: &Config) -> Result<ApiKey, Stop> {
    api_key(config)?.ok_or_else(|| Stop::NoApiKey { config: config.path.clone() })
}

pub fn client(config: &Config, key: ApiKey) -> Result<Client, Stop> {
    Client::new(ClientOptions {
        base_url: config.openphone.base_url.clone(),
        api_key: key,
        requests_per_second: config.openphone.requests_per_second,
        timeout: config.openphone.timeout,
        max_retries: config.openphone.max_retries,
    })
    .map_err(|e| Stop::config(e.to_string()))
}

/// The workspace's custom fields, fetched only when the mapping uses any.
pub async fn catalog(mapping: &Mapping, client: &Client) -> Result<FieldCatalog, Stop> {
    if mapping.custom_fields.is_empty() {
        return Ok(FieldCatalog::Workspace(Vec::new()));
    }
    Ok(client.custom_fields().await.map(FieldCatalog::Workspace)?)
}

/// How many requests to keep in flight: `[openphone].concurrency`, else enough to use the
/// rate limit when the API answers slowly.
pub fn concurrency(config: &Config) -> usize {
    config.openphone.concurrency.unwrap_or(default_concurrency(config.openphone.requests_per_second))
}

/// Enough requests in flight to use the rate limit when the API answers slowly (up to
/// two seconds a reply), without flooding it.
fn default_concurrency(requests_per_second: u32) -> usize {
    (requests_per_second as usize * 2).clamp(4, 64)
}
