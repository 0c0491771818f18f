//! Tests of the OpenPhone fake itself: auth, spec validation, contact round trips, the rate
//! limit and fault injection, driven over real HTTP with reqwest.

use std::time::Duration;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::support::fake_openphone::{
    CustomFieldDef, ErrorEnvelope, FakeOpenPhone, FakeOptions, Fault, FaultRule, LimitKind, MAX_EXTERNAL_IDS,
    PatchMode, RateLimit,
};

fn client() -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder().build().expect("reqwest client")
}

/// No rate limit, and the spec's flat error envelope (whose `code`, `title` and `errors` these
/// tests check).
fn no_limit() -> FakeOptions {
    FakeOptions { rate_limit: None, error_envelope: ErrorEnvelope::Flat, ..FakeOptions::default() }
}

fn fields() -> Vec<CustomFieldDef> {
    let def =
        |name: &str, key: &str, ty: &str| CustomFieldDef { name: name.into(), key: key.into(), field_type: ty.into() };
    vec![def("Tier", "66aa00000000000000000001", "string"), def("Birthday", "bday", "date")]
}

fn rule(method: &str, fault: Fault) -> FaultRule {
    FaultRule {
        method: Some(method.into()),
        path_prefix: Some("/v1/contacts".into()),
        fault,
        times: 1,
        probability: None,
    }
}

async fn post(c: &Client, fake: &FakeOpenPhone, body: &Value) -> reqwest::Result<reqwest::Response> {
    c.post(format!("{}/v1/contacts", fake.base_url())).header("Authorization", fake.api_key()).json(body).send().await
}

fn person(ext: &str) -> Value {
    json!({"externalId": ext, "defaultFields": {"firstName": "Ada", "lastName": "Lovelace",
        "emails": [{"name": "work", "value": "ada@example.com"}],
        "phoneNumbers": [{"name": "mobile", "value": "+14155550123"}]}})
}

#[tokio::test]
async fn auth_is_the_raw_key() {
    let fake = FakeOpenPhone::start(no_limit()).await;
    let c = client();
    let url = format!("{}/v1/contact-custom-fields", fake.base_url());
    let r = c.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], 401);
    assert_eq!(body["title"], "Unauthorized");
    let bearer = format!("Bearer {}", fake.api_key());
    let r = c.get(&url).header("Authorization", bearer).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = c.get(&url).header("Authorization", fake.api_key()).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!((reqs[0].authorized, reqs[0].status), (false, 401));
    assert_eq!((reqs[2].authorized, reqs[2].status), (true, 200));

    let r = post(&c, &fake, &json!({"defaultFields": {"firstName": "x"}})).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = c.post(format!("{}/v1/contacts", fake.base_url())).json(&person("z")).send().await;
    let body: Value = r.unwrap().json().await.unwrap();
    assert_eq!(body["code"], "0800401");
}

