//! The subcommands, one file each, and [`setup`]: what they share (loading config and
//! mapping, the API key, the client, the custom-field catalog).

pub mod check;
pub mod failures;
pub mod fields;
pub mod history;
pub mod saved_plan;
pub mod setup;
pub mod status;
pub mod sync;

/// `--output`: for people or for scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Output {
    #[default]
    Text,
    Json,
}

/// Writes `value` as pretty JSON and a newline (`--output json`).
pub fn write_json(out: &mut impl std::io::Write, value: &impl serde::Serialize) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)
}
