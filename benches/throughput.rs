//! `cargo bench --bench throughput`: runs the release binary against the in-process fake
//! OpenPhone API and prints how close a sync gets to the rate limit, what it costs in
//! requests, and the same for a one-request-at-a-time client (the official guide's way).
//!
//! Scenarios are chosen with the first argument: `all` (default), `limit`, `waste` (also
//! `sync --verify`), `curve`, `local`, `history`, `sheet` (reading a Google Sheet from the
//! fake Sheets API), `workbook`, `vcard`, `postgres` (a query on the tests' private PostgreSQL
//! server; `BENCH_POSTGRES_ROWS`), `one`, `shared-key` (the key's 10 a second shared: alone, beside a
//! client spending 5 a second, two instances of this tool; `BENCH_SHARED_ROWS`, default 200).

#[path = "../tests/it/support/mod.rs"]
mod support;

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::fake_google::{FakeGoogle, Tab};
use support::fake_openphone::{FakeOptions, RateLimit};
use support::{Workspace, row, standard_fields};

struct Line {
    scenario: String,
    writes: u64,
    requests: u64,
    wall: f64,
    /// Writes per second while writing.
    sustained: f64,
    throttled: usize,
}

impl Line {
    fn print(&self) {
        println!(
            "| {:<40} | {:>6} | {:>8} | {:>7.1} | {:>8.2} | {:>8.2} | {:>4} |",
            self.scenario,
            self.writes,
            self.requests,
            self.wall,
            self.requests as f64 / self.wall,
            self.sustained,
            self.throttled
        );
    }
}

fn header() {
    println!("(req/s: every request over the whole run; writes/s: sustained while writing)\n");
    println!(
        "| {:<40} | {:>6} | {:>8} | {:>7} | {:>8} | {:>8} | {:>4} |",
        "scenario", "writes", "requests", "wall s", "req/s", "writes/s", "429s"
    );
    println!(
        "|{}|{}|{}|{}|{}|{}|{}|",
        "-".repeat(42),
        "-".repeat(8),
        "-".repeat(10),
        "-".repeat(9),
        "-".repeat(10),
        "-".repeat(10),
        "-".repeat(6)
    );
}

fn writes(report: &Value) -> u64 {
    let a = &report["applied"];
    a["create"].as_u64().unwrap() + a["update"].as_u64().unwrap() + a["delete"].as_u64().unwrap()
}

async fn workspace(latency_ms: u64, extra: &str) -> Workspace {
    let mut ws = Workspace::with(FakeOptions {
        custom_fields: standard_fields(),
        rate_limit: Some(RateLimit { per_second: 10, burst: 10, retry_after: false }),
        ..FakeOptions::default()
    })
    .await;
    ws.run_timeout = Duration::from_mins(20);
    ws.fake.set_latency(Duration::from_millis(latency_ms));
    ws.write_config(&format!("timeout_seconds = 30\nmax_retries = 8\n{extra}"));
    ws
}

async fn timed_sync(ws: &Workspace) -> (Value, f64) {
    let t = Instant::now();
    let run = ws.run(&["-q", "sync", "--output", "json"]).await;
    let wall = t.elapsed().as_secs_f64();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    (run.report(), wall)
}

/// A first load of `n` creates. The sustained rate is measured by the fake: writes landed
/// between the first and the last create, over that time (start-up and lookups excluded).
async fn first_load(n: usize, latency_ms: u64, extra: &str, name: &str) -> Line {
    let ws = workspace(latency_ms, extra).await;
    ws.write_n(n);
    let started = Instant::now();
    let child = ws.command(&["-q", "sync", "--output", "json"], Some(&ws.api_key)).output();
    let waiter = tokio::spawn(child);
    let (mut first, mut last) = (None, started);
    let mut seen = 0;
    while !waiter.is_finished() {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let count = ws.fake.contacts().len();
        if count > seen {
            if seen == 0 {
                first = Some(Instant::now());
            }
            seen = count;
            last = Instant::now();
        }
    }
    let out = waiter.await.unwrap().unwrap();
    let wall = started.elapsed().as_secs_f64();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(ws.fake.contacts().len(), n);
    let sustained = (n - 1) as f64 / last.duration_since(first.unwrap()).as_secs_f64();
    Line {
        scenario: name.to_owned(),
        writes: writes(&report),
        requests: report["api_requests"].as_u64().unwrap(),
        wall,
        sustained,
        throttled: ws.fake.count_429(),
    }
}

