//! `openphone-sync sync`: read the source, map, plan against the mirror, guard, and apply
//! (or, with `--dry-run`, stop before any write). Prints the report; returns the exit code.
//! [`sync_once`] is also what the daemon runs on each tick; every apply-mode run, however
//! it ends, is recorded in the mirror's `runs` table.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use tokio_util::sync::CancellationToken;

use crate::apply::{self, ApplyOptions};
use crate::config::Config;
use crate::exit::Exit;
use crate::mapping::records::map_items;
use crate::mapping::{FieldCatalog, Mapper, Mapping};
use crate::mirror::{Mirror, MirrorError, MirrorIndex, Role, RunLock, RunRecord};
use crate::openphone::Client;
use crate::plan::saved::{Made, SavedPlan, SourceHasher, mirror_fingerprint};
use crate::plan::{self, Inputs, Plan};
use crate::outcome::{Mode, Outcome};
use crate::plan::RecordError;
use crate::report::Report;
use crate::source::{self, SourceError};
use crate::verify::{self, Verified, VerifyError};

use super::Output;
use super::saved_plan::{self, PlanFile};
use super::setup::{self, Stop};

/// How `sync` was asked to run.
#[derive(Debug, Clone)]
pub struct SyncArgs {
    pub mode: Mode,
    pub output: Output,
    pub allow_mass_delete: bool,
    /// Read the mirrored contacts back first and restore those edited or deleted in the app.
    pub verify: bool,
    /// Dry run: list at most this many planned changes (`--limit`).
    pub limit: Option<usize>,
    /// Dry run: list only this external id's change (`--record`).
    pub record: Option<String>,
}

/// What a run gets from its caller besides the config.
#[derive(Debug, Clone, Default)]
pub struct RunContext {
    /// The caller already holds the mirror's run lock (the daemon holds it for its life).
    pub lock_held: bool,
    /// Cancelled to stop: no request or record is started any more; those in flight
    /// finish and are committed.
    pub stop: CancellationToken,
    /// The run's number in the mirror (set by [`sync_once`] in apply mode).
    pub run_id: Option<i64>,
}

/// Runs one sync and prints its report. Returns the exit code. SIGTERM/SIGINT stop it
/// the way they stop the daemon: what is in flight finishes and is committed (exit 4).
pub async fn run(config_path: &Path, args: &SyncArgs) -> Exit {
    run_with_plan(config_path, args, None).await
}

/// [`run`], saving the dry run's plan to a file or applying the plan saved in one.
pub async fn run_with_plan(config_path: &Path, args: &SyncArgs, plan_file: Option<&PlanFile>) -> Exit {
    let started = Instant::now();
    let (config, mapping) = match setup::load(config_path) {
        Ok(x) => x,
        Err(stop) => return fail(stop),
    };
    let ctx = RunContext::default();
    if args.mode == Mode::Apply {
        crate::signals::stop_on_signal(ctx.stop.clone());
    }
    match sync_once_with(&config, &mapping, args, &ctx, started, plan_file).await {
        Ok(report) => {
            log_summary(&report);
            print_report(&report, args.output);
            report.exit()
        }
        Err(stop) => fail(stop),
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
                created = report.applied.create,
                updated = report.applied.update,
                deleted = report.applied.delete,
                unchanged = report.planned.unchanged,
                failed = report.failed,
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
        Outcome::Refused | Outcome::Unavailable => summary!(error),
    }
}

/// Prints a stop to stderr and returns its exit code.
pub fn fail(stop: Stop) -> Exit {
    tracing::error!(exit = stop.exit.code(), "{}", stop.message.lines().next().unwrap_or(""));
    let _ = writeln!(std::io::stderr(), "error: {}", stop.message);
    stop.exit
}

pub fn print_report(report: &Report, output: Output) {
    let mut out = std::io::stdout().lock();
    let _ = match output {
        Output::Json => report.write_json(&mut out),
        Output::Text => report.write_text(&mut out),
    };
}

/// One sync of a loaded config. `Err` for what stops a run before it has a report.
pub async fn sync_once(
    config: &Config,
    mapping: &Mapping,
    args: &SyncArgs,
    ctx: &RunContext,
    started: Instant,
) -> Result<Report, Stop> {
    sync_once_with(config, mapping, args, ctx, started, None).await
}

