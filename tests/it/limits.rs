//! The API's limits: every limit the spec sets on a contact body is one the tool knows
//! (`mapping::limits::SPEC_LIMITS`, compared with the spec itself), and each limited field
//! just at its limit is sent and accepted, just over it is reported with its row and never
//! sent, with no spec violation and no 400 from the fake.

use serde_json::{Value, json};

use openphone_sync::mapping::limits::{Constraint, DATE_YEARS, EXTERNAL_ID_MAX, SOURCE_URL_MAX, SPEC_LIMITS};

use crate::support::fake_google::{FakeGoogle, Tab, text_row};
use crate::support::fake_openphone::spec_document;
use crate::support::{HEADER, Workspace, custom};

/// Every constraint in a request body schema, as (property path, constraint).
fn constraints(schema: &Value, path: &str, out: &mut Vec<(String, String)>) {
    let Some(obj) = schema.as_object() else { return };
    let show = |c: Constraint| format!("{c:?}");
    match (obj.get("minLength"), obj.get("maxLength")) {
        (None, None) => {}
        (min, max) => out.push((
            path.to_owned(),
            show(Constraint::Length {
                min: min.and_then(Value::as_u64).unwrap_or(0) as usize,
                max: max.and_then(Value::as_u64).unwrap_or(u64::MAX) as usize,
            }),
        )),
    }
    if let Some(f) = obj.get("format").and_then(Value::as_str) {
        out.push((path.to_owned(), format!("Format({f:?})")));
    }
    if let Some(p) = obj.get("pattern").and_then(Value::as_str) {
        out.push((path.to_owned(), format!("Pattern({p:?})")));
    }
    for key in ["maxItems", "minItems", "maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum", "enum"] {
        if let Some(v) = obj.get(key) {
            out.push((path.to_owned(), format!("{key} {v}")));
        }
    }
    for (name, sub) in obj.get("properties").and_then(Value::as_object).into_iter().flatten() {
        let p = if path.is_empty() { name.clone() } else { format!("{path}.{name}") };
        constraints(sub, &p, out);
    }
    if let Some(items) = obj.get("items") {
        constraints(items, &format!("{path}[]"), out);
    }
    for key in ["anyOf", "allOf", "oneOf"] {
        for sub in obj.get(key).and_then(Value::as_array).into_iter().flatten() {
            constraints(sub, path, out);
        }
    }
}

#[test]
fn the_limits_enforced_are_exactly_the_specs() {
    let spec = spec_document();
    let mut found = Vec::new();
    for (op, path, method) in [("POST", "/v1/contacts", "post"), ("PATCH", "/v1/contacts/{id}", "patch")] {
        let schema = &spec["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"];
        assert!(schema.is_object(), "no {op} {path} body in the spec");
        let mut here = Vec::new();
        constraints(schema, "", &mut here);
        found.extend(here.into_iter().map(|(p, c)| format!("{op} {p}: {c}")));
    }
    let mut known: Vec<String> = SPEC_LIMITS.iter().map(|(op, p, c, _)| format!("{op} {p}: {c:?}")).collect();
    found.sort();
    found.dedup();
    known.sort();
    assert_eq!(found, known, "the spec's limits changed: update mapping::limits and enforce them");
}

fn ids(ws: &Workspace) -> Vec<String> {
    let mut ids: Vec<String> =
        ws.fake.contacts().iter().map(|c| c["externalId"].as_str().unwrap().to_owned()).collect();
    ids.sort();
    ids
}

