//! `openphone-sync history EXTERNAL_ID` (one record's story, newest first, each change with
//! its run, time, source row and fields before → after) and `history --run N` (one run's
//! changes, by source row). Read-only.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::exit::Exit;
use crate::mirror::history::HistoryEntry;

use super::Output;
use crate::engine::Stop;

/// Whose history to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Record(String),
    Run(i64),
}

#[derive(Serialize)]
struct History {
    #[serde(skip_serializing_if = "Option::is_none")]
    external_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    run: Option<i64>,
    /// `[state].history_days`: older changes are gone.
    kept_days: u32,
    changes: Vec<HistoryEntry>,
}

pub fn run(config_path: &Path, subject: &Subject, output: Output) -> Result<Exit, Stop> {
    let result = super::read_mirror(config_path).and_then(|(config, mirror)| {
        let err = super::unreadable;
        let mut h = History { external_id: None, run: None, kept_days: config.history_days, changes: vec![] };
        match subject {
            Subject::Record(id) => {
                h.external_id = Some(id.clone());
                if let Some(m) = &mirror {
                    h.changes = m.history_of(id).map_err(err)?;
                }
            }
            Subject::Run(n) => {
                h.run = Some(*n);
                let m = mirror
                    .as_ref()
                    .filter(|m| m.run_exists(*n).unwrap_or(false))
                    .ok_or_else(|| Stop::NoSuchRun { run: *n, mirror: config.database.clone() })?;
                h.changes = m.history_of_run(*n).map_err(err)?;
            }
        }
        Ok(h)
    });
    super::print(&result?, output, |out, h| match (&h.external_id, h.run) {
        (Some(id), _) => write_record(out, id, &h.changes, h.kept_days),
        (None, Some(run)) => write_run(out, run, &h.changes),
        (None, None) => Ok(()),
    })
}

/// One record's story for people, newest first.
pub fn write_record(
    out: &mut impl Write,
    external_id: &str,
    changes: &[HistoryEntry],
    days: u32,
) -> std::io::Result<()> {
    if changes.is_empty() {
        return writeln!(out, "No change to {external_id} was applied in the last {days} days ([state].history_days).");
    }
    writeln!(out, "History of {external_id} (newest first, {} changes):", changes.len())?;
    for e in changes {
        let run = e.run_id.map(|r| format!("run #{r}")).unwrap_or_default();
        let contact = e.contact_id.as_deref().map(|c| format!("  contact {c}")).unwrap_or_default();
        writeln!(out, "  {}  {run:<8} {:<7} {}{contact}", e.at, e.action.as_str(), row(e))?;
        write_fields(out, e)?;
    }
    Ok(())
}

/// One run's changes for people, by source row.
fn write_run(out: &mut impl Write, run: i64, changes: &[HistoryEntry]) -> std::io::Result<()> {
    writeln!(out, "Run #{run}: {} changes applied.", changes.len())?;
    for e in changes {
        writeln!(out, "  {:<7} {:<12} {}  {}", e.action.as_str(), e.external_id, row(e), e.at)?;
        write_fields(out, e)?;
    }
    Ok(())
}

fn row(e: &HistoryEntry) -> String {
    e.row.map_or_else(|| "(no row)".to_owned(), |r| format!("row {r}"))
}

fn write_fields(out: &mut impl Write, e: &HistoryEntry) -> std::io::Result<()> {
    if e.changes.is_empty() {
        return writeln!(out, "      (no field changed: already as the source says)");
    }
    for c in &e.changes {
        writeln!(out, "      {c}")?;
    }
    Ok(())
}