/// [`sync_once`], saving or applying a plan file.
async fn sync_once_with(
    config: &Config,
    mapping: &Mapping,
    args: &SyncArgs,
    ctx: &RunContext,
    started: Instant,
    plan_file: Option<&PlanFile>,
) -> Result<Report, Stop> {
    let dry = args.mode == Mode::DryRun;
    let key = setup::api_key(config)?;
    if key.is_none() && (!dry || plan_file.is_some()) {
        setup::require_api_key(config)?;
    }
    // A plan for another config or workspace is refused before anything is read or recorded.
    let saved = match (plan_file, &key) {
        (Some(PlanFile::Apply(path)), Some(key)) => {
            let saved = saved_plan::load(path)?;
            saved
                .check_identity(&saved_plan::identity(config, key))
                .map_err(|e| Stop::new(Exit::Config, format!("{}: {e}", path.display())))?;
            Some(PlanUse::Apply(saved))
        }
        (Some(PlanFile::Save(path)), Some(key)) => Some(PlanUse::Save(path.clone(), saved_plan::identity(config, key))),
        _ => None,
    };
    if dry {
        let mut mirror = Mirror::open_read_only(&config.database, config.lock_timeout).map_err(mirror_stop)?;
        return plan_and_apply(config, mapping, args, ctx, key, mirror.as_mut(), started, saved.as_ref()).await;
    }
    let _lock =
        if ctx.lock_held { None } else { Some(RunLock::acquire(&config.database, Role::Sync).map_err(mirror_stop)?) };
    let mut mirror = Mirror::open(&config.database, config.lock_timeout).map_err(mirror_stop)?;
    let run_id = mirror.start_run(Mode::Apply.as_str()).map_err(mirror_stop)?;
    let ctx = RunContext { run_id: Some(run_id), ..ctx.clone() };
    let result = plan_and_apply(config, mapping, args, &ctx, key, Some(&mut mirror), started, saved.as_ref()).await;
    if let Ok(report) = &result {
        super::failures::keep(&mut mirror, report, config.history_days);
    }
    let record = match &result {
        Ok(report) => run_record(run_id, report),
        Err(stop) => stop_record(run_id, stop, started),
    };
    if let Err(e) = mirror.finish_run(&record) {
        tracing::warn!(error = %e, "Could not record the run in the mirror");
    }
    result
}

/// What a run does with a saved plan.
enum PlanUse {
    /// Save the dry run's plan to this file, made for this config and workspace.
    Save(PathBuf, crate::plan::saved::Identity),
    /// Apply exactly this plan, if the source and the mirror are as they were.
    Apply(SavedPlan),
}

