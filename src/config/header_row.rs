//! `[source] header_row`, shared by the CSV and workbook sources: the header's line or row.

use super::ctx::Ctx;
use super::raw::RawSource;
use crate::toml_strict::Problems;

/// `header_row`, when set: a line or row number, 1 or more.
pub(super) fn parse(ctx: &Ctx<'_>, raw: &RawSource, problems: &mut Problems) -> Option<u64> {
    match raw.header_row {
        None => None,
        Some(n) if n >= 1 => Some(n as u64),
        Some(_) => {
            ctx.problem(problems, "source.header_row", "must be a line number, 1 or more");
            None
        }
    }
}
