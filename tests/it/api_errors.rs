//! What a user sees when OpenPhone refuses: the message and key of the live envelope (or the
//! message and code of the spec's flat one) on stderr, in the report's `errors` and in
//! `failures`; the trace id at `-v`; and, for an answer that is not the API's (an HTML page on
//! a path that is no route), the status and a word about `base_url`.

use crate::support::Workspace;
use crate::support::fake_openphone::{ErrorEnvelope, Fault, FaultRule};

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_key_shows_the_message_and_key_of_either_envelope_and_the_trace_at_v() {
    let ws = Workspace::new().await;
    ws.write_n(2);
    // At the default log level (the harness's RUST_LOG lifted).
    let quiet = |args: &[&str]| {
        let mut cmd = ws.command(args, Some("wrong-key"));
        cmd.env_remove("RUST_LOG");
        ws.output(cmd)
    };
    let run = quiet(&["sync"]).await;
    assert_eq!(run.code, 4, "{}", run.stderr);
    let want = "error: OpenPhone refused the API key (HTTP 401, key Unauthorized): Unauthorized; check $OPENPHONE_API_KEY or [openphone].api_key_file";
    assert!(run.stderr.contains(want), "{}", run.stderr);
    assert!(!run.stderr.contains("no message") && !run.stderr.contains("trace"), "{}", run.stderr);

    // At -v, the trace id that OpenPhone's support asks for.
    let run = quiet(&["-v", "sync"]).await;
    let trace = regex::Regex::new(r#"trace="?[0-9a-f]{32}"#).unwrap();
    assert!(trace.is_match(&run.stderr), "{}", run.stderr);

    // The spec's flat envelope: its code instead of the key.
    ws.fake.set_error_envelope(ErrorEnvelope::Flat);
    let run = ws.run_with_key(&["sync"], Some("wrong-key")).await;
    assert!(run.stderr.contains("(HTTP 401, code 0700401): Unauthorized; check"), "{}", run.stderr);
    assert!(ws.fake.contacts().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_write_shows_the_message_and_key_in_the_report_and_in_failures() {
    let ws = Workspace::new().await;
    ws.write_n(3);
    ws.fake.add_fault(FaultRule {
        method: Some("POST".into()),
        path_prefix: Some("/v1/contacts".into()),
        fault: Fault::FailBeforeApply { status: 422 },
        times: 1,
        probability: None,
    });
    let report = ws.sync(1).await;
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{report:#}");
    let message = errors[0]["message"].as_str().unwrap();
    let want = "OpenPhone rejected the request (HTTP 422, key UnprocessableEntity): Unprocessable Entity";
    assert!(message.contains(want), "{message}");
    assert_eq!((errors[0]["status"].as_u64(), errors[0]["code"].as_str()), (Some(422), Some("UnprocessableEntity")));
    let failures = ws.run(&["failures"]).await;
    assert!(failures.stdout.contains(want), "{}", failures.stdout);
    assert_eq!(ws.fake.contacts().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_base_url_that_reaches_no_route_says_so_and_writes_nothing() {
    let ws = Workspace::new().await;
    ws.write_n(3);
    let config = std::fs::read_to_string(ws.path("config.toml")).unwrap();
    let base = ws.fake.base_url();
    ws.write("config.toml", &config.replace(&format!("base_url = \"{base}\""), &format!("base_url = \"{base}/api\"")));
    let run = ws.run(&["sync"]).await;
    assert_eq!(run.code, 4, "{}\n{}", run.stdout, run.stderr);
    let want = format!(
        "OpenPhone answered GET {base}/api/v1/contact-custom-fields with HTTP 404 and an HTML page, not an answer of the API: \
         that path is not one of the API's routes; check [openphone].base_url"
    );
    assert!(run.stderr.contains(&want), "{}", run.stderr);
    assert!(ws.fake.contacts().is_empty());
    assert_eq!(ws.fake.requests().len(), 1, "stopped at the first answer");
}
