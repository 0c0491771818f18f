//! `openphone-sync check`: validates the config, the mapping and the source header, and
//! (unless `--offline`) the API key and the mapped custom fields against the workspace.
//! `--no-source` leaves the source unread (the unit's `ExecStartPre`, so that a sheet that
//! cannot be reached at boot does not keep the daemon from starting). With the source, it
//! also maps every row, and lists the rows that would fail (`invalid`) or lose a value
//! (`warning`): offline, custom values are checked by the type the mapping declares. The
//! exit code is about the config and the source as a whole (0, 2, 4); the rows are the
//! dry run's business (exit 1). Writes nothing.

use std::io::Write;
use std::path::Path;

use crate::exit::Exit;
use crate::mapping::records::{SyncCheck, map_items};
use crate::mapping::{FieldCatalog, Mapper};
use crate::model::{Digest, Record};
use crate::source;

use crate::engine::{Stop, setup};

pub async fn run(config_path: &Path, offline: bool, no_source: bool) -> Exit {
    match check(config_path, offline, no_source).await {
        Ok(lines) => {
            let mut out = super::person();
            for (tag, l) in lines {
                let _ = writeln!(out, "{tag:<7} {l}");
            }
            Exit::Ok
        }
        Err(stop) => super::fail(stop),
    }
}

/// The lines to print, each with its tag (`ok`, `invalid`, `warning`).
async fn check(config_path: &Path, offline: bool, no_source: bool) -> Result<Vec<(&'static str, String)>, Stop> {
    let mut ok = Vec::new();
    let mut listed = Vec::new();
    let (config, mapping) = setup::load(config_path)?;
    ok.push(format!("config {}", config.path.display()));
    ok.push(format!("mapping {}", mapping.path.display()));
    let key = setup::api_key(&config)?;
    // Streamed, as a sync reads it: a large source is never held whole in memory.
    let rows = if no_source { None } else { Some(source::open(&config.source, &mapping.column_names()).await?) };
    let catalog = if offline {
        FieldCatalog::Unknown
    } else {
        let key = setup::require_api_key(&config)?;
        let client = setup::client(&config, key)?;
        // The custom-field list doubles as the key check: it needs a valid key.
        let defs = client.custom_fields().await?;
        ok.push(format!("API key accepted by {} ({} custom fields)", config.openphone.base_url, defs.len()));
        FieldCatalog::Workspace(defs)
    };
    match rows {
        Some(rows) => {
            let mapper = Mapper::new(&mapping, &rows.header, &config.source.describe(), &catalog)?
                .with_null_values(&config.null_values);
            let mapped = map_items(&mapper, rows, &ValidateOnly)?;
            for (tag, list) in [("invalid", &mapped.errors), ("warning", &mapped.warnings)] {
                for e in list {
                    let id = e.external_id.as_deref().map(|i| format!("{i}: ")).unwrap_or_default();
                    listed.push((tag, format!("row {}: {id}{}", e.row, e.message)));
                }
            }
            ok.push(format!(
                "rows: {} valid, {} invalid, {} with values left out",
                mapped.valid(),
                mapped.errors.len(),
                mapped.warning_rows()
            ));
            ok.push(format!(
                "source {}: {} rows, every mapped column present{}",
                config.source.describe(),
                mapped.rows,
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
    let mut lines: Vec<(&'static str, String)> = ok.into_iter().map(|l| ("ok", l)).collect();
    lines.extend(listed);
    Ok(lines)
}

/// `check` maps every row (each one is validated) and keeps none of the records: a valid
/// record is counted and dropped, so a large source costs no memory for its contacts.
struct ValidateOnly;

impl SyncCheck for ValidateOnly {
    fn row_in_sync(&self, _: &str, _: Digest) -> bool {
        false
    }
    fn record_in_sync(&self, _: &Record) -> bool {
        true
    }
}
