//! The last step: the report's totals, the one log line that sums a run up, and, in apply
//! mode, the run's row in the mirror with its failing records (every apply run, however it
//! ends, is recorded).

use std::time::Instant;

use crate::mirror::{Mirror, RunEnd, RunWork, Timestamp, VerifyCounts};
use crate::openphone::Client;
use crate::outcome::{Mode, Outcome};
use crate::report::{Listing, PlanShown, Report, VerifyReport};

use super::apply::ApplyResult;
use super::prepare::RowCounts;
use super::stop::Stop;

/// What the steps of a run found, each step's value, in the order they ran: the report is
/// built from it at the end ([`report`]), however far the run got.
#[derive(Debug, Default)]
pub(super) struct Found {
    /// The run's number in the mirror (apply mode).
    pub run_id: Option<i64>,
    /// The catalog step's note (what could not be checked without a key).
    pub catalog_note: Option<String>,
    /// What `--verify` found.
    pub verify: Option<VerifyReport>,
    /// The source's rows, counted.
    pub rows: Option<RowCounts>,
    /// The plan's counts, deletes to come and contacts kept.
    pub plan: Option<PlanShown>,
    /// The plan-file step's note (where the plan was saved).
    pub plan_note: Option<String>,
    /// The plan record by record (a dry run's, or the deletes a guard refused).
    pub listing: Option<Listing>,
    /// What the apply step did.
    pub applied: Option<ApplyResult>,
}

/// How a run ended.
#[derive(Debug)]
pub(super) enum End {
    /// It walked every step: the counts decide between `ok` and `partial`, unless the apply
    /// step stopped early (an outage, or a stop on request).
    Finished,
    /// It ended early with this outcome and why; `left` records were left for the next run.
    Early { outcome: Outcome, why: String, left: u64 },
}

impl End {
    pub(super) fn early(outcome: Outcome, why: impl Into<String>) -> End {
        End::Early { outcome, why: why.into(), left: 0 }
    }
}

/// The report of a run: what its steps found and how it ended, with the requests sent and
/// the time taken.
pub(super) fn report(mode: Mode, found: Found, end: End, client: Option<&Client>, started: Instant) -> Report {
    let mut report = Report::new(mode);
    report.run_id = found.run_id;
    report.notes.extend(found.catalog_note);
    report.verify = found.verify;
    if let Some(rows) = found.rows {
        report.source_rows = rows.source_rows;
        report.invalid_rows = rows.invalid_rows;
        report.known_invalid_rows = rows.known_invalid_rows;
        report.warning_rows = rows.warning_rows;
        report.errors = rows.errors;
        report.warnings = rows.warnings;
        report.hints = rows.hints;
        report.notes.extend(rows.notes);
    }
    if let Some(plan) = found.plan {
        report.planned = plan.planned;
        report.pending_deletion = plan.pending_deletion;
        report.kept_restored = plan.kept_restored;
    }
    report.notes.extend(found.plan_note);
    if let Some(listing) = found.listing {
        report.changes = listing.changes;
        report.notes.extend(listing.notes);
    }
    if let Some(result) = found.applied {
        report.applied = result.applied;
        report.adopted = result.adopted;
        report.already_in_sync = result.already_in_sync;
        report.already_gone = result.already_gone;
        report.failed = result.failed;
        report.stopped = result.stopped;
        report.errors.extend(result.errors);
        if let Some(fatal) = result.fatal {
            report.outcome = Outcome::Unavailable;
            report.fatal = Some(fatal.to_string());
        } else if result.stopped > 0 {
            report.outcome = Outcome::Stopped;
            report.fatal = Some(format!(
                "stopped on request: the writes in flight were finished and recorded; {} records were left for the next run",
                result.stopped
            ));
        }
    }
    if let End::Early { outcome, why, left } = end {
        report.outcome = outcome;
        report.fatal = Some(why);
        report.stopped += left;
    }
    report.api_requests = client.map_or(0, Client::requests_sent);
    report.api = client.map(|c| c.stats().snapshot()).unwrap_or_default();
    report.duration_ms = started.elapsed().as_millis() as u64;
    report.settle();
    report
}

