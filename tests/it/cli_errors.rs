//! End-to-end: config and mapping mistakes are reported with file, line and key and exit 2
//! before any request; `check`, `status` and `fields` do what they say.

use crate::support::Workspace;

#[tokio::test(flavor = "multi_thread")]
async fn config_mistakes_are_all_reported_with_lines_and_nothing_is_sent() {
    let ws = Workspace::new().await;
    ws.write_n(2);
    let config = std::fs::read_to_string(ws.path("config.toml")).unwrap();
    let bad = config
        .replace("timeout_seconds = 2", "timeout_second = 2")
        .replace("[sync]", "[schedule]\ncron = \"*/5 * * * *\"\n\n[sync]")
        .replace("max_delete_fraction = 0.5", "max_delete_fraction = \"half\"");
    ws.write("config.toml", &bad);
    let run = ws.run(&["sync"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    let line_of = |needle: &str| bad.lines().position(|l| l.contains(needle)).unwrap() + 1;
    for want in [
        format!("config.toml:{}: `openphone.timeout_second`: unknown key", line_of("timeout_second")),
        format!("config.toml:{}: `sync.max_delete_fraction`: must be a number", line_of("max_delete_fraction")),
    ] {
        assert!(run.stderr.contains(&want), "missing {want:?} in:\n{}", run.stderr);
    }
    assert!(ws.fake.requests().is_empty());
    assert!(!ws.mirror_path().exists());

    // With the types right, the semantic problems show, all at once.
    ws.write("config.toml", &bad.replace("\"half\"", "1.5"));
    let run = ws.run(&["sync"]).await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(&format!("config.toml:{}: `schedule.cron`: not a valid schedule", line_of("cron ="))),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("`sync.max_delete_fraction`: must be between 0 and 1"), "{}", run.stderr);
    assert!(run.stderr.contains("`openphone.timeout_second`: unknown key"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn mapping_mistakes_name_the_column_and_the_field() {
    let ws = Workspace::new().await;
    ws.write_n(2);
    let mapping = std::fs::read_to_string(ws.path("mapping.toml")).unwrap();
    ws.write(
        "mapping.toml",
        &mapping
            .replace("column = \"Email\"", "column = \"E-mail\"")
            .replace("name   = \"VIP\"", "name   = \"Very Important\""),
    );
    let run = ws.run(&["sync"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("`emails[1].column`: column \"E-mail\" is not in the header of"), "{}", run.stderr);
    assert!(run.stderr.contains("no custom field with name \"Very Important\""), "{}", run.stderr);
    assert!(ws.fake.contacts().is_empty());
    assert!(ws.fake.requests().iter().all(|r| r.method == "GET"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_real_sync_without_a_key_is_a_config_error() {
    let ws = Workspace::new().await;
    ws.write_n(1);
    let run = ws.run_with_key(&["sync"], None).await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no API key"), "{}", run.stderr);
    assert!(ws.fake.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_key_file_works_and_its_contents_never_show() {
    let ws = Workspace::new().await;
    ws.write_n(2);
    ws.write("api-key", &format!("{}\n", ws.api_key));
    ws.write_config("api_key_file = \"api-key\"");
    let run = ws.run_with_key(&["-vv", "sync"], None).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stdout.contains(&ws.api_key) && !run.stderr.contains(&ws.api_key), "the key leaked");
    assert_eq!(ws.fake.contacts().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn check_validates_online_and_offline() {
    let ws = Workspace::new().await;
    ws.write_n(2);
    let run = ws.run(&["check"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("API key accepted"), "{}", run.stdout);
    let run = ws.run_with_key(&["check", "--offline"], None).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = ws.run_with_key(&["check"], Some("wrong")).await;
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(ws.fake.contacts().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn status_and_fields_report_what_is_there() {
    let ws = Workspace::new().await;
    ws.write_n(3);
    let run = ws.run(&["status"]).await;
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("not created yet"), "{}", run.stdout);
    ws.sync(0).await;
    let run = ws.run(&["status", "--output", "json"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let status = run.report();
    assert_eq!(status["contacts"], 3);
    assert_eq!(status["runs"][0]["outcome"], "ok");
    assert_eq!(status["runs"][0]["applied"]["create"], 3);
    let run = ws.run(&["fields"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("Lead Source") && run.stdout.contains("multi-select"), "{}", run.stdout);
}
