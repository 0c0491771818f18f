//! `openphone-sync check`: validates the config, the mapping and the source header, and
//! (unless `--offline`) the API key and the mapped custom fields against the workspace.
//! `--no-source` leaves the source unread (the unit's `ExecStartPre`, so that a sheet that
//! cannot be reached at boot does not keep the daemon from starting). Writes nothing.

use std::io::Write;
use std::path::Path;

use crate::exit::Exit;
use crate::mapping::{FieldCatalog, Mapper};
use crate::source;

use super::setup::{self, Stop};

pub async fn run(config_path: &Path, offline: bool, no_source: bool) -> Exit {
    match check(config_path, offline, no_source).await {
        Ok(lines) => {
            let mut out = std::io::stdout().lock();
            for l in lines {
                let _ = writeln!(out, "ok      {l}");
            }
            Exit::Ok
        }
        Err(stop) => super::sync::fail(stop),
    }
}

async fn check(config_path: &Path, offline: bool, no_source: bool) -> Result<Vec<String>, Stop> {
    let mut ok = Vec::new();
    let (config, mapping) = setup::load(config_path)?;
    ok.push(format!("config {}", config.path.display()));
    ok.push(format!("mapping {}", mapping.path.display()));
    let key = setup::api_key(&config)?;
    let data = if no_source {
        None
    } else {
        Some(source::read(&config.source, &mapping.column_names()).await.map_err(super::sync::source_stop)?)
    };
    let catalog = if offline {
        FieldCatalog::Unknown
    } else {
        let key = setup::require_api_key(&config)?;
        let client = setup::client(&config, key)?;
        // The custom-field list doubles as the key check: it needs a valid key.
        let defs = client.custom_fields().await.map_err(|e| Stop::api(&e))?;
        ok.push(format!("API key accepted by {} ({} custom fields)", config.openphone.base_url, defs.len()));
        FieldCatalog::Workspace(defs)
    };
    match &data {
        Some(data) => {
            Mapper::new(&mapping, &data.header, &config.source.describe(), &catalog).map_err(|p| Stop::config(&p))?;
            ok.push(format!(
                "source {}: {} rows, every mapped column present{}",
                config.source.describe(),
                data.total_rows(),
                if offline { "" } else { ", every custom field found" }
            ));
        }
        None => ok.push(format!("source {}: not read (--no-source)", config.source.describe())),
    }
    if offline {
        ok.push(format!(
            "offline: the API key{} and the custom fields were not checked",
            if key.is_some() { "" } else { " (none configured)" }
        ));
    }
    Ok(ok)
}