/// Records an apply run that ended (with a report or a stop) in the mirror: its row in
/// `runs`, its failing records, and history older than `history_days` dropped. A mirror
/// that cannot record is logged, not fatal: the run's writes are recorded already.
pub fn finish_run(
    mirror: &mut Mirror,
    run_id: i64,
    result: &Result<Report, Stop>,
    started: Instant,
    history_days: u32,
) {
    let end = match result {
        Ok(report) => {
            keep_failures(mirror, report, history_days);
            report_end(report, mirror.now())
        }
        Err(stop) => stop_end(stop, started, mirror.now()),
    };
    if let Err(e) = mirror.finish_run(run_id, &end) {
        tracing::warn!(error = %e, "Could not record the run in the mirror");
    }
}

/// The one log line that sums a run up: its outcome, counts and duration.
pub fn log_summary(report: &Report) {
    macro_rules! summary {
        ($level:ident) => {
            tracing::$level!(
                mode = report.mode.as_str(),
                outcome = report.outcome.as_str(),
                rows = report.source_rows,
                invalid = report.invalid_rows,
                warnings = report.warnings.len(),
                warning_rows = report.warning_rows,
                created = report.applied.create,
                updated = report.applied.update,
                deleted = report.applied.delete,
                unchanged = report.planned.unchanged,
                failed = report.failed,
                stopped = report.stopped,
                api_requests = report.api_requests,
                duration_ms = report.duration_ms,
                first_error = report.fatal.as_deref().or(report.errors.first().map(|e| e.message.as_str())),
                "Sync finished"
            )
        };
    }
    match report.outcome {
        Outcome::Ok => summary!(info),
        Outcome::Partial | Outcome::Stopped => summary!(warn),
        Outcome::Refused | Outcome::Unavailable | Outcome::ConfigError => summary!(error),
    }
}

/// The daemon's account of a run's warnings, where no report is printed: one event per
/// column and reason, with the count and the first rows and values (a `sync` prints them in
/// its report instead, and logs each one only at -v).
pub fn log_warning_groups(report: &Report) {
    for g in crate::mapping::warning::group(&report.warnings) {
        let first: Vec<String> = g
            .warnings
            .iter()
            .take(3)
            .map(|w| format!("row {} {}", w.row, crate::mapping::convert::shown(&w.value)))
            .collect();
        tracing::warn!(column = g.column, reason = g.reason, values = g.warnings.len(), first = %first.join(", "), "Values left out");
    }
    for hint in &report.hints {
        tracing::warn!(hint = %hint, "Phone numbers refused in the default region");
    }
}

/// Files a run's failures in the mirror (a run that tried every record also drops those
/// that no longer fail), and drops history older than `history_days`. A refused run tried
/// nothing and records nothing.
fn keep_failures(mirror: &mut Mirror, report: &Report, history_days: u32) {
    if report.outcome == Outcome::Refused {
        return;
    }
    if let Err(e) = mirror.record_failures(&report.errors, report.outcome.finished()) {
        tracing::warn!(error = %e, "Could not record the failing records in the mirror");
    }
    match mirror.prune_history(history_days) {
        Ok(0) => {}
        Ok(n) => tracing::info!(entries = n, history_days, "Dropped history older than [state].history_days"),
        Err(e) => tracing::warn!(error = %e, "Could not drop old history from the mirror"),
    }
}

fn report_end(r: &Report, finished_at: Timestamp) -> RunEnd {
    let count = |n: usize| n as u64;
    RunEnd {
        finished_at,
        outcome: r.outcome,
        exit_code: i64::from(r.exit().code()),
        duration_ms: r.duration_ms,
        first_error: r.fatal.clone().or_else(|| r.errors.first().map(|e| e.message.clone())),
        work: Some(RunWork {
            source_rows: r.source_rows,
            invalid_rows: r.invalid_rows,
            known_invalid_rows: Some(r.known_invalid_rows),
            planned: r.planned,
            applied: r.applied,
            failed: r.failed,
            api_requests: r.api_requests,
            verify: r.verify.as_ref().map(|v| VerifyCounts {
                checked: v.checked,
                drifted: count(v.drifted.len()),
                missing: count(v.missing.len()),
            }),
        }),
    }
}

/// How an apply-mode run that stopped before it had a report ended.
fn stop_end(stop: &Stop, started: Instant, finished_at: Timestamp) -> RunEnd {
    RunEnd {
        finished_at,
        outcome: Outcome::of_stop(stop.exit()),
        exit_code: i64::from(stop.exit().code()),
        duration_ms: started.elapsed().as_millis() as u64,
        first_error: Some(stop.headline()),
        work: None,
    }
}
