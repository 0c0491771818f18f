//! [`FieldCatalog`]: the workspace's custom fields as the mapper knows them (fetched, remembered
//! in the mirror, or unknown offline), and how a mapping's field reference finds one.

use super::file::FieldRef;
use crate::model::CustomFieldDef;

/// Where the custom fields' keys and types came from.
#[derive(Debug, Clone)]
pub enum FieldCatalog {
    /// Fetched from the workspace in this run.
    Workspace(Vec<CustomFieldDef>),
    /// Remembered in the mirror from an earlier run (offline dry run).
    Cached(Vec<CustomFieldDef>),
    /// Not known (offline, no earlier run): custom fields are read by name, as the type
    /// the mapping declares (`type`), else as text.
    Unknown,
}

impl FieldCatalog {
    pub(super) fn defs(&self) -> Option<&[CustomFieldDef]> {
        match self {
            FieldCatalog::Workspace(d) | FieldCatalog::Cached(d) => Some(d),
            FieldCatalog::Unknown => None,
        }
    }
}

/// Finds a workspace field by key, or by name (exactly, then ignoring case if unique).
pub fn resolve_field<'a>(defs: &'a [CustomFieldDef], field: &FieldRef) -> Option<&'a CustomFieldDef> {
    match field {
        FieldRef::Key(k) => defs.iter().find(|d| &d.key == k),
        FieldRef::Name(n) => defs.iter().find(|d| &d.name == n).or_else(|| {
            let mut matches = defs.iter().filter(|d| d.name.eq_ignore_ascii_case(n));
            let first = matches.next();
            if matches.next().is_some() { None } else { first }
        }),
    }
}
