//! Logging to stderr, in one of three shapes: text for people (colours at a terminal);
//! under systemd (`$JOURNAL_STREAM` names our stderr) text without colours or timestamps,
//! each line prefixed with its syslog priority (`<4>`) so the journal records the level;
//! or, with `--log-format json`, one JSON object a line for log shippers.

use std::fmt;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::{Format, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// Lines for people; journald-friendly when stderr goes to the journal.
    #[default]
    Text,
    /// One JSON object a line, with a timestamp, level, message and fields.
    Json,
}

/// Installs the global subscriber. `RUST_LOG` overrides the level from `-v`/`-q`.
pub fn init(verbose: u8, quiet: bool, format: LogFormat) {
    // yup-oauth2 logs token requests and replies (the signed grant, the access token) at
    // debug: it stays at warn unless RUST_LOG asks for it by name.
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn,openphone_sync=info",
        (false, 1) => "info,openphone_sync=debug,yup_oauth2=warn",
        (false, _) => "debug,openphone_sync=trace,yup_oauth2=warn",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).try_init(),
        LogFormat::Text if stderr_is_journal() => {
            builder.with_ansi(false).event_format(Journald(Format::default().without_time())).try_init()
        }
        LogFormat::Text => builder.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).try_init(),
    };
}

/// Whether stderr is the journal's stream: systemd sets `$JOURNAL_STREAM` to its
/// `device:inode`, which we compare with our stderr (a child may have redirected it).
fn stderr_is_journal() -> bool {
    let Some(stream) = std::env::var_os("JOURNAL_STREAM") else { return false };
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        use std::os::unix::fs::MetadataExt;
        let Some((dev, ino)) = stream.to_str().and_then(|s| s.split_once(':')) else { return false };
        let Ok(fd) = std::io::stderr().as_fd().try_clone_to_owned() else { return false };
        let Ok(meta) = std::fs::File::from(fd).metadata() else { return false };
        dev.parse() == Ok(meta.dev()) && ino.parse() == Ok(meta.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = stream;
        false
    }
}

/// The syslog priority journald reads from a `<N>` line prefix.
fn priority(level: Level) -> u8 {
    match level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        _ => 7,
    }
}

/// Prefixes each event with its syslog priority, then formats it as `F` does.
struct Journald<F>(F);

impl<S, N, F> FormatEvent<S, N> for Journald<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        write!(writer, "<{}>", priority(*event.metadata().level()))?;
        self.0.format_event(ctx, writer, event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_follow_syslog() {
        assert_eq!(priority(Level::ERROR), 3);
        assert_eq!(priority(Level::WARN), 4);
        assert_eq!(priority(Level::INFO), 6);
        assert_eq!(priority(Level::TRACE), 7);
    }
}
