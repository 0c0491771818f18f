//! `openphone-sync status`: what the mirror holds and how the last runs went. Read-only.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::config::Config;
use crate::exit::Exit;
use crate::mirror::{Mirror, RunRecord};

use super::Output;
use super::setup::Stop;

#[derive(Serialize)]
struct Status {
    mirror: String,
    exists: bool,
    contacts: u64,
    pending: u64,
    runs: Vec<RunRecord>,
}

pub fn run(config_path: &Path, output: Output) -> Exit {
    let result = (|| {
        let config = Config::load(config_path).map_err(|p| Stop::config(&p))?;
        let mirror =
            Mirror::open_read_only(&config.database).map_err(|e| Stop::new(Exit::Unavailable, e.to_string()))?;
        let mut status = Status {
            mirror: config.database.display().to_string(),
            exists: mirror.is_some(),
            contacts: 0,
            pending: 0,
            runs: vec![],
        };
        if let Some(m) = mirror {
            let err = |e: crate::mirror::MirrorError| Stop::new(Exit::Unavailable, e.to_string());
            (status.contacts, status.pending) = m.counts().map_err(err)?;
            status.runs = m.recent_runs(10).map_err(err)?;
        }
        Ok::<_, Stop>(status)
    })();
    let status = match result {
        Ok(s) => s,
        Err(stop) => return super::sync::fail(stop),
    };
    let mut out = std::io::stdout().lock();
    let _ = match output {
        Output::Json => {
            serde_json::to_writer_pretty(&mut out, &status).map_err(std::io::Error::from).and_then(|_| writeln!(out))
        }
        Output::Text => write_text(&mut out, &status),
    };
    Exit::Ok
}

fn write_text(out: &mut impl Write, s: &Status) -> std::io::Result<()> {
    if !s.exists {
        return writeln!(out, "Mirror {}: not created yet (no sync has run).", s.mirror);
    }
    writeln!(out, "Mirror {}: {} contacts, {} with a write not yet confirmed.", s.mirror, s.contacts, s.pending)?;
    if s.runs.is_empty() {
        return writeln!(out, "No runs recorded.");
    }
    writeln!(out, "Last runs (newest first):")?;
    for r in &s.runs {
        let v = |x: Option<i64>| x.map(|n| n.to_string()).unwrap_or_else(|| "-".into());
        writeln!(
            out,
            "  #{:<4} {}  {:<8} {:>7} ms  created {} updated {} deleted {} failed {} invalid {}  {} requests",
            r.id,
            r.started_at,
            r.outcome.as_deref().unwrap_or("running/killed"),
            v(r.duration_ms),
            v(r.applied[0]),
            v(r.applied[1]),
            v(r.applied[2]),
            v(r.failed),
            v(r.invalid_rows),
            v(r.api_requests)
        )?;
        if let Some(e) = &r.first_error {
            writeln!(out, "         first error: {e}")?;
        }
    }
    Ok(())
}
