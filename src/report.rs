//! The run report: the JSON object of `sync --output json` (shape fixed by
//! `docs/cli.md`, extra keys added), its text rendering, and the exit code it implies.

use std::io::Write;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::exit::Exit;
use crate::mapping::Warning;
use crate::mapping::convert::shown;
use crate::mapping::warning::group;
use crate::model::{ContactState, FieldType, Scalar};
use crate::openphone::client::StatsSnapshot;
use crate::outcome::{Mode, Outcome};
use crate::plan::{Action, Applied, Plan, Planned, RecordError};

/// One planned change, for the dry-run listing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedChange {
    pub action: Action,
    pub row: Option<u64>,
    pub external_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<String>,
    /// A create: the contact as it would be sent, field by field (dry run).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldValue>,
}

/// One field of a contact a dry run would create: emails and phones as sent (E.164), custom
/// values as the API value with the field's type.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldValue {
    pub field: String,
    pub value: serde_json::Value,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub field_type: Option<&'static str>,
}

impl FieldValue {
    /// The fields of `state` that a create would send; `types` gives custom fields' types.
    fn of(state: &ContactState, types: &BTreeMap<String, FieldType>) -> Vec<FieldValue> {
        let text = |field: &str, v: &Option<String>| {
            v.as_ref().map(|v| FieldValue { field: field.to_owned(), value: v.clone().into(), field_type: None })
        };
        let mut out: Vec<FieldValue> =
            Scalar::DEFAULT_FIELDS.into_iter().filter_map(|s| text(s.name(), s.of(state))).collect();
        for (list, slots) in [("emails", &state.emails), ("phone_numbers", &state.phones)] {
            out.extend(slots.iter().filter_map(|s| text(&format!("{list}[{}]", s.label), &s.value)));
        }
        out.extend(state.custom.iter().filter(|(_, v)| !v.is_null()).map(|(key, value)| FieldValue {
            field: format!("custom[{key}]"),
            value: value.clone(),
            field_type: types.get(key).map(|t| t.as_str()),
        }));
        out.extend(text(Scalar::SourceUrl.name(), &state.source_url));
        out
    }
}

/// A record whose row is missing, deleted at `due` unless the row comes back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PendingDeletion {
    pub external_id: String,
    pub missing_since: String,
    pub due: String,
}

/// What `sync --verify` found: contacts edited in the app (each field with what was
/// synced and what OpenPhone holds now) and contacts deleted there.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerifyReport {
    pub checked: u64,
    pub drifted: Vec<DriftedContact>,
    pub missing: Vec<String>,
}

/// A contact edited in the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DriftedContact {
    pub external_id: String,
    pub contact_id: String,
    pub fields: Vec<DriftedField>,
}

/// One field that no longer holds what this tool wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DriftedField {
    pub field: String,
    /// What this tool last wrote.
    pub synced: Option<String>,
    /// What OpenPhone holds now.
    pub now: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub mode: Mode,
    /// The run's number in the mirror (apply mode): `restore --run N` takes it.
    pub run_id: Option<i64>,
    pub source_rows: u64,
    pub invalid_rows: u64,
    /// Of `invalid_rows`, those the last apply run found invalid in the same way (same
    /// external id, or row number when there is none, and same message): they do not make
    /// the run `partial` again.
    pub known_invalid_rows: u64,
    /// Rows synced without some of their values (`on_invalid = "drop_value"`); they do not
    /// change the outcome or the exit code.
    pub warning_rows: u64,
    pub planned: Planned,
    pub applied: Applied,
    /// Records that failed this run (each has one error in `errors`, with its action).
    pub failed: u64,
    /// Records left for the next run because the run was told to stop. Every planned
    /// create, update and delete is counted once: applied, failed or stopped.
    pub stopped: u64,
    pub errors: Vec<RecordError>,
    /// One entry per value left out of a row that synced: row, external id, column,
    /// reason, value and the whole message. The text report groups them by column and reason.
    pub warnings: Vec<Warning>,
    pub api_requests: u64,
    pub duration_ms: u64,
    pub outcome: Outcome,
    /// Why the run stopped or was refused, when it did.
    pub fatal: Option<String>,
    /// Creates that found their contact already in OpenPhone and adopted it.
    pub adopted: u64,
    /// Planned updates that found the contact already as wanted, so sent nothing: not
    /// counted in `applied.update`. planned = applied + already_in_sync + already_gone +
    /// failed + stopped.
    pub already_in_sync: u64,
    /// Planned deletes that found the contact gone already (deleted in the app, or by a run
    /// killed after its DELETE), so sent nothing: not counted in `applied.delete`.
    pub already_gone: u64,
    /// Checks this run could not make, and other things worth knowing.
    pub notes: Vec<String>,
    /// Settings the source suggests changing: a phone column whose numbers were mostly
    /// refused in `[phone] default_region`, with the region that reads them.
    pub hints: Vec<String>,
    /// The plan, record by record (dry runs only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<PlannedChange>,
    /// What `sync --verify` found, when asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify: Option<VerifyReport>,
    /// Records whose row is missing and whose contact will be deleted at `due` unless the
    /// row comes back (`[sync].delete_after`), soonest first.
    pub pending_deletion: Vec<PendingDeletion>,
    /// Contacts `restore` brought back whose row is still missing: kept until `forget`.
    pub kept_restored: Vec<String>,
    /// The client's counters (replies by status, 429s, time waited), for metrics.
    #[serde(skip)]
    pub api: StatsSnapshot,
}

