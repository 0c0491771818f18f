//! Every request the client sends, over a run that exercises each kind of write (creates
//! with every custom-field type, PATCHes that edit, add and remove items and clear fields,
//! deletes, lookups), is checked here against the official OpenAPI spec, independently of
//! the fake's own validation.

use jsonschema::Validator;
use serde_json::Value;

use crate::support::fake_openphone::SPEC_PATH;
use crate::support::{Workspace, row};

fn spec() -> Value {
    let path = std::env::var("OPENPHONE_SPEC").unwrap_or_else(|_| SPEC_PATH.to_owned());
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read the spec at {path}: {e}"));
    serde_json::from_str(&text).expect("the spec is JSON")
}

fn validator(spec: &Value, path: &str, method: &str) -> Validator {
    let schema = &spec["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"];
    assert!(schema.is_object(), "the spec has a {method} {path} body schema");
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(schema)
        .expect("the spec's schema compiles")
}

/// The spec's rules for a query parameter's items, checked by hand (it is not a body).
fn check_query(spec: &Value, query: &[(String, String)]) -> Vec<String> {
    let params = spec["paths"]["/v1/contacts"]["get"]["parameters"].as_array().unwrap();
    let mut problems = Vec::new();
    for p in params {
        let name = p["name"].as_str().unwrap();
        let values: Vec<&String> = query.iter().filter(|(k, _)| k == name).map(|(_, v)| v).collect();
        if p["required"] == true && values.is_empty() {
            problems.push(format!("missing required query parameter {name}"));
        }
        let schema = &p["schema"];
        for v in values {
            if schema["type"] == "array" {
                let (min, max) =
                    (schema["items"]["minLength"].as_u64().unwrap(), schema["items"]["maxLength"].as_u64().unwrap());
                let len = v.chars().count() as u64;
                if len < min || len > max {
                    problems.push(format!("{name}={v:?}: length {len} outside {min}..{max}"));
                }
            }
            if schema["type"] == "integer" {
                let n: i64 = v.parse().unwrap_or(-1);
                if n < schema["minimum"].as_i64().unwrap() || n > schema["maximum"].as_i64().unwrap() {
                    problems.push(format!("{name}={v}: outside the spec's range"));
                }
            }
        }
    }
    for (k, _) in query {
        if !params.iter().any(|p| p["name"] == k.as_str()) {
            problems.push(format!("query parameter {k} is not in the spec"));
        }
    }
    problems
}

#[tokio::test(flavor = "multi_thread")]
async fn every_request_the_client_sends_matches_the_official_spec() {
    let spec = spec();
    let post = validator(&spec, "/v1/contacts", "post");
    let patch = validator(&spec, "/v1/contacts/{id}", "patch");

    let ws = Workspace::new().await;
    // 60 rows: more than one lookup batch of 50.
    let rows: Vec<String> = (1..=60).map(row).collect();
    ws.write_rows(&rows);
    ws.sync(0).await;
    // Edits of every kind: scalars changed and cleared, an email changed, a phone removed,
    // custom fields of every type changed and cleared; rows removed; one row added.
    let mut edited: Vec<String> = rows[..55].to_vec();
    edited[0] = edited[0].replace("First1", "Ada").replace("Company 1", "");
    edited[1] = edited[1].replace("user2@example.com", "two@example.org").replace("+1 201 555 0002", "");
    edited[2] = edited[2].replace(",Referral,yes,3,2025-01-04,a;b", ",,no,3.75,2026-02-28T09:30:00Z,c");
    edited[3] = edited[3].replace(",Referral,yes,4,2025-01-05,a;b", ",,,,,");
    edited.push(row(99).replace("First99", ""));
    ws.write_rows(&edited);
    let report = ws.sync(0).await;
    assert_eq!(report["applied"]["update"], 4, "{report}");
    assert_eq!(report["applied"]["delete"], 5, "{report}");

    let sent = ws.fake.requests();
    let mut problems = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for r in &sent {
        seen.insert(r.method.clone());
        let errors: Vec<String> = match (r.method.as_str(), r.body.as_ref()) {
            ("POST", Some(b)) => post.iter_errors(b).map(|e| format!("{} at {}", e, e.instance_path())).collect(),
            ("PATCH", Some(b)) => patch.iter_errors(b).map(|e| format!("{} at {}", e, e.instance_path())).collect(),
            ("GET", None) if r.path == "/v1/contacts" => check_query(&spec, &r.query),
            ("GET" | "DELETE", None) => vec![],
            (m, b) => vec![format!("unexpected {m} with body {b:?}")],
        };
        for e in errors {
            problems.push(format!("{} {}: {e}", r.method, r.path));
        }
    }
    assert!(problems.is_empty(), "requests that break the official spec:\n{}", problems.join("\n"));
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), vec!["DELETE", "GET", "PATCH", "POST"]);
    assert!(sent.iter().filter(|r| r.path == "/v1/contacts" && r.method == "GET").count() >= 2, "two lookup batches");
    ws.assert_spec_clean();
}
