//! The subcommands, one file each, and what they share: the one policy for writing stdout
//! ([`written`]), how a report or a read-only command's findings are printed, and the
//! read-only commands' start (the config and the mirror, read-only). Each command returns
//! `Result<Exit, Stop>`; `cli` prints a [`Stop`] once, as `error: ...` on stderr.

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

/// The one policy for what a command writes to stdout: a reader that closed it early
/// (`| head`: a broken pipe) is not an error, and the command's exit code stands; any other
/// failure to write (a full disk) stops the command with exit 4.
pub fn written(result: std::io::Result<()>) -> Result<(), Stop> {
    match result {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Stop::Stdout(e)),
        _ => Ok(()),
    }
}

/// `value` as pretty JSON and a line break on stdout, flushed.
pub fn write_json<T: serde::Serialize + ?Sized>(value: &T) -> Result<(), Stop> {
    let mut out = std::io::stdout().lock();
    written(
        serde_json::to_writer_pretty(&mut out, value)
            .map_err(std::io::Error::from)
            .and_then(|()| out.write_all(b"\n"))
            .and_then(|()| out.flush()),
    )
}

/// Lines for a person on stdout ([`person`]), written by `text`, then flushed.
pub fn write_text(
    text: impl FnOnce(&mut ForPerson<std::io::StdoutLock<'static>>) -> std::io::Result<()>,
) -> Result<(), Stop> {
    let mut out = person();
    written(text(&mut out).and_then(|()| out.flush()))
}

/// Stdout for a person: what data holds is escaped ([`crate::escape`]).
pub fn person() -> ForPerson<std::io::StdoutLock<'static>> {
    ForPerson(std::io::stdout().lock())
}

/// Prints a run's report to stdout, as text or JSON.
pub fn print_report(report: &Report, output: Output, warnings: crate::report::WarningView) -> Result<(), Stop> {
    match output {
        Output::Json => {
            let mut out = std::io::stdout().lock();
            written(report.write_json(&mut out).and_then(|()| out.flush()))
        }
        Output::Text => write_text(|out| report.write_text_with(out, warnings)),
    }
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
    Stop::MirrorUnreadable(e)
}

/// The end of the read-only commands: prints what they found (as JSON, or as `text` writes
/// it) and exits 0.
pub fn print<T: serde::Serialize>(
    found: &T,
    output: Output,
    text: impl FnOnce(&mut ForPerson<std::io::StdoutLock<'static>>, &T) -> std::io::Result<()>,
) -> Result<Exit, Stop> {
    match output {
        Output::Json => write_json(found)?,
        Output::Text => write_text(|out| text(out, found))?,
    }
    Ok(Exit::Ok)
}
