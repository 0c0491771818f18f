//! Applies a plan to OpenPhone exactly once, reading before it writes:
//! - every create and update is first read with one batched externalId lookup
//!   ([`mod@crate::openphone::lookup`], 20 ids a request); a create adopts a contact of ours that
//!   already exists, an update merges the source's values into the contact as read and
//!   PATCHes the complete contact ([`crate::openphone::merge`]);
//! - a record whose read failed fails for this run with nothing sent;
//! - ambiguous failures are resolved by re-reading before writing again, and every confirmed
//!   write is committed to the mirror at once.
//!
//! Requests run concurrently; the client's limiter keeps them within the rate limit. When
//! [`ApplyOptions::stop`] is cancelled no record is started any more; the records in flight
//! finish and are committed, and the rest is left for the next run. Every planned record
//! ends as exactly one of applied, failed (with one error) or stopped.

mod history;
mod options;
mod tasks;

use std::collections::HashMap;

use futures::StreamExt;

use super::blocking::{blocking, drop_elsewhere};
use crate::mirror::{Mirror, MirrorError};
use crate::openphone::{ApiError, Client, Found, lookup};
use crate::plan::Plan;
use crate::plan::{Action, Applied, RecordError};
pub use options::ApplyOptions;
pub use tasks::{Effect, Sent};
use tasks::{Task, TaskResult};

/// After this many consecutive records failed because OpenPhone was unreachable or
/// failing, the run stops (exit 4) instead of failing every remaining record slowly.
const MAX_CONSECUTIVE_UNAVAILABLE: usize = 5;

/// What applying did.
#[derive(Debug, Default)]
pub struct ApplyResult {
    pub applied: Applied,
    pub adopted: u64,
    /// Planned updates that found the contact already as wanted: nothing was sent.
    pub already_in_sync: u64,
    /// Planned deletes that found the contact gone already: nothing sent.
    pub already_gone: u64,
    pub failed: u64,
    pub errors: Vec<RecordError>,
    /// Why the run stopped early, if it did.
    pub fatal: Option<ApiError>,
    /// Records left for the next run because the run was told to stop.
    pub stopped: u64,
}

/// Told of each record as it is done (a progress bar, or nothing).
pub trait Progress: Sync {
    /// `total` records will be applied.
    fn start(&self, _total: u64) {}
    /// One more record is done (applied or failed).
    fn advance(&self) {}
    fn finish(&self) {}
}

/// No progress display.
impl Progress for () {}

