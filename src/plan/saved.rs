//! A plan saved for review (`sync --dry-run --save-plan FILE`) and applied as it is
//! (`sync --plan FILE`): the versioned JSON document ([`SavedPlan`]), the fingerprints of the
//! source and the mirror it was made from, the identity of the config and workspace it is
//! for, and [`SavedPlan::check`], which gives back exactly the saved plan only while
//! nothing it was made from has changed. Invariant: nothing here does IO.

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::changes::{Create, Delete, Plan, Update};
use super::diff::{Diff, FieldChange};
use super::known::MirrorIndex;
use crate::model::{ContactState, Digest, PushedState, Scalar, Unmapped};
use crate::source::{SourceError, SourceItem};

/// The version of the plan file this build writes and reads.
const PLAN_VERSION: u32 = 1;

/// The plan file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedPlan {
    pub version: u32,
    /// RFC 3339, UTC.
    pub made_at: String,
    /// `openphone-sync <version>`.
    pub made_by: String,
    pub identity: Identity,
    pub source: Fingerprint,
    pub mirror: Fingerprint,
    /// Records left alone because they are in sync.
    pub unchanged: u64,
    pub creates: Vec<SavedCreate>,
    pub updates: Vec<SavedUpdate>,
    pub deletes: Vec<SavedDelete>,
}

/// Which config and workspace a plan is for. Holds no credential: the key is only
/// represented by a one-way hash of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    /// The config file's absolute path.
    pub config: String,
    /// The source, as `check` and the report describe it (a path, a sheet and range).
    pub source: String,
    pub base_url: String,
    /// SHA-256 of a fixed prefix and the API key (hex, 32 digits): tells workspaces apart,
    /// cannot be turned back into the key.
    pub api_key_sha256: String,
}

impl Identity {
    pub fn api_key_fingerprint(key: &str) -> String {
        let mut h = Sha256::new();
        h.update(b"openphone-sync plan identity\0");
        h.update(key.as_bytes());
        Digest::of(&h.finalize()).to_string()
    }

    /// What differs from `now`, in words (empty when nothing does).
    fn differences(&self, now: &Identity) -> Vec<String> {
        let mut out = Vec::new();
        let mut cmp = |what: &str, then: &str, now: &str| {
            if then != now {
                out.push(format!("{what}: {then:?} in the plan, {now:?} now"));
            }
        };
        cmp("config", &self.config, &now.config);
        cmp("source", &self.source, &now.source);
        cmp("OpenPhone base URL", &self.base_url, &now.base_url);
        if self.api_key_sha256 != now.api_key_sha256 {
            out.push("API key: another key (another workspace?) than the plan was made with".to_owned());
        }
        out
    }
}

/// A digest of what a plan was made from, with a count a person can compare.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fingerprint {
    /// SHA-256 (first 128 bits, hex).
    pub sha256: String,
    /// Source: data rows read. Mirror: contacts recorded.
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedCreate {
    pub row: u64,
    pub external_id: String,
    /// The complete contact to create.
    pub state: ContactState,
    /// The fields the mapping leaves alone (never written).
    pub unmapped: Vec<String>,
    pub source_hash: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedUpdate {
    pub row: u64,
    pub external_id: String,
    pub contact_id: String,
    /// The fields that change, against the last state pushed.
    pub changes: Vec<FieldChange>,
    /// Re-read the contact first: an earlier write was not confirmed.
    pub refresh: bool,
    pub desired: ContactState,
    /// The fields the mapping leaves alone (never written or compared).
    pub unmapped: Vec<String>,
    pub base: Option<PushedState>,
    pub source_hash: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedDelete {
    pub external_id: String,
    pub contact_id: Option<String>,
}

/// Why a saved plan is not applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanRefusal {
    #[error("the plan file is version {found}, this build reads version {PLAN_VERSION}: make a new plan")]
    Version { found: u32 },
    #[error("the plan was made for another config or workspace ({}): make a new plan with this config", .0.join("; "))]
    Elsewhere(Vec<String>),
    #[error(
        "the plan is stale: {}; nothing was written: review a new plan (`sync --dry-run --save-plan FILE`)",
        .0.join("; ")
    )]
    Stale(Vec<String>),
}

