//! The field-level diff of a desired contact against a known state (the last confirmed
//! one, or what OpenPhone holds): the list of changed fields, for the plan, the report and
//! drift. What is sent is built elsewhere ([`mod@crate::openphone::merge`]), from the contact as read.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{ContactState, PushedState, Scalar, Slot};

/// One changed field, for people: `first_name: "Ann" → "Anne"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

impl std::fmt::Display for FieldChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |v: &Option<String>| v.as_ref().map_or_else(|| "(empty)".to_owned(), |s| format!("{s:?}"));
        write!(f, "{}: {} → {}", self.field, show(&self.from), show(&self.to))
    }
}

/// What changes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Diff {
    pub changes: Vec<FieldChange>,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

/// Diffs `desired` against `base`: every mapped field whose value differs (an email or
/// phone slot also when its label moved).
pub fn diff(desired: &ContactState, base: &PushedState) -> Diff {
    let mut d = Diff::default();
    let was = &base.state;
    let skip = desired.unmapped;
    for field in Scalar::ALL {
        let (want, had) = (field.of(desired), field.of(was));
        if !field.unmapped(skip) && want != had {
            d.changes.push(FieldChange { field: field.name().to_owned(), from: had.clone(), to: want.clone() });
        }
    }
    items(&mut d.changes, "emails", &desired.emails, &was.emails);
    items(&mut d.changes, "phone_numbers", &desired.phones, &was.phones);
    for (key, want) in &desired.custom {
        let had = was.custom.get(key).unwrap_or(&Value::Null);
        if want != had {
            d.changes.push(FieldChange { field: format!("custom[{key}]"), from: show_json(had), to: show_json(want) });
        }
    }
    d
}

fn items(changes: &mut Vec<FieldChange>, name: &str, want: &[Slot], had: &[Slot]) {
    for (i, slot) in want.iter().enumerate() {
        let before = had.get(i).and_then(|s| s.value.clone());
        let label_moved = had.get(i).is_some_and(|s| s.label != slot.label) && slot.value.is_some();
        if slot.value != before || label_moved {
            changes.push(FieldChange {
                field: format!("{name}[{}]", slot.label),
                from: before,
                to: slot.value.clone(),
            });
        }
    }
}

pub(crate) fn show_json(v: &Value) -> Option<String> {
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
    fn lists_what_changed() {
        let mut was = ContactState {
            first_name: Some("Ann".into()),
            company: Some("Acme".into()),
            emails: vec![slot("work", Some("a@x.io")), slot("home", Some("h@x.io"))],
            phones: vec![slot("mobile", Some("+12015550123"))],
            ..Default::default()
        };
        was.custom.insert("k".into(), json!(1));
        let base = PushedState { state: was.clone(), ..Default::default() };
        assert!(diff(&was, &base).is_empty());

        let mut want = was.clone();
        want.first_name = Some("Anne".into());
        want.emails[1].value = None;
        want.custom.insert("k".into(), json!(null));
        let d = diff(&want, &base);
        let shown: Vec<String> = d.changes.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            vec!["first_name: \"Ann\" → \"Anne\"", "emails[home]: \"h@x.io\" → (empty)", "custom[k]: \"1\" → (empty)"]
        );
    }

    #[test]
    fn unmapped_fields_are_never_compared() {
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
        let fields: Vec<String> = diff(&want, &base).changes.into_iter().map(|c| c.field).collect();
        assert_eq!(fields, vec!["role"]);
    }
}