#[tokio::test]
async fn bodies_that_break_the_spec_get_400() {
    let fake = FakeOpenPhone::start(FakeOptions { custom_fields: fields(), ..no_limit() }).await;
    let c = client();
    let bad = [
        json!({}),
        json!({"defaultFields": {"lastName": "no firstName key"}}),
        json!({"defaultFields": {"firstName": null}, "sourceUrl": "not a uri"}),
        json!({"defaultFields": {"firstName": "a"}, "source": "csv-import"}),
        json!({"defaultFields": {"firstName": "a", "emails": [{"name": "w", "value": "nope"}]}}),
        json!({"defaultFields": {"firstName": "a", "phoneNumbers": [{"name": "m", "value": "4155550123"}]}}),
        json!({"defaultFields": {"firstName": "a"}, "customFields": [{"key": "nokey", "value": "x"}]}),
        json!({"defaultFields": {"firstName": "a"}, "customFields": [{"key": "bday", "value": "yesterday"}]}),
        json!({"defaultFields": {"firstName": "a"}, "externalId": ""}),
    ];
    for (i, b) in bad.iter().enumerate() {
        let r = post(&c, &fake, b).await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "case {i}: {b}");
        let e: Value = r.json().await.unwrap();
        assert_eq!((e["code"].as_str(), e["title"].as_str()), (Some("0801400"), Some("Bad Request")));
        let first = &e["errors"][0];
        assert!(first["path"].is_string() && first["schema"]["type"].is_string(), "{e}");
        assert!(fake.spec_violations().len() > i, "case {i} not recorded");
    }
    assert!(fake.contacts().is_empty());
    let list = format!("{}/v1/contacts", fake.base_url());
    let too_many: Vec<String> = (0..=MAX_EXTERNAL_IDS).map(|i| format!("id-{i}")).collect();
    let mut over: Vec<(&str, &str)> = too_many.iter().map(|id| ("externalIds", id.as_str())).collect();
    over.push(("maxResults", "50"));
    for q in [vec![("externalIds", "a")], over, vec![("externalIds", "a"), ("maxResults", "51")]] {
        let r = c.get(&list).header("Authorization", fake.api_key()).query(&q).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{q:?}");
    }
    let ok = json!({"defaultFields": {"firstName": null}, "source": "sheet-sync",
        "customFields": [{"key": "bday", "value": "1990-05-01T00:00:00Z"},
                         {"key": "66aa00000000000000000001", "value": "gold"}]});
    let r = post(&c, &fake, &ok).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let d: Value = r.json().await.unwrap();
    assert_eq!(d["data"]["customFields"].as_array().unwrap().len(), 2);
    assert_eq!(d["data"]["customFields"][0]["name"], "Birthday");
}

#[tokio::test]
async fn contact_round_trip() {
    // The June 2025 reading: what a PATCH leaves out stays.
    let fake = FakeOpenPhone::start(FakeOptions { patch_mode: PatchMode::Merge, ..no_limit() }).await;
    let (c, base, key) = (client(), fake.base_url(), fake.api_key());
    let r = post(&c, &fake, &person("row-1")).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    let d = &created["data"];
    let id = d["id"].as_str().unwrap().to_string();
    assert!(id.len() == 24 && id.chars().all(|ch| ch.is_ascii_hexdigit() && !ch.is_uppercase()));
    assert_eq!((d["source"].as_str(), &d["sourceUrl"]), (Some("public-api"), &Value::Null));
    assert_eq!(d["defaultFields"]["company"], Value::Null);
    let email_id = d["defaultFields"]["emails"][0]["id"].as_str().unwrap().to_string();
    let phone_id = d["defaultFields"]["phoneNumbers"][0]["id"].as_str().unwrap().to_string();

    let dup = post(&c, &fake, &person("row-1")).await.unwrap();
    assert_eq!(dup.status(), StatusCode::CONFLICT);
    assert_eq!(dup.json::<Value>().await.unwrap()["code"], "0800409");

    let q = [("externalIds", "row-1"), ("externalIds", "row-2"), ("maxResults", "50")];
    let r = c.get(format!("{base}/v1/contacts")).header("Authorization", &key).query(&q).send();
    let listed: Value = r.await.unwrap().json().await.unwrap();
    assert_eq!(listed["data"][0]["id"], id.as_str());
    assert_eq!(listed["nextPageToken"], Value::Null);

    let patch = json!({"defaultFields": {"company": "Analytical Engines",
        "emails": [{"id": email_id, "name": "work", "value": "ada@engines.example"}],
        "phoneNumbers": [{"id": phone_id, "name": "mobile", "value": null},
                         {"name": "home", "value": "+442071838750"}]}});
    let url = format!("{base}/v1/contacts/{id}");
    let r = c.patch(&url).header("Authorization", &key).json(&patch).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let got: Value = c.get(&url).header("Authorization", &key).send().await.unwrap().json().await.unwrap();
    let df = &got["data"]["defaultFields"];
    assert_eq!(df["company"], "Analytical Engines");
    assert_eq!(df["firstName"], "Ada");
    assert_eq!(df["emails"], json!([{"id": email_id, "name": "work", "value": "ada@engines.example"}]));
    assert_eq!(df["phoneNumbers"].as_array().unwrap().len(), 1);
    assert_eq!(df["phoneNumbers"][0]["value"], "+442071838750");
    assert!(got["data"]["updatedAt"].as_str() > got["data"]["createdAt"].as_str());

    let unknown = json!({"defaultFields": {"emails": [{"id": "EMnope", "name": "w", "value": "a@b.c"}]}});
    let r = c.patch(&url).header("Authorization", &key).json(&unknown).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let r = c.delete(&url).header("Authorization", &key).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    for r in [c.get(&url), c.delete(&url), c.patch(&url).json(&patch)] {
        let r = r.header("Authorization", &key).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert_eq!(r.json::<Value>().await.unwrap()["code"], "0800404");
    }
    assert!(fake.contacts().is_empty());
}

