//! What a confirmed write changed, for the mirror's history: the fields before → after
//! (the last confirmed state against the one just confirmed), as sent.

use crate::mirror::{Mirror, MirrorError};
use crate::model::PushedState;
use crate::plan::Action;
use crate::plan::{FieldChange, diff};

use super::tasks::Effect;

/// The fields a write changed: a create sets every mapped field, a delete clears them.
pub fn changes(before: Option<&PushedState>, after: Option<&PushedState>) -> Vec<FieldChange> {
    let empty = PushedState::default();
    match (before, after) {
        (before, Some(after)) => diff(&after.state, before.unwrap_or(&empty)).changes,
        (Some(before), None) => diff(&before.state, &empty)
            .changes
            .into_iter()
            .map(|c| FieldChange { field: c.field, from: c.to, to: c.from })
            .collect(),
        (None, None) => Vec::new(),
    }
}

/// Records a write in the mirror's history; `before` is what the mirror held until then.
pub fn record(
    mirror: &mut Mirror,
    external_id: &str,
    action: Action,
    row: Option<u64>,
    before: (Option<String>, Option<PushedState>),
    effect: &Effect,
) -> Result<(), MirrorError> {
    let (contact_id, after) = match effect {
        Effect::Confirmed { contact_id, pushed, .. } => (Some(contact_id.as_str()), Some(&**pushed)),
        Effect::Gone => (before.0.as_deref(), None),
    };
    mirror.record_change(external_id, action, row, contact_id, &changes(before.1.as_ref(), after))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ContactState;

    #[test]
    fn a_create_sets_and_a_delete_clears_every_field() {
        let s = PushedState {
            state: ContactState { first_name: Some("Ann".into()), ..Default::default() },
            ..Default::default()
        };
        let shown = |c: Vec<FieldChange>| c.iter().map(ToString::to_string).collect::<Vec<_>>();
        assert_eq!(shown(changes(None, Some(&s))), vec!["first_name: (empty) → \"Ann\""]);
        assert_eq!(shown(changes(Some(&s), None)), vec!["first_name: \"Ann\" → (empty)"]);
        assert!(changes(Some(&s), Some(&s)).is_empty());
    }
}
