//! `openphone-sync man` and `openphone-sync completions SHELL`, generated from the clap
//! definitions: the man page is roff naming every subcommand, each completion script names
//! them too, and bash, zsh and fish, each run for real (`packaging/complete-probe`), offer
//! every subcommand, every subcommand's flags and every flag's values. Neither reads a
//! config.

use std::collections::BTreeSet;

use clap::CommandFactory;

use crate::support::Workspace;

/// The subcommands, as the binary defines them; checked against a list written out here, so a
/// subcommand added without a thought for its docs fails too.
fn subcommands() -> Vec<String> {
    let defined: BTreeSet<String> =
        openphone_sync::cli::Cli::command().get_subcommands().map(|c| c.get_name().to_owned()).collect();
    let known: BTreeSet<String> = [
        "sync",
        "daemon",
        "check",
        "status",
        "fields",
        "history",
        "failures",
        "restore",
        "forget",
        "man",
        "completions",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(defined, known, "the subcommands changed: update the README's command list and this test");
    defined.into_iter().collect()
}

/// Runs the binary with `args` in an empty environment (no config anywhere): stdout.
async fn generate(ws: &Workspace, args: &[&str]) -> String {
    let mut cmd = tokio::process::Command::new(crate::support::BIN);
    cmd.args(args).env_remove("OPENPHONE_SYNC_CONFIG").current_dir(ws.dir.path());
    let run = ws.output(cmd).await;
    assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
    assert!(run.stderr.is_empty(), "{args:?} logged: {}", run.stderr);
    run.stdout
}

#[tokio::test]
async fn the_man_page_lists_every_subcommand_and_option() {
    let ws = Workspace::new().await;
    let page = generate(&ws, &["man"]).await;
    assert!(page.contains(".TH openphone-sync 1"), "not a section-1 man page:\n{page}");
    // roff escapes a dash as `\-`.
    let text = page.replace("\\-", "-");
    let section = text.split(".SH SUBCOMMANDS").nth(1).unwrap_or_else(|| panic!("no SUBCOMMANDS section:\n{page}"));
    let section = section.split(".SH ").next().unwrap();
    for sub in subcommands() {
        assert!(
            section.contains(&format!("openphone-sync-{sub}(1)")) || section.lines().any(|l| l.trim() == sub),
            "the man page's SUBCOMMANDS lack {sub}:\n{section}"
        );
    }
    for option in ["--config", "--verbose", "--quiet", "--log-format"] {
        assert!(text.contains(option), "the man page lacks {option}");
    }
    // With --dir, a page per subcommand too, for `man openphone-sync-sync` and the like.
    let dir = ws.path("man");
    std::fs::create_dir(&dir).unwrap();
    generate(&ws, &["man", "--dir", dir.to_str().unwrap()]).await;
    let mut pages: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    pages.sort();
    let mut want: Vec<String> = subcommands().iter().map(|s| format!("openphone-sync-{s}.1")).collect();
    want.push("openphone-sync.1".to_owned());
    want.sort();
    assert_eq!(pages, want);
    let sync = std::fs::read_to_string(dir.join("openphone-sync-sync.1")).unwrap().replace("\\-", "-");
    assert!(sync.contains(".TH openphone-sync-sync 1"), "{sync}");
    for option in ["--dry-run", "--allow-mass-delete", "--verify", "--output", "--all-warnings"] {
        assert!(sync.contains(option), "openphone-sync-sync(1) lacks {option}:\n{sync}");
    }
    let check = std::fs::read_to_string(dir.join("openphone-sync-check.1")).unwrap().replace("\\-", "-");
    assert!(check.contains("--all-warnings"), "openphone-sync-check(1) lacks --all-warnings:\n{check}");
}

#[tokio::test]
async fn completions_for_bash_zsh_and_fish_name_every_subcommand() {
    let ws = Workspace::new().await;
    for shell in ["bash", "zsh", "fish"] {
        let script = generate(&ws, &["completions", shell]).await;
        for sub in subcommands() {
            assert!(script.contains(&sub), "the {shell} completions lack {sub}");
        }
        assert!(script.contains("dry-run"), "the {shell} completions lack sync's options");
    }
    // bash parses the script and registers a completion for the command.
    ws.write("completions.bash", &generate(&ws, &["completions", "bash"]).await);
    let bash = std::process::Command::new("bash")
        .arg("-c")
        .arg("set -e; source completions.bash; complete -p openphone-sync")
        .current_dir(ws.dir.path())
        .output()
        .expect("bash runs");
    let registered = String::from_utf8_lossy(&bash.stdout);
    assert!(bash.status.success(), "{}", String::from_utf8_lossy(&bash.stderr));
    assert!(registered.contains("openphone-sync"), "{registered}");
    // An unknown shell is a usage error.
    let run = ws.run(&["completions", "tcsh"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
}

/// What `shell` offers for `line` with `script` loaded, run in `dir` (packaging/complete-probe).
fn offered(shell: &str, script: &std::path::Path, dir: &std::path::Path, line: &str) -> BTreeSet<String> {
    let probe = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/complete-probe");
    let out = std::process::Command::new("bash")
        .arg(probe)
        .args([shell, line])
        .arg(script)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{shell}: {e}"));
    assert!(out.status.success(), "{shell} {line:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().map(|l| l.trim_end_matches(' ').to_owned()).collect()
}

/// For each case, the line typed and the words that must be offered (all of them), and
/// whether nothing else may be.
fn cases() -> Vec<(String, BTreeSet<String>, bool)> {
    let mut cmd = openphone_sync::cli::Cli::command();
    cmd.build();
    let set = |words: Vec<String>| words.into_iter().collect::<BTreeSet<String>>();
    let mut cases = vec![(
        "openphone-sync ".to_owned(),
        set(cmd.get_subcommands().map(|c| c.get_name().to_owned()).filter(|n| n != "help").collect()),
        false,
    )];
    let values = |arg: &clap::Arg| -> Vec<String> {
        arg.get_possible_values().iter().filter(|v| !v.is_hide_set()).map(|v| v.get_name().to_owned()).collect()
    };
    cases.push(("openphone-sync --log-format ".to_owned(), set(vec!["text".into(), "json".into()]), true));
    for sub in cmd.get_subcommands().filter(|c| c.get_name() != "help") {
        let name = sub.get_name();
        let flags: Vec<String> = sub
            .get_arguments()
            .filter(|a| !a.is_hide_set())
            .filter_map(|a| a.get_long())
            .map(|l| format!("--{l}"))
            .collect();
        assert!(flags.len() >= 5, "{name}: {flags:?}");
        cases.push((format!("openphone-sync {name} --"), set(flags), false));
        for arg in sub.get_arguments().filter(|a| !a.is_hide_set() && !a.is_global_set()) {
            let values = values(arg);
            if values.is_empty() {
                continue;
            }
            match arg.get_long() {
                Some(long) => cases.push((format!("openphone-sync {name} --{long} "), set(values), true)),
                None => cases.push((format!("openphone-sync {name} "), set(values), false)),
            }
        }
        // A path: the files of the folder.
        cases.push((format!("openphone-sync {name} --config ac"), set(vec!["acme.toml".into()]), true));
    }
    cases
}

#[tokio::test]
async fn bash_zsh_and_fish_offer_every_subcommands_flags_and_values() {
    let ws = Workspace::new().await;
    let dir = ws.path("completion-cwd");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("acme.toml"), "").unwrap();
    let cases = cases();
    // The values: the shells' names, --output's formats.
    assert!(cases.iter().any(|(l, w, _)| l == "openphone-sync completions " && w.contains("zsh")), "{cases:#?}");
    assert!(cases.iter().any(|(l, w, _)| l == "openphone-sync sync --output " && w.contains("json")), "{cases:#?}");
    let mut scripts = vec![];
    for shell in ["bash", "zsh", "fish"] {
        let found = std::process::Command::new(shell).arg("-c").arg("exit 0").status().is_ok_and(|s| s.success());
        assert!(found, "{shell} is not installed: apt-get install bash-completion zsh fish (.ci/run does)");
        let path = ws.path(&format!("completions.{shell}"));
        std::fs::write(&path, generate(&ws, &["completions", shell]).await).unwrap();
        scripts.push((shell, path));
    }
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = scripts
            .iter()
            .map(|(shell, script)| {
                let (cases, dir) = (&cases, &dir);
                scope.spawn(move || {
                    let mut failures = vec![];
                    for (line, want, exact) in cases {
                        let got = offered(shell, script, dir, line);
                        let missing: Vec<_> = want.difference(&got).collect();
                        let extra: Vec<_> = if *exact { got.difference(want).collect() } else { vec![] };
                        if !missing.is_empty() || !extra.is_empty() {
                            failures.push(format!(
                                "{shell} {line:?}: missing {missing:?}, extra {extra:?}, offered {got:?}"
                            ));
                        }
                    }
                    failures
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    assert!(failures.is_empty(), "{} cases failed:\n{}", failures.len(), failures.join("\n"));
}
