//! `openphone-sync restore (--run N | EXTERNAL_ID… | --all-since TIME) [--dry-run]` and
//! `openphone-sync forget EXTERNAL_ID…`: bring back contacts this tool deleted, as they were
//! just before the delete (every field, items and values added in the app included), and end
//! the protection of a restored contact whose row is still missing.
//!
//! A restore looks every externalId up first (as every create does): a contact of ours that
//! exists already is linked, not created again. A restored contact is linked in the mirror and
//! kept while its row is missing: no run deletes it again until the row comes back or
//! `forget` names it. Both take the mirror's run lock.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::exit::Exit;
use crate::mirror::history::Event;
use crate::mirror::{Mirror, Role, RunLock, Select, Tombstone};
use crate::model::{CustomFieldDef, PushedState};
use crate::openphone::wire::{ApiContact, observed_state, ours, restore_body};
use crate::openphone::{ApiError, lookup};
use crate::plan::diff;

use super::Output;
use crate::engine::setup::concurrency;
use crate::engine::{Stop, setup};

/// What `restore` was asked.
#[derive(Debug, Clone)]
pub struct RestoreArgs {
    pub select: Select,
    pub dry_run: bool,
    pub output: Output,
}

#[derive(Debug, Serialize)]
struct Restored {
    external_id: String,
    /// The contact now in OpenPhone (`None` in a dry run).
    contact_id: Option<String>,
    /// The contact was found in OpenPhone already and linked, not created.
    adopted: bool,
    deleted_at: String,
    run_id: Option<i64>,
    /// Values the workspace no longer accepts (a custom field removed since the delete),
    /// left out of the restored contact: `custom[KEY] (NAME): VALUE`.
    left_out: Vec<String>,
}

#[derive(Debug, Serialize)]
struct Failed {
    external_id: String,
    message: String,
}

#[derive(Debug, Serialize)]
struct RestoreReport {
    dry_run: bool,
    restored: Vec<Restored>,
    failed: Vec<Failed>,
    /// What was asked for and matched no kept deleted contact: each external id, or
    /// `run N`, or `since TIME`.
    unmatched: Vec<String>,
    /// Why the restore stopped early, if it did.
    fatal: Option<String>,
}

pub async fn run(config_path: &Path, args: &RestoreArgs) -> Result<Exit, Stop> {
    let report = restore(config_path, args).await.map_err(Stop::nothing_written)?;
    print(&report, args.output)?;
    Ok(if report.fatal.is_some() {
        Exit::Unavailable
    } else if report.failed.is_empty() && report.unmatched.is_empty() {
        Exit::Ok
    } else {
        Exit::Partial
    })
}

