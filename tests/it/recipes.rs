//! The recipes of docs/mapping.md ("Recipes for common exports"): each is a mapping (and a
//! config where one is needed) under `examples/recipes/`, synced here against a sample in
//! its export's real shape (`tests/fixtures/quirks/`: headers, order, quoting and encoding
//! as the program writes them). A recipe whose columns drift from its sample's header fails
//! `check` (exit 2), and one whose text in docs/mapping.md differs from its file fails too.

use serde_json::Value;

use crate::support::Workspace;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A recipe, the sample it is run on, and what the sync must create from it.
struct Recipe {
    dir: &'static str,
    sample: &'static str,
    /// Contacts created (the sample's rows with a usable id).
    contacts: usize,
    /// A contact's first name, and the phone numbers (E.164) and emails it must hold.
    spot: (&'static str, &'static [&'static str], &'static [&'static str]),
}

const RECIPES: &[Recipe] = &[
    Recipe {
        dir: "google-contacts",
        sample: "google-contacts.csv",
        contacts: 3,
        spot: ("Ana", &["+12015550111"], &["ana@example.com"]),
    },
    Recipe {
        dir: "outlook-en",
        sample: "outlook-en.csv",
        contacts: 3,
        spot: ("Ana", &["+12015550121", "+12015550111"], &["ana@example.com"]),
    },
    Recipe {
        dir: "outlook-ru",
        sample: "outlook-ru-cp1251.csv",
        contacts: 3,
        spot: ("Иван", &["+79123456789", "+74951234567"], &["ivan@example.ru"]),
    },
    Recipe {
        dir: "hubspot",
        sample: "hubspot.csv",
        contacts: 4,
        spot: ("Ana", &["+12015550131", "+12015550141"], &["ana@example.com"]),
    },
    Recipe {
        dir: "salesforce-report",
        sample: "salesforce-report.csv",
        contacts: 3,
        spot: ("Ana", &["+12015550111", "+12015550121", "+8613800138000"], &["ana@example.com"]),
    },
    Recipe {
        dir: "salesforce-data-export",
        sample: "salesforce-data-export.csv",
        contacts: 3,
        spot: ("Ana", &["+12015550111", "+12015550121", "+8613800138000"], &["ana@example.com"]),
    },
    Recipe { dir: "linkedin", sample: "linkedin.csv", contacts: 2, spot: ("Ana", &[], &["ana@example.com"]) },
    Recipe {
        dir: "shopify",
        sample: "shopify-customers.csv",
        contacts: 3,
        spot: ("Ana", &["+12015550121", "+12015550111"], &["ana@example.com"]),
    },
];

/// The recipes for sources other than CSV, each run by its source's test file
/// (`workbook.rs`, `vcard.rs`, `postgres.rs`).
const OTHER_SOURCES: &[&str] = &["excel-workbook", "vcard", "postgres"];

/// A workspace holding the recipe's mapping, its config's `[source]` table (when it has a
/// config) and its sample as contacts.csv.
fn workspace_for(ws: &Workspace, r: &Recipe) {
    let dir = format!("{ROOT}/examples/recipes/{}", r.dir);
    std::fs::copy(format!("{ROOT}/tests/fixtures/quirks/{}", r.sample), ws.path("contacts.csv")).expect("sample");
    std::fs::copy(format!("{dir}/mapping.toml"), ws.path("mapping.toml")).expect("mapping");
    if let Ok(config) = std::fs::read_to_string(format!("{dir}/config.toml")) {
        let source = config.split("[source]\n").nth(1).expect("a [source] table");
        let source = source.split("\n[").next().unwrap();
        assert!(source.contains("path = \"contacts.csv\""), "{}: {source}", r.dir);
        ws.write_config_with_source("", &format!("{source}\n"));
    }
}

fn values(contact: &Value, list: &str) -> Vec<String> {
    let mut v: Vec<String> = contact["defaultFields"][list]
        .as_array()
        .map(|a| a.iter().map(|i| i["value"].as_str().unwrap().to_owned()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread")]
async fn every_recipe_syncs_its_exports_real_shape() {
    for r in RECIPES {
        let ws = Workspace::new().await;
        workspace_for(&ws, r);
        // Every mapped column is in the sample's header: a recipe that drifted is exit 2.
        let check = ws.run_with_key(&["check", "--offline"], None).await;
        assert_ne!(check.code, 2, "{}: check --offline\n{}{}", r.dir, check.stdout, check.stderr);
        assert!(check.stdout.contains("every mapped column present"), "{}: {}", r.dir, check.stdout);

        let run = ws.run(&["sync", "--output", "json"]).await;
        assert!(run.code == 0 || run.code == 1, "{}: exit {}\n{}{}", r.dir, run.code, run.stdout, run.stderr);
        let report = run.report();
        assert_eq!(report["applied"]["create"], r.contacts, "{}: {report:#}", r.dir);
        let contacts = ws.fake.contacts();
        assert_eq!(contacts.len(), r.contacts, "{}", r.dir);
        let (name, phones, emails) = r.spot;
        let c = contacts
            .iter()
            .find(|c| c["defaultFields"]["firstName"] == name)
            .unwrap_or_else(|| panic!("{}: no contact named {name}: {contacts:#?}", r.dir));
        let mut want: Vec<String> = phones.iter().map(|p| (*p).to_owned()).collect();
        want.sort();
        assert_eq!(values(c, "phoneNumbers"), want, "{}: {c:#}", r.dir);
        assert_eq!(values(c, "emails"), emails.iter().map(|e| (*e).to_owned()).collect::<Vec<_>>(), "{}", r.dir);
        ws.assert_spec_clean();
        // The same file again: nothing to do.
        let again = ws.run(&["sync", "--output", "json"]).await.report();
        assert_eq!(again["planned"]["create"], 0, "{}: {again:#}", r.dir);
        assert_eq!(again["planned"]["update"], 0, "{}: {again:#}", r.dir);
    }
}

#[test]
fn docs_show_each_recipe_as_its_file() {
    let docs = std::fs::read_to_string(format!("{ROOT}/docs/mapping.md")).unwrap();
    let mut dirs: Vec<String> = std::fs::read_dir(format!("{ROOT}/examples/recipes"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    // Recipes for the other sources are run by their own tests.
    let mut tested: Vec<&str> = RECIPES.iter().map(|r| r.dir).chain(OTHER_SOURCES.iter().copied()).collect();
    tested.sort_unstable();
    assert_eq!(dirs, tested, "every recipe under examples/recipes/ is run by this file");
    for dir in &dirs {
        let link = format!("(../examples/recipes/{dir}/mapping.toml)");
        let at = docs.find(&link).unwrap_or_else(|| panic!("docs/mapping.md does not link {link}"));
        let block = docs[at..].split("```toml\n").nth(1).and_then(|b| b.split("```").next()).expect("a toml block");
        let file = std::fs::read_to_string(format!("{ROOT}/examples/recipes/{dir}/mapping.toml")).unwrap();
        assert_eq!(block, file, "docs/mapping.md's {dir} recipe differs from examples/recipes/{dir}/mapping.toml");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_russian_outlook_mobile_column_is_the_one_outlook_writes() {
    let r = RECIPES.iter().find(|r| r.dir == "outlook-ru").unwrap();
    let ws = Workspace::new().await;
    workspace_for(&ws, r);
    // The column name the old recipe used is not in a Russian Outlook's export.
    let mapping = std::fs::read_to_string(ws.path("mapping.toml")).unwrap();
    ws.write("mapping.toml", &mapping.replace("\"Телефон переносной\"", "\"Мобильный телефон\""));
    let run = ws.run_with_key(&["check", "--offline"], None).await;
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("Мобильный телефон"), "{}", run.stderr);
}
