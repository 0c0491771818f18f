//! One record's write, start to finish: [`run`] turns a create, update or delete, with what
//! the read before it found, into the requests it takes (a create or the PATCH of the
//! complete contact, re-reads and retries after ambiguous failures) and returns the
//! [`Effect`] to commit, or why it failed.

use crate::model::{ContactState, PushedState};
use crate::openphone::merge::merge;
use crate::openphone::wire::{ApiContact, confirmed_state, create_body, ours, to_create};
use crate::openphone::{ApiError, Client};
use crate::plan::{Action, FieldChange, diff};
use crate::plan::{Create, Delete, Update};

use super::options::ApplyOptions;

/// One record's work.
pub(super) enum Task {
    /// A create, with the contacts its externalId lookup found.
    Create(Box<Create>, Vec<ApiContact>),
    /// An update, with the contacts the read before it found under its externalId.
    Update(Box<Update>, Vec<ApiContact>),
    /// A delete, with the contacts the read before it found under its externalId.
    Delete(Delete, Vec<ApiContact>),
}

impl Task {
    /// The externalId the record reads before writing.
    pub(super) fn external_id(&self) -> &str {
        match self {
            Task::Create(c, _) => &c.external_id,
            Task::Update(u, _) => &u.external_id,
            Task::Delete(d, _) => &d.external_id,
        }
    }

    /// The externalId of a create (to mark it pending).
    pub(super) fn create_id(&self) -> Option<&str> {
        match self {
            Task::Create(c, _) => Some(&c.external_id),
            _ => None,
        }
    }

    /// The externalId of an update (to mark it pending).
    pub(super) fn update_id(&self) -> Option<&str> {
        match self {
            Task::Update(u, _) => Some(&u.external_id),
            _ => None,
        }
    }

    /// (row, external id, action), for the report.
    pub(super) fn describe(&self) -> (Option<u64>, &str, Action) {
        match self {
            Task::Create(c, _) => (Some(c.row), &c.external_id, Action::Create),
            Task::Update(u, _) => (Some(u.row), &u.external_id, Action::Update),
            Task::Delete(d, _) => (None, &d.external_id, Action::Delete),
        }
    }
}

/// What was sent for a record that succeeded, field by field and item by item.
#[derive(Debug, Clone, PartialEq)]
pub enum Sent {
    /// A create, setting these fields.
    Created(Vec<FieldChange>),
    /// A PATCH, changing these fields from what the contact held as read.
    Patched(Vec<FieldChange>),
    /// Nothing: the contact already held what the write would have set.
    Nothing,
}

/// What to record in the mirror for a record that succeeded.
#[derive(Debug)]
pub enum Effect {
    /// The contact now holds `pushed` (the values sent, with the item ids OpenPhone answered).
    Confirmed { contact_id: String, pushed: Box<crate::model::PushedState>, adopted: bool, sent: Sent },
    /// The contact is gone from OpenPhone: `deleted` when this run's DELETE removed it,
    /// not when it was found gone already (deleted in the app, or by a run killed after its
    /// DELETE): then nothing was sent.
    Gone { deleted: bool },
}

/// Why a record failed.
#[derive(Debug)]
pub(super) struct Failure {
    pub message: String,
    pub api: Option<ApiError>,
    /// The write certainly did not happen (e.g. a 400) and no contact of ours exists for
    /// this record, so a pending create can be dropped.
    pub not_applied: bool,
}

/// The failure of a step that came after a write that may have happened, or on a contact
/// that exists: the record must stay pending so the next run checks it.
fn maybe_applied(f: Failure) -> Failure {
    Failure { not_applied: false, ..f }
}

impl Failure {
    fn api(context: &str, e: ApiError) -> Failure {
        let not_applied = !e.is_ambiguous();
        Failure { message: format!("{context}: {e}"), api: Some(e), not_applied }
    }
}

pub(super) struct TaskResult {
    pub row: Option<u64>,
    pub source_hash: Option<crate::model::Digest>,
    pub external_id: String,
    pub action: Action,
    pub outcome: Result<Effect, Failure>,
}

