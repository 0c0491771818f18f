//! `check`'s exit codes (docs/cli.md, "Exit codes of `check`"): a row that would not sync is
//! a problem found (exit 1, listed with its row), a value left out with a warning is not
//! (exit 0), and the file-level errors keep their codes. `check` writes nothing, so it gives
//! the same answer when run again, also after an apply run has made the row *known*.

use crate::support::{Workspace, row};

#[tokio::test(flavor = "multi_thread")]
async fn check_exits_1_when_a_row_is_invalid_and_0_when_rows_only_lose_a_value() {
    let ws = Workspace::new().await;
    // Row 3 has no id (invalid); row 4 has an email that is not one (a warning).
    let no_id = row(2).replacen("C-0002", "", 1);
    let bad_email = row(3).replacen("user3@example.com", "not an email", 1);
    ws.write_rows(&[row(1), no_id.clone(), bad_email.clone()]);
    for _ in 0..2 {
        let run = ws.run_with_key(&["check", "--offline"], None).await;
        assert_eq!(run.code, 1, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
        assert!(run.stdout.contains("invalid row 3: missing external id"), "{}", run.stdout);
        assert!(run.stdout.contains("rows: 2 valid, 1 invalid"), "{}", run.stdout);
    }
    // The dry run agrees.
    assert_eq!(ws.run(&["sync", "--dry-run"]).await.code, 1);
    // Online too.
    assert_eq!(ws.run(&["check"]).await.code, 1);
    assert!(ws.fake.contacts().is_empty(), "check writes nothing");

    // An apply run records the row as known invalid: the next sync exits 0, check still 1.
    ws.sync(1).await;
    ws.sync(0).await;
    assert_eq!(ws.run_with_key(&["check", "--offline"], None).await.code, 1);

    // Only a value left out: exit 0, the warning listed.
    ws.write_rows(&[row(1), bad_email]);
    let run = ws.run_with_key(&["check", "--offline"], None).await;
    assert_eq!(run.code, 0, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("not an email"), "{}", run.stdout);
    // --no-source reads no rows: the files alone decide.
    ws.write_rows(&[row(1), no_id]);
    assert_eq!(ws.run_with_key(&["check", "--offline", "--no-source"], None).await.code, 0);
    // A mapped column missing from the header stays a file error (2).
    ws.write("contacts.csv", "ID,Name\n1,Ann\n");
    assert_eq!(ws.run_with_key(&["check", "--offline"], None).await.code, 2);
}
