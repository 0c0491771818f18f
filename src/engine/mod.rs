//! The sync engine: one run of `sync` (the command and each tick of the daemon), as its
//! steps in order: load the catalog → read the source → verify (if asked) → map → count
//! the rows → plan → the plan file → guard → apply (or, in a dry run, list) → the report →
//! record. An applying run has read the mirror's index as it opened the mirror (during the
//! integrity check, `Mirror::open_with_index`); a dry run reads it after the catalog. Every step takes the one [`Run`] value and returns its own value, kept in a
//! `record::Found`; the [`Report`] is built from those once, wherever the run ends. A dry
//! and an applying run are a `Target` each; every failure is a [`Stop`] (with `From` each
//! step's error).
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
use crate::openphone::Client;
use crate::outcome::{Mode, Outcome};
use crate::plan::MirrorIndex;
use crate::plan::{self, Inputs, Plan};
use crate::report::{Listing, PlanShown, Report};
use crate::secret::ApiKey;

use blocking::{blocking, drop_elsewhere};
use prepare::PlanStep;
use record::{End, Found};
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
    let key = match (run.dry(), key) {
        (true, key) => {
            let mirror = blocking(|| Mirror::open_read_only(&run.config.database, run.config.lock_timeout))?
                .map(|m| m.with_clock(run.clock.clone()));
            let client = key.map(|k| client(run, k)).transpose()?;
            let result = steps(run, Target::Dry { client, mirror }, None, saved.as_ref()).await;
            return stopped_on_request(run, None, result);
        }
        (false, Some(key)) => key,
        (false, None) => setup::require_api_key(run.config)?,
    };
    let _lock =
        if run.lock_held { None } else { Some(blocking(|| RunLock::acquire(&run.config.database, Role::Sync))?) };
    // The index is read as the mirror is checked (two threads), before anything is written.
    let (mirror, index) = blocking(|| Mirror::open_with_index(&run.config.database, run.config.lock_timeout))?;
    let mut mirror = mirror.with_clock(run.clock.clone());
    let run_id = blocking(|| mirror.start_run(Mode::Apply))?;
    let result = match client(run, key) {
        Ok(client) => {
            let target = Target::Apply { client, mirror: &mut mirror, run_id };
            steps(run, target, Some(index), saved.as_ref()).await
        }
        Err(stop) => Err(stop),
    };
    let result = stopped_on_request(run, Some(run_id), result);
    blocking(|| record::finish_run(&mut mirror, run_id, &result, run.started, run.config.history_days));
    result
}

/// The run's OpenPhone client, which stops sending when the run is told to stop.
fn client(run: &Run<'_>, key: ApiKey) -> Result<Client, Stop> {
    Ok(setup::client(run.config, key)?.with_stop(run.stop.clone()))
}

/// Where a run's writes go: nowhere in a dry run, to OpenPhone and the mirror in an applying
/// one. The steps both share read through [`Target::client`] and [`Target::mirror`].
enum Target<'m> {
    /// A dry run: OpenPhone is read when there is a key, the mirror when a sync made it
    /// (opened read-only).
    Dry { client: Option<Client>, mirror: Option<Mirror> },
    /// An applying run: its client, its mirror (writable, under the run lock) and its row
    /// in the mirror's `runs`.
    Apply { client: Client, mirror: &'m mut Mirror, run_id: i64 },
}

impl Target<'_> {
    fn client(&self) -> Option<&Client> {
        match self {
            Target::Dry { client, .. } => client.as_ref(),
            Target::Apply { client, .. } => Some(client),
        }
    }

    fn mirror(&self) -> Option<&Mirror> {
        match self {
            Target::Dry { mirror, .. } => mirror.as_ref(),
            Target::Apply { mirror, .. } => Some(mirror),
        }
    }

    /// The client to read with and the mirror to write what reading learns (a dry run's is
    /// read-only).
    fn parts(&mut self) -> (Option<&Client>, Option<&mut Mirror>) {
        match self {
            Target::Dry { client, mirror } => (client.as_ref(), mirror.as_mut()),
            Target::Apply { client, mirror, .. } => (Some(client), Some(mirror)),
        }
    }

    fn run_id(&self) -> Option<i64> {
        match self {
            Target::Dry { .. } => None,
            Target::Apply { run_id, .. } => Some(*run_id),
        }
    }
}

