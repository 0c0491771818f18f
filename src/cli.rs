//! The command line (`docs/cli.md`): arguments, logging to stderr ([`crate::logging`]),
//! dispatch, and the man page and shell completions generated from these definitions.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use clap_complete::Shell;

use crate::commands::{self, Output};
use crate::engine::Stop;
use crate::escape::ForPerson;
use crate::exit::Exit;
use crate::logging::{self, LogFormat};
use crate::mirror::Select;

#[derive(Debug, Parser)]
#[command(
    name = "openphone-sync",
    version,
    about = "Keeps OpenPhone contacts in step with a CSV export or a Google Sheet"
)]
pub struct Cli {
    /// The config file [default: $OPENPHONE_SYNC_CONFIG, else /etc/openphone-sync/config.toml]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// More log output (-v debug, -vv trace); logs go to stderr. RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors in the log.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Log lines as text (journald-friendly under systemd) or JSON objects for log shippers.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "OPENPHONE_SYNC_LOG_FORMAT")]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read the source, plan, and apply the plan to OpenPhone once.
    Sync {
        /// Plan only: no write to OpenPhone, no write to the mirror.
        #[arg(long)]
        dry_run: bool,
        /// With --dry-run: also write the plan to FILE (versioned JSON), to review and then
        /// apply with --plan FILE.
        #[arg(long, value_name = "FILE", requires = "dry_run")]
        save_plan: Option<PathBuf>,
        /// Apply exactly the plan saved in FILE, only if the source and the mirror are still as
        /// they were when it was made (else exit 3, nothing written).
        #[arg(long, value_name = "FILE", conflicts_with_all = ["dry_run", "verify"])]
        plan: Option<PathBuf>,
        /// The report: `text` for people, `json` for scripts (docs/cli.md gives its shape).
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
        /// Let this run exceed sync.max_delete_fraction.
        #[arg(long)]
        allow_mass_delete: bool,
        /// First read every mirrored contact back from OpenPhone (20 a request), report those
        /// edited or deleted in the app, and restore them to the source's values.
        #[arg(long)]
        verify: bool,
        /// With --dry-run: list at most this many planned changes (the counts stay whole).
        #[arg(long, value_name = "N", requires = "dry_run")]
        limit: Option<usize>,
        /// With --dry-run: list only the change planned for this external id.
        #[arg(long, value_name = "ID", requires = "dry_run")]
        record: Option<String>,
        /// List every value left out on its own line, instead of one entry per column and
        /// reason with a count and the first rows (--output json lists every one anyway).
        #[arg(long)]
        all_warnings: bool,
    },
    /// Run `sync` at start and on the schedule.cron schedule until SIGTERM/SIGINT; SIGHUP reloads.
    Daemon,
    /// Validate config, mapping and source headers, and (unless --offline) the API key and custom fields.
    Check {
        /// Do not contact OpenPhone.
        #[arg(long)]
        offline: bool,
        /// Do not read the source (the CSV file or the sheet): check the config and mapping
        /// files only. With --offline, nothing is read over the network.
        #[arg(long)]
        no_source: bool,
        /// List every value left out on its own line, instead of one entry per column and
        /// reason with a count and the first rows.
        #[arg(long)]
        all_warnings: bool,
    },
    /// What the mirror holds and how the last runs went.
    Status {
        /// `text` for people, `json` for scripts (docs/cli.md gives its shape).
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// A record's story (every change applied to it, newest first), or one run's changes.
    History {
        /// The record's external id.
        #[arg(required_unless_present = "run", conflicts_with = "run")]
        external_id: Option<String>,
        /// The changes of this run (`status` lists the runs).
        #[arg(long, value_name = "N")]
        run: Option<i64>,
        /// `text` for people, `json` for scripts (docs/cli.md gives its shape).
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// The records that keep failing, oldest first, with the last error and row.
    Failures {
        /// `text` for people, `json` for scripts (docs/cli.md gives its shape).
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// List the workspace's custom fields: name, key, type.
    Fields {
        /// `text` for people, `json` for scripts (docs/cli.md gives its shape).
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// Create again contacts this tool deleted, as they were just before the delete.
    #[command(group(clap::ArgGroup::new("which").required(true).args(["run", "all_since", "external_ids"])))]
    Restore {
        /// Those deleted by this run (the report's `run_id`, or `status`).
        #[arg(long, value_name = "N")]
        run: Option<i64>,
        /// Those deleted at or after this time (RFC 3339, e.g. 2026-12-01T00:00:00Z).
        #[arg(long, value_name = "TIME")]
        all_since: Option<String>,
        /// Those of these records.
        #[arg(value_name = "EXTERNAL_ID")]
        external_ids: Vec<String>,
        /// List what would be restored; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// `text` for people, `json` for scripts (docs/cli.md gives its shape).
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// Stop keeping restored contacts whose rows are missing: they are deleted after
    /// sync.delete_after unless their rows come back.
    Forget {
        #[arg(value_name = "EXTERNAL_ID", required = true)]
        external_ids: Vec<String>,
        /// `text` for people, `json` for scripts (docs/cli.md gives its shape).
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// Write the man page (roff) to stdout: `openphone-sync man > openphone-sync.1`.
    Man {
        /// Write every page instead, openphone-sync.1 and one per subcommand
        /// (openphone-sync-sync.1, ...), into this folder.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Write the completion script for SHELL to stdout (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: Shell,
    },
}

/// The command as the man pages show it: built, so that each subcommand is named
/// `openphone-sync-NAME`, and without clap's `help` subcommand.
fn man_command() -> clap::Command {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// The man page, `openphone-sync(1)`, in roff: every global option and every subcommand.
fn man_page() -> Vec<u8> {
    let mut out = Vec::new();
    clap_mangen::Man::new(man_command()).render(&mut out).expect("render into memory");
    out
}

/// `openphone-sync man`: the main page on stdout, or every page into `dir`.
fn man(dir: Option<&Path>) -> Result<Exit, Stop> {
    let Some(dir) = dir else { return print(&man_page()) };
    clap_mangen::generate_to(man_command(), dir).map_err(|error| Stop::ManPages { dir: dir.to_path_buf(), error })?;
    Ok(Exit::Ok)
}

/// The binary's name, as the completion scripts register it.
const BIN: &str = "openphone-sync";

/// The completion script for `shell`: clap_complete's, with two of its gaps filled (each
/// shown by tests/it/man_completions.rs, which runs the shells):
/// - bash: clap_complete 4.6 spells the per-subcommand case labels with the binary name's
///   hyphen turned into `__subcmd__` (`openphone__subcmd__sync__subcmd__check`), while its
///   lookup builds `openphone__sync__subcmd__check`, so no subcommand's options were
///   offered. The labels are rewritten to the lookup's spelling (a no-op once fixed
///   upstream).
/// - fish: a positional argument's possible values are not offered (`completions <TAB>`
///   listed files): a `complete` line per such argument is added. And before the
///   subcommand, an option still waiting for its value (`openphone-sync --log-format <TAB>`)
///   made `argparse` fail, so the test "no subcommand yet" failed and nothing was offered:
///   it now passes.
pub fn completions(shell: Shell) -> Vec<u8> {
    let mut out = Vec::new();
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, BIN, &mut out);
    let mut text = String::from_utf8(out).expect("clap_complete writes UTF-8");
    match shell {
        Shell::Bash => {
            const SEP: &str = "__subcmd__";
            text =
                text.replace(&format!("{}{SEP}", BIN.replace('-', SEP)), &format!("{}{SEP}", BIN.replace('-', "__")));
        }
        Shell::Fish => {
            let needs_command = format!("function __fish_{}_needs_command", BIN.replace('-', "_"));
            if let Some(at) = text.find(&needs_command) {
                let (head, tail) = text.split_at(at);
                text = format!("{head}{}", tail.replacen("    or return\n", "    or return 0\n", 1));
            }
            text.push_str(&fish_positional_values(&cmd));
        }
        _ => {}
    }
    text.into_bytes()
}

/// fish `complete` lines offering the possible values of each subcommand's positional
/// arguments.
fn fish_positional_values(cmd: &clap::Command) -> String {
    let function = format!("__fish_{}_using_subcommand", BIN.replace('-', "_"));
    let mut lines = String::new();
    for sub in cmd.get_subcommands() {
        for arg in sub.get_positionals() {
            let values: Vec<String> = arg
                .get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| v.get_name().to_owned())
                .collect();
            if !values.is_empty() {
                let _ = writeln!(
                    lines,
                    "complete -c {BIN} -n \"{function} {}\" -f -a \"{}\"",
                    sub.get_name(),
                    values.join(" ")
                );
            }
        }
    }
    lines
}

/// Writes generated text to stdout (a closed pipe, `| head`, is not an error: [`commands::written`]).
fn print(bytes: &[u8]) -> Result<Exit, Stop> {
    let mut out = std::io::stdout().lock();
    commands::written(out.write_all(bytes).and_then(|()| out.flush()))?;
    Ok(Exit::Ok)
}

/// The process: [`run`], and a [`Stop`] printed once, as `error: ...` on stderr (the one
/// printer of a command's failure), ending with its exit code.
pub fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(stop) => {
            let _ = writeln!(ForPerson(std::io::stderr().lock()), "error: {stop}");
            stop.exit().into()
        }
    }
}

/// Parses the command line and runs the command.
pub fn run() -> Result<ExitCode, Stop> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return Ok(if e.use_stderr() { Exit::Config.into() } else { Exit::Ok.into() });
        }
    };
    logging::init(cli.verbose, cli.quiet, cli.log_format);
    crate::fd_limit::raise();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(Stop::Runtime)?;
    let config = crate::config::resolve_path(cli.config.as_deref());
    let exit = runtime.block_on(async {
        match cli.command {
            Command::Sync {
                dry_run,
                save_plan,
                plan,
                output,
                allow_mass_delete,
                verify,
                limit,
                record,
                all_warnings,
            } => {
                let cmd = commands::sync::SyncCommand {
                    dry_run,
                    save_plan,
                    plan,
                    output,
                    allow_mass_delete,
                    verify,
                    limit,
                    record,
                    warnings: crate::report::WarningView::all_if(all_warnings),
                };
                commands::sync::run(&config, &cmd).await
            }
            Command::Daemon => crate::daemon::run(&config).await,
            Command::Check { offline, no_source, all_warnings } => {
                commands::check::run(&config, offline, no_source, crate::report::WarningView::all_if(all_warnings))
                    .await
            }
            Command::Status { output } => commands::status::run(&config, output),
            Command::Fields { output } => commands::fields::run(&config, output).await,
            Command::History { external_id, run, output } => {
                let subject = match (external_id, run) {
                    (Some(id), _) => commands::history::Subject::Record(id),
                    (None, run) => commands::history::Subject::Run(run.unwrap_or_default()),
                };
                commands::history::run(&config, &subject, output)
            }
            Command::Failures { output } => commands::failures::run(&config, output),
            Command::Restore { run, all_since, external_ids, dry_run, output } => {
                let select = match (run, all_since) {
                    (Some(n), _) => Select::Run(n),
                    (None, Some(t)) => match chrono::DateTime::parse_from_rfc3339(&t) {
                        Ok(t) => Select::Since(t.timestamp_millis()),
                        Err(e) => {
                            return Err(Stop::config(format!(
                                "--all-since {t:?} is not an RFC 3339 time ({e}), e.g. 2026-12-01T00:00:00Z"
                            )));
                        }
                    },
                    (None, None) => Select::Ids(external_ids),
                };
                commands::restore::run(&config, &commands::restore::RestoreArgs { select, dry_run, output }).await
            }
            Command::Forget { external_ids, output } => commands::restore::forget(&config, &external_ids, output),
            // Generated from the definitions above: no config is read.
            Command::Man { dir } => man(dir.as_deref()),
            Command::Completions { shell } => print(&completions(shell)),
        }
    });
    // A run the daemon gave up on (its stop's grace ran out, or a second signal) may still be
    // blocked in its thread: the process does not wait for it (that is as safe as a kill).
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    Ok(exit?.into())
}
