//! `[source] type = "vcard"`: the recipe of docs/mapping.md (`examples/recipes/vcard/`) synced
//! from cards in the shapes iPhone/iCloud, Google Contacts, Outlook, Android and RFC 6350
//! write (`tests/fixtures/vcards/`, its README names each shape), as one file and as a folder;
//! a bad card reported by its number and first line while the rest sync; the daemon picking
//! up an edit; control characters in card data never reach the terminal raw; paths that are
//! not vCards; a kill mid-run and a rerun.

use std::time::Duration;

use openphone_sync::clock::Clock;
use serde_json::Value;

use crate::support::Workspace;
use crate::support::in_process::{InProcessDaemon, utc};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const ORIGINS: &[&str] = &["android.vcf", "google.vcf", "iphone.vcf", "outlook.vcf", "rfc6350.vcf"];

fn recipe(ws: &Workspace, path: &str) {
    recipe_with(ws, path, "");
}

/// The recipe with `extra` lines in `[openphone]`.
fn recipe_with(ws: &Workspace, path: &str, extra: &str) {
    let dir = format!("{ROOT}/examples/recipes/vcard");
    std::fs::copy(format!("{dir}/mapping.toml"), ws.path("mapping.toml")).expect("mapping");
    let config = std::fs::read_to_string(format!("{dir}/config.toml")).unwrap();
    let source = config.split("[source]\n").nth(1).unwrap().split("\n[").next().unwrap();
    ws.write_config_with_source(extra, &format!("{}\n", source.replace("contacts.vcf", path)));
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{ROOT}/tests/fixtures/vcards/{name}")).unwrap()
}

fn named<'a>(contacts: &'a [Value], first: &str) -> &'a Value {
    contacts.iter().find(|c| c["defaultFields"]["firstName"] == first).unwrap_or_else(|| panic!("no {first}"))
}

