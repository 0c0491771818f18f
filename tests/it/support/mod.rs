//! Test support: the fake OpenPhone API and a [`Workspace`] that writes a config, a mapping
//! and a CSV into a temporary folder and runs the real binary against the fake; the standard
//! contacts as CSV rows and as sheet rows; [`wait_until`].

#![allow(dead_code)]

pub(crate) mod fake_google;
pub(crate) mod fake_openphone;
pub(crate) mod in_process;
pub(crate) mod postgres;
pub(crate) mod rewriter;

use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use chrono::NaiveDate;
use serde_json::Value;

use fake_google::{Cell, FakeGoogle, text_row};
use fake_openphone::{CustomFieldDef, FakeOpenPhone, FakeOptions};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_openphone-sync");

/// The key of the workspace's "Notes" custom field, which no mapping maps.
pub(crate) const NOTES_FIELD: &str = "66aa00000000000000000006";

/// The custom fields every test workspace has.
pub(crate) fn standard_fields() -> Vec<CustomFieldDef> {
    let def =
        |name: &str, key: &str, ty: &str| CustomFieldDef { name: name.into(), key: key.into(), field_type: ty.into() };
    vec![
        def("Lead Source", "66aa00000000000000000001", "string"),
        def("VIP", "66aa00000000000000000002", "boolean"),
        def("Score", "66aa00000000000000000003", "number"),
        def("Renewal", "66aa00000000000000000004", "date"),
        def("Interests", "66aa00000000000000000005", "multi-select"),
        // Not in the standard mapping: only ever set in the app.
        def("Notes", NOTES_FIELD, "string"),
    ]
}

pub(crate) const HEADER: &str = "ID,First Name,Last Name,Company,Email,Mobile,Source,VIP,Score,Renewal,Interests";

pub(crate) const MAPPING: &str = r#"
external_id = "ID"

[default_fields]
first_name = "First Name"
last_name  = "Last Name"
company    = "Company"

[[emails]]
label  = "work"
column = "Email"

[[phone_numbers]]
label  = "mobile"
column = "Mobile"

[phone]
default_region = "US"

[[custom_fields]]
name   = "Lead Source"
column = "Source"

[[custom_fields]]
name   = "VIP"
column = "VIP"

[[custom_fields]]
name   = "Score"
column = "Score"

[[custom_fields]]
name   = "Renewal"
column = "Renewal"

[[custom_fields]]
name   = "Interests"
column = "Interests"
"#;

/// [`MAPPING`] with `on_invalid = "skip_row"` on every email, phone and custom field: a bad
/// value fails its row instead of being left out.
pub(crate) fn strict_mapping() -> String {
    let lines: Vec<String> = MAPPING
        .lines()
        .map(|l| if l.starts_with("column = ") { format!("{l}\non_invalid = \"skip_row\"") } else { l.to_owned() })
        .collect();
    lines.join("\n")
}

/// A row of the standard CSV for contact `n`: valid, distinct values.
pub(crate) fn row(n: usize) -> String {
    format!(
        "C-{n:04},First{n},Last{n},Company {n},user{n}@example.com,+1 201 555 {:04},Referral,yes,{n},2025-01-{:02},a;b",
        n % 10000,
        1 + n % 28
    )
}

/// A date cell for 2025-01-`day`, shown the way a US-locale sheet shows it.
pub(crate) fn date_cell(day: u32, hours: f64) -> Cell {
    let days = (NaiveDate::from_ymd_opt(2025, 1, day).unwrap() - NaiveDate::from_ymd_opt(1899, 12, 30).unwrap())
        .num_days() as f64;
    Cell::Date { serial: days + hours / 24.0, shown: format!("1/{day}/2025") }
}

/// The standard header as a sheet row.
pub(crate) fn header_cells() -> Vec<Cell> {
    text_row(&HEADER.split(',').collect::<Vec<_>>())
}

