//! [`VcardSource`]: the `.vcf` file (behind the file guard: a file written while it is read is
//! not trusted) or the folder of `.vcf` files (in name order) as a [`Source`]. Its header is
//! the mapping's columns, each a property selector; one that is not is a config error.

use super::cards::CardRows;
use super::select::Selector;
use crate::config::vcard::VcardConfig;
use crate::source::error::SourceError;
use crate::source::kind::Source;
use crate::source::row::SourceRows;
use crate::source::stable;

/// A configured vCard file or folder.
pub struct VcardSource<'a>(pub &'a VcardConfig);

impl Source for VcardSource<'_> {
    async fn open(&self, columns: &[String]) -> Result<SourceRows, SourceError> {
        let config = self.0;
        let origin = config.describe();
        let mut selectors = Vec::new();
        for c in columns {
            let s = Selector::parse(c).map_err(|why| SourceError::BadColumn {
                origin: origin.clone(),
                column: c.clone(),
                why,
            })?;
            selectors.push(s);
        }
        let header = columns.to_vec();
        if !config.folder {
            let (header, rows) = stable::open_file(&config.path, true, || {
                Ok((header, CardRows::new(vec![config.path.clone()], selectors)))
            })?;
            return Ok(SourceRows::new(header, rows));
        }
        let unreadable = |e: std::io::Error| SourceError::Unreadable { origin: origin.clone(), message: e.to_string() };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&config.path).map_err(unreadable)? {
            let path = entry.map_err(unreadable)?.path();
            let vcf = path.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case("vcf"));
            if vcf && path.is_file() {
                files.push(path);
            }
        }
        files.sort();
        Ok(SourceRows::new(header, CardRows::new(files, selectors)))
    }
}
