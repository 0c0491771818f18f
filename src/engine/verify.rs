//! `sync --verify`: reads back every contact the mirror says is in step and finds drift:
//! contacts edited in the app since this tool last wrote them, and contacts deleted there.
//! Reading: a mirror of more than one lookup's worth is read by listing the contacts of our
//! `source` (50 a page, 2.5 times fewer requests than lookups of 20) while that stays cheaper
//! than looking the rest up; whatever the listing did not show (it may be cut short, or the
//! label shared) is looked up by externalId, 20 a request, and only a lookup declares a
//! contact deleted. The comparison ([`compare`]) is pure; [`verify`] reads the mirror and
//! OpenPhone. What to do with the findings (restore, recreate) is the plan's job:
//! [`observe`] and [`rebase`] make each observed state the base the plan diffs against (and
//! drop the contacts found deleted), so the ordinary diff restores the source's values with
//! one PATCH that sends only what drifted; [`record`] writes the same to the mirror before
//! applying.

use std::collections::HashMap;

use crate::mirror::{Mirror, MirrorError};
use crate::model::{Policies, PushedState, Unmapped};
use crate::openphone::client::LOOKUP_BATCH;
use crate::openphone::merge::hold;
use crate::openphone::wire::{ApiContact, observed_state};
use crate::openphone::{ApiError, Client, Found, lookup};
use crate::plan::MirrorIndex;
use crate::plan::diff;
use crate::report::{DriftedContact, DriftedField, VerifyReport};

/// How many mirrored contacts are read from the mirror (and then OpenPhone) at a time.
const CHUNK: usize = 1000;

/// A contact edited in the app.
#[derive(Debug, Clone, PartialEq)]
pub struct Drifted {
    pub external_id: String,
    pub contact_id: String,
    pub fields: Vec<DriftedField>,
    /// What OpenPhone holds now, with its item ids: the base for restoring it.
    pub observed: PushedState,
    /// The contact as read: the apply step merges into it without reading it again.
    pub contact: ApiContact,
}

/// What one mirrored contact turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    /// OpenPhone holds what the mirror says.
    InStep,
    /// Same values, but OpenPhone gave the items new ids (re-added in the app): the mirror
    /// must learn them, or a later PATCH would name items that no longer exist.
    NewItemIds(PushedState),
    Drifted(Vec<DriftedField>, PushedState, Box<ApiContact>),
    /// No contact with this id and externalId exists any more.
    Missing,
}

/// Compares what the mirror says was pushed with what a lookup of its externalId found.
/// `unmapped` names the fields the mapping leaves alone: never drift.
pub fn compare(
    pushed: &PushedState,
    contact_id: &str,
    found: &[ApiContact],
    unmapped: Unmapped,
    policies: &Policies,
) -> Finding {
    let Some(contact) = found.iter().find(|c| c.id == contact_id) else {
        return Finding::Missing;
    };
    let mut template = pushed.state.clone();
    template.unmapped = Unmapped { source_url: pushed.state.source_url.is_none(), ..unmapped };
    let observed = observed_state(contact, &template, Some(pushed));
    // A field the app may own (`if_empty`, `on_create`) is never drift.
    let (template, _) = hold(&template, &observed, policies);
    let d = diff(&template, &observed);
    if !d.is_empty() {
        let fields =
            d.changes.into_iter().map(|c| DriftedField { field: c.field, synced: c.to, now: c.from }).collect();
        return Finding::Drifted(fields, observed, Box::new(contact.clone()));
    }
    if observed.email_ids != pushed.email_ids || observed.phone_ids != pushed.phone_ids {
        return Finding::NewItemIds(observed);
    }
    Finding::InStep
}

/// What [`verify`] found.
#[derive(Debug, Default)]
pub struct Verified {
    /// Mirrored contacts read back.
    pub checked: u64,
    pub drifted: Vec<Drifted>,
    /// In step, but with new item ids: (external id, contact id, observed state).
    pub new_item_ids: Vec<(String, String, PushedState)>,
    /// External ids whose contact is gone from OpenPhone.
    pub missing: Vec<String>,
}

