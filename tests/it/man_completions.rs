//! `openphone-sync man` and `openphone-sync completions SHELL`, generated from the clap
//! definitions: the man page is roff naming every subcommand, each completion script names
//! them too, and bash accepts and registers its script. Neither reads a config.

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
    for option in ["--dry-run", "--allow-mass-delete", "--verify", "--output"] {
        assert!(sync.contains(option), "openphone-sync-sync(1) lacks {option}:\n{sync}");
    }
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