pub(super) async fn run(task: Task, client: &Client, opts: &ApplyOptions) -> TaskResult {
    match task {
        Task::Create(c, found) => {
            let outcome = create(client, opts, &c.external_id, &c.state, found).await;
            TaskResult {
                row: Some(c.row),
                source_hash: c.source_hash,
                external_id: c.external_id,
                action: Action::Create,
                outcome,
            }
        }
        Task::Update(u, found) => {
            let outcome = update(client, opts, &u, found).await;
            TaskResult {
                row: Some(u.row),
                source_hash: u.source_hash,
                external_id: u.external_id,
                action: Action::Update,
                outcome,
            }
        }
        Task::Delete(d, found) => {
            let outcome = delete(client, opts, &d, &found).await;
            TaskResult { row: None, source_hash: None, external_id: d.external_id, action: Action::Delete, outcome }
        }
    }
}

fn not_ours(external_id: &str, found: &[ApiContact]) -> Failure {
    let c = &found[0];
    Failure {
        message: format!(
            "a contact with externalId {external_id:?} already exists in OpenPhone (id {}, source {:?}) and was not \
             created by openphone-sync; it is left alone (change [openphone].source_label to adopt it)",
            c.id,
            c.source.as_deref().unwrap_or("none")
        ),
        api: None,
        not_applied: true,
    }
}

/// Creates the contact, or adopts the one of ours that `found` (the lookup just made for
/// this externalId) holds. Every create is preceded by such a lookup.
async fn create(
    client: &Client,
    opts: &ApplyOptions,
    external_id: &str,
    desired: &ContactState,
    mut found: Vec<ApiContact>,
) -> Result<Effect, Failure> {
    let body = create_body(external_id, &opts.source_label, desired);
    let mut attempt = 0;
    loop {
        if let Some(existing) = ours(&found, &opts.source_label) {
            let existing = existing.clone();
            tracing::info!(external_id, contact_id = %existing.id, "Contact already in OpenPhone; adopting it");
            return reconcile(client, opts, external_id, desired, existing, None, true).await.map_err(maybe_applied);
        }
        if !found.is_empty() {
            return Err(not_ours(external_id, &found));
        }
        match client.create_contact(&body).await {
            Ok(c) => {
                return Ok(Effect::Confirmed {
                    contact_id: c.id.clone(),
                    pushed: Box::new(confirmed_state(&to_create(desired), &c)),
                    adopted: false,
                    sent: Sent::Created(diff(desired, &PushedState::default()).changes),
                });
            }
            Err(e @ ApiError::Conflict { .. }) => {
                tracing::info!(external_id, error = %e, "Create conflicted; looking the contact up");
                found = lookup_one(client, external_id).await?;
                if found.is_empty() {
                    return Err(Failure::api("create conflicted, and no contact has this externalId", e));
                }
            }
            Err(e) if e.is_ambiguous() && attempt < opts.max_ambiguous_retries => {
                attempt += 1;
                tracing::warn!(external_id, error = %e, "Create may or may not have happened; looking it up");
                found = lookup_one(client, external_id).await.map_err(maybe_applied)?;
            }
            Err(e) => return Err(Failure::api("create failed", e)),
        }
    }
}

/// A contact of ours is gone (deleted in the app): creates it again, or adopts what a lookup
/// of its externalId found. `read` is that lookup when the run's read made it just now;
/// otherwise it is made here. The one path by which a contact is made again.
async fn recreate(
    client: &Client,
    opts: &ApplyOptions,
    external_id: &str,
    desired: &ContactState,
    contact_id: &str,
    read: Option<Vec<ApiContact>>,
) -> Result<Effect, Failure> {
    tracing::info!(external_id, contact_id, "Contact was deleted in OpenPhone; creating it again");
    let found = match read {
        Some(found) => found,
        None => lookup_one(client, external_id).await.map_err(maybe_applied)?,
    };
    create(client, opts, external_id, desired, found).await
}

async fn lookup_one(client: &Client, external_id: &str) -> Result<Vec<ApiContact>, Failure> {
    client
        .find_by_external_ids(&[external_id.to_owned()])
        .await
        .map(|v| v.into_iter().filter(|c| c.external_id.as_deref() == Some(external_id)).collect())
        .map_err(|e| Failure::api("lookup failed", e))
}