async fn limit() {
    println!("\n## At the limit: first load of 300 contacts (fake: 10 req/s token bucket, burst 10)\n");
    header();
    for latency in [200, 500] {
        first_load(300, latency, "", &format!("openphone-sync, {latency} ms latency")).await.print();
    }
    // BENCH_BASELINE=0 skips the slow one-request-at-a-time baseline (3.6 minutes).
    if std::env::var("BENCH_BASELINE").as_deref() == Ok("0") {
        return;
    }
    for latency in [200, 500] {
        first_load(300, latency, "concurrency = 1", &format!("one request at a time, {latency} ms latency"))
            .await
            .print();
    }
}

async fn waste() {
    println!("\n## Nothing wasted: requests per run (1,000 contacts, no latency)\n");
    // The client's own limiter is lifted too: this counts requests, it does not time them.
    let ws = workspace(0, "requests_per_second = 1000").await;
    ws.fake.set_rate_limit(None);
    let n = 1000;
    ws.write_n(n);
    let (first, wall) = timed_sync(&ws).await;
    println!("| {:<48} | {:>8} | {:>8} | {:>7} |", "run", "writes", "requests", "wall s");
    println!("|{}|{}|{}|{}|", "-".repeat(50), "-".repeat(10), "-".repeat(10), "-".repeat(9));
    let show = |name: &str, r: &Value, wall: f64| {
        let requests = r["api_requests"].as_u64().unwrap();
        println!("| {:<48} | {:>8} | {:>8} | {:>7.2} |", name, writes(r), requests, wall);
    };
    show("first load (field list + 50 lookups of 20 + creates)", &first, wall);
    let (noop, wall) = timed_sync(&ws).await;
    show("no-op rerun", &noop, wall);
    let mut rows: Vec<String> = (1..=n).map(row).collect();
    for r in rows.iter_mut().take(50) {
        *r = r.replace(",Referral,", ",Partner,");
    }
    rows.truncate(n - 10);
    rows.extend((n + 1..=n + 20).map(row));
    ws.write_rows(&rows);
    let (delta, wall) = timed_sync(&ws).await;
    show("delta: 50 changed, 20 new, 10 removed", &delta, wall);
    assert_eq!(delta["planned"]["update"], 50);
    // Five contacts edited in the app, then `sync --verify`: it reads all 1,010 back.
    for c in ws.fake.contacts().iter().take(5) {
        ws.fake.edit_contact(c["id"].as_str().unwrap(), |c| c["defaultFields"]["company"] = "Edited in the app".into());
    }
    let t = Instant::now();
    let run = ws.run(&["-q", "sync", "--verify", "--output", "json"]).await;
    let verify = run.report();
    assert_eq!(verify["verify"]["drifted"].as_array().unwrap().len(), 5, "{verify}");
    show("verify: 1,010 read back, 5 edited in the app restored", &verify, t.elapsed().as_secs_f64());
}

/// Another client shares the key and sends 6 requests a second from second 4 to 14: the
/// sync meets 429s, slows down, and climbs back to the limit when the other stops. Prints,
/// per second, the sync's writes and the 429s each client got.
async fn curve() {
    println!(
        "\n## Sharing the key: another client sends 6 req/s from second 4 to 14 (fake: 10 req/s, 200 ms latency)\n"
    );
    let mut ws = workspace(200, "").await;
    ws.run_timeout = Duration::from_mins(10);
    ws.fake.set_rate_limit(Some(RateLimit { per_second: 10, burst: 10, retry_after: false }));
    ws.write_n(300);
    let base = ws.fake.base_url();
    let key = ws.api_key.clone();
    let started = Instant::now();
    let hog = tokio::spawn(async move {
        let http = reqwest::Client::new();
        tokio::time::sleep(Duration::from_secs(4)).await;
        let mut tick = tokio::time::interval(Duration::from_millis(1000 / 6));
        for _ in 0..60 {
            tick.tick().await;
            let req = http.get(format!("{base}/v1/contact-custom-fields")).header("Authorization", &key).send();
            tokio::spawn(req);
        }
    });
    let mut cmd = ws.command(&["-q", "sync", "--output", "json"], Some(&ws.api_key));
    cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
    let waiter = tokio::spawn(async move { cmd.output().await });
    let throttled = |ws: &Workspace, ours: bool| {
        ws.fake.requests().iter().filter(|r| r.status == 429 && (r.path == "/v1/contact-custom-fields") != ours).count()
    };
    println!("| second | sync writes/s | sync 429s | other client 429s |");
    println!("|--------|---------------|-----------|-------------------|");
    let (mut writes, mut ours, mut theirs) = (0, 0, 0);
    let mut second = 0;
    while !waiter.is_finished() {
        second += 1;
        tokio::time::sleep_until((started + Duration::from_secs(second)).into()).await;
        let (w, o, t) = (ws.fake.contacts().len(), throttled(&ws, true), throttled(&ws, false));
        println!("| {:>6} | {:>13} | {:>9} | {:>17} |", second, w - writes, o - ours, t - theirs);
        (writes, ours, theirs) = (w, o, t);
    }
    hog.abort();
    assert_eq!(ws.fake.contacts().len(), 300);
}

