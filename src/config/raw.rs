//! The config file as written: the schema the strict walk checks it against, and the shapes
//! serde reads its values into before they are checked.

use serde::Deserialize;

use crate::toml_strict::Kind;

const OPENPHONE_KEYS: &[(&str, Kind)] = &[
    ("api_key_file", Kind::Str),
    ("base_url", Kind::Str),
    ("requests_per_second", Kind::Int),
    ("source_label", Kind::Str),
    ("timeout_seconds", Kind::Number),
    ("max_retries", Kind::Int),
    ("concurrency", Kind::Int),
    ("allow_plain_http_to_remote_host", Kind::Bool),
];
const STATE_KEYS: &[(&str, Kind)] = &[
    ("database", Kind::Str),
    ("lock_timeout_seconds", Kind::Number),
    ("keep_deleted_days", Kind::Number),
    ("history_days", Kind::Number),
];
const SCHEDULE_KEYS: &[(&str, Kind)] = &[("cron", Kind::Str), ("timezone", Kind::Str)];
const METRICS_KEYS: &[(&str, Kind)] = &[("listen", Kind::Str)];
const SOURCE_KEYS: &[(&str, Kind)] = &[
    ("type", Kind::Str),
    ("path", Kind::Str),
    ("delimiter", Kind::Str),
    ("spreadsheet_id", Kind::Str),
    ("range", Kind::Str),
    ("service_account_key", Kind::Str),
    ("api_base_url", Kind::Str),
    ("link", Kind::Str),
    ("encoding", Kind::Str),
    ("header_row", Kind::Int),
    ("null_values", Kind::Strs),
    ("allow_plain_http_to_remote_host", Kind::Bool),
    ("sheet", Kind::StrOrInt),
    ("query", Kind::Str),
    ("url_env", Kind::Str),
    ("url_file", Kind::Str),
    ("url_credential", Kind::Str),
];
const SYNC_KEYS: &[(&str, Kind)] = &[
    ("mapping", Kind::Str),
    ("delete_missing", Kind::Bool),
    ("max_delete_fraction", Kind::Number),
    ("verify_every_hours", Kind::Number),
    ("delete_after", Kind::Str),
];
pub(super) const CONFIG_SCHEMA: &[(&str, Kind)] = &[
    ("openphone", Kind::Table(OPENPHONE_KEYS)),
    ("state", Kind::Table(STATE_KEYS)),
    ("schedule", Kind::Table(SCHEDULE_KEYS)),
    ("source", Kind::Table(SOURCE_KEYS)),
    ("sync", Kind::Table(SYNC_KEYS)),
    ("metrics", Kind::Table(METRICS_KEYS)),
];

#[derive(Deserialize, Default)]
pub(super) struct RawConfig {
    #[serde(default)]
    pub(super) openphone: RawOpenPhone,
    #[serde(default)]
    pub(super) state: RawState,
    pub(super) schedule: Option<RawSchedule>,
    pub(super) source: Option<RawSource>,
    #[serde(default)]
    pub(super) sync: RawSync,
    #[serde(default)]
    pub(super) metrics: RawMetrics,
}

#[derive(Deserialize, Default)]
pub(super) struct RawMetrics {
    pub(super) listen: Option<String>,
}

#[derive(Deserialize, Default)]
pub(super) struct RawOpenPhone {
    pub(super) api_key_file: Option<String>,
    pub(super) base_url: Option<String>,
    pub(super) requests_per_second: Option<i64>,
    pub(super) source_label: Option<String>,
    pub(super) timeout_seconds: Option<f64>,
    pub(super) max_retries: Option<i64>,
    pub(super) concurrency: Option<i64>,
    pub(super) allow_plain_http_to_remote_host: Option<bool>,
}

#[derive(Deserialize, Default)]
pub(super) struct RawState {
    pub(super) database: Option<String>,
    pub(super) lock_timeout_seconds: Option<f64>,
    pub(super) keep_deleted_days: Option<f64>,
    pub(super) history_days: Option<f64>,
}

#[derive(Deserialize)]
pub(super) struct RawSchedule {
    pub(super) cron: Option<String>,
    pub(super) timezone: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct RawSource {
    #[serde(rename = "type")]
    pub(super) kind: Option<String>,
    pub(super) path: Option<String>,
    pub(super) delimiter: Option<String>,
    pub(super) spreadsheet_id: Option<String>,
    pub(super) range: Option<String>,
    pub(super) service_account_key: Option<String>,
    pub(super) api_base_url: Option<String>,
    pub(super) link: Option<String>,
    pub(super) encoding: Option<String>,
    pub(super) header_row: Option<i64>,
    pub(super) null_values: Option<Vec<String>>,
    pub(super) allow_plain_http_to_remote_host: Option<bool>,
    pub(super) sheet: Option<RawSheet>,
    pub(super) query: Option<String>,
    pub(super) url_env: Option<String>,
    pub(super) url_file: Option<String>,
    pub(super) url_credential: Option<String>,
}

/// A workbook's `sheet`: its name, or its position (1 is the first).
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum RawSheet {
    Position(i64),
    Name(String),
}

#[derive(Deserialize, Default)]
pub(super) struct RawSync {
    pub(super) mapping: Option<String>,
    pub(super) delete_missing: Option<bool>,
    pub(super) max_delete_fraction: Option<f64>,
    pub(super) verify_every_hours: Option<f64>,
    pub(super) delete_after: Option<String>,
}
