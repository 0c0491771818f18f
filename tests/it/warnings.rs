//! Warnings a person can read (docs/cli.md, "Warnings"): each value left out is shown once
//! (the report on stdout; the log only sums them up unless -v), grouped by column and reason
//! with a count and the first rows, every one with `--all-warnings` and in `--output json`;
//! and a phone column whose numbers are mostly refused in `[phone] default_region` gets one
//! hint naming the region that reads them.

use serde_json::Value;

use crate::support::{Run, Workspace};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/quirks");

/// A Google Contacts mapping of the first email and phone columns, in `region`.
fn google_mapping(region: &str) -> String {
    format!(
        "external_id = \"E-mail 1 - Value\"\n[default_fields]\nfirst_name = \"Given Name\"\nlast_name = \"Family Name\"\n\
         [[emails]]\nlabel = \"email\"\ncolumn = \"E-mail 1 - Value\"\n\
         [[phone_numbers]]\nlabel = \"mobile\"\ncolumn = \"Phone 1 - Value\"\nseparator = \" ::: \"\n\
         [phone]\ndefault_region = \"{region}\"\n"
    )
}

/// A workspace whose contacts.csv is the Google Contacts export of Indian numbers written
/// nationally (tests/fixtures/quirks/google-contacts-india.csv), mapped in `region`.
async fn india(region: &str) -> Workspace {
    let ws = Workspace::new().await;
    std::fs::copy(format!("{FIXTURES}/google-contacts-india.csv"), ws.path("contacts.csv")).expect("fixture");
    ws.write("mapping.toml", &google_mapping(region));
    ws
}

/// Runs `args` at the default log level (the harness's RUST_LOG lifted), as a user would.
async fn run_plain(ws: &Workspace, args: &[&str]) -> Run {
    let mut cmd = ws.command(args, Some(&ws.api_key));
    cmd.env_remove("RUST_LOG");
    ws.output(cmd).await
}