/// No body the spec refuses, and no 400 (the fake answers 400 to one).
fn assert_nothing_refused(ws: &Workspace) {
    ws.assert_spec_clean();
    let refused: Vec<_> = ws.fake.requests().into_iter().filter(|r| r.status == 400).collect();
    assert!(refused.is_empty(), "{refused:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn each_limited_cell_at_its_limit_is_sent_and_over_it_is_reported_and_not_sent() {
    let ws = Workspace::new().await;
    ws.write("mapping.toml", &crate::support::strict_mapping());
    let at_id = "I".repeat(EXTERNAL_ID_MAX);
    let over_id = "é".repeat(EXTERNAL_ID_MAX + 1);
    let (first, last) = (DATE_YEARS.start(), DATE_YEARS.end());
    ws.write_rows(&[
        format!("{at_id},At,,,,,,,,,"),
        format!("{over_id},Over,,,,,,,,,"),
        format!("D-MAX,At,,,,,,,,{last:04}-12-31T23:59:59.999Z,"),
        format!("D-OVER,Over,,,,,,,,{}-01-01,", last + 1),
        format!("D-MIN,At,,,,,,,,{first:04}-01-01T00:00:00Z,"),
        format!("D-UNDER,Over,,,,,,,,{first:04}-01-01T00:00:00+01:00,"),
        format!("N-MAX,At,,,,,,,{},,", "9".repeat(15)),
        format!("N-OVER,Over,,,,,,,{},,", "9".repeat(400)),
    ]);
    let report = ws.sync(1).await;
    assert_eq!(ids(&ws), ["D-MAX", "D-MIN", at_id.as_str(), "N-MAX"]);
    let errors = report["errors"].as_array().unwrap();
    let rows: Vec<u64> = errors.iter().map(|e| e["row"].as_u64().unwrap()).collect();
    assert_eq!(rows, [3, 5, 7, 9]);
    let msg = |i: usize| errors[i]["message"].as_str().unwrap().to_owned();
    assert!(
        msg(0).contains("column \"ID\": the external id is 76 characters, over OpenPhone's limit of 75"),
        "{}",
        msg(0)
    );
    assert_eq!(errors[0]["external_id"], Value::Null);
    for i in [1, 2] {
        assert!(msg(i).contains("column \"Renewal\" (date field)"), "{}", msg(i));
        assert!(msg(i).contains("between the years 0000 and 9999"), "{}", msg(i));
    }
    assert_eq!(errors[1]["external_id"], "D-OVER");
    assert!(msg(3).contains("column \"Score\" (number field)"), "{}", msg(3));
    assert_eq!(custom(&ws.by_external_id("D-MAX")[0], "66aa00000000000000000004"), json!("9999-12-31T23:59:59.999Z"));
    assert_eq!(custom(&ws.by_external_id("D-MIN")[0], "66aa00000000000000000004"), json!("0000-01-01T00:00:00.000Z"));
    assert_eq!(custom(&ws.by_external_id("N-MAX")[0], "66aa00000000000000000003"), json!(999_999_999_999_999_u64));
    assert_nothing_refused(&ws);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_row_link_at_200_characters_is_sent_and_longer_is_reported() {
    // https://docs.google.com/spreadsheets/d/<id>/edit#gid=0&range=9:9 is 200 characters.
    let id = "x".repeat(SOURCE_URL_MAX - 60);
    let ws = Workspace::new().await;
    let google = FakeGoogle::start().await;
    let mut rows = vec![text_row(&HEADER.split(',').collect::<Vec<_>>())];
    rows.extend((2..=10).map(|n| text_row(&[&format!("R-{n}"), "Name"])));
    google.add_spreadsheet(&id, vec![Tab::new(0, "Contacts", rows)]);
    ws.use_sheet(&google, &id, "Contacts", "");
    let report = ws.sync(1).await;
    let created = ids(&ws);
    assert_eq!(created.len(), 8, "{created:?}");
    assert!(!created.contains(&"R-10".to_owned()));
    let link = ws.by_external_id("R-9")[0]["sourceUrl"].as_str().unwrap().to_owned();
    assert_eq!(link.len(), SOURCE_URL_MAX);
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!((errors[0]["row"].clone(), errors[0]["external_id"].clone()), (json!(10), json!("R-10")));
    let msg = errors[0]["message"].as_str().unwrap();
    assert!(msg.contains("the row's link (sourceUrl) is 202 characters, over OpenPhone's limit of 200"), "{msg}");
    assert!(msg.contains("[source].link"), "{msg}");
    assert_nothing_refused(&ws);
}
