//! The reference model of the whole sync, written from the user-facing contract
//! (docs/deletes-and-ownership.md, docs/mapping.md, docs/history.md), not from the engine's
//! plan or merge code: what each record's contact in the workspace should be after each
//! step. Where the contract leaves an outcome open (a write whose reply was lost, a run
//! killed midway), a record holds several hypotheses, and what the workspace shows picks
//! those that match ([`Model::observe`]).

use std::collections::BTreeMap;

/// The external ids the model uses.
pub(crate) const IDS: [&str; 4] = ["C-1", "C-2", "C-3", "C-4"];
/// How long a row must be missing before its contact is deleted (the config's `delete_after`).
pub(crate) const DELETE_AFTER_MS: i64 = 3_600_000;

pub(crate) const FIRST: [&str; 3] = ["Ann", "Bob", "Cy"];
pub(crate) const COMPANY: [&str; 3] = ["", "Acme", "Globex"];
pub(crate) const EMAIL: [&str; 3] = ["", "a@x.com", "b@x.com"];
pub(crate) const PHONE: [&str; 3] = ["", "+12015550101", "+12015550102"];
pub(crate) const LEAD: [&str; 3] = ["", "Ads", "Referral"];

/// The names of the custom values in [`Contact::custom`].
pub(crate) const LEAD_FIELD: &str = "lead";
pub(crate) const NOTES_FIELD: &str = "notes";

/// A confirmed state no row has: the record may be written again on any run.
static UNREAD: std::sync::LazyLock<Row> = std::sync::LazyLock::new(|| Row {
    first: "\u{0}unread".into(),
    company: String::new(),
    email: String::new(),
    phone: String::new(),
    lead: String::new(),
});

/// One source row (the id is the key it is stored under).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Row {
    pub first: String,
    pub company: String,
    pub email: String,
    pub phone: String,
    pub lead: String,
}

/// Who owns a mapped field on update (docs/deletes-and-ownership.md, "Field ownership").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Policy {
    Source,
    IfEmpty,
    OnCreate,
}

impl Policy {
    pub fn word(self) -> Option<&'static str> {
        match self {
            Policy::Source => None,
            Policy::IfEmpty => Some("if_empty"),
            Policy::OnCreate => Some("on_create"),
        }
    }
}

/// The policies of the three fields whose policy the model changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Policies {
    pub company: Policy,
    pub email: Policy,
    pub lead: Policy,
}

/// A contact as the workspace shows it: scalars, items as (label, value) and custom values
/// as (field, value), each list sorted; empty values are absent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Contact {
    pub first: Option<String>,
    pub company: Option<String>,
    pub emails: Vec<(String, String)>,
    pub phones: Vec<(String, String)>,
    pub custom: Vec<(String, String)>,
}