#[tokio::test]
async fn pagination_replace_mode_and_app_side_helpers() {
    let fake = FakeOpenPhone::start(FakeOptions { patch_mode: PatchMode::Replace, ..no_limit() }).await;
    let (c, base, key) = (client(), fake.base_url(), fake.api_key());
    for ext in ["a", "b", "c"] {
        assert_eq!(post(&c, &fake, &person(ext)).await.unwrap().status(), StatusCode::CREATED);
    }
    let seeded = fake.insert_contact(json!({"externalId": "a", "source": "hubspot",
        "defaultFields": {"firstName": "Twin"}}));
    let q = |token: Option<&str>| {
        let mut q = vec![("externalIds", "a"), ("externalIds", "b"), ("externalIds", "c"), ("maxResults", "2")];
        q.extend(token.map(|t| ("pageToken", t)));
        c.get(format!("{base}/v1/contacts")).header("Authorization", &key).query(&q).send()
    };
    let p1: Value = q(None).await.unwrap().json().await.unwrap();
    assert_eq!(p1["data"].as_array().unwrap().len(), 2);
    let token = p1["nextPageToken"].as_str().unwrap().to_string();
    let p2: Value = q(Some(&token)).await.unwrap().json().await.unwrap();
    assert_eq!(p2["data"].as_array().unwrap().len(), 2);
    assert_eq!(p2["nextPageToken"], Value::Null);
    assert_eq!(fake.contacts_with_external_id("a").len(), 2);

    let id = fake.contacts_with_external_id("b")[0]["id"].as_str().unwrap().to_string();
    let body = json!({"defaultFields": {"emails": [{"name": "other", "value": "x@y.z"}]}});
    let url = format!("{base}/v1/contacts/{id}");
    let r: Value = c.patch(&url).header("Authorization", &key).json(&body).send().await.unwrap().json().await.unwrap();
    let emails = r["data"]["defaultFields"]["emails"].as_array().unwrap().clone();
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0]["value"], "x@y.z");

    fake.edit_contact(&seeded, |c| c["defaultFields"]["lastName"] = json!("Edited"));
    let edited = fake.contacts_with_external_id("a");
    assert_eq!(edited[1]["defaultFields"]["lastName"], "Edited");
    assert_eq!(edited[1]["source"], "hubspot");
    fake.remove_contact(&seeded);
    assert_eq!(fake.contacts().len(), 3);
}

