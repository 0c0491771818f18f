//! The subcommands, one file each, and what they share: how a command that failed says so
//! (once, as `error: ...` on stderr), how a report or a read-only command's findings are
//! printed, and the read-only commands' start (the config and the mirror, read-only).

pub mod check;
pub mod failures;
pub mod fields;
pub mod history;
pub mod restore;
pub mod status;
pub mod sync;

use std::io::Write;

use crate::engine::Stop;
use crate::escape::ForPerson;
use crate::exit::Exit;
use crate::report::Report;

/// `--output`: for people or for scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Output {
    /// Lines for people.
    #[default]
    Text,
    /// One JSON object (the shape `docs/cli.md` gives), for scripts.
    Json,
}

/// Prints why a command stopped, once, to stderr, and returns its exit code.
pub fn fail(stop: Stop) -> Exit {
    let _ = writeln!(ForPerson(std::io::stderr().lock()), "error: {}", stop.message);
    stop.exit
}

/// Stdout for a person: what data holds is escaped ([`crate::escape`]).
pub fn person() -> ForPerson<std::io::StdoutLock<'static>> {
    ForPerson(std::io::stdout().lock())
}

/// Prints a run's report to stdout, as text or JSON.
pub fn print_report(report: &Report, output: Output, warnings: crate::report::WarningView) {
    let _ = match output {
        Output::Json => report.write_json(&mut std::io::stdout().lock()),
        Output::Text => report.write_text_with(&mut person(), warnings),
    };
}

/// The start of the read-only commands (`status`, `history`, `failures`): the config, and
/// its mirror opened read-only (`None` when no sync has made it yet).
pub fn read_mirror(
    config_path: &std::path::Path,
) -> Result<(crate::config::Config, Option<crate::mirror::Mirror>), Stop> {
    let config = crate::config::Config::load(config_path)?;
    let mirror = crate::mirror::Mirror::open_read_only(&config.database, config.lock_timeout).map_err(unreadable)?;
    Ok((config, mirror))
}

/// A mirror that cannot be read stops a read-only command with exit 4.
pub fn unreadable(e: crate::mirror::MirrorError) -> Stop {
    Stop::new(Exit::Unavailable, e.to_string())
}

/// The end of the read-only commands: prints what they found (as JSON, or as `text` writes
/// it) and exits 0, or prints why they stopped.
pub fn print<T: serde::Serialize>(
    found: Result<T, Stop>,
    output: Output,
    text: impl FnOnce(&mut ForPerson<std::io::StdoutLock<'static>>, &T) -> std::io::Result<()>,
) -> Exit {
    let found = match found {
        Ok(f) => f,
        Err(stop) => return fail(stop),
    };
    let _ = match output {
        Output::Json => {
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &found)
                .map_err(std::io::Error::from)
                .and_then(|()| out.write_all(b"\n"))
        }
        Output::Text => text(&mut person(), &found),
    };
    Exit::Ok
}
