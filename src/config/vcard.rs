//! The `[source] type = "vcard"` table: [`VcardConfig`], one `.vcf` file holding many cards,
//! or a folder of `.vcf` files (read in name order).

use std::path::PathBuf;

use super::ctx::Ctx;
use super::raw::RawSource;
use crate::toml_strict::Problems;

/// A validated vCard source.
#[derive(Debug, Clone, PartialEq)]
pub struct VcardConfig {
    /// A `.vcf` file, or a folder of them.
    pub path: PathBuf,
    pub folder: bool,
}

impl VcardConfig {
    pub fn describe(&self) -> String {
        self.path.display().to_string()
    }
}

pub(super) fn build(ctx: &Ctx<'_>, raw: &RawSource, problems: &mut Problems) -> VcardConfig {
    let Some(p) = raw.path.as_deref() else {
        ctx.problem(problems, "source", "missing `path`: the .vcf file (or a folder of .vcf files) to read");
        return VcardConfig { path: PathBuf::new(), folder: false };
    };
    let resolved = ctx.resolve(p);
    if resolved.is_dir() {
        return VcardConfig { path: resolved, folder: true };
    }
    VcardConfig { path: ctx.existing_file(problems, "source.path", p), folder: false }
}
