//! `systemd/openphone-sync@.service`, run as systemd would run two of its instances: the
//! unit's settings are read from the file, `%i` and the other specifiers expanded for
//! `acme` and `globex`, the absolute paths moved under a temporary root, the credential
//! copied into a `$CREDENTIALS_DIRECTORY`, the state directory made, then `ExecStartPre=` (if
//! any) and `ExecStart=` run. Each instance syncs its own source into its own workspace, keeps
//! its own mirror and serves its own metrics.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::daemon::{Daemon, YEARLY};
use crate::metrics::{parse, scrape};
use crate::support::{BIN, Workspace, ids};

const UNIT: &str = "openphone-sync@.service";

/// The `[Service]` settings of a unit file, in order (a key may repeat).
fn service_settings(unit: &str) -> Vec<(String, String)> {
    let mut section = "";
    let mut out = Vec::new();
    for line in unit.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if line.starts_with('[') {
            section = line;
            continue;
        }
        assert!(!line.ends_with('\\'), "continued lines are not read here: {line}");
        if section == "[Service]" {
            let (k, v) = line.split_once('=').unwrap_or_else(|| panic!("not a setting: {line}"));
            out.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    out
}

/// `value` with the specifiers systemd expands for instance `instance` of the template
/// (systemd.unit(5), "Specifiers"). One this test does not emulate fails it, so the unit
/// cannot start using one unnoticed.
fn expand(value: &str, instance: &str) -> String {
    let prefix = UNIT.trim_end_matches("@.service");
    let mut out = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            // Plain instance names: the escaped and unescaped forms are the same.
            Some('i' | 'I') => out.push_str(instance),
            Some('p' | 'P') => out.push_str(prefix),
            Some('n') => {
                let _ = write!(out, "{prefix}@{instance}.service");
            }
            Some('N') => {
                let _ = write!(out, "{prefix}@{instance}");
            }
            Some('%') => out.push('%'),
            other => panic!("{UNIT} uses the specifier %{other:?}, which this test does not expand: {value}"),
        }
    }
    out
}

/// `abs` (an absolute path in the unit) under the test's root folder.
fn under(root: &Path, abs: &str) -> PathBuf {
    assert!(abs.starts_with('/'), "not an absolute path: {abs}");
    root.join(abs.trim_start_matches('/'))
}

/// One instance, set up and started the way systemd would.
struct Instance {
    ws: Workspace,
    state_dir: PathBuf,
    user: String,
    daemon: Daemon,
}

