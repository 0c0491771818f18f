//! The mirror's file under faults: locked by another process, read-only, damaged or not a
//! database, from a newer build, and a disk that fills up mid-run. Each stops the run with
//! exit 4 and a message naming the file and what to do; the file is left byte for byte as it
//! was; nothing is written to OpenPhone first; and a full disk loses nothing confirmed.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::support::{Run, Workspace, ids, row};

/// The uid/gid the binary runs as when the tests run as root (mode bits bind it).
const NOBODY: u32 = 65534;

fn bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).expect("read the mirror")
}

/// A workspace whose mirror holds `n` synced contacts, its config waiting 1 s for a lock,
/// and row 1 edited so that the next run has a write to make.
async fn synced(n: usize) -> Workspace {
    let ws = Workspace::new().await;
    ws.write_n(n);
    ws.sync(0).await;
    let config = std::fs::read_to_string(ws.path("config.toml")).unwrap();
    ws.write(
        "config.toml",
        &config.replace("database = \"mirror.sqlite3\"", "database = \"mirror.sqlite3\"\nlock_timeout_seconds = 1"),
    );
    let mut rows: Vec<String> = (1..=n).map(row).collect();
    rows[0] = rows[0].replace("First1,", "Edited,");
    ws.write_rows(&rows);
    ws.fake.clear_requests();
    ws
}

