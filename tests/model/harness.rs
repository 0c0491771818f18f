//! The system under test for the model: a tiny workspace (four external ids, five mapped
//! columns) synced in-process through the library (`engine::sync`, on the test's
//! current-thread runtime) against the in-process fake, with `restore` and `forget` run as
//! the binary. Each [`Op`] is applied to the workspace and to the [`Model`], then every
//! property is checked ([`Harness::step`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use openphone_sync::clock::Clock;
use openphone_sync::engine::saved_plan::PlanFile;
use openphone_sync::engine::{self, Run, SyncArgs, setup};
use openphone_sync::mirror::Mirror;
use openphone_sync::outcome::Mode;
use serde_json::{Value, json};

use crate::reference::{
    COMPANY, Contact, EMAIL, FIRST, IDS, Items, LEAD, LEAD_FIELD, Model, NOTES_FIELD, PHONE, Policy, RecState, Row,
};
use crate::support::fake_openphone::{FakeOptions, Fault, FaultRule};
use crate::support::{NOTES_FIELD as NOTES_KEY, Workspace, standard_fields};
use crate::{Hole, known};

/// The key of the "Lead Source" custom field in the test workspace.
const LEAD_KEY: &str = "66aa00000000000000000001";

/// A column of the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Col {
    First,
    Company,
    Email,
    Phone,
    Lead,
}

/// An edit made by a person in the OpenPhone app.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppEdit {
    /// Sets the company ("" clears it).
    Company(&'static str),
    /// Sets the value of the work email ("" deletes the item).
    WorkEmail(&'static str),
    /// Sets the Lead Source custom value ("" clears it).
    Lead(&'static str),
    /// Sets the unmapped Notes custom value.
    Notes,
    /// Adds an email item labelled "home".
    AddHomeEmail,
    /// Adds a phone number labelled "app".
    AddAppPhone,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyField {
    Company,
    Email,
    Lead,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// The write is refused (500) before it is applied.
    FailBefore,
    /// The write is applied, and its reply lost.
    LoseReply,
}

/// Where `sync --dry-run --save-plan` is pointed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanTarget {
    Fresh,
    Mirror,
    Config,
    Mapping,
    Source,
}

/// One step of a sequence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// The source row of `IDS[id]` gets value `v` of the column's pool (if the row exists).
    EditRow {
        id: usize,
        col: Col,
        v: usize,
    },
    /// The row is removed from the source.
    RemoveRow {
        id: usize,
    },
    /// The row is (back) in the source, with the values of pool index `v`.
    AddRow {
        id: usize,
        v: usize,
    },
    AppEdit {
        id: usize,
        edit: AppEdit,
    },
    /// The contact is deleted in the app.
    AppDelete {
        id: usize,
    },
    SetPolicy {
        field: PolicyField,
        policy: Policy,
    },
    TimePasses {
        minutes: i64,
    },
    Sync,
    Verify,
    /// A sync during which writes of `method` fail at random (seeded).
    FaultySync {
        fault: FaultKind,
        method: &'static str,
        seed: u64,
    },
    /// A sync killed when the fake has received `request` requests.
    KillAt {
        request: usize,
    },
    Restore {
        id: usize,
    },
    Forget {
        id: usize,
    },
    SavePlan {
        target: PlanTarget,
    },
    ApplyPlan,
    /// `database` pointed at another program's SQLite file, for one sync.
    ForeignMirror,
    /// The workspace's "Notes" custom field is removed (values go with it).
    RemoveNotesField,
    /// The source's rows are written in another order (`seed`; 0: by external id, the
    /// mirror's order), as an export sorted by another column is: nothing changes in
    /// OpenPhone, and a plan saved before is stale (its source changed).
    ReorderRows {
        seed: u64,
    },
}

/// What the last saved plan was made from.
#[derive(Clone, Debug)]
struct Saved {
    rows: BTreeMap<String, Row>,
    /// The rows' order then (`Harness::order`).
    order: u64,
    policies: crate::reference::Policies,
}

/// How an engine run ended.
enum Ended {
    Report(Value),
    Stopped { exit: i32, message: String },
    Killed,
}

pub(crate) struct Harness {
    /// The fake's runtime (one worker thread).
    rt: tokio::runtime::Runtime,
    ws: Workspace,
    pub model: Model,
    saved: Option<Saved>,
    history_len: BTreeMap<String, usize>,
    csv_writes: u64,
    /// The order of the source's rows: 0 by external id, else shuffled by this seed.
    order: u64,
    pub steps: Vec<String>,
}

fn mapping_text(p: crate::reference::Policies) -> String {
    let mut policies = String::new();
    if let Some(w) = p.company.word() {
        policies = format!("policy = {{ company = \"{w}\" }}\n");
    }
    let line = |pol: Policy| pol.word().map(|w| format!("policy = \"{w}\"\n")).unwrap_or_default();
    format!(
        "external_id = \"ID\"\n\n[default_fields]\nfirst_name = \"First Name\"\ncompany = \"Company\"\n{policies}\n\
         [[emails]]\nlabel = \"work\"\ncolumn = \"Email\"\n{}\n\
         [[phone_numbers]]\nlabel = \"mobile\"\ncolumn = \"Mobile\"\n\n[phone]\ndefault_region = \"US\"\n\n\
         [[custom_fields]]\nname = \"Lead Source\"\ncolumn = \"Source\"\n{}",
        line(p.email),
        line(p.lead)
    )
}

fn pool(col: Col) -> &'static [&'static str; 3] {
    match col {
        Col::First => &FIRST,
        Col::Company => &COMPANY,
        Col::Email => &EMAIL,
        Col::Phone => &PHONE,
        Col::Lead => &LEAD,
    }
}

