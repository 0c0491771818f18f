//! The messages of the common mistakes, as a user sees them (the default log level), pinned
//! by insta snapshots (`tests/it/snapshots/mistake_*.snap`): a missing config file, an
//! unknown config key, a bad mapping key, no API key for a real sync, a source file missing
//! or not in its encoding, a bad cron. Each exits 2 having written nothing to OpenPhone; a
//! mistake found in the files, before the source is read, makes no mirror either.

use crate::support::Workspace;

/// Runs `args` (`--config` first) with the default log level: asserts exit 2 and nothing
/// written to OpenPhone; returns stderr.
async fn mistake(ws: &Workspace, args: &[&str], key: Option<&str>) -> String {
    let mut cmd = ws.command(args, key);
    cmd.env_remove("RUST_LOG");
    let run = ws.output(cmd).await;
    assert_eq!(run.code, 2, "exit code; stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert!(run.stdout.is_empty(), "the error goes to stderr, stdout is empty: {}", run.stdout);
    let writes: Vec<_> = ws.fake.requests().into_iter().filter(|r| r.method != "GET").collect();
    assert!(writes.is_empty(), "nothing is written to OpenPhone: {writes:?}");
    run.stderr
}

/// [`mistake`] with the API key set.
async fn mistake_with_key(ws: &Workspace, args: &[&str]) -> String {
    mistake(ws, args, Some(&ws.api_key)).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_config_file() {
    let ws = Workspace::new().await;
    std::fs::remove_file(ws.path("config.toml")).unwrap();
    let stderr = mistake_with_key(&ws, &["sync"]).await;
    ws.snapshot("mistake_missing_config_file", &stderr);
    assert!(!ws.mirror_path().exists(), "no mirror is made");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_config_key() {
    let ws = Workspace::new().await;
    ws.write_n(1);
    ws.write_config("timeout_second = 2");
    let stderr = mistake_with_key(&ws, &["sync"]).await;
    ws.snapshot("mistake_unknown_config_key", &stderr);
    assert!(!ws.mirror_path().exists(), "no mirror is made");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_mapping_key() {
    let ws = Workspace::new().await;
    ws.write_n(1);
    let mapping = std::fs::read_to_string(ws.path("mapping.toml")).unwrap();
    ws.write("mapping.toml", &mapping.replacen("column = \"Email\"", "colum = \"Email\"", 1));
    let stderr = mistake_with_key(&ws, &["sync"]).await;
    ws.snapshot("mistake_bad_mapping_key", &stderr);
    assert!(!ws.mirror_path().exists(), "no mirror is made");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_api_key_for_a_real_sync() {
    let ws = Workspace::new().await;
    ws.write_n(1);
    let stderr = mistake(&ws, &["sync"], None).await;
    ws.snapshot("mistake_no_api_key", &stderr);
    assert!(!ws.mirror_path().exists(), "no mirror is made");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_source_file() {
    let ws = Workspace::new().await;
    std::fs::remove_file(ws.path("contacts.csv")).unwrap();
    let stderr = mistake_with_key(&ws, &["sync"]).await;
    ws.snapshot("mistake_missing_source_file", &stderr);
    assert!(!ws.mirror_path().exists(), "no mirror is made");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_source_file_not_in_its_encoding() {
    let ws = Workspace::new().await;
    ws.write_n(2);
    // "é" as Windows-1252 writes it, in a file read as UTF-8.
    let mut bytes = std::fs::read(ws.path("contacts.csv")).unwrap();
    let at = bytes.windows(6).position(|w| w == b"First2").unwrap();
    bytes.splice(at..at + 6, b"Ren\xe9".iter().copied());
    std::fs::write(ws.path("contacts.csv"), bytes).unwrap();
    let stderr = mistake_with_key(&ws, &["sync"]).await;
    ws.snapshot("mistake_source_not_utf8", &stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_cron() {
    let ws = Workspace::new().await;
    ws.write_n(1);
    ws.append_config("[schedule]\ncron = \"every day at 9\"\n");
    let stderr = mistake_with_key(&ws, &["check", "--offline"]).await;
    ws.snapshot("mistake_bad_cron", &stderr);
    assert!(!ws.mirror_path().exists(), "no mirror is made");
}
