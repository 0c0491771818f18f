//! No credential ever shows: every error path (a refused key, 403, 500s, timeouts, a body
//! refused with 400, a bad config, a sheet not shared, a key Google refuses) and the daemon,
//! run at the most verbose level (`-vv` and `RUST_LOG=trace`) in text and JSON logs, print
//! neither the API key nor the service account's private key, signed JWT grant or access
//! token, nor any line of the key's base64. And a key file others can read is warned about.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::support::fake_google::{self, FakeGoogle, Tab, text_row};
use crate::support::fake_openphone::{Fault, FaultRule};
use crate::support::{HEADER, Run, Workspace, wait_until};

const SHEET_ID: &str = "1SecretsSheet";
const REFUSED_KEY: &str = "sk-refused-9f8e7d6c5b4a39281706";

/// Everything a log must not hold, each with what it is.
fn credentials(ws: &Workspace, google: &FakeGoogle) -> Vec<(String, String)> {
    let mut out = vec![("the API key".to_owned(), ws.api_key.clone()), ("a refused key".into(), REFUSED_KEY.into())];
    for (name, pem) in [("test key", fake_google::TEST_KEY_PEM), ("other key", fake_google::OTHER_KEY_PEM)] {
        out.push((format!("the {name} PEM"), pem.trim().to_owned()));
        for line in pem.lines().filter(|l| !l.starts_with("-----") && l.len() >= 32) {
            out.push((format!("a line of the {name}'s base64"), line.to_owned()));
        }
    }
    for g in google.grants() {
        out.push(("a signed JWT grant".into(), g.assertion.clone()));
        let signature = g.assertion.rsplit('.').next().unwrap_or_default().to_owned();
        out.push(("a JWT signature".into(), signature));
    }
    for t in google.tokens() {
        out.push(("an access token".into(), t));
    }
    out
}

fn sheet_rows(n: usize) -> Vec<Vec<fake_google::Cell>> {
    let mut rows = vec![text_row(&HEADER.split(',').collect::<Vec<_>>())];
    for i in 1..=n {
        let r = crate::support::row(i);
        rows.push(text_row(&r.split(',').collect::<Vec<_>>()));
    }
    rows
}

/// A workspace syncing from a fake sheet of `n` rows.
async fn sheet_workspace(n: usize) -> (Workspace, FakeGoogle) {
    let ws = Workspace::new().await;
    let google = FakeGoogle::start().await;
    google.add_spreadsheet(SHEET_ID, vec![Tab::new(0, "Contacts", sheet_rows(n))]);
    ws.use_sheet(&google, SHEET_ID, "Contacts!A1:K", "");
    (ws, google)
}

/// Every output of the binary so far, with how it was made.
#[derive(Default)]
struct Outputs(Vec<(String, String)>);

impl Outputs {
    /// Runs `args` at the most verbose level in both log formats; returns the two runs.
    async fn run(&mut self, ws: &Workspace, args: &[&str], key: Option<&str>) -> Vec<Run> {
        let mut runs = vec![];
        for format in ["text", "json"] {
            let mut full = vec!["-vv", "--log-format", format];
            full.extend_from_slice(args);
            let mut cmd = ws.command(&full, key);
            cmd.env("RUST_LOG", "trace");
            let run = ws.output(cmd).await;
            self.0.push((format!("{args:?} ({format})"), format!("{}\n{}", run.stdout, run.stderr)));
            runs.push(run);
        }
        runs
    }

    /// Asserts that no output holds any of `credentials`.
    fn assert_clean(&self, credentials: &[(String, String)]) {
        assert!(credentials.len() > 20, "the credentials to look for: {}", credentials.len());
        for (how, text) in &self.0 {
            for (what, secret) in credentials {
                assert!(!text.contains(secret.as_str()), "{what} shows in the output of {how}:\n{text}");
            }
        }
    }
}

