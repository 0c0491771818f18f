//! `openphone-sync check`: validates the config, the mapping and the source header, and
//! (unless `--offline`) the API key and the mapped custom fields against the workspace.
//! It also checks that the user running it can write the mirror where `[state] database`
//! puts it (exit 2 naming the path and why, else every run would fail).
//! `--no-source` leaves the source unread (what the daemon's start checks, so that a sheet that
//! cannot be reached at boot does not keep the daemon from starting). With the source, it
//! also maps every row, and lists the rows that would fail (`invalid`) or lose a value
//! (`warning`): offline, custom values are checked by the type the mapping declares.
//! Exit codes (docs/cli.md, "Exit codes of `check`"): 0 when every row would sync (values
//! left out with a warning allowed), 1 when a row is invalid, 2 for the config, the mapping
//! or the header, 4 when the source or OpenPhone cannot be read. Writes nothing.

use std::io::Write;
use std::path::Path;

use crate::exit::Exit;
use crate::mapping::records::{SyncCheck, map_items};
use crate::mapping::{FieldCatalog, Mapper};
use crate::mirror::writable::{self, Writable};
use crate::model::{Digest, Record};
use crate::report::{WarningView, warning_lines};
use crate::source;

use crate::engine::{Stop, setup};

pub async fn run(config_path: &Path, offline: bool, no_source: bool, warnings: WarningView) -> Result<Exit, Stop> {
    let lines = check(config_path, offline, no_source, warnings).await?;
    let invalid = lines.iter().any(|(tag, _)| *tag == "invalid");
    super::write_text(|out| lines.iter().try_for_each(|(tag, l)| writeln!(out, "{tag:<7} {l}")))?;
    // A row that would not sync is a problem found: a script must not read it as 0.
    Ok(if invalid { Exit::Partial } else { Exit::Ok })
}

/// The lines to print, each with its tag (`ok`, `invalid`, `warning`).
async fn check(
    config_path: &Path,
    offline: bool,
    no_source: bool,
    warnings: WarningView,
) -> Result<Vec<(&'static str, String)>, Stop> {
    let mut ok = Vec::new();
    let mut listed = Vec::new();
    let (config, mapping) = setup::load(config_path)?;
    ok.push(format!("config {}", config.path.display()));
    ok.push(format!("mapping {}", mapping.path.display()));
    // A mirror this user cannot write fails every run: a config error, found before them.
    let database = &config.database;
    match writable::probe(database).map_err(Stop::MirrorNotWritable)? {
        Writable::Existing => ok.push(format!("mirror {}: writable by this user", database.display())),
        Writable::ToCreate { folder } => ok.push(format!(
            "mirror {}: not made yet; the first run makes it ({} is writable by this user)",
            database.display(),
            folder.display()
        )),
    }
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
            for e in &mapped.errors {
                let id = e.external_id.as_deref().map(|i| format!("{i}: ")).unwrap_or_default();
                listed.push(("invalid", format!("row {}: {id}{}", e.row, e.message)));
            }
            listed.extend(warning_lines(&mapped.warnings, warnings));
            listed.extend(mapped.region_hints.iter().map(|h| ("hint", h.clone())));
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
    fn row_in_sync(&self, _: usize, _: Digest) -> bool {
        false
    }
    fn record_in_sync(&self, _: &Record) -> bool {
        true
    }
}
