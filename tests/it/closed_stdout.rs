//! The one policy for stdout (`commands::written`): a reader that closed it early (`| head`)
//! is not an error and the command's exit code stands; any other failure to write it (a full
//! disk, `/dev/full`) is `error: cannot write to stdout` and exit 4, never a silent exit 0.

use std::process::Stdio;

use crate::support::{Run, Workspace, ids};

/// Runs `args` in `ws` with `stdout` as the command's stdout (`Workspace::output` would
/// replace it with a pipe).
async fn run_with_stdout(ws: &Workspace, args: &[&str], stdout: Stdio) -> Run {
    let mut cmd = ws.command(args, Some(&ws.api_key));
    cmd.stdout(stdout).stderr(Stdio::piped());
    let child = cmd.spawn().expect("the binary starts");
    let out = tokio::time::timeout(std::time::Duration::from_mins(2), child.wait_with_output())
        .await
        .expect("the binary finished within two minutes")
        .expect("the binary ran");
    Run::from(out)
}

/// A pipe whose reading end is already closed: every write to it fails with a broken pipe.
fn closed_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    writer.into()
}

fn dev_full() -> Stdio {
    std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full").into()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_stdout_is_exit_4_and_said_once_for_every_command_that_prints() {
    let ws = Workspace::new().await;
    ws.write_n(2);
    for args in [
        &["status", "--output", "json"][..],
        &["status"],
        &["failures", "--output", "json"],
        &["fields"],
        &["check"],
        &["completions", "bash"],
        &["man"],
    ] {
        let run = run_with_stdout(&ws, args, dev_full()).await;
        assert_eq!(run.code, 4, "{args:?}: {}", run.stderr);
        assert_eq!(run.stderr.matches("error: cannot write to stdout").count(), 1, "{args:?}: {}", run.stderr);
    }
    // A sync whose report cannot be printed has still done its work, and says the report is lost.
    let run = run_with_stdout(&ws, &["sync"], dev_full()).await;
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(run.stderr.contains("error: cannot write to stdout"), "{}", run.stderr);
    ws.assert_exactly(&ids([1, 2]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stdout_closed_by_its_reader_is_not_an_error() {
    let ws = Workspace::new().await;
    ws.write_n(2);
    for (args, code) in
        [(&["sync"][..], 0), (&["status", "--output", "json"], 0), (&["completions", "bash"], 0), (&["man"], 0)]
    {
        let run = run_with_stdout(&ws, args, closed_pipe()).await;
        assert_eq!(run.code, code, "{args:?}: {}", run.stderr);
        assert!(!run.stderr.contains("error:"), "{args:?}: {}", run.stderr);
    }
    ws.assert_exactly(&ids([1, 2]));
}
