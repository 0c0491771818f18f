//! [`VcardSource`]: the `.vcf` file or the folder of `.vcf` files (in name order) as a
//! [`Source`], each file behind the file guard (a file written while it is read is not
//! trusted: in a folder, each file is looked at before and after its own read). Its header is
//! the mapping's columns, each a property selector; one that is not is a config error.

use std::path::PathBuf;

use super::cards::CardRows;
use super::select::Selector;
use crate::config::vcard::VcardConfig;
use crate::source::error::SourceError;
use crate::source::kind::Source;
use crate::source::row::{SourceItem, SourceRows};
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
        let rows = FolderRows { files: files.into_iter(), selectors, current: None, cards: 0 };
        Ok(SourceRows::new(header, rows))
    }
}

/// The cards of a folder's files, one file at a time, each file behind its own guard (a file
/// rewritten while the folder is read ends the rows with `SourceError::Changed`, as a single
/// file's rewrite does). Cards are numbered through the whole folder.
struct FolderRows {
    files: std::vec::IntoIter<PathBuf>,
    selectors: Vec<Selector>,
    current: Option<stable::Stable<CardRows>>,
    /// Cards read so far (one item a card, read or not).
    cards: u64,
}

impl Iterator for FolderRows {
    type Item = Result<SourceItem, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(rows) = &mut self.current {
                match rows.next() {
                    Some(Ok(item)) => {
                        self.cards += 1;
                        return Some(Ok(item));
                    }
                    Some(Err(e)) => {
                        self.files = Vec::new().into_iter();
                        self.current = None;
                        return Some(Err(e));
                    }
                    None => self.current = None,
                }
            }
            let path = self.files.next()?;
            let cards = CardRows::new(vec![path.clone()], self.selectors.clone()).numbered_after(self.cards);
            match stable::open_file(&path, true, || Ok((Vec::new(), cards))) {
                Ok((_, rows)) => self.current = Some(rows),
                Err(e) => {
                    self.files = Vec::new().into_iter();
                    return Some(Err(e));
                }
            }
        }
    }
}