/// One line of the shared-key table: over `span` (seconds), the tool's requests, the key's,
/// and the key's 429s.
fn shared_line(name: &str, tool: usize, span: f64, key: usize, refused: usize, other: &str) {
    println!(
        "| {name:<32} | {tool:>6} | {span:>6.1} | {:>7.2} | {key:>6} | {refused:>4} ({:.1} %) | {other} |",
        tool as f64 / span,
        100.0 * refused as f64 / key.max(1) as f64
    );
}

/// The key's 10 a second shared with other clients (fake: one window a second per key, the
/// RateLimit fields on every answer, 200 ms latency): a first load of BENCH_SHARED_ROWS
/// contacts alone; beside another client that spends 5 requests a second on the key and never
/// slows down; and as two instances of this tool, each with its own source and mirror, run at
/// once against the same key. Rates are taken by the fake over the creates (the tool's start-up,
/// reading and mapping excluded): from the first create to the last (for two instances, while
/// both create).
async fn shared_key() {
    use support::fake_openphone::RecordedRequest;
    let n: usize = std::env::var("BENCH_SHARED_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    println!("\n## Sharing the key: first loads of {n} contacts (fake: 10 req/s per key, 200 ms latency)\n");
    println!("| scenario | tool requests | over s | tool req/s | key requests | key 429s | other |");
    println!("|----------|---------------|--------|------------|--------------|----------|-------|");
    let fresh = || async {
        let mut ws = workspace(200, "").await;
        ws.run_timeout = Duration::from_mins(20);
        ws
    };
    let run_one = |ws: &Workspace, key: &str| {
        let mut cmd = ws.command(&["-q", "sync", "--output", "json"], Some(key));
        cmd.stderr(std::process::Stdio::null());
        async move {
            let out = cmd.output().await.unwrap();
            assert_eq!(out.status.code(), Some(0));
        }
    };
    let creates = |reqs: &[RecordedRequest], ids: std::ops::RangeInclusive<usize>| -> Vec<Instant> {
        reqs.iter()
            .filter(|r| r.method == "POST")
            .filter(|r| {
                let id = r.body.as_ref().and_then(|b| b["externalId"].as_str()).unwrap_or_default();
                id.trim_start_matches(|c: char| !c.is_ascii_digit()).parse::<usize>().is_ok_and(|i| ids.contains(&i))
            })
            .map(|r| r.at)
            .collect()
    };
    let within = |reqs: &[RecordedRequest], from: Instant, to: Instant| -> Vec<RecordedRequest> {
        reqs.iter().filter(|r| r.at >= from && r.at <= to).cloned().collect()
    };

    // Alone.
    let ws = fresh().await;
    ws.write_n(n);
    run_one(&ws, &ws.api_key).await;
    let reqs = ws.fake.requests();
    let ours = creates(&reqs, 1..=n);
    let (from, to) = (ours[0], *ours.last().unwrap());
    let span = to.duration_since(from).as_secs_f64();
    let key = within(&reqs, from, to);
    let refused = key.iter().filter(|r| r.status == 429).count();
    shared_line("alone", ours.len() - 1, span, key.len(), refused, "");

    // Beside a client at 5 a second.
    let ws = fresh().await;
    ws.write_n(n);
    let (base, key) = (ws.fake.base_url(), ws.api_key.clone());
    let neighbour = tokio::spawn(async move {
        let http = reqwest::Client::new();
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        loop {
            tick.tick().await;
            tokio::spawn(http.get(format!("{base}/v1/contact-custom-fields")).header("Authorization", &key).send());
        }
    });
    tokio::time::sleep(Duration::from_secs(2)).await;
    run_one(&ws, &ws.api_key).await;
    neighbour.abort();
    let reqs = ws.fake.requests();
    let ours = creates(&reqs, 1..=n);
    let (from, to) = (ours[0], *ours.last().unwrap());
    let span = to.duration_since(from).as_secs_f64();
    let key = within(&reqs, from, to);
    let theirs: Vec<_> = key.iter().filter(|r| r.path == "/v1/contact-custom-fields").collect();
    let their_429 = theirs.iter().filter(|r| r.status == 429).count();
    let refused = key.iter().filter(|r| r.status == 429).count();
    let other = format!("other client: {} requests, {their_429} refused", theirs.len());
    shared_line("beside a client at 5 req/s", ours.len() - 1, span, key.len(), refused, &other);

    // Two instances, each its own source (rows 1..n and n+1..2n) and mirror, one key.
    let (a, b) = (fresh().await, fresh().await);
    a.write_n(n);
    b.write_rows(&(n + 1..=2 * n).map(row).collect::<Vec<_>>());
    let config = std::fs::read_to_string(b.path("config.toml")).unwrap();
    b.write("config.toml", &config.replace(&b.fake.base_url(), &a.fake.base_url()));
    tokio::join!(run_one(&a, &a.api_key), run_one(&b, &a.api_key));
    assert_eq!(a.fake.contacts().len(), 2 * n);
    let reqs = a.fake.requests();
    let (ca, cb) = (creates(&reqs, 1..=n), creates(&reqs, n + 1..=2 * n));
    let (from, to) = (ca[0].max(cb[0]), (*ca.last().unwrap()).min(*cb.last().unwrap()));
    let span = to.duration_since(from).as_secs_f64();
    let key = within(&reqs, from, to);
    let refused = key.iter().filter(|r| r.status == 429).count();
    let count = |c: &[Instant]| c.iter().filter(|t| **t >= from && **t <= to).count();
    let (na, nb) = (count(&ca), count(&cb));
    let other = format!("each: {:.2} and {:.2} req/s", na as f64 / span, nb as f64 / span);
    shared_line("two instances, together", na + nb, span, key.len(), refused, &other);
}

/// The report, wall time and peak RSS (KiB) of one run of the binary. The peak comes from
/// GNU time's `%M` (`/usr/bin/time`, Debian package `time`): `wait4`'s `ru_maxrss` would
/// report the bench process's own peak, which a child inherits at spawn.
fn measure(ws: &Workspace, args: &[&str]) -> (Value, f64, u64) {
    let (stdout, stderr, wall, rss) = measure_output(ws, args, "error");
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    (report, wall, rss)
}

/// One run of the binary with `RUST_LOG=openphone_sync=<log>`: stdout, stderr, wall time
/// and peak RSS (KiB), as [`measure`] takes them.
fn measure_output(ws: &Workspace, args: &[&str], log: &str) -> (String, String, f64, u64) {
    assert!(
        std::path::Path::new("/usr/bin/time").exists(),
        "the local bench needs /usr/bin/time (apt-get install time)"
    );
    // BENCH_WRAP="perf record -g -o /tmp/perf.data" (say) runs it under a profiler too.
    let wrap = std::env::var("BENCH_WRAP").unwrap_or_default();
    let mut words = wrap.split_whitespace();
    let mut cmd = std::process::Command::new(words.next().unwrap_or("/usr/bin/time"));
    if !wrap.is_empty() {
        cmd.args(words).arg("/usr/bin/time");
    }
    cmd.args(["-f", "maxrss_kb=%M", support::BIN, "--config"]).arg(ws.path("config.toml")).args(args);
    cmd.env("OPENPHONE_API_KEY", &ws.api_key).env("RUST_LOG", format!("openphone_sync={log}"));
    let started = Instant::now();
    let out = cmd.output().unwrap();
    let wall = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let rss = stderr
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("maxrss_kb="))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no maxrss in: {stderr}"));
    assert!(out.status.success(), "{args:?} failed: {stderr}{}", String::from_utf8_lossy(&out.stdout));
    (String::from_utf8_lossy(&out.stdout).into_owned(), stderr, wall, rss)
}