/// The live API's rules, the fake's default: a PATCH deletes every email, phone number and
/// custom value it leaves out (and, in the harsher reading, every scalar), items sent with
/// `id` keep it; a list without `externalIds` pages through the workspace, `sources` filters.
#[tokio::test]
async fn live_rules_patch_replaces_and_listing_needs_no_external_ids() {
    let fake = FakeOpenPhone::start(FakeOptions { custom_fields: fields(), ..no_limit() }).await;
    let (c, base, key) = (client(), fake.base_url(), fake.api_key());
    let mut body = person("r1");
    body["defaultFields"]["company"] = json!("Engines");
    body["customFields"] = json!([{"key": "66aa00000000000000000001", "value": "gold"}]);
    let r: Value = post(&c, &fake, &body).await.unwrap().json().await.unwrap();
    let id = r["data"]["id"].as_str().unwrap().to_string();
    let email_id = r["data"]["defaultFields"]["emails"][0]["id"].as_str().unwrap().to_string();
    let url = format!("{base}/v1/contacts/{id}");

    // Only the changed email: the phone, the custom value and the scalars go.
    let partial = json!({"defaultFields": {"emails": [{"id": email_id, "name": "work", "value": "new@example.com"}]}});
    let r = c.patch(&url).header("Authorization", &key).json(&partial).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let got = &fake.contacts()[0];
    assert_eq!(got["defaultFields"]["emails"], json!([{"id": email_id, "name": "work", "value": "new@example.com"}]));
    assert_eq!(got["defaultFields"]["phoneNumbers"], json!([]));
    assert_eq!(got["customFields"], json!([]));
    assert_eq!((&got["defaultFields"]["firstName"], &got["defaultFields"]["company"]), (&Value::Null, &Value::Null));

    // The complete contact, ids kept: everything stays.
    let full = json!({"defaultFields": {"firstName": "Ada", "lastName": null, "company": "Engines", "role": null,
        "emails": [{"id": email_id, "name": "work", "value": "new@example.com"}],
        "phoneNumbers": [{"name": "mobile", "value": "+14155550123"}]},
        "customFields": [{"key": "66aa00000000000000000001", "value": "gold"}]});
    c.patch(&url).header("Authorization", &key).json(&full).send().await.unwrap();
    let got = &fake.contacts()[0];
    assert_eq!(got["defaultFields"]["firstName"], "Ada");
    assert_eq!(got["defaultFields"]["emails"][0]["id"], email_id.as_str());
    assert_eq!(got["defaultFields"]["phoneNumbers"][0]["value"], "+14155550123");
    assert_eq!(got["customFields"][0]["value"], "gold");

    // Listing without externalIds: every contact, paged; `sources` filters.
    for ext in ["r2", "r3"] {
        post(&c, &fake, &json!({"externalId": ext, "source": "sheet-sync", "defaultFields": {"firstName": ext}}))
            .await
            .unwrap();
    }
    fake.insert_contact(json!({"defaultFields": {"firstName": "Made in the app"}}));
    let page = |q: Vec<(&'static str, String)>| {
        c.get(format!("{base}/v1/contacts")).header("Authorization", &key).query(&q).send()
    };
    let all: Value = page(vec![("maxResults", "50".into())]).await.unwrap().json().await.unwrap();
    assert_eq!(all["data"].as_array().unwrap().len(), 4);
    let p1: Value =
        page(vec![("sources", "sheet-sync".into()), ("maxResults", "1".into())]).await.unwrap().json().await.unwrap();
    assert_eq!(p1["data"][0]["externalId"], "r2");
    let token = p1["nextPageToken"].as_str().unwrap().to_owned();
    let q = vec![("sources", "sheet-sync".into()), ("maxResults", "1".into()), ("pageToken", token)];
    let p2: Value = page(q).await.unwrap().json().await.unwrap();
    assert_eq!(p2["data"][0]["externalId"], "r3");
    assert_eq!(p2["nextPageToken"], Value::Null);
    assert!(fake.spec_violations().is_empty(), "{:?}", fake.spec_violations());
}