async fn start_instance(root: &Path, name: &str, rows: usize) -> Instance {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd").join(UNIT)).unwrap();
    let settings: Vec<(String, String)> =
        service_settings(&text).into_iter().map(|(k, v)| (k, expand(&v, name))).collect();
    let one = |key: &str| -> String {
        let values: Vec<&String> = settings.iter().filter(|(k, _)| k == key).map(|(_, v)| v).collect();
        assert_eq!(values.len(), 1, "{UNIT} should set {key}= once: {values:?}");
        values[0].clone()
    };
    let env: BTreeMap<String, String> = settings
        .iter()
        .filter(|(k, _)| k == "Environment")
        .map(|(_, v)| {
            let (k, v) = v.split_once('=').unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect();

    // A workspace (the fake OpenPhone and the source), then the files the unit names.
    let ws = Workspace::new().await;
    ws.write_n(rows);
    let state_dir = root.join("var/lib").join(one("StateDirectory"));
    std::fs::create_dir_all(&state_dir).unwrap();
    let working_dir = under(root, &one("WorkingDirectory"));
    assert_eq!(working_dir, state_dir, "the daemon works in its state directory");
    let config_path = under(root, &env["OPENPHONE_SYNC_CONFIG"]);
    // `{:?}` quotes a path as a TOML basic string.
    #[allow(clippy::unnecessary_debug_formatting)]
    let config = std::fs::read_to_string(ws.path("config.toml"))
        .unwrap()
        .replace("database = \"mirror.sqlite3\"", &format!("database = {:?}", state_dir.join("mirror.sqlite3")))
        .replace("path = \"contacts.csv\"", &format!("path = {:?}", ws.path("contacts.csv")))
        .replace("mapping = \"mapping.toml\"", &format!("mapping = {:?}", ws.path("mapping.toml")));
    std::fs::create_dir_all(config_path.parent().unwrap()).unwrap();
    std::fs::write(&config_path, format!("{config}\n{YEARLY}\n[metrics]\nlisten = \"127.0.0.1:0\"\n")).unwrap();
    // LoadCredential=api-key:FILE: systemd copies FILE to $CREDENTIALS_DIRECTORY/api-key.
    let (credential, source) =
        one("LoadCredential").split_once(':').map(|(a, b)| (a.to_owned(), b.to_owned())).unwrap();
    assert_eq!(credential, "api-key");
    std::fs::write(under(root, &source), &ws.api_key).unwrap();
    let credentials = root.join("run/credentials").join(format!("openphone-sync@{name}.service"));
    std::fs::create_dir_all(&credentials).unwrap();
    std::fs::copy(under(root, &source), credentials.join(&credential)).unwrap();

    let command = |line: &str| {
        let mut words = line.split_whitespace();
        assert_eq!(words.next(), Some("openphone-sync"), "{line}");
        let mut cmd = tokio::process::Command::new(BIN);
        cmd.args(words)
            .current_dir(&working_dir)
            .env_remove("OPENPHONE_API_KEY")
            .env_remove("WATCHDOG_USEC")
            .env_remove("WATCHDOG_PID")
            .envs(env.iter().map(|(k, v)| (k, if v.starts_with('/') { under(root, v) } else { PathBuf::from(v) })))
            .env("CREDENTIALS_DIRECTORY", &credentials)
            .env("RUST_LOG", "openphone_sync=debug")
            .kill_on_drop(true);
        cmd
    };
    // Every ExecStartPre= (none today: the daemon checks its config at start itself, so
    // that RestartPreventExitStatus=2 applies to a config error).
    for (_, pre) in settings.iter().filter(|(k, _)| k == "ExecStartPre") {
        let pre = ws.output(command(pre)).await;
        assert_eq!(pre.code, 0, "ExecStartPre of {name}: {}", pre.stderr);
    }
    let daemon = Daemon::spawn(command(&one("ExecStart")), &root.join(format!("notify-{name}.sock")));
    Instance { ws, state_dir, user: one("User"), daemon }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_instances_of_the_template_unit_run_side_by_side() {
    let root = tempfile::tempdir().unwrap();
    let acme = start_instance(root.path(), "acme", 2).await;
    let globex = start_instance(root.path(), "globex", 3).await;
    assert_ne!(acme.user, globex.user, "each instance runs as its own user");
    for i in [&acme, &globex] {
        i.daemon.wait_log("Sync finished", 10).await;
        assert!(i.state_dir.join("mirror.sqlite3").exists(), "no mirror in {}", i.state_dir.display());
    }
    acme.ws.assert_exactly(&ids(1..=2));
    globex.ws.assert_exactly(&ids(1..=3));
    assert!(root.path().join("etc/openphone-sync/acme.toml").exists());
    assert!(root.path().join("var/lib/openphone-sync/globex/mirror.sqlite3").exists());

    // Two endpoints, each counting its own instance.
    let (a, g) = (acme.daemon.metrics_addr(), globex.daemon.metrics_addr());
    assert_ne!(a, g);
    for (addr, contacts) in [(&a, 2.0), (&g, 3.0)] {
        let text = scrape(addr, None).await.1;
        assert_eq!(parse(&text)["openphone_sync_mirror_contacts"], contacts, "{addr}:\n{text}");
    }
    for i in [acme, globex] {
        let (code, _, log) = i.daemon.stop().await;
        assert_eq!(code, 0, "{log}");
    }
}