fn some(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

impl Contact {
    /// The contact a create makes from `row`: every mapped value the row has.
    pub(crate) fn from_row(row: &Row) -> Contact {
        let mut c = Contact { first: some(&row.first), company: some(&row.company), ..Contact::default() };
        c.set_item(Items::Emails, "work", some(&row.email));
        c.set_item(Items::Phones, "mobile", some(&row.phone));
        c.set_custom(LEAD_FIELD, some(&row.lead));
        c
    }

    /// The mapped values, as a row.
    pub(crate) fn as_row(&self) -> Row {
        let v = |o: Option<String>| o.unwrap_or_default();
        Row {
            first: v(self.first.clone()),
            company: v(self.company.clone()),
            email: v(self.item(Items::Emails, "work")),
            phone: v(self.item(Items::Phones, "mobile")),
            lead: v(self.custom(LEAD_FIELD)),
        }
    }

    pub(crate) fn items(&self, which: Items) -> &Vec<(String, String)> {
        match which {
            Items::Emails => &self.emails,
            Items::Phones => &self.phones,
        }
    }

    fn items_mut(&mut self, which: Items) -> &mut Vec<(String, String)> {
        match which {
            Items::Emails => &mut self.emails,
            Items::Phones => &mut self.phones,
        }
    }

    /// The value of the (first) item labelled `label`.
    pub(crate) fn item(&self, which: Items, label: &str) -> Option<String> {
        self.items(which).iter().find(|(l, _)| l == label).map(|(_, v)| v.clone())
    }

    /// Sets, or removes with `None`, the item labelled `label`.
    pub(crate) fn set_item(&mut self, which: Items, label: &str, value: Option<String>) {
        let list = self.items_mut(which);
        list.retain(|(l, _)| l != label);
        if let Some(v) = value {
            list.push((label.to_owned(), v));
        }
        list.sort();
    }

    pub(crate) fn add_item(&mut self, which: Items, label: &str, value: &str) {
        let list = self.items_mut(which);
        list.push((label.to_owned(), value.to_owned()));
        list.sort();
    }

    pub(crate) fn custom(&self, name: &str) -> Option<String> {
        self.custom.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    }

    pub(crate) fn set_custom(&mut self, name: &str, value: Option<String>) {
        self.custom.retain(|(n, _)| n != name);
        if let Some(v) = value {
            self.custom.push((name.to_owned(), v));
        }
        self.custom.sort();
    }

    /// An update of this contact to `row` under `policies`, as the contract says: the
    /// source's value for a field it owns; for `if_empty` the contact's value while it has
    /// one; for `on_create` the contact's value always. Unmapped fields and items added in the
    /// app are untouched.
    pub(crate) fn updated(&self, row: &Row, policies: Policies) -> Contact {
        let mut c = self.clone();
        c.first = some(&row.first);
        c.company = scalar(policies.company, self.company.as_ref(), &row.company);
        c.set_custom(LEAD_FIELD, scalar(policies.lead, self.custom(LEAD_FIELD).as_ref(), &row.lead));
        let work = self.item(Items::Emails, "work");
        let work = match policies.email {
            Policy::Source => some(&row.email),
            Policy::IfEmpty => work.or_else(|| some(&row.email)),
            Policy::OnCreate => work,
        };
        // Only the slot's own item changes: any other "work" item would be a second one.
        let keep_others: Vec<(String, String)> = c.emails.iter().filter(|(l, _)| l != "work").cloned().collect();
        c.emails = keep_others;
        if let Some(w) = work {
            c.add_item(Items::Emails, "work", &w);
        }
        c.set_item(Items::Phones, "mobile", some(&row.phone));
        c
    }
}

fn scalar(policy: Policy, had: Option<&String>, source: &str) -> Option<String> {
    match policy {
        Policy::Source => some(source),
        Policy::IfEmpty => had.cloned().or_else(|| some(source)),
        Policy::OnCreate => had.cloned(),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Items {
    Emails,
    Phones,
}

/// One hypothesis about a record: its contact, and what the tool should remember of it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct RecState {
    /// The contact the workspace should hold (`None`: no contact with this externalId).
    pub contact: Option<Contact>,
    /// The row as last pushed (the record's "last synced" values); `None` before the first
    /// create and after a delete by the tool.
    pub pushed: Option<Row>,
    /// The contact was deleted in the app while the tool still knew it.
    pub app_deleted: bool,
    /// When a run first found the row missing.
    pub missing_since: Option<i64>,
    /// What each delete by the tool kept (oldest first), with the row last pushed.
    pub tombstones: Vec<(Contact, Option<Row>)>,
    /// Restored while its row is missing: no run deletes it.
    pub kept: bool,
    /// The contact's mapped values as the last write left them. When a policy held a field
    /// back they differ from the row, and the tool may plan the record again on any run
    /// (the contract does not say when): then the update's outcome is one more hypothesis.
    pub confirmed: Option<Row>,
}

impl RecState {
    pub(crate) fn empty() -> RecState {
        RecState {
            contact: None,
            pushed: None,
            app_deleted: false,
            missing_since: None,
            tombstones: vec![],
            kept: false,
            confirmed: None,
        }
    }

    /// One sync run that finishes cleanly at `now`. `verify`: a `--verify` run, which also
    /// repairs contacts edited or deleted in the app.
    pub(crate) fn synced(&self, row: Option<&Row>, policies: Policies, now: i64, verify: bool) -> Vec<RecState> {
        let mut s = self.clone();
        if let Some(row) = row {
            s.missing_since = None;
            s.kept = false;
            let changed = s.pushed.as_ref() != Some(row);
            let replanned = s.confirmed.as_ref().is_some_and(|c| c != row);
            let write = |s: &RecState| {
                let mut w = s.clone();
                let c = match &s.contact {
                    None => Contact::from_row(row),
                    Some(c) => c.updated(row, policies),
                };
                w.confirmed = Some(c.as_row());
                w.contact = Some(c);
                w.pushed = Some(row.clone());
                w.app_deleted = false;
                w
            };
            if s.pushed.is_none() && s.contact.is_none() || changed || verify {
                return vec![write(&s)];
            }
            if replanned {
                return vec![write(&s), s];
            }
        } else {
            if s.kept || s.contact.is_none() {
                return vec![s];
            }
            let since = *s.missing_since.get_or_insert(now);
            if now - since >= DELETE_AFTER_MS {
                let c = s.contact.take().expect("a contact");
                s.tombstones.push((c, s.pushed.take()));
                s.missing_since = None;
            }
        }
        vec![s]
    }
}

/// The model: the source, the mapping's policies, the clock, and each record's hypotheses.
#[derive(Clone, Debug)]
pub(crate) struct Model {
    pub rows: BTreeMap<String, Row>,
    pub policies: Policies,
    pub now: i64,
    pub records: BTreeMap<String, Vec<RecState>>,
    /// The workspace still has the "Notes" custom field.
    pub notes_field: bool,
}

impl Model {
    pub(crate) fn new(now: i64) -> Model {
        Model {
            rows: BTreeMap::new(),
            policies: Policies { company: Policy::Source, email: Policy::Source, lead: Policy::Source },
            now,
            records: IDS.iter().map(|id| (id.to_string(), vec![RecState::empty()])).collect(),
            notes_field: true,
        }
    }

    pub(crate) fn hyps(&self, id: &str) -> &Vec<RecState> {
        &self.records[id]
    }

    /// Every hypothesis of every record has its contact / has none.
    pub(crate) fn all(&self, id: &str, f: impl Fn(&RecState) -> bool) -> bool {
        self.records[id].iter().all(f)
    }

    /// A clean run. `uncertain`: the run failed or was killed somewhere, so each record
    /// either got its write or did not.
    pub(crate) fn sync(&mut self, verify: bool, uncertain: bool) {
        for (id, hyps) in &mut self.records {
            let row = self.rows.get(id);
            let mut next: Vec<RecState> =
                hyps.iter().flat_map(|h| h.synced(row, self.policies, self.now, verify)).collect();
            if uncertain {
                // A write whose reply the run never read is unknown to the mirror: the next
                // run reads the contact and may write it again (an adoption re-asserts).
                let unread: Vec<RecState> = next
                    .iter()
                    .filter(|h| h.contact.is_some())
                    .map(|h| RecState { confirmed: Some(UNREAD.clone()), ..h.clone() })
                    .collect();
                next.extend(unread);
                next.extend(hyps.iter().cloned());
                // A run that read before it failed may have marked the row missing.
                let marked: Vec<RecState> = hyps
                    .iter()
                    .filter(|h| row.is_none() && h.contact.is_some() && !h.kept && h.missing_since.is_none())
                    .map(|h| RecState { missing_since: Some(self.now), ..h.clone() })
                    .collect();
                next.extend(marked);
            }
            next.sort();
            next.dedup();
            *hyps = next;
        }
    }

    /// Keeps, for each record, the hypotheses whose contact is what the workspace shows;
    /// `Err` names a record none of them matches.
    pub(crate) fn observe(&mut self, seen: &BTreeMap<String, Contact>) -> Result<(), String> {
        for (id, hyps) in &mut self.records {
            let got = seen.get(id);
            let matching: Vec<RecState> = hyps.iter().filter(|h| h.contact.as_ref() == got).cloned().collect();
            if matching.is_empty() {
                let want: Vec<&Option<Contact>> = hyps.iter().map(|h| &h.contact).collect();
                return Err(format!(
                    "{id}: the workspace holds\n    {got:?}\n  the model expects one of\n    {want:?}"
                ));
            }
            *hyps = matching;
        }
        Ok(())
    }

    /// Applies an edit made in the app to every hypothesis of `id` that has a contact.
    pub(crate) fn app_edit(&mut self, id: &str, f: impl Fn(&mut Contact)) {
        for h in self.records.get_mut(id).expect("id").iter_mut() {
            if let Some(c) = h.contact.as_mut() {
                f(c);
            }
        }
    }
}