impl Verified {
    /// What the report shows of it.
    pub fn summary(&self) -> VerifyReport {
        VerifyReport {
            checked: self.checked,
            drifted: self
                .drifted
                .iter()
                .map(|d| DriftedContact {
                    external_id: d.external_id.clone(),
                    contact_id: d.contact_id.clone(),
                    fields: d.fields.clone(),
                })
                .collect(),
            missing: self.missing.clone(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Mirror(#[from] MirrorError),
    #[error("reading the mirrored contacts back from OpenPhone failed: {0}")]
    Api(#[from] ApiError),
}

/// Reads back every mirrored contact with no write pending (a pending one is re-read by
/// the run anyway) and compares it with its last confirmed state. (`mirror` is only read;
/// `&mut` keeps the future `Send`, as a `Connection` is not `Sync`.)
pub async fn verify(
    client: &Client,
    mirror: &mut Mirror,
    index: &MirrorIndex,
    unmapped: Unmapped,
    policies: &Policies,
    source_label: &str,
    concurrency: usize,
) -> Result<Verified, VerifyError> {
    let mirrored: HashMap<&str, &str> = index
        .iter()
        .filter(|(_, e)| e.pending.is_none())
        .filter_map(|(ext, e)| e.contact_id.as_deref().map(|cid| (ext.as_str(), cid)))
        .collect();
    let mut out = Verified::default();
    let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
    if mirrored.len() > LOOKUP_BATCH {
        let how = Compare { unmapped, policies };
        list(client, mirror, &mirrored, &how, source_label, &mut seen, &mut out).await?;
    }
    let mut ids: Vec<(&str, &str)> =
        mirrored.iter().filter(|(ext, _)| !seen.contains(*ext)).map(|(e, c)| (*e, *c)).collect();
    ids.sort_unstable();
    for chunk in ids.chunks(CHUNK) {
        let ext_ids: Vec<&str> = chunk.iter().map(|(ext, _)| *ext).collect();
        let pushed = mirror.pushed(&ext_ids)?;
        let mut found = lookup(client, &ext_ids, concurrency).await.complete()?;
        for (ext, cid) in chunk {
            let Some(base) = pushed.get(*ext) else { continue };
            let here = found.remove(*ext).unwrap_or_default();
            note(&mut out, ext, cid, compare(base, cid, &here, unmapped, policies));
        }
    }
    out.drifted.sort_by(|a, b| a.external_id.cmp(&b.external_id));
    out.new_item_ids.sort_by(|a, b| a.0.cmp(&b.0));
    out.missing.sort();
    tracing::info!(
        checked = out.checked,
        drifted = out.drifted.len(),
        missing = out.missing.len(),
        listed = seen.len(),
        "Verified the mirrored contacts against OpenPhone"
    );
    Ok(out)
}

/// Lists the contacts of our `source`, comparing each mirrored one as its page arrives, and
/// stops once it has cost as many requests as looking every mirrored contact up would: with
/// a label shared by other tools or instances, the rest is looked up instead (at worst twice
/// the cost of lookups; with a label of its own, 2/5 of it).
async fn list<'a>(
    client: &Client,
    mirror: &mut Mirror,
    mirrored: &HashMap<&'a str, &'a str>,
    how: &Compare<'_>,
    source_label: &str,
    seen: &mut std::collections::HashSet<&'a str>,
    out: &mut Verified,
) -> Result<(), VerifyError> {
    let budget = mirrored.len().div_ceil(LOOKUP_BATCH);
    let mut token: Option<String> = None;
    for _ in 0..budget {
        let (page, next) = client.list_by_source(source_label, token.as_deref()).await?;
        let ours: Vec<(&'a str, &'a str, ApiContact)> = page
            .into_iter()
            .filter_map(|c| {
                let (ext, cid) = mirrored.get_key_value(c.external_id.as_deref()?)?;
                (c.id == **cid && !seen.contains(ext)).then_some((*ext, *cid, c))
            })
            .collect();
        let exts: Vec<&str> = ours.iter().map(|(e, _, _)| *e).collect();
        let pushed = mirror.pushed(&exts)?;
        for (ext, cid, contact) in ours {
            let Some(base) = pushed.get(ext) else { continue };
            seen.insert(ext);
            note(out, ext, cid, compare(base, cid, std::slice::from_ref(&contact), how.unmapped, how.policies));
        }
        match next {
            Some(t) if seen.len() < mirrored.len() => token = Some(t),
            _ => return Ok(()),
        }
    }
    tracing::info!(listed = seen.len(), "Listing by source cost as much as lookups would; looking the rest up");
    Ok(())
}

/// What a comparison leaves out: unmapped fields, and fields the app may own.
struct Compare<'a> {
    unmapped: Unmapped,
    policies: &'a Policies,
}

fn note(out: &mut Verified, ext: &str, cid: &str, finding: Finding) {
    out.checked += 1;
    match finding {
        Finding::InStep => {}
        Finding::NewItemIds(observed) => out.new_item_ids.push((ext.to_owned(), cid.to_owned(), observed)),
        Finding::Drifted(fields, observed, contact) => out.drifted.push(Drifted {
            external_id: ext.to_owned(),
            contact_id: cid.to_owned(),
            fields,
            observed,
            contact: *contact,
        }),
        Finding::Missing => out.missing.push(ext.to_owned()),
    }
}

/// Folds what `--verify` found into the index the plan reads: a drifted contact's base is
/// what OpenPhone holds now (so the plan restores it), a missing one is no longer mirrored
/// (so its row creates it again, and a gone row deletes nothing).
pub fn observe(found: &Verified, index: &mut MirrorIndex) {
    for d in &found.drifted {
        if let Some(e) = index.get_mut(&d.external_id) {
            e.hash = Some(d.observed.state.hash());
            e.source_hash = None;
        }
    }
    for ext in &found.missing {
        index.swap_remove(ext);
    }
}

/// Replaces the last confirmed states the plan diffs against with what OpenPhone holds now,
/// for the contacts found drifted or with new item ids.
pub fn rebase(found: &Verified, bases: &mut HashMap<String, PushedState>) {
    for d in &found.drifted {
        bases.insert(d.external_id.clone(), d.observed.clone());
    }
    for (ext, _, state) in &found.new_item_ids {
        bases.insert(ext.clone(), state.clone());
    }
}

/// The drifted contacts as read, for the apply step (it merges into them without reading
/// them again).
pub fn prefetched(found: &Verified) -> Found {
    found.drifted.iter().map(|d| (d.external_id.clone(), vec![d.contact.clone()])).collect()
}

/// Writes what `--verify` found to the mirror, before the plan is applied.
pub fn record(mirror: &mut Mirror, found: &Verified) -> Result<(), MirrorError> {
    for d in &found.drifted {
        mirror.confirm(&d.external_id, &d.contact_id, &d.observed, None)?;
    }
    for (ext, cid, state) in &found.new_item_ids {
        mirror.update_pushed(ext, cid, state)?;
    }
    for ext in &found.missing {
        mirror.forget(ext)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ContactState, Slot};
    use crate::openphone::wire::{ApiDefaultFields, ApiItem};

    fn pushed() -> PushedState {
        PushedState {
            state: ContactState {
                first_name: Some("Ann".into()),
                company: Some("Acme".into()),
                emails: vec![Slot { label: "work".into(), value: Some("ann@acme.io".into()) }],
                ..Default::default()
            },
            email_ids: vec![Some("E1".into())],
            phone_ids: vec![],
        }
    }

    fn contact(first: &str, email_id: &str, role: Option<&str>) -> ApiContact {
        ApiContact {
            id: "c1".into(),
            external_id: Some("X".into()),
            source: Some("contact-sync".into()),
            source_url: None,
            default_fields: ApiDefaultFields {
                first_name: Some(first.into()),
                company: Some("Acme".into()),
                role: role.map(str::to_owned),
                emails: vec![ApiItem {
                    name: Some("work".into()),
                    value: Some("ann@acme.io".into()),
                    id: Some(email_id.into()),
                }],
                ..Default::default()
            },
            custom_fields: vec![],
            created_at: None,
        }
    }

    fn unmapped() -> Unmapped {
        Unmapped { role: true, last_name: true, ..Unmapped::default() }
    }

    #[test]
    fn in_step_when_the_mapped_fields_match() {
        // The role was set in the app, but the mapping leaves it alone: no drift.
        let found = [contact("Ann", "E1", Some("CEO"))];
        assert_eq!(compare(&pushed(), "c1", &found, unmapped(), &Policies::default()), Finding::InStep);
    }

    #[test]
    fn an_edit_in_the_app_is_drift_with_both_values() {
        let found = [contact("Annie", "E1", None)];
        let Finding::Drifted(fields, observed, _) = compare(&pushed(), "c1", &found, unmapped(), &Policies::default())
        else {
            panic!("expected drift");
        };
        assert_eq!(
            fields,
            vec![DriftedField { field: "first_name".into(), synced: Some("Ann".into()), now: Some("Annie".into()) }]
        );
        assert_eq!(observed.state.first_name.as_deref(), Some("Annie"));
        assert_eq!(observed.email_ids, vec![Some("E1".to_owned())]);
    }

    #[test]
    fn new_item_ids_and_missing_contacts() {
        let found = [contact("Ann", "E9", None)];
        let Finding::NewItemIds(observed) = compare(&pushed(), "c1", &found, unmapped(), &Policies::default()) else {
            panic!("expected new item ids");
        };
        assert_eq!(observed.email_ids, vec![Some("E9".to_owned())]);
        // Another contact with the externalId is not ours.
        let mut other = contact("Ann", "E1", None);
        other.id = "c2".into();
        assert_eq!(compare(&pushed(), "c1", &[other], unmapped(), &Policies::default()), Finding::Missing);
        assert_eq!(compare(&pushed(), "c1", &[], unmapped(), &Policies::default()), Finding::Missing);
    }
}
