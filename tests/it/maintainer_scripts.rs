//! The Debian package's maintainer scripts (`packaging/debian/`), run as dpkg runs them for
//! an install, an upgrade, a remove and a purge, in a fake root (every `/etc`, `/var` and
//! `/run` path moved into a temporary folder) with `systemctl`, `deb-systemd-invoke` and
//! `deb-systemd-helper` replaced by fakes that log their calls. The fake `deb-systemd-invoke`
//! hands its arguments to `systemctl` as the real one does for `stop` and `try-restart`;
//! the fake `deb-systemd-helper` keeps its state files in the fake root. What is asserted is
//! the list of calls each step makes, and what purge says and leaves.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A fake root, the fakes on `PATH`, and the log they write.
struct FakeRoot {
    dir: tempfile::TempDir,
    /// Whether `/run/systemd/system` exists: systemd is the running init.
    systemd: bool,
}

const FAKE_TOOLS: &str = r#"#!/bin/sh
# Logs the call; deb-systemd-invoke then calls systemctl, as the real one does.
name=$(basename "$0")
echo "$name $*" >>"$FAKE_ROOT/calls.log"
state="$FAKE_ROOT/var/lib/systemd/deb-systemd-helper-enabled"
case "$name" in
    deb-systemd-invoke) exec systemctl "$@" ;;
    deb-systemd-helper)
        [ "$1" = --quiet ] && shift
        case "$1" in
            debian-installed) test -e "$state/$2.dsh-also" ;;
            was-enabled) test -e "$FAKE_ROOT/etc/systemd/system/multi-user.target.wants/$2" ;;
            update-state) mkdir -p "$state" && touch "$state/$2.dsh-also" ;;
            purge) shift; for u in "$@"; do rm -f "$state/$u.dsh-also"; done ;;
        esac ;;
esac
"#;

impl FakeRoot {
    fn new(systemd: bool) -> FakeRoot {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        for tool in ["systemctl", "deb-systemd-invoke", "deb-systemd-helper"] {
            let path = bin.join(tool);
            std::fs::write(&path, FAKE_TOOLS).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        if systemd {
            std::fs::create_dir_all(dir.path().join("run/systemd/system")).unwrap();
        }
        FakeRoot { dir, systemd }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p.trim_start_matches('/'))
    }