#[tokio::test]
async fn rate_limit_answers_429() {
    let rl = RateLimit { per_second: 2, burst: 3, retry_after: true };
    let fake =
        FakeOpenPhone::start(FakeOptions { rate_limit: Some(rl), limit_kind: LimitKind::TokenBucket, ..no_limit() })
            .await;
    let c = client();
    let url = format!("{}/v1/contact-custom-fields", fake.base_url());
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let r = c.get(&url).header("Authorization", fake.api_key()).send().await.unwrap();
        statuses.push(r.status().as_u16());
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(r.headers()["retry-after"], "1");
            assert!(r.json::<Value>().await.unwrap()["message"].is_string());
        }
    }
    assert_eq!(&statuses[..3], &[200, 200, 200]);
    assert!(fake.count_429() >= 2, "{statuses:?}");
    // The time passing is what is tested: at 2 a second, 600 ms refill the bucket.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let r = c.get(&url).header("Authorization", fake.api_key()).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn faults_fire_once_each() {
    let fake = FakeOpenPhone::start(no_limit()).await;
    let c = client();
    let count = |ext: &str| fake.contacts_with_external_id(ext).len();

    fake.add_fault(rule("POST", Fault::FailBeforeApply { status: 503 }));
    let r = post(&c, &fake, &person("f1")).await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], 503);
    assert_eq!(count("f1"), 0);
    assert_eq!(post(&c, &fake, &person("f1")).await.unwrap().status(), StatusCode::CREATED);

    fake.add_fault(rule("POST", Fault::FailAfterApply { status: 500 }));
    let r = post(&c, &fake, &person("f2")).await.unwrap();
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "0801500");
    assert_eq!(count("f2"), 1);

    fake.add_fault(rule("POST", Fault::LoseReplyAfterApply));
    let err = post(&c, &fake, &person("f3")).await.expect_err("reply must be lost");
    assert!(!err.is_timeout(), "{err:?}");
    assert_eq!(count("f3"), 1);
    assert_eq!(post(&c, &fake, &person("f4")).await.unwrap().status(), StatusCode::CREATED);

    let quick = Client::builder().timeout(Duration::from_millis(300)).build().unwrap();
    fake.add_fault(rule("POST", Fault::HangBeforeApply));
    let err = post(&quick, &fake, &person("f5")).await.expect_err("must hang");
    assert!(err.is_timeout());
    assert_eq!(count("f5"), 0);
    fake.add_fault(rule("POST", Fault::HangAfterApply));
    assert!(post(&quick, &fake, &person("f6")).await.unwrap_err().is_timeout());
    assert_eq!(count("f6"), 1);

    fake.add_fault(rule("POST", Fault::ResetBeforeApply));
    let err = post(&c, &fake, &person("r1")).await.expect_err("the connection must be reset");
    assert!(!err.is_timeout() && format!("{err:?}").contains("reset"), "{err:?}");
    assert_eq!(count("r1"), 0);
    fake.add_fault(rule("POST", Fault::ResetAfterApply));
    assert!(post(&c, &fake, &person("r2")).await.is_err());
    assert_eq!(count("r2"), 1);

    fake.add_fault(rule("POST", Fault::TruncatedReplyAfterApply));
    let r = post(&c, &fake, &person("t1")).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert!(serde_json::from_str::<Value>(&r.text().await.unwrap()).is_err(), "the body is cut off");
    assert_eq!(count("t1"), 1);
    fake.add_fault(rule("POST", Fault::GatewayPageBeforeApply));
    let r = post(&c, &fake, &person("g1")).await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_GATEWAY);
    assert!(r.text().await.unwrap().starts_with("<html>"));
    assert_eq!(count("g1"), 0);

    fake.add_fault(rule("POST", Fault::RateLimited { retry_after_secs: Some(7) }));
    let r = post(&c, &fake, &person("f7")).await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "7");
    assert_eq!(fake.count_429(), 1);
    assert_eq!(post(&c, &fake, &person("f7")).await.unwrap().status(), StatusCode::CREATED);

    let mut always = rule("GET", Fault::FailBeforeApply { status: 502 });
    always.probability = Some(1.0);
    fake.add_fault(always);
    for _ in 0..3 {
        let r = c.get(format!("{}/v1/contacts/x", fake.base_url())).header("Authorization", fake.api_key());
        assert_eq!(r.send().await.unwrap().status(), StatusCode::BAD_GATEWAY);
    }
    fake.clear_faults();
    let statuses: Vec<u16> = fake.requests().iter().map(|r| r.status).collect();
    assert!(statuses.contains(&0), "lost replies are recorded with status 0");

    fake.shutdown();
    assert!(post(&c, &fake, &person("f8")).await.is_err());
}