/// Brings an existing contact, as just read, to `desired`: one PATCH of the complete
/// contact ([`merge`]), or nothing when it already holds the source's values. `known` is the
/// last confirmed state (which items are ours).
async fn reconcile(
    client: &Client,
    opts: &ApplyOptions,
    external_id: &str,
    desired: &ContactState,
    mut current: ApiContact,
    known: Option<&PushedState>,
    adopted: bool,
) -> Result<Effect, Failure> {
    let mut attempt = 0;
    // A PATCH sent whose reply was lost: when the re-read shows it applied, it is what was sent.
    let mut unanswered: Option<Vec<FieldChange>> = None;
    loop {
        let merged = merge(&current, desired, known, &opts.policies);
        if merged.changes.is_empty() {
            return Ok(Effect::Confirmed {
                contact_id: current.id.clone(),
                pushed: Box::new(confirmed_state(&merged.sent, &current)),
                adopted,
                sent: unanswered.map_or(Sent::Nothing, Sent::Patched),
            });
        }
        match client.update_contact(&current.id, &merged.body).await {
            Ok(reply) => {
                return Ok(Effect::Confirmed {
                    contact_id: reply.id.clone(),
                    pushed: Box::new(confirmed_state(&merged.sent, &reply)),
                    adopted,
                    sent: Sent::Patched(merged.changes),
                });
            }
            // Deleted between the read and the PATCH.
            Err(ApiError::NotFound { .. }) => {
                return Box::pin(recreate(client, opts, external_id, desired, &current.id, None)).await;
            }
            Err(e) if e.is_ambiguous() && attempt < opts.max_ambiguous_retries => {
                attempt += 1;
                unanswered = Some(merged.changes);
                tracing::warn!(external_id, error = %e, "Update may or may not have happened; re-reading the contact");
                match client.get_contact(&current.id).await {
                    Ok(Some(c)) => current = c,
                    Ok(None) => return Box::pin(recreate(client, opts, external_id, desired, &current.id, None)).await,
                    Err(e) => return Err(Failure::api("re-read failed", e)),
                }
            }
            Err(e) => return Err(Failure::api("update failed", e)),
        }
    }
}

/// Updates a mirrored contact from what the read before it found under its externalId.
async fn update(client: &Client, opts: &ApplyOptions, u: &Update, found: Vec<ApiContact>) -> Result<Effect, Failure> {
    let Some(current) = found.iter().find(|c| c.id == u.contact_id) else {
        // Gone: deleted in the app. `found` is the lookup a create needs: it adopts another
        // contact of ours with this externalId, refuses one of another source, or creates.
        return recreate(client, opts, &u.external_id, &u.desired, &u.contact_id, Some(found)).await;
    };
    if !current.is_ours(&opts.source_label) {
        return Err(taken_over(current, &opts.source_label, "left alone"));
    }
    let current = current.clone();
    reconcile(client, opts, &u.external_id, &u.desired, current, u.base.as_ref(), false).await
}

/// A mirrored contact whose `source` is no longer ours: reported, never written.
fn taken_over(c: &ApiContact, label: &str, what: &str) -> Failure {
    Failure {
        message: format!(
            "contact {} now has source {:?}, not {label:?}: it was taken over outside openphone-sync and is {what}",
            c.id,
            c.source.as_deref().unwrap_or("none"),
        ),
        api: None,
        not_applied: false,
    }
}

/// The contacts a delete removes, with their record's externalId: the mirrored contact as
/// read, or (when only a create was ever sent) every contact of ours with the externalId.
pub(super) fn delete_targets<'a>(
    d: &'a Delete,
    found: &'a [ApiContact],
    label: &str,
) -> Vec<(&'a str, &'a ApiContact)> {
    found
        .iter()
        .filter(|c| match &d.contact_id {
            Some(id) => c.id == *id,
            None => c.is_ours(label),
        })
        .map(|c| (d.external_id.as_str(), c))
        .collect()
}

/// Deletes what the read before it found (already gone: nothing to send). A contact taken
/// over by another source is reported and left alone.
async fn delete(client: &Client, opts: &ApplyOptions, d: &Delete, found: &[ApiContact]) -> Result<Effect, Failure> {
    let targets = delete_targets(d, found, &opts.source_label);
    if let Some((_, c)) = targets.iter().find(|(_, c)| !c.is_ours(&opts.source_label)) {
        return Err(taken_over(c, &opts.source_label, "not deleted"));
    }
    if targets.is_empty() {
        tracing::info!(external_id = %d.external_id, "Contact was already gone");
    }
    let mut deleted = false;
    for (_, c) in targets {
        match client.delete_contact(&c.id).await {
            Ok(true) => deleted = true,
            Ok(false) => tracing::info!(external_id = %d.external_id, contact_id = %c.id, "Contact was already gone"),
            Err(e) => return Err(Failure::api("delete failed", e)),
        }
    }
    Ok(Effect::Gone { deleted })
}
