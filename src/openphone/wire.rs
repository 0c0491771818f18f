//! The JSON shapes of the contacts API (requests and replies) and the conversions between
//! them and [`crate::model`]: a state to create, the complete contact to PATCH, a reply to a
//! pushed state, and which items of a contact are this tool's ([`own_items`]).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::mapping::convert;
use crate::model::{ContactState, CustomFieldDef, PushedState, Slot, canonical_number};

/// `{ "data": T }`, the envelope of every reply.
#[derive(Debug, Deserialize)]
pub struct Data<T> {
    pub data: T,
}

/// A page of `GET /v1/contacts`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactPage {
    pub data: Vec<ApiContact>,
    #[serde(default)]
    pub next_page_token: Option<String>,
}

/// A contact as the API returns it.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ApiContact {
    pub id: String,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub source_url: Option<String>,
    #[serde(default)]
    pub default_fields: ApiDefaultFields,
    #[serde(default)]
    pub custom_fields: Vec<ApiCustomValue>,
    #[serde(default)]
    pub created_at: Option<String>,
}

impl ApiContact {
    /// Whether this tool made the contact: its `source` is our label. Only such contacts are
    /// ever adopted, updated, deleted or linked again.
    pub fn is_ours(&self, label: &str) -> bool {
        self.source.as_deref() == Some(label)
    }
}

/// Among the contacts found under one externalId, the one this tool made (the oldest, when a
/// lost reply left two).
pub fn ours<'a>(found: &'a [ApiContact], label: &str) -> Option<&'a ApiContact> {
    found.iter().filter(|c| c.is_ours(label)).min_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)))
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ApiDefaultFields {
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub emails: Vec<ApiItem>,
    #[serde(default)]
    pub phone_numbers: Vec<ApiItem>,
}

/// An email or phone item: `name` is the label.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct ApiItem {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
}

/// A custom field value on a contact.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct ApiCustomValue {
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub value: Value,
}

/// `GET /v1/contact-custom-fields`.
#[derive(Debug, Deserialize)]
pub struct CustomFieldList {
    pub data: Vec<CustomFieldDef>,
}

/// `POST /v1/contacts` body.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateBody {
    pub default_fields: CreateDefaults,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub custom_fields: Vec<CustomValueBody>,
    pub external_id: String,
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_url: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateDefaults {
    /// Required by the spec, even when null.
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<ItemBody>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub phone_numbers: Vec<ItemBody>,
}

/// An item in a request: without `id` it adds, with `id` it edits (`value: null` removes).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ItemBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    pub value: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CustomValueBody {
    pub key: String,
    pub value: Value,
}

/// `PATCH /v1/contacts/{id}` body: the complete contact. The live API replaces a contact on
/// PATCH (every email, phone number and custom value left out is deleted), so every PATCH
/// this tool sends carries every scalar, the complete `emails`, `phoneNumbers` and
/// `customFields` lists (items by id), and the contact's own `externalId` and `source`:
/// built by [`crate::openphone::merge`] from the contact as just read.
#[derive(Debug, Default, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PatchBody {
    pub default_fields: PatchDefaults,
    pub custom_fields: Vec<CustomValueBody>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Sent only when the mapping sets `sourceUrl` (`Some(None)` sends `null`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_url: Option<Option<String>>,
}

/// Every default field, always sent (`null` where empty).
#[derive(Debug, Default, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PatchDefaults {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub role: Option<String>,
    pub emails: Vec<ItemBody>,
    pub phone_numbers: Vec<ItemBody>,
}

/// The create body for a desired state.
pub fn create_body(external_id: &str, source: &str, state: &ContactState) -> CreateBody {
    let items = |slots: &[Slot]| {
        slots
            .iter()
            .filter_map(|s| s.value.clone().map(|v| ItemBody { id: None, name: s.label.clone(), value: Some(v) }))
            .collect()
    };
    CreateBody {
        default_fields: CreateDefaults {
            first_name: state.first_name.clone(),
            last_name: state.last_name.clone(),
            company: state.company.clone(),
            role: state.role.clone(),
            emails: items(&state.emails),
            phone_numbers: items(&state.phones),
        },
        custom_fields: state
            .custom
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| CustomValueBody { key: k.clone(), value: v.clone() })
            .collect(),
        external_id: external_id.to_owned(),
        source: source.to_owned(),
        source_url: state.source_url.clone(),
    }
}