/// The `ratelimit` field's (r, t) and the `ratelimit-policy` field's q, as the fake writes them.
fn limit_fields(r: &reqwest::Response) -> (u32, u64, u32) {
    let h =
        |name: &str| r.headers().get(name).unwrap_or_else(|| panic!("no {name} field")).to_str().unwrap().to_owned();
    let param = |field: &str, key: &str| -> u64 {
        let at = field.find(&format!(";{key}=")).unwrap_or_else(|| panic!("no {key} in {field}"));
        field[at + key.len() + 2..].split(';').next().unwrap().trim().parse().unwrap()
    };
    let (limit, policy) = (h("ratelimit"), h("ratelimit-policy"));
    assert!(limit.starts_with("\"per-second\";") && policy.starts_with("\"per-second\";"), "{limit} / {policy}");
    assert_eq!(param(&policy, "w"), 1, "{policy}");
    (param(&limit, "r") as u32, param(&limit, "t"), param(&policy, "q") as u32)
}

#[tokio::test]
async fn live_envelope_html_404_and_rate_limit_fields_on_every_answer() {
    let fake = FakeOpenPhone::start(FakeOptions::default()).await;
    let c = client();
    let base = fake.base_url();
    let r = c.get(format!("{base}/v1/contact-custom-fields")).header("Authorization", "wrong").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(limit_fields(&r), (9, 1, 10), "a wrong key has a window of its own");
    let body: Value = r.json().await.unwrap();
    let e = &body["error"];
    assert_eq!((e["message"].as_str(), e["key"].as_str()), (Some("Unauthorized"), Some("Unauthorized")), "{body}");
    assert!(e["trace"].as_str().is_some_and(|t| t.len() == 32) && body.get("code").is_none(), "{body}");

    let r = post(&c, &fake, &json!({"defaultFields": {"firstName": "a"}, "sourceUrl": "not a uri"})).await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(limit_fields(&r), (9, 1, 10));
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["key"], "BadRequest");
    assert!(e["error"]["message"].as_str().unwrap().starts_with("/sourceUrl: "), "{e}");

    for (method, path) in [("GET", "/v1/nope"), ("POST", "/v1/contacts/abc"), ("GET", "/v1/contacts/a/b")] {
        let r = c.request(method.parse().unwrap(), format!("{base}{path}")).header("Authorization", fake.api_key());
        let r = r.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{method} {path}");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        limit_fields(&r);
        assert!(r.text().await.unwrap().contains(&format!("Cannot {method} {path}")));
    }
    let r = c.get(format!("{base}/v1/contacts/nobody")).header("Authorization", fake.api_key()).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["key"], "NotFound");
}

#[tokio::test]
async fn the_limit_is_one_window_per_key_across_connections() {
    let rl = RateLimit { per_second: 4, burst: 4, retry_after: false };
    let fake = FakeOpenPhone::start(FakeOptions { rate_limit: Some(rl), ..FakeOptions::default() }).await;
    let url = format!("{}/v1/contact-custom-fields", fake.base_url());
    // Two clients, each with its own connections, and a third with another key.
    let (a, b, other) = (client(), client(), client());
    // The six requests must fall in one window: on a machine too slow for that, try again.
    let mut seen = Vec::new();
    for _attempt in 0..3 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        seen.clear();
        for c in [&a, &b, &a, &b, &a, &b] {
            let r = c.get(&url).header("Authorization", fake.api_key()).send().await.unwrap();
            let (remaining, reset, quota) = limit_fields(&r);
            assert_eq!((reset, quota), (1, 4));
            seen.push((r.status().as_u16(), remaining));
            let r = other.get(&url).header("Authorization", "another-key").send().await.unwrap();
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "another key counts in its own window");
        }
        if !seen.iter().skip(1).any(|&(_, r)| r == 3) {
            break;
        }
    }
    assert_eq!(seen, [(200, 3), (200, 2), (200, 1), (200, 0), (429, 0), (429, 0)]);
    let r = a.get(&url).header("Authorization", fake.api_key()).send().await.unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["key"], "TooManyRequests", "{body}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let r = b.get(&url).header("Authorization", fake.api_key()).send().await.unwrap();
    assert_eq!((r.status(), limit_fields(&r).0), (StatusCode::OK, 3), "a new window");
}
