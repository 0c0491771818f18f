//! The plan: a pure, deterministic function of (mapped records, mirror) into creates,
//! updates (each with the fields it changes) and deletes, plus the safety guard that
//! refuses mass deletes. The complete contact a PATCH sends is built from the contact as
//! read, in [`mod@crate::openphone::merge`]. Invariant: nothing here does IO.

pub mod action;
pub mod changes;
pub mod diff;
pub mod guard;
pub mod known;
pub mod saved;

use std::collections::HashMap;

pub use action::{Action, Applied, Planned, RecordError};
pub use changes::{Create, Delete, PendingDelete, Plan, Update};
pub use diff::{Diff, FieldChange, diff};
pub use guard::{Refusal, guard};
pub use known::{IndexEntry, Marks, MirrorIndex, Pending, Presence};

use crate::model::{Digest, PushedState, Record};

/// What the planner reads.
pub struct Inputs<'a> {
    /// Valid records, each externalId at most once. Records found [`in_sync`] may be left
    /// out (and counted in `in_sync`) or included: the plan is the same.
    pub records: &'a [Record],
    /// Records left out of `records` because they are in sync.
    pub in_sync: usize,
    /// Whether the mirror's record at this position of `index`, under this external id, has
    /// a row in the source, valid or not (invalid and duplicated rows included): none of
    /// these is deleted.
    pub present: &'a dyn Fn(usize, &str) -> bool,
    pub index: &'a MirrorIndex,
    pub delete_missing: bool,
    /// How long a row must be missing before its contact is deleted (milliseconds; 0 at once).
    pub delete_after_ms: i64,
    /// The time of this run (Unix milliseconds).
    pub now_ms: i64,
}

/// Whether the mirror holds `record` exactly as it is, with no write pending: it costs nothing.
pub fn in_sync(index: &MirrorIndex, record: &Record) -> bool {
    index
        .get(&record.external_id)
        .is_some_and(|e| e.contact_id.is_some() && e.pending.is_none() && e.hash == Some(record.hash))
}

/// The mirror index answers "is this row or record in sync?" for the streaming mapper.
impl crate::mapping::records::SyncCheck for MirrorIndex {
    fn position(&self, external_id: &str) -> Option<usize> {
        self.get_index_of(external_id)
    }

    fn known(&self) -> usize {
        self.len()
    }

    fn row_in_sync(&self, position: usize, source_hash: Digest) -> bool {
        self.get_index(position)
            .is_some_and(|(_, e)| e.contact_id.is_some() && e.pending.is_none() && e.source_hash == Some(source_hash))
    }

    fn record_in_sync(&self, record: &Record) -> bool {
        in_sync(self, record)
    }
}

/// The external ids whose last confirmed state the plan needs (changed records).
pub fn needs_base<'a>(records: &'a [Record], index: &MirrorIndex) -> Vec<&'a str> {
    records
        .iter()
        .filter(|r| index.get(&r.external_id).is_some_and(|e| e.contact_id.is_some()) && !in_sync(index, r))
        .map(|r| r.external_id.as_str())
        .collect()
}

