//! The sync engine: one run of `sync` (the command and each tick of the daemon), as its
//! steps in order: load the catalog → read the source → verify (if asked) → map → plan →
//! guard → apply (or, in a dry run, list) → record. Every step takes the one [`Run`]
//! value; every failure is a [`Stop`] (with `From` each step's error), and every run that
//! gets as far as a plan ends with a [`Report`].
//!
//! Invariant: nothing is written before the guard has passed; a dry run writes nothing;
//! every apply-mode run, however it ends, is recorded in the mirror's `runs` table.

pub mod apply;
mod blocking;
mod catalog;
mod dry_run;
mod prepare;
mod progress;
mod read;
pub mod record;
mod run;
pub mod saved_plan;
pub mod setup;
mod stop;
pub mod verify;

use std::collections::HashMap;

use crate::mirror::{Mirror, Role, RunLock};
use crate::outcome::{Mode, Outcome};
use crate::plan::MirrorIndex;
use crate::plan::{self, Inputs, Plan};
use crate::report::Report;
use crate::secret::ApiKey;

use blocking::{blocking, drop_elsewhere};
pub use run::{Run, SyncArgs};
pub use stop::Stop;

/// One sync. `Err` for what stops a run before it has a report (a config error, the
/// source or OpenPhone unreadable, the mirror locked or damaged).
pub async fn sync(run: &Run<'_>) -> Result<Report, Stop> {
    let key = setup::api_key(run.config)?;
    if key.is_none() && (!run.dry() || run.plan_file.is_some()) {
        setup::require_api_key(run.config)?;
    }
    // A plan for another config or workspace is refused before anything is read or recorded.
    let saved = prepare::saved_plan(run, key.as_ref())?;
    if run.dry() {
        let mut mirror = blocking(|| Mirror::open_read_only(&run.config.database, run.config.lock_timeout))?;
        let result = steps(run, key, mirror.as_mut(), None, saved.as_ref()).await;
        return stopped_on_request(run, None, result);
    }
    let _lock =
        if run.lock_held { None } else { Some(blocking(|| RunLock::acquire(&run.config.database, Role::Sync))?) };
    let mut mirror = blocking(|| Mirror::open(&run.config.database, run.config.lock_timeout))?;
    let run_id = blocking(|| mirror.start_run(Mode::Apply))?;
    let result = steps(run, key, Some(&mut mirror), Some(run_id), saved.as_ref()).await;
    let result = stopped_on_request(run, Some(run_id), result);
    blocking(|| record::finish_run(&mut mirror, run_id, &result, run.started, run.config.history_days));
    result
}

/// A request refused because the run was told to stop, before anything was written (the
/// catalog, verify's reads, the dry run's lookups), ends the run as `stopped`, not failed.
fn stopped_on_request(run: &Run<'_>, run_id: Option<i64>, result: Result<Report, Stop>) -> Result<Report, Stop> {
    match result {
        Err(stop) if stop.requested() => {
            let mut report = Report::new(run.args.mode);
            report.run_id = run_id;
            let why = "stopped on request before anything was written; the next run does the work";
            Ok(record::end(report, Outcome::Stopped, why, None, run.started))
        }
        result => result,
    }
}

/// The steps, from the catalog to the report. `mirror` is writable in apply mode,
/// read-only (or absent: no sync has made it yet) in a dry run.
async fn steps(
    run: &Run<'_>,
    key: Option<ApiKey>,
    mut mirror: Option<&mut Mirror>,
    run_id: Option<i64>,
    saved: Option<&prepare::PlanUse>,
) -> Result<Report, Stop> {
    let now_ms = crate::clock::now_millis();
    let mut report = Report::new(run.args.mode);
    report.run_id = run_id;
    let client = key.map(|k| setup::client(run.config, k).map(|c| c.with_stop(run.stop.clone()))).transpose()?;
    let client = client.as_ref();

    let catalog = catalog::load(run, client, mirror.as_deref_mut(), &mut report).await?;
    let mut index = blocking(|| mirror.as_deref().map(Mirror::index).transpose())?.unwrap_or_default();
    let Some(read) = read::read(run, client, &catalog, mirror.as_deref_mut(), &mut index).await? else {
        let why = "stopped on request while reading the source; nothing was written";
        return Ok(record::end(report, Outcome::Stopped, why, client, run.started));
    };
    report.verify = read.verified.as_ref().map(verify::Verified::summary);
    let invalid = blocking(|| prepare::count_rows(&read, mirror.as_deref(), &mut report))?;

    let plan = blocking(|| make_plan(run, &read, mirror.as_deref(), &index, now_ms))?;
    let plan = match blocking(|| prepare::saved_plan_step(run.config, saved, &read, &index, plan, &mut report))? {
        Ok(plan) => plan,
        Err(stale) => return Ok(record::end(report, Outcome::Refused, stale, client, run.started)),
    };
    report.set_plan(&plan);
    let mirrored = index.values().filter(|e| e.contact_id.is_some()).count();
    drop_elsewhere(index);

    let (fraction, allowed) = (run.config.sync.max_delete_fraction, run.args.allow_mass_delete);
    if let Err(refusal) = plan::guard(&plan, mirrored, read.mapped.valid(), fraction, allowed) {
        report.list_plan(&Plan { creates: vec![], updates: vec![], ..plan });
        return Ok(record::end(report, Outcome::Refused, refusal.to_string(), client, run.started));
    }

    let read::Read { mapped, policies, custom_types, verified, .. } = read;
    drop_elsewhere(mapped);
    if run.dry() {
        dry_run::list(run, &plan, &custom_types, &policies, client, &mut report).await?;
        return Ok(record::close(report, client, run.started));
    }
    let (Some(client), Some(mirror)) = (client, mirror) else { unreachable!("apply mode has a client and a mirror") };
    if run.stop.is_cancelled() {
        report.stopped = report.planned.create + report.planned.update + report.planned.delete;
        let why = "stopped on request before anything was written; the next run applies the plan";
        return Ok(record::end(report, Outcome::Stopped, why, Some(client), run.started));
    }
    blocking(|| prepare::before_apply(run, mirror, verified.as_ref(), &plan, &invalid, now_ms))?;
    let opts = apply::ApplyOptions::new(run, run_id, policies);
    let bar = progress::Bar::new(run.args.progress);
    let prefetched = verified.as_ref().map(verify::prefetched).unwrap_or_default();
    let result = apply::apply(plan, prefetched, client, mirror, &opts, &bar).await?;
    record::applied(&mut report, result);
    Ok(record::close(report, Some(client), run.started))
}

/// The plan: a pure function of the mapped source and what the mirror knows.
fn make_plan(
    run: &Run<'_>,
    read: &read::Read,
    mirror: Option<&Mirror>,
    index: &MirrorIndex,
    now_ms: i64,
) -> Result<Plan, Stop> {
    let mapped = &read.mapped;
    let mut bases = match mirror {
        Some(m) => m.pushed(&plan::needs_base(&mapped.records, index))?,
        None => HashMap::new(),
    };
    if let Some(found) = &read.verified {
        verify::rebase(found, &mut bases);
    }
    let inputs = Inputs {
        records: &mapped.records,
        in_sync: mapped.in_sync,
        present: &|id: &str| mapped.present.contains_key(id),
        index,
        delete_missing: run.config.sync.delete_missing,
        delete_after_ms: i64::try_from(run.config.sync.delete_after.as_millis()).unwrap_or(i64::MAX),
        now_ms,
    };
    Ok(plan::plan(&inputs, &bases))
}