/// Fills the mirror as if every row had been synced, without a request: maps the CSV
/// with the library and records each state as confirmed, all in one transaction
/// (`Mirror::confirm_many`). `Mirror::confirm`, one fsync'd transaction a contact, took 6.5 s
/// instead of 0.4 s for 10,000 rows (about 11 minutes for the million of `local`).
fn seed_mirror(ws: &Workspace) {
    use openphone_sync::config::Config;
    use openphone_sync::mapping::records::{SyncCheck, map_items};
    use openphone_sync::mapping::{FieldCatalog, Mapper, Mapping};
    use openphone_sync::model::{CustomFieldDef, FieldType, PushedState};
    use openphone_sync::source::SourceItem;
    let config = Config::load(&ws.path("config.toml")).unwrap();
    let mapping = Mapping::load(&config.sync.mapping).unwrap();
    let defs = standard_fields()
        .into_iter()
        .map(|d| CustomFieldDef { name: d.name, key: d.key, field_type: FieldType::parse(&d.field_type).unwrap() })
        .collect();
    let data = openphone_sync::source::csv::read_path(
        &ws.path("contacts.csv"),
        &openphone_sync::source::csv::CsvOptions::default(),
    )
    .unwrap();
    // Bound as a run binds it (`null_values` are part of the mapper's fingerprint), so the
    // rows' digests are the ones a run would have recorded.
    let mapper = Mapper::new(&mapping, &data.header, "contacts.csv", &FieldCatalog::Workspace(defs))
        .unwrap()
        .with_null_values(&config.null_values);
    let items = data.rows.into_iter().map(|r| Ok(SourceItem::Row(r)));
    /// The bench's mirror is empty: nothing is in sync, every record is kept.
    struct NoneInSync;
    impl SyncCheck for NoneInSync {
        fn row_in_sync(&self, _: usize, _: openphone_sync::model::Digest) -> bool {
            false
        }
        fn record_in_sync(&self, _: &openphone_sync::model::Record) -> bool {
            false
        }
    }
    let mapped = map_items(&mapper, items, &NoneInSync).unwrap();
    assert!(mapped.errors.is_empty());
    let pushed: Vec<(String, PushedState, Option<openphone_sync::model::Digest>)> = mapped
        .records
        .into_iter()
        .map(|r| {
            (r.external_id, PushedState { state: r.state, email_ids: vec![None], phone_ids: vec![None] }, r.source_hash)
        })
        .collect();
    let mut mirror = openphone_sync::mirror::Mirror::open(&config.database, config.lock_timeout).unwrap();
    mirror.confirm_many(pushed.iter().map(|(id, p, s)| (id.as_str(), id.as_str(), p, *s))).unwrap();
}