/// A request refused because the run was told to stop, before anything was written (the
/// catalog, verify's reads, the dry run's lookups), ends the run as `stopped`, not failed.
fn stopped_on_request(run: &Run<'_>, run_id: Option<i64>, result: Result<Report, Stop>) -> Result<Report, Stop> {
    match result {
        Err(stop) if stop.requested() => {
            let why = "stopped on request before anything was written; the next run does the work";
            let found = Found { run_id, ..Found::default() };
            Ok(record::report(run.args.mode, found, End::early(Outcome::Stopped, why), None, run.started))
        }
        result => result,
    }
}

/// The steps, from the catalog to the report. Each returns its value, kept in [`Found`];
/// the report is built from them once the run ends, wherever that is. `index`: the mirror's,
/// when it was read as the mirror was opened (else it is read here).
async fn steps(
    run: &Run<'_>,
    mut target: Target<'_>,
    index: Option<MirrorIndex>,
    saved: Option<&prepare::PlanUse>,
) -> Result<Report, Stop> {
    let now_ms = run.clock.now_millis();
    let mut found = Found { run_id: target.run_id(), ..Found::default() };
    let ended = |found: Found, end: End, target: &Target<'_>| {
        record::report(run.args.mode, found, end, target.client(), run.started)
    };

    let (client, mirror) = target.parts();
    let (catalog, note) = catalog::load(run, client, mirror).await?;
    found.catalog_note = note;
    let mut index = match index {
        Some(index) => index,
        None => blocking(|| target.mirror().map(Mirror::index).transpose())?.unwrap_or_default(),
    };
    let (client, mirror) = target.parts();
    let read = read::read(run, client, &catalog, mirror, &mut index).await?;
    let Some(read) = read else {
        let why = "stopped on request while reading the source; nothing was written";
        return Ok(ended(found, End::early(Outcome::Stopped, why), &target));
    };
    found.verify = read.verified.as_ref().map(verify::Verified::summary);
    let rows = blocking(|| prepare::count_rows(&read, target.mirror()))?;
    let invalid = std::mem::take(&mut found.rows.insert(rows).invalid);

    let plan = blocking(|| make_plan(run, &read, target.mirror(), &index, now_ms))?;
    let plan = match blocking(|| prepare::saved_plan_step(run, saved, &read, &index, plan))? {
        PlanStep::Go { plan, note } => {
            found.plan_note = note;
            plan
        }
        PlanStep::Stale { plan, why } => {
            found.plan = Some(PlanShown::of(&plan));
            return Ok(ended(found, End::early(Outcome::Refused, why), &target));
        }
    };
    found.plan = Some(PlanShown::of(&plan));
    let mirrored = index.values().filter(|e| e.contact_id.is_some()).count();
    drop_elsewhere(index);

    let (fraction, allowed) = (run.config.sync.max_delete_fraction, run.args.allow_mass_delete);
    if let Err(refusal) = plan::guard(&plan, mirrored, read.mapped.valid(), fraction, allowed) {
        found.listing = Some(Listing::of(&Plan { creates: vec![], updates: vec![], ..plan }));
        return Ok(ended(found, End::early(Outcome::Refused, refusal.to_string()), &target));
    }

    let read::Read { mapped, policies, custom_types, verified, .. } = read;
    drop_elsewhere(mapped);
    let Target::Apply { client, mirror, run_id } = &mut target else {
        found.listing = Some(dry_run::list(run, &plan, &custom_types, &policies, target.client()).await?);
        return Ok(ended(found, End::Finished, &target));
    };
    if run.stop.is_cancelled() {
        let left = plan.creates.len() + plan.updates.len() + plan.deletes.len();
        let why = "stopped on request before anything was written; the next run applies the plan";
        let end = End::Early { outcome: Outcome::Stopped, why: why.into(), left: left as u64 };
        return Ok(ended(found, end, &target));
    }
    blocking(|| prepare::before_apply(run, mirror, verified.as_ref(), &plan, &invalid, now_ms))?;
    let opts = apply::ApplyOptions::new(run, Some(*run_id), policies);
    let bar = progress::Bar::new(run.args.progress);
    let prefetched = verified.as_ref().map(verify::prefetched).unwrap_or_default();
    found.applied = Some(apply::apply(plan, prefetched, client, mirror, &opts, &bar).await?);
    Ok(ended(found, End::Finished, &target))
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
        present: &|at: usize, _: &str| mapped.present.has_known(at),
        index,
        delete_missing: run.config.sync.delete_missing,
        delete_after_ms: i64::try_from(run.config.sync.delete_after.as_millis()).unwrap_or(i64::MAX),
        now_ms,
    };
    Ok(plan::plan(&inputs, bases))
}