/// Reads, maps, plans, guards and (unless dry) applies. `mirror` is writable in apply
/// mode, read-only (or absent) in a dry run.
#[allow(clippy::too_many_arguments)]
async fn plan_and_apply(
    config: &Config,
    mapping: &Mapping,
    args: &SyncArgs,
    ctx: &RunContext,
    key: Option<crate::secret::ApiKey>,
    mut mirror: Option<&mut Mirror>,
    started: Instant,
    saved: Option<&PlanUse>,
) -> Result<Report, Stop> {
    let dry = args.mode == Mode::DryRun;
    let now_ms = crate::clock::now_millis();
    let mut report = Report::new(args.mode);
    report.run_id = ctx.run_id;
    let client = key.map(|k| setup::client(config, k).map(|c| c.with_stop(ctx.stop.clone()))).transpose()?;

    let catalog = match &client {
        Some(c) => {
            let catalog = setup::catalog(mapping, c).await?;
            if let (FieldCatalog::Workspace(defs), Some(m), false) = (&catalog, mirror.as_deref_mut(), dry)
                && !mapping.custom_fields.is_empty()
            {
                m.save_fields(defs).map_err(mirror_stop)?;
            }
            catalog
        }
        None => offline_catalog(mapping, mirror.as_deref(), &mut report)?,
    };

    let mut index = match &mirror {
        Some(m) => m.index().map_err(mirror_stop)?,
        None => MirrorIndex::new(),
    };
    // A file being rewritten while it is read is read again, a few times, before the run
    // gives up (exit 4, nothing written); see `source::stable`.
    let mut verified = None;
    let mut attempt = 0u32;
    let columns = mapping.column_names();
    let (mapped, policies, custom_types, source_hasher) = loop {
        // A sheet may take a while to arrive: a stop meanwhile abandons the read (nothing is written yet).
        let rows = tokio::select! {
            rows = source::open(&config.source, &columns) => rows.map_err(source_stop)?,
            () = ctx.stop.cancelled() => {
                report.outcome = Outcome::Stopped;
                report.fatal = Some("stopped on request while reading the source; nothing was written".into());
                finish(&mut report, client.as_ref(), started);
                return Ok(report);
            }
        };
        let mapper = Mapper::new(mapping, &rows.header, &config.source.describe(), &catalog)
            .map_err(|p| Stop::config(&p))?
            .with_null_values(&config.null_values);
        // --verify: what OpenPhone really holds replaces the mirror's belief, in memory for
        // now; the mirror learns it just before applying (never in a dry run or a refused run).
        if args.verify && verified.is_none() {
            let found = verify_mirror(config, client.as_ref(), mirror.as_deref_mut(), &index, &mapper).await?;
            verify::observe(&found, &mut index);
            report.verify = Some(crate::report::VerifyReport::from(&found));
            verified = Some(found);
        }
        // Records the mirror holds unchanged are counted and dropped as the rows stream in.
        let mut source_hasher = saved.map(|_| SourceHasher::new(&rows.header));
        let rows = rows.inspect(|item| {
            if let Some(h) = source_hasher.as_mut() {
                h.add(item);
            }
        });
        match map_items(&mapper, rows, &index) {
            Ok(mapped) => break (mapped, mapper.policies().clone(), mapper.custom_types(), source_hasher),
            Err(e @ SourceError::Changed { .. }) if attempt < SOURCE_READS - 1 => {
                attempt += 1;
                let wait = std::time::Duration::from_secs(u64::from(attempt));
                tracing::warn!(error = %e, attempt, wait_s = wait.as_secs(), "The source changed while it was read; reading it again");
                tokio::time::sleep(wait).await;
            }
            Err(e) => return Err(source_stop(e)),
        }
    };
    report.source_rows = mapped.rows as u64;
    report.invalid_rows = mapped.errors.len() as u64;
    report.errors.extend(mapped.errors.iter().map(RecordError::from_row));
    // Invalid rows the last apply run reported the same way are known: they do not fail
    // this run again (the daemon would otherwise exit 1 forever on the same few rows).
    let invalid: Vec<(String, String)> = mapped
        .errors
        .iter()
        .map(|e| (e.external_id.clone().unwrap_or_else(|| format!("row {}", e.row)), e.message.clone()))
        .collect();
    if let Some(m) = mirror.as_deref() {
        let known = m.known_invalid().map_err(mirror_stop)?;
        report.known_invalid_rows = invalid.iter().filter(|k| known.contains(k)).count() as u64;
    }
    report.warnings.extend(mapped.warnings.iter().map(RecordError::from_row));
    report.warning_rows = mapped.warning_rows() as u64;
    for w in &mapped.warnings {
        tracing::warn!(row = w.row, external_id = w.external_id.as_deref(), "Value left out: {}", w.message);
    }
    let mut bases = match &mirror {
        Some(m) => m.pushed(&plan::needs_base(&mapped.records, &index)).map_err(mirror_stop)?,
        None => HashMap::new(),
    };
    if let Some(found) = &verified {
        verify::rebase(found, &mut bases);
    }
    // In a block: `Inputs` holds a closure that is not `Sync`, and must not live across an
    // await (the daemon runs this future on another task).
    let plan = {
        let inputs = Inputs {
            records: &mapped.records,
            in_sync: mapped.in_sync,
            present: &|id: &str| mapped.present.contains_key(id),
            index: &index,
            delete_missing: config.sync.delete_missing,
            delete_after_ms: i64::try_from(config.sync.delete_after.as_millis()).unwrap_or(i64::MAX),
            now_ms,
        };
        plan::plan(&inputs, &bases)
    };
    drop(bases);
    let made_from = source_hasher.map(|h| (h.finish(), mirror_fingerprint(&index)));
    let plan = match (saved, made_from) {
        (Some(PlanUse::Apply(saved)), Some((source, mirror))) => match saved.check(&source, &mirror, &plan) {
            Ok(saved) => saved,
            Err(stale) => {
                report.set_plan(&plan);
                report.outcome = Outcome::Refused;
                report.fatal = Some(stale.to_string());
                finish(&mut report, client.as_ref(), started);
                return Ok(report);
            }
        },
        (Some(PlanUse::Save(path, identity)), Some((source, mirror))) => {
            let made_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            saved_plan::save(
                path,
                &SavedPlan::new(&plan, Made { identity: identity.clone(), source, mirror }, made_at),
            )?;
            report.notes.push(format!(
                "plan saved to {}: `sync --plan {}` applies exactly it while the source and the mirror are unchanged",
                path.display(),
                path.display()
            ));
            plan
        }
        _ => plan,
    };
    report.set_plan(&plan);
    let mirrored = index.values().filter(|e| e.contact_id.is_some()).count();
    drop(index);
    tracing::debug!(
        rows = report.source_rows,
        invalid = report.invalid_rows,
        create = plan.creates.len(),
        update = plan.updates.len(),
        delete = plan.deletes.len(),
        unchanged = plan.unchanged,
        "Planned"
    );

    if let Err(refusal) =
        plan::guard(&plan, mirrored, mapped.valid(), config.sync.max_delete_fraction, args.allow_mass_delete)
    {
        report.outcome = Outcome::Refused;
        report.fatal = Some(refusal.to_string());
        report.list_plan(&Plan { creates: vec![], updates: vec![], ..plan });
        finish(&mut report, client.as_ref(), started);
        return Ok(report);
    }
    drop(mapped);

    if dry {
        report.list_plan(&plan);
        report.show_creates(&plan, &custom_types);
        report.narrow(args.limit, args.record.as_deref());
        if let Some(c) = &client {
            note_existing(&plan, c, config, &policies, &mut report).await?;
        } else {
            report.notes.push(
                "no API key: creates were not looked up in OpenPhone (some may already exist and would be adopted)"
                    .into(),
            );
        }
        finish(&mut report, client.as_ref(), started);
        return Ok(report);
    }

    let client = client.expect("apply mode has a client");
    let mirror = mirror.expect("apply mode opens the mirror");
    if ctx.stop.is_cancelled() {
        report.outcome = Outcome::Stopped;
        report.fatal = Some("stopped on request before anything was written; the next run applies the plan".into());
        report.stopped = report.planned.create + report.planned.update + report.planned.delete;
        finish(&mut report, Some(&client), started);
        return Ok(report);
    }
    if let Some(found) = &verified {
        verify::record(mirror, found).map_err(mirror_stop)?;
    }
    mirror.apply_marks(&plan.marks, now_ms).map_err(mirror_stop)?;
    let keep = i64::try_from(config.keep_deleted.as_millis()).unwrap_or(i64::MAX);
    let purged = mirror.purge_tombstones(now_ms.saturating_sub(keep)).map_err(mirror_stop)?;
    if purged > 0 {
        tracing::info!(purged, "Dropped the kept state of contacts deleted more than keep_deleted_days ago");
    }
    mirror.record_invalid(&invalid).map_err(mirror_stop)?;
    let opts = ApplyOptions {
        run_id: ctx.run_id,
        source_label: config.openphone.source_label.clone(),
        concurrency: concurrency(config),
        max_ambiguous_retries: config.openphone.max_retries.max(1),
        stop: ctx.stop.clone(),
        policies,
    };
    let bar = progress_bar(args.output);
    let prefetched = verified.as_ref().map(verify::prefetched).unwrap_or_default();
    let result = apply::apply(plan, prefetched, &client, mirror, &opts, &bar).await.map_err(mirror_stop)?;
    report.applied = result.applied;
    report.adopted = result.adopted;
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
    finish(&mut report, Some(&client), started);
    Ok(report)
}