fn fail_all(status: u16) -> FaultRule {
    FaultRule {
        method: None,
        path_prefix: Some("/v1/".into()),
        fault: Fault::FailBeforeApply { status },
        times: 1000,
        probability: None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_openphone_error_path_shows_a_credential() {
    let (ws, google) = sheet_workspace(2).await;
    let mut out = Outputs::default();
    // The most verbose log is on, libraries included.
    let ok = out.run(&ws, &["sync", "--output", "json"], Some(&ws.api_key)).await;
    assert_eq!(ok[0].code, 0, "{}", ok[0].stderr);
    assert!(ok[0].stderr.contains("TRACE") && ok[0].stderr.contains("hyper"), "{}", ok[0].stderr);
    assert!(ok[1].stderr.contains("\"level\":\"TRACE\""), "{}", ok[1].stderr);

    // 401: a refused key.
    for run in out.run(&ws, &["sync"], Some(REFUSED_KEY)).await {
        assert_eq!(run.code, 4, "{}", run.stderr);
    }
    out.run(&ws, &["check"], Some(REFUSED_KEY)).await;
    out.run(&ws, &["fields"], Some(REFUSED_KEY)).await;
    // The key from a key file rather than the environment.
    ws.write("api-key", &ws.api_key);
    ws.use_sheet(&google, SHEET_ID, "Contacts!A1:K", "");
    let config = std::fs::read_to_string(ws.path("config.toml")).unwrap();
    ws.write("config.toml", &config.replace("[openphone]\n", "[openphone]\napi_key_file = \"api-key\"\n"));
    out.run(&ws, &["check"], None).await;

    // 403, 500s (retried), and a body refused with 400.
    for status in [403, 500] {
        ws.fake.add_fault(fail_all(status));
        for run in out.run(&ws, &["sync"], None).await {
            assert_eq!(run.code, 4, "{status}: {}", run.stderr);
        }
        ws.fake.clear_faults();
    }
    google.set_rows(SHEET_ID, "Contacts", sheet_rows(3));
    ws.fake.add_fault(FaultRule { method: Some("POST".into()), ..fail_all(400) });
    for run in out.run(&ws, &["sync"], None).await {
        assert_eq!(run.code, 1, "{}", run.stderr);
    }
    ws.fake.clear_faults();

    // Timeouts.
    let config = std::fs::read_to_string(ws.path("config.toml")).unwrap();
    ws.write(
        "config.toml",
        &config.replace("timeout_seconds = 2", "timeout_seconds = 0.3").replace("max_retries = 4", "max_retries = 0"),
    );
    ws.fake.add_fault(FaultRule { fault: Fault::HangBeforeApply, ..fail_all(0) });
    for run in out.run(&ws, &["sync"], None).await {
        assert_eq!(run.code, 4, "{}", run.stderr);
    }
    out.assert_clean(&credentials(&ws, &google));
}

#[tokio::test(flavor = "multi_thread")]
async fn no_config_or_sheet_error_path_shows_a_credential() {
    let (ws, google) = sheet_workspace(2).await;
    let mut out = Outputs::default();
    let key = Some(ws.api_key.as_str());

    // A bad config: an unknown key, then a key file whose private key is broken.
    let good = std::fs::read_to_string(ws.path("config.toml")).unwrap();
    ws.write("config.toml", &good.replace("[sync]\n", "[sync]\nsecret_thing = 1\n"));
    for run in out.run(&ws, &["sync"], key).await {
        assert_eq!(run.code, 2, "{}", run.stderr);
    }
    ws.write("config.toml", &good);
    let mut broken: Vec<&str> = fake_google::TEST_KEY_PEM.lines().collect();
    broken.remove(5);
    broken[6] = "not base64 at all!";
    ws.write("service-account.json", &google.key_json(&broken.join("\n"), fake_google::CLIENT_EMAIL));
    for run in out.run(&ws, &["check", "--offline"], key).await {
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains("is not a PEM RSA private key"), "{}", run.stderr);
    }

    // A key Google does not know (the grant is refused), then a sheet not shared.
    ws.use_sheet(&google, SHEET_ID, "Contacts!A1:K", "");
    ws.write("service-account.json", &google.key_json(fake_google::OTHER_KEY_PEM, fake_google::CLIENT_EMAIL));
    for run in out.run(&ws, &["sync"], key).await {
        assert_ne!(run.code, 0, "{}", run.stderr);
    }
    ws.use_sheet(&google, SHEET_ID, "Contacts!A1:K", "");
    google.unshare(SHEET_ID, fake_google::CLIENT_EMAIL);
    for run in out.run(&ws, &["sync"], key).await {
        assert_eq!(run.code, 4, "{}", run.stderr);
        assert!(run.stderr.contains("share"), "{}", run.stderr);
    }
    out.run(&ws, &["check"], key).await;
    assert!(google.grants().len() >= 4, "grants were made: {:?}", google.grants().len());
    assert!(google.grants().iter().any(|g| !g.signature_ok), "a refused grant was tried");
    out.assert_clean(&credentials(&ws, &google));
}

/// Starts the daemon, waits until it has logged `runs` finished syncs, stops it; returns its
/// exit code and output (stdout, then stderr).
async fn daemon(ws: &Workspace, args: &[&str], env: &[(&str, &str)], runs: usize) -> (i32, String) {
    let mut cmd = ws.command(args, Some(&ws.api_key));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start the daemon");
    let log = Arc::new(Mutex::new(String::new()));
    let reader = {
        let (sink, stderr) = (log.clone(), child.stderr.take().unwrap());
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        })
    };
    let finished = || log.lock().unwrap().matches("Sync finished").count() >= runs;
    let ran = wait_until(Duration::from_secs(30), finished).await;
    assert!(ran, "the daemon did not finish {runs} runs within 30 s:\n{}", log.lock().unwrap());
    assert_eq!(unsafe { libc::kill(child.id().unwrap() as i32, libc::SIGTERM) }, 0);
    let out = tokio::time::timeout(Duration::from_secs(15), child.wait_with_output())
        .await
        .expect("the daemon stops within 15 s")
        .unwrap();
    reader.await.expect("the stderr reader");
    let text = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), log.lock().unwrap());
    (out.status.code().unwrap_or(-1), text)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_shows_no_credential() {
    let (ws, google) = sheet_workspace(2).await;
    ws.append_config("[schedule]\ncron = \"* * * * * *\"\n");
    let mut out = Outputs::default();
    for format in ["text", "json"] {
        let (code, text) = daemon(&ws, &["-vv", "--log-format", format, "daemon"], &[("RUST_LOG", "trace")], 2).await;
        assert_eq!(code, 0, "{text}");
        assert!(text.contains("Sync finished"), "{text}");
        out.0.push((format!("daemon ({format})"), text));
    }
    assert!(google.grants().len() >= 2, "each run got a token");
    out.assert_clean(&credentials(&ws, &google));
}

