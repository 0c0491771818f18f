//! Randomised faults, proven by convergence: an API that fails, loses replies, hangs and
//! resets connections at random, and a sync SIGKILLed at random moments. Either way,
//! repeated runs end with the workspace equal to the source, no duplicate, and a mirror
//! that agrees with OpenPhone. Each test prints its seed; `CHAOS_SEED=n` replays it (the
//! order of concurrent requests still varies).

use std::process::Stdio;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use serde_json::json;

use openphone_sync::mirror::Mirror;

use crate::support::fake_openphone::{FakeOptions, Fault, FaultRule};
use crate::support::{Workspace, row, standard_fields};

fn seed() -> u64 {
    let seed = std::env::var("CHAOS_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rand::random);
    println!("CHAOS_SEED={seed}");
    seed
}

fn random(method: &str, fault: Fault, probability: f64) -> FaultRule {
    FaultRule {
        method: Some(method.into()),
        path_prefix: Some("/v1/contacts".into()),
        fault,
        times: 0,
        probability: Some(probability),
    }
}

/// Rows 1..=n, those in `changed` edited (name, company, email removed, custom fields).
fn rows(n: usize, changed: &[usize]) -> Vec<String> {
    (1..=n)
        .map(|i| {
            let r = row(i);
            if !changed.contains(&i) {
                return r;
            }
            r.replace(&format!("First{i},"), &format!("Renamed{i},"))
                .replace(&format!("Company {i},"), &format!("Moved {i} Ltd,"))
                .replace(&format!("user{i}@example.com"), "")
                .replace(",Referral,yes,", ",Event,no,")
        })
        .collect()
}

/// The workspace equals the source, with no duplicate, and the mirror agrees with OpenPhone:
/// every mirrored contact exists under its externalId, nothing is pending, and a verify finds
/// no drift.
async fn assert_converged(ws: &Workspace, n_rows: usize) {
    ws.assert_workspace_equals_source().await;
    let mirror = Mirror::open_read_only(&ws.mirror_path(), Duration::from_secs(5)).unwrap().expect("a mirror exists");
    let index = mirror.index().unwrap();
    drop(mirror);
    assert_eq!(index.len(), n_rows, "the mirror holds one entry per contact");
    for (ext, entry) in &index {
        assert_eq!(entry.pending, None, "{ext} is still pending");
        let found = ws.by_external_id(ext);
        assert_eq!(found.len(), 1, "{ext}: {found:?}");
        assert_eq!(entry.contact_id.as_deref(), found[0]["id"].as_str(), "{ext}: the mirror names another contact");
    }
    let run = ws.run(&["sync", "--verify", "--output", "json"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.report();
    assert_eq!(report["verify"]["drifted"], json!([]), "{report}");
    assert_eq!(report["verify"]["missing"], json!([]), "{report}");
    assert_eq!(report["planned"]["unchanged"].as_u64(), Some(n_rows as u64), "{report}");
}

fn writes_seen(ws: &Workspace) -> usize {
    ws.fake.requests().iter().filter(|r| r.method != "GET").count()
}

/// Runs `sync` until one exits 0 (at most `max` runs); each may only end in 0, 1 or 4.
async fn sync_until_clean(ws: &Workspace, args: &[&str], max: usize) -> usize {
    for attempt in 1..=max {
        let run = ws.run(args).await;
        assert!(matches!(run.code, 0 | 1 | 4), "run {attempt} exited {}:\n{}", run.code, run.stderr);
        if run.code == 0 {
            return attempt;
        }
    }
    panic!("no clean run in {max} attempts");
}

#[tokio::test(flavor = "multi_thread")]
async fn under_a_faulty_api_repeated_runs_converge_to_exactly_the_source() {
    let ws = Workspace::new().await;
    // One retry a request: most faults then fail the record, and the next run must finish it.
    ws.write_config("requests_per_second = 20\ntimeout_seconds = 1\nmax_retries = 1\n");
    ws.fake.set_seed(seed());
    // Per write: 20% fail before being applied, 10% are applied and their reply is lost,
    // 4% reset the connection (before or after applying), 2% hang past the client timeout,
    // 2% get a reply cut off mid-JSON, 2% a gateway's HTML error page.
    // Reads fail too: 5% reset or answer 502. The fake's rate limit adds 429s.
    for method in ["POST", "PATCH", "DELETE"] {
        ws.fake.add_fault(random(method, Fault::FailBeforeApply { status: 500 }, 0.20));
        ws.fake.add_fault(random(method, Fault::LoseReplyAfterApply, 0.125));
        ws.fake.add_fault(random(method, Fault::ResetBeforeApply, 0.03));
        ws.fake.add_fault(random(method, Fault::ResetAfterApply, 0.03));
        ws.fake.add_fault(random(method, Fault::HangBeforeApply, 0.01));
        ws.fake.add_fault(random(method, Fault::HangAfterApply, 0.01));
        ws.fake.add_fault(random(method, Fault::TruncatedReplyAfterApply, 0.02));
        ws.fake.add_fault(random(method, Fault::GatewayPageBeforeApply, 0.02));
    }
    ws.fake.add_fault(random("GET", Fault::ResetBeforeApply, 0.03));
    ws.fake.add_fault(random("GET", Fault::FailBeforeApply { status: 502 }, 0.03));
    let args = ["sync", "--output", "json"];

    // Creates.
    ws.write_rows(&rows(40, &[]));
    let runs = sync_until_clean(&ws, &args, 8).await;
    println!("first load converged in {runs} runs");
    // Updates, new rows and removed rows, in one run.
    let changed: Vec<usize> = (1..=32).step_by(2).collect();
    let mut next = rows(50, &changed);
    next.drain(32..40); // rows 33..=40 are removed; 41..=50 are new
    ws.write_rows(&next);
    let runs = sync_until_clean(&ws, &args, 8).await;
    println!("the delta converged in {runs} runs");

    let faults_seen = ws.fake.requests().iter().filter(|r| r.status == 0 || r.status >= 500).count();
    assert!(faults_seen >= 10, "the fake should have failed often ({faults_seen} failures)");
    ws.fake.clear_faults();
    assert_converged(&ws, next.len()).await;
    ws.assert_spec_clean();
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_at_random_moments_the_next_run_finishes_with_no_duplicate() {
    let ws =
        Workspace::with(FakeOptions { custom_fields: standard_fields(), rate_limit: None, ..FakeOptions::default() })
            .await;
    ws.write_config("requests_per_second = 25\n");
    ws.fake.set_latency(Duration::from_millis(30));
    let seed = seed();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let n = 60;
    let changed: Vec<usize> = (1..=n).collect();
    let phases: [(&str, Vec<String>); 3] = [
        ("creates", rows(n, &[])),
        ("updates", rows(n, &changed)),
        ("deletes", rows(n, &changed).into_iter().take(10).collect()),
    ];
    let mut kills_total = 0;
    for (phase, source) in phases {
        ws.write_rows(&source);
        let mut kills = 0;
        while kills < 8 {
            let mut cmd = ws.command(&["sync", "--allow-mass-delete", "--output", "json"], Some(&ws.api_key));
            let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
            // A quarter of the kills land at any moment of the run (start-up, reading,
            // planning, lookups); the rest a few writes into it.
            if rng.random_bool(0.25) {
                tokio::time::sleep(Duration::from_millis(rng.random_range(0..600))).await;
            } else {
                let writes = rng.random_range(0..6);
                let before = writes_seen(&ws);
                let deadline = std::time::Instant::now() + Duration::from_secs(10);
                while writes_seen(&ws) < before + writes && std::time::Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(3)).await;
                }
                tokio::time::sleep(Duration::from_millis(rng.random_range(0..40))).await;
            }
            if child.try_wait().unwrap().is_some() {
                break; // the phase finished before the kill
            }
            child.start_kill().unwrap();
            child.wait().await.unwrap();
            kills += 1;
        }
        // The kills landed mid-phase: some of its writes were done, not all.
        let contacts = ws.fake.contacts();
        let renamed =
            contacts.iter().filter(|c| c["defaultFields"]["firstName"].as_str().unwrap().starts_with("Renamed"));
        let (done, total) = match phase {
            "creates" => (contacts.len(), n),
            "updates" => (renamed.count(), n),
            _ => (n - contacts.len(), n - source.len()),
        };
        println!("{phase}: {kills} kills, {done} of {total} writes done before the last run");
        assert!(kills < 8 || (0 < done && done < total), "{phase}: {done} of {total} writes done by the killed runs");
        kills_total += kills;
        let run = ws.run(&["sync", "--allow-mass-delete", "--output", "json"]).await;
        assert_eq!(run.code, 0, "{phase}: the run after the kills:\n{}", run.stderr);
        assert_converged(&ws, source.len()).await;
    }
    assert!(kills_total >= 20, "only {kills_total} kills landed mid-run");
    ws.assert_spec_clean();
}
