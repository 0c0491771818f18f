//! The phone differential test: [`super::phone::parse`] against Google's libphonenumber on
//! the committed fixture `tests/fixtures/phones/libphonenumber.tsv` (libphonenumber's example
//! number for every region and type, written in every common style; see `generate.py`
//! there). At most 0.5 % may disagree, and the ones that do must be exactly those listed in
//! `disagreements.tsv`, so that a regression and an improvement both show.

use super::phone::{Region, parse};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/phones");

/// Lines of a tab-separated file, without comments.
fn rows(name: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(format!("{DIR}/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"));
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

#[test]
fn reads_numbers_as_libphonenumber_does() {
    let cases = rows("libphonenumber.tsv");
    let regions: std::collections::HashSet<&str> = cases.iter().map(|c| c[0].as_str()).collect();
    assert!(cases.len() >= 2000, "{} cases", cases.len());
    assert!(regions.len() >= 30, "{} regions", regions.len());
    let mut disagree = Vec::new();
    for case in &cases {
        let [region, written, want] = &case[..] else { panic!("bad fixture line {case:?}") };
        let ours = match parse(written, Region::parse(region)) {
            Ok(p) => p.e164,
            Err(_) => "invalid".to_owned(),
        };
        if &ours != want {
            disagree.push(format!("{region}\t{written}\t{want}\t{ours}"));
        }
    }
    let known: Vec<String> = rows("disagreements.tsv").into_iter().map(|r| r.join("\t")).collect();
    let share = disagree.len() as f64 / cases.len() as f64;
    eprintln!("{} of {} numbers disagree ({:.2} %)", disagree.len(), cases.len(), share * 100.0);
    assert!(share <= 0.005, "{:.2} % disagree:\n{}", share * 100.0, disagree.join("\n"));
    assert_eq!(
        disagree, known,
        "the disagreements changed: update tests/fixtures/phones/disagreements.tsv (region, written, libphonenumber, ours)"
    );
}

/// The wider differential: `written.tsv` (`generate_written.py`), numbers of 18 default
/// regions written as people write them in spreadsheets (a leading `'`, `tel:`, `(0)`,
/// separators, the country code without `+`, Russia's 8 prefix). Every one must agree.
#[test]
fn reads_numbers_as_people_write_them_as_libphonenumber_does() {
    let lines = rows("written.tsv");
    let mut regions = std::collections::HashSet::new();
    let (mut total, mut disagree) = (0, Vec::new());
    for line in &lines {
        let [region, want, written @ ..] = &line[..] else { panic!("bad fixture line {line:?}") };
        regions.insert(region.as_str());
        for w in written {
            total += 1;
            let ours = match parse(w, Region::parse(region)) {
                Ok(p) => p.e164,
                Err(_) => "invalid".to_owned(),
            };
            if &ours != want {
                disagree.push(format!("{region}\t{w:?}\tlibphonenumber {want}\tours {ours}"));
            }
        }
    }
    assert!(total >= 30_000, "{total} numbers");
    assert!(regions.len() >= 15, "{} regions", regions.len());
    assert!(
        disagree.is_empty(),
        "{} of {total} numbers disagree with libphonenumber:\n{}",
        disagree.len(),
        disagree.join("\n")
    );
}
