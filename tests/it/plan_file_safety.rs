//! Issue 19 item 1 and issue 25.4: `sync --dry-run --save-plan FILE` writes only plans. The
//! config's own files (mirror, config, mapping, source) are refused whatever they hold, an
//! existing file that is not a plan saved by this tool is refused and left byte for byte, a
//! link at the destination is refused, and the plan goes through a new private temporary
//! file: a file or link planted at the old temporary name is neither followed nor reused.

use crate::support::{Workspace, row};

async fn synced() -> Workspace {
    let ws = Workspace::new().await;
    ws.write_n(3);
    ws.sync(0).await;
    ws.write_rows(&[row(1), row(2).replace("Company 2", "Globex"), row(4)]);
    ws
}

async fn save_to(ws: &Workspace, target: &std::path::Path) -> crate::support::Run {
    ws.run(&["sync", "--dry-run", "--save-plan", &target.display().to_string()]).await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_configs_own_files_are_never_overwritten_by_a_plan() {
    let ws = synced().await;
    for name in
        ["mirror.sqlite3", "config.toml", "mapping.toml", "contacts.csv", "mirror.sqlite3-wal", "./mirror.sqlite3"]
    {
        let path = ws.path(name);
        let before = std::fs::read(&path).ok();
        let run = save_to(&ws, &path).await;
        assert_eq!(run.code, 2, "--save-plan {name}: {}\n{}", run.stdout, run.stderr);
        assert!(run.stderr.contains("the plan was not written"), "{}", run.stderr);
        assert!(!run.stdout.contains("Dry run: nothing was written"), "no success line: {}", run.stdout);
        assert_eq!(std::fs::read(&path).ok(), before, "{name} is left byte for byte");
    }
    // The mirror is intact: the next sync applies the change.
    let report = ws.sync(0).await;
    assert_eq!(report["applied"]["update"], 1, "{report}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mirror_not_made_yet_is_refused_too() {
    let ws = Workspace::new().await;
    ws.write_n(2);
    let run = save_to(&ws, &ws.mirror_path()).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(!ws.mirror_path().exists(), "nothing is created at the mirror's path");
    ws.sync(0).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_existing_file_that_is_not_a_plan_is_refused_and_a_plan_is_replaced() {
    let ws = synced().await;
    ws.write("notes.json", "{\"version\": 1, \"mine\": true}\n");
    let run = save_to(&ws, &ws.path("notes.json")).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("not a plan saved by openphone-sync"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(ws.path("notes.json")).unwrap(), "{\"version\": 1, \"mine\": true}\n");

    // A folder is refused; a plan saved before is replaced.
    std::fs::create_dir(ws.path("dir.json")).unwrap();
    assert_eq!(save_to(&ws, &ws.path("dir.json")).await.code, 2);
    assert_eq!(save_to(&ws, &ws.path("plan.json")).await.code, 0);
    let run = save_to(&ws, &ws.path("plan.json")).await;
    assert_eq!(run.code, 0, "a plan of ours is replaced: {}", run.stderr);
    let leftovers: Vec<_> = std::fs::read_dir(ws.dir.path())
        .unwrap()
        .filter_map(std::result::Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains("tmp-plan"))
        .collect();
    assert!(leftovers.is_empty(), "no temporary file is left: {leftovers:?}");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn planted_links_and_files_are_never_followed_or_reused() {
    use std::os::unix::fs::PermissionsExt;
    let ws = synced().await;
    let elsewhere = tempfile::tempdir().unwrap();
    let victim = elsewhere.path().join("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap();

    // A link at the destination: refused, the file it points to untouched.
    std::os::unix::fs::symlink(&victim, ws.path("linked.json")).unwrap();
    let run = save_to(&ws, &ws.path("linked.json")).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");

    // A link and a world-writable file planted at the temporary names a plan used to take.
    std::os::unix::fs::symlink(&victim, ws.path("plan.tmp-plan")).unwrap();
    let planted = ws.path("other.tmp-plan");
    std::fs::write(&planted, "planted\n").unwrap();
    std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o666)).unwrap();
    for name in ["plan.json", "other.json"] {
        let run = save_to(&ws, &ws.path(name)).await;
        assert_eq!(run.code, 0, "{}", run.stderr);
        let meta = std::fs::symlink_metadata(ws.path(name)).unwrap();
        assert!(meta.is_file(), "{name} is a regular file, not a link");
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{name} is private");
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n", "the link was not followed");
    assert_eq!(std::fs::read_to_string(&planted).unwrap(), "planted\n", "the planted file was not reused");
}