/// Hashes a source's header and rows as they are read.
pub struct SourceHasher {
    sha: Sha256,
    rows: u64,
}

impl SourceHasher {
    pub fn new(header: &[String]) -> SourceHasher {
        let mut h = SourceHasher { sha: Sha256::new(), rows: 0 };
        h.cells(header.iter().map(String::as_str));
        h
    }

    fn cells<'c>(&mut self, cells: impl Iterator<Item = &'c str>) {
        for c in cells {
            self.sha.update(c.as_bytes());
            self.sha.update([0x1f]);
        }
        self.sha.update([0x1e]);
    }

    /// One item of the source, as read (a row, or a row that could not be read).
    pub fn add(&mut self, item: &Result<SourceItem, SourceError>) {
        self.rows += 1;
        match item {
            Ok(SourceItem::Row(r)) => {
                self.sha.update(r.row.to_le_bytes());
                self.cells(r.cells.iter());
            }
            Ok(SourceItem::Bad(e)) => {
                self.sha.update(e.row.to_le_bytes());
                self.sha.update(b"bad\x1f");
                self.sha.update(e.message.as_bytes());
                self.sha.update([0x1e]);
            }
            Err(e) => self.sha.update(e.to_string().as_bytes()),
        }
    }

    pub fn finish(self) -> Fingerprint {
        Fingerprint { sha256: Digest::of(&self.sha.finalize()).to_string(), count: self.rows }
    }
}

/// The mirror as the plan sees it: every record's id, contact, state digest and pending write.
pub fn mirror_fingerprint(index: &MirrorIndex) -> Fingerprint {
    let mut ids: Vec<&String> = index.keys().collect();
    ids.sort_unstable();
    let mut sha = Sha256::new();
    for id in ids {
        let e = &index[id];
        let pending = e.pending.map_or("", |p| p.action().as_str());
        let hex = |d: Option<Digest>| d.map(|d| d.to_string()).unwrap_or_default();
        for part in [id.as_str(), e.contact_id.as_deref().unwrap_or(""), &hex(e.hash), pending, &hex(e.source_hash)] {
            sha.update(part.as_bytes());
            sha.update([0x1f]);
        }
        sha.update([0x1e]);
    }
    Fingerprint { sha256: Digest::of(&sha.finalize()).to_string(), count: index.len() as u64 }
}

/// What the plan was made from, and for which config and workspace.
pub struct Made {
    pub identity: Identity,
    pub source: Fingerprint,
    pub mirror: Fingerprint,
}

impl SavedPlan {
    pub fn new(plan: &Plan, made: Made, made_at: String) -> SavedPlan {
        let hex = |d: Option<Digest>| d.map(|d| d.to_string());
        SavedPlan {
            version: PLAN_VERSION,
            made_at,
            made_by: format!("openphone-sync {}", env!("CARGO_PKG_VERSION")),
            identity: made.identity,
            source: made.source,
            mirror: made.mirror,
            unchanged: plan.unchanged as u64,
            creates: plan
                .creates
                .iter()
                .map(|c| SavedCreate {
                    row: c.row,
                    external_id: c.external_id.clone(),
                    state: c.state.clone(),
                    unmapped: unmapped_names(c.state.unmapped),
                    source_hash: hex(c.source_hash),
                })
                .collect(),
            updates: plan
                .updates
                .iter()
                .map(|u| SavedUpdate {
                    row: u.row,
                    external_id: u.external_id.clone(),
                    contact_id: u.contact_id.clone(),
                    changes: u.diff.changes.clone(),
                    refresh: u.refresh,
                    desired: u.desired.clone(),
                    unmapped: unmapped_names(u.desired.unmapped),
                    base: u.base.clone(),
                    source_hash: hex(u.source_hash),
                })
                .collect(),
            deletes: plan
                .deletes
                .iter()
                .map(|d| SavedDelete { external_id: d.external_id.clone(), contact_id: d.contact_id.clone() })
                .collect(),
        }
    }

    /// Refuses a plan of another version, or for another config or workspace.
    pub fn check_identity(&self, now: &Identity) -> Result<(), PlanRefusal> {
        if self.version != PLAN_VERSION {
            return Err(PlanRefusal::Version { found: self.version });
        }
        let differences = self.identity.differences(now);
        if differences.is_empty() { Ok(()) } else { Err(PlanRefusal::Elsewhere(differences)) }
    }

