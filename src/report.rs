//! The run report: the JSON object of `sync --output json` (shape fixed by
//! `docs/interface.md`, extra keys added), its text rendering, and the exit code it implies.

use std::io::Write;

use serde::Serialize;

use crate::exit::Exit;
use crate::openphone::client::StatsSnapshot;
use crate::plan::Plan;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Apply,
    DryRun,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Apply => "apply",
            Mode::DryRun => "dry_run",
        }
    }
}

/// What happened to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    Delete,
}

impl Action {
    /// The word stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        [Action::Create, Action::Update, Action::Delete].into_iter().find(|a| a.as_str() == s)
    }
}

/// How the run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Everything planned was applied (or, in a dry run, planned) and every row was valid.
    Ok,
    /// Some rows were invalid or some writes failed; the rest was applied.
    Partial,
    /// A safety guard refused the run; nothing was written.
    Refused,
    /// OpenPhone or the source failed; the run stopped.
    Unavailable,
    /// Told to stop (SIGTERM/SIGINT): what was in flight was committed, the rest is left
    /// for the next run.
    Stopped,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Partial => "partial",
            Outcome::Refused => "refused",
            Outcome::Unavailable => "unavailable",
            Outcome::Stopped => "stopped",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Planned {
    pub create: u64,
    pub update: u64,
    pub delete: u64,
    pub unchanged: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Applied {
    pub create: u64,
    pub update: u64,
    pub delete: u64,
}

impl Applied {
    pub fn add(&mut self, action: Action) {
        match action {
            Action::Create => self.create += 1,
            Action::Update => self.update += 1,
            Action::Delete => self.delete += 1,
        }
    }
}

/// One record that was invalid or failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordError {
    pub row: Option<u64>,
    pub external_id: Option<String>,
    pub action: Option<Action>,
    pub message: String,
    /// The HTTP status, when OpenPhone answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The API's error code, when it sent one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// One planned change, for the dry-run listing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedChange {
    pub action: Action,
    pub row: Option<u64>,
    pub external_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<String>,
}

/// What `sync --verify` found: contacts edited in the app (each field with what was
/// synced and what OpenPhone holds now) and contacts deleted there.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerifyReport {
    pub checked: u64,
    pub drifted: Vec<crate::verify::Drifted>,
    pub missing: Vec<String>,
}

impl From<&crate::verify::Verified> for VerifyReport {
    fn from(v: &crate::verify::Verified) -> VerifyReport {
        VerifyReport { checked: v.checked, drifted: v.drifted.clone(), missing: v.missing.clone() }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub mode: Mode,
    pub source_rows: u64,
    pub invalid_rows: u64,
    pub planned: Planned,
    pub applied: Applied,
    /// Records that failed this run (each has one error in `errors`, with its action).
    pub failed: u64,
    /// Records left for the next run because the run was told to stop. Every planned
    /// create, update and delete is counted once: applied, failed or stopped.
    pub stopped: u64,
    pub errors: Vec<RecordError>,
    pub api_requests: u64,
    pub duration_ms: u64,
    pub outcome: Outcome,
    /// Why the run stopped or was refused, when it did.
    pub fatal: Option<String>,
    /// Creates that found their contact already in OpenPhone and adopted it.
    pub adopted: u64,
    /// Checks this run could not make, and other things worth knowing.
    pub notes: Vec<String>,
    /// The plan, record by record (dry runs only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<PlannedChange>,
    /// What `sync --verify` found, when asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify: Option<VerifyReport>,
    /// The client's counters (replies by status, 429s, time waited), for metrics.
    #[serde(skip)]
    pub api: StatsSnapshot,
}

impl Report {
    pub fn new(mode: Mode) -> Report {
        Report {
            mode,
            source_rows: 0,
            invalid_rows: 0,
            planned: Planned::default(),
            applied: Applied::default(),
            failed: 0,
            stopped: 0,
            errors: Vec::new(),
            api_requests: 0,
            duration_ms: 0,
            outcome: Outcome::Ok,
            fatal: None,
            adopted: 0,
            notes: Vec::new(),
            changes: Vec::new(),
            verify: None,
            api: StatsSnapshot::default(),
        }
    }

    pub fn set_plan(&mut self, plan: &Plan) {
        self.planned = Planned {
            create: plan.creates.len() as u64,
            update: plan.updates.len() as u64,
            delete: plan.deletes.len() as u64,
            unchanged: plan.unchanged as u64,
        };
    }

