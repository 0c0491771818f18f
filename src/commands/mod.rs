//! The subcommands, one file each, and [`setup`]: what they share (loading config and
//! mapping, the API key, the client, the custom-field catalog).

pub mod check;
pub mod fields;
pub mod restore;
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
