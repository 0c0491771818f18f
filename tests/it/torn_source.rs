//! A source caught mid-write is never trusted: a CSV rewritten in place while runs read it
//! never causes a delete, an update or a create from a partial file.

use std::time::{Duration, Instant};

use crate::support::rewriter::SlowRewriter;
use crate::support::{HEADER, Workspace, ids, row};

#[tokio::test(flavor = "multi_thread")]
async fn a_csv_rewritten_while_it_is_read_never_causes_a_write() {
    let ws = Workspace::new().await;
    ws.fake.set_rate_limit(None);
    ws.write_config("requests_per_second = 500\n");
    let rows: Vec<String> = (1..=400).map(row).collect();
    ws.write_rows(&rows);
    ws.sync(0).await;
    ws.fake.clear_requests();

    // A writer rewrites the same content in place, slowly, in chunks that end mid-line,
    // with a pause between rewrites (a run may then find the file whole).
    let text = format!("{HEADER}\n{}\n", rows.join("\n"));
    let path = ws.path("contacts.csv");
    let writer = SlowRewriter::start(path, text);
    let started = Instant::now();
    let (mut runs, mut refused) = (0, 0);
    while started.elapsed() < Duration::from_secs(8) {
        let run = ws.run(&["sync", "--output", "json"]).await;
        runs += 1;
        match run.code {
            0 => {
                let r = run.report();
                assert_eq!(r["planned"]["unchanged"], 400, "a run trusted a partial file: {r}");
            }
            4 => {
                assert!(run.stderr.contains("not trusted"), "{}", run.stderr);
                refused += 1;
            }
            code => panic!("exit {code}: {}\n{}", run.stdout, run.stderr),
        }
    }
    let rewrites = writer.stop();
    let writes: Vec<String> =
        ws.fake.requests().iter().filter(|r| r.method != "GET").map(|r| format!("{} {}", r.method, r.path)).collect();
    assert!(writes.is_empty(), "{runs} runs during {rewrites} rewrites wrote: {writes:?}");
    assert!(rewrites > 5 && runs > 2, "{runs} runs, {rewrites} rewrites");
    eprintln!("{runs} runs during {rewrites} rewrites; {refused} gave up after reading again");
    ws.assert_exactly(&ids(1..=400));
}
