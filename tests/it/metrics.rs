//! The daemon's `/metrics` endpoint, scraped over HTTP: a scrape parses with a Prometheus
//! text parser and counts what the run did, a scraper that asks for OpenMetrics gets it,
//! silent, half-sent and garbage connections hold up neither a scrape nor the schedule, and
//! every metric that `contrib/` (the Grafana dashboard, the Prometheus rules) queries is in
//! a real scrape.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::daemon::{Daemon, EVERY_SECOND, YEARLY};
use crate::support::Workspace;

/// Starts a daemon on `ws` serving metrics on a free loopback port, and waits for its first run.
async fn daemon_with_metrics(ws: &Workspace, schedule: &str) -> Daemon {
    ws.append_config(schedule);
    ws.append_config("[metrics]\nlisten = \"127.0.0.1:0\"\n");
    let d = Daemon::start(ws, &[]);
    d.wait_log("Sync finished", 10).await;
    d
}

/// GETs `/metrics`, with `accept` as the `Accept` header: (content type, body).
pub(crate) async fn scrape(addr: &str, accept: Option<&str>) -> (String, String) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut req = reqwest::Client::new().get(format!("http://{addr}/metrics")).timeout(Duration::from_secs(5));
    if let Some(a) = accept {
        req = req.header("Accept", a);
    }
    let reply = req.send().await.expect("the metrics endpoint answers");
    assert_eq!(reply.status(), 200);
    let content_type = reply.headers()["content-type"].to_str().unwrap().to_owned();
    (content_type, reply.text().await.unwrap())
}

/// The series of a Prometheus text scrape, `name{label="value",...}` (labels sorted) → value,
/// parsed by `prometheus-parse`. Fails unless every sample line parses and every sample has
/// a HELP and a TYPE of counter or gauge.
pub(crate) fn parse(text: &str) -> BTreeMap<String, f64> {
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).expect("a text scrape");
    let sample_lines = text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).count();
    assert_eq!(scrape.samples.len(), sample_lines, "a sample line did not parse:\n{text}");
    let mut series = BTreeMap::new();
    for s in scrape.samples {
        assert!(scrape.docs.contains_key(&s.metric), "{} has no HELP:\n{text}", s.metric);
        let value = match s.value {
            prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Gauge(v) => v,
            other => panic!("{} has no counter or gauge TYPE: {other:?}\n{text}", s.metric),
        };
        let mut labels: Vec<String> = s.labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
        labels.sort();
        let key = if labels.is_empty() { s.metric } else { format!("{}{{{}}}", s.metric, labels.join(",")) };
        assert!(series.insert(key.clone(), value).is_none(), "{key} twice:\n{text}");
    }
    series
}

