//! The config an administrator copies into `/etc`: the package's example for it
//! (`packaging/etc/config.toml`, installed as `/usr/share/openphone-sync/config.toml` with
//! the mapping beside it) keeps the mirror in the daemon unit's `StateDirectory` and syncs
//! as laid out under the unit's paths; and a mirror put where the user running the binary
//! cannot write (the source checkout's example copied to `/etc`) is a config error: `check`
//! and the daemon's start exit 2 naming the path and why, which the units do not restart
//! (`RestartPreventExitStatus=2`), rather than every sync failing with exit 4.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::support::{BIN, Run, Workspace};

/// The uid the binary runs as when the tests run as root (mode bits bind it).
const NOBODY: u32 = 65534;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The `[Service]` values of `key` in a unit of `systemd/`.
fn unit_values(unit: &str, key: &str) -> Vec<String> {
    let text = std::fs::read_to_string(repo("systemd").join(unit)).unwrap();
    text.lines().filter_map(|l| l.strip_prefix(&format!("{key}="))).map(str::to_owned).collect()
}

#[tokio::test]
async fn the_example_for_etc_keeps_the_mirror_in_the_units_state_directory_and_syncs() {
    let shipped = std::fs::read_to_string(repo("packaging/etc/config.toml")).unwrap();
    let state = format!("/var/lib/{}", unit_values("openphone-sync.service", "StateDirectory").concat());
    assert!(shipped.contains(&format!("database = \"{state}/mirror.sqlite3\"")), "{shipped}");
    // Shipped where the postinst and the docs say, with the mapping it names beside it.
    let cargo = std::fs::read_to_string(repo("Cargo.toml")).unwrap();
    assert!(cargo.contains(r#"["packaging/etc/config.toml", "usr/share/openphone-sync/config.toml", "644"]"#));
    assert!(cargo.contains(r#"["config/mapping.example.toml", "usr/share/openphone-sync/mapping.toml", "644"]"#));
    assert!(shipped.contains("mapping = \"mapping.toml\""));

    // Laid out as an admin would: both files copied into <root>/etc/openphone-sync, the state
    // directory made by systemd, the CSV in /srv/exports; only the fake's URL is added.
    let ws = Workspace::new().await;
    let root = ws.path("root");
    let etc = root.join("etc/openphone-sync");
    let state_dir = root.join(state.trim_start_matches('/'));
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::create_dir_all(&state_dir).unwrap();
    std::fs::create_dir_all(root.join("srv/exports")).unwrap();
    std::fs::copy(repo("config/contacts.example.csv"), root.join("srv/exports/contacts.csv")).unwrap();
    std::fs::copy(repo("config/mapping.example.toml"), etc.join("mapping.toml")).unwrap();
    let config = shipped
        .replace(&state, &state_dir.display().to_string())
        .replace("/srv/exports/", &format!("{}/srv/exports/", root.display()))
        .replace("[openphone]\n", &format!("[openphone]\nbase_url = \"{}\"\n", ws.fake.base_url()))
        .replace("listen = \"127.0.0.1:9464\"", "listen = \"127.0.0.1:0\"");
    std::fs::write(etc.join("config.toml"), config).unwrap();
    let run = |args: &[&str]| {
        let mut cmd = tokio::process::Command::new(BIN);
        cmd.arg("--config").arg(etc.join("config.toml")).args(args).env("OPENPHONE_API_KEY", &ws.api_key);
        cmd.env_remove("OPENPHONE_SYNC_CONFIG").kill_on_drop(true);
        ws.output(cmd)
    };
    let check = run(&["check", "--offline", "--no-source"]).await;
    assert_eq!(check.code, 0, "{}", check.stderr);
    let mirror = state_dir.join("mirror.sqlite3");
    assert!(check.stdout.contains(&format!("mirror {}: not made yet", mirror.display())), "{}", check.stdout);
    let check = run(&["check"]).await;
    assert_eq!(check.code, 0, "{}\n{}", check.stdout, check.stderr);
    let sync = run(&["sync"]).await;
    assert_eq!(sync.code, 0, "{}\n{}", sync.stdout, sync.stderr);
    let rows = std::fs::read_to_string(repo("config/contacts.example.csv")).unwrap().lines().count() - 1;
    assert_eq!(ws.fake.contacts().len(), rows, "every example row became a contact");
    assert!(mirror.is_file());
    let check = run(&["check", "--offline", "--no-source"]).await;
    assert!(check.stdout.contains(&format!("mirror {}: writable by this user", mirror.display())), "{}", check.stdout);
}

/// Makes `cmd` run as uid 65534 when the tests run as root (so that mode bits bind).
fn unprivileged(cmd: &mut tokio::process::Command) {
    if unsafe { libc::geteuid() } == 0 {
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setgroups(0, std::ptr::null()) != 0 || libc::setgid(NOBODY) != 0 || libc::setuid(NOBODY) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
}

/// Runs `BIN --config CONFIG args` unprivileged, with the API key.
async fn run_unprivileged(ws: &Workspace, config: &Path, args: &[&str]) -> Run {
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.arg("--config").arg(config).args(args).env("OPENPHONE_API_KEY", &ws.api_key);
    cmd.env_remove("OPENPHONE_SYNC_CONFIG").env_remove("STATE_DIRECTORY").kill_on_drop(true);
    unprivileged(&mut cmd);
    ws.output(cmd).await
}

#[tokio::test]
async fn check_and_the_daemon_refuse_a_mirror_their_user_cannot_write_with_exit_2() {
    let ws = Workspace::new().await;
    // The source checkout's example copied to "/etc/openphone-sync" (a folder the user
    // running the binary may read but not write), with its relative mirror path.
    let etc = ws.path("etc/openphone-sync");
    std::fs::create_dir_all(&etc).unwrap();
    let example = std::fs::read_to_string(repo("config/example.toml")).unwrap();
    assert!(example.contains("database = \"mirror.sqlite3\""), "the example changed: {example}");
    let config = example.replace("\"https://api.quo.com\"", &format!("{:?}", ws.fake.base_url()));
    assert_ne!(config, example);
    std::fs::write(etc.join("config.toml"), config).unwrap();
    std::fs::copy(repo("config/mapping.example.toml"), etc.join("mapping.example.toml")).unwrap();
    std::fs::copy(repo("config/contacts.example.csv"), etc.join("contacts.example.csv")).unwrap();
    for dir in [ws.dir.path(), &ws.path("etc"), &etc] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    for file in ["config.toml", "mapping.example.toml", "contacts.example.csv"] {
        std::fs::set_permissions(etc.join(file), std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    if unsafe { libc::geteuid() } != 0 {
        std::fs::set_permissions(&etc, std::fs::Permissions::from_mode(0o555)).unwrap();
    }
    let mirror = etc.join("mirror.sqlite3");
    let config = etc.join("config.toml");
    let check = run_unprivileged(&ws, &config, &["check", "--offline", "--no-source"]).await;
    assert_eq!(check.code, 2, "stdout:\n{}\nstderr:\n{}", check.stdout, check.stderr);
    let said = &check.stderr;
    assert!(said.contains(&format!("cannot write the mirror {}", mirror.display())), "{said}");
    assert!(said.contains(&format!("its folder {} cannot be written by this user (uid", etc.display())), "{said}");
    assert!(said.contains("Permission denied"), "{said}");
    // The full check says the same.
    let check = run_unprivileged(&ws, &config, &["check", "--offline"]).await;
    assert_eq!(check.code, 2, "{}", check.stderr);

    // The daemon's start (the units' start-up check) exits 2 before anything else.
    let daemon = run_unprivileged(&ws, &config, &["daemon"]).await;
    assert_eq!(daemon.code, 2, "{}", daemon.stderr);
    assert!(daemon.stderr.contains(&format!("cannot write the mirror {}", mirror.display())), "{}", daemon.stderr);
    assert!(!mirror.exists() && !etc.join("mirror.sqlite3.lock").exists(), "nothing was made");
    assert!(ws.fake.requests().is_empty(), "nothing was sent");
    // Every unit that restarts does not restart on exit 2.
    for unit in ["openphone-sync.service", "openphone-sync@.service"] {
        assert_eq!(unit_values(unit, "Restart"), ["on-failure"], "{unit}");
        assert_eq!(unit_values(unit, "RestartPreventExitStatus"), ["2"], "{unit}");
        // A failed ExecStartPre= would be restarted whatever its exit code: the start-up
        // check is the daemon's own.
        assert!(unit_values(unit, "ExecStartPre").is_empty(), "{unit}");
        assert_eq!(unit_values(unit, "ExecStart"), ["openphone-sync daemon"], "{unit}");
    }
}

#[tokio::test]
async fn under_a_unit_the_refusal_names_the_state_directory() {
    let ws = Workspace::new().await;
    let locked = ws.path("locked");
    std::fs::create_dir(&locked).unwrap();
    ws.write(
        "config.toml",
        &std::fs::read_to_string(ws.path("config.toml"))
            .unwrap()
            .replace("database = \"mirror.sqlite3\"", &format!("database = \"{}/mirror.sqlite3\"", locked.display())),
    );
    for dir in [ws.dir.path(), &locked] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    for file in ["config.toml", "mapping.toml", "contacts.csv"] {
        std::fs::set_permissions(ws.path(file), std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    if unsafe { libc::geteuid() } != 0 {
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
    }
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.arg("--config").arg(ws.path("config.toml")).args(["check", "--offline", "--no-source"]);
    cmd.env("STATE_DIRECTORY", "/var/lib/openphone-sync").kill_on_drop(true);
    unprivileged(&mut cmd);
    let run = ws.output(cmd).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "this service may write only its StateDirectory, /var/lib/openphone-sync: set [state] database there"
        ),
        "{}",
        run.stderr
    );
}
