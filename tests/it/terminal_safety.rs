//! Issue 19 item 7 and issue 25.6: one escaping rule for everything printed for a person.
//! An external id holding a terminal escape sequence (`ESC ] 0 ; TITLE BEL`, which sets the
//! window title) and a name holding a right-to-left override (U+202E) reach no terminal raw
//! through any command's text output or `error:` line; they are shown escaped (`\u{1b}`),
//! while `--output json` keeps the exact value.

use serde_json::Value;

use crate::support::{HEADER, Workspace, strict_mapping};

const EVIL_ID: &str = "INJ-5\u{1b}]0;TITLE\u{7}";
const EVIL_NAME: &str = "Ann\u{202e}nimda";
const BAD_ID: &str = "BAD-\u{9b}31m";

fn assert_safe(what: &str, text: &str) {
    for c in ['\u{1b}', '\u{7}', '\u{202e}', '\u{9b}'] {
        assert!(!text.contains(c), "{what} prints {c:?} raw:\n{text}");
    }
}

async fn checked(ws: &Workspace, args: &[&str], codes: &[i32]) -> String {
    let run = ws.run(args).await;
    assert!(codes.contains(&run.code), "{args:?} exit {}: {}\n{}", run.code, run.stdout, run.stderr);
    assert_safe(&format!("{args:?} stdout"), &run.stdout);
    let errors: String = run.stderr.lines().filter(|l| l.starts_with("error:")).collect::<Vec<_>>().join("\n");
    assert_safe(&format!("{args:?} error line"), &errors);
    format!("{}{errors}", run.stdout)
}

#[tokio::test(flavor = "multi_thread")]
async fn data_never_reaches_a_terminal_raw() {
    let ws = Workspace::new().await;
    ws.write("mapping.toml", &strict_mapping());
    ws.write(
        "contacts.csv",
        &format!(
            "{HEADER}\n{EVIL_ID},{EVIL_NAME},Last,Co,ann@example.com,+1 201 555 0100,,,,,\n{BAD_ID},Bob,Last,Co,not-an-email,,,,,,\n"
        ),
    );
    let dry = checked(&ws, &["sync", "--dry-run"], &[1]).await;
    assert!(dry.contains("INJ-5\\u{1b}]0;TITLE\\u{7}"), "the id is shown escaped:\n{dry}");
    checked(&ws, &["sync"], &[1]).await;
    let json = ws.run(&["history", EVIL_ID, "--output", "json"]).await;
    let h: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(h["external_id"], EVIL_ID, "JSON keeps the exact value");
    assert_eq!(h["changes"][0]["changes"][0]["to"], EVIL_NAME);

    let history = checked(&ws, &["history", EVIL_ID], &[0]).await;
    assert!(history.contains("\\u{202e}"), "{history}");
    checked(&ws, &["history", "--run", "1"], &[0]).await;
    let failures = checked(&ws, &["failures"], &[0]).await;
    assert!(failures.contains("BAD-\\u{9b}31m"), "{failures}");
    checked(&ws, &["status"], &[0]).await;
    checked(&ws, &["sync", "--dry-run", "--record", EVIL_ID], &[0, 1]).await;

    // Deleted, restored, forgotten: each command's lines.
    ws.write("contacts.csv", &format!("{HEADER}\n{BAD_ID},Bob,Last,Co,not-an-email,,,,,,\n"));
    checked(&ws, &["sync", "--allow-mass-delete"], &[0, 1]).await;
    assert!(ws.by_external_id(EVIL_ID).is_empty(), "deleted");
    checked(&ws, &["restore", EVIL_ID, "--dry-run"], &[0]).await;
    checked(&ws, &["restore", EVIL_ID], &[0]).await;
    checked(&ws, &["restore", EVIL_ID], &[1]).await;
    checked(&ws, &["forget", EVIL_ID, BAD_ID], &[1]).await;
    // An error line quoting data.
    checked(&ws, &["sync", "--plan", &ws.path(EVIL_ID).display().to_string()], &[2]).await;
}
