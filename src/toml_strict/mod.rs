//! Strict TOML, shared by the config and the mapping file: [`check`] walks a document against
//! a small schema (every unknown key, wrong type and syntax error, with its line) and then
//! reads its values; [`diagnostic`] the located [`Problems`] it collects. This module only
//! declares and re-exports.

pub mod check;
pub mod diagnostic;

pub use check::{KeyLines, Kind, load};
pub use diagnostic::{Problem, Problems, line_of};