async fn restore(config_path: &Path, args: &RestoreArgs) -> Result<RestoreReport, Stop> {
    let (config, _mapping) = setup::load(config_path)?;
    let mut report =
        RestoreReport { dry_run: args.dry_run, restored: vec![], failed: vec![], unmatched: vec![], fatal: None };
    if args.dry_run {
        let mirror = Mirror::open_read_only(&config.database, config.lock_timeout)?;
        let tombs = mirror.as_ref().map(|m| m.tombstones(&args.select)).transpose()?.unwrap_or_default();
        report.unmatched = unmatched(&args.select, &tombs);
        // What the workspace accepts: read from OpenPhone when a key is at hand (a read, no
        // write), else as the last sync saw it.
        let fields = match setup::api_key(&config)? {
            Some(key) if !tombs.is_empty() => Some(setup::client(&config, key)?.custom_fields().await?),
            _ => mirror.as_ref().map(Mirror::cached_fields).transpose()?.flatten(),
        };
        for t in &tombs {
            let left_out = match serde_json::from_value::<ApiContact>(t.contact.clone()) {
                Ok(mut c) => fields.as_deref().map(|f| leave_out_unknown(&mut c, f)).unwrap_or_default(),
                Err(_) => Vec::new(),
            };
            report.restored.push(restored(t, None, false, left_out));
        }
        return Ok(report);
    }
    let key = setup::require_api_key(&config)?;
    let _lock = RunLock::acquire(&config.database, Role::Sync)?;
    let mut mirror = Mirror::open(&config.database, config.lock_timeout)?;
    let tombs = mirror.tombstones(&args.select)?;
    report.unmatched = unmatched(&args.select, &tombs);
    if tombs.is_empty() {
        return Ok(report);
    }
    let client = setup::client(&config, key)?;
    // The custom fields the workspace has now: a value of one removed since is left out
    // (and reported), not sent to be refused.
    let fields = client.custom_fields().await?;
    let label = config.openphone.source_label.as_str();
    let ids: Vec<&str> = tombs.iter().map(|t| t.external_id.as_str()).collect();
    let read = lookup(&client, &ids, concurrency(&config)).await;
    let unread: std::collections::HashMap<&str, &ApiError> = read.failed.iter().map(|(i, e)| (i.as_str(), e)).collect();
    for t in &tombs {
        let fail = |report: &mut RestoreReport, message: String| {
            tracing::warn!(external_id = %t.external_id, error = %message, "Not restored");
            report.failed.push(Failed { external_id: t.external_id.clone(), message });
        };
        if let Some(e) = unread.get(t.external_id.as_str()) {
            fail(&mut report, format!("lookup before restoring failed; nothing was sent: {e}"));
            continue;
        }
        if report.fatal.is_some() {
            fail(&mut report, "not attempted: the restore stopped".into());
            continue;
        }
        let found = read.found.get(&t.external_id).map(Vec::as_slice).unwrap_or_default();
        let mut stored: ApiContact = match serde_json::from_value(t.contact.clone()) {
            Ok(c) => c,
            Err(e) => {
                fail(&mut report, format!("the kept state is unreadable: {e}"));
                continue;
            }
        };
        let left_out = leave_out_unknown(&mut stored, &fields);
        let (contact, adopted) = if let Some(c) = ours(found, label) {
            (c.clone(), true)
        } else if let Some(c) = found.first() {
            let source = c.source.as_deref().unwrap_or("none");
            fail(&mut report, format!("a contact with this externalId exists with source {source:?}; left alone"));
            continue;
        } else {
            match client.create_contact(&restore_body(&t.external_id, label, &stored)).await {
                Ok(c) => (c, false),
                Err(e) => {
                    if e.is_fatal() || e.is_unavailable() {
                        report.fatal = Some(e.to_string());
                    }
                    fail(&mut report, format!("create failed: {e}"));
                    continue;
                }
            }
        };
        // What OpenPhone answered, as the mapping last saw the contact.
        let pushed = t.pushed.as_ref().map(|p| observed_state(&contact, &p.state, None)).unwrap_or_default();
        let changes = if adopted { Vec::new() } else { diff(&pushed.state, &PushedState::default()).changes };
        mirror.atomically(|m| {
            m.link_restored(t, &contact.id, &pushed)?;
            m.record_change(&t.external_id, Event::Restore, None, Some(&contact.id), &changes)
        })?;
        tracing::info!(external_id = %t.external_id, contact_id = %contact.id, adopted, "Restored a deleted contact");
        report.restored.push(restored(t, Some(contact.id), adopted, left_out));
    }
    Ok(report)
}

/// What was asked for and matched no kept deleted contact.
fn unmatched(select: &Select, found: &[Tombstone]) -> Vec<String> {
    match select {
        Select::Ids(ids) => {
            let mut out: Vec<String> =
                ids.iter().filter(|id| !found.iter().any(|t| &t.external_id == *id)).cloned().collect();
            out.dedup();
            out
        }
        _ if !found.is_empty() => Vec::new(),
        Select::Run(n) => vec![format!("run {n}")],
        Select::Since(ms) => vec![format!("since {}", crate::clock::format_millis(*ms))],
    }
}