fn row_of(v: usize) -> Row {
    Row {
        first: FIRST[v % 3].into(),
        company: COMPANY[(v + 1) % 3].into(),
        email: EMAIL[(v + 1) % 3].into(),
        phone: PHONE[(v + 2) % 3].into(),
        lead: LEAD[(v + 1) % 3].into(),
    }
}

/// A contact as the fake holds it, in the model's terms.
fn observed(c: &Value) -> Contact {
    let s = |v: &Value| v.as_str().filter(|s| !s.is_empty()).map(str::to_owned);
    let d = &c["defaultFields"];
    let items = crate::support::named_items;
    let mut custom: Vec<(String, String)> = c["customFields"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|f| !f["value"].is_null())
                .map(|f| {
                    let key = f["key"].as_str().unwrap_or("");
                    let name = match key {
                        LEAD_KEY => LEAD_FIELD.to_owned(),
                        NOTES_KEY => NOTES_FIELD.to_owned(),
                        other => other.to_owned(),
                    };
                    (name, f["value"].as_str().map_or_else(|| f["value"].to_string(), str::to_owned))
                })
                .filter(|(_, v)| !v.is_empty())
                .collect()
        })
        .unwrap_or_default();
    custom.sort();
    Contact {
        first: s(&d["firstName"]),
        company: s(&d["company"]),
        emails: items(&d["emails"]),
        phones: items(&d["phoneNumbers"]),
        custom,
    }
}

/// The value of a field, named as history names it, in an observed contact.
fn field_value(c: Option<&Contact>, field: &str) -> Option<String> {
    let c = c?;
    match field {
        "first_name" => c.first.clone(),
        "company" => c.company.clone(),
        "emails[work]" => c.item(Items::Emails, "work"),
        "phone_numbers[mobile]" => c.item(Items::Phones, "mobile"),
        f if f == format!("custom[{LEAD_KEY}]") => c.custom(LEAD_FIELD),
        other => panic!("history names a field the model does not map: {other}"),
    }
}

const MAPPED_FIELDS: [&str; 5] = ["first_name", "company", "emails[work]", "phone_numbers[mobile]", "custom[LEAD]"];

fn mapped_fields() -> Vec<String> {
    MAPPED_FIELDS.iter().map(|f| f.replace("LEAD", LEAD_KEY)).collect()
}

/// The writes the fake received: (method, external id, answered status; 0 = no reply).
#[derive(Debug, Default)]
struct Writes(Vec<(String, String, u16)>);

impl Writes {
    fn answered(&self, method: &str, id: Option<&str>) -> usize {
        self.0.iter().filter(|(m, i, s)| m == method && (200..300).contains(s) && id.is_none_or(|id| id == i)).count()
    }
    fn sent(&self, method: &str, id: &str) -> usize {
        self.0.iter().filter(|(m, i, _)| m == method && i == id).count()
    }
}

impl Harness {
    pub(crate) fn new() -> Harness {
        let _ = rustls::crypto::ring::default_provider().install_default();
        // The fake serves from its own thread; each run gets a runtime of its own, dropped
        // with the run, so a killed run's connections die with it as with a process.
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
        let ws = rt.block_on(Workspace::with(FakeOptions {
            custom_fields: standard_fields(),
            rate_limit: None,
            ..FakeOptions::default()
        }));
        let mut h = Harness {
            rt,
            ws,
            // The model's clock starts at the real time: `restore` runs as the binary, which
            // records its times on the system's clock.
            model: Model::new(chrono::Utc::now().timestamp_millis()),
            saved: None,
            history_len: BTreeMap::new(),
            csv_writes: 0,
            order: 0,
            steps: vec![],
        };
        for (i, id) in IDS.iter().take(3).enumerate() {
            h.model.rows.insert(id.to_string(), row_of(i));
        }
        h.ws.write("api-key", &h.ws.api_key);
        h.write_config("mirror.sqlite3");
        h.write_mapping();
        h.write_source();
        h
    }