    /// Runs `script` (postinst, prerm, postrm) with `args`, its paths moved into the fake
    /// root. Returns the calls it made (one line each) and its stdout.
    fn run(&self, script: &str, args: &[&str]) -> (Vec<String>, String) {
        let root = self.dir.path().display().to_string();
        let source = std::fs::read_to_string(Path::new("packaging/debian").join(script)).unwrap();
        let moved = source
            .replace("/usr/bin/deb-systemd-helper", &format!("{root}/bin/deb-systemd-helper"))
            .replace("/etc/", &format!("{root}/etc/"))
            .replace("/var/", &format!("{root}/var/"))
            .replace("/run/", &format!("{root}/run/"));
        let copy = self.dir.path().join(format!("{script}.sh"));
        std::fs::write(&copy, moved).unwrap();
        let log = self.dir.path().join("calls.log");
        let _ = std::fs::remove_file(&log);
        let path = format!("{root}/bin:{}", std::env::var("PATH").unwrap_or_default());
        let out = Command::new("sh")
            .arg(&copy)
            .args(args)
            .env("PATH", path)
            .env("FAKE_ROOT", &root)
            .env_remove("DPKG_ROOT")
            .output()
            .expect("sh runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{script} {args:?} failed (systemd: {}): {stderr}", self.systemd);
        let calls = std::fs::read_to_string(&log).unwrap_or_default().lines().map(str::to_owned).collect();
        (calls, String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// dpkg's calls for each step, in dpkg's order: the calls, and what was printed.
    fn step(&self, step: Step) -> (Vec<String>, String) {
        let runs: &[(&str, &[&str])] = match step {
            Step::Install => &[("postinst", &["configure", ""])],
            // The old prerm and postrm, then the new postinst (the scripts are the same here).
            Step::Upgrade => &[
                ("prerm", &["upgrade", "0.2.0-1"]),
                ("postrm", &["upgrade", "0.2.0-1"]),
                ("postinst", &["configure", "0.1.0-1"]),
            ],
            Step::Remove => &[("prerm", &["remove"]), ("postrm", &["remove"])],
            Step::Purge => &[("postrm", &["purge"])],
        };
        let mut calls = vec![];
        let mut stdout = String::new();
        for (script, args) in runs {
            let (c, o) = self.run(script, args);
            calls.extend(c);
            stdout.push_str(&o);
        }
        (calls, stdout)
    }
}

#[derive(Clone, Copy, Debug)]
enum Step {
    Install,
    Upgrade,
    Remove,
    Purge,
}

/// The calls that reach `systemctl`, as systemctl receives them.
fn systemctl(calls: &[String]) -> Vec<&str> {
    calls.iter().filter_map(|c| c.strip_prefix("systemctl ")).collect()
}

const UNITS_TO_RESTART: &str = "openphone-sync.service openphone-sync@*.service openphone-sync-once.timer";

#[test]
fn an_upgrade_restarts_what_runs_and_install_remove_purge_make_the_expected_systemctl_calls() {
    let root = FakeRoot::new(true);

    let (calls, said) = root.step(Step::Install);
    assert_eq!(systemctl(&calls), ["--system daemon-reload"], "install: {calls:#?}");
    assert!(said.contains("nothing is enabled") && said.contains("/usr/share/openphone-sync/config.toml"), "{said}");
    // Recorded for purge (so an admin's enablement of the daemon or the timer goes with it).
    for unit in ["openphone-sync.service", "openphone-sync-once.timer"] {
        assert!(calls.contains(&format!("deb-systemd-helper update-state {unit}")), "install: {calls:#?}");
        assert!(
            !calls.iter().any(|c| c.contains(" enable ") || c.contains("start")),
            "install enables or starts: {calls:#?}"
        );
    }
    assert_eq!(std::fs::metadata(root.path("/etc/openphone-sync")).unwrap().permissions().mode() & 0o777, 0o755);

    // An upgrade restarts the daemon, every instance of the template and the timer, where
    // they run (try-restart leaves a stopped unit stopped): through deb-systemd-invoke, so a
    // policy-rc.d is obeyed. Nothing is stopped before the new files are in place.
    let (calls, _) = root.step(Step::Upgrade);
    assert!(calls.contains(&format!("deb-systemd-invoke try-restart {UNITS_TO_RESTART}")), "upgrade: {calls:#?}");
    assert_eq!(
        systemctl(&calls),
        ["--system daemon-reload".to_owned(), format!("try-restart {UNITS_TO_RESTART}")],
        "upgrade: {calls:#?}"
    );

    // Remove stops everything, the one-shot run too, and keeps the config and the state.
    std::fs::write(root.path("/etc/openphone-sync/config.toml"), "x").unwrap();
    std::fs::write(root.path("/etc/openphone-sync/api-key"), "secret").unwrap();
    std::fs::create_dir_all(root.path("/var/lib/private/openphone-sync/acme")).unwrap();
    std::fs::write(root.path("/var/lib/private/openphone-sync/acme/mirror.sqlite3"), "m").unwrap();
    let wants = root.path("/etc/systemd/system/multi-user.target.wants");
    std::fs::create_dir_all(&wants).unwrap();
    std::os::unix::fs::symlink(
        "/usr/lib/systemd/system/openphone-sync@.service",
        wants.join("openphone-sync@acme.service"),
    )
    .unwrap();
    let (calls, _) = root.step(Step::Remove);
    assert_eq!(
        systemctl(&calls),
        [format!("stop {UNITS_TO_RESTART} openphone-sync-once.service"), "--system daemon-reload".to_owned()],
        "remove: {calls:#?}"
    );
    assert!(root.path("/etc/openphone-sync/api-key").exists(), "remove dropped the key");
    assert!(root.path("/var/lib/private/openphone-sync/acme/mirror.sqlite3").exists(), "remove dropped a mirror");

    // Purge: no systemctl call; it says what it deletes, then deletes it.
    let (calls, said) = root.step(Step::Purge);
    assert_eq!(systemctl(&calls), Vec::<&str>::new(), "purge: {calls:#?}");
    assert!(
        calls.contains(&"deb-systemd-helper purge openphone-sync.service openphone-sync-once.timer".to_owned()),
        "purge: {calls:#?}"
    );
    let etc = root.path("/etc/openphone-sync").display().to_string();
    let state = root.path("/var/lib/private/openphone-sync").display().to_string();
    assert!(
        said.contains(&format!("purge deletes {etc} (configs, mappings and API keys; 2 files: api-key, config.toml)")),
        "{said}"
    );
    assert!(
        said.contains(&format!("purge deletes {state} (the mirrors, with the contacts kept for `openphone-sync restore`; 1 file: acme/mirror.sqlite3)")),
        "{said}"
    );
    assert!(said.contains("openphone-sync@acme.service"), "{said}");
    for gone in [
        "/etc/openphone-sync",
        "/var/lib/private/openphone-sync",
        "/var/lib/systemd/deb-systemd-helper-enabled/openphone-sync.service.dsh-also",
    ] {
        assert!(!root.path(gone).exists(), "purge left {gone}");
    }
    assert!(
        std::fs::symlink_metadata(wants.join("openphone-sync@acme.service")).is_err(),
        "purge left the instance's link"
    );
}

/// Where systemd is not the running init (a container, a chroot, this CI machine), no step
/// calls systemctl and none fails: as debhelper's scripts behave.
#[test]
fn without_a_running_systemd_no_step_calls_systemctl_or_fails() {
    let root = FakeRoot::new(false);
    for step in [Step::Install, Step::Upgrade, Step::Remove, Step::Install, Step::Purge] {
        let (calls, _) = root.step(step);
        assert_eq!(systemctl(&calls), Vec::<&str>::new(), "{step:?}: {calls:#?}");
    }
    assert!(!root.path("/etc/openphone-sync").exists(), "purge left the config folder");
}