/// Contact `n` as a sheet user types it: the same data as [`row`], but the phone and
/// the score typed as numbers, the renewal a date cell, VIP a checkbox.
pub(crate) fn sheet_row(n: usize) -> Vec<Cell> {
    let text = |s: String| Cell::Text(s);
    vec![
        text(format!("C-{n:04}")),
        text(format!("First{n}")),
        text(format!("Last{n}")),
        text(format!("Company {n}")),
        text(format!("user{n}@example.com")),
        Cell::Number(12_015_550_000.0 + (n % 10000) as f64),
        text("Referral".into()),
        Cell::Bool(true),
        Cell::Number(n as f64),
        date_cell(1 + (n % 28) as u32, 0.0),
        text("a;b".into()),
    ]
}

/// Pins `text` as `tests/it/snapshots/<name>.snap` (insta), with what changes from run to run
/// shown as placeholders: times (`[time]`) and OpenPhone contact ids (`contact [id]`).
pub(crate) fn snapshot(name: &str, text: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", "[time]");
    settings.add_filter(r"contact [0-9a-f]{24}\b", "contact [id]");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/snapshots"));
    settings.bind(|| insta::assert_snapshot!(name, text));
}

/// Polls `cond` every 10 ms until it holds or `timeout` passes; returns whether it held.
/// Tests wait for what they need this way (`assert!(wait_until(..).await, "what")`), never
/// for a fixed time.
pub(crate) async fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The result of one run of the binary.
#[derive(Debug)]
pub(crate) struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub(crate) fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// The JSON report on stdout. Every applied run's report is checked to account for
    /// each planned record once: applied, failed (with one error naming its action) or
    /// stopped; never both applied and failed.
    pub(crate) fn report(&self) -> Value {
        let report: Value = serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("stdout is not a JSON report ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr)
        });
        assert_accounts_for_every_record(&report);
        report
    }
}

/// planned = applied + already_in_sync + already_gone + failed + stopped, counts and errors
/// alike (apply mode, not refused).
pub(crate) fn assert_accounts_for_every_record(report: &Value) {
    if report["mode"] != "apply" || report["outcome"] == "refused" {
        return;
    }
    let n = |v: &Value| v.as_u64().unwrap_or_else(|| panic!("not a count: {v} in {report}"));
    let sum = |o: &Value| ["create", "update", "delete"].iter().map(|k| n(&o[*k])).sum::<u64>();
    let (planned, applied) = (sum(&report["planned"]), sum(&report["applied"]));
    let (failed, stopped) = (n(&report["failed"]), n(&report["stopped"]));
    let in_sync = n(&report["already_in_sync"]) + n(&report["already_gone"]);
    assert_eq!(
        planned,
        applied + in_sync + failed + stopped,
        "planned ≠ applied + already_in_sync + already_gone + failed + stopped: {report:#}"
    );
    let write_errors = report["errors"].as_array().unwrap().iter().filter(|e| !e["action"].is_null()).count();
    assert_eq!(write_errors as u64, failed, "one error per failed record: {report:#}");
    for e in report["errors"].as_array().unwrap().iter().filter(|e| !e["action"].is_null() && e["action"] != "delete") {
        assert!(e["row"].is_u64(), "a failed create or update names its row: {e}");
    }
}

/// A temporary folder with a config, a mapping and a CSV, wired to a fake workspace.
pub(crate) struct Workspace {
    pub dir: tempfile::TempDir,
    pub fake: FakeOpenPhone,
    pub api_key: String,
    /// How long one run of the binary may take before the test fails.
    pub run_timeout: Duration,
}