/// The create body that brings a deleted contact back as it was (`contact`, as read just
/// before the delete): every default field, every item with its label, every custom value.
pub fn restore_body(external_id: &str, source: &str, contact: &ApiContact) -> CreateBody {
    let d = &contact.default_fields;
    let items = |items: &[ApiItem]| {
        items
            .iter()
            .filter_map(|i| {
                let value = i.value.clone()?;
                Some(ItemBody { id: None, name: i.name.clone().unwrap_or_default(), value: Some(value) })
            })
            .collect()
    };
    CreateBody {
        default_fields: CreateDefaults {
            first_name: d.first_name.clone(),
            last_name: d.last_name.clone(),
            company: d.company.clone(),
            role: d.role.clone(),
            emails: items(&d.emails),
            phone_numbers: items(&d.phone_numbers),
        },
        custom_fields: contact
            .custom_fields
            .iter()
            .filter(|c| !c.value.is_null())
            .filter_map(|c| Some(CustomValueBody { key: c.key.clone()?, value: c.value.clone() }))
            .collect(),
        external_id: external_id.to_owned(),
        source: source.to_owned(),
        source_url: contact.source_url.clone(),
    }
}

/// What the API holds for the fields `template` maps: the basis of a diff after a contact
/// is read. Items are matched to slots by [`own_items`]: `known` (the last confirmed state,
/// when the mirror has one) names the items this tool wrote.
pub fn observed_state(contact: &ApiContact, template: &ContactState, known: Option<&PushedState>) -> PushedState {
    observed_state_kept(contact, template, known, &[], &[])
}

/// [`observed_state`], where the email and phone slots flagged in `kept_emails` and
/// `kept_phones` (held by their policy) also own the first unowned item with their label
/// ([`own_items_kept`]).
pub fn observed_state_kept(
    contact: &ApiContact,
    template: &ContactState,
    known: Option<&PushedState>,
    kept_emails: &[bool],
    kept_phones: &[bool],
) -> PushedState {
    let d = &contact.default_fields;
    let email_owners = own_items_kept(&template.emails, &d.emails, known.map(|k| k.email_ids.as_slice()), kept_emails);
    let phone_owners =
        own_items_kept(&template.phones, &d.phone_numbers, known.map(|k| k.phone_ids.as_slice()), kept_phones);
    let (emails, email_ids) = slots_of(&template.emails, &d.emails, &email_owners);
    let (phones, phone_ids) = slots_of(&template.phones, &d.phone_numbers, &phone_owners);
    let custom = template
        .custom
        .iter()
        .map(|(key, want)| {
            let got = contact
                .custom_fields
                .iter()
                .find(|c| c.key.as_deref() == Some(key))
                .map_or(Value::Null, |c| canonical_value(&c.value, want));
            (key.clone(), got)
        })
        .collect();
    PushedState {
        state: ContactState {
            first_name: scalar(template.unmapped.first_name, d.first_name.as_ref()),
            last_name: scalar(template.unmapped.last_name, d.last_name.as_ref()),
            company: scalar(template.unmapped.company, d.company.as_ref()),
            role: scalar(template.unmapped.role, d.role.as_ref()),
            emails,
            phones,
            custom,
            source_url: if template.unmapped.source_url { None } else { contact.source_url.clone() },
            unmapped: template.unmapped,
        },
        email_ids,
        phone_ids,
    }
}

/// Each slot's state and item id, given the item each slot owns.
fn slots_of(slots: &[Slot], items: &[ApiItem], owners: &[Option<usize>]) -> (Vec<Slot>, Vec<Option<String>>) {
    let states = slots
        .iter()
        .zip(owners)
        .map(|(s, o)| Slot { label: s.label.clone(), value: o.and_then(|i| items[i].value.clone()) })
        .collect();
    let ids = owners.iter().map(|o| o.and_then(|i| items[i].id.clone())).collect();
    (states, ids)
}

/// Which item of a contact's list each mapping slot owns (an index into `items`), in three
/// passes, each item owned at most once:
/// 1. the item whose id `known` names for the slot (the one this tool wrote);
/// 2. else an item with the slot's label and the slot's value;
/// 3. only when nothing is known (no mirror entry: a contact adopted or a mirror rebuilt),
///    the first item with the slot's label.
///
/// An item none of these picks (a number or address added in the app) belongs to the user:
/// a PATCH keeps it as it is.
pub fn own_items(slots: &[Slot], items: &[ApiItem], known: Option<&[Option<String>]>) -> Vec<Option<usize>> {
    own_items_kept(slots, items, known, &[])
}

