//! The `[source] type = "workbook"` table: [`WorkbookConfig`], an Excel or OpenDocument
//! workbook (`.xlsx`, `.xlsm`, `.xlsb`, `.xls`, `.ods`), its sheet and its header row.

use std::path::{Path, PathBuf};

use super::ctx::Ctx;
use super::raw::{RawSheet, RawSource};
use crate::toml_strict::Problems;

/// The file name endings a workbook is read by (what `calamine` reads).
pub const EXTENSIONS: &[&str] = &["xlsx", "xlsm", "xlsb", "xls", "ods"];

/// Which sheet of the workbook holds the contacts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SheetChoice {
    /// The first sheet (`sheet` unset).
    First,
    /// The sheet with this name (exactly, else ignoring case).
    Name(String),
    /// The sheet at this position, 1 being the first (the tabs' order).
    Position(u32),
}

/// A validated workbook source.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkbookConfig {
    pub path: PathBuf,
    pub sheet: SheetChoice,
    /// The header's row as the spreadsheet program numbers it (`header_row`); `None`: the
    /// first row holding every mapped column, else the first non-blank row.
    pub header_row: Option<u64>,
}

impl WorkbookConfig {
    pub fn describe(&self) -> String {
        self.path.display().to_string()
    }
}

/// The lower-case ending of `path`, when it is one a workbook is read by.
pub fn extension(path: &Path) -> Option<String> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    EXTENSIONS.contains(&ext.as_str()).then_some(ext)
}

pub(super) fn build(ctx: &Ctx<'_>, raw: &RawSource, problems: &mut Problems) -> WorkbookConfig {
    let path = if let Some(p) = raw.path.as_deref() {
        let path = ctx.existing_file(problems, "source.path", p);
        if extension(&path).is_none() {
            ctx.problem(
                problems,
                "source.path",
                format!(
                    "{}: not a workbook's name: it must end in .{} (a .csv file is type = \"csv\")",
                    path.display(),
                    EXTENSIONS.join(", .")
                ),
            );
        }
        path
    } else {
        ctx.problem(problems, "source", "missing `path`: the workbook to read (.xlsx, .xls or .ods)");
        PathBuf::new()
    };
    let sheet = match &raw.sheet {
        None => SheetChoice::First,
        Some(RawSheet::Name(n)) if !n.trim().is_empty() => SheetChoice::Name(n.clone()),
        Some(RawSheet::Position(n)) if (1..=i64::from(u16::MAX)).contains(n) => SheetChoice::Position(*n as u32),
        Some(_) => {
            ctx.problem(problems, "source.sheet", "must be a sheet's name, or its position (1 is the first sheet)");
            SheetChoice::First
        }
    };
    WorkbookConfig { path, sheet, header_row: super::header_row::parse(ctx, raw, problems) }
}