/// Applies `plan`, committing each confirmed write to `mirror` as it lands. `prefetched`
/// holds contacts already read this run (by `--verify`): they are not read again.
pub async fn apply(
    plan: Plan,
    mut prefetched: Found,
    client: &Client,
    mirror: &mut Mirror,
    opts: &ApplyOptions,
    progress: &dyn Progress,
) -> Result<ApplyResult, MirrorError> {
    let mut result = ApplyResult::default();
    let create_ids: Vec<&str> = plan.creates.iter().map(|c| c.external_id.as_str()).collect();
    let update_ids: Vec<&str> = plan.updates.iter().map(|u| u.external_id.as_str()).collect();

    // The read before every write: one batched lookup for the creates, updates and deletes.
    // It writes nothing, so the pending marks come after it, just before the first write: a
    // run stopped (or failing) during the lookups has no mark of its own to undo (undoing a
    // million took seconds).
    let delete_ids = plan.deletes.iter().map(|d| d.external_id.as_str());
    let to_read: Vec<&str> = create_ids
        .iter()
        .chain(&update_ids)
        .copied()
        .chain(delete_ids)
        .filter(|id| !prefetched.contains_key(*id))
        .collect();
    let read = lookup(client, &to_read, opts.concurrency).await;
    drop((create_ids, update_ids, to_read));
    if matches!(read.fatal, Some(ApiError::Stopped)) {
        // Stopped before any write: every record is left for the next run, and nothing was
        // marked. The plan and the lookups' results are freed elsewhere: for a million
        // records that takes seconds, which the stop need not wait for.
        result.stopped = (plan.creates.len() + plan.updates.len() + plan.deletes.len()) as u64;
        drop_elsewhere((plan, read, prefetched));
        return Ok(result);
    }
    let mut found = read.found;
    found.extend(prefetched.drain());
    let unread: HashMap<String, ApiError> = read.failed.into_iter().collect();
    let mut tasks: Vec<Task> = Vec::with_capacity(plan.creates.len() + plan.updates.len() + plan.deletes.len());
    for c in plan.creates {
        let existing = found.remove(&c.external_id).unwrap_or_default();
        tasks.push(Task::Create(Box::new(c), existing));
    }
    for u in plan.updates {
        let existing = found.remove(&u.external_id).unwrap_or_default();
        tasks.push(Task::Update(Box::new(u), existing));
    }
    for d in plan.deletes {
        let existing = found.remove(&d.external_id).unwrap_or_default();
        tasks.push(Task::Delete(d, existing));
    }
    // A record whose read failed is not started: it fails (or, when the run is stopping, is
    // left for the next run) with nothing sent.
    let (tasks, not_read): (Vec<Task>, Vec<Task>) =
        tasks.into_iter().partition(|t| !unread.contains_key(t.external_id()));
    for task in &not_read {
        let e = &unread[task.external_id()];
        settle_unstarted(&mut result, task, e, "lookup before writing failed; nothing was sent");
    }
    if !matches!(read.fatal, Some(ApiError::Stopped)) {
        // Marks an earlier run left (a create it may have sent) are dropped as before; a stop
        // keeps them, and the next run reads those records first as it reads every record.
        unmark(mirror, &not_read)?;
    }
    if let Some(fatal) = read.fatal {
        // A stop is not an error: the run's summary line says what it left (`stopped=`).
        if !matches!(fatal, ApiError::Stopped) {
            tracing::error!(error = %fatal, "Cannot read the contacts to write; stopping the run");
        }
        for task in &tasks {
            settle_unstarted(&mut result, task, &fatal, "not attempted: the run stopped");
        }
        if !matches!(fatal, ApiError::Stopped) {
            unmark(mirror, &tasks)?;
            result.fatal = Some(fatal);
        }
        return Ok(result);
    }

    // Marked pending (in one transaction) before the first write is sent, so a run killed
    // before their replies re-reads those contacts instead of trusting the mirror. A stop
    // during the marking rolls it back: nothing is marked, nothing started.
    let creates: Vec<&str> = tasks.iter().filter_map(Task::create_id).collect();
    let updates: Vec<&str> = tasks.iter().filter_map(Task::update_id).collect();
    let marked = blocking(|| mirror.mark_pending(&creates, &updates, &|| opts.stop.is_cancelled()))?;
    drop((creates, updates));
    if !marked {
        result.stopped += tasks.len() as u64;
        return Ok(result);
    }

    // The complete state of every contact about to be deleted is kept before any DELETE.
    let doomed: Vec<(String, String, serde_json::Value)> = tasks
        .iter()
        .filter_map(|t| match t {
            Task::Delete(d, found) => Some(tasks::delete_targets(d, found, &opts.source_label)),
            _ => None,
        })
        .flatten()
        .map(|(ext, c)| (ext.to_owned(), c.id.clone(), serde_json::to_value(c).expect("a contact serialises")))
        .collect();
    blocking(|| mirror.save_tombstones(opts.run_id, &doomed))?;
    drop(doomed);

    progress.start(tasks.len() as u64);
    let mut pending = tasks.into_iter();
    // The iterator is asked for a task only when a slot frees up, so once `stop` is
    // cancelled (or the run is failing) no task starts, and the stream ends when those in
    // flight are done.
    let halt = std::sync::atomic::AtomicBool::new(false);
    let next = std::iter::from_fn(|| {
        if opts.stop.is_cancelled() || halt.load(std::sync::atomic::Ordering::Relaxed) { None } else { pending.next() }
    });
    let mut stream =
        futures::stream::iter(next.map(|t| tasks::run(t, client, opts))).buffer_unordered(opts.concurrency.max(1));
    let mut unavailable_streak = 0usize;
    while let Some(TaskResult { row, source_hash, external_id, action, outcome }) = stream.next().await {
        progress.advance();
        match outcome {
            Ok(effect) => {
                unavailable_streak = 0;
                if let Err(e) = blocking(|| commit(mirror, row, &external_id, &effect, source_hash)) {
                    // The write landed but is not recorded: its record is still marked pending
                    // (a create is looked up and adopted, an update re-read, a delete answered
                    // 404) by the next run. Stop now: the mirror cannot record anything else.
                    tracing::error!(
                        row,
                        external_id,
                        ?action,
                        error = %e,
                        "OpenPhone confirmed a write the mirror could not record; the next run checks it"
                    );
                    return Err(e);
                }
                match effect {
                    // An update that found the contact already as wanted sent nothing.
                    Effect::Confirmed { adopted: false, sent: Sent::Nothing, .. } if action == Action::Update => {
                        result.already_in_sync += 1;
                    }
                    Effect::Confirmed { adopted, .. } => {
                        result.adopted += u64::from(adopted);
                        result.applied.add(action);
                    }
                    Effect::Gone { deleted: true } => result.applied.add(action),
                    // Found gone already: nothing was sent.
                    Effect::Gone { deleted: false } => result.already_gone += 1,
                }
                tracing::debug!(external_id, ?action, "Applied");
            }
            Err(failure) => {
                if failure.not_applied && action == Action::Create {
                    blocking(|| mirror.drop_unconfirmed(&external_id))?;
                }
                if matches!(failure.api, Some(ApiError::Stopped)) {
                    // Stopped before its next request: the next run does (or checks) it.
                    tracing::debug!(row, external_id, ?action, "Record left for the next run");
                    result.stopped += 1;
                    continue;
                }
                tracing::warn!(row, external_id, ?action, error = %failure.message, "Record failed");
                result.failed += 1;
                result.errors.push(RecordError {
                    row,
                    external_id: Some(external_id),
                    action: Some(action),
                    message: failure.message,
                    status: failure.api.as_ref().and_then(ApiError::status),
                    code: failure.api.as_ref().and_then(|e| e.code().map(str::to_owned)),
                });
                if let Some(api) = failure.api {
                    if api.is_fatal() {
                        result.fatal = Some(api);
                        halt.store(true, std::sync::atomic::Ordering::Relaxed);
                    } else if api.is_unavailable() {
                        unavailable_streak += 1;
                        if unavailable_streak >= MAX_CONSECUTIVE_UNAVAILABLE && result.fatal.is_none() {
                            tracing::error!(error = %api, "OpenPhone keeps failing; stopping the run");
                            result.fatal = Some(api);
                            halt.store(true, std::sync::atomic::Ordering::Relaxed);
                        }
                    } else {
                        unavailable_streak = 0;
                    }
                }
            }
        }
    }
    progress.finish();
    drop(stream);
    let never_started: Vec<Task> = pending.collect();
    if opts.stop.is_cancelled() {
        result.stopped += never_started.len() as u64;
    } else if let Some(fatal) = result.fatal.clone() {
        for task in &never_started {
            settle_unstarted(&mut result, task, &fatal, "not attempted: the run stopped");
        }
    }
    unmark(mirror, &never_started)?;
    drop_elsewhere(never_started);
    Ok(result)
}