/// A progress bar on stderr for people at a terminal; nothing in JSON mode or when
/// stderr is not a terminal (a pipe, a file, the journal).
struct Bar(Option<indicatif::ProgressBar>);

fn progress_bar(output: Output) -> Bar {
    let show = output == Output::Text && std::io::IsTerminal::is_terminal(&std::io::stderr());
    Bar(show.then(|| {
        let style =
            indicatif::ProgressStyle::with_template("{spinner} {pos}/{len} records [{wide_bar}] {per_sec} ETA {eta}")
                .expect("a valid template");
        let bar = indicatif::ProgressBar::new(0).with_style(style);
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        bar
    }))
}

impl apply::Progress for Bar {
    fn start(&self, total: u64) {
        if let Some(b) = &self.0 {
            b.set_length(total);
        }
    }
    fn advance(&self) {
        if let Some(b) = &self.0 {
            b.inc(1);
        }
    }
    fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}

/// How many times a file caught mid-write is read before the run gives up.
const SOURCE_READS: u32 = 3;

/// `--verify`: reads the mirrored contacts back (needs the key).
async fn verify_mirror(
    config: &Config,
    client: Option<&Client>,
    mirror: Option<&mut Mirror>,
    index: &MirrorIndex,
    mapper: &Mapper,
) -> Result<Verified, Stop> {
    let client = client.ok_or_else(|| {
        Stop::new(
            Exit::Config,
            format!(
                "{}: --verify reads the contacts back from OpenPhone and needs the API key: set ${} or [openphone].api_key_file",
                config.path.display(),
                crate::config::API_KEY_ENV
            ),
        )
    })?;
    let Some(m) = mirror else { return Ok(Verified::default()) };
    let label = &config.openphone.source_label;
    verify::verify(client, m, index, mapper.unmapped(), mapper.policies(), label, concurrency(config))
        .await
        .map_err(verify_stop)
}