/// Builds the plan. `bases` holds the last confirmed states named by [`needs_base`].
pub fn plan(inputs: &Inputs<'_>, mut bases: HashMap<String, PushedState>) -> Plan {
    let mut plan = Plan { unchanged: inputs.in_sync, ..Plan::default() };
    for r in inputs.records {
        let entry = inputs.index.get(&r.external_id);
        let Some((entry, contact_id)) = entry.and_then(|e| e.contact_id.as_ref().map(|id| (e, id))) else {
            plan.creates.push(Create {
                row: r.row,
                external_id: r.external_id.clone(),
                state: r.state.clone(),
                source_hash: r.source_hash,
            });
            continue;
        };
        if in_sync(inputs.index, r) {
            plan.unchanged += 1;
            continue;
        }
        let pending = entry.pending.is_some();
        // Moved into the update, not copied (a changed record's base is a few KiB).
        let base = bases.remove(&r.external_id);
        let refresh = pending || base.is_none() || entry.pending == Some(Pending::Create);
        let diff = base.as_ref().map(|b| diff(&r.state, b)).unwrap_or_default();
        if !refresh && diff.is_empty() {
            plan.unchanged += 1;
            continue;
        }
        plan.updates.push(Update {
            row: r.row,
            external_id: r.external_id.clone(),
            source_hash: r.source_hash,
            contact_id: contact_id.clone(),
            desired: r.state.clone(),
            base,
            refresh,
            diff,
        });
    }
    for (at, (id, e)) in inputs.index.iter().enumerate() {
        let present = (inputs.present)(at, id);
        if present {
            if e.presence != Presence::Present {
                plan.marks.returned.push(id.clone());
            }
            continue;
        }
        if !inputs.delete_missing {
            continue;
        }
        let since = match e.presence {
            Presence::Restored => {
                plan.kept_restored.push(id.clone());
                continue;
            }
            Presence::Present => {
                plan.marks.missing.push(id.clone());
                inputs.now_ms
            }
            Presence::MissingSince(since) => since,
        };
        let due = since.saturating_add(inputs.delete_after_ms);
        if due <= inputs.now_ms {
            plan.deletes.push(Delete { external_id: id.clone(), contact_id: e.contact_id.clone() });
        } else {
            plan.pending_deletes.push(PendingDelete { external_id: id.clone(), missing_since: since, due });
        }
    }
    plan.creates.sort_by_key(|c| c.row);
    plan.updates.sort_by_key(|u| u.row);
    plan.deletes.sort_by(|a, b| a.external_id.cmp(&b.external_id));
    plan.pending_deletes.sort_by(|a, b| a.due.cmp(&b.due).then_with(|| a.external_id.cmp(&b.external_id)));
    plan.kept_restored.sort();
    plan.marks.missing.sort();
    plan.marks.returned.sort();
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ContactState;
    use std::collections::HashSet;

    fn rec(row: u64, id: &str, first: &str) -> Record {
        Record::new(row, id.into(), ContactState { first_name: Some(first.into()), ..Default::default() })
    }

    fn entry(contact: &str, state: &ContactState, pending: Option<Pending>) -> IndexEntry {
        IndexEntry {
            contact_id: Some(contact.into()),
            hash: Some(state.hash()),
            pending,
            source_hash: None,
            presence: Presence::Present,
        }
    }

    /// Inputs with `delete_missing` on and `delete_after` 0: a missing row's contact goes now.
    fn deleting_at_once<'a>(
        records: &'a [Record],
        present: &'a dyn Fn(usize, &str) -> bool,
        index: &'a MirrorIndex,
    ) -> Inputs<'a> {
        Inputs { records, in_sync: 0, present, index, delete_missing: true, delete_after_ms: 0, now_ms: 1_000 }
    }

    #[test]
    fn classifies_and_orders() {
        let records = vec![rec(5, "new", "N"), rec(2, "same", "S"), rec(3, "changed", "C2"), rec(4, "new2", "M")];
        let mut index = MirrorIndex::default();
        index.insert("same".into(), entry("c-same", &records[1].state, None));
        let old = rec(0, "changed", "C1").state;
        index.insert("changed".into(), entry("c-ch", &old, None));
        index.insert("gone".into(), entry("c-gone", &old, None));
        index.insert("kept".into(), entry("c-kept", &old, None));
        index.insert(
            "half".into(),
            IndexEntry { pending: Some(Pending::Create), contact_id: None, hash: None, ..entry("x", &old, None) },
        );
        let mut present: HashSet<String> = records.iter().map(|r| r.external_id.clone()).collect();
        present.insert("kept".to_owned());
        assert_eq!(needs_base(&records, &index), vec!["changed"]);
        let bases: HashMap<String, PushedState> =
            [("changed".to_owned(), PushedState { state: old.clone(), ..Default::default() })].into();
        let present = |_: usize, id: &str| present.contains(id);
        let inputs = deleting_at_once(&records, &present, &index);
        let p = plan(&inputs, bases.clone());
        assert_eq!(p.creates.iter().map(|c| c.row).collect::<Vec<_>>(), vec![4, 5]);
        assert_eq!(p.unchanged, 1);
        assert_eq!(p.updates.len(), 1);
        assert!(!p.updates[0].refresh);
        assert_eq!(p.updates[0].diff.changes[0].to.as_deref(), Some("C2"));
        let deletes: Vec<(&str, Option<&str>)> =
            p.deletes.iter().map(|d| (d.external_id.as_str(), d.contact_id.as_deref())).collect();
        assert_eq!(deletes, vec![("gone", Some("c-gone")), ("half", None)]);
        // Same inputs, same plan; no deletes when delete_missing is off.
        assert_eq!(plan(&inputs, bases.clone()), p);
        let keep = Inputs { delete_missing: false, ..inputs };
        assert!(plan(&keep, bases).deletes.is_empty());
    }

    #[test]
    fn pending_writes_are_refreshed_even_when_the_hash_matches() {
        let records = vec![rec(2, "a", "A")];
        let mut index = MirrorIndex::default();
        index.insert("a".into(), entry("c-a", &records[0].state, Some(Pending::Update)));
        assert_eq!(needs_base(&records, &index), vec!["a"]);
        let present = |_: usize, id: &str| id == "a";
        let inputs = deleting_at_once(&records, &present, &index);
        let p = plan(&inputs, HashMap::new());
        assert_eq!(p.updates.len(), 1);
        assert!(p.updates[0].refresh);
    }

    #[test]
    fn a_missing_row_is_deleted_only_after_delete_after_and_its_return_costs_nothing() {
        let old = rec(0, "x", "X").state;
        let mut index = MirrorIndex::default();
        index.insert("fresh".into(), entry("c1", &old, None));
        index.insert("waiting".into(), IndexEntry { presence: Presence::MissingSince(500), ..entry("c2", &old, None) });
        index.insert("due".into(), IndexEntry { presence: Presence::MissingSince(100), ..entry("c3", &old, None) });
        index.insert("kept".into(), IndexEntry { presence: Presence::Restored, ..entry("c4", &old, None) });
        index.insert("back".into(), IndexEntry { presence: Presence::MissingSince(100), ..entry("c5", &old, None) });
        let present = |_: usize, id: &str| id == "back";
        let inputs = Inputs {
            records: &[],
            in_sync: 1,
            present: &present,
            index: &index,
            delete_missing: true,
            delete_after_ms: 1_000,
            now_ms: 1_200,
        };
        let p = plan(&inputs, HashMap::new());
        assert_eq!(p.deletes.iter().map(|d| d.external_id.as_str()).collect::<Vec<_>>(), ["due"]);
        let pending: Vec<(&str, i64, i64)> =
            p.pending_deletes.iter().map(|d| (d.external_id.as_str(), d.missing_since, d.due)).collect();
        assert_eq!(pending, [("waiting", 500, 1_500), ("fresh", 1_200, 2_200)]);
        assert_eq!(p.kept_restored, ["kept"]);
        assert_eq!(p.marks, Marks { missing: vec!["fresh".into()], returned: vec!["back".into()] });
        // delete_after = 0: today's behaviour, every missing row's contact goes now.
        let now = Inputs { delete_after_ms: 0, ..inputs };
        let p = plan(&now, HashMap::new());
        assert_eq!(p.deletes.len(), 3);
        assert!(p.pending_deletes.is_empty());
    }
}
