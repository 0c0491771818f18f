//! The integration tests, one binary: the product run as a process against an in-process
//! fake OpenPhone workspace (`support::fake_openphone`), asserting what a user would check.

mod support;

mod api_errors;
mod chaos;
mod check_exit;
mod cli_errors;
mod daemon;
mod deletes;
mod drift;
mod etc_example;
mod export_quirks;
mod fake_selftest;
mod fuzz_inputs;
mod held_items;
mod history;
mod large_stop;
mod limits;
mod live_api;
mod maintainer_scripts;
mod man_completions;
mod metrics;
mod mirror_ownership;
mod mistakes;
mod multi_value_cells;
mod outputs;
mod ownership;
mod plan_file_safety;
mod recipes;
mod restore_holes;
mod saved_plan;
mod secrets;
mod security;
mod shared_key;
mod sheets;
mod spec_conformance;
mod spreadsheet_marks;
mod storage_faults;
mod sync_core;
mod sync_faults;
mod template_unit;
mod terminal_safety;
mod torn_source;
mod truthful_messages;
mod warnings;
mod workbook;
