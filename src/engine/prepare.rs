//! What a run does between its steps: a plan file to save or apply (checked against this
//! config and workspace first, then against the source and mirror it was made from), the
//! source's row counts in the report, and the mirror writes that come just before the
//! first request (what `--verify` learned, missing marks, old tombstones, invalid rows).

use crate::mirror::Mirror;
use crate::plan::MirrorIndex;
use crate::plan::saved::{Made, SavedPlan, mirror_fingerprint};
use crate::plan::{Plan, RecordError};
use crate::report::Report;
use crate::secret::ApiKey;

use super::read::Read;
use super::run::Run;
use super::saved_plan::{self, PlanFile};
use super::stop::Stop;
use super::verify::{self, Verified};

/// What a run does with a plan file.
pub enum PlanUse {
    /// Save the dry run's plan to this file, made for this config and workspace.
    Save(std::path::PathBuf, crate::plan::saved::Identity),
    /// Apply exactly this plan, if the source and the mirror are as they were.
    Apply(SavedPlan),
}

/// The plan file of this run, refused now when it was made for another config or workspace.
pub fn saved_plan(run: &Run<'_>, key: Option<&ApiKey>) -> Result<Option<PlanUse>, Stop> {
    let (Some(file), Some(key)) = (run.plan_file, key) else { return Ok(None) };
    let identity = saved_plan::identity(run.config, key);
    Ok(Some(match file {
        PlanFile::Apply(path) => {
            let saved = saved_plan::load(path)?;
            saved.check_identity(&identity).map_err(|e| Stop::config(format!("{}: {e}", path.display())))?;
            PlanUse::Apply(saved)
        }
        PlanFile::Save(path) => {
            saved_plan::check_target(path, run.config)?;
            PlanUse::Save(path.clone(), identity)
        }
    }))
}

/// Saves this run's plan, or swaps it for the saved one if that is still current. The
/// inner `Err` is why a saved plan is stale: the run is refused with the new plan shown.
pub fn saved_plan_step(
    config: &crate::config::Config,
    saved: Option<&PlanUse>,
    read: &Read,
    index: &MirrorIndex,
    plan: Plan,
    report: &mut Report,
) -> Result<Result<Plan, String>, Stop> {
    let (Some(saved), Some(source)) = (saved, read.source.as_ref()) else { return Ok(Ok(plan)) };
    let mirror = mirror_fingerprint(index);
    match saved {
        PlanUse::Apply(saved) => Ok(saved.check(source, &mirror, &plan).map_err(|stale| {
            report.set_plan(&plan);
            stale.to_string()
        })),
        PlanUse::Save(path, identity) => {
            let made_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            let made = Made { identity: identity.clone(), source: source.clone(), mirror };
            saved_plan::save(path, &SavedPlan::new(&plan, made, made_at), config)?;
            report.notes.push(format!(
                "plan saved to {}: `sync --plan {}` applies exactly it while the source and the mirror are unchanged",
                path.display(),
                path.display()
            ));
            Ok(Ok(plan))
        }
    }
}

/// Counts the source's rows in the report, invalid and warned ones with their errors, and
/// returns the invalid rows (external id or row number, and message) for the mirror.
/// Invalid rows the last apply run reported the same way are known: they do not fail this
/// run again (the daemon would otherwise exit 1 forever on the same few rows).
pub fn count_rows(read: &Read, mirror: Option<&Mirror>, report: &mut Report) -> Result<Vec<(String, String)>, Stop> {
    let mapped = &read.mapped;
    report.source_rows = mapped.rows as u64;
    report.invalid_rows = mapped.errors.len() as u64;
    report.errors.extend(mapped.errors.iter().map(RecordError::from_row));
    let invalid: Vec<(String, String)> = mapped
        .errors
        .iter()
        .map(|e| (e.external_id.clone().unwrap_or_else(|| format!("row {}", e.row)), e.message.clone()))
        .collect();
    if let Some(m) = mirror {
        let known = m.known_invalid()?;
        report.known_invalid_rows = invalid.iter().filter(|k| known.contains(k)).count() as u64;
    }
    if mapped.ids_kept_as_written > 0 {
        report.notes.push(format!(
            "{} rows keep the external id they were first synced with, which starts with Excel's apostrophe ('): new rows are read without it (docs/mapping.md, \"Identity\")",
            mapped.ids_kept_as_written
        ));
    }
    report.warnings.extend(mapped.warnings.iter().cloned());
    report.warning_rows = mapped.warning_rows() as u64;
    report.hints.extend(mapped.region_hints.iter().cloned());
    // The report shows each warning (grouped for a person, every one in JSON); the log
    // repeats them only at -v (docs/cli.md, "Warnings").
    for w in &mapped.warnings {
        tracing::debug!(
            row = w.row,
            external_id = w.external_id.as_deref(),
            column = %w.column,
            reason = %w.reason,
            value = %crate::escape::escape(&w.value),
            "Value left out"
        );
    }
    Ok(invalid)
}

/// The mirror writes of an apply run that come just before its first request.
pub fn before_apply(
    run: &Run<'_>,
    mirror: &mut Mirror,
    verified: Option<&Verified>,
    plan: &Plan,
    invalid: &[(String, String)],
    now_ms: i64,
) -> Result<(), Stop> {
    if let Some(found) = verified {
        verify::record(mirror, found)?;
    }
    mirror.apply_marks(&plan.marks, now_ms)?;
    let keep = i64::try_from(run.config.keep_deleted.as_millis()).unwrap_or(i64::MAX);
    let purged = mirror.purge_tombstones(now_ms.saturating_sub(keep))?;
    if purged > 0 {
        tracing::info!(purged, "Dropped the kept state of contacts deleted more than keep_deleted_days ago");
    }
    mirror.record_invalid(invalid)?;
    Ok(())
}
