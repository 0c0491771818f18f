//! The command line (`docs/interface.md`): arguments, logging to stderr, dispatch.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::commands::{self, Output};
use crate::exit::Exit;
use crate::report::Mode;

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
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
        /// Let this run exceed [sync].max_delete_fraction.
        #[arg(long)]
        allow_mass_delete: bool,
    },
    /// Run `sync` on the [schedule].cron schedule until SIGTERM/SIGINT (not finished yet).
    Daemon,
    /// Validate config, mapping and source headers, and (unless --offline) the API key and custom fields.
    Check {
        /// Do not contact OpenPhone.
        #[arg(long)]
        offline: bool,
    },
    /// What the mirror holds and how the last runs went.
    Status {
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// List the workspace's custom fields: name, key, type.
    Fields {
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
}

pub fn main() -> std::process::ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { Exit::Config.into() } else { Exit::Ok.into() };
        }
    };
    init_logging(cli.verbose, cli.quiet);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return Exit::Unavailable.into();
        }
    };
    let config = crate::config::resolve_path(cli.config.as_deref());
    let exit = runtime.block_on(async {
        match cli.command {
            Command::Sync { dry_run, output, allow_mass_delete } => {
                let mode = if dry_run { Mode::DryRun } else { Mode::Apply };
                commands::sync::run(&config, &commands::sync::SyncArgs { mode, output, allow_mass_delete }).await
            }
            Command::Daemon => {
                eprintln!("error: `daemon` is not finished yet; run `sync` from a systemd timer or cron meanwhile");
                Exit::Config
            }
            Command::Check { offline } => commands::check::run(&config, offline).await,
            Command::Status { output } => commands::status::run(&config, output),
            Command::Fields { output } => commands::fields::run(&config, output).await,
        }
    });
    exit.into()
}

fn init_logging(verbose: u8, quiet: bool) {
    use tracing_subscriber::EnvFilter;
    // yup-oauth2 logs token requests and replies (the signed grant, the access token) at
    // debug: it stays at warn unless RUST_LOG asks for it by name.
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn,openphone_sync=info",
        (false, 1) => "info,openphone_sync=debug,yup_oauth2=warn",
        (false, _) => "debug,openphone_sync=trace,yup_oauth2=warn",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
