//! The integration tests, one binary: the product run as a process against an in-process
//! fake OpenPhone workspace (`support::fake_openphone`), asserting what a user would check.

mod support;

mod chaos;
mod cli_errors;
mod daemon;
mod deletes;
mod drift;
mod export_quirks;
mod fake_selftest;
mod fuzz_inputs;
mod held_items;
mod history;
mod limits;
mod live_api;
mod man_completions;
mod metrics;
mod mirror_ownership;
mod mistakes;
mod outputs;
mod ownership;
mod plan_file_safety;
mod restore_holes;
mod saved_plan;
mod secrets;
mod sheets;
mod spec_conformance;
mod storage_faults;
mod sync_core;
mod sync_faults;
mod template_unit;
mod terminal_safety;
mod torn_source;