fn verify_stop(e: VerifyError) -> Stop {
    match e {
        VerifyError::Mirror(m) => mirror_stop(m),
        e @ VerifyError::Api(_) => Stop::new(Exit::Unavailable, e.to_string()),
    }
}

pub(crate) fn concurrency(config: &Config) -> usize {
    config.openphone.concurrency.unwrap_or(default_concurrency(config.openphone.requests_per_second))
}

/// Enough requests in flight to use the rate limit when the API answers slowly (up to
/// two seconds a reply), without flooding it.
pub fn default_concurrency(requests_per_second: u32) -> usize {
    (requests_per_second as usize * 2).clamp(4, 64)
}

fn finish(report: &mut Report, client: Option<&Client>, started: Instant) {
    report.api_requests = client.map(Client::requests_sent).unwrap_or(0);
    report.api = client.map(|c| c.stats().snapshot()).unwrap_or_default();
    report.duration_ms = started.elapsed().as_millis() as u64;
    report.settle();
}

pub fn source_stop(e: SourceError) -> Stop {
    let exit = if e.is_config() { Exit::Config } else { Exit::Unavailable };
    Stop::new(exit, e.to_string())
}

pub(crate) fn mirror_stop(e: MirrorError) -> Stop {
    let exit = if matches!(e, MirrorError::Busy { .. }) { Exit::Refused } else { Exit::Unavailable };
    Stop::new(exit, e.to_string())
}

/// Offline: the custom fields as cached by an earlier run, else read as text by name.
fn offline_catalog(mapping: &Mapping, mirror: Option<&Mirror>, report: &mut Report) -> Result<FieldCatalog, Stop> {
    if mapping.custom_fields.is_empty() {
        return Ok(FieldCatalog::Workspace(Vec::new()));
    }
    let cached = match mirror {
        Some(m) => m.cached_fields().map_err(mirror_stop)?,
        None => None,
    };
    Ok(match cached {
        Some(defs) => {
            report.notes.push("no API key: custom fields were checked against the list cached by the last sync".into());
            FieldCatalog::Cached(defs)
        }
        None => {
            report.notes.push(
                "no API key: custom fields were not checked against the workspace (names unverified, values read as text)".into(),
            );
            FieldCatalog::Unknown
        }
    })
}