    fn write_config(&self, database: &str) {
        self.ws.write(
            "config.toml",
            &format!(
                "[openphone]\nbase_url = \"{}\"\napi_key_file = \"api-key\"\ntimeout_seconds = 5\nmax_retries = 0\nrequests_per_second = 1000\nconcurrency = 1\n\n\
                 [state]\ndatabase = \"{database}\"\n\n[source]\ntype = \"csv\"\npath = \"contacts.csv\"\n\n\
                 [sync]\nmapping = \"mapping.toml\"\ndelete_missing = true\nmax_delete_fraction = 1.0\ndelete_after = \"1h\"\n",
                self.ws.fake.base_url()
            ),
        );
    }

    fn write_mapping(&self) {
        self.ws.write("mapping.toml", &mapping_text(self.model.policies));
    }

    /// Writes the CSV with an old, distinct modification time, so the reader's "just written"
    /// settle pause (docs/deletes-and-ownership.md) never costs a case 0.2 s.
    fn write_source(&mut self) {
        let mut text = String::from("ID,First Name,Company,Email,Mobile,Source\n");
        let mut rows: Vec<(&String, &Row)> = self.model.rows.iter().collect();
        if self.order != 0 {
            let order = self.order;
            rows.sort_by_cached_key(|(id, _)| {
                use std::hash::{Hash, Hasher};
                let mut h = std::collections::hash_map::DefaultHasher::new();
                (order, id.as_str()).hash(&mut h);
                h.finish()
            });
        }
        for (id, r) in rows {
            let _ = writeln!(text, "{id},{},{},{},{},{}", r.first, r.company, r.email, r.phone, r.lead);
        }
        self.ws.write("contacts.csv", &text);
        self.csv_writes += 1;
        let old = std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + self.csv_writes);
        std::fs::File::options().write(true).open(self.ws.path("contacts.csv")).unwrap().set_modified(old).unwrap();
    }

    /// The model's time, as the engine's clock.
    fn clock(&self) -> Clock {
        Clock::fixed(chrono::DateTime::from_timestamp_millis(self.model.now).unwrap())
    }

    /// One engine run in-process: apply (or dry run), optionally `--verify`, a plan file,
    /// and a kill (the run's future dropped) once the fake has received `kill_at` requests.
    fn engine(&self, mode: Mode, verify: bool, plan: Option<PlanFile>, kill_at: Option<usize>) -> Ended {
        let (config, mapping) = match setup::load(&self.ws.path("config.toml")) {
            Ok(l) => l,
            Err(stop) => return Ended::Stopped { exit: stop.exit() as i32, message: stop.to_string() },
        };
        let args = SyncArgs { mode, allow_mass_delete: true, verify, limit: None, record: None, progress: false };
        let run = Run { plan_file: plan.as_ref(), clock: self.clock(), ..Run::new(&config, &mapping, &args) };
        let fake = &self.ws.fake;
        let start = fake.requests().len();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let ended = rt.block_on(async {
            let sync = engine::sync(&run);
            let Some(n) = kill_at else { return Some(sync.await) };
            tokio::select! {
                r = sync => Some(r),
                () = async { while fake.requests().len() < start + n { tokio::time::sleep(Duration::from_millis(1)).await } } => None,
            }
        });
        // The kill: the run's runtime, its tasks and its connections go.
        drop(rt);
        match ended {
            None => {
                // What the fake was handling when the run died is answered (or dropped) first.
                let deadline = std::time::Instant::now() + Duration::from_millis(300);
                while fake.requests()[start..].iter().any(|r| r.status == 0) && std::time::Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(1));
                }
                Ended::Killed
            }
            Some(Ok(report)) => Ended::Report(serde_json::to_value(&report).expect("report as JSON")),
            Some(Err(stop)) => Ended::Stopped { exit: stop.exit() as i32, message: stop.to_string() },
        }
    }

    fn contact_id(&self, id: &str) -> Option<String> {
        self.ws.fake.contacts_with_external_id(id).first().map(|c| c["id"].as_str().unwrap().to_owned())
    }

    fn observe_all(&self) -> Result<BTreeMap<String, Contact>, String> {
        let mut seen = BTreeMap::new();
        for c in self.ws.fake.contacts() {
            let Some(ext) = c["externalId"].as_str() else {
                return Err(format!("a contact without externalId: {c}"));
            };
            if seen.insert(ext.to_owned(), observed(&c)).is_some() {
                return Err(format!("two contacts with externalId {ext}"));
            }
        }
        Ok(seen)
    }

    fn writes_since(&self, start: usize, ids_by_contact: &BTreeMap<String, String>) -> Writes {
        let mut out = Writes::default();
        for r in &self.ws.fake.requests()[start..] {
            let ext = match r.method.as_str() {
                "POST" if r.path == "/v1/contacts" => {
                    r.body.as_ref().and_then(|b| b["externalId"].as_str()).unwrap_or("").to_owned()
                }
                "PATCH" | "DELETE" => {
                    let cid = r.path.trim_start_matches("/v1/contacts/");
                    ids_by_contact.get(cid).cloned().unwrap_or_default()
                }
                _ => continue,
            };
            out.0.push((r.method.clone(), ext, r.status));
        }
        out
    }

    fn ids_by_contact(&self) -> BTreeMap<String, String> {
        self.ws
            .fake
            .contacts()
            .iter()
            .map(|c| (c["id"].as_str().unwrap().to_owned(), c["externalId"].as_str().unwrap_or("").to_owned()))
            .collect()
    }

    fn history(&self) -> BTreeMap<String, Vec<openphone_sync::mirror::history::HistoryEntry>> {
        let Ok(Some(m)) = Mirror::open_read_only(&self.ws.mirror_path(), Duration::from_secs(5)) else {
            return BTreeMap::new();
        };
        IDS.iter().map(|id| (id.to_string(), m.history_of(id).unwrap_or_default())).collect()
    }

    /// Applies `op` to the workspace and the model, then checks every property.
    pub(crate) fn step(&mut self, op: &Op) -> Result<(), String> {
        self.steps.push(format!("{op:?}"));
        let before = self.observe_all()?;
        let mut ids_by_contact = self.ids_by_contact();
        let start = self.ws.fake.requests().len();
        // What the step must show: a clean run's report, or how many entries it may add.
        let mut clean_report: Option<Value> = None;
        let mut entries_exact = false;
        let mut allow_extra_entry = false;
        match *op {
            Op::EditRow { id, col, v } => {
                let Some(r) = self.model.rows.get_mut(IDS[id]) else { return Ok(()) };
                let value = pool(col)[v % 3].to_owned();
                match col {
                    Col::First => r.first = value,
                    Col::Company => r.company = value,
                    Col::Email => r.email = value,
                    Col::Phone => r.phone = value,
                    Col::Lead => r.lead = value,
                }
                self.write_source();
            }
            Op::RemoveRow { id } => {
                // Not while the app has deleted its contact: the contract says nothing of it.
                if !self.model.all(IDS[id], |h| !h.app_deleted) {
                    return Ok(());
                }
                self.model.rows.remove(IDS[id]);
                self.write_source();
            }
            Op::AddRow { id, v } => {
                self.model.rows.insert(IDS[id].to_owned(), row_of(v));
                self.write_source();
            }
            Op::AppEdit { id, edit } => {
                let ext = IDS[id];
                if edit == AppEdit::Notes && !self.model.notes_field {
                    return Ok(());
                }
                let Some(cid) = self.contact_id(ext) else { return Ok(()) };
                self.ws.fake.edit_contact(&cid, |c| app_edit_json(c, edit));
                self.model.app_edit(ext, |c| app_edit_model(c, edit));
            }
            Op::AppDelete { id } => {
                let ext = IDS[id];
                if !self.model.rows.contains_key(ext) {
                    return Ok(());
                }
                let Some(cid) = self.contact_id(ext) else { return Ok(()) };
                self.ws.fake.remove_contact(&cid);
                for h in self.model.records.get_mut(ext).unwrap().iter_mut() {
                    h.contact = None;
                    h.app_deleted = h.pushed.is_some();
                }
            }
            Op::SetPolicy { field, policy } => {
                if field == PolicyField::Email && policy == Policy::IfEmpty && known(Hole::IfEmptySlotSecondItem) {
                    return Ok(());
                }
                let p = &mut self.model.policies;
                match field {
                    PolicyField::Company => p.company = policy,
                    PolicyField::Email => p.email = policy,
                    PolicyField::Lead => p.lead = policy,
                }
                self.write_mapping();
            }
            Op::TimePasses { minutes } => self.model.now += minutes * 60_000,
            Op::Sync | Op::Verify => {
                let verify = *op == Op::Verify;
                match self.engine(Mode::Apply, verify, None, None) {
                    Ended::Report(r) => {
                        if r["outcome"] != "ok" {
                            return Err(format!("a clean sync did not end ok: {r:#}"));
                        }
                        self.model.sync(verify, false);
                        clean_report = Some(r);
                        entries_exact = true;
                        allow_extra_entry = true;
                    }
                    Ended::Stopped { exit, message } => {
                        return Err(format!("a clean sync stopped ({exit}): {message}"));
                    }
                    Ended::Killed => unreachable!(),
                }
            }
            Op::FaultySync { fault, method, seed } => {
                let fault = match fault {
                    FaultKind::FailBefore => Fault::FailBeforeApply { status: 500 },
                    FaultKind::LoseReply => Fault::LoseReplyAfterApply,
                };
                self.ws.fake.set_seed(seed);
                self.ws.fake.add_fault(FaultRule {
                    method: Some(method.to_owned()),
                    path_prefix: Some("/v1/contacts".into()),
                    fault,
                    times: 0,
                    probability: Some(0.5),
                });
                let ended = self.engine(Mode::Apply, false, None, None);
                self.ws.fake.clear_faults();
                if let Ended::Stopped { exit, message } = &ended
                    && *exit != 4
                {
                    return Err(format!("a sync with faults stopped with exit {exit}: {message}"));
                }
                self.model.sync(false, true);
            }
            Op::KillAt { request } => {
                let _ = self.engine(Mode::Apply, false, None, Some(request));
                self.model.sync(false, true);
            }
            Op::Restore { id } => {
                // The restore's own entry (issue 19 (3)).
                allow_extra_entry = true;
                self.restore(IDS[id])?;
            }
            Op::Forget { id } => {
                allow_extra_entry = true;
                self.forget(IDS[id])?;
            }
            Op::SavePlan { target } => self.save_plan(target)?,
            Op::ApplyPlan => {
                if let Some(r) = self.apply_plan()? {
                    clean_report = Some(r);
                    entries_exact = true;
                    allow_extra_entry = true;
                }
            }
            Op::ForeignMirror => self.foreign_mirror()?,
            Op::ReorderRows { seed } => {
                if seed == self.order {
                    return Ok(());
                }
                self.order = seed;
                self.write_source();
            }
            Op::RemoveNotesField => {
                if !self.model.notes_field {
                    return Ok(());
                }
                self.model.notes_field = false;
                self.ws.fake.set_custom_fields(standard_fields().into_iter().filter(|f| f.key != NOTES_KEY).collect());
                for c in self.ws.fake.contacts() {
                    self.ws.fake.edit_contact(c["id"].as_str().unwrap(), |c| {
                        if let Some(list) = c["customFields"].as_array_mut() {
                            list.retain(|f| f["key"] != NOTES_KEY);
                        }
                    });
                }
                for hyps in self.model.records.values_mut() {
                    for h in hyps.iter_mut() {
                        if let Some(c) = h.contact.as_mut() {
                            c.set_custom(NOTES_FIELD, None);
                        }
                    }
                }
            }
        }

        // The workspace, record by record and item by item (which also says: no duplicate
        // externalId, no item added in the app lost, no held field overwritten).
        let after = self.observe_all()?;
        self.model.observe(&after)?;
        ids_by_contact.extend(self.ids_by_contact());
        let writes = self.writes_since(start, &ids_by_contact);

        // The report's counts are the writes the fake answered.
        if let Some(r) = clean_report.as_ref().filter(|_| !known(Hole::ReportCountsNotWhatWasSent)) {
            // An update whose contact was deleted in the app creates it again (a POST), and a
            // planned create that found its contact (a run killed after the POST) adopts it
            // (`adopted`): creates and updates are counted together.
            // An adoption that PATCHed is counted by its PATCH, one that sent nothing by `adopted`.
            let sent = (writes.answered("POST", None) + writes.answered("PATCH", None)) as u64;
            let adopted = r["adopted"].as_u64().unwrap_or(0);
            let n = |k: &str| r["applied"][k].as_u64().unwrap_or(0);
            let written = n("create") + n("update");
            if written < sent || written > sent + adopted || n("delete") != writes.answered("DELETE", None) as u64 {
                return Err(format!("the report's counts are not the writes the fake answered: {:?}\n{r:#}", writes.0));
            }
        }

        // Each record's history: one entry per write the fake answered (at most one per write
        // sent when the run failed), listing exactly the fields the write changed.
        let history = self.history();
        for id in IDS.iter().copied().filter(|_| !known(Hole::HistoryNotWhatWasSent)) {
            let entries = history.get(id).cloned().unwrap_or_default();
            let old = self.history_len.get(id).copied().unwrap_or(0);
            if entries.len() < old {
                return Err(format!("{id}: history lost entries ({old} → {})", entries.len()));
            }
            let new = &entries[..entries.len() - old];
            for (action, method) in [("create", "POST"), ("update", "PATCH"), ("delete", "DELETE")] {
                let n = new.iter().filter(|e| e.action.as_str() == action).count();
                let (answered, sent) = (writes.answered(method, Some(id)), writes.sent(method, id));
                // An adoption's PATCH is recorded as `adopt`.
                let adopts = new.iter().filter(|e| e.action.as_str() == "adopt").count();
                let ok = match (entries_exact, method) {
                    (true, "PATCH") => n <= answered && answered <= n + adopts,
                    (true, _) => n == answered,
                    (false, _) => n <= sent,
                };
                if !ok {
                    return Err(format!(
                        "{id}: {n} new {action} entries in history, the fake answered {answered} of {sent} {method}: {new:#?}"
                    ));
                }
            }
            // An update that found the contact already as wanted sent nothing: so it says.
            let in_sync: Vec<_> = new.iter().filter(|e| e.action.as_str() == "already_in_sync").collect();
            if in_sync.iter().any(|e| !e.changes.is_empty()) || !in_sync.is_empty() && writes.sent("PATCH", id) > 0 {
                return Err(format!("{id}: an already_in_sync entry beside a PATCH, or listing changes: {new:#?}"));
            }
            // A delete that found the contact gone already sent nothing: so it says.
            let gone: Vec<_> = new.iter().filter(|e| e.action.as_str() == "already_gone").collect();
            if gone.iter().any(|e| !e.changes.is_empty()) || !gone.is_empty() && writes.answered("DELETE", Some(id)) > 0
            {
                return Err(format!(
                    "{id}: an already_gone entry beside an answered DELETE, or listing changes: {new:#?}"
                ));
            }
            let others = new
                .iter()
                .filter(|e| {
                    !["create", "update", "delete", "already_in_sync", "already_gone", "adopt"]
                        .contains(&e.action.as_str())
                })
                .count();
            if others > usize::from(allow_extra_entry) {
                return Err(format!("{id}: {others} unexpected history entries: {new:#?}"));
            }
            if entries_exact && writes.answered("PATCH", Some(id)) == 1 && writes.sent("PATCH", id) == 1 {
                let e = new.iter().find(|e| ["update", "adopt"].contains(&e.action.as_str())).unwrap();
                let (b, a) = (before.get(id), after.get(id));
                let changed: Vec<String> =
                    mapped_fields().into_iter().filter(|f| field_value(b, f) != field_value(a, f)).collect();
                let mut listed: Vec<String> = e.changes.iter().map(|c| c.field.clone()).collect();
                listed.sort();
                let mut changed_sorted = changed.clone();
                changed_sorted.sort();
                if listed != changed_sorted {
                    return Err(format!(
                        "{id}: history lists {listed:?} for an update that changed {changed_sorted:?}: {e:#?}\nbefore {b:?}\nafter {a:?}"
                    ));
                }
                for c in &e.changes {
                    if c.to != field_value(a, &c.field) {
                        return Err(format!(
                            "{id}: history says {} became {:?}, the contact holds {:?}",
                            c.field,
                            c.to,
                            field_value(a, &c.field)
                        ));
                    }
                }
            }
            self.history_len.insert(id.to_owned(), entries.len());
        }

        self.mirror_intact()
    }

    /// The mirror, once made, is a SQLite file this tool opens and reads.
    fn mirror_intact(&self) -> Result<(), String> {
        let path = self.ws.mirror_path();
        if !path.exists() {
            return Ok(());
        }
        let head = std::fs::read(&path).map_err(|e| e.to_string())?;
        if !head.starts_with(b"SQLite format 3\0") {
            return Err(format!(
                "the mirror is not a SQLite file any more: {:?}",
                String::from_utf8_lossy(&head[..head.len().min(40)])
            ));
        }
        // Opening it checks it is still this tool's (its application_id mark, issue 19 (4)).
        match Mirror::open_read_only(&path, Duration::from_secs(5)) {
            Ok(Some(m)) => m.index().map(drop).map_err(|e| format!("the mirror's index is unreadable: {e}")),
            Ok(None) => Ok(()),
            Err(e) => Err(format!("the mirror is unreadable: {e}")),
        }
    }

    fn restore(&mut self, ext: &str) -> Result<(), String> {
        let hyps = self.model.hyps(ext).clone();
        let never_deleted = hyps.iter().all(|h| h.tombstones.is_empty());
        let restorable = !self.model.rows.contains_key(ext)
            && hyps.iter().all(|h| h.contact.is_none() && !h.tombstones.is_empty())
            && hyps.windows(2).all(|w| w[0].tombstones.last() == w[1].tombstones.last());
        if !never_deleted && !restorable || never_deleted && known(Hole::RestoreUnknownSilent) {
            return Ok(());
        }
        let lost_field = hyps.iter().any(|h| h.tombstones.last().is_some_and(|(c, _)| c.custom(NOTES_FIELD).is_some()));
        if !never_deleted && !self.model.notes_field && lost_field && known(Hole::RestoreRemovedFieldFails) {
            return Ok(());
        }
        let run = self.rt.block_on(self.ws.run(&["restore", ext, "--output", "json"]));
        if never_deleted {
            // Issue 19 (5): an id that matches nothing is named, and the exit is 1.
            if run.code != 1 {
                return Err(format!(
                    "restore of never-deleted {ext} exited {}: {}{}",
                    run.code, run.stdout, run.stderr
                ));
            }
            return Ok(());
        }
        if run.code != 0 {
            return Err(format!("restore {ext} exited {}: {}{}", run.code, run.stdout, run.stderr));
        }
        let notes = self.model.notes_field;
        for h in self.model.records.get_mut(ext).unwrap().iter_mut() {
            let (mut c, pushed) = h.tombstones.last().cloned().unwrap();
            if !notes {
                c.set_custom(NOTES_FIELD, None);
            }
            *h =
                RecState { contact: Some(c), pushed, kept: true, missing_since: None, app_deleted: false, ..h.clone() };
        }
        Ok(())
    }

    fn forget(&mut self, ext: &str) -> Result<(), String> {
        let hyps = self.model.hyps(ext);
        let kept = hyps.iter().all(|h| h.kept);
        if !kept && hyps.iter().any(|h| h.kept) {
            return Ok(());
        }
        let run = self.rt.block_on(self.ws.run(&["forget", ext, "--output", "json"]));
        let want = i32::from(!kept);
        if run.code != want {
            return Err(format!("forget {ext} exited {} (want {want}): {}{}", run.code, run.stdout, run.stderr));
        }
        for h in self.model.records.get_mut(ext).unwrap().iter_mut() {
            h.kept = false;
        }
        Ok(())
    }

    fn plan_path(&self, target: PlanTarget) -> PathBuf {
        self.ws.path(match target {
            PlanTarget::Fresh => "plan.json",
            PlanTarget::Mirror => "mirror.sqlite3",
            PlanTarget::Config => "config.toml",
            PlanTarget::Mapping => "mapping.toml",
            PlanTarget::Source => "contacts.csv",
        })
    }

    fn save_plan(&mut self, target: PlanTarget) -> Result<(), String> {
        if target != PlanTarget::Fresh && known(Hole::SavePlanOverwrites) {
            return Ok(());
        }
        let path = self.plan_path(target);
        let before = std::fs::read(&path).ok();
        let ended = self.engine(Mode::DryRun, false, Some(PlanFile::Save(path.clone())), None);
        let after = std::fs::read(&path).ok();
        if target == PlanTarget::Fresh {
            match ended {
                Ended::Report(r) if r["outcome"] == "ok" => {
                    self.saved =
                        Some(Saved { rows: self.model.rows.clone(), order: self.order, policies: self.model.policies });
                    Ok(())
                }
                Ended::Report(r) => Err(format!("saving a plan did not end ok: {r:#}")),
                Ended::Stopped { exit, message } => Err(format!("saving a plan stopped ({exit}): {message}")),
                Ended::Killed => unreachable!(),
            }
        } else if after != before {
            Err(format!(
                "`sync --dry-run --save-plan {}` changed a file the tool did not make as a plan (issue 19 (1))",
                path.display()
            ))
        } else {
            Ok(())
        }
    }

    /// `sync --plan`: refused, writing nothing, when the source or the mapping changed since the
    /// plan was saved; otherwise refused or applied as a clean sync.
    fn apply_plan(&mut self) -> Result<Option<Value>, String> {
        let Some(saved) = self.saved.clone() else { return Ok(None) };
        let source_changed = saved.rows != self.model.rows || saved.order != self.order;
        let stale = source_changed || saved.policies != self.model.policies;
        let start = self.ws.fake.requests().len();
        let ended = self.engine(Mode::Apply, false, Some(PlanFile::Apply(self.plan_path(PlanTarget::Fresh))), None);
        let wrote = self.ws.fake.requests()[start..].iter().any(|r| r.method != "GET");
        match ended {
            // A policy changed since: the tool compares the plan it would make now with the
            // saved one, so a change that leaves the plan's writes as they were (MODEL_SEED=1001:
            // a plan with nothing to write) is applied; what it wrote is checked against the
            // model below like any sync.
            Ended::Report(r) if r["outcome"] == "ok" && !source_changed => {
                self.model.sync(false, false);
                Ok(Some(r))
            }
            Ended::Report(r) if r["outcome"] == "refused" && !wrote => Ok(None),
            Ended::Report(r) => Err(format!("applying a saved plan (stale: {stale}) ended: {r:#}")),
            Ended::Stopped { exit, message } if !wrote && exit != 0 => {
                let _ = message;
                Ok(None)
            }
            Ended::Stopped { exit, message } => {
                Err(format!("applying a saved plan wrote and stopped ({exit}): {message}"))
            }
            Ended::Killed => unreachable!(),
        }
    }

    /// `database` names another program's SQLite file: refused (exit 4), the file unchanged,
    /// nothing written to OpenPhone.
    fn foreign_mirror(&mut self) -> Result<(), String> {
        if known(Hole::ForeignMirrorAdopted) {
            return Ok(());
        }
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/foreign.sqlite3");
        let path = self.ws.path("other.sqlite3");
        std::fs::copy(&fixture, &path).map_err(|e| e.to_string())?;
        let bytes = std::fs::read(&path).unwrap();
        self.write_config("other.sqlite3");
        let start = self.ws.fake.requests().len();
        let ended = self.engine(Mode::Apply, false, None, None);
        self.write_config("mirror.sqlite3");
        let wrote = self.ws.fake.requests()[start..].iter().any(|r| r.method != "GET");
        let unchanged = std::fs::read(&path).ok() == Some(bytes);
        let leftovers: Vec<String> = std::fs::read_dir(self.ws.dir.path())
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.starts_with("other.sqlite3") && n != "other.sqlite3")
            .collect();
        let _ = std::fs::remove_file(&path);
        for l in &leftovers {
            let _ = std::fs::remove_file(self.ws.path(l));
        }
        match ended {
            Ended::Stopped { exit: 4, .. } if unchanged && !wrote => Ok(()),
            Ended::Stopped { exit, message } => Err(format!(
                "another program's SQLite file as the mirror: exit {exit} ({message}), file unchanged: {unchanged}, wrote: {wrote} (issue 19 (4))"
            )),
            Ended::Report(r) => Err(format!(
                "another program's SQLite file was taken as the mirror (issue 19 (4)): file unchanged: {unchanged}, outcome {}",
                r["outcome"]
            )),
            Ended::Killed => unreachable!(),
        }
    }
}

