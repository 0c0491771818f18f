//! The last step: the report's totals, the one log line that sums a run up, and, in apply
//! mode, the run's row in the mirror with its failing records (every apply run, however it
//! ends, is recorded).

use std::time::Instant;

use crate::mirror::{Mirror, RunRecord};
use crate::openphone::Client;
use crate::outcome::{Mode, Outcome};
use crate::report::Report;

use super::apply::ApplyResult;
use super::stop::Stop;

/// Closes the report: requests sent, time taken, and the outcome the counts imply.
pub fn close(mut report: Report, client: Option<&Client>, started: Instant) -> Report {
    report.api_requests = client.map(Client::requests_sent).unwrap_or(0);
    report.api = client.map(|c| c.stats().snapshot()).unwrap_or_default();
    report.duration_ms = started.elapsed().as_millis() as u64;
    report.settle();
    report
}

/// A report that ends here: `outcome`, and why.
pub fn end(
    mut report: Report,
    outcome: Outcome,
    why: impl Into<String>,
    client: Option<&Client>,
    started: Instant,
) -> Report {
    report.outcome = outcome;
    report.fatal = Some(why.into());
    close(report, client, started)
}

/// What the apply step did, in the report; its outcome when it stopped early.
pub fn applied(report: &mut Report, result: ApplyResult) {
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
    let record = match result {
        Ok(report) => {
            keep_failures(mirror, report, history_days);
            run_record(run_id, report)
        }
        Err(stop) => stop_record(run_id, stop, started),
    };
    if let Err(e) = mirror.finish_run(&record) {
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

fn run_record(id: i64, r: &Report) -> RunRecord {
    RunRecord {
        id,
        mode: r.mode,
        outcome: Some(r.outcome),
        exit_code: Some(r.exit().code() as i64),
        source_rows: Some(r.source_rows),
        invalid_rows: Some(r.invalid_rows),
        known_invalid_rows: Some(r.known_invalid_rows),
        planned: Some(r.planned),
        applied: Some(r.applied),
        failed: Some(r.failed),
        api_requests: Some(r.api_requests),
        duration_ms: Some(r.duration_ms),
        first_error: r.fatal.clone().or_else(|| r.errors.first().map(|e| e.message.clone())),
        verify: r.verify.as_ref().map(|v| [v.checked as i64, v.drifted.len() as i64, v.missing.len() as i64]),
        ..RunRecord::new(id, Mode::Apply)
    }
}

/// The record of an apply-mode run that stopped before it had a report.
fn stop_record(id: i64, stop: &Stop, started: Instant) -> RunRecord {
    RunRecord {
        outcome: Some(Outcome::of_stop(stop.exit)),
        exit_code: Some(stop.exit.code() as i64),
        duration_ms: Some(started.elapsed().as_millis() as u64),
        first_error: Some(stop.headline().to_owned()),
        ..RunRecord::new(id, Mode::Apply)
    }
}