fn values(c: &Value, list: &str) -> Vec<String> {
    c["defaultFields"][list].as_array().unwrap().iter().map(|p| p["value"].as_str().unwrap().into()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_recipe_syncs_cards_of_every_origin_from_a_file_and_a_folder() {
    for folder in [false, true] {
        let ws = Workspace::new().await;
        if folder {
            std::fs::create_dir(ws.path("cards")).unwrap();
            for f in ORIGINS {
                std::fs::copy(format!("{ROOT}/tests/fixtures/vcards/{f}"), ws.path(&format!("cards/{f}"))).unwrap();
            }
            recipe(&ws, "cards");
        } else {
            ws.write("contacts.vcf", &ORIGINS.iter().map(|f| fixture(f)).collect::<String>());
            recipe(&ws, "contacts.vcf");
        }
        let offline = ws.run_with_key(&["check", "--offline"], None).await;
        assert!(offline.code == 0 || offline.code == 1, "{}{}", offline.stdout, offline.stderr);
        let dry = ws.run(&["sync", "--dry-run", "--output", "json"]).await;
        assert_eq!(dry.report()["planned"]["create"], 6, "{}", dry.stdout);
        assert!(ws.fake.contacts().is_empty());
        let run = ws.run(&["sync", "--output", "json"]).await;
        assert!(run.code == 0 || run.code == 1, "{}{}", run.stdout, run.stderr);
        assert_eq!(run.report()["applied"]["create"], 6, "{}", run.stdout);
        let contacts = ws.fake.contacts();
        let ana = named(&contacts, "Ana");
        assert_eq!(ana["defaultFields"]["company"], "Acme Corp");
        assert_eq!(values(ana, "phoneNumbers"), ["+12015550111", "+12015550121"], "{ana:#}");
        assert_eq!(values(ana, "emails"), ["ana@example.com"]);
        let bo = named(&contacts, "Bo");
        assert_eq!(values(bo, "emails"), ["bo@work.example.com", "bo@example.com"], "several values fill slots");
        let jurgen = named(&contacts, "Jürgen");
        assert_eq!(jurgen["defaultFields"]["lastName"], "Müller", "quoted-printable UTF-8 in vCard 2.1");
        assert_eq!(values(jurgen, "phoneNumbers"), ["+4915123456789"]);
        assert_eq!(named(&contacts, "Dee")["externalId"], "urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1");
        ws.assert_spec_clean();
        let again = ws.run(&["sync", "--output", "json"]).await.report();
        assert_eq!(again["planned"]["create"], 0, "{again:#}");
        assert_eq!(again["planned"]["update"], 0, "{again:#}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_card_is_named_by_number_and_first_line_and_the_rest_sync() {
    let ws = Workspace::new().await;
    // Card 2 never ends: card 3 begins inside it.
    let unended = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Broken\r\n";
    ws.write("contacts.vcf", &format!("{}{unended}{}", fixture("iphone.vcf"), fixture("outlook.vcf")));
    recipe(&ws, "contacts.vcf");
    let run = ws.run(&["sync", "--output", "json"]).await;
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let report = run.report();
    assert_eq!(report["applied"]["create"], 2, "{report:#}");
    let text = report.to_string();
    assert!(text.contains("card 2 (") && text.contains("contacts.vcf:17") && text.contains("no END:VCARD"), "{text}");
    let names: Vec<String> =
        ws.fake.contacts().iter().map(|c| c["defaultFields"]["firstName"].as_str().unwrap().to_owned()).collect();
    assert!(names.contains(&"Ana".to_owned()) && names.contains(&"Cy".to_owned()), "{names:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn control_characters_in_card_data_never_reach_the_terminal_raw() {
    let ws = Workspace::new().await;
    let card = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:esc-1\r\nN:Evil\u{1b}[2J;Mal\u{7}\r\nFN:Mal\r\nEMAIL:not-an-email\u{1b}]0;owned\u{7}\r\nEND:VCARD\r\n";
    ws.write("contacts.vcf", card);
    recipe(&ws, "contacts.vcf");
    for args in [&["check", "--offline"][..], &["sync", "--dry-run"][..], &["sync"][..]] {
        let run = ws.run(args).await;
        for (name, out) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "{args:?} {name}: {out:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn paths_that_are_not_vcards_and_columns_that_are_not_properties_are_config_errors() {
    let ws = Workspace::new().await;
    recipe(&ws, "missing.vcf");
    let run = ws.run_with_key(&["check", "--offline"], None).await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("file not found") && run.stderr.contains("missing.vcf"), "{}", run.stderr);
    let fifo = std::ffi::CString::new(ws.path("fifo.vcf").into_os_string().into_encoded_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    recipe(&ws, "fifo.vcf");
    let run = ws.run_with_key(&["check", "--offline"], None).await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("not a regular file"), "{}", run.stderr);
    ws.write("contacts.vcf", &fixture("google.vcf"));
    recipe(&ws, "contacts.vcf");
    let mapping = std::fs::read_to_string(ws.path("mapping.toml")).unwrap();
    ws.write("mapping.toml", &mapping.replace("\"N.given\"", "\"First Name\""));
    let run = ws.run_with_key(&["check", "--offline"], None).await;
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("\"First Name\" is not a vCard property"), "{}", run.stderr);
    assert!(ws.fake.contacts().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_run_is_finished_by_the_next_with_no_duplicate() {
    let ws = Workspace::new().await;
    let cards = (1..=40)
        .map(|i| format!("BEGIN:VCARD\r\nVERSION:4.0\r\nUID:card-{i}\r\nFN:P{i}\r\nN:Card;P{i};;;\r\nTEL;TYPE=cell:+1 201 555 {i:04}\r\nEND:VCARD\r\n"))
        .collect::<Vec<_>>()
        .concat();
    ws.write("contacts.vcf", &cards);
    recipe(&ws, "contacts.vcf");
    // Killed mid-way through the creates.
    ws.kill_sync_mid_run(40).await;
    ws.sync(0).await;
    ws.assert_exactly(&(1..=40).map(|i| format!("card-{i}")).collect::<Vec<_>>());
    assert_eq!(ws.sync(0).await["planned"]["unchanged"], 40);
}

#[tokio::test(start_paused = true)]
async fn the_daemon_picks_up_a_card_edited_in_the_file() {
    let ws = Workspace::new().await;
    let write = |first: &str| {
        let cards = (1..=3)
            .map(|i| {
                format!(
                    "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:d-{i}\r\nN:Card;{first}{i};;;\r\nFN:{first}{i}\r\nEND:VCARD\r\n"
                )
            })
            .collect::<Vec<_>>()
            .concat();
        ws.write("contacts.vcf.tmp", &cards);
        std::fs::rename(ws.path("contacts.vcf.tmp"), ws.path("contacts.vcf")).unwrap();
    };
    write("First");
    recipe(&ws, "contacts.vcf");
    ws.use_key_file();
    ws.append_config("[schedule]\ncron = \"0 */15 * * * *\"\n");
    let d = InProcessDaemon::start(ws.path("config.toml"), Clock::test(utc("2026-12-01T10:00:00Z")));
    d.until("3 contacts", Duration::from_mins(1), |_| ws.fake.contacts().len() == 3).await;
    write("Edited");
    d.until("the edited cards at the next tick", Duration::from_mins(16), |_| {
        ws.fake.contacts().iter().all(|c| c["defaultFields"]["firstName"].as_str().unwrap().starts_with("Edited"))
    })
    .await;
    assert!(matches!(d.stop().await, Ok(openphone_sync::exit::Exit::Ok)));
    ws.assert_exactly(&(1..=3).map(|i| format!("d-{i}")).collect::<Vec<_>>());
}

fn card(i: usize) -> String {
    format!(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:card-{i}\r\nN:Last{i};First{i};;;\r\nFN:First{i} Last{i}\r\nTEL;type=CELL:+1 201 555 {:04}\r\nEND:VCARD\r\n",
        i % 10000
    )
}

/// The file guard covers each file of a folder: one file rewritten in place while runs read
/// the folder never causes a delete, an update or a create from its partial text (before the
/// guard covered folders, a run that caught `b.vcf` half-written deleted its missing cards).
#[tokio::test(flavor = "multi_thread")]
async fn a_folder_file_rewritten_while_it_is_read_never_causes_a_write() {
    use crate::support::rewriter::SlowRewriter;
    let ws = Workspace::new().await;
    ws.fake.set_rate_limit(None);
    std::fs::create_dir(ws.path("cards")).unwrap();
    ws.write("cards/a.vcf", &(1..=100).map(card).collect::<String>());
    let b_text: String = (101..=400).map(card).collect();
    ws.write("cards/b.vcf", &b_text);
    recipe_with(&ws, "cards", "requests_per_second = 500\n");
    let first = ws.run(&["sync", "--output", "json"]).await;
    assert_eq!(first.report()["applied"]["create"], 400, "{}{}", first.stdout, first.stderr);
    ws.fake.clear_requests();

    let path = ws.path("cards/b.vcf");
    let writer = SlowRewriter::start(path, b_text);
    let started = std::time::Instant::now();
    // A run that meets the file mid-write reads it again (up to three times, waiting 1 s, then
    // 2 s) and gives up only if every read was torn: either counts as having met it.
    let (mut runs, mut met) = (0, 0);
    while started.elapsed() < Duration::from_secs(8) {
        let run = ws.run(&["sync", "--output", "json"]).await;
        runs += 1;
        if run.stderr.contains("reading it again") {
            met += 1;
        }
        match run.code {
            0 | 1 => {
                let r = run.report();
                assert_eq!(r["planned"]["unchanged"], 400, "a run trusted a partial file: {r}");
            }
            4 => {
                assert!(run.stderr.contains("not trusted"), "{}", run.stderr);
            }
            code => panic!("exit {code}: {}\n{}", run.stdout, run.stderr),
        }
    }
    let rewrites = writer.stop();
    assert!(met > 0, "no run met the file mid-write ({runs} runs, {rewrites} rewrites): the test proves nothing");
    let writes: Vec<String> =
        ws.fake.requests().iter().filter(|r| r.method != "GET").map(|r| format!("{} {}", r.method, r.path)).collect();
    assert!(writes.is_empty(), "{runs} runs during {rewrites} rewrites wrote: {writes:?}");
    assert_eq!(ws.fake.contacts().len(), 400);
}