/// The plan as every report shows it: its counts, the deletes to come and the contacts
/// kept after a restore.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanShown {
    pub planned: Planned,
    pub pending_deletion: Vec<PendingDeletion>,
    pub kept_restored: Vec<String>,
}

impl PlanShown {
    pub fn of(plan: &Plan) -> PlanShown {
        let at = crate::clock::format_millis;
        PlanShown {
            planned: Planned {
                create: plan.creates.len() as u64,
                update: plan.updates.len() as u64,
                delete: plan.deletes.len() as u64,
                unchanged: plan.unchanged as u64,
            },
            pending_deletion: plan
                .pending_deletes
                .iter()
                .map(|d| PendingDeletion {
                    external_id: d.external_id.clone(),
                    missing_since: at(d.missing_since),
                    due: at(d.due),
                })
                .collect(),
            kept_restored: plan.kept_restored.clone(),
        }
    }
}

/// The plan record by record (a dry run's, or the deletes a guard refused), with the notes
/// that go with the listing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Listing {
    pub changes: Vec<PlannedChange>,
    pub notes: Vec<String>,
}

impl Listing {
    /// Lists the plan record by record.
    pub fn of(plan: &Plan) -> Listing {
        let c = plan.creates.iter().map(|c| PlannedChange {
            action: Action::Create,
            row: Some(c.row),
            external_id: c.external_id.clone(),
            changes: vec![],
            fields: vec![],
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
            fields: vec![],
        });
        let d = plan.deletes.iter().map(|d| PlannedChange {
            action: Action::Delete,
            row: None,
            external_id: d.external_id.clone(),
            changes: vec![],
            fields: vec![],
        });
        Listing { changes: c.chain(u).chain(d).collect(), notes: vec![] }
    }

    /// Shows each create of the listing as the contact it would send (dry run).
    pub fn show_creates(&mut self, plan: &Plan, types: &BTreeMap<String, FieldType>) {
        let creates = self.changes.iter_mut().filter(|c| c.action == Action::Create);
        for (change, create) in creates.zip(&plan.creates) {
            change.fields = FieldValue::of(&create.state, types);
        }
    }

    /// Narrows the listing to one record (`--record`) and its first `limit` entries
    /// (`--limit`); the counts stay those of the whole plan.
    pub fn narrow(&mut self, limit: Option<usize>, record: Option<&str>) {
        if let Some(id) = record {
            self.changes.retain(|c| c.external_id == id);
            if self.changes.is_empty() {
                self.notes.push(format!("--record {id:?}: no change planned for this external id"));
            }
        }
        if let Some(limit) = limit.filter(|l| *l < self.changes.len()) {
            self.notes.push(format!("showing the first {limit} of {} planned changes (--limit)", self.changes.len()));
            self.changes.truncate(limit);
        }
    }
}

impl Report {
    pub fn new(mode: Mode) -> Report {
        Report {
            mode,
            run_id: None,
            source_rows: 0,
            invalid_rows: 0,
            known_invalid_rows: 0,
            warning_rows: 0,
            planned: Planned::default(),
            applied: Applied::default(),
            failed: 0,
            stopped: 0,
            errors: Vec::new(),
            warnings: Vec::new(),
            api_requests: 0,
            duration_ms: 0,
            outcome: Outcome::Ok,
            fatal: None,
            adopted: 0,
            already_in_sync: 0,
            already_gone: 0,
            notes: Vec::new(),
            hints: Vec::new(),
            changes: Vec::new(),
            verify: None,
            pending_deletion: Vec::new(),
            kept_restored: Vec::new(),
            api: StatsSnapshot::default(),
        }
    }

    /// Whether this run read the mirrored contacts back (a verify that an outage cut short
    /// does not count).
    pub fn verified(&self) -> bool {
        self.verify.is_some() && self.outcome != Outcome::Unavailable
    }

    /// Sets the outcome from what was counted; call once at the end. Invalid rows known
    /// from the last run do not make it `partial`: only new ones and failed writes do.
    pub fn settle(&mut self) {
        if self.outcome == Outcome::Ok && (self.invalid_rows > self.known_invalid_rows || self.failed > 0) {
            self.outcome = Outcome::Partial;
        }
    }

    pub fn exit(&self) -> Exit {
        self.outcome.exit()
    }

