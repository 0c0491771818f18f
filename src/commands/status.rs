//! `openphone-sync status`: what the mirror holds, how the last runs went, whether the
//! daemon is running and when the schedule runs next. Read-only.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::exit::Exit;
use crate::mirror::history::Failure;
use crate::mirror::lock::{holder, lock_path};
use crate::mirror::{Role, RunRecord, VerifyCounts};
use crate::plan::Action;

use super::Output;
use crate::engine::Stop;

#[derive(Serialize)]
struct Status {
    mirror: String,
    exists: bool,
    contacts: u64,
    pending: u64,
    /// The daemon holding the mirror, if one is running.
    daemon: Option<DaemonInfo>,
    /// `[schedule]`, if set.
    schedule: Option<ScheduleInfo>,
    /// When a run last read the mirrored contacts back (`--verify`), RFC 3339.
    last_verify: Option<crate::mirror::Timestamp>,
    /// Deletes to come and contacts kept by `restore`.
    deletes: Option<DeletesInfo>,
    /// Records that keep failing (`failures` lists them), and the one failing longest.
    failing: u64,
    oldest_failing: Option<Failure>,
    runs: Vec<RunRecord>,
}

#[derive(Serialize)]
struct DeletesInfo {
    /// Records whose row is missing, deleted after `[sync].delete_after` unless it comes back.
    pending: u64,
    /// When the first of them is due (RFC 3339), if any.
    next_due: Option<String>,
    /// `[sync].delete_after`, in seconds.
    delete_after_s: u64,
    /// Restored contacts whose row is still missing: kept until `forget`.
    kept_restored: Vec<String>,
    /// Deleted contacts whose state is kept for `restore` (`[state].keep_deleted_days`).
    restorable: u64,
}

#[derive(Serialize)]
struct DaemonInfo {
    pid: u32,
    since: String,
}

#[derive(Serialize)]
struct ScheduleInfo {
    cron: String,
    timezone: String,
    /// RFC 3339, UTC.
    next_run: Option<String>,
    /// Seconds from now.
    next_run_in_s: Option<i64>,
}

pub fn run(config_path: &Path, output: Output) -> Result<Exit, Stop> {
    let result = (|| {
        let (config, mirror) = super::read_mirror(config_path)?;
        let mut status = Status {
            mirror: config.database.display().to_string(),
            exists: mirror.is_some(),
            contacts: 0,
            pending: 0,
            daemon: holder(&lock_path(&config.database))
                .filter(|h| h.role == Role::Daemon && h.alive())
                .map(|h| DaemonInfo { pid: h.pid, since: h.since }),
            schedule: config.schedule.as_ref().map(|s| {
                let now = chrono::Utc::now();
                let next = s.next_after(now);
                ScheduleInfo {
                    cron: s.expr().to_owned(),
                    timezone: s.timezone().to_owned(),
                    next_run: next.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                    next_run_in_s: next.map(|t| (t - now).num_seconds()),
                }
            }),
            last_verify: None,
            deletes: None,
            failing: 0,
            oldest_failing: None,
            runs: vec![],
        };
        if let Some(m) = mirror {
            let err = super::unreadable;
            (status.contacts, status.pending) = m.counts().map_err(err)?;
            status.runs = m.recent_runs(10).map_err(err)?;
            status.last_verify = m.last_verified().map_err(err)?;
            let d = m.delete_status().map_err(err)?;
            let after = i64::try_from(config.sync.delete_after.as_millis()).unwrap_or(i64::MAX);
            status.deletes = Some(DeletesInfo {
                pending: d.pending,
                next_due: d.oldest_missing_since.map(|t| t.plus_millis(after).to_string()),
                delete_after_s: config.sync.delete_after.as_secs(),
                kept_restored: d.restored_missing,
                restorable: d.tombstones,
            });
            (status.failing, status.oldest_failing) = m.failure_summary().map_err(err)?;
        }
        Ok::<_, Stop>(status)
    })();
    super::print(&result?, output, write_text)
}

