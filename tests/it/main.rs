//! The integration tests, one binary: the product run as a process against an in-process
//! fake OpenPhone workspace (`support::fake_openphone`), asserting what a user would check.

mod support;

mod chaos;
mod check_exit;
mod cli_errors;
mod daemon;
mod deletes;
mod drift;
mod export_quirks;
mod fake_selftest;
mod fuzz_inputs;
mod history;
mod limits;
mod live_api;
mod man_completions;
mod metrics;
mod mistakes;
mod multi_value_cells;
mod outputs;
mod ownership;
mod saved_plan;
mod secrets;
mod sheets;
mod spec_conformance;
mod spreadsheet_marks;
mod storage_faults;
mod sync_core;
mod sync_faults;
mod template_unit;
mod torn_source;
