//! Saved plans: `sync --dry-run --save-plan FILE` writes the plan a person reviews, and
//! `sync --plan FILE` applies exactly it, or refuses (exit 3, nothing written) when the
//! source or the mirror changed since, and (exit 2) a plan made for another workspace.

use serde_json::{Value, json};

use crate::support::{Workspace, ids, row, snapshot};

/// Three contacts synced, then a source that changes one, adds one and drops one.
async fn workspace_with_a_change() -> Workspace {
    let ws = Workspace::new().await;
    ws.write_n(3);
    ws.sync(0).await;
    ws.write_rows(&[row(1), row(2).replace("Company 2", "Globex"), row(4)]);
    ws
}

fn writes(ws: &Workspace) -> usize {
    ws.fake.requests().iter().filter(|r| r.method != "GET").count()
}

fn plan_path(ws: &Workspace) -> String {
    ws.path("plan.json").display().to_string()
}

async fn save_plan(ws: &Workspace) -> String {
    let plan = plan_path(ws);
    let run = ws.run(&["sync", "--dry-run", "--save-plan", &plan]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.stdout
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_is_reviewed_then_applied_exactly() {
    let ws = workspace_with_a_change().await;
    ws.fake.clear_requests();
    let text = save_plan(&ws).await;
    assert_eq!(writes(&ws), 0, "a dry run writes nothing");
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(
        r"plan saved to \S+plan\.json: `sync --plan \S+plan\.json`",
        "plan saved to [plan]: `sync --plan [plan]`",
    );
    settings.bind(|| snapshot("saved_plan", &text));

    let file: Value = serde_json::from_str(&std::fs::read_to_string(ws.path("plan.json")).unwrap()).unwrap();
    assert_eq!(file["version"], 1);
    assert_eq!(file["source"]["count"], 3);
    assert_eq!(file["mirror"]["count"], 3);
    assert_eq!(file["creates"][0]["external_id"], "C-0004");
    assert_eq!(file["updates"][0]["changes"], json!([{"field": "company", "from": "Company 2", "to": "Globex"}]));
    assert_eq!(file["deletes"], json!([{"external_id": "C-0003", "contact_id": ws.by_external_id("C-0003")[0]["id"]}]));
    let raw = std::fs::read_to_string(ws.path("plan.json")).unwrap();
    assert!(!raw.contains(&ws.api_key), "the plan never holds the API key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(ws.path("plan.json")).unwrap().permissions().mode() & 0o777, 0o600);
    }

    let plan = plan_path(&ws);
    let run = ws.run(&["sync", "--plan", &plan, "--output", "json"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let report = run.report();
    assert_eq!(report["applied"], json!({"create": 1, "update": 1, "delete": 1}));
    ws.assert_exactly(&ids([1, 2, 4]));
    assert_eq!(ws.by_external_id("C-0002")[0]["defaultFields"]["company"], "Globex");
    ws.assert_spec_clean();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_is_refused_when_the_source_changed() {
    let ws = workspace_with_a_change().await;
    save_plan(&ws).await;
    ws.write_rows(&[row(1), row(2).replace("Company 2", "Initech"), row(4), row(5)]);
    ws.fake.clear_requests();
    let plan = plan_path(&ws);
    let run = ws.run(&["sync", "--plan", &plan, "--output", "json"]).await;
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let report = run.report();
    assert_eq!(report["outcome"], "refused");
    let why = report["fatal"].as_str().unwrap();
    assert!(
        why.starts_with("the plan is stale: the source changed since the plan was made (3 rows then, 4 now)"),
        "{why}"
    );
    assert!(!why.contains("mirror changed"), "{why}");
    assert_eq!(writes(&ws), 0, "nothing was written");
    ws.assert_exactly(&ids(1..=3));
    assert_eq!(ws.by_external_id("C-0002")[0]["defaultFields"]["company"], "Company 2");
    // Nothing in the mirror either: a plain dry run still plans the same three changes.
    let dry = ws.run(&["sync", "--dry-run", "--output", "json"]).await;
    let dry: Value = serde_json::from_str(&dry.stdout).unwrap();
    assert_eq!(dry["planned"], json!({"create": 2, "update": 1, "delete": 1, "unchanged": 1}));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_is_refused_when_the_mirror_changed() {
    let ws = workspace_with_a_change().await;
    save_plan(&ws).await;
    // Another run applies the same change meanwhile: the plan was made from another mirror.
    ws.sync(0).await;
    ws.fake.clear_requests();
    let plan = plan_path(&ws);
    let run = ws.run(&["sync", "--plan", &plan]).await;
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("Stopped: the plan is stale: the mirror changed since the plan was made"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("the source changed"), "{}", run.stdout);
    assert_eq!(writes(&ws), 0, "nothing was written");
    ws.assert_exactly(&ids([1, 2, 4]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plan_for_another_workspace_or_an_unreadable_one_is_refused() {
    let ws = workspace_with_a_change().await;
    save_plan(&ws).await;
    ws.fake.clear_requests();
    let plan = plan_path(&ws);
    let run = ws.run_with_key(&["sync", "--plan", &plan], Some("another-workspace-key")).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("the plan was made for another config or workspace (API key: another key"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("another-workspace-key"));
    assert!(ws.fake.requests().is_empty(), "refused before any request");

    ws.write("plan.json", "{\"version\": 1}");
    let run = ws.run(&["sync", "--plan", &plan]).await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("not an openphone-sync plan file"), "{}", run.stderr);
    ws.assert_exactly(&ids(1..=3));
}