/// The metric names in a scrape's series.
fn names(series: &BTreeMap<String, f64>) -> BTreeSet<String> {
    series.keys().map(|k| k.split('{').next().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scrape_parses_and_counts_runs_records_and_requests() {
    let ws = Workspace::new().await;
    ws.write_n(2);
    let d = daemon_with_metrics(&ws, YEARLY).await;
    let addr = d.metrics_addr();
    let (content_type, text) = scrape(&addr, None).await;
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
    let series = parse(&text);
    for (name, want) in [
        ("openphone_sync_runs_total{outcome=\"ok\"}", 1.0),
        ("openphone_sync_runs_total{outcome=\"unavailable\"}", 0.0),
        ("openphone_sync_records_total{action=\"create\",outcome=\"applied\"}", 2.0),
        ("openphone_sync_records_total{action=\"delete\",outcome=\"failed\"}", 0.0),
        ("openphone_sync_mirror_contacts", 2.0),
        ("openphone_sync_mirror_pending", 0.0),
        ("openphone_sync_run_in_progress", 0.0),
        ("openphone_sync_drift_total{kind=\"edited\"}", 0.0),
        ("openphone_sync_skipped_runs_total", 0.0),
        ("openphone_sync_last_run_source_rows", 2.0),
        ("openphone_sync_config_reloads_total{outcome=\"ok\"}", 0.0),
        ("openphone_sync_build_info{version=\"0.1.0\"}", 1.0),
    ] {
        assert_eq!(series.get(name), Some(&want), "{name} in:\n{text}");
    }
    let requests: f64 =
        series.iter().filter(|(k, _)| k.starts_with("openphone_sync_api_requests_total{status=")).map(|(_, v)| v).sum();
    assert!(requests >= 3.0, "a field list, a lookup and two creates at least:\n{text}");
    let now = chrono::Utc::now().timestamp() as f64;
    for stamp in ["last_success_timestamp_seconds", "last_run_timestamp_seconds", "start_time_seconds"] {
        let t = series[&format!("openphone_sync_{stamp}")];
        assert!((now - 60.0..=now + 1.0).contains(&t), "{stamp} = {t}, now {now}");
    }
    assert!(series["openphone_sync_next_run_timestamp_seconds"] > now, "{text}");
    assert!(series.contains_key("openphone_sync_rate_limit_wait_seconds_total"), "{text}");
    assert!(series.contains_key("openphone_sync_last_verify_timestamp_seconds"), "{text}");

    // A scraper that asks for OpenMetrics (Prometheus does) gets the same series in it.
    let (content_type, open) =
        scrape(&addr, Some("application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5")).await;
    assert!(content_type.starts_with("application/openmetrics-text; version=1.0.0"), "{content_type}");
    assert!(open.ends_with("# EOF\n"), "{open}");
    assert!(open.contains("\nopenphone_sync_records_total{action=\"create\",outcome=\"applied\"} 2\n"), "{open}");
    let (code, _, log) = d.stop().await;
    assert_eq!(code, 0, "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn silent_and_garbage_clients_stall_neither_a_scrape_nor_the_schedule() {
    let ws = Workspace::new().await;
    ws.write_n(1);
    let d = daemon_with_metrics(&ws, EVERY_SECOND).await;
    let addr = d.metrics_addr();
    // Fifty connections that never say a word, and one that stops half-way through its head.
    let mut silent = Vec::new();
    for _ in 0..50 {
        silent.push(TcpStream::connect(&addr).await.unwrap());
    }
    let mut half = TcpStream::connect(&addr).await.unwrap();
    half.write_all(b"GET /metrics HTTP/1.1\r\nHost: a\r\nX-Slow:").await.unwrap();
    // Binary garbage (a TLS hello, as a scanner sends) is answered 400 or dropped, at once.
    let mut garbage = TcpStream::connect(&addr).await.unwrap();
    garbage.write_all(b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03garbage\r\n\r\n").await.unwrap();
    let mut reply = Vec::new();
    tokio::time::timeout(Duration::from_secs(3), garbage.read_to_end(&mut reply))
        .await
        .expect("a garbage request is answered or closed at once")
        .ok();
    let reply = String::from_utf8_lossy(&reply);
    assert!(reply.is_empty() || reply.starts_with("HTTP/1.1 400"), "{reply}");

    // A real scrape is served at once, and the scheduled runs go on.
    let asked = Instant::now();
    let series = parse(&scrape(&addr, None).await.1);
    assert!(asked.elapsed() < Duration::from_secs(1), "the scrape took {:?}", asked.elapsed());
    let runs = d.count("Sync finished");
    d.wait_for("two more scheduled runs", 8, |d| d.count("Sync finished") >= runs + 2).await;
    assert!(series["openphone_sync_runs_total{outcome=\"ok\"}"] >= 1.0);

    // The half-sent request and the silent ones are dropped once the server's header
    // timeout (5 s) passes.
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(10), half.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "a client that never finishes its request keeps its connection");
    for s in &mut silent {
        let closed = tokio::time::timeout(Duration::from_secs(3), s.read_to_end(&mut rest)).await;
        assert!(closed.is_ok(), "a client that never sends a byte keeps its connection");
    }
    let (code, _, log) = d.stop().await;
    assert_eq!(code, 0, "{log}");
}

/// The `openphone_sync_*` names in `text`.
fn metric_names_in(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("openphone_sync_"))
        .map(str::to_owned)
        .collect()
}

/// Every string in a JSON document.
fn strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
        serde_json::Value::Object(o) => o.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn contrib_queries_only_metrics_that_a_scrape_serves() {
    let contrib = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib");
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(contrib.join("grafana-dashboard.json")).unwrap())
            .expect("the dashboard is JSON");
    let panels = dashboard["panels"].as_array().expect("panels");
    let titles: Vec<&str> = panels.iter().filter_map(|p| p["title"].as_str()).collect();
    for want in ["Runs by outcome", "Changes applied by action", "API requests by status, and 429s", "Last success age"]
    {
        assert!(titles.contains(&want), "no panel {want:?} in {titles:?}");
    }
    let mut texts = Vec::new();
    strings(&dashboard, &mut texts);
    let dashboard_names = metric_names_in(&texts.join("\n"));
    let rules_names = metric_names_in(&std::fs::read_to_string(contrib.join("prometheus-rules.yml")).unwrap());
    assert!(dashboard_names.len() >= 10, "{dashboard_names:?}");
    assert!(rules_names.len() >= 5, "{rules_names:?}");

    let ws = Workspace::new().await;
    ws.write_n(1);
    let d = daemon_with_metrics(&ws, YEARLY).await;
    let served = names(&parse(&scrape(&d.metrics_addr(), None).await.1));
    let (code, _, log) = d.stop().await;
    assert_eq!(code, 0, "{log}");
    for (file, queried) in [("grafana-dashboard.json", &dashboard_names), ("prometheus-rules.yml", &rules_names)] {
        let missing: Vec<&String> = queried.difference(&served).collect();
        assert!(missing.is_empty(), "contrib/{file} queries metrics no scrape has: {missing:?}\nserved: {served:?}");
    }
}