/// The JSON log lines of `text` that warn about `file`'s mode.
fn mode_warnings(text: &str, file: &str) -> Vec<Value> {
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["level"] == "WARN" && v["file"] == file)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn key_files_others_can_read_are_warned_about() {
    use std::os::unix::fs::PermissionsExt;
    let (ws, _google) = sheet_workspace(2).await;
    ws.write("api-key", &ws.api_key);
    let config = std::fs::read_to_string(ws.path("config.toml")).unwrap();
    ws.write("config.toml", &config.replace("[openphone]\n", "[openphone]\napi_key_file = \"api-key\"\n"));
    ws.append_config("[schedule]\ncron = \"* * * * * *\"\n");
    let files = [(ws.path("api-key"), 0o644), (ws.path("service-account.json"), 0o640)];
    for (f, mode) in &files {
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(*mode)).unwrap();
    }
    let json = ["--log-format", "json"];
    let check = ws.run_with_key(&[&json[..], &["check"]].concat(), None).await;
    assert_eq!(check.code, 0, "{}", check.stderr);
    let sync = ws.run_with_key(&[&json[..], &["sync"]].concat(), None).await;
    assert_eq!(sync.code, 0, "{}", sync.stderr);
    let (code, daemon_log) = daemon(&ws, &["--log-format", "json", "daemon"], &[("OPENPHONE_API_KEY", "")], 1).await;
    assert_eq!(code, 0, "{daemon_log}");
    for (command, text) in [("check", &check.stderr), ("sync", &sync.stderr), ("daemon", &daemon_log)] {
        for (file, mode) in &files {
            let shown = file.display().to_string();
            let warnings = mode_warnings(text, &shown);
            let w = warnings.first().unwrap_or_else(|| panic!("{command}: no warning about {shown}:\n{text}"));
            assert_eq!(w["mode"], format!("{mode:04o}"), "{command}: {w}");
            assert!(w["message"].as_str().unwrap().contains("chmod 600"), "{command}: {w}");
        }
    }
    // Once private, no more warning.
    for (f, _) in &files {
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let sync = ws.run_with_key(&[&json[..], &["sync"]].concat(), None).await;
    assert_eq!(sync.code, 0, "{}", sync.stderr);
    for (file, _) in &files {
        assert!(mode_warnings(&sync.stderr, &file.display().to_string()).is_empty(), "{}", sync.stderr);
    }
}