    /// The saved plan, exactly, when the source and the mirror are as they were when it was
    /// made and they still give this plan (`replan`, made now); else why it is stale.
    pub fn check(&self, source: &Fingerprint, mirror: &Fingerprint, replan: &Plan) -> Result<Plan, PlanRefusal> {
        let mut stale = Vec::new();
        if self.source != *source {
            stale.push(format!(
                "the source changed since the plan was made ({} rows then, {} now)",
                self.source.count, source.count
            ));
        }
        if self.mirror != *mirror {
            stale.push(format!(
                "the mirror changed since the plan was made (another run wrote to it; {} contacts then, {} now)",
                self.mirror.count, mirror.count
            ));
        }
        // Deferred deletes are not saved: the plan keeps this run's marks and pending list
        // (times move on), and any delete that fell due since makes the plan differ.
        let plan = Plan {
            pending_deletes: replan.pending_deletes.clone(),
            kept_restored: replan.kept_restored.clone(),
            marks: replan.marks.clone(),
            ..self.to_plan()
        };
        if stale.is_empty() && plan != *replan {
            stale.extend(plan_differences(&plan, replan));
        }
        if stale.is_empty() { Ok(plan) } else { Err(PlanRefusal::Stale(stale)) }
    }

    /// The plan as the apply step takes it.
    fn to_plan(&self) -> Plan {
        let digest = |s: &Option<String>| s.as_deref().and_then(Digest::parse);
        let with = |s: &ContactState, names: &[String]| ContactState { unmapped: unmapped_from(names), ..s.clone() };
        Plan {
            creates: self
                .creates
                .iter()
                .map(|c| Create {
                    row: c.row,
                    external_id: c.external_id.clone(),
                    state: with(&c.state, &c.unmapped),
                    source_hash: digest(&c.source_hash),
                })
                .collect(),
            updates: self
                .updates
                .iter()
                .map(|u| Update {
                    row: u.row,
                    external_id: u.external_id.clone(),
                    source_hash: digest(&u.source_hash),
                    contact_id: u.contact_id.clone(),
                    desired: with(&u.desired, &u.unmapped),
                    base: u.base.clone(),
                    refresh: u.refresh,
                    diff: Diff { changes: u.changes.clone() },
                })
                .collect(),
            deletes: self
                .deletes
                .iter()
                .map(|d| Delete { external_id: d.external_id.clone(), contact_id: d.contact_id.clone() })
                .collect(),
            unchanged: self.unchanged as usize,
            ..Plan::default()
        }
    }
}

/// What differs between the saved plan and the one planned now from the same source and
/// mirror, record by record (at most five named): the plan file was edited, the mapping
/// changed, or a pending delete fell due.
fn plan_differences<'p>(saved: &'p Plan, now: &'p Plan) -> Vec<String> {
    use std::collections::BTreeMap;
    #[derive(PartialEq)]
    enum Planned<'a> {
        Create(&'a Create),
        Update(&'a Update),
        Delete(&'a Delete),
    }
    let index = |p: &'p Plan| -> BTreeMap<&'p str, Planned<'p>> {
        let mut m = BTreeMap::new();
        m.extend(p.creates.iter().map(|c| (c.external_id.as_str(), Planned::Create(c))));
        m.extend(p.updates.iter().map(|u| (u.external_id.as_str(), Planned::Update(u))));
        m.extend(p.deletes.iter().map(|d| (d.external_id.as_str(), Planned::Delete(d))));
        m
    };
    let verb = |p: &Planned<'_>| match p {
        Planned::Create(_) => "create",
        Planned::Update(_) => "update",
        Planned::Delete(_) => "delete",
    };
    let (then, now_index) = (index(saved), index(now));
    let mut ids: Vec<&str> = then.keys().chain(now_index.keys()).copied().collect();
    ids.sort_unstable();
    ids.dedup();
    let mut out = Vec::new();
    for id in ids {
        let line = match (then.get(id), now_index.get(id)) {
            (Some(a), Some(b)) if a == b => continue,
            (Some(a), Some(b)) if verb(a) == verb(b) => {
                format!(
                    "the plan file's {} of {id:?} differs from the one planned now (the file was edited, or the mapping changed)",
                    verb(a)
                )
            }
            (Some(a), Some(b)) => format!("the plan file would {} {id:?}, planning now would {} it", verb(a), verb(b)),
            (Some(a), None) => format!("the plan file would {} {id:?}, planning now leaves it alone", verb(a)),
            (None, Some(Planned::Delete(_))) => {
                format!(
                    "the delete of {id:?} fell due since the plan was made (its row has been missing for delete_after)"
                )
            }
            (None, Some(b)) => format!("planning now would {} {id:?}, which the plan file does not", verb(b)),
            (None, None) => continue,
        };
        out.push(line);
    }
    if out.len() > 5 {
        let more = out.len() - 5;
        out.truncate(5);
        out.push(format!("and {more} more records differ"));
    }
    if saved.unchanged != now.unchanged {
        out.push(format!(
            "the plan file counts {} records unchanged, planning now {} (the file was edited?)",
            saved.unchanged, now.unchanged
        ));
    }
    if out.is_empty() {
        out.push("the same source and mirror now give another plan (the mapping changed)".to_owned());
    }
    out
}

