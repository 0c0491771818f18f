//! What a run does between its steps: a plan file to save or apply (checked against this
//! config and workspace first, then against the source and mirror it was made from), the
//! source's row counts in the report, and the mirror writes that come just before the
//! first request (what `--verify` learned, missing marks, old tombstones, invalid rows).

use crate::mapping::Warning;
use crate::mirror::Mirror;
use crate::plan::MirrorIndex;
use crate::plan::saved::{Made, SavedPlan, mirror_fingerprint};
use crate::plan::{Plan, RecordError};
use crate::secret::ApiKey;

use super::read::Read;
use super::run::Run;
use super::saved_plan::{self, PlanFile};
use super::stop::Stop;
use super::verify::{self, Verified};

/// What a run does with a plan file.
pub(super) enum PlanUse {
    /// Save the dry run's plan to this file, made for this config and workspace.
    Save(std::path::PathBuf, crate::plan::saved::Identity),
    /// Apply exactly this plan, if the source and the mirror are as they were.
    Apply(SavedPlan),
}

/// The plan file of this run, refused now when it was made for another config or workspace.
pub(super) fn saved_plan(run: &Run<'_>, key: Option<&ApiKey>) -> Result<Option<PlanUse>, Stop> {
    let (Some(file), Some(key)) = (run.plan_file, key) else { return Ok(None) };
    let identity = saved_plan::identity(run.config, key);
    Ok(Some(match file {
        PlanFile::Apply(path) => {
            let saved = saved_plan::load(path)?;
            saved
                .check_identity(&identity)
                .map_err(|refusal| Stop::PlanForElsewhere { path: path.clone(), refusal })?;
            PlanUse::Apply(saved)
        }
        PlanFile::Save(path) => {
            saved_plan::check_target(path, run.config)?;
            PlanUse::Save(path.clone(), identity)
        }
    }))
}

/// What the plan-file step decided.
pub(super) enum PlanStep {
    /// Go on with this plan (this run's, or the saved one it matches), with a note when the
    /// plan was saved.
    Go { plan: Plan, note: Option<String> },
    /// The saved plan is stale (why): the run is refused, with this run's plan shown.
    Stale { plan: Plan, why: String },
}

/// Saves this run's plan, or swaps it for the saved one if that is still current.
pub(super) fn saved_plan_step(
    run: &Run<'_>,
    saved: Option<&PlanUse>,
    read: &Read,
    index: &MirrorIndex,
    plan: Plan,
) -> Result<PlanStep, Stop> {
    let (Some(saved), Some(source)) = (saved, read.source.as_ref()) else {
        return Ok(PlanStep::Go { plan, note: None });
    };
    let (config, clock) = (run.config, &run.clock);
    let mirror = mirror_fingerprint(index);
    match saved {
        PlanUse::Apply(saved) => Ok(match saved.check(source, &mirror, &plan) {
            Ok(plan) => PlanStep::Go { plan, note: None },
            Err(stale) => PlanStep::Stale { plan, why: stale.to_string() },
        }),
        PlanUse::Save(path, identity) => {
            let made_at = clock.now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            let made = Made { identity: identity.clone(), source: source.clone(), mirror };
            saved_plan::save(path, &SavedPlan::new(&plan, made, made_at), config)?;
            let note = format!(
                "plan saved to {}: `sync --plan {}` applies exactly it while the source and the mirror are unchanged",
                path.display(),
                path.display()
            );
            Ok(PlanStep::Go { plan, note: Some(note) })
        }
    }
}

/// The source's rows as the report counts them.
#[derive(Debug, Default)]
pub(super) struct RowCounts {
    pub source_rows: u64,
    pub invalid_rows: u64,
    pub known_invalid_rows: u64,
    pub warning_rows: u64,
    /// The invalid rows' errors.
    pub errors: Vec<RecordError>,
    pub warnings: Vec<Warning>,
    pub hints: Vec<String>,
    pub notes: Vec<String>,
    /// The invalid rows (external id or row number, and message), for the mirror.
    pub invalid: Vec<(String, String)>,
}

/// Counts the source's rows, invalid and warned ones with their errors. Invalid rows the
/// last apply run reported the same way are known: they do not fail this run again (the
/// daemon would otherwise exit 1 forever on the same few rows).
pub(super) fn count_rows(read: &Read, mirror: Option<&Mirror>) -> Result<RowCounts, Stop> {
    let mapped = &read.mapped;
    let invalid: Vec<(String, String)> = mapped
        .errors
        .iter()
        .map(|e| (e.external_id.clone().unwrap_or_else(|| format!("row {}", e.row)), e.message.clone()))
        .collect();
    let known_invalid_rows = match mirror {
        Some(m) => {
            let known = m.known_invalid()?;
            invalid.iter().filter(|k| known.contains(k)).count() as u64
        }
        None => 0,
    };
    let mut notes = Vec::new();
    if mapped.ids_kept_as_written > 0 {
        notes.push(format!(
            "{} rows keep the external id they were first synced with, which starts with Excel's apostrophe ('): new rows are read without it (docs/mapping.md, \"Identity\")",
            mapped.ids_kept_as_written
        ));
    }
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
    Ok(RowCounts {
        source_rows: mapped.rows as u64,
        invalid_rows: mapped.errors.len() as u64,
        known_invalid_rows,
        warning_rows: mapped.warning_rows() as u64,
        errors: mapped.errors.iter().map(RecordError::from_row).collect(),
        warnings: mapped.warnings.clone(),
        hints: mapped.region_hints.clone(),
        notes,
        invalid,
    })
}

/// The mirror writes of an apply run that come just before its first request.
pub(super) fn before_apply(
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