/// Asserts a refused run: exit 4, the message names the mirror and says `what`, and no
/// write reached OpenPhone.
fn assert_refused(ws: &Workspace, run: &Run, what: &str) {
    assert_eq!(run.code, 4, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    let path = ws.mirror_path().display().to_string();
    assert!(run.stderr.contains("error: ") && run.stderr.contains(&path), "{}", run.stderr);
    assert!(run.stderr.contains(what), "expected {what:?} in:\n{}", run.stderr);
    let writes: Vec<_> = ws.fake.requests().into_iter().filter(|r| r.method != "GET").collect();
    assert!(writes.is_empty(), "nothing may be written to OpenPhone: {writes:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mirror_locked_by_another_process_waits_then_stops_untouched() {
    let ws = synced(3).await;
    let before = bytes(&ws.mirror_path());
    for (how, setup) in [
        ("a write transaction", "BEGIN IMMEDIATE"),
        ("an exclusive lock", "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE"),
    ] {
        // This test process is the other process: SQLite's locks are per process.
        let other = Connection::open(ws.mirror_path()).unwrap();
        other.execute_batch(setup).unwrap();
        let started = Instant::now();
        let run = ws.run(&["sync", "--output", "json"]).await;
        let took = started.elapsed();
        assert_refused(&ws, &run, "is locked by another process (waited 1s)");
        assert!(took >= Duration::from_secs(1) && took < Duration::from_secs(8), "{how}: waited {took:?}");
        drop(other);
        assert!(bytes(&ws.mirror_path()) == before, "{how}: the mirror changed");
        assert!(!run.stderr.contains("run lock"), "not our own run lock (exit 3)");
    }
    let report = ws.sync(0).await;
    assert_eq!(report["applied"]["update"], 1, "{report}");
}

/// How the binary is kept from writing a file: mode bits, which bind root only when it runs
/// as another user; `chattr +i` where that is refused; else nothing (the case is skipped).
#[derive(Clone, Copy, Debug, PartialEq)]
enum ReadOnlyMeans {
    ModeBits,
    ModeBitsAsNobody,
    Immutable,
}

fn chown_all(dir: &Path) {
    std::os::unix::fs::chown(dir, Some(NOBODY), Some(NOBODY)).unwrap();
    for e in std::fs::read_dir(dir).unwrap() {
        std::os::unix::fs::chown(e.unwrap().path(), Some(NOBODY), Some(NOBODY)).unwrap();
    }
}

fn chattr(flag: &str, path: &Path) -> bool {
    std::process::Command::new("chattr").arg(flag).arg(path).output().is_ok_and(|o| o.status.success())
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Runs `sync` with `target` (the mirror or its folder) made read-only by `means`.
async fn sync_read_only(ws: &Workspace, target: &Path, mode: u32, means: ReadOnlyMeans) -> Option<Run> {
    let mut cmd = ws.command(&["sync", "--output", "json"], Some(&ws.api_key));
    match means {
        ReadOnlyMeans::ModeBits => set_mode(target, mode),
        ReadOnlyMeans::ModeBitsAsNobody => {
            chown_all(ws.dir.path());
            set_mode(target, mode);
            // SAFETY: only async-signal-safe calls between fork and exec.
            unsafe {
                cmd.pre_exec(|| {
                    if libc::setgroups(0, std::ptr::null()) != 0
                        || libc::setgid(NOBODY) != 0
                        || libc::setuid(NOBODY) != 0
                    {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        ReadOnlyMeans::Immutable => {
            if !chattr("+i", target) {
                return None;
            }
        }
    }
    let run = ws.output(cmd).await;
    if means == ReadOnlyMeans::Immutable {
        chattr("-i", target);
    }
    set_mode(target, if target.is_dir() { 0o700 } else { 0o600 });
    Some(run)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_only_mirror_or_folder_stops_untouched() {
    let root = unsafe { libc::geteuid() } == 0;
    let ws = synced(3).await;
    let before = bytes(&ws.mirror_path());
    let folder = ws.dir.path().to_path_buf();
    for (target, mode, what) in [
        (ws.mirror_path(), 0o400, "the file is read-only for this user"),
        (folder, 0o500, "its folder cannot be written"),
    ] {
        let mut tried = vec![];
        let means = if root {
            vec![ReadOnlyMeans::ModeBitsAsNobody, ReadOnlyMeans::Immutable]
        } else {
            vec![ReadOnlyMeans::ModeBits]
        };
        let mut run = None;
        for m in means {
            tried.push(m);
            // A failed setuid makes the spawn itself fail: try the next means.
            match tokio::time::timeout(Duration::from_mins(1), async { sync_read_only(&ws, &target, mode, m).await })
                .await
            {
                Ok(Some(r)) if !(r.code == -1 && r.stderr.is_empty()) => {
                    run = Some(r);
                    break;
                }
                _ => {}
            }
        }
        let Some(run) = run else {
            assert!(root, "as a user, mode bits make {} read-only", target.display());
            eprintln!(
                "SKIPPED read-only {}: running as root and neither running as uid {NOBODY} nor chattr +i works here ({tried:?})",
                target.display()
            );
            continue;
        };
        assert_refused(&ws, &run, "cannot write the mirror");
        let case = target.display();
        assert!(run.stderr.contains(what) && run.stderr.contains("writable by the user"), "{case}: {}", run.stderr);
        assert!(bytes(&ws.mirror_path()) == before, "{case}: the mirror changed");
    }
    let report = ws.sync(0).await;
    assert_eq!(report["applied"]["update"], 1, "{report}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_damaged_or_foreign_mirror_stops_untouched_and_is_never_recreated() {
    let ws = synced(40).await;
    let good = bytes(&ws.mirror_path());
    assert!(good.len() >= 5 * 4096, "a mirror of several pages: {}", good.len());
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let garbage: Vec<u8> = (0..good.len())
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect();
    let mut scribbled = good.clone();
    scribbled[2 * 4096..4 * 4096].copy_from_slice(&garbage[..2 * 4096]);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("garbage", garbage.clone()),
        ("truncated to half", good[..good.len() / 2].to_vec()),
        ("truncated to 100 bytes", good[..100].to_vec()),
        ("a CSV file", format!("{}\n{}\n", crate::support::HEADER, row(1)).into_bytes()),
        ("pages overwritten", scribbled),
    ];
    for (case, content) in cases {
        std::fs::write(ws.mirror_path(), &content).unwrap();
        let run = ws.run(&["sync", "--output", "json"]).await;
        assert_refused(&ws, &run, "is damaged or not an openphone-sync mirror");
        assert!(run.stderr.contains("move it aside"), "{case}: {}", run.stderr);
        assert!(bytes(&ws.mirror_path()) == content, "{case}: the mirror was changed");
        for side in ["mirror.sqlite3-wal", "mirror.sqlite3-journal"] {
            assert!(!ws.path(side).exists() || std::fs::metadata(ws.path(side)).unwrap().len() == 0, "{case}: {side}");
        }
    }
    ws.assert_exactly(&ids(1..=40));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mirror_from_a_newer_build_stops_untouched() {
    let ws = synced(3).await;
    Connection::open(ws.mirror_path()).unwrap().pragma_update(None, "user_version", 99).unwrap();
    let before = bytes(&ws.mirror_path());
    let run = ws.run(&["sync", "--output", "json"]).await;
    assert_refused(&ws, &run, "was written by a newer openphone-sync (schema version 99");
    assert!(run.stderr.contains("upgrade openphone-sync"), "{}", run.stderr);
    let status = ws.run(&["status"]).await;
    assert_eq!(status.code, 4, "{}", status.stderr);
    let dry = ws.run(&["sync", "--dry-run"]).await;
    assert_eq!(dry.code, 4, "{}", dry.stderr);
    assert!(bytes(&ws.mirror_path()) == before, "the mirror changed");
}

/// The contacts the mirror records as confirmed: (externalId, OpenPhone id).
fn confirmed(mirror: &Path) -> Vec<(String, String)> {
    let conn = Connection::open(mirror).unwrap();
    let mut stmt = conn
        .prepare("SELECT external_id, contact_id FROM contacts WHERE contact_id IS NOT NULL AND pending IS NULL")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().collect::<Result<_, _>>().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_disk_that_fills_mid_run_loses_nothing_confirmed() {
    let ws = Workspace::new().await;
    ws.write_n(2);
    ws.sync(0).await;
    let n = 40;
    ws.write_n(n);
    // The file-size limit plays the full disk: SQLite's writes past 24 WAL frames fail
    // (EFBIG; SIGXFSZ ignored), after the run's first commits and long before its 38 creates.
    let mut cmd = ws.command(&["sync", "--output", "json"], Some(&ws.api_key));
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let limit = 32 + 24 * (4096 + 24);
            let rl = libc::rlimit { rlim_cur: limit, rlim_max: limit };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &raw const rl) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        });
    }
    let run = ws.output(cmd).await;
    assert_eq!(run.code, 4, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    let path = ws.mirror_path().display().to_string();
    assert!(run.stderr.contains(&format!("cannot write the mirror {path}")), "{}", run.stderr);
    assert!(run.stderr.contains("free some space and run again"), "{}", run.stderr);
    assert!(run.stderr.contains("OpenPhone confirmed a write the mirror could not record"), "{}", run.stderr);

    // Every write the mirror recorded is in OpenPhone, once, with the recorded id.
    let recorded = confirmed(&ws.mirror_path());
    let landed = ws.fake.contacts().len();
    assert!(recorded.len() > 2 && recorded.len() < n, "the fault came mid-run: {} recorded", recorded.len());
    for (external_id, contact_id) in &recorded {
        let found = ws.by_external_id(external_id);
        assert_eq!(found.len(), 1, "{external_id}");
        assert_eq!(found[0]["id"], contact_id.as_str(), "{external_id}");
    }
    assert!(landed > recorded.len(), "at least the write whose commit failed landed unrecorded");

    // With space again: the unrecorded writes are found and adopted, the rest created, once.
    let report = ws.sync(0).await;
    assert_eq!(report["applied"]["create"], (n - recorded.len()) as u64, "{report}");
    assert!(report["adopted"].as_u64().unwrap() >= (landed - recorded.len()) as u64, "{report}");
    ws.assert_exactly(&ids(1..=n));
    ws.assert_spec_clean();
    assert_eq!(ws.sync(0).await["planned"]["unchanged"], n as u64);
}