/// Local work: a no-op run and a dry run that plans 1% changes, against a full mirror.
async fn local() {
    println!("\n## Local work: runs against a full mirror (peak RSS of the process, wall time)\n");
    println!("| rows | run | planned unchanged | planned update | requests | wall s | peak MiB |");
    println!("|------|-----|-------------------|----------------|----------|--------|----------|");
    let sizes: Vec<usize> = std::env::var("BENCH_LOCAL_SIZES").ok().map_or_else(
        || vec![10_000, 100_000, 1_000_000],
        |v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect(),
    );
    for n in sizes {
        let ws = workspace(0, "requests_per_second = 1000").await;
        ws.write_n(n);
        let started = Instant::now();
        seed_mirror(&ws);
        eprintln!("({n} rows: the mirror seeded in {:.2} s)", started.elapsed().as_secs_f64());
        for (name, args) in [("no-op sync", vec!["sync", "--output", "json"]), ("dry run, 1% changed", vec![])] {
            if args.is_empty() {
                let rows: Vec<String> = (1..=n)
                    .map(|i| if i % 100 == 0 { row(i).replace(",Referral,", ",Partner,") } else { row(i) })
                    .collect();
                ws.write_rows(&rows);
            }
            let args = if args.is_empty() { vec!["sync", "--dry-run", "--output", "json"] } else { args };
            let (report, wall, rss) = measure(&ws, &args);
            println!(
                "| {n} | {name} | {} | {} | {} | {wall:.2} | {:.0} |",
                report["planned"]["unchanged"],
                report["planned"]["update"],
                report["api_requests"],
                rss as f64 / 1024.0
            );
        }
    }
}