fn write_text(out: &mut impl Write, s: &Status) -> std::io::Result<()> {
    if s.exists {
        writeln!(out, "Mirror {}: {} contacts, {} with a write not yet confirmed.", s.mirror, s.contacts, s.pending)?;
    } else {
        writeln!(out, "Mirror {}: not created yet (no sync has run).", s.mirror)?;
    }
    match &s.daemon {
        Some(d) => writeln!(out, "Daemon: running (pid {}, since {}).", d.pid, d.since)?,
        None => writeln!(out, "Daemon: not running.")?,
    }
    match &s.schedule {
        Some(sc) => {
            let next = match (&sc.next_run, sc.next_run_in_s) {
                (Some(t), Some(secs)) => format!("next run {t} (in {})", human(secs)),
                _ => "no future run".to_owned(),
            };
            let when = if s.daemon.is_some() { "" } else { " if the daemon is started" };
            writeln!(out, "Schedule: \"{}\" ({}): {next}{when}.", sc.cron, sc.timezone)?;
        }
        None => writeln!(out, "Schedule: none ([schedule].cron is not set).")?,
    }
    if !s.exists {
        return Ok(());
    }
    match &s.last_verify {
        Some(t) => writeln!(out, "Last verify (contacts read back from OpenPhone): {t}.")?,
        None => writeln!(out, "Last verify: never (`sync --verify`, or the daemon's [sync].verify_every_hours).")?,
    }
    if let Some(d) = &s.deletes {
        match &d.next_due {
            Some(t) => writeln!(
                out,
                "Pending deletes: {} (rows missing; the first is due {t} unless its row comes back).",
                d.pending
            )?,
            None => writeln!(out, "Pending deletes: none.")?,
        }
        if !d.kept_restored.is_empty() {
            writeln!(
                out,
                "Kept after restore (rows still missing; `forget` lets them go): {}.",
                d.kept_restored.join(", ")
            )?;
        }
        writeln!(out, "Deleted contacts restorable with `restore`: {}.", d.restorable)?;
    }
    match &s.oldest_failing {
        Some(f) => writeln!(
            out,
            "Failing records: {} (oldest: {}, failing since {}, {} runs: {}); `failures` lists them.",
            s.failing, f.key, f.first_failed, f.attempts, f.last_error
        )?,
        None => writeln!(out, "Failing records: none.")?,
    }
    if s.runs.is_empty() {
        return writeln!(out, "No runs recorded.");
    }
    writeln!(out, "Last runs (newest first):")?;
    for r in &s.runs {
        let end = r.end.as_ref();
        let work = end.and_then(|e| e.work.as_ref());
        let v = |x: Option<u64>| x.map_or_else(|| "-".into(), |n| n.to_string());
        let applied = |a: Action| v(work.map(|w| w.applied.get(a)));
        writeln!(
            out,
            "  #{:<4} {}  {:<8} {:>7} ms  created {} updated {} deleted {} failed {} invalid {} (known {})  {} requests",
            r.id,
            r.started_at,
            end.map_or("running/killed", |e| e.outcome.as_str()),
            v(end.map(|e| e.duration_ms)),
            applied(Action::Create),
            applied(Action::Update),
            applied(Action::Delete),
            v(work.map(|w| w.failed)),
            v(work.map(|w| w.invalid_rows)),
            v(work.and_then(|w| w.known_invalid_rows)),
            v(work.map(|w| w.api_requests))
        )?;
        if let Some(VerifyCounts { checked, drifted, missing }) = work.and_then(|w| w.verify) {
            writeln!(out, "         verified {checked}: {drifted} edited in the app, {missing} deleted there")?;
        }
        if let Some(e) = end.and_then(|e| e.first_error.as_ref()) {
            writeln!(out, "         first error: {e}")?;
        }
    }
    Ok(())
}

/// `4m 12s`, `2h 5m`, `3d 4h`.
fn human(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {}s", s / 60, s % 60),
        3600..86400 => format!("{}h {}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d {}h", s / 86400, s % 86400 / 3600),
    }
}