/// Drops from `contact` the custom values whose field the workspace no longer has (`fields`),
/// and says each one left out.
fn leave_out_unknown(contact: &mut ApiContact, fields: &[CustomFieldDef]) -> Vec<String> {
    let mut left_out = Vec::new();
    contact.custom_fields.retain(|c| {
        let known = c.value.is_null() || c.key.as_ref().is_some_and(|k| fields.iter().any(|f| &f.key == k));
        if !known {
            let key = c.key.as_deref().unwrap_or("?");
            left_out.push(format!("custom[{key}]: {} (the field is no longer in the workspace)", c.value));
        }
        known
    });
    left_out
}

fn restored(t: &Tombstone, contact_id: Option<String>, adopted: bool, left_out: Vec<String>) -> Restored {
    Restored {
        external_id: t.external_id.clone(),
        contact_id,
        adopted,
        deleted_at: t.deleted_at.to_string(),
        run_id: t.run_id,
        left_out,
    }
}

fn print(report: &RestoreReport, output: Output) -> Result<(), Stop> {
    match output {
        Output::Json => super::write_json(report),
        Output::Text => super::write_text(|out| write_text(out, report)),
    }
}

fn write_text(out: &mut impl Write, report: &RestoreReport) -> std::io::Result<()> {
    let verb = if report.dry_run { "would restore" } else { "restored" };
    for r in &report.restored {
        let run = r.run_id.map(|n| format!(" by run {n}")).unwrap_or_default();
        let how = if r.adopted { " (found in OpenPhone, linked)" } else { "" };
        writeln!(out, "{verb} {} (deleted {}{run}){how}", r.external_id, r.deleted_at)?;
        for v in &r.left_out {
            writeln!(out, "        left out {v}")?;
        }
    }
    for f in &report.failed {
        writeln!(out, "error   {}: {}", f.external_id, f.message)?;
    }
    for u in &report.unmatched {
        writeln!(
            out,
            "error   {u}: matches no deleted contact kept for restore (never deleted by openphone-sync, already restored, or kept longer ago than keep_deleted_days)"
        )?;
    }
    writeln!(
        out,
        "{} {}, {} failed.{}",
        report.restored.len(),
        verb,
        report.failed.len(),
        if report.dry_run { " Dry run: nothing was written." } else { "" }
    )
}

#[derive(Debug, Serialize)]
struct ForgetReport {
    /// Restored contacts no longer kept: missing from the next run on.
    forgotten: Vec<String>,
    /// Named, but not a restored contact whose row is missing: nothing changed for them.
    not_kept: Vec<String>,
}

/// `forget EXTERNAL_ID…`: the named restored contacts are no longer kept. From the next run
/// on their rows count as missing again, and they are deleted once `delete_after` has passed.
pub fn forget(config_path: &Path, ids: &[String], output: Output) -> Result<Exit, Stop> {
    let run = || -> Result<ForgetReport, Stop> {
        let (config, _mapping) = setup::load(config_path)?;
        let _lock = RunLock::acquire(&config.database, Role::Sync)?;
        let mut mirror = Mirror::open(&config.database, config.lock_timeout)?;
        let forgotten = mirror.atomically(|m| {
            let forgotten = m.forget_restores(ids)?;
            for id in &forgotten {
                m.record_change(id, Event::Forget, None, None, &[])?;
            }
            Ok(forgotten)
        })?;
        let not_kept = ids.iter().filter(|i| !forgotten.contains(i)).cloned().collect();
        Ok(ForgetReport { forgotten, not_kept })
    };
    let report = run().map_err(Stop::nothing_written)?;
    match output {
        Output::Json => super::write_json(&report)?,
        Output::Text => super::write_text(|out| {
            for id in &report.forgotten {
                writeln!(out, "forgot  {id}: no longer kept; deleted after delete_after if its row stays missing")?;
            }
            for id in &report.not_kept {
                writeln!(out, "error   {id}: not a restored contact whose row is missing; nothing changed")?;
            }
            Ok(())
        })?,
    }
    Ok(if report.not_kept.is_empty() { Exit::Ok } else { Exit::Partial })
}
