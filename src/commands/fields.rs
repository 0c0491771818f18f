//! `openphone-sync fields`: lists the workspace's custom fields (name, key, type), the
//! names and keys a mapping file can use.

use std::io::Write;
use std::path::Path;

use crate::config::Config;
use crate::exit::Exit;

use super::Output;
use crate::engine::setup;

pub async fn run(config_path: &Path, output: Output) -> Exit {
    let result = async {
        let config = Config::load(config_path)?;
        let key = setup::require_api_key(&config)?;
        let client = setup::client(&config, key)?;
        Ok(client.custom_fields().await?)
    }
    .await;
    match result {
        Ok(mut defs) => {
            defs.sort_by(|a, b| a.name.cmp(&b.name));
            let _ = match output {
                Output::Json => {
                    let mut out = std::io::stdout().lock();
                    serde_json::to_writer_pretty(&mut out, &defs)
                        .map_err(std::io::Error::from)
                        .and_then(|()| writeln!(out))
                }
                Output::Text => {
                    let mut out = super::person();
                    let w = defs.iter().map(|d| d.name.chars().count()).max().unwrap_or(4).max(4);
                    let k = defs.iter().map(|d| d.key.len()).max().unwrap_or(3).max(3);
                    let mut r = writeln!(out, "{:w$}  {:k$}  TYPE", "NAME", "KEY");
                    for d in &defs {
                        r = r.and_then(|()| writeln!(out, "{:w$}  {:k$}  {}", d.name, d.key, d.field_type.as_str()));
                    }
                    r
                }
            };
            Exit::Ok
        }
        Err(stop) => super::fail(stop),
    }
}