/// Dry run with a key: which creates would adopt a contact that already exists, and which
/// changes of an update a field's policy would hold back (the contact as read decides).
async fn note_existing(
    plan: &Plan,
    client: &Client,
    config: &Config,
    policies: &crate::model::Policies,
    report: &mut Report,
) -> Result<(), Stop> {
    let creates = plan.creates.iter().map(|c| c.external_id.as_str());
    let held_back = !policies.all_source();
    let updates = plan.updates.iter().filter(|_| held_back).map(|u| u.external_id.as_str());
    let ids: Vec<&str> = creates.chain(updates).collect();
    if ids.is_empty() {
        return Ok(());
    }
    let found =
        crate::openphone::lookup(client, &ids, concurrency(config)).await.complete().map_err(|e| Stop::api(&e))?;
    let label = config.openphone.source_label.as_str();
    let mut adopted = 0;
    for change in report.changes.iter_mut().filter(|c| c.action == crate::plan::Action::Create) {
        let Some(existing) = found.get(&change.external_id) else { continue };
        adopted += 1;
        change.changes.push(match existing.iter().filter(|c| c.is_ours(label)).count() {
            0 => format!(
                "a contact with this externalId exists with another source ({}): it would be reported and left alone",
                existing.iter().map(|c| c.source.as_deref().unwrap_or("none")).collect::<Vec<_>>().join(", ")
            ),
            _ => "exists in OpenPhone already (made by this tool): it would be adopted, not created again".to_owned(),
        });
    }
    for u in plan.updates.iter().filter(|_| held_back) {
        let Some(current) = found.get(&u.external_id).and_then(|f| f.iter().find(|c| c.id == u.contact_id)) else {
            continue;
        };
        let merged = crate::plan::merge(current, &u.desired, u.base.as_ref(), policies);
        let Some(change) = report.changes.iter_mut().find(|c| c.external_id == u.external_id) else { continue };
        for h in &merged.held {
            let prefix = format!("{}:", h.field);
            change.changes.retain(|line| !line.starts_with(&prefix));
            let show = |v: &Option<String>| v.as_ref().map(|s| format!("{s:?}")).unwrap_or_else(|| "(empty)".into());
            change.changes.push(format!(
                "{}: kept: edited in the app ({}; the source says {})",
                h.field,
                show(&h.from),
                show(&h.to)
            ));
        }
    }
    if adopted > 0 {
        report.notes.push(format!(
            "{adopted} of the {} creates already exist in OpenPhone with their externalId and would be adopted, not created again",
            plan.creates.len()
        ));
    }
    Ok(())
}

fn run_record(id: i64, r: &Report) -> RunRecord {
    let n = |v: u64| Some(v as i64);
    RunRecord {
        id,
        mode: r.mode.as_str().to_owned(),
        outcome: Some(r.outcome.as_str().to_owned()),
        exit_code: Some(r.exit().code() as i64),
        source_rows: n(r.source_rows),
        invalid_rows: n(r.invalid_rows),
        known_invalid_rows: n(r.known_invalid_rows),
        planned: [n(r.planned.create), n(r.planned.update), n(r.planned.delete), n(r.planned.unchanged)],
        applied: [n(r.applied.create), n(r.applied.update), n(r.applied.delete)],
        failed: n(r.failed),
        api_requests: n(r.api_requests),
        duration_ms: n(r.duration_ms),
        first_error: r.fatal.clone().or_else(|| r.errors.first().map(|e| e.message.clone())),
        verify: r.verify.as_ref().map(|v| [v.checked as i64, v.drifted.len() as i64, v.missing.len() as i64]),
        ..RunRecord::default()
    }
}

/// The record of an apply-mode run that stopped before it had a report.
fn stop_record(id: i64, stop: &Stop, started: Instant) -> RunRecord {
    let outcome = match stop.exit {
        Exit::Refused => "refused",
        Exit::Config => "config_error",
        _ => "unavailable",
    };
    RunRecord {
        id,
        mode: Mode::Apply.as_str().to_owned(),
        outcome: Some(outcome.to_owned()),
        exit_code: Some(stop.exit.code() as i64),
        duration_ms: Some(started.elapsed().as_millis() as i64),
        first_error: stop.message.lines().next().map(str::to_owned),
        ..RunRecord::default()
    }
}