/// The fields a mapping leaves alone, by name (the file keeps them: they decide what is sent).
fn unmapped_names(u: Unmapped) -> Vec<String> {
    Scalar::ALL.into_iter().filter(|s| s.unmapped(u)).map(|s| s.name().to_owned()).collect()
}

fn unmapped_from(names: &[String]) -> Unmapped {
    let mut u = Unmapped::default();
    for s in names.iter().filter_map(|n| Scalar::named(n)) {
        s.set_unmapped(&mut u, true);
    }
    u
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> Identity {
        Identity {
            config: "/etc/c.toml".into(),
            source: "a.csv".into(),
            base_url: "https://api.example/".into(),
            api_key_sha256: Identity::api_key_fingerprint("k"),
        }
    }

    fn sample() -> (Plan, SavedPlan) {
        let mut state = ContactState { first_name: Some("Ann".into()), ..Default::default() };
        state.unmapped.role = true;
        let plan = Plan {
            creates: vec![Create {
                row: 2,
                external_id: "A".into(),
                state: state.clone(),
                source_hash: Some(Digest::from_u128(9 << 70)),
            }],
            updates: vec![],
            deletes: vec![Delete { external_id: "Z".into(), contact_id: Some("c9".into()) }],
            unchanged: 3,
            ..Plan::default()
        };
        let fp = |s: &str| Fingerprint { sha256: s.into(), count: 1 };
        let made = Made { identity: identity(), source: fp("s"), mirror: fp("m") };
        let saved = SavedPlan::new(&plan, made, "2026-01-01T00:00:00Z".into());
        (plan, saved)
    }

    #[test]
    fn a_saved_plan_round_trips_and_is_refused_when_anything_changed() {
        let (plan, saved) = sample();
        let json = serde_json::to_string(&saved).unwrap();
        assert!(!json.contains("\"k\""), "the key is never in the file");
        let back: SavedPlan = serde_json::from_str(&json).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), json);
        assert_eq!(back.to_plan(), plan, "the fields left alone survive the file");
        let fp = |s: &str| Fingerprint { sha256: s.into(), count: 1 };
        assert_eq!(back.check(&fp("s"), &fp("m"), &plan), Ok(plan.clone()));
        let stale = back.check(&fp("s2"), &fp("m"), &plan).unwrap_err();
        assert!(stale.to_string().contains("the source changed"), "{stale}");
        let stale = back.check(&fp("s"), &fp("m2"), &plan).unwrap_err();
        assert!(stale.to_string().contains("the mirror changed"), "{stale}");
        let other = Plan { unchanged: 4, ..plan };
        assert!(matches!(back.check(&fp("s"), &fp("m"), &other), Err(PlanRefusal::Stale(_))));

        assert_eq!(back.check_identity(&identity()), Ok(()));
        let elsewhere = Identity { api_key_sha256: Identity::api_key_fingerprint("other"), ..identity() };
        assert!(matches!(back.check_identity(&elsewhere), Err(PlanRefusal::Elsewhere(d)) if d.len() == 1));
        let v2 = SavedPlan { version: 2, ..back };
        assert_eq!(v2.check_identity(&identity()), Err(PlanRefusal::Version { found: 2 }));
    }
}