/// [`own_items`], where a slot flagged in `kept` (its policy keeps the contact's value:
/// `if_empty`, `on_create`) also takes, in the third pass, the first unowned item with its
/// label even when the mirror knows the contact: that item is the slot's value as the app
/// holds it, sent back as it is, and nothing is added beside it.
pub fn own_items_kept(
    slots: &[Slot],
    items: &[ApiItem],
    known: Option<&[Option<String>]>,
    kept: &[bool],
) -> Vec<Option<usize>> {
    let mut used = vec![false; items.len()];
    let mut owners: Vec<Option<usize>> = vec![None; slots.len()];
    let take = |used: &mut Vec<bool>, pred: &dyn Fn(&ApiItem) -> bool| -> Option<usize> {
        let i = items.iter().enumerate().position(|(i, it)| !used[i] && it.value.is_some() && pred(it))?;
        used[i] = true;
        Some(i)
    };
    if let Some(known) = known {
        for (slot, owner) in owners.iter_mut().enumerate() {
            if let Some(Some(id)) = known.get(slot) {
                *owner = take(&mut used, &|it| it.id.as_deref() == Some(id.as_str()));
            }
        }
    }
    for (slot, owner) in slots.iter().zip(owners.iter_mut()) {
        if owner.is_none() && slot.value.is_some() {
            *owner = take(&mut used, &|it| {
                it.name.as_deref() == Some(slot.label.as_str())
                    && same_item_value(it.value.as_deref(), slot.value.as_deref())
            });
        }
    }
    for (i, (slot, owner)) in slots.iter().zip(owners.iter_mut()).enumerate() {
        if owner.is_none() && (known.is_none() || kept.get(i).copied().unwrap_or(false)) {
            *owner = take(&mut used, &|it| it.name.as_deref() == Some(slot.label.as_str()));
        }
    }
    owners
}

/// A single-valued field as the mapping sees it: `None` when unmapped or empty.
fn scalar(unmapped: bool, value: Option<&String>) -> Option<String> {
    if unmapped { None } else { value.filter(|s| !s.is_empty()).cloned() }
}

/// The state just written (`sent`: the values sent, with the ids of the items the write
/// edited), with the item ids from the reply to the write: an edited item by its id, an
/// added one by its label and value.
pub fn confirmed_state(sent: &PushedState, reply: &ApiContact) -> PushedState {
    let d = &reply.default_fields;
    let ids = |slots: &[Slot], items: &[ApiItem], known: &[Option<String>]| {
        let mut known = known.to_vec();
        known.resize(slots.len(), None);
        let owners = own_items(slots, items, Some(&known));
        slots_of(slots, items, &owners).1
    };
    PushedState {
        state: sent.state.clone(),
        email_ids: ids(&sent.state.emails, &d.emails, &sent.email_ids),
        phone_ids: ids(&sent.state.phones, &d.phone_numbers, &sent.phone_ids),
    }
}

/// What a create sends: `desired`, with no item known yet.
pub fn to_create(desired: &ContactState) -> PushedState {
    PushedState {
        state: desired.clone(),
        email_ids: vec![None; desired.emails.len()],
        phone_ids: vec![None; desired.phones.len()],
    }
}

fn same_item_value(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => false,
    }
}

/// Puts an API value in the canonical form the mapping produces, so equal values compare
/// equal (dates to UTC milliseconds, integral numbers to integers).
fn canonical_value(got: &Value, want: &Value) -> Value {
    match got {
        Value::String(s) if want.as_str().is_some_and(|w| convert::date_time(w).as_deref() == Some(w)) => {
            convert::date_time(s).map_or_else(|| got.clone(), Value::String)
        }
        Value::Number(n) => n.as_f64().and_then(canonical_number).unwrap_or_else(|| got.clone()),
        _ => got.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn desired() -> ContactState {
        let mut s = ContactState {
            first_name: Some("Ann".into()),
            emails: vec![
                Slot { label: "work".into(), value: Some("a@x.io".into()) },
                Slot { label: "home".into(), value: None },
            ],
            ..Default::default()
        };
        s.custom.insert("k1".into(), json!(3));
        s.custom.insert("k2".into(), json!(null));
        s
    }

    #[test]
    fn create_body_matches_the_spec_shape() {
        let body = serde_json::to_value(create_body("C-1", "contact-sync", &desired())).unwrap();
        assert_eq!(
            body,
            json!({
                "defaultFields": {"firstName": "Ann", "emails": [{"name": "work", "value": "a@x.io"}]},
                "customFields": [{"key": "k1", "value": 3}],
                "externalId": "C-1",
                "source": "contact-sync"
            })
        );
        let empty = serde_json::to_value(create_body("C-2", "s", &ContactState::default())).unwrap();
        assert_eq!(empty["defaultFields"], json!({"firstName": null}));
    }

    #[test]
    fn observed_and_confirmed_states_match_items_to_slots() {
        let reply: ApiContact = serde_json::from_value(json!({
            "id": "c1",
            "defaultFields": {
                "firstName": "Ann", "lastName": null, "company": null, "role": null,
                "emails": [{"name": "work", "value": "old@x.io", "id": "E1"}, {"name": "work", "value": "a@x.io", "id": "E2"}],
                "phoneNumbers": []
            },
            "customFields": [{"key": "k1", "value": 3.0, "name": "n", "type": "number"}]
        }))
        .unwrap();
        let obs = observed_state(&reply, &desired(), None);
        assert_eq!(obs.email_ids, vec![Some("E2".to_owned()), None]);
        assert_eq!(obs.state.custom["k1"], json!(3));
        assert_eq!(obs.state, desired());
        let conf = confirmed_state(&to_create(&desired()), &reply);
        assert_eq!(conf.email_ids, vec![Some("E2".to_owned()), None]);
    }
}