impl Workspace {
    /// Starts `sync` with the fake slowed down, kills it once 10 contacts exist, and checks the
    /// kill landed mid-run (some but not all of `total` created); the fake's latency is back to
    /// zero after.
    pub(crate) async fn kill_sync_mid_run(&self, total: usize) {
        self.fake.set_latency(Duration::from_millis(150));
        let mut child = self
            .command(&["sync", "--output", "json"], Some(&self.api_key))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        assert!(
            wait_until(Duration::from_secs(10), || self.fake.contacts().len() >= 10).await,
            "no 10 creates in 10 s"
        );
        child.start_kill().unwrap();
        child.wait().await.unwrap();
        let partial = self.fake.contacts().len();
        assert!((1..total).contains(&partial), "the kill should land mid-run ({partial} contacts)");
        self.fake.set_latency(Duration::ZERO);
    }

    /// A fake workspace with the standard custom fields and no rate limit; the config
    /// points at it.
    pub(crate) async fn new() -> Workspace {
        Workspace::with(FakeOptions { custom_fields: standard_fields(), ..FakeOptions::default() }).await
    }

    pub(crate) async fn with(opts: FakeOptions) -> Workspace {
        let fake = FakeOpenPhone::start(opts).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let ws = Workspace { api_key: fake.api_key(), dir, fake, run_timeout: Duration::from_mins(2) };
        ws.write_config("");
        ws.write("mapping.toml", MAPPING);
        ws.write_rows(&[]);
        ws
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub(crate) fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path(name), text).expect("write");
    }

    /// Writes config.toml; `extra_openphone` goes into the [openphone] table (its keys
    /// replace the test defaults `timeout_seconds = 2`, `max_retries = 4`).
    pub(crate) fn write_config(&self, extra_openphone: &str) {
        self.write_config_with_source(extra_openphone, "type = \"csv\"\npath = \"contacts.csv\"\n");
    }

    /// Like [`Workspace::write_config`], with `source` as the body of the [source] table.
    pub(crate) fn write_config_with_source(&self, extra_openphone: &str, source: &str) {
        let mut defaults = String::new();
        for (key, line) in [("timeout_seconds", "timeout_seconds = 2\n"), ("max_retries", "max_retries = 4\n")] {
            if !extra_openphone.contains(key) {
                defaults.push_str(line);
            }
        }
        self.write(
            "config.toml",
            &format!(
                "[openphone]\nbase_url = \"{}\"\n{defaults}{extra_openphone}\n\n[state]\ndatabase = \"mirror.sqlite3\"\n\n[source]\n{source}\n[sync]\nmapping = \"mapping.toml\"\ndelete_missing = true\nmax_delete_fraction = 0.5\ndelete_after = \"0s\"\n",
                self.fake.base_url()
            ),
        );
    }

    /// Points the config at a Google Sheet served by `google`: writes `service-account.json`
    /// (the test key, `token_uri` at the fake) and a google_sheets [source] table;
    /// `extra_source` adds lines to that table.
    pub(crate) fn use_sheet(&self, google: &FakeGoogle, spreadsheet_id: &str, range: &str, extra_source: &str) {
        self.write("service-account.json", &google.key_json(fake_google::TEST_KEY_PEM, fake_google::CLIENT_EMAIL));
        self.write_config_with_source(
            "",
            &format!(
                "type = \"google_sheets\"\nspreadsheet_id = \"{spreadsheet_id}\"\nrange = \"{range}\"\nservice_account_key = \"service-account.json\"\napi_base_url = \"{}\"\n{extra_source}",
                google.api_base_url()
            ),
        );
    }

    /// Appends `text` (whole tables, e.g. `[schedule]`) to config.toml.
    pub(crate) fn append_config(&self, text: &str) {
        let mut config = std::fs::read_to_string(self.path("config.toml")).expect("config.toml");
        config.push('\n');
        config.push_str(text);
        self.write("config.toml", &config);
    }

    /// Writes contacts.csv: the standard header and these rows.
    pub(crate) fn write_rows(&self, rows: &[String]) {
        let mut text = format!("{HEADER}\n");
        for r in rows {
            text.push_str(r);
            text.push('\n');
        }
        self.write("contacts.csv", &text);
    }

    /// Writes rows 1..=n.
    pub(crate) fn write_n(&self, n: usize) {
        self.write_rows(&(1..=n).map(row).collect::<Vec<_>>());
    }

    /// Runs the binary with `args` (after `--config`), with the API key in the environment.
    pub(crate) async fn run(&self, args: &[&str]) -> Run {
        self.run_with_key(args, Some(&self.api_key)).await
    }

    pub(crate) async fn run_with_key(&self, args: &[&str], key: Option<&str>) -> Run {
        self.output(self.command(args, key)).await
    }

    /// Runs a command made by [`Workspace::command`] (and adjusted) to its end.
    pub(crate) async fn output(&self, mut cmd: tokio::process::Command) -> Run {
        let out = tokio::time::timeout(self.run_timeout, cmd.output())
            .await
            .expect("the binary finished within the run timeout")
            .expect("the binary ran");
        Run::from(out)
    }

    pub(crate) fn command(&self, args: &[&str], key: Option<&str>) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(BIN);
        cmd.arg("--config").arg(self.path("config.toml")).args(args);
        cmd.env_remove("OPENPHONE_API_KEY").env_remove("OPENPHONE_SYNC_CONFIG").env("RUST_LOG", "openphone_sync=debug");
        if let Some(k) = key {
            cmd.env("OPENPHONE_API_KEY", k);
        }
        cmd.kill_on_drop(true);
        cmd
    }

    /// `sync --output json`, asserting the exit code.
    pub(crate) async fn sync(&self, expect_code: i32) -> Value {
        let run = self.run(&["sync", "--output", "json"]).await;
        assert_eq!(run.code, expect_code, "exit code; stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
        run.report()
    }

    /// [`snapshot`], with this workspace's folder shown as `[dir]`, the fake's address as
    /// `[fake]` and durations as `[n] s`, `[n] ms` or `"..._ms": [n]`.
    pub(crate) fn snapshot(&self, name: &str, text: &str) {
        let mut settings = insta::Settings::clone_current();
        settings.add_filter(&regex::escape(&self.dir.path().display().to_string()), "[dir]");
        settings.add_filter(&regex::escape(self.fake.base_url().trim_end_matches('/')), "[fake]");
        // With the padding before them: a column of durations is as wide as its longest.
        settings.add_filter(r" *\b\d+(\.\d+)? ?(s|ms)\b", " [n] $2");
        settings.add_filter(r#""(\w+_ms)": \d+"#, r#""$1": [n]"#);
        settings.bind(|| snapshot(name, text));
    }

    /// The contacts in the fake workspace with the given external id.
    pub(crate) fn by_external_id(&self, id: &str) -> Vec<Value> {
        self.fake.contacts_with_external_id(id)
    }

    /// Asserts that the workspace holds exactly one contact per external id in `ids`, and no other.
    pub(crate) fn assert_exactly(&self, ids: &[String]) {
        let contacts = self.fake.contacts();
        let mut seen: Vec<String> =
            contacts.iter().map(|c| c["externalId"].as_str().unwrap_or("<none>").to_owned()).collect();
        seen.sort();
        let mut want = ids.to_vec();
        want.sort();
        assert_eq!(seen, want, "the workspace should hold exactly one contact per source row");
    }

    /// Asserts that the fake saw no request body that breaks the official spec.
    pub(crate) fn assert_spec_clean(&self) {
        let v = self.fake.spec_violations();
        assert!(v.is_empty(), "requests that break the spec: {v:#?}");
    }

    pub(crate) fn mirror_path(&self) -> PathBuf {
        self.path("mirror.sqlite3")
    }

    /// Asserts that the workspace holds exactly what one clean sync of the current source
    /// (same CSV, same mapping) gives in a fresh workspace with no fault: the same contacts
    /// with the same values, one per external id, nothing else.
    pub(crate) async fn assert_workspace_equals_source(&self) {
        let reference = Workspace::with(FakeOptions {
            custom_fields: standard_fields(),
            rate_limit: None,
            ..FakeOptions::default()
        })
        .await;
        reference.write_config("requests_per_second = 500\n");
        for file in ["contacts.csv", "mapping.toml"] {
            std::fs::copy(self.path(file), reference.path(file)).expect("copy into the reference workspace");
        }
        let run = reference.run(&["sync", "--output", "json"]).await;
        assert!(run.code == 0 || run.code == 1, "the reference sync failed: {}", run.stderr);
        // Only the fields the mapping controls: the app's values elsewhere are none of ours.
        let mapping: toml::Table = std::fs::read_to_string(self.path("mapping.toml")).unwrap().parse().unwrap();
        let mapped = |f: &str| mapping.get("default_fields").and_then(|t| t.get(f)).is_some();
        let mut unmapped = Vec::new();
        for (field, api) in
            [("first_name", "firstName"), ("last_name", "lastName"), ("company", "company"), ("role", "role")]
        {
            if !mapped(field) {
                unmapped.push(api);
            }
        }
        let strip = |mut m: std::collections::BTreeMap<String, Value>| {
            for v in m.values_mut() {
                for f in &unmapped {
                    v.as_object_mut().unwrap().remove(*f);
                }
            }
            m
        };
        let want = strip(normalized(&reference.fake.contacts()));
        let got = strip(normalized(&self.fake.contacts()));
        assert_eq!(got.len(), self.fake.contacts().len(), "two contacts share an external id");
        if got != want {
            let keys: std::collections::BTreeSet<&String> = got.keys().chain(want.keys()).collect();
            let diffs: Vec<String> = keys
                .into_iter()
                .filter(|k| got.get(*k) != want.get(*k))
                .take(5)
                .map(|k| format!("{k}:\n  workspace {:?}\n  source    {:?}", got.get(k), want.get(k)))
                .collect();
            panic!(
                "the workspace differs from the source ({} contacts vs {}):\n{}",
                got.len(),
                want.len(),
                diffs.join("\n")
            );
        }
    }
}

/// An email or phone list as sorted `(name, value)` pairs (ids left out).
pub(crate) fn named_items(v: &Value) -> Vec<(String, String)> {
    let mut list: Vec<(String, String)> = v
        .as_array()
        .map(|a| {
            a.iter()
                .map(|it| (it["name"].as_str().unwrap_or("").to_owned(), it["value"].as_str().unwrap_or("").to_owned()))
                .collect()
        })
        .unwrap_or_default();
    list.sort();
    list
}

/// Contacts by external id, without what OpenPhone assigns (ids, timestamps), items and
/// custom fields in a stable order.
pub(crate) fn normalized(contacts: &[Value]) -> std::collections::BTreeMap<String, Value> {
    contacts
        .iter()
        .map(|c| {
            let d = &c["defaultFields"];
            let mut custom: Vec<(String, String)> = c["customFields"]
                .as_array()
                .map(|a| {
                    a.iter().map(|f| (f["key"].as_str().unwrap_or("").to_owned(), f["value"].to_string())).collect()
                })
                .unwrap_or_default();
            custom.sort();
            let key = c["externalId"].as_str().unwrap_or("<none>").to_owned();
            let v = serde_json::json!({
                "source": c["source"], "sourceUrl": c["sourceUrl"],
                "firstName": d["firstName"], "lastName": d["lastName"], "company": d["company"], "role": d["role"],
                "emails": named_items(&d["emails"]), "phoneNumbers": named_items(&d["phoneNumbers"]), "custom": custom,
            });
            (key, v)
        })
        .collect()
}

/// External ids C-0001..C-n.
pub(crate) fn ids(range: impl IntoIterator<Item = usize>) -> Vec<String> {
    range.into_iter().map(|n| format!("C-{n:04}")).collect()
}

/// A custom field value of a contact, by key.
pub(crate) fn custom(contact: &Value, key: &str) -> Value {
    contact["customFields"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["key"] == key))
        .map_or(Value::Null, |c| c["value"].clone())
}
