//! openphone-sync keeps an OpenPhone workspace's contacts in step with a CSV export or a
//! Google Sheet.
//!
//! # Layout
//! Data flows one way: config → source rows → mapped records → plan → apply → report.
//!
//! - [`cli`]: command-line arguments, logging set-up ([`logging`]), dispatch to [`commands`].
//! - [`commands`]: one file per subcommand (`sync`, `check`, `status`, `fields`, `history`,
//!   `failures`), and `saved_plan`: the plan files of `sync --save-plan` / `--plan`.
//! - [`daemon`]: `daemon`: the scheduled loop, reloads, graceful stop, systemd notifications.
//! - [`schedule`]: `[schedule].cron` in its time zone; [`signals`]: SIGTERM/SIGINT/SIGHUP.
//! - [`metrics`]: the Prometheus counters (`prometheus-client`) and the `/metrics` endpoint (hyper).
//! - [`config`]: the config file: strict TOML with file/line/key diagnostics.
//! - [`mapping`]: the mapping file and the conversion of a source row into a contact.
//! - [`source`]: source adapters (CSV, Google Sheets) producing rows that keep their origin
//!   row number (and, for a sheet, a link to the row).
//! - [`model`]: the canonical contact state that is hashed, diffed and pushed.
//! - [`mirror`]: the SQLite mirror of what this tool pushed (the only SQLite user).
//! - [`plan`]: the pure diff of (records, mirror) into creates/updates/deletes.
//! - [`apply`]: runs a plan against OpenPhone, committing each confirmed write.
//! - [`verify`]: `sync --verify`: reads mirrored contacts back and finds drift (edits and
//!   deletes made in the app).
//! - [`openphone`]: the HTTP client, wire types and typed API errors (the only HTTP user).
//! - [`report`]: the run report (text and JSON) and the exit code it implies.
//! - [`exit`], [`secret`]: exit codes; the API key wrapper that never prints.
//! - [`clock`]: the wall clock of deferred deletes and tombstones (`OPENPHONE_SYNC_NOW` sets it).

pub mod apply;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod daemon;
pub mod exit;
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
pub mod verify;
