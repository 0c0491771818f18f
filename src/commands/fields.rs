//! `openphone-sync fields`: lists the workspace's custom fields (name, key, type), the
//! names and keys a mapping file can use.

use std::io::Write;
use std::path::Path;

use crate::config::Config;
use crate::exit::Exit;

use super::Output;
use crate::engine::{Stop, setup};

pub async fn run(config_path: &Path, output: Output) -> Result<Exit, Stop> {
    let config = Config::load(config_path)?;
    let key = setup::require_api_key(&config)?;
    let client = setup::client(&config, key)?;
    let mut defs = client.custom_fields().await?;
    defs.sort_by(|a, b| a.name.cmp(&b.name));
    super::print(&defs, output, |out, defs| {
        let w = defs.iter().map(|d| d.name.chars().count()).max().unwrap_or(4).max(4);
        let k = defs.iter().map(|d| d.key.len()).max().unwrap_or(3).max(3);
        writeln!(out, "{:w$}  {:k$}  TYPE", "NAME", "KEY")?;
        for d in defs {
            writeln!(out, "{:w$}  {:k$}  {}", d.name, d.key, d.field_type.as_str())?;
        }
        Ok(())
    })
}
