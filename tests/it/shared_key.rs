//! The key is shared: its rate limit counts every client that holds it, and the API's
//! RateLimit fields are what this tool sees of the others. The pace is learned from them:
//! the quota from `ratelimit-policy`, the others from how `r` falls, the pause after a 429
//! from its `t`. (The rates themselves are measured by `cargo bench --bench throughput --
//! shared-key`; the throttle's own tests simulate the key.)

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::support::fake_openphone::{FakeOptions, Fault, FaultRule, RateLimit};
use crate::support::{Workspace, standard_fields};

#[tokio::test(flavor = "multi_thread")]
async fn the_quota_is_learned_from_the_policy_field() {
    // The user allows 10 a second; the key's policy says q=2.
    let ws = Workspace::with(FakeOptions {
        custom_fields: standard_fields(),
        rate_limit: Some(RateLimit { per_second: 2, burst: 2, retry_after: false }),
        ..FakeOptions::default()
    })
    .await;
    ws.write_n(6);
    let report = ws.sync(0).await;
    assert_eq!(report["applied"]["create"], 6, "{report}");
    // Paced at the ceiling (10 a second) the 6 requests would meet three or four 429s. At most
    // one is allowed: the client paces by when replies arrive, the fake counts by when
    // requests do, and on a loaded machine a late reply can put two requests in one window
    // (this test failed about 3 runs in 10 under load when it allowed none).
    let statuses: Vec<u16> = ws.fake.requests().iter().map(|r| r.status).collect();
    assert!(ws.fake.count_429() <= 1, "{statuses:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn after_a_429_every_request_waits_the_t_it_carries() {
    let ws = Workspace::new().await;
    ws.write_n(3);
    // A 429 with `ratelimit: ...;r=0;t=1` and no Retry-After.
    ws.fake.add_fault(FaultRule {
        method: Some("POST".into()),
        path_prefix: Some("/v1/contacts".into()),
        fault: Fault::RateLimited { retry_after_secs: None },
        times: 1,
        probability: None,
    });
    let report = ws.sync(0).await;
    assert_eq!(report["applied"]["create"], 3, "{report}");
    let sent = ws.fake.requests();
    let refused = sent.iter().position(|r| r.status == 429).expect("the fault fired");
    let next = sent.iter().skip(refused + 1).map(|r| r.at).min().expect("a request after the 429");
    let gap = next.duration_since(sent[refused].at);
    assert!(gap >= Duration::from_millis(950), "the next request came {gap:?} after the 429");
}

#[tokio::test(flavor = "multi_thread")]
async fn beside_a_client_spending_half_the_key_it_leaves_room() {
    let ws = Workspace::new().await;
    ws.write_n(30);
    let (base, key) = (ws.fake.base_url(), ws.api_key.clone());
    let (sent, refused) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (s, r) = (sent.clone(), refused.clone());
    // Another client on the same key: 5 requests a second, never slowing down.
    let neighbour = tokio::spawn(async move {
        let http = reqwest::Client::new();
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        loop {
            tick.tick().await;
            let req = http.get(format!("{base}/v1/contact-custom-fields")).header("Authorization", &key).send();
            let (s, r) = (s.clone(), r.clone());
            tokio::spawn(async move {
                if let Ok(resp) = req.await {
                    s.fetch_add(1, Ordering::Relaxed);
                    if resp.status() == 429 {
                        r.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let report = ws.sync(0).await;
    neighbour.abort();
    assert_eq!(report["applied"]["create"], 30, "{report}");
    let ours = ws.fake.requests().iter().filter(|r| r.path != "/v1/contact-custom-fields" || r.method != "GET").count();
    let theirs = sent.load(Ordering::Relaxed);
    let all = ws.fake.requests().len();
    let refused_all = ws.fake.count_429();
    // Before the pace learned from the fields, 25 % of the key's requests were refused. The
    // bound is loose for a loaded machine; the simulation in the throttle's tests is strict.
    assert!(refused_all * 100 <= all * 5, "{refused_all} of {all} refused (ours {ours}, theirs {theirs})");
    assert!(refused.load(Ordering::Relaxed) * 100 <= theirs * 5, "the other client: {refused:?} of {theirs} refused");
}