/// Counts a record that was never started: failed with one error, or stopped when the run
/// was told to stop.
fn settle_unstarted(result: &mut ApplyResult, task: &Task, e: &ApiError, context: &str) {
    if matches!(e, ApiError::Stopped) {
        result.stopped += 1;
        return;
    }
    let (row, external_id, action) = task.describe();
    result.failed += 1;
    result.errors.push(error(row, external_id, action, e, context));
}

/// Undoes the pending marks of records that were never started, where that is safe: an
/// update that was not already being re-read, and a create whose lookup found nothing. In
/// one transaction, on a thread where blocking is allowed.
fn unmark(mirror: &mut Mirror, never_started: &[Task]) -> Result<(), MirrorError> {
    let (mut creates, mut updates) = (Vec::new(), Vec::new());
    for task in never_started {
        match task {
            Task::Create(c, existing) if existing.is_empty() => creates.push(c.external_id.as_str()),
            Task::Update(u, _) if !u.refresh => updates.push(u.external_id.as_str()),
            _ => {}
        }
    }
    blocking(|| mirror.unmark(&creates, &updates))
}

/// Commits a confirmed write, and files it in the mirror's history.
fn commit(
    mirror: &mut Mirror,
    row: Option<u64>,
    external_id: &str,
    effect: &Effect,
    source_hash: Option<crate::model::Digest>,
) -> Result<(), MirrorError> {
    mirror.atomically(|mirror| {
        let before = mirror.last_state(external_id)?;
        match effect {
            Effect::Confirmed { contact_id, pushed, .. } => {
                mirror.confirm(external_id, contact_id, pushed, source_hash)?;
            }
            Effect::Gone { .. } => mirror.confirm_deleted(external_id)?,
        }
        history::record(mirror, external_id, row, before, effect)
    })
}

fn error(row: Option<u64>, external_id: &str, action: Action, e: &ApiError, context: &str) -> RecordError {
    RecordError {
        row,
        external_id: Some(external_id.to_owned()),
        action: Some(action),
        message: format!("{context}: {e}"),
        status: e.status(),
        code: e.code().map(str::to_owned),
    }
}
