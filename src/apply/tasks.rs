//! One record's write, start to finish: [`run`] turns a create, update or delete into the
//! requests it takes (lookups, re-reads, retries after ambiguous failures) and returns the
//! [`Effect`] to commit, or why it failed.

use crate::model::ContactState;
use crate::openphone::wire::{ApiContact, confirmed_state, create_body, observed_state};
use crate::openphone::{ApiError, Client};
use crate::plan::{Create, Delete, Update, diff};
use crate::report::Action;

use super::ApplyOptions;

/// One record's work.
pub enum Task {
    /// A create, with the contacts its externalId lookup found.
    Create(Box<Create>, Vec<ApiContact>),
    Update(Box<Update>),
    Delete(Delete),
}

/// What to record in the mirror for a record that succeeded.
#[derive(Debug)]
pub enum Effect {
    /// The contact now holds `pushed`.
    Confirmed { contact_id: String, pushed: Box<crate::model::PushedState>, adopted: bool },
    /// The contact is gone from OpenPhone.
    Gone,
}

/// Why a record failed.
#[derive(Debug)]
pub struct Failure {
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

pub struct TaskResult {
    pub row: Option<u64>,
    pub source_hash: Option<crate::model::Digest>,
    pub external_id: String,
    pub action: Action,
    pub outcome: Result<Effect, Failure>,
}

pub async fn run(task: Task, client: &Client, opts: &ApplyOptions) -> TaskResult {
    match task {
        Task::Create(c, existing) => {
            let outcome = create(client, opts, &c.external_id, &c.state, existing).await;
            TaskResult {
                row: Some(c.row),
                source_hash: c.source_hash,
                external_id: c.external_id,
                action: Action::Create,
                outcome,
            }
        }
        Task::Update(u) => {
            let outcome = update(client, opts, &u).await;
            TaskResult {
                row: Some(u.row),
                source_hash: u.source_hash,
                external_id: u.external_id,
                action: Action::Update,
                outcome,
            }
        }
        Task::Delete(d) => {
            let outcome = delete(client, opts, &d).await;
            TaskResult { row: None, source_hash: None, external_id: d.external_id, action: Action::Delete, outcome }
        }
    }
}

/// Picks, among contacts found by externalId, the one this tool made (oldest first).
fn ours<'a>(found: &'a [ApiContact], label: &str) -> Option<&'a ApiContact> {
    found
        .iter()
        .filter(|c| c.source.as_deref() == Some(label))
        .min_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)))
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
            return reconcile(client, opts, external_id, desired, existing, true).await.map_err(maybe_applied);
        }
        if !found.is_empty() {
            return Err(not_ours(external_id, &found));
        }
        match client.create_contact(&body).await {
            Ok(c) => {
                return Ok(Effect::Confirmed {
                    contact_id: c.id.clone(),
                    pushed: Box::new(confirmed_state(desired, &c)),
                    adopted: false,
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

async fn lookup_one(client: &Client, external_id: &str) -> Result<Vec<ApiContact>, Failure> {
    client
        .find_by_external_ids(&[external_id.to_owned()])
        .await
        .map(|v| v.into_iter().filter(|c| c.external_id.as_deref() == Some(external_id)).collect())
        .map_err(|e| Failure::api("lookup failed", e))
}

/// Brings an existing contact to `desired`: one PATCH of what differs, or nothing.
async fn reconcile(
    client: &Client,
    opts: &ApplyOptions,
    external_id: &str,
    desired: &ContactState,
    mut current: ApiContact,
    adopted: bool,
) -> Result<Effect, Failure> {
    let mut attempt = 0;
    loop {
        let observed = observed_state(&current, desired);
        let d = diff(desired, &observed);
        if d.is_empty() {
            return Ok(Effect::Confirmed {
                contact_id: current.id.clone(),
                pushed: Box::new(confirmed_state(desired, &current)),
                adopted,
            });
        }
        match client.update_contact(&current.id, &d.patch).await {
            Ok(reply) => {
                return Ok(Effect::Confirmed {
                    contact_id: reply.id.clone(),
                    pushed: Box::new(confirmed_state(desired, &reply)),
                    adopted,
                });
            }
            Err(ApiError::NotFound { .. }) => {
                tracing::info!(external_id, contact_id = %current.id, "Contact was deleted in OpenPhone; creating it again");
                return Box::pin(create(client, opts, external_id, desired, Vec::new())).await;
            }
            Err(e) if e.is_ambiguous() && attempt < opts.max_ambiguous_retries => {
                attempt += 1;
                tracing::warn!(external_id, error = %e, "Update may or may not have happened; re-reading the contact");
                match client.get_contact(&current.id).await {
                    Ok(Some(c)) => current = c,
                    Ok(None) => return Box::pin(create(client, opts, external_id, desired, Vec::new())).await,
                    Err(e) => return Err(Failure::api("re-read failed", e)),
                }
            }
            Err(e) => return Err(Failure::api("update failed", e)),
        }
    }
}

async fn update(client: &Client, opts: &ApplyOptions, u: &Update) -> Result<Effect, Failure> {
    if u.refresh || u.base.is_none() {
        return match client.get_contact(&u.contact_id).await {
            Ok(Some(current)) => reconcile(client, opts, &u.external_id, &u.desired, current, false).await,
            Ok(None) => {
                tracing::info!(external_id = %u.external_id, contact_id = %u.contact_id, "Contact was deleted in OpenPhone; creating it again");
                let found = lookup_one(client, &u.external_id).await?;
                create(client, opts, &u.external_id, &u.desired, found).await
            }
            Err(e) => Err(Failure::api("re-read failed", e)),
        };
    }
    match client.update_contact(&u.contact_id, &u.diff.patch).await {
        Ok(reply) => Ok(Effect::Confirmed {
            contact_id: reply.id.clone(),
            pushed: Box::new(confirmed_state(&u.desired, &reply)),
            adopted: false,
        }),
        Err(ApiError::NotFound { .. }) => {
            tracing::info!(external_id = %u.external_id, contact_id = %u.contact_id, "Contact was deleted in OpenPhone; creating it again");
            let found = lookup_one(client, &u.external_id).await?;
            create(client, opts, &u.external_id, &u.desired, found).await
        }
        Err(e) if e.is_ambiguous() && opts.max_ambiguous_retries > 0 => {
            tracing::warn!(external_id = %u.external_id, error = %e, "Update may or may not have happened; re-reading the contact");
            match client.get_contact(&u.contact_id).await {
                Ok(Some(current)) => reconcile(client, opts, &u.external_id, &u.desired, current, false).await,
                Ok(None) => create(client, opts, &u.external_id, &u.desired, Vec::new()).await,
                Err(e) => Err(Failure::api("re-read failed", e)),
            }
        }
        Err(e) => Err(Failure::api("update failed", e)),
    }
}

async fn delete(client: &Client, opts: &ApplyOptions, d: &Delete) -> Result<Effect, Failure> {
    let ids: Vec<String> = match &d.contact_id {
        Some(id) => vec![id.clone()],
        None => lookup_one(client, &d.external_id)
            .await?
            .into_iter()
            .filter(|c| c.source.as_deref() == Some(opts.source_label.as_str()))
            .map(|c| c.id)
            .collect(),
    };
    for id in ids {
        match client.delete_contact(&id).await {
            Ok(true) => {}
            Ok(false) => tracing::info!(external_id = %d.external_id, contact_id = %id, "Contact was already gone"),
            Err(e) => return Err(Failure::api("delete failed", e)),
        }
    }
    Ok(Effect::Gone)
}
