//! The field-level diff of a desired contact against what was last pushed: the PATCH
//! body that sends only what changed (items by id), and a readable list of the changes.

use serde::Serialize;
use serde_json::Value;

use crate::model::{ContactState, ItemKind, PushedState, Slot};
use crate::openphone::wire::{CustomValueBody, ItemBody, PatchBody};

/// One changed field, for people: `first_name: "Ann" → "Anne"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

impl std::fmt::Display for FieldChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |v: &Option<String>| v.as_ref().map(|s| format!("{s:?}")).unwrap_or_else(|| "(empty)".to_owned());
        write!(f, "{}: {} → {}", self.field, show(&self.from), show(&self.to))
    }
}

/// What to send, and what it changes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Diff {
    pub patch: PatchBody,
    pub changes: Vec<FieldChange>,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

/// Diffs `desired` against `base`. When an email or phone list changes, the PATCH carries
/// every mapped slot of that list (unchanged ones by id with their value), so the result is
/// right whether OpenPhone keeps or drops the items a PATCH leaves out.
pub fn diff(desired: &ContactState, base: &PushedState) -> Diff {
    let mut d = Diff::default();
    let was = &base.state;
    let skip = desired.unmapped;
    let mut scalar =
        |name: &str, unmapped: bool, want: &Option<String>, had: &Option<String>| -> Option<Option<String>> {
            (!unmapped && want != had).then(|| {
                d.changes.push(FieldChange { field: name.to_owned(), from: had.clone(), to: want.clone() });
                want.clone()
            })
        };
    let first_name = scalar("first_name", skip.first_name, &desired.first_name, &was.first_name);
    let last_name = scalar("last_name", skip.last_name, &desired.last_name, &was.last_name);
    let company = scalar("company", skip.company, &desired.company, &was.company);
    let role = scalar("role", skip.role, &desired.role, &was.role);
    let source_url = scalar("source_url", skip.source_url, &desired.source_url, &was.source_url);
    d.patch.default_fields.first_name = first_name;
    d.patch.default_fields.last_name = last_name;
    d.patch.default_fields.company = company;
    d.patch.default_fields.role = role;
    d.patch.source_url = source_url;
    d.patch.default_fields.emails =
        items(&mut d.changes, "emails", ItemKind::Email, &desired.emails, &was.emails, base);
    d.patch.default_fields.phone_numbers =
        items(&mut d.changes, "phone_numbers", ItemKind::Phone, &desired.phones, &was.phones, base);
    for (key, want) in &desired.custom {
        let had = was.custom.get(key).unwrap_or(&Value::Null);
        if want != had {
            d.changes.push(FieldChange { field: format!("custom[{key}]"), from: show_json(had), to: show_json(want) });
            d.patch.custom_fields.push(CustomValueBody { key: key.clone(), value: want.clone() });
        }
    }
    d
}

fn items(
    changes: &mut Vec<FieldChange>,
    name: &str,
    kind: ItemKind,
    want: &[Slot],
    had: &[Slot],
    base: &PushedState,
) -> Option<Vec<ItemBody>> {
    let mut changed = false;
    for (i, slot) in want.iter().enumerate() {
        let before = had.get(i).and_then(|s| s.value.clone());
        let label_moved = had.get(i).is_some_and(|s| s.label != slot.label) && slot.value.is_some();
        if slot.value != before || label_moved {
            changed = true;
            changes.push(FieldChange {
                field: format!("{name}[{}]", slot.label),
                from: before,
                to: slot.value.clone(),
            });
        }
    }
    if !changed {
        return None;
    }
    let body = want
        .iter()
        .enumerate()
        .filter_map(|(i, slot)| {
            let id = base.item_id(kind, i).map(str::to_owned);
            match (&slot.value, id) {
                (None, None) => None,
                (value, id) => Some(ItemBody { id, name: slot.label.clone(), value: value.clone() }),
            }
        })
        .collect();
    Some(body)
}

fn show_json(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn slot(label: &str, v: Option<&str>) -> Slot {
        Slot { label: label.into(), value: v.map(str::to_owned) }
    }

    #[test]
    fn sends_only_what_changed_with_item_ids() {
        let mut was = ContactState {
            first_name: Some("Ann".into()),
            company: Some("Acme".into()),
            emails: vec![slot("work", Some("a@x.io")), slot("home", Some("h@x.io"))],
            phones: vec![slot("mobile", Some("+12015550123"))],
            ..Default::default()
        };
        was.custom.insert("k".into(), json!(1));
        let base = PushedState {
            state: was.clone(),
            email_ids: vec![Some("E1".into()), Some("E2".into())],
            phone_ids: vec![Some("P1".into())],
        };
        assert!(diff(&was, &base).is_empty());

        let mut want = was.clone();
        want.first_name = Some("Anne".into());
        want.emails[1].value = None;
        want.custom.insert("k".into(), json!(null));
        let d = diff(&want, &base);
        let body = serde_json::to_value(&d.patch).unwrap();
        assert_eq!(
            body,
            json!({
                "defaultFields": {
                    "firstName": "Anne",
                    "emails": [
                        {"id": "E1", "name": "work", "value": "a@x.io"},
                        {"id": "E2", "name": "home", "value": null}
                    ]
                },
                "customFields": [{"key": "k", "value": null}]
            })
        );
        assert_eq!(d.changes.len(), 3);
        assert_eq!(d.changes[0].to_string(), "first_name: \"Ann\" → \"Anne\"");

        let mut add = was.clone();
        add.phones = vec![slot("mobile", Some("+12015550124"))];
        add.company = None;
        let d = diff(&add, &PushedState { phone_ids: vec![None], ..base.clone() });
        let body = serde_json::to_value(&d.patch).unwrap();
        assert_eq!(
            body,
            json!({"defaultFields": {"company": null, "phoneNumbers": [{"name": "mobile", "value": "+12015550124"}]}})
        );
        assert!(d.patch.adds_items());
    }

    #[test]
    fn unmapped_fields_are_never_written() {
        let base = PushedState {
            state: ContactState {
                company: Some("Set in the app".into()),
                role: Some("CEO".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let mut want = ContactState { role: Some("CTO".into()), ..Default::default() };
        want.unmapped.company = true;
        want.unmapped.source_url = true;
        let d = diff(&want, &base);
        assert_eq!(serde_json::to_value(&d.patch).unwrap(), json!({"defaultFields": {"role": "CTO"}}));
    }
}