    pub fn write_json(&self, out: &mut impl Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, self)?;
        writeln!(out)
    }

    pub fn write_text(&self, out: &mut impl Write) -> std::io::Result<()> {
        self.write_text_with(out, WarningView::Grouped)
    }

    /// The text report, its warnings shown as `warnings` says.
    pub fn write_text_with(&self, out: &mut impl Write, warnings: WarningView) -> std::io::Result<()> {
        for c in &self.changes {
            let action = c.action.as_str();
            let row = c.row.map(|r| format!("row {r}")).unwrap_or_default();
            writeln!(out, "{action:<7} {row:<10} {}", c.external_id)?;
            for change in &c.changes {
                writeln!(out, "{:19}{change}", "")?;
            }
            for f in &c.fields {
                let ty = f.field_type.map(|t| format!(" ({t})")).unwrap_or_default();
                writeln!(out, "{:19}{}{ty}: {}", "", f.field, f.value)?;
            }
        }
        if let Some(v) = &self.verify {
            for d in &v.drifted {
                writeln!(out, "drifted {:<10} {} (edited in the app)", "", d.external_id)?;
                for f in &d.fields {
                    let show = |v: &Option<String>| v.as_ref().map_or_else(|| "(empty)".into(), |s| format!("{s:?}"));
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
        const SHOWN: usize = 20;
        for d in self.pending_deletion.iter().take(SHOWN) {
            writeln!(
                out,
                "pending {:<10} {} (row missing since {}; deleted at {} unless it comes back)",
                "", d.external_id, d.missing_since, d.due
            )?;
        }
        if self.pending_deletion.len() > SHOWN {
            writeln!(
                out,
                "pending {:<10} … and {} more (--output json lists them all)",
                "",
                self.pending_deletion.len() - SHOWN
            )?;
        }
        for ext in &self.kept_restored {
            writeln!(out, "kept    {:<10} {ext} (restored while its row is missing; `forget` lets it go)", "")?;
        }
        for e in &self.errors {
            let row = e.row.map(|r| format!("row {r}: ")).unwrap_or_default();
            let id = e.external_id.as_deref().map(|i| format!("{i}: ")).unwrap_or_default();
            writeln!(out, "error   {row}{id}{}", e.message)?;
        }
        for (tag, line) in warning_lines(&self.warnings, warnings) {
            writeln!(out, "{tag:<7} {line}")?;
        }
        for n in &self.notes {
            writeln!(out, "note    {n}")?;
        }
        for h in &self.hints {
            writeln!(out, "hint    {h}")?;
        }
        let p = &self.planned;
        writeln!(
            out,
            "{} rows read, {} invalid ({} known from the last run), {} with warnings. Plan: {} to create, {} to update, {} to delete, {} unchanged.",
            self.source_rows,
            self.invalid_rows,
            self.known_invalid_rows,
            self.warning_rows,
            p.create,
            p.update,
            p.delete,
            p.unchanged
        )?;
        match self.mode {
            Mode::DryRun => writeln!(out, "Dry run: nothing was written to OpenPhone or the mirror.")?,
            Mode::Apply => {
                let a = &self.applied;
                let in_sync = match (self.already_in_sync, self.already_gone) {
                    (0, 0) => String::new(),
                    (n, 0) => format!(", {n} already in sync (nothing sent)"),
                    (0, g) => format!(", {g} already gone (nothing sent)"),
                    (n, g) => format!(", {n} already in sync and {g} already gone (nothing sent)"),
                };
                writeln!(
                    out,
                    "Applied: {} created ({} adopted), {} updated, {} deleted{in_sync}; {} failed. {} API requests in {:.1} s.",
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

/// How the text output shows warnings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WarningView {
    /// One entry per column and reason, with its count and the first few rows (the default).
    #[default]
    Grouped,
    /// Every warning on its own line (`--all-warnings`).
    All,
}

impl WarningView {
    /// `All` when `--all-warnings` was given.
    pub fn all_if(all: bool) -> WarningView {
        if all { WarningView::All } else { WarningView::Grouped }
    }
}

/// Rows shown under a group of warnings.
const EXAMPLES: usize = 3;

/// The lines that show `warnings` to a person, each with its tag (`warning`, or empty for the
/// line of examples under a group): grouped by column and reason with a count and the first
/// `EXAMPLES` rows and values, or every one.
pub fn warning_lines(warnings: &[Warning], view: WarningView) -> Vec<(&'static str, String)> {
    if view == WarningView::All {
        return warnings
            .iter()
            .map(|w| {
                let id = w.external_id.as_deref().map(|i| format!("{i}: ")).unwrap_or_default();
                ("warning", format!("row {}: {id}{}", w.row, w.message))
            })
            .collect();
    }
    let mut lines = Vec::new();
    for g in group(warnings) {
        let n = g.warnings.len();
        let values = if n == 1 { "1 value".to_owned() } else { format!("{n} values") };
        lines.push(("warning", format!("column {:?}, {values}: {}", g.column, g.reason)));
        let mut examples: Vec<String> =
            g.warnings.iter().take(EXAMPLES).map(|w| format!("row {} {}", w.row, shown(&w.value))).collect();
        if n > EXAMPLES {
            examples.push(format!("and {} more (--all-warnings lists each)", n - EXAMPLES));
        }
        lines.push(("", examples.join(", ")));
    }
    lines
}
