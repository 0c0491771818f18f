//! The PATCH of one contact: what OpenPhone holds now (just read), with the values this tool
//! owns set from the source. Pure. The live API replaces a contact on PATCH, deleting every
//! email, phone number and custom value the body leaves out, so the body is the complete
//! contact:
//! - mapped scalars from the source, unmapped ones as read;
//! - the items this tool owns (`own_items`) edited by id (`value: null` removes one), the
//!   source's new values added, and every other item (added in the app) sent back unchanged;
//! - mapped custom values from the source (`null` clears), every other custom value as read;
//! - the contact's own `externalId` and `source`, so no reading of "replace" can clear them.
//!
//! The same body is right whether the API replaces or merges: nothing the user owns is left
//! out, and everything this tool removes is removed by id.

use super::wire::{
    ApiContact, ApiItem, CustomValueBody, ItemBody, PatchBody, PatchDefaults, observed_state_kept, own_items_kept,
};
use crate::model::{ContactState, Policies, Policy, PushedState, Scalar, Slot};

use crate::plan::{FieldChange, diff};

/// The PATCH for one contact and what it changes.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    pub body: PatchBody,
    /// The fields the PATCH changes, for people and the report. Empty when the contact
    /// already holds what the source says: no PATCH is needed.
    pub changes: Vec<FieldChange>,
    /// The source's changes a policy held back (`from` is the contact's value, kept).
    pub held: Vec<FieldChange>,
    /// The mapped fields as the PATCH sets them (the source's values, except where a policy
    /// kept the contact's), with the ids of the items it edits: what the mirror records,
    /// and the history shows, once OpenPhone confirms the write.
    pub sent: PushedState,
}

/// Merges `desired` into `current`. `known` is the last confirmed state (its item ids say
/// which items this tool wrote); `None` for a contact adopted or a mirror rebuilt. A field
/// whose policy keeps the contact's value ([`hold`]) is sent as read.
pub fn merge(current: &ApiContact, desired: &ContactState, known: Option<&PushedState>, policies: &Policies) -> Merged {
    let kept = |ps: &[Policy]| ps.iter().map(|p| *p != Policy::Source).collect::<Vec<bool>>();
    let (kept_emails, kept_phones) = (kept(&policies.emails), kept(&policies.phones));
    let d = &current.default_fields;
    let email_owners = own_items_kept(&desired.emails, &d.emails, known.map(|k| k.email_ids.as_slice()), &kept_emails);
    let phone_owners =
        own_items_kept(&desired.phones, &d.phone_numbers, known.map(|k| k.phone_ids.as_slice()), &kept_phones);
    let observed = observed_state_kept(current, desired, known, &kept_emails, &kept_phones);
    let (effective, held) = hold(desired, &observed, policies);
    let desired = &effective;
    let changes = diff(desired, &observed).changes;
    let skip = desired.unmapped;
    let pick = |unmapped: bool, want: &Option<String>, had: &Option<String>| {
        if unmapped { had.clone() } else { want.clone() }
    };
    let body = PatchBody {
        default_fields: PatchDefaults {
            first_name: pick(skip.first_name, &desired.first_name, &d.first_name),
            last_name: pick(skip.last_name, &desired.last_name, &d.last_name),
            company: pick(skip.company, &desired.company, &d.company),
            role: pick(skip.role, &desired.role, &d.role),
            emails: items(&desired.emails, &d.emails, &email_owners),
            phone_numbers: items(&desired.phones, &d.phone_numbers, &phone_owners),
        },
        custom_fields: custom(current, desired),
        external_id: current.external_id.clone(),
        source: current.source.clone(),
        source_url: (!skip.source_url).then(|| desired.source_url.clone()),
    };
    let sent = PushedState { state: effective.clone(), email_ids: observed.email_ids, phone_ids: observed.phone_ids };
    Merged { body, changes, held, sent }
}

/// The state a write sets on an existing contact: `desired`, except where a policy keeps
/// what the contact holds (`observed`, as read): an `if_empty` field that has a value, and
/// every `on_create` field. Returns it with the source's changes held back.
pub fn hold(desired: &ContactState, observed: &PushedState, policies: &Policies) -> (ContactState, Vec<FieldChange>) {
    let mut out = desired.clone();
    if policies.all_source() {
        return (out, Vec::new());
    }
    let was = &observed.state;
    let mut held = Vec::new();
    let mut note = |field: String, had: Option<String>, want: Option<String>| {
        if had != want {
            held.push(FieldChange { field, from: had, to: want });
        }
    };
    for field in Scalar::DEFAULT_FIELDS {
        let had = field.of(was);
        if field.policy(policies).keeps(had.is_none()) {
            note(field.name().to_owned(), had.clone(), std::mem::replace(field.of_mut(&mut out), had.clone()));
        }
    }
    let mut slots = |name: &str, list: &mut [Slot], had: &[Slot], policies: &[Policy]| {
        for (i, slot) in list.iter_mut().enumerate() {
            let had = had.get(i).and_then(|s| s.value.clone());
            if policies.get(i).copied().unwrap_or_default().keeps(had.is_none()) {
                let want = std::mem::replace(&mut slot.value, had.clone());
                note(format!("{name}[{}]", slot.label), had, want);
            }
        }
    };
    slots("emails", &mut out.emails, &was.emails, &policies.emails);
    slots("phone_numbers", &mut out.phones, &was.phones, &policies.phones);
    for (key, value) in &mut out.custom {
        let had = was.custom.get(key).cloned().unwrap_or(serde_json::Value::Null);
        if policies.custom.get(key).copied().unwrap_or_default().keeps(had.is_null()) {
            let want = std::mem::replace(value, had.clone());
            note(format!("custom[{key}]"), crate::plan::diff::show_json(&had), crate::plan::diff::show_json(&want));
        }
    }
    (out, held)
}