fn warnings(report: &Value) -> &Vec<Value> {
    report["warnings"].as_array().expect("warnings")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_shows_each_warning_once_and_the_log_only_sums_them_up() {
    let ws = india("US").await;
    let json = run_plain(&ws, &["sync", "--dry-run", "--output", "json"]).await;
    assert_eq!(json.code, 0, "{}", json.stderr);
    let report = json.report();
    let all = warnings(&report);
    assert!(all.len() >= 8, "{report:#}");
    for args in [&["sync", "--dry-run", "--all-warnings"][..], &["sync", "--dry-run"][..]] {
        let run = run_plain(&ws, args).await;
        assert_eq!(run.code, 0, "{}", run.stderr);
        let both = format!("{}{}", run.stdout, run.stderr);
        for w in all {
            let message = w["message"].as_str().unwrap();
            let shown = usize::from(args.len() == 3);
            assert_eq!(both.matches(message).count(), shown, "{args:?}: {message}\n{both}");
        }
        assert!(!run.stderr.contains("Value left out"), "{}", run.stderr);
        // The one line that sums the run up counts them.
        assert!(run.stderr.contains(&format!("warnings={}", all.len())), "{}", run.stderr);
    }
    // With --all-warnings every value is on stdout once; by default the value of a group's
    // first rows once, the others not at all.
    let run = run_plain(&ws, &["sync", "--dry-run"]).await;
    let first = all[0]["value"].as_str().unwrap();
    assert_eq!(format!("{}{}", run.stdout, run.stderr).matches(&format!("{first:?}")).count(), 1, "{}", run.stdout);
    // -v logs each one (a person asked for detail).
    let verbose = run_plain(&ws, &["-v", "sync", "--dry-run"]).await;
    assert_eq!(verbose.stderr.matches("Value left out").count(), all.len(), "{}", verbose.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn warnings_are_grouped_by_column_and_reason_and_json_lists_every_one() {
    let ws = india("US").await;
    let report = ws.run(&["sync", "--dry-run", "--output", "json"]).await.report();
    let all = warnings(&report);
    for w in all {
        assert!(w["row"].is_u64() && w["column"].is_string() && w["reason"].is_string(), "{w}");
        assert!(w["value"].as_str().is_some_and(|v| !v.is_empty()), "{w}");
    }
    let refused: Vec<&Value> = all
        .iter()
        .filter(|w| w["reason"].as_str().unwrap().starts_with("is not a valid phone number for its country"))
        .collect();
    assert!(refused.len() >= 5, "{report:#}");
    assert!(refused.iter().all(|w| w["column"] == "Phone 1 - Value"), "{refused:#?}");
    assert!(refused.iter().any(|w| w["value"] == "085900 11086"), "{refused:#?}");

    let run = ws.run(&["sync", "--dry-run"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let head = format!(
        "warning column \"Phone 1 - Value\", {} values: is not a valid phone number for its country (read as a number of region US",
        refused.len()
    );
    assert_eq!(run.stdout.matches(&head).count(), 1, "{}", run.stdout);
    let line = run.stdout.lines().skip_while(|l| !l.starts_with(&head)).nth(1).expect("examples");
    let rows: Vec<String> =
        refused.iter().take(3).map(|w| format!("row {} {:?}", w["row"], w["value"].as_str().unwrap())).collect();
    assert_eq!(
        line,
        format!("        {}, and {} more (--all-warnings lists each)", rows.join(", "), refused.len() - 3),
        "{}",
        run.stdout
    );
    // One group line per column and reason.
    let heads = run.stdout.lines().filter(|l| l.starts_with("warning ")).count();
    let mut groups: Vec<(String, String)> =
        all.iter().map(|w| (w["column"].to_string(), w["reason"].to_string())).collect();
    groups.sort();
    groups.dedup();
    assert_eq!(heads, groups.len(), "{}", run.stdout);

    let every = ws.run(&["sync", "--dry-run", "--all-warnings"]).await;
    assert_eq!(every.stdout.lines().filter(|l| l.starts_with("warning row ")).count(), all.len(), "{}", every.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn indian_numbers_read_in_us_get_one_hint_naming_in() {
    let ws = india("US").await;
    let report = ws.run(&["sync", "--dry-run", "--output", "json"]).await.report();
    let hints = report["hints"].as_array().expect("hints");
    assert_eq!(hints.len(), 1, "{report:#}");
    let hint = hints[0].as_str().unwrap();
    assert!(hint.starts_with("column \"Phone 1 - Value\": "), "{hint}");
    assert!(hint.contains("are not valid numbers of region US, [phone] default_region"), "{hint}");
    assert!(hint.contains("set [phone] default_region = \"IN\""), "{hint}");

    let run = ws.run(&["sync", "--dry-run"]).await;
    assert_eq!(run.stdout.matches("hint    column \"Phone 1 - Value\"").count(), 1, "{}", run.stdout);
    assert_eq!(run.stdout.matches("default_region = \"IN\"").count(), 1, "{}", run.stdout);
    let check = ws.run_with_key(&["check", "--offline"], None).await;
    assert!(check.stdout.contains("hint    column \"Phone 1 - Value\""), "{}", check.stdout);

    // With the region it names, the numbers are read and the hint is gone.
    ws.write("mapping.toml", &google_mapping("IN"));
    let report = ws.run(&["sync", "--dry-run", "--output", "json"]).await.report();
    assert_eq!(report["hints"], serde_json::json!([]), "{report:#}");
    assert!(
        warnings(&report).iter().all(|w| !w["reason"].as_str().unwrap().contains("not a valid phone number")),
        "{report:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_few_bad_numbers_among_good_us_ones_give_no_hint() {
    let ws = Workspace::new().await;
    let header = std::fs::read_to_string(format!("{FIXTURES}/google-contacts-india.csv")).unwrap();
    let header = header.lines().next().unwrap().to_owned();
    let columns: Vec<&str> = header.split(',').collect();
    let mut text = format!("{header}\n");
    let phones: Vec<String> = (10..30)
        .map(|i| format!("(201) 555-01{i}"))
        .chain(["1234", "94470 12345", "000-000-0000", "085900 11086", "555"].map(String::from))
        .collect();
    for (i, phone) in phones.iter().enumerate() {
        let cells: Vec<String> = columns
            .iter()
            .map(|c| match *c {
                "Given Name" => format!("P{i}"),
                "E-mail 1 - Value" => format!("p{i}@example.com"),
                "Phone 1 - Value" => phone.clone(),
                _ => String::new(),
            })
            .collect();
        text.push_str(&cells.join(","));
        text.push('\n');
    }
    ws.write("contacts.csv", &text);
    ws.write("mapping.toml", &google_mapping("US"));
    let report = ws.run(&["sync", "--dry-run", "--output", "json"]).await.report();
    assert_eq!(warnings(&report).len(), 5, "{report:#}");
    assert_eq!(report["hints"], serde_json::json!([]), "{report:#}");
    let run = ws.run(&["sync", "--dry-run"]).await;
    assert!(!run.stdout.contains("hint "), "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn control_characters_in_a_warned_value_are_escaped_in_the_grouped_output() {
    let ws = india("IN").await;
    let text = std::fs::read_to_string(ws.path("contacts.csv")).unwrap();
    // Two bad emails: one that sets the window title and one that reverses the text.
    let text = text.replacen("rohan.mehta@example.in", "rohan\u{1b}]0;pwned\u{7}", 1).replacen(
        "ananya@example.in",
        "ananya\u{202e}ni.elpmaxe",
        1,
    );
    ws.write("contacts.csv", &text);
    ws.write(
        "mapping.toml",
        &google_mapping("IN").replace("external_id = \"E-mail 1 - Value\"", "external_id = \"Name\""),
    );
    let run = ws.run(&["sync", "--dry-run"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stdout.contains('\u{1b}') && !run.stdout.contains('\u{7}'), "{:?}", run.stdout);
    assert!(!run.stdout.contains('\u{202e}'), "{:?}", run.stdout);
    assert!(
        run.stdout.contains("warning column \"E-mail 1 - Value\", 2 values: is not an email address"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("\"rohan\\u{1b}]0;pwned\\u{7}\""), "{}", run.stdout);
    assert!(run.stdout.contains("\"ananya\\u{202e}ni.elpmaxe\""), "{}", run.stdout);
    // JSON keeps the exact value.
    let report = ws.run(&["sync", "--dry-run", "--output", "json"]).await.report();
    assert!(warnings(&report).iter().any(|w| w["value"] == "rohan\u{1b}]0;pwned\u{7}"), "{report:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_logs_one_event_per_column_and_reason_and_the_hint() {
    use crate::daemon::{Daemon, YEARLY};
    let ws = india("US").await;
    let report = ws.run(&["sync", "--dry-run", "--output", "json"]).await.report();
    let mut groups: Vec<(String, String)> =
        warnings(&report).iter().map(|w| (w["column"].to_string(), w["reason"].to_string())).collect();
    groups.sort();
    groups.dedup();
    ws.append_config(YEARLY);
    // At the default log level, as systemd runs it.
    let mut cmd = ws.command(&["daemon"], Some(&ws.api_key));
    cmd.env_remove("RUST_LOG").env_remove("WATCHDOG_USEC").env_remove("WATCHDOG_PID");
    let d = Daemon::spawn(cmd, &ws.path("notify.sock"));
    d.wait_log("Sync finished", 30).await;
    let (code, _, log) = d.stop().await;
    assert_eq!(code, 0, "{log}");
    let events: Vec<&str> = log.lines().filter(|l| l.contains("Values left out")).collect();
    assert_eq!(events.len(), groups.len(), "{log}");
    assert!(events.iter().any(|l| l.contains("Phone 1 - Value") && l.contains("values=")), "{log}");
    assert!(!log.contains("Value left out"), "per-row events only at -v:\n{log}");
    let hints: Vec<&str> = log.lines().filter(|l| l.contains("Phone numbers refused in the default region")).collect();
    assert_eq!(hints.len(), 1, "{log}");
    assert!(hints[0].contains("default_region = \"IN\"") || hints[0].contains("default_region = \\\"IN\\\""), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn all_warnings_changes_only_the_text_view_and_says_nothing_when_there_are_none() {
    let ws = india("US").await;
    let strip = |report: Value| {
        let mut r = report;
        r["duration_ms"] = Value::Null;
        r
    };
    let plain = strip(ws.run(&["sync", "--dry-run", "--output", "json"]).await.report());
    let all = strip(ws.run(&["sync", "--dry-run", "--output", "json", "--all-warnings"]).await.report());
    assert_eq!(plain, all, "--all-warnings leaves the JSON report as it is");
    // Twice: the same lines.
    let first = ws.run(&["sync", "--dry-run", "--all-warnings"]).await;
    let second = ws.run(&["sync", "--dry-run", "--all-warnings"]).await;
    let warning_lines = |s: &str| s.lines().filter(|l| l.starts_with("warning")).map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(warning_lines(&first.stdout), warning_lines(&second.stdout));
    assert!(!warning_lines(&first.stdout).is_empty(), "{}", first.stdout);
    // A file without a bad value: no warning line, with or without the flag.
    ws.write("mapping.toml", &google_mapping("IN"));
    let text = std::fs::read_to_string(ws.path("contacts.csv")).unwrap().replace("080 2345 6789", "");
    ws.write("contacts.csv", &text);
    for args in [
        &["sync", "--dry-run"][..],
        &["sync", "--dry-run", "--all-warnings"][..],
        &["check", "--offline", "--all-warnings"][..],
    ] {
        let run = ws.run(args).await;
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert_eq!(warning_lines(&run.stdout), Vec::<String>::new(), "{args:?}: {}", run.stdout);
        assert!(!run.stdout.contains("hint "), "{args:?}: {}", run.stdout);
    }
}
