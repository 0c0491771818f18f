//! Logging to stderr, in one of three shapes: text for people (colours at a terminal);
//! under systemd (`$JOURNAL_STREAM` names our stderr) text without colours or timestamps,
//! each line prefixed with its syslog priority (`<4>`) so the journal records the level;
//! or, with `--log-format json`, one JSON object a line for log shippers.

use std::fmt;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::{Format, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// Lines for people; journald-friendly when stderr goes to the journal.
    #[default]
    Text,
    /// One JSON object a line, with a timestamp, level, message and fields.
    Json,
}

/// Libraries that log credentials above warn: yup-oauth2 logs its token requests and replies
/// (the signed JWT grant, the access token) at debug. Their events above warn are dropped
/// whatever `-v` or `RUST_LOG` ask for, so no log level shows a credential.
const CREDENTIAL_LOGGERS: &[&str] = &["yup_oauth2"];

/// Whether an event may be logged at all: not a credential logger's debug output.
fn may_log(meta: &tracing::Metadata<'_>) -> bool {
    *meta.level() <= Level::WARN || !CREDENTIAL_LOGGERS.iter().any(|t| within(meta.target(), t))
}

/// Whether `target` is the module path `root` or inside it.
fn within(target: &str, root: &str) -> bool {
    target.strip_prefix(root).is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
}

/// Installs the global subscriber. `RUST_LOG` overrides the level from `-v`/`-q` (but never
/// lets a `CREDENTIAL_LOGGERS` debug line through).
pub fn init(verbose: u8, quiet: bool, format: LogFormat) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn,openphone_sync=info",
        (false, 1) => "info,openphone_sync=debug",
        (false, _) => "debug,openphone_sync=trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let secrets = tracing_subscriber::filter::filter_fn(may_log);
    let _ = match format {
        LogFormat::Json => {
            builder.json().flatten_event(true).with_current_span(false).finish().with(secrets).try_init()
        }
        LogFormat::Text if stderr_is_journal() => builder
            .with_ansi(false)
            .event_format(Journald(Format::default().without_time()))
            .finish()
            .with(secrets)
            .try_init(),
        LogFormat::Text => {
            builder.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).finish().with(secrets).try_init()
        }
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
    fn credential_loggers_are_capped_at_warn() {
        assert!(within("yup_oauth2", "yup_oauth2") && within("yup_oauth2::authenticator", "yup_oauth2"));
        assert!(!within("yup_oauth2x", "yup_oauth2") && !within("openphone_sync", "yup_oauth2"));
    }

    #[test]
    fn priorities_follow_syslog() {
        assert_eq!(priority(Level::ERROR), 3);
        assert_eq!(priority(Level::WARN), 4);
        assert_eq!(priority(Level::INFO), 6);
        assert_eq!(priority(Level::TRACE), 7);
    }
}
