//! The config file: strict TOML (see `docs/configuration.md`), loaded into [`Config`] with every
//! problem located by file, line and key. Relative paths resolve against the file's folder.
//! Values are stored parsed (a range as an [`A1Range`], an encoding as a [`TextEncoding`]), so
//! nothing downstream parses a config string again. This module only declares and re-exports.

pub mod a1;
pub mod api_key;
mod ctx;
pub mod defaults;
pub mod encoding;
mod header_row;
pub mod key_file;
mod load;
pub mod locate;
pub mod plain_http;
pub mod postgres;
mod raw;
pub mod service_account;
pub mod settings;
pub mod sheets;
pub mod source;
pub mod source_label;
pub mod vcard;
pub mod workbook;

pub use a1::A1Range;
pub use api_key::{API_KEY_CREDENTIAL, API_KEY_ENV, CREDENTIALS_DIRECTORY_ENV};
pub use defaults::{
    DEFAULT_DELETE_AFTER, DEFAULT_HISTORY_DAYS, DEFAULT_KEEP_DELETED_DAYS, DEFAULT_LOCK_TIMEOUT, DEFAULT_NULL_VALUES,
    DEFAULT_VERIFY_EVERY_HOURS,
};
pub use encoding::TextEncoding;
pub use locate::{CONFIG_ENV, DEFAULT_CONFIG_PATH, resolve_path};
pub use settings::{Config, OpenPhoneConfig, SyncConfig};
pub use sheets::{LinkMode, SheetsConfig};
pub use source::SourceConfig;
pub use source_label::{DEFAULT_SOURCE_LABEL, SOURCE_MAX, source_label_problem};

pub use crate::toml_strict::{Problem, Problems};
