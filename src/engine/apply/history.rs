//! What a confirmed write changed, for the mirror's history: derived from what was sent
//! and answered ([`Sent`]): the fields and items a create set, a PATCH changed (from the
//! contact as read to what was sent), nothing for an update that found the contact already
//! as wanted (`already_in_sync`); a delete clears the fields last confirmed; nothing for a
//! delete that found the contact gone already (`already_gone`).

use crate::mirror::history::Event;
use crate::mirror::{Mirror, MirrorError};
use crate::model::PushedState;
use crate::plan::{FieldChange, diff};

use super::tasks::{Effect, Sent};

/// The fields a write changed: a create sets every mapped field, a delete clears them.
pub(super) fn changes(before: Option<&PushedState>, after: Option<&PushedState>) -> Vec<FieldChange> {
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
pub(super) fn record(
    mirror: &mut Mirror,
    external_id: &str,
    row: Option<u64>,
    before: (Option<String>, Option<PushedState>),
    effect: &Effect,
) -> Result<(), MirrorError> {
    match effect {
        Effect::Confirmed { contact_id, adopted, sent, .. } => {
            let (event, changes) = event(*adopted, sent);
            mirror.record_change(external_id, event, row, Some(contact_id), &changes)
        }
        Effect::Gone { deleted: true } => {
            let cleared = changes(before.1.as_ref(), None);
            mirror.record_change(external_id, Event::Delete, row, before.0.as_deref(), &cleared)
        }
        // Nothing was sent, so nothing is listed as changed by this run.
        Effect::Gone { deleted: false } => {
            mirror.record_change(external_id, Event::AlreadyGone, row, before.0.as_deref(), &[])
        }
    }
}

/// The history event of a confirmed create or update, and the fields it changed.
pub(super) fn event(adopted: bool, sent: &Sent) -> (Event, Vec<FieldChange>) {
    match (sent, adopted) {
        (Sent::Created(changes), _) => (Event::Create, changes.clone()),
        (Sent::Patched(changes), true) => (Event::Adopt, changes.clone()),
        (Sent::Nothing, true) => (Event::Adopt, Vec::new()),
        (Sent::Patched(changes), false) => (Event::Update, changes.clone()),
        (Sent::Nothing, false) => (Event::AlreadyInSync, Vec::new()),
    }
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
