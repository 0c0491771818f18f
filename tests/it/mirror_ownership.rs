//! Issue 19 item 4: the mirror is marked as this tool's (SQLite `application_id` 0x4F505359,
//! "OPSY"). Another program's database given as `[state].database` is refused (exit 4) and
//! left byte for byte; a path that is not a regular file is refused before anything is
//! created beside it; a mirror from a build before the mark is still used, and marked.

use crate::support::Workspace;

const APPLICATION_ID: i32 = 0x4F50_5359;

fn point_database_at(ws: &Workspace, name: &str) {
    let config = std::fs::read_to_string(ws.path("config.toml")).unwrap();
    ws.write("config.toml", &config.replace("database = \"mirror.sqlite3\"", &format!("database = \"{name}\"")));
}

fn application_id(path: &std::path::Path) -> i32 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.pragma_query_value(None, "application_id", |r| r.get(0)).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn another_programs_database_is_refused_and_left_byte_for_byte() {
    let ws = Workspace::new().await;
    ws.write_n(2);
    let other = ws.path("other.sqlite3");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE foo(x); INSERT INTO foo VALUES (1);")
        .unwrap();
    let marked = ws.path("marked.sqlite3");
    rusqlite::Connection::open(&marked).unwrap().execute_batch("PRAGMA application_id = 1234;").unwrap();
    for (name, path) in [("other.sqlite3", &other), ("marked.sqlite3", &marked)] {
        point_database_at(&ws, name);
        let before = std::fs::read(path).unwrap();
        for args in [&["sync"][..], &["sync", "--dry-run"], &["status"]] {
            let run = ws.run(args).await;
            assert_eq!(run.code, 4, "{name} {args:?}: {}\n{}", run.stdout, run.stderr);
            assert!(run.stderr.contains("is not an openphone-sync mirror"), "{}", run.stderr);
            assert_eq!(std::fs::read(path).unwrap(), before, "{name} is byte for byte as it was after {args:?}");
        }
    }
    assert!(ws.fake.contacts().is_empty(), "nothing was sent");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn a_path_that_is_not_a_regular_file_is_refused_before_anything_is_made_beside_it() {
    let ws = Workspace::new().await;
    ws.write_n(1);
    let fifo = ws.path("fifo");
    let c = std::ffi::CString::new(fifo.display().to_string()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    std::fs::create_dir(ws.path("folder")).unwrap();
    for name in ["fifo", "folder"] {
        point_database_at(&ws, name);
        let run = ws.run(&["sync"]).await;
        assert_eq!(run.code, 4, "{name}: {}", run.stderr);
        assert!(run.stderr.contains("is not an openphone-sync mirror"), "{}", run.stderr);
        {
            let beside: Vec<String> = std::fs::read_dir(ws.dir.path())
                .unwrap()
                .filter_map(std::result::Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(name) && n != name)
                .collect();
            assert!(beside.is_empty(), "nothing is created beside {name}: {beside:?}");
        }
    }
    assert!(ws.fake.contacts().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_mirror_is_marked_and_an_unmarked_mirror_of_an_earlier_build_is_still_used() {
    let ws = Workspace::new().await;
    ws.write_n(2);
    ws.sync(0).await;
    assert_eq!(application_id(&ws.mirror_path()), APPLICATION_ID);
    // As a build from before the mark left it.
    rusqlite::Connection::open(ws.mirror_path()).unwrap().execute_batch("PRAGMA application_id = 0;").unwrap();
    let report = ws.sync(0).await;
    assert_eq!(report["planned"]["unchanged"], 2, "{report}");
    assert_eq!(application_id(&ws.mirror_path()), APPLICATION_ID);
}