fn app_edit_json(c: &mut Value, edit: AppEdit) {
    let d = &mut c["defaultFields"];
    match edit {
        AppEdit::Company(v) => d["company"] = if v.is_empty() { Value::Null } else { json!(v) },
        AppEdit::WorkEmail(v) => {
            let list = d["emails"].as_array_mut().expect("emails");
            if v.is_empty() {
                list.retain(|it| it["name"] != "work");
            } else if let Some(it) = list.iter_mut().find(|it| it["name"] == "work") {
                // Only the slot's own item is edited: a second "work" item made in the app
                // is a case the contract leaves open.
                it["value"] = json!(v);
            }
        }
        AppEdit::AddHomeEmail => {
            d["emails"].as_array_mut().unwrap().push(json!({"name": "home", "value": "home@x.com"}));
        }
        AppEdit::AddAppPhone => {
            d["phoneNumbers"].as_array_mut().unwrap().push(json!({"name": "app", "value": "+12015550199"}));
        }
        AppEdit::Lead(v) => set_custom_json(c, LEAD_KEY, "Lead Source", v),
        AppEdit::Notes => set_custom_json(c, NOTES_KEY, "Notes", "note"),
    }
}

fn set_custom_json(c: &mut Value, key: &str, name: &str, v: &str) {
    if !c["customFields"].is_array() {
        c["customFields"] = json!([]);
    }
    let list = c["customFields"].as_array_mut().unwrap();
    list.retain(|f| f["key"] != key);
    if !v.is_empty() {
        list.push(json!({"name": name, "key": key, "id": key, "type": "string", "value": v}));
    }
}

fn app_edit_model(c: &mut Contact, edit: AppEdit) {
    let some = |v: &str| (!v.is_empty()).then(|| v.to_owned());
    match edit {
        AppEdit::Company(v) => c.company = some(v),
        AppEdit::WorkEmail(v) => {
            if c.item(Items::Emails, "work").is_some() {
                c.set_item(Items::Emails, "work", some(v));
            }
        }
        AppEdit::AddHomeEmail => c.add_item(Items::Emails, "home", "home@x.com"),
        AppEdit::AddAppPhone => c.add_item(Items::Phones, "app", "+12015550199"),
        AppEdit::Lead(v) => c.set_custom(LEAD_FIELD, some(v)),
        AppEdit::Notes => c.set_custom(NOTES_FIELD, Some("note".into())),
    }
}
