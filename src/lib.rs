//! openphone-sync keeps an OpenPhone workspace's contacts in step with a CSV export or a
//! Google Sheet.
//!
//! # Layout
//! Modules import only from the floors below them (`docs/architecture.md`; `.ci/check-modules`
//! finds import circles with cargo-modules and Graphviz's sccmap):
//! exit, clock, secret, [`escape`], [`fd_limit`], [`outcome`], [`model`], [`toml_strict`] → [`config`] → [`source`], [`mapping`] →
//! [`plan`] → [`openphone`], [`mirror`] → [`report`] → [`engine`] → [`metrics`] →
//! [`commands`], [`daemon`] → [`cli`].
//!
//! - [`cli`]: command-line arguments, logging set-up ([`logging`]), dispatch to [`commands`].
//! - [`commands`]: one file per subcommand: parse, call, print; `cli` prints a failure once,
//!   as `error:`.
//! - [`daemon`]: `daemon`: the scheduled loop, reloads, graceful stop, systemd notifications.
//! - [`schedule`]: `[schedule].cron` in its time zone; [`signals`]: SIGTERM/SIGINT/SIGHUP.
//! - [`metrics`]: the Prometheus counters (`prometheus-client`) and the `/metrics` endpoint (hyper).
//! - [`engine`]: one sync as its steps: catalog → source → verify → map → plan → guard →
//!   apply (or list) → report → record, over one [`engine::Run`], each step returning a value
//!   and the report built from them at the end, failing with one [`engine::Stop`].
//! - [`report`]: the run report (text and JSON) and the exit code it implies.
//! - [`openphone`]: the HTTP client, lookups, wire types, the PATCH merge and typed API errors
//!   (the only HTTP user).
//! - [`mirror`]: the SQLite mirror of what this tool pushed (the only SQLite user).
//! - [`plan`]: the pure diff of (records, mirror index) into creates/updates/deletes, and the
//!   words of a plan ([`plan::Action`], counts, [`plan::RecordError`]).
//! - [`mapping`]: the mapping file and the conversion of a source row into a contact.
//! - [`source`]: source adapters (CSV, Google Sheets) producing rows that keep their origin
//!   row number (and, for a sheet, a link to the row).
//! - [`config`]: the config file, checked, its values parsed (ranges, encodings, durations).
//! - [`toml_strict`]: strict TOML (every unknown key and wrong type) with file/line/key
//!   diagnostics, for the config and the mapping file.
//! - [`model`]: the canonical contact state that is hashed, diffed and pushed.
//! - [`outcome`]: how a run was run and how it ended, each word spelled once.
//! - [`exit`], [`secret`]: exit codes; the API key wrapper that never prints.
//! - [`escape`]: the one rule for text printed for a person (terminal controls, bidi overrides).
//! - [`fd_limit`]: the file-handle limit raised at start, and running out of handles recognised.
//! - [`clock`]: the wall clock of deferred deletes, tombstones, the mirror and the daemon ([`clock::Clock`], set by tests).

pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod daemon;
pub mod engine;
pub mod escape;
pub mod exit;
pub mod fd_limit;
pub mod logging;
pub mod mapping;
pub mod metrics;
pub mod mirror;
pub mod model;
pub mod openphone;
pub mod outcome;
pub mod plan;
pub mod report;
pub mod schedule;
pub mod secret;
pub mod signals;
pub mod source;
pub mod toml_strict;
