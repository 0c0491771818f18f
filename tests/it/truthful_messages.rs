//! Issue 19 item 7: what a person reads is true. The dry run does not say "edited in the
//! app" of an `on_create` field nobody edited; a stale plan says which records differ (a hand
//! edit) instead of guessing at the mapping; with `encoding = "auto"` set, the encoding error
//! does not suggest setting it; a FIFO given as the source is not "file not found".

use crate::support::{HEADER, MAPPING, Workspace, row};

#[tokio::test(flavor = "multi_thread")]
async fn an_on_create_field_is_not_said_to_be_edited_in_the_app() {
    let ws = Workspace::new().await;
    ws.write(
        "mapping.toml",
        &MAPPING
            .replace("company    = \"Company\"\n", "company    = \"Company\"\npolicy = { company = \"on_create\" }\n"),
    );
    ws.write_rows(&[row(1)]);
    ws.sync(0).await;
    ws.write_rows(&[row(1).replace("Company 1", "Globex")]);
    let run = ws.run(&["sync", "--dry-run"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("company: kept: on_create: written only when the contact is created"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("edited in the app"), "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hand_edited_plan_is_refused_naming_the_record_that_differs() {
    let ws = Workspace::new().await;
    ws.write_n(3);
    ws.sync(0).await;
    ws.write_rows(&[row(1), row(2).replace("Company 2", "Globex"), row(3)]);
    let plan = ws.path("plan.json").display().to_string();
    assert_eq!(ws.run(&["sync", "--dry-run", "--save-plan", &plan]).await.code, 0);
    let text = std::fs::read_to_string(ws.path("plan.json")).unwrap();
    ws.write("plan.json", &text.replace("\"Globex\"", "\"Hacked Inc\""));
    let run = ws.run(&["sync", "--plan", &plan]).await;
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(all.contains("the plan file's update of \"C-0002\" differs"), "{all}");
    assert!(!all.contains("the mapping changed?"), "{all}");
    assert_eq!(ws.by_external_id("C-0002")[0]["defaultFields"]["company"], "Company 2", "nothing written");
}

#[tokio::test(flavor = "multi_thread")]
async fn with_encoding_auto_set_the_error_does_not_suggest_it() {
    let ws = Workspace::new().await;
    ws.write_config_with_source("", "type = \"csv\"\npath = \"contacts.csv\"\nencoding = \"auto\"\n");
    let mut bytes = format!("{HEADER}\n").into_bytes();
    for n in 1..=1500 {
        bytes.extend_from_slice(format!("{}\n", row(n)).as_bytes());
    }
    bytes.extend_from_slice(b"C-9999,Ren\xe9,Last,Co,r@example.com,,,,,,\n");
    std::fs::write(ws.path("contacts.csv"), bytes).unwrap();
    let run = ws.run(&["sync", "--dry-run"]).await;
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("is not UTF-8"), "{}", run.stderr);
    assert!(!run.stderr.contains("(or \"auto\")"), "{}", run.stderr);
    assert!(run.stderr.contains("encoding = \"auto\" read the file as UTF-8"), "{}", run.stderr);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn a_fifo_as_the_source_is_not_file_not_found() {
    let ws = Workspace::new().await;
    std::fs::remove_file(ws.path("contacts.csv")).unwrap();
    let c = std::ffi::CString::new(ws.path("contacts.csv").display().to_string()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let run = ws.run(&["check", "--offline"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("not a regular file"), "{}", run.stderr);
    assert!(!run.stderr.contains("file not found"), "{}", run.stderr);
}
