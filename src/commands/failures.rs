//! `openphone-sync failures`: the records that keep failing (an API refusal, an invalid row,
//! a failed lookup), oldest first, with when they first and last failed, how often, and the
//! last error and row. Read-only; each sync run updates the list (`engine::record`).

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::exit::Exit;
use crate::mirror::history::Failure;

use super::Output;
use crate::engine::Stop;

#[derive(Serialize)]
struct Failures {
    mirror: String,
    failing: Vec<Failure>,
}

pub fn run(config_path: &Path, output: Output) -> Result<Exit, Stop> {
    let (config, mirror) = super::read_mirror(config_path)?;
    let failing = match mirror {
        Some(m) => m.failures().map_err(super::unreadable)?,
        None => Vec::new(),
    };
    let found = Failures { mirror: config.database.display().to_string(), failing };
    super::print(&found, output, |out, list| write_text(out, &list.failing))
}

/// The list for people, oldest first.
pub fn write_text(out: &mut impl Write, failing: &[Failure]) -> std::io::Result<()> {
    if failing.is_empty() {
        return writeln!(out, "No failing records.");
    }
    writeln!(out, "{} failing records (oldest first):", failing.len())?;
    for f in failing {
        let row = f.row.map_or_else(|| "-".to_owned(), |r| format!("row {r}"));
        let action = f.action.map_or("invalid row", super::super::plan::action::Action::as_str);
        let times = if f.attempts == 1 { "1 run".to_owned() } else { format!("{} runs", f.attempts) };
        writeln!(
            out,
            "  {:<16} {row:<9} {action:<11} failing since {}, last {} ({times})",
            f.key, f.first_failed, f.last_failed
        )?;
        writeln!(out, "  {:16} last error: {}", "", f.last_error)?;
    }
    Ok(())
}