    /// Lists the plan record by record (dry run).
    pub fn list_plan(&mut self, plan: &Plan) {
        let c = plan.creates.iter().map(|c| PlannedChange {
            action: Action::Create,
            row: Some(c.row),
            external_id: c.external_id.clone(),
            changes: vec![],
        });
        let u = plan.updates.iter().map(|u| PlannedChange {
            action: Action::Update,
            row: Some(u.row),
            external_id: u.external_id.clone(),
            changes: if u.diff.is_empty() {
                vec!["(re-read from OpenPhone first: an earlier write was not confirmed)".to_owned()]
            } else {
                u.diff.changes.iter().map(ToString::to_string).collect()
            },
        });
        let d = plan.deletes.iter().map(|d| PlannedChange {
            action: Action::Delete,
            row: None,
            external_id: d.external_id.clone(),
            changes: vec![],
        });
        self.changes = c.chain(u).chain(d).collect();
    }

    /// Whether this run read the mirrored contacts back (a verify that an outage cut short
    /// does not count).
    pub fn verified(&self) -> bool {
        self.verify.is_some() && self.outcome != Outcome::Unavailable
    }

    /// Sets the outcome from what was counted; call once at the end.
    pub fn settle(&mut self) {
        if self.outcome == Outcome::Ok && (self.invalid_rows > 0 || self.failed > 0) {
            self.outcome = Outcome::Partial;
        }
    }

    pub fn exit(&self) -> Exit {
        match self.outcome {
            Outcome::Ok => Exit::Ok,
            Outcome::Partial => Exit::Partial,
            Outcome::Refused => Exit::Refused,
            Outcome::Unavailable | Outcome::Stopped => Exit::Unavailable,
        }
    }

    pub fn write_json(&self, out: &mut impl Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, self)?;
        writeln!(out)
    }

    pub fn write_text(&self, out: &mut impl Write) -> std::io::Result<()> {
        for c in &self.changes {
            let action = match c.action {
                Action::Create => "create",
                Action::Update => "update",
                Action::Delete => "delete",
            };
            let row = c.row.map(|r| format!("row {r}")).unwrap_or_default();
            writeln!(out, "{action:<7} {row:<10} {}", c.external_id)?;
            for change in &c.changes {
                writeln!(out, "{:19}{change}", "")?;
            }
        }
        if let Some(v) = &self.verify {
            for d in &v.drifted {
                writeln!(out, "drifted {:<10} {} (edited in the app)", "", d.external_id)?;
                for f in &d.fields {
                    let show =
                        |v: &Option<String>| v.as_ref().map(|s| format!("{s:?}")).unwrap_or_else(|| "(empty)".into());
                    writeln!(out, "{:19}{}: synced {}, now {}", "", f.field, show(&f.synced), show(&f.now))?;
                }
            }
            for ext in &v.missing {
                writeln!(out, "missing {:<10} {ext} (deleted in the app)", "")?;
            }
            writeln!(
                out,
                "Verified {} contacts: {} edited in the app, {} deleted there.",
                v.checked,
                v.drifted.len(),
                v.missing.len()
            )?;
        }
        for e in &self.errors {
            let row = e.row.map(|r| format!("row {r}: ")).unwrap_or_default();
            let id = e.external_id.as_deref().map(|i| format!("{i}: ")).unwrap_or_default();
            writeln!(out, "error   {row}{id}{}", e.message)?;
        }
        for n in &self.notes {
            writeln!(out, "note    {n}")?;
        }
        let p = &self.planned;
        writeln!(
            out,
            "{} rows read, {} invalid. Plan: {} to create, {} to update, {} to delete, {} unchanged.",
            self.source_rows, self.invalid_rows, p.create, p.update, p.delete, p.unchanged
        )?;
        match self.mode {
            Mode::DryRun => writeln!(out, "Dry run: nothing was written to OpenPhone or the mirror.")?,
            Mode::Apply => {
                let a = &self.applied;
                writeln!(
                    out,
                    "Applied: {} created ({} adopted), {} updated, {} deleted; {} failed. {} API requests in {:.1} s.",
                    a.create,
                    self.adopted,
                    a.update,
                    a.delete,
                    self.failed,
                    self.api_requests,
                    self.duration_ms as f64 / 1000.0
                )?;
            }
        }
        if let Some(f) = &self.fatal {
            writeln!(out, "Stopped: {f}")?;
        }
        Ok(())
    }
}