/// Reading a Google Sheet: BENCH_SHEET_ROWS (default 100,000) rows served by the fake
/// Sheets API (`support::fake_google`, the rows the tests use), read by `check --offline`
/// and planned by `sync --dry-run`, next to the time the fake alone takes to send the values
/// and the same rows read from a CSV.
async fn sheet() {
    let n: usize = std::env::var("BENCH_SHEET_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    println!("\n## Reading a Google Sheet: {n} rows x 11 columns from the fake Sheets API, and as a CSV\n");
    const SHEET_ID: &str = "1BenchSheet";
    // No rate limit on either side: the dry run's lookups (one per 20 new rows) are not
    // what is measured.
    let ws = workspace(0, "").await;
    ws.fake.set_rate_limit(None);
    let google = FakeGoogle::start().await;
    let mut rows = vec![support::header_cells()];
    rows.extend((1..=n).map(support::sheet_row));
    google.add_spreadsheet(SHEET_ID, vec![Tab::new(0, "Contacts", rows)]);
    ws.use_sheet(&google, SHEET_ID, "Contacts!A1:K", "");
    let config = std::fs::read_to_string(ws.path("config.toml")).unwrap();
    ws.write("config.toml", &config.replace("[openphone]\n", "[openphone]\nrequests_per_second = 1000\n"));

    // The API alone: one values.get, body downloaded (what any client must wait for).
    let url = format!(
        "{}v4/spreadsheets/{SHEET_ID}/values/Contacts!A1:K?valueRenderOption=UNFORMATTED_VALUE&dateTimeRenderOption=SERIAL_NUMBER",
        google.api_base_url()
    );
    let started = Instant::now();
    let reply = reqwest::Client::new().get(&url).bearer_auth(google.issue_token()).send().await.unwrap();
    assert!(reply.status().is_success(), "values.get: {}", reply.status());
    let body = reply.bytes().await.unwrap();
    let api_secs = started.elapsed().as_secs_f64();
    let api_mb = body.len() as f64 / 1e6;
    drop(body);

    println!("| source | run | read | OpenPhone requests | wall s | peak MiB |");
    println!("|--------|-----|------|--------------------|--------|----------|");
    println!("| sheet | the fake's values.get alone | {api_mb:.1} MB | | {api_secs:.2} | |");
    let runs: [(&str, &[&str]); 2] =
        [("check --offline", &["check", "--offline"]), ("sync --dry-run", &["sync", "--dry-run", "--output", "json"])];
    let mut reading = String::new();
    for (name, args) in runs {
        google.clear_requests();
        let (stdout, stderr, wall, rss) = measure_output(&ws, args, "info");
        let received: usize = google.requests().iter().map(|r| r.bytes).sum();
        let mb = received as f64 / 1e6;
        println!(
            "| sheet | {name} | {mb:.1} MB in {} requests | {} | {wall:.2} | {:.0} |",
            google.requests().len(),
            api_requests(&stdout),
            rss as f64 / 1024.0
        );
        if let Some(at) = stderr.find("Read the sheet") {
            stderr[at..].lines().next().unwrap_or_default().clone_into(&mut reading);
        }
    }
    ws.write_n(n);
    ws.write_config("requests_per_second = 1000");
    let csv_mb = std::fs::metadata(ws.path("contacts.csv")).unwrap().len() as f64 / 1e6;
    for (name, args) in runs {
        let (stdout, _, wall, rss) = measure_output(&ws, args, "error");
        println!(
            "| CSV | {name} | {csv_mb:.1} MB file | {} | {wall:.2} | {:.0} |",
            api_requests(&stdout),
            rss as f64 / 1024.0
        );
    }
    println!("\nThe sheet's own log line: {reading}");
}

/// Reading a workbook: BENCH_WORKBOOK_ROWS (default 100,000) rows × 11 columns in an .xlsx
/// written by `rust_xlsxwriter`, typed as a user's workbook is (the rows of [`sheet`]: phone and
/// score numbers, the renewal a date cell, VIP a boolean), read by `check --offline` and
/// planned by `sync --dry-run`.
async fn workbook() {
    let n: usize = std::env::var("BENCH_WORKBOOK_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    println!("\n## Reading a workbook: {n} rows x 11 columns from an .xlsx\n");
    let ws = workspace(0, "requests_per_second = 1000").await;
    ws.fake.set_rate_limit(None);
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Contacts").unwrap();
    let date = rust_xlsxwriter::Format::new().set_num_format("m/d/yyyy");
    let rows = std::iter::once(support::header_cells()).chain((1..=n).map(support::sheet_row));
    for (r, cells) in rows.enumerate() {
        for (c, cell) in cells.into_iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            match cell {
                support::fake_google::Cell::Empty => {}
                support::fake_google::Cell::Text(t) => {
                    sheet.write_string(r, c, t).unwrap();
                }
                support::fake_google::Cell::Number(x) => {
                    sheet.write_number(r, c, x).unwrap();
                }
                support::fake_google::Cell::Bool(b) => {
                    sheet.write_boolean(r, c, b).unwrap();
                }
                support::fake_google::Cell::Date { serial, .. } => {
                    sheet.write_number_with_format(r, c, serial, &date).unwrap();
                }
            }
        }
    }
    book.save(ws.path("contacts.xlsx")).unwrap();
    let mb = std::fs::metadata(ws.path("contacts.xlsx")).unwrap().len() as f64 / 1e6;
    ws.write_config_with_source("requests_per_second = 1000", "type = \"workbook\"\npath = \"contacts.xlsx\"\n");
    source_table(&ws, "workbook", &format!("{mb:.1} MB file"));
}

/// Reading vCards: BENCH_VCARD_ROWS (default 100,000) vCard 3.0 cards in one .vcf file (name,
/// organisation, title, two emails, two phones by type, a birthday, a note, a UID), read by
/// `check --offline` and planned by `sync --dry-run`.
async fn vcard() {
    let n: usize = std::env::var("BENCH_VCARD_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    println!("\n## Reading vCards: {n} cards in one .vcf file\n");
    let ws = workspace(0, "requests_per_second = 1000").await;
    ws.fake.set_rate_limit(None);
    let mut text = String::with_capacity(n * 400);
    for i in 1..=n {
        let _ = write!(
            text,
            "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:card-{i}\r\nN:Last{i};First{i};;;\r\nFN:First{i} Last{i}\r\nORG:Company {i};\r\nTITLE:Buyer\r\nitem1.EMAIL;type=INTERNET;type=pref:user{i}@example.com\r\nEMAIL;TYPE=INTERNET;TYPE=HOME:home{i}@example.com\r\nTEL;type=CELL;type=VOICE:+1 201 555 {:04}\r\nTEL;TYPE=WORK:+1 201 556 {:04}\r\nBDAY;value=date:1990-01-{:02}\r\nNOTE:Met at the fair\\, {i}\r\nEND:VCARD\r\n",
            i % 10000,
            i % 10000,
            1 + i % 28
        );
    }
    ws.write("contacts.vcf", &text);
    let mb = text.len() as f64 / 1e6;
    drop(text);
    ws.write("mapping.toml", &std::fs::read_to_string("examples/recipes/vcard/mapping.toml").unwrap());
    ws.write_config_with_source("requests_per_second = 1000", "type = \"vcard\"\npath = \"contacts.vcf\"\n");
    source_table(&ws, "vcard", &format!("{mb:.1} MB file"));
}

/// Reading a PostgreSQL query: BENCH_POSTGRES_ROWS (default 100,000) rows of a table with the
/// standard columns, typed as a database holds them (a bigint phone, a boolean, an integer
/// score, a date), from the tests' private server (`support::postgres`), read by `check
/// --offline` and planned by `sync --dry-run`.
async fn postgres() {
    let n: usize = std::env::var("BENCH_POSTGRES_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    println!("\n## Reading a PostgreSQL query: {n} rows x 11 columns\n");
    let Some(server) = support::postgres::server() else {
        println!("(skipped: no PostgreSQL server binaries)");
        return;
    };
    let db = server.database().await;
    db.client
        .batch_execute(&format!(
            "CREATE TABLE contacts AS SELECT i AS id, 'First' || i AS first_name, 'Last' || i AS last_name,
                 'Company ' || i AS company, 'user' || i || '@example.com' AS email,
                 (12015550000 + i % 10000)::bigint AS mobile, 'Referral'::text AS source, true AS vip,
                 i AS score, DATE '2025-01-01' + (i % 28) AS renewal, 'a;b'::text AS interests
             FROM generate_series(1, {n}) i; ANALYZE contacts;"
        ))
        .await
        .unwrap();
    let ws = workspace(0, "requests_per_second = 1000").await;
    ws.fake.set_rate_limit(None);
    ws.write("db-url", &db.url);
    let query = r#"SELECT 'C-' || CASE WHEN id < 10000 THEN lpad(id::text, 4, '0') ELSE id::text END AS "ID", first_name AS "First Name", last_name AS "Last Name",
  company AS "Company", email AS "Email", mobile AS "Mobile", source AS "Source", vip AS "VIP",
  score AS "Score", renewal AS "Renewal", interests AS "Interests"
FROM contacts ORDER BY id"#;
    ws.write_config_with_source(
        "requests_per_second = 1000",
        &format!("type = \"postgres\"\nurl_file = \"db-url\"\nquery = '''\n{query}'''\n"),
    );
    source_table(&ws, "postgres", &format!("{n} rows"));
}

/// The table of a source bench: `check --offline` and a dry run on `ws`, `read` saying what
/// was read (shared by the workbook, vCard and PostgreSQL benches).
fn source_table(ws: &Workspace, source: &str, read: &str) {
    println!("| source | run | read | OpenPhone requests | wall s | peak MiB |");
    println!("|--------|-----|------|--------------------|--------|----------|");
    let runs: [(&str, &[&str]); 2] =
        [("check --offline", &["check", "--offline"]), ("sync --dry-run", &["sync", "--dry-run", "--output", "json"])];
    for (name, args) in runs {
        let (stdout, _, wall, rss) = measure_output(ws, args, "error");
        println!("| {source} | {name} | {read} | {} | {wall:.2} | {:.0} |", api_requests(&stdout), rss as f64 / 1024.0);
    }
}

/// A JSON report's `api_requests`, or nothing for a run that prints no JSON (`check`).
fn api_requests(stdout: &str) -> String {
    serde_json::from_str::<Value>(stdout).map(|r| r["api_requests"].to_string()).unwrap_or_default()
}

/// The mirror's size on disk (checkpointed and vacuumed, so free pages do not count).
fn mirror_bytes(ws: &Workspace) -> u64 {
    let conn = rusqlite::Connection::open(ws.mirror_path()).unwrap();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); VACUUM; PRAGMA wal_checkpoint(TRUNCATE);").unwrap();
    drop(conn);
    std::fs::metadata(ws.mirror_path()).unwrap().len()
}

/// History's cost: a full mirror (BENCH_HISTORY_ROWS, default 100,000), 10 runs that each
/// change 1% of the rows, then the mirror's size and a no-op run, with the history those runs
/// recorded and with it emptied (the mirror as it was before history).
async fn history() {
    let n: usize = std::env::var("BENCH_HISTORY_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    println!("\n## History: {n} contacts after 10 runs changing 1% each\n");
    let mut ws =
        Workspace::with(FakeOptions { custom_fields: standard_fields(), rate_limit: None, ..FakeOptions::default() })
            .await;
    ws.run_timeout = Duration::from_mins(20);
    ws.write_config("requests_per_second = 1000\ntimeout_seconds = 30\n");
    ws.write_n(n);
    seed_mirror(&ws);
    let start_bytes = mirror_bytes(&ws);
    for run in 1..=10 {
        // Run k changes the rows with i % 100 == k - 1 (and keeps the earlier runs' changes).
        let rows: Vec<String> = (1..=n)
            .map(
                |i| if i % 100 < run { row(i).replace(",Referral,", &format!(",Partner{},", i % 100)) } else { row(i) },
            )
            .collect();
        ws.write_rows(&rows);
        let (report, wall, _) = measure(&ws, &["sync", "--output", "json"]);
        assert_eq!(writes(&report), (n / 100) as u64, "{report}");
        println!("run {run}: {} writes in {wall:.1} s", writes(&report));
    }
    let conn = rusqlite::Connection::open(ws.mirror_path()).unwrap();
    let entries: i64 = conn.query_row("SELECT COUNT(*) FROM history", [], |r| r.get(0)).unwrap();
    drop(conn);
    let with = mirror_bytes(&ws);
    let noop = |ws: &Workspace| {
        // The best of three: the first one also warms the page cache.
        (0..3)
            .map(|_| {
                let (report, wall, rss) = measure(ws, &["sync", "--output", "json"]);
                assert_eq!(writes(&report), 0);
                (wall, rss)
            })
            .fold((f64::MAX, 0), |(w, r), (wall, rss)| (w.min(wall), r.max(rss)))
    };
    let (noop_with, rss_with) = noop(&ws);
    let conn = rusqlite::Connection::open(ws.mirror_path()).unwrap();
    conn.execute("DELETE FROM history", []).unwrap();
    drop(conn);
    let without = mirror_bytes(&ws);
    let (noop_without, rss_without) = noop(&ws);
    println!();
    println!("| mirror | size | no-op sync | peak MiB |");
    println!("|--------|------|------------|----------|");
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    println!("| seeded, no run yet | {:.1} MiB | | |", mib(start_bytes));
    println!(
        "| without history (emptied) | {:.1} MiB | {noop_without:.2} s | {:.0} |",
        mib(without),
        rss_without as f64 / 1024.0
    );
    println!(
        "| with the 10 runs' history ({entries} changes) | {:.1} MiB | {noop_with:.2} s | {:.0} |",
        mib(with),
        rss_with as f64 / 1024.0
    );
    println!("\nHistory growth: {:.0} bytes per change.", (with - without) as f64 / entries.max(1) as f64);
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let which = std::env::args().skip(1).find(|a| !a.starts_with('-')).unwrap_or_else(|| "all".into());
    println!(
        "# openphone-sync throughput bench ({} build of the binary)",
        if cfg!(debug_assertions) { "debug" } else { "release" }
    );
    if matches!(which.as_str(), "all" | "waste") {
        waste().await;
    }
    if matches!(which.as_str(), "all" | "limit") {
        limit().await;
    }
    if which == "one" {
        println!();
        header();
        first_load(300, 200, "", "openphone-sync, 200 ms latency").await.print();
    }
    if matches!(which.as_str(), "all" | "curve") {
        curve().await;
    }
    if matches!(which.as_str(), "all" | "shared-key") {
        shared_key().await;
    }
    if matches!(which.as_str(), "all" | "local") {
        local().await;
    }
    if matches!(which.as_str(), "all" | "history") {
        history().await;
    }
    if matches!(which.as_str(), "all" | "sheet") {
        sheet().await;
    }
    if matches!(which.as_str(), "all" | "workbook") {
        workbook().await;
    }
    if matches!(which.as_str(), "all" | "vcard") {
        vcard().await;
    }
    if matches!(which.as_str(), "all" | "postgres") {
        postgres().await;
    }
}