/// The complete list: every item as read, in order (the owned ones set from their slot),
/// then the slots' new values.
fn items(slots: &[Slot], current: &[ApiItem], owners: &[Option<usize>]) -> Vec<ItemBody> {
    let mut slot_of = vec![None; current.len()];
    for (slot, owner) in owners.iter().enumerate() {
        if let Some(i) = owner {
            slot_of[*i] = Some(slot);
        }
    }
    let mut out: Vec<ItemBody> = current
        .iter()
        .zip(&slot_of)
        // An item without an id cannot be named; the API always gives one.
        .filter_map(|(item, slot)| {
            let id = item.id.clone()?;
            Some(if let Some(s) = slot {
                ItemBody { id: Some(id), name: slots[*s].label.clone(), value: slots[*s].value.clone() }
            } else {
                item.value.as_ref()?;
                ItemBody { id: Some(id), name: item.name.clone().unwrap_or_default(), value: item.value.clone() }
            })
        })
        .collect();
    out.extend(slots.iter().zip(owners).filter(|(_, o)| o.is_none()).filter_map(|(slot, _)| {
        slot.value.as_ref().map(|v| ItemBody { id: None, name: slot.label.clone(), value: Some(v.clone()) })
    }));
    out
}

/// Every custom value as read, with the mapped ones set from the source.
fn custom(current: &ApiContact, desired: &ContactState) -> Vec<CustomValueBody> {
    let mut out: Vec<CustomValueBody> = current
        .custom_fields
        .iter()
        .filter_map(|c| {
            let key = c.key.as_ref()?;
            (!desired.custom.contains_key(key) && !c.value.is_null())
                .then(|| CustomValueBody { key: key.clone(), value: c.value.clone() })
        })
        .collect();
    for (key, want) in &desired.custom {
        let had = current.custom_fields.iter().any(|c| c.key.as_ref() == Some(key) && !c.value.is_null());
        if !want.is_null() || had {
            out.push(CustomValueBody { key: key.clone(), value: want.clone() });
        }
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out
}

#[cfg(test)]
mod tests {
    use super::super::wire::ApiCustomValue;
    use super::*;
    use serde_json::{Value, json};

    fn slot(label: &str, v: Option<&str>) -> Slot {
        Slot { label: label.into(), value: v.map(str::to_owned) }
    }

    /// A contact this tool created (E1, P1, custom k1), then edited in the app: a second
    /// email, a phone with the tool's label, an unmapped custom value, a role.
    fn current() -> ApiContact {
        serde_json::from_value(json!({
            "id": "c1", "externalId": "X-1", "source": "contact-sync",
            "defaultFields": {
                "firstName": "Ann", "lastName": null, "company": "Acme", "role": "CEO",
                "emails": [{"name": "work", "value": "ann@acme.io", "id": "E1"},
                           {"name": "work", "value": "ann.private@mail.io", "id": "E2"}],
                "phoneNumbers": [{"name": "mobile", "value": "+12015550123", "id": "P1"},
                                 {"name": "mobile", "value": "+12015550999", "id": "P2"}]
            },
            "customFields": [{"key": "k1", "value": "gold", "name": "Tier", "type": "string"},
                             {"key": "app", "value": ["a", "b"], "name": "Tags", "type": "multi-select"}]
        }))
        .unwrap()
    }

    fn desired() -> ContactState {
        let mut s = ContactState {
            first_name: Some("Ann".into()),
            company: Some("Acme Ltd".into()),
            emails: vec![slot("work", Some("ann@acme.io"))],
            phones: vec![slot("mobile", Some("+12015550124"))],
            ..Default::default()
        };
        s.unmapped.last_name = true;
        s.unmapped.role = true;
        s.unmapped.source_url = true;
        s.custom.insert("k1".into(), json!("silver"));
        s
    }

    fn known() -> PushedState {
        PushedState {
            state: ContactState::default(),
            email_ids: vec![Some("E1".into())],
            phone_ids: vec![Some("P1".into())],
        }
    }

    #[test]
    fn the_body_is_the_whole_contact_with_the_sources_values() {
        let m = merge(&current(), &desired(), Some(&known()), &Policies::default());
        let body = serde_json::to_value(&m.body).unwrap();
        assert_eq!(
            body,
            json!({
                "defaultFields": {
                    "firstName": "Ann", "lastName": null, "company": "Acme Ltd", "role": "CEO",
                    "emails": [{"id": "E1", "name": "work", "value": "ann@acme.io"},
                               {"id": "E2", "name": "work", "value": "ann.private@mail.io"}],
                    "phoneNumbers": [{"id": "P1", "name": "mobile", "value": "+12015550124"},
                                     {"id": "P2", "name": "mobile", "value": "+12015550999"}]
                },
                "customFields": [{"key": "app", "value": ["a", "b"]}, {"key": "k1", "value": "silver"}],
                "externalId": "X-1",
                "source": "contact-sync"
            })
        );
        let fields: Vec<&str> = m.changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, vec!["company", "phone_numbers[mobile]", "custom[k1]"]);
    }

    #[test]
    fn in_step_means_no_change_and_removal_is_by_id() {
        let mut want = desired();
        want.company = Some("Acme".into());
        want.phones[0].value = Some("+12015550123".into());
        want.custom.insert("k1".into(), json!("gold"));
        assert!(merge(&current(), &want, Some(&known()), &Policies::default()).changes.is_empty());

        // The source empties the phone and the custom value: P1 is removed by id, P2 (the
        // user's) stays, k1 is cleared with null.
        want.phones[0].value = None;
        want.custom.insert("k1".into(), Value::Null);
        let m = merge(&current(), &want, Some(&known()), &Policies::default());
        let body = serde_json::to_value(&m.body).unwrap();
        assert_eq!(
            body["defaultFields"]["phoneNumbers"],
            json!([{"id": "P1", "name": "mobile", "value": null}, {"id": "P2", "name": "mobile", "value": "+12015550999"}])
        );
        assert_eq!(body["customFields"], json!([{"key": "app", "value": ["a", "b"]}, {"key": "k1", "value": null}]));
    }

    #[test]
    fn an_item_deleted_in_the_app_is_added_again_beside_the_users() {
        let mut c = current();
        c.default_fields.phone_numbers.remove(0); // P1 deleted in the app; P2 is the user's.
        let m = merge(&c, &desired(), Some(&known()), &Policies::default());
        let phones = serde_json::to_value(&m.body.default_fields.phone_numbers).unwrap();
        assert_eq!(
            phones,
            json!([{"id": "P2", "name": "mobile", "value": "+12015550999"}, {"name": "mobile", "value": "+12015550124"}])
        );
        // With nothing known (adoption), the first item with the label is taken over instead.
        let m = merge(&c, &desired(), None, &Policies::default());
        let phones = serde_json::to_value(&m.body.default_fields.phone_numbers).unwrap();
        assert_eq!(phones, json!([{"id": "P2", "name": "mobile", "value": "+12015550124"}]));
    }

    #[test]
    fn mapped_source_url_and_missing_custom_values() {
        let mut c = current();
        c.custom_fields = vec![ApiCustomValue { key: Some("other".into()), value: json!(3) }];
        let mut want = desired();
        want.unmapped.source_url = false;
        want.source_url = Some("https://docs.example/1".into());
        want.custom.insert("k1".into(), Value::Null);
        let m = merge(&c, &want, Some(&known()), &Policies::default());
        assert_eq!(m.body.source_url, Some(Some("https://docs.example/1".into())));
        // k1 is empty on both sides: not sent; the other value is kept.
        assert_eq!(serde_json::to_value(&m.body.custom_fields).unwrap(), json!([{"key": "other", "value": 3}]));
    }

    #[test]
    fn a_policy_keeps_the_contacts_value() {
        let policies = Policies {
            company: Policy::IfEmpty,
            phones: vec![Policy::OnCreate],
            custom: [("k1".to_owned(), Policy::IfEmpty)].into(),
            ..Policies::default()
        };
        let m = merge(&current(), &desired(), Some(&known()), &policies);
        // The company "Acme" and the custom value "gold" have values: kept; the phone is on_create.
        assert_eq!(m.body.default_fields.company.as_deref(), Some("Acme"));
        assert_eq!(m.body.default_fields.phone_numbers[0].value.as_deref(), Some("+12015550123"));
        assert!(m.changes.is_empty(), "{:?}", m.changes);
        let held: Vec<String> = m.held.iter().map(ToString::to_string).collect();
        assert_eq!(
            held,
            [
                "company: \"Acme\" → \"Acme Ltd\"",
                "phone_numbers[mobile]: \"+12015550123\" → \"+12015550124\"",
                "custom[k1]: \"gold\" → \"silver\""
            ]
        );
        // An empty company is written under if_empty.
        let mut c = current();
        c.default_fields.company = None;
        let m = merge(&c, &desired(), Some(&known()), &policies);
        assert_eq!(m.body.default_fields.company.as_deref(), Some("Acme Ltd"));
        assert_eq!(m.changes.iter().map(|c| c.field.as_str()).collect::<Vec<_>>(), ["company"]);
    }
}
