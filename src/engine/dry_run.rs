//! The last step of a dry run: the plan listed record by record, each create shown as the
//! contact it would send, and, with a key, what the writes would find in OpenPhone: creates
//! that would adopt an existing contact, and changes a field's policy would hold back.

use std::collections::BTreeMap;

use crate::model::{ContactState, FieldType, Policies, Policy, Scalar};
use crate::openphone::Client;
use crate::openphone::merge::merge;
use crate::plan::{Action, Plan};
use crate::report::Listing;

use super::run::Run;
use super::setup;
use super::stop::Stop;

/// The listing of `plan`, record by record.
pub(super) async fn list(
    run: &Run<'_>,
    plan: &Plan,
    custom_types: &BTreeMap<String, FieldType>,
    policies: &Policies,
    client: Option<&Client>,
) -> Result<Listing, Stop> {
    let mut listing = Listing::of(plan);
    listing.show_creates(plan, custom_types);
    listing.narrow(run.args.limit, run.args.record.as_deref());
    if let Some(c) = client {
        note_existing(run, plan, c, policies, &mut listing).await?;
    } else {
        listing.notes.push(
            "no API key: creates were not looked up in OpenPhone (some may already exist and would be adopted)".into(),
        );
    }
    Ok(listing)
}

/// Which creates would adopt a contact that already exists, and which changes of an update
/// a field's policy would hold back (the contact as read decides).
async fn note_existing(
    run: &Run<'_>,
    plan: &Plan,
    client: &Client,
    policies: &Policies,
    listing: &mut Listing,
) -> Result<(), Stop> {
    let creates = plan.creates.iter().map(|c| c.external_id.as_str());
    let held_back = !policies.all_source();
    let updates = plan.updates.iter().filter(|_| held_back).map(|u| u.external_id.as_str());
    let ids: Vec<&str> = creates.chain(updates).collect();
    if ids.is_empty() {
        return Ok(());
    }
    let found = crate::openphone::lookup(client, &ids, setup::concurrency(run.config)).await.complete()?;
    let label = run.config.openphone.source_label.as_str();
    let mut adopted = 0;
    for change in listing.changes.iter_mut().filter(|c| c.action == Action::Create) {
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
        let merged = merge(current, &u.desired, u.base.as_ref(), policies);
        let Some(change) = listing.changes.iter_mut().find(|c| c.external_id == u.external_id) else { continue };
        for h in &merged.held {
            let prefix = format!("{}:", h.field);
            change.changes.retain(|line| !line.starts_with(&prefix));
            let show = |v: &Option<String>| v.as_ref().map_or_else(|| "(empty)".into(), |s| format!("{s:?}"));
            // Only an `if_empty` value was necessarily set outside the source; an `on_create`
            // one may be what this tool wrote when it created the contact.
            let why = match policy_of(&h.field, policies, &u.desired) {
                Policy::OnCreate => "on_create: written only when the contact is created",
                _ => "edited in the app",
            };
            change.changes.push(format!(
                "{}: kept: {why} ({}; the source says {})",
                h.field,
                show(&h.from),
                show(&h.to)
            ));
        }
    }
    if adopted > 0 {
        listing.notes.push(format!(
            "{adopted} of the {} creates already exist in OpenPhone with their externalId and would be adopted, not created again",
            plan.creates.len()
        ));
    }
    Ok(())
}

/// The policy of a field as a change names it (`company`, `emails[work]`, `custom[KEY]`).
fn policy_of(field: &str, policies: &Policies, desired: &ContactState) -> Policy {
    let slot = |prefix: &str, slots: &[crate::model::Slot], list: &[Policy]| {
        let label = field.strip_prefix(prefix)?.strip_suffix(']')?;
        let i = slots.iter().position(|s| s.label == label)?;
        list.get(i).copied()
    };
    match Scalar::named(field) {
        Some(scalar) => scalar.policy(policies),
        None => slot("emails[", &desired.emails, &policies.emails)
            .or_else(|| slot("phone_numbers[", &desired.phones, &policies.phones))
            .or_else(|| {
                let key = field.strip_prefix("custom[")?.strip_suffix(']')?;
                policies.custom.get(key).copied()
            })
            .unwrap_or_default(),
    }
}
